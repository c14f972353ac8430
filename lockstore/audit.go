package lockstore

import (
	"context"
	"fmt"
	"slices"

	"github.com/lockworker/lockworker"
)

// Audit returns the audit entries that f selects, newest last.
func (s *Store) Audit(ctx context.Context, f lockworker.AuditFilter) ([]lockworker.AuditEntry, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	q := s.db.WithContext(ctx)
	if !f.Since.IsZero() {
		q = q.Where("at >= ?", dbTime(f.Since))
	}
	if f.Region != "" {
		q = q.Where("region = ?", f.Region)
	}
	if f.Ticket != "" {
		q = q.Where("ticket = ?", f.Ticket)
	}
	if f.Outcome != "" {
		q = q.Where("outcome = ?", string(f.Outcome))
	}
	var rows []auditRow
	if err := q.Order("at, id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("read the audit trail: %w", err)
	}
	entries := make([]lockworker.AuditEntry, len(rows))
	for i, row := range rows {
		pn, err := s.personnummer(row.Personnummer)
		if err != nil {
			return nil, fmt.Errorf("read the audit trail: entry %d: %w", row.ID, err)
		}
		entries[i] = lockworker.AuditEntry{
			ID:            row.ID,
			At:            row.At.UTC(),
			Pass:          row.Pass,
			Region:        row.Region,
			Ticket:        row.Ticket,
			Kind:          lockworker.Kind(row.Kind),
			Outcome:       lockworker.Outcome(row.Outcome),
			Reason:        lockworker.Reason(row.Reason),
			Personnummer:  pn,
			Reporter:      row.Reporter,
			ReporterHSAID: row.ReporterHSAID,
			Evidence: lockworker.Evidence{
				Form:     row.Form,
				Signer:   row.Signer,
				SignedAt: fromNullTime(row.SignedAt),
			},
		}
	}
	return entries, nil
}

// RecordPass records a pass that has finished.
func (s *Store) RecordPass(ctx context.Context, p lockworker.PassRecord) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	err := s.db.WithContext(ctx).Create(&passRow{
		ID:            p.ID,
		StartedAt:     dbTime(p.StartedAt),
		FinishedAt:    dbTime(p.FinishedAt),
		Regions:       p.Regions,
		Outcomes:      p.Outcomes,
		FailedRegions: p.FailedRegions,
	}).Error
	if err != nil {
		return fmt.Errorf("record pass %q: %w", p.ID, err)
	}
	return nil
}

// Passes returns the latest limit passes (all of them if limit ≤ 0), newest
// last.
func (s *Store) Passes(ctx context.Context, limit int) ([]lockworker.PassRecord, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	q := s.db.WithContext(ctx).Order("started_at DESC, id DESC")
	if limit > 0 {
		q = q.Limit(limit)
	}
	var rows []passRow
	if err := q.Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("list passes: %w", err)
	}
	slices.Reverse(rows)
	passes := make([]lockworker.PassRecord, len(rows))
	for i, row := range rows {
		passes[i] = lockworker.PassRecord{
			ID:            row.ID,
			StartedAt:     row.StartedAt.UTC(),
			FinishedAt:    row.FinishedAt.UTC(),
			Regions:       row.Regions,
			Outcomes:      row.Outcomes,
			FailedRegions: row.FailedRegions,
		}
	}
	return passes, nil
}
