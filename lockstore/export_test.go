package lockstore

import "gorm.io/gorm"

// DB gives the tests the database behind the Store, to prove what the
// database itself enforces whatever program writes to it.
func (s *Store) DB() *gorm.DB { return s.db }

// BuildSQLiteDSN is sqliteDSN, for its table test.
var BuildSQLiteDSN = sqliteDSN
