package lockstore

import (
	"context"

	"gorm.io/gorm"
)

// DB gives the tests the database behind the Store, to prove what the
// database itself enforces whatever program writes to it.
func (s *Store) DB() *gorm.DB { return s.db }

// BuildSQLiteDSN is sqliteDSN, for its table test.
var BuildSQLiteDSN = sqliteDSN

// MigrateTo brings the schema up to version, no further: the store an
// earlier lockworker made.
func (s *Store) MigrateTo(ctx context.Context, version int) error { return s.migrateTo(ctx, version) }
