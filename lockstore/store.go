// Package lockstore is lockworker's lock store: the existing 1177 accounts,
// the locks with their history, the ledger of every ticket handled, the
// append-only audit trail and the record of passes, in one relational
// database through gorm. SQLite (pure Go, no cgo) is the default and
// PostgreSQL the production database; both get the same schema and the same
// guarantees (docs/RELIABILITY.md).
//
// The guarantees rest on the database rather than on the process, so that
// several lockworker processes may share one: a ticket's decision, its lock
// change and its audit entry are one transaction (Record), at most one lock
// per person is active (a unique partial index), a ticket is decided afresh
// only once its previous update was confirmed (a conditional UPDATE of the
// ledger), and the right to send a ticket's pending update is a lease that
// one process holds at a time (ClaimUpdate).
package lockstore

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// The drivers Open accepts.
const (
	driverSQLite   = "sqlite"
	driverPostgres = "postgres"
)

// DefaultClaimLease is the ClaimLease of zero Options.
const DefaultClaimLease = 2 * time.Minute

// Options tune a Store. Zero fields take their defaults.
type Options struct {
	// Now tells the time; default time.Now. It is also gorm's NowFunc.
	Now func() time.Time
	// ClaimLease is how long a process holds the right to send a ticket's
	// pending update before another may take it over; default
	// DefaultClaimLease. It must outlast one update of a ticket in Easit.
	ClaimLease time.Duration
}

// Store is the lock store. Its methods are safe for concurrent use, and any
// number of Stores, in one process or several, may share one database.
type Store struct {
	db    *gorm.DB
	clock func() time.Time
	lease time.Duration
}

// Open connects to the lock store and brings its schema up to date. driver is
// "sqlite" (dsn a file path or a "file:" URI) or "postgres" (dsn a URL).
//
// Open refuses a database whose commits would not be durable: an SQLite
// database not in WAL mode with synchronous=FULL (":memory:", say), or a
// PostgreSQL session with synchronous_commit off.
func Open(ctx context.Context, driver, dsn string, opts Options) (*Store, error) {
	s := &Store{clock: opts.Now, lease: opts.ClaimLease}
	if s.clock == nil {
		s.clock = time.Now
	}
	if s.lease <= 0 {
		s.lease = DefaultClaimLease
	}

	var dialector gorm.Dialector
	switch driver {
	case driverSQLite:
		full, err := sqliteDSN(dsn)
		if err != nil {
			return nil, fmt.Errorf("open sqlite lock store: %w", err)
		}
		if err := createPrivate(dsn); err != nil {
			return nil, fmt.Errorf("open sqlite lock store: %w", err)
		}
		dialector = sqlite.Open(full)
	case driverPostgres:
		dialector = postgres.Open(dsn)
	default:
		return nil, fmt.Errorf("open lock store: unknown driver %q (want %q or %q)", driver, driverSQLite, driverPostgres)
	}
	db, err := gorm.Open(dialector, &gorm.Config{
		NowFunc: s.now,
		// gorm's default logger prints failed and slow statements with their
		// values, personnummer included; errors are returned instead.
		Logger:         logger.Discard,
		TranslateError: true,
		// Open pings below, with ctx.
		DisableAutomaticPing: true,
	})
	if err != nil {
		return nil, fmt.Errorf("open %s lock store: %w", driver, err)
	}
	s.db = db

	if err := s.prepare(ctx, driver); err != nil {
		return nil, errors.Join(fmt.Errorf("open %s lock store: %w", driver, err), s.Close())
	}
	return s, nil
}

// prepare checks that the database is reachable and durable, and migrates it.
func (s *Store) prepare(ctx context.Context, driver string) error {
	if err := s.Ping(ctx); err != nil {
		return err
	}
	var err error
	if driver == driverSQLite {
		err = s.checkSQLiteDurable(ctx)
	} else {
		err = s.checkPostgresDurable(ctx)
	}
	if err != nil {
		return err
	}
	return s.migrate(ctx, driver)
}

// Close closes the connections to the database.
func (s *Store) Close() error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return fmt.Errorf("close lock store: %w", err)
	}
	if err := sqlDB.Close(); err != nil {
		return fmt.Errorf("close lock store: %w", err)
	}
	return nil
}

