package lockstore

import (
	"context"
	"fmt"

	"gorm.io/gorm"

	"github.com/lockworker/lockworker"
)

// AuditPage returns the audit entries that f selects, newest first, skipping
// the first offset and at most limit of them; more reports whether others
// follow.
func (s *Store) AuditPage(ctx context.Context, f lockworker.AuditFilter, offset, limit int) (entries []lockworker.AuditEntry, more bool, err error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var rows []auditRow
	q := auditWhere(s.db.WithContext(ctx), f).Order("at DESC, id DESC").Offset(offset).Limit(limit + 1)
	if err := q.Find(&rows).Error; err != nil {
		return nil, false, fmt.Errorf("read a page of the audit trail: %w", err)
	}
	if len(rows) > limit {
		rows, more = rows[:limit], true
	}
	entries, err = s.auditEntries(rows)
	return entries, more, err
}

// AuditCounts returns how many audit entries that f selects have each
// outcome. The outcomes are counted here rather than grouped by the
// database: SQLite would rather walk an index in outcome order, the whole
// trail, than the entries of the time asked for.
func (s *Store) AuditCounts(ctx context.Context, f lockworker.AuditFilter) (map[lockworker.Outcome]int, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var outcomes []string
	if err := auditWhere(s.db.WithContext(ctx).Model(&auditRow{}), f).Pluck("outcome", &outcomes).Error; err != nil {
		return nil, fmt.Errorf("count the audit trail by outcome: %w", err)
	}
	counts := map[lockworker.Outcome]int{}
	for _, o := range outcomes {
		counts[lockworker.Outcome(o)]++
	}
	return counts, nil
}

// TicketsWithOutcome returns the ledger entries of the tickets whose latest
// decision had outcome, the latest decided first, at most limit of them.
func (s *Store) TicketsWithOutcome(ctx context.Context, outcome lockworker.Outcome, limit int) ([]lockworker.LedgerEntry, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var rows []ledgerRow
	err := s.db.WithContext(ctx).Where("outcome = ?", string(outcome)).Order("decided_at DESC, region, ticket").Limit(limit).Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("list the tickets whose outcome is %s: %w", outcome, err)
	}
	entries := make([]lockworker.LedgerEntry, len(rows))
	for i, row := range rows {
		entries[i] = ledgerEntry(row)
	}
	return entries, nil
}

// opsIndexes are the indexes that the ops page's reads need to stay fast on
// a long audit trail: a ticket's entries (its page, a reveal, its history),
// the counts by outcome of a time, each filter of the decisions newest
// first, and the tickets by their latest outcome.
var opsIndexes = []string{
	"CREATE INDEX IF NOT EXISTS audit_entries_ticket ON audit_entries (ticket, region, at)",
	"CREATE INDEX IF NOT EXISTS audit_entries_at_outcome ON audit_entries (at, category, outcome)",
	"CREATE INDEX IF NOT EXISTS audit_entries_region_at ON audit_entries (region, at)",
	"CREATE INDEX IF NOT EXISTS audit_entries_outcome_at ON audit_entries (outcome, at)",
	"CREATE INDEX IF NOT EXISTS audit_entries_reason_at ON audit_entries (reason, at)",
	"CREATE INDEX IF NOT EXISTS tickets_outcome_decided_at ON tickets (outcome, decided_at)",
}

// migrateV5 adds opsIndexes.
func migrateV5(tx *gorm.DB, _ *Store) error {
	for _, stmt := range opsIndexes {
		if err := tx.Exec(stmt).Error; err != nil {
			return fmt.Errorf("add an index of the ops page: %w", err)
		}
	}
	return nil
}
