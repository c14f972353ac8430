package lockstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"
)

// SchemaVersion is the version of the schema this lockworker reads and
// writes. Migrate brings an older store up to it.
const SchemaVersion = 2

// schemaMigrationRow records that a migration was applied. The table is
// created by the first migration run against a store; a store made before it
// existed holds the tables of version 1 and no such table.
type schemaMigrationRow struct {
	Version   int       `gorm:"primaryKey;autoIncrement:false"`
	AppliedAt time.Time `gorm:"not null"`
}

func (schemaMigrationRow) TableName() string { return "schema_migrations" }

// migration takes the schema from version-1 to version, in the transaction
// it is given.
type migration struct {
	version int
	about   string
	up      func(tx *gorm.DB, driver string) error
}

// migrations are the schema's versions, in order. A version, once released,
// is never changed: a change of the schema is a new version.
var migrations = []migration{
	{1, "accounts, locks, the ledger, the append-only audit trail and passes", migrateV1},
	{2, "the store's clock, claims held by a live process, and each ticket's history", migrateV2},
}

// migrateV1 creates the tables of version 1 and makes the audit trail
// append-only.
func migrateV1(tx *gorm.DB, driver string) error {
	if err := tx.AutoMigrate(tablesV1...); err != nil {
		return err
	}
	for _, stmt := range appendOnlyTriggers[driver] {
		if err := tx.Exec(stmt).Error; err != nil {
			return fmt.Errorf("make audit_entries append-only: %w", err)
		}
	}
	return nil
}

// migrateV2 adds the marks and the claim's holder to the ledger (an entry
// of version 1 gets mark 0: before every view read since), the clock, and
// the tickets' history.
func migrateV2(tx *gorm.DB, _ string) error {
	if err := tx.AutoMigrate(&ledgerRow{}, &clockRow{}, &ticketEventRow{}); err != nil {
		return err
	}
	if err := tx.Create(&clockRow{ID: 1, Tick: 0}).Error; err != nil {
		return fmt.Errorf("start the clock: %w", err)
	}
	return nil
}

// Migrate brings the schema up to SchemaVersion in one transaction, applying
// each missing version in order; a store already there is left as it is. A
// store at a later version than this lockworker's is refused.
func (s *Store) Migrate(ctx context.Context) error { return s.migrateTo(ctx, SchemaVersion) }

// migrateTo brings the schema up to version target.
func (s *Store) migrateTo(ctx context.Context, target int) error {
	ctx, cancel := context.WithTimeout(ctx, migrateTimeout)
	defer cancel()
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if s.driver == driverPostgres {
			// Processes starting together on one schema would otherwise race
			// to create the same tables.
			err := tx.Exec("SELECT pg_advisory_xact_lock(hashtext('lockworker migrate ' || current_schema()))").Error
			if err != nil {
				return fmt.Errorf("take the migration lock: %w", err)
			}
		}
		version, err := schemaVersion(tx)
		if err != nil {
			return err
		}
		if version > SchemaVersion {
			return fmt.Errorf("%w: it is at version %d, this lockworker knows versions up to %d", ErrSchemaVersion, version, SchemaVersion)
		}
		if !tx.Migrator().HasTable(&schemaMigrationRow{}) {
			if err := tx.Migrator().CreateTable(&schemaMigrationRow{}); err != nil {
				return fmt.Errorf("create schema_migrations: %w", err)
			}
			if version > 0 {
				// The store predates the table: record what it holds.
				if err := tx.Create(&schemaMigrationRow{Version: version, AppliedAt: s.now()}).Error; err != nil {
					return fmt.Errorf("record schema version %d: %w", version, err)
				}
			}
		}
		for _, m := range migrations[min(version, target):target] {
			if err := m.up(tx, s.driver); err != nil {
				return fmt.Errorf("version %d (%s): %w", m.version, m.about, err)
			}
			if err := tx.Create(&schemaMigrationRow{Version: m.version, AppliedAt: s.now()}).Error; err != nil {
				return fmt.Errorf("record schema version %d: %w", m.version, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("migrate the schema: %w", err)
	}
	return nil
}

// migrateTimeout bounds a migration, which may rewrite whole tables and so
// outlast the statement timeout.
const migrateTimeout = 5 * time.Minute

// SchemaVersion returns the version of the store's schema: 0 for an empty
// database.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	return schemaVersion(s.db.WithContext(ctx))
}

// schemaVersion reads the schema's version: the latest recorded in
// schema_migrations, else 1 for a store made before that table (it has the
// ledger), else 0.
func schemaVersion(db *gorm.DB) (int, error) {
	m := db.Migrator()
	if !m.HasTable(&schemaMigrationRow{}) {
		if m.HasTable(&ledgerRow{}) {
			return 1, nil
		}
		return 0, nil
	}
	var version int
	if err := db.Model(&schemaMigrationRow{}).Select("COALESCE(MAX(version), 0)").Scan(&version).Error; err != nil {
		return 0, fmt.Errorf("read the schema version: %w", err)
	}
	return version, nil
}

// checkVersion refuses a store that a reader cannot read as it is.
func (s *Store) checkVersion(ctx context.Context) error {
	version, err := s.SchemaVersion(ctx)
	switch {
	case err != nil:
		return err
	case version == 0:
		return fmt.Errorf("%w: the database holds no lockworker tables (run `lockworker migrate` to create them)", ErrNoStore)
	case version < SchemaVersion:
		return fmt.Errorf("%w: it is at version %d, this lockworker needs %d: run `lockworker migrate`", ErrSchemaVersion, version, SchemaVersion)
	case version > SchemaVersion:
		return fmt.Errorf("%w: it is at version %d, this lockworker knows versions up to %d", ErrSchemaVersion, version, SchemaVersion)
	}
	return nil
}

// Check checks, creating and migrating nothing, that the lock store is there
// and reachable, at SchemaVersion, durable, and writable: it takes the write
// lock with a write that it rolls back.
func Check(ctx context.Context, driver, dsn string, opts Options) error {
	if driver == driverSQLite {
		if err := sqliteExists(dsn); err != nil {
			return fmt.Errorf("check the sqlite lock store: %w", err)
		}
	}
	s, err := connect(ctx, driver, dsn, opts, false)
	if err != nil {
		return err
	}
	defer s.Close()
	if err := s.checkVersion(ctx); err != nil {
		return fmt.Errorf("check the %s lock store: %w", driver, err)
	}
	if err := s.checkDurable(ctx); err != nil {
		return fmt.Errorf("check the %s lock store: %w", driver, err)
	}
	ctx, cancel := s.bound(ctx)
	defer cancel()
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec("UPDATE store_clock SET tick = tick WHERE id = 1").Error; err != nil {
			return err
		}
		return errProbe
	})
	if !errors.Is(err, errProbe) {
		return fmt.Errorf("check the %s lock store: write to it: %w", driver, err)
	}
	return nil
}

// errProbe rolls back Check's write.
var errProbe = errors.New("a probe, rolled back")