// Ping checks that the database is reachable.
func (s *Store) Ping(ctx context.Context) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return fmt.Errorf("ping lock store: %w", err)
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		return fmt.Errorf("ping lock store: %w", err)
	}
	return nil
}

// now is the injected clock in the form the database keeps: UTC, to the
// microsecond, which is PostgreSQL's precision.
func (s *Store) now() time.Time { return dbTime(s.clock()) }

// dbTime gives t in the form the database keeps. SQLite compares times as
// text, which orders them correctly only when all are in one zone.
func dbTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// sqlitePragmas are run on every pooled connection: wait for another writer
// rather than fail at once, and make each commit durable before it returns
// (WAL with synchronous=FULL survives a power cut).
var sqlitePragmas = []string{"busy_timeout(5000)", "journal_mode(WAL)", "synchronous(FULL)"}

// sqliteDSN adds to dsn the driver parameters that make every pooled
// connection run sqlitePragmas and begin its transactions IMMEDIATE, so that
// a writer takes the database's write lock at BEGIN and two processes on one
// file queue up rather than fail when one upgrades from reading to writing.
// Parameters the caller gave are kept, and take precedence over ours (Open
// still refuses a database that is not durable).
func sqliteDSN(dsn string) (string, error) {
	if dsn == "" {
		return "", errors.New("the sqlite DSN is empty")
	}
	path, rawQuery, _ := strings.Cut(dsn, "?")
	query, err := url.ParseQuery(rawQuery)
	if err != nil {
		return "", fmt.Errorf("parse the parameters of sqlite DSN %q: %w", dsn, err)
	}
	given := map[string]bool{}
	for _, p := range query["_pragma"] {
		given[pragmaName(p)] = true
	}
	for _, p := range sqlitePragmas {
		if !given[pragmaName(p)] {
			query.Add("_pragma", p)
		}
	}
	if !query.Has("_txlock") {
		query.Set("_txlock", "immediate")
	}
	return path + "?" + query.Encode(), nil
}

// pragmaName is the name of a _pragma parameter: "synchronous" of
// "synchronous(FULL)" or "synchronous=FULL".
func pragmaName(p string) string {
	name, _, _ := strings.Cut(p, "(")
	name, _, _ = strings.Cut(name, "=")
	return strings.ToLower(strings.TrimSpace(name))
}

// checkSQLiteDurable refuses a database whose commits could be lost.
func (s *Store) checkSQLiteDurable(ctx context.Context) error {
	var mode string
	var synchronous int
	db := s.db.WithContext(ctx)
	if err := db.Raw("PRAGMA journal_mode").Row().Scan(&mode); err != nil {
		return fmt.Errorf("read journal_mode: %w", err)
	}
	if err := db.Raw("PRAGMA synchronous").Row().Scan(&synchronous); err != nil {
		return fmt.Errorf("read synchronous: %w", err)
	}
	// synchronous: 2 is FULL, 3 EXTRA.
	if !strings.EqualFold(mode, "wal") || synchronous < 2 {
		return fmt.Errorf("commits would not be durable: journal_mode is %s and synchronous %d, want wal and 2 (FULL)", mode, synchronous)
	}
	return nil
}

// checkPostgresDurable refuses a session whose commits return before they
// are on disk.
func (s *Store) checkPostgresDurable(ctx context.Context) error {
	var setting string
	if err := s.db.WithContext(ctx).Raw("SHOW synchronous_commit").Row().Scan(&setting); err != nil {
		return fmt.Errorf("read synchronous_commit: %w", err)
	}
	if setting == "off" {
		return errors.New("commits would not be durable: synchronous_commit is off")
	}
	return nil
}

// migrate creates or updates the tables and installs the audit triggers, in
// one transaction.
func (s *Store) migrate(ctx context.Context, driver string) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if driver == driverPostgres {
			// Processes starting together on one schema would otherwise race
			// to create the same tables.
			err := tx.Exec("SELECT pg_advisory_xact_lock(hashtext('lockworker migrate ' || current_schema()))").Error
			if err != nil {
				return fmt.Errorf("take the migration lock: %w", err)
			}
		}
		if err := tx.AutoMigrate(tables...); err != nil {
			return err
		}
		for _, stmt := range appendOnlyTriggers[driver] {
			if err := tx.Exec(stmt).Error; err != nil {
				return fmt.Errorf("make audit_entries append-only: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("migrate the schema: %w", err)
	}
	return nil
}
