package lockstore

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/lockworker/lockworker"
)

// ErrDataKey is returned by Open and OpenReadOnly when the configured data
// key is not the one the store's personnummer are sealed under.
var ErrDataKey = errors.New("the data key is not the lock store's")

// keyRow records the id (KeyID) of the key the store's personnummer are
// sealed under, so that a store opened with another key is refused rather
// than read as if it held nobody. Since schema version 3.
type keyRow struct {
	Purpose string `gorm:"primaryKey"`
	KeyID   string `gorm:"not null"`
}

func (keyRow) TableName() string { return "store_keys" }

// purposeData is the keyRow of the data key.
const purposeData = "data"

// personTables are the tables that hold a personnummer, each with the column
// that names a row.
var personTables = []struct{ table, key string }{
	{"accounts", "person_hash"},
	{"locks", "id"},
	{"audit_entries", "id"},
}

// migrateV3 seals the personnummer that version 2 kept in clear: the column
// personnummer becomes person_hash, the lookup hash, and person_sealed holds
// the sealed number. The indexes (the one active lock per person among them)
// follow the renamed column, so they hold throughout.
func migrateV3(tx *gorm.DB, s *Store) error {
	return withoutAppendOnly(tx, s.driver, func() error {
		for _, t := range personTables {
			stmts := []string{"ALTER TABLE " + t.table + " RENAME COLUMN personnummer TO person_hash"}
			if s.driver == driverPostgres {
				stmts = append(stmts, "ALTER TABLE "+t.table+" ALTER COLUMN person_hash TYPE varchar(64)")
			}
			stmts = append(stmts, "ALTER TABLE "+t.table+" ADD COLUMN person_sealed text NOT NULL DEFAULT ''")
			for _, stmt := range stmts {
				if err := tx.Exec(stmt).Error; err != nil {
					return fmt.Errorf("%s: %w", stmt, err)
				}
			}
			err := rewritePeople(tx, t.table, t.key, func(clear string) (string, string, error) {
				if len(clear) != 12 || !isDigits(clear) {
					return "", "", fmt.Errorf("a value of %s.personnummer is not a 12-digit number", t.table)
				}
				return s.pn.hash(clear), s.pn.seal(clear), nil
			})
			if err != nil {
				return err
			}
		}
		if err := tx.Migrator().CreateTable(&keyRow{}); err != nil {
			return fmt.Errorf("create store_keys: %w", err)
		}
		if err := tx.Create(&keyRow{Purpose: purposeData, KeyID: s.pn.id}).Error; err != nil {
			return fmt.Errorf("record the data key's id: %w", err)
		}
		return nil
	})
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// rewritePeople gives every row of table that names a person the hash and
// sealed value that convert makes of its present one. convert is given
// person_sealed, or person_hash when the row has no sealed value yet (the
// number in clear, during migrateV3).
func rewritePeople(tx *gorm.DB, table, key string, convert func(string) (hash, sealed string, err error)) error {
	type person struct{ RowKey, Hash, Sealed string }
	var rows []person
	err := tx.Table(table).Select(key + " AS row_key, person_hash AS hash, person_sealed AS sealed").
		Where("person_hash <> ''").Order(key).Scan(&rows).Error
	if err != nil {
		return fmt.Errorf("read the personnummer of %s: %w", table, err)
	}
	for _, r := range rows {
		from := r.Sealed
		if from == "" {
			from = r.Hash
		}
		hash, sealed, err := convert(from)
		if err != nil {
			return fmt.Errorf("%s %s: %w", table, key, err)
		}
		res := tx.Table(table).Where(key+" = ?", r.RowKey).Updates(map[string]any{"person_hash": hash, "person_sealed": sealed})
		if res.Error != nil {
			return fmt.Errorf("rewrite a personnummer of %s: %w", table, res.Error)
		}
		if res.RowsAffected != 1 {
			return fmt.Errorf("rewrite a personnummer of %s: %d rows changed, want 1", table, res.RowsAffected)
		}
	}
	return nil
}

// withoutAppendOnly runs f with the audit trail's append-only triggers
// removed, and puts them back, all in tx: no other transaction ever sees the
// trail without them.
func withoutAppendOnly(tx *gorm.DB, driver string, f func() error) error {
	drop := map[string][]string{
		driverSQLite: {
			"DROP TRIGGER IF EXISTS audit_entries_no_update",
			"DROP TRIGGER IF EXISTS audit_entries_no_delete",
		},
		driverPostgres: {"DROP TRIGGER IF EXISTS audit_entries_append_only ON audit_entries"},
	}
	for _, stmt := range drop[driver] {
		if err := tx.Exec(stmt).Error; err != nil {
			return fmt.Errorf("lift the audit trail's append-only triggers: %w", err)
		}
	}
	if err := f(); err != nil {
		return err
	}
	for _, stmt := range appendOnlyTriggers[driver] {
		if err := tx.Exec(stmt).Error; err != nil {
			return fmt.Errorf("make audit_entries append-only: %w", err)
		}
	}
	return nil
}

// checkDataKey refuses a store whose personnummer are sealed under another
// key than the configured one: its lookups would find nobody.
func (s *Store) checkDataKey(ctx context.Context) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var rows []keyRow
	if err := s.db.WithContext(ctx).Where("purpose = ?", purposeData).Find(&rows).Error; err != nil {
		return fmt.Errorf("read the data key's id: %w", err)
	}
	if len(rows) == 0 {
		return fmt.Errorf("%w: the store records no data key", ErrDataKey)
	}
	if rows[0].KeyID != s.pn.id {
		return fmt.Errorf("%w: its personnummer are sealed under key id %s, the configured key's id is %s", ErrDataKey, rows[0].KeyID, s.pn.id)
	}
	return nil
}

