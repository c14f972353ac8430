package lockstore

import (
	"context"
	"errors"
	"fmt"

	"gorm.io/gorm"
)

// errProbeRollback ends CheckWrite's transaction once its write is made.
var errProbeRollback = errors.New("the probe's write is rolled back")

// CheckWrite proves that the store can write, not only answer: it records a
// pass in a transaction and rolls it back, leaving nothing. A database that
// is read-only, or that cannot extend its files, fails it.
func (s *Store) CheckWrite(ctx context.Context) error {
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now := s.now()
		probe := passRow{ID: "readiness-probe", StartedAt: now, FinishedAt: now}
		if err := tx.Create(&probe).Error; err != nil {
			return err
		}
		return errProbeRollback
	})
	if !errors.Is(err, errProbeRollback) {
		return fmt.Errorf("check that the lock store can write: %w", err)
	}
	return nil
}
