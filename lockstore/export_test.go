package lockstore

import (
	"context"
	"errors"

	"gorm.io/gorm"
)

// DB gives the tests the database behind the Store, to prove what the
// database itself enforces whatever program writes to it.
func (s *Store) DB() *gorm.DB { return s.db }

// ReadsDB is the pool of the reads outside transactions.
func (s *Store) ReadsDB() *gorm.DB { return s.reads }

// BuildSQLiteDSN is sqliteDSN, for its table test.
var BuildSQLiteDSN = sqliteDSN

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
