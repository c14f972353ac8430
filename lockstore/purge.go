package lockstore

import (
	"context"
	"fmt"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/lockworker/lockworker"
)

// Purge says what a purge removes, and who runs it why.
type Purge struct {
	// AuditBefore: audit entries made before it are removed, and locks
	// lifted before it.
	AuditBefore time.Time
	// PassesBefore: records of passes started before it are removed.
	PassesBefore time.Time
	Actor        string
	Purpose      string
}

// PurgeReport is what a purge removed.
type PurgeReport struct {
	AuditEntries, Passes, Locks int64
	// KeptFrom is the first audit entry kept: the chain's checkpoint.
	KeptFrom int64
}

// Purge removes what p says is older than its retention, in one
// transaction, and enters the purge in the audit trail. The audit trail is
// cut only at its start, so that the kept part stays one chain: it removes
// the entries before the first that must stay (one made since AuditBefore,
// or one about a person whose lock is active), and a checkpoint records the
// hash of the last entry removed, where the kept chain begins. An active lock
// is never removed, nor a lifted lock of a person locked now.
func (s *Store) Purge(ctx context.Context, p Purge) (PurgeReport, error) {
	ctx, cancel := context.WithTimeout(ctx, migrateTimeout)
	defer cancel()
	var rep PurgeReport
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Hold the chain's head until the commit: no entry is appended
		// while the start of the chain moves.
		var head chainHeadRow
		if err := tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).Where("id = 1").Take(&head).Error; err != nil {
			return fmt.Errorf("read the chain's head: %w", err)
		}
		res := tx.Where("started_at < ?", dbTime(p.PassesBefore)).Delete(&passRow{})
		if res.Error != nil {
			return fmt.Errorf("remove old passes: %w", res.Error)
		}
		rep.Passes = res.RowsAffected
		active := tx.Model(&lockRow{}).Select("person_hash").Where("lifted_at IS NULL")
		res = tx.Where("lifted_at IS NOT NULL AND lifted_at < ? AND person_hash NOT IN (?)", dbTime(p.AuditBefore), active).Delete(&lockRow{})
		if res.Error != nil {
			return fmt.Errorf("remove old lifted locks: %w", res.Error)
		}
		rep.Locks = res.RowsAffected

		keep := head.Seq + 1
		var firstKept []int64
		err := tx.Model(&auditRow{}).Where("at >= ? OR person_hash IN (?)", dbTime(p.AuditBefore), active).
			Order("seq").Limit(1).Pluck("seq", &firstKept).Error
		if err != nil {
			return fmt.Errorf("find the first audit entry to keep: %w", err)
		}
		if len(firstKept) > 0 {
			keep = firstKept[0]
		}
		var cp checkpointRow
		if err := tx.Order("seq DESC").Take(&cp).Error; err != nil {
			return fmt.Errorf("read the checkpoint: %w", err)
		}
		rep.KeptFrom = cp.Seq
		if keep > cp.Seq {
			var last auditRow
			if err := tx.Where("seq = ?", keep-1).Take(&last).Error; err != nil {
				return fmt.Errorf("read the last audit entry to remove: %w", err)
			}
			err := withoutAppendOnly(tx, s.driver, func() error {
				res := tx.Where("seq < ?", keep).Delete(&auditRow{})
				rep.AuditEntries = res.RowsAffected
				return res.Error
			})
			if err != nil {
				return fmt.Errorf("remove old audit entries: %w", err)
			}
			next := checkpointRow{Seq: keep, PrevHash: last.Hash, At: s.now(),
				Note: fmt.Sprintf("entries %d to %d removed: made before %s", cp.Seq, keep-1, dbTime(p.AuditBefore).Format(time.RFC3339))}
			next.MAC = s.checkpointMAC(next)
			if err := tx.Create(&next).Error; err != nil {
				return fmt.Errorf("record the chain's checkpoint: %w", err)
			}
			rep.KeptFrom = keep
		}
		row := &auditRow{
			At: s.now(), Kind: "purge", Category: string(lockworker.AuditAdmin), Actor: p.Actor,
			Purpose: fmt.Sprintf("%s: %d audit entries, %d passes and %d lifted locks removed", p.Purpose, rep.AuditEntries, rep.Passes, rep.Locks),
		}
		return s.appendAudit(tx, row, "")
	})
	if err != nil {
		return PurgeReport{}, fmt.Errorf("purge: %w", err)
	}
	return rep, nil
}