// RotateDataKey seals every personnummer of the store under newKey, and
// gives each its lookup hash under it, in one transaction; it returns how
// many values it rewrote. Afterwards the store opens only with newKey: close
// this Store and open it again with the new key. The audit trail's hash
// chain covers the numbers themselves, not their sealed form, so it stays
// valid.
func (s *Store) RotateDataKey(ctx context.Context, newKey []byte) (int, error) {
	next, err := newPersonCipher(newKey)
	if err != nil {
		return 0, fmt.Errorf("rotate the data key: %w", err)
	}
	if next.id == s.pn.id {
		return 0, errors.New("rotate the data key: the new key is the one in use")
	}
	ctx, cancel := context.WithTimeout(ctx, migrateTimeout)
	defer cancel()
	n := 0
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Hold the key row until the commit, so that two rotations queue up,
		// and make every writer of a personnummer wait (lockPeople).
		var rows []keyRow
		err := tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).
			Where("purpose = ?", purposeData).Find(&rows).Error
		if err != nil {
			return fmt.Errorf("read the data key's id: %w", err)
		}
		if len(rows) == 0 || rows[0].KeyID != s.pn.id {
			return fmt.Errorf("%w: the store's key changed meanwhile", ErrDataKey)
		}
		if err := lockPeople(tx, s.driver); err != nil {
			return err
		}
		err = withoutAppendOnly(tx, s.driver, func() error {
			for _, t := range personTables {
				err := rewritePeople(tx, t.table, t.key, func(sealed string) (string, string, error) {
					clear, err := s.pn.open(sealed)
					if err != nil {
						return "", "", err
					}
					n++
					return next.hash(clear), next.seal(clear), nil
				})
				if err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		return tx.Model(&keyRow{}).Where("purpose = ?", purposeData).Update("key_id", next.id).Error
	})
	if err != nil {
		return 0, fmt.Errorf("rotate the data key: %w", err)
	}
	return n, nil
}

// lockPeople makes, on PostgreSQL, every other writer of the tables that
// hold personnummer wait for this transaction; SQLite has one writer at a
// time anyway.
func lockPeople(tx *gorm.DB, driver string) error {
	if driver != driverPostgres {
		return nil
	}
	if err := tx.Exec("LOCK TABLE accounts, locks, audit_entries IN SHARE ROW EXCLUSIVE MODE").Error; err != nil {
		return fmt.Errorf("lock the tables of personnummer: %w", err)
	}
	return nil
}

// person reads back a sealed personnummer; "" is the zero number.
func (s *Store) person(sealed string) (lockworker.Personnummer, error) {
	clear, err := s.pn.open(sealed)
	if err != nil {
		return lockworker.Personnummer{}, err
	}
	return s.personnummer(clear)
}
