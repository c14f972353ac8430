package lockstore

import (
	"context"
	"errors"

	"gorm.io/gorm"

	"github.com/lockworker/lockworker"
)

// DB gives the tests the database behind the Store, to prove what the
// database itself enforces whatever program writes to it.
func (s *Store) DB() *gorm.DB { return s.db }

// ReadsDB is the pool of the reads outside transactions.
func (s *Store) ReadsDB() *gorm.DB { return s.reads }

// BuildSQLiteDSN is sqliteDSN, for its table test.
var BuildSQLiteDSN = sqliteDSN

// MakeReadOnly keeps the store to one connection and makes it refuse every
// write, as a database turned read-only (or a standby) would, while it still
// answers.
func MakeReadOnly(s *Store, driver string) error {
	sqlDB, err := s.db.DB()
	if err != nil {
		return err
	}
	sqlDB.SetMaxOpenConns(1)
	if driver == driverSQLite {
		return s.db.Exec("PRAGMA query_only = ON").Error
	}
	return s.db.Exec("SET SESSION default_transaction_read_only = on").Error
}

// OpenAtVersion opens a store whose schema is brought up to version, no
// further: the store an earlier lockworker made.
func OpenAtVersion(ctx context.Context, driver, dsn string, opts Options, version int) (*Store, error) {
	s, err := connect(ctx, driver, dsn, opts, false)
	if err != nil {
		return nil, err
	}
	if err := s.migrateTo(ctx, version); err != nil {
		return nil, errors.Join(err, s.Close())
	}
	return s, nil
}

// PersonHash and Seal give the tests the stored forms of a personnummer, to
// write rows behind the Store's back.
func (s *Store) PersonHash(pn lockworker.Personnummer) string { return s.pn.hash(pn.Reveal()) }
func (s *Store) Seal(pn lockworker.Personnummer) string       { return s.pn.seal(pn.Reveal()) }

// AppendAccesses enters the access a n times, in one transaction, to fill
// the chain quickly for a benchmark.
func (s *Store) AppendAccesses(ctx context.Context, a lockworker.Access, n int) error {
	return s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, pn := range a.People[:1] {
			for range n {
				row := &auditRow{At: dbTime(a.At), Kind: a.Command, Category: string(a.Category), Actor: a.Actor, Purpose: a.Purpose,
					PersonHash: s.pn.hash(pn.Reveal()), PersonSealed: s.pn.seal(pn.Reveal())}
				if err := s.appendAudit(tx, row, pn.Reveal()); err != nil {
					return err
				}
			}
		}
		return nil
	})
}
