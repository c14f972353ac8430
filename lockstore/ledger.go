package lockstore

import (
	"context"
	"fmt"
	"time"

	"github.com/lockworker/lockworker"
	"gorm.io/gorm"
)

// Ledger returns the ledger's entry for a ticket, if it was ever decided.
func (s *Store) Ledger(ctx context.Context, region, ticket string) (lockworker.LedgerEntry, bool, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var rows []ledgerRow
	err := s.db.WithContext(ctx).Where("region = ? AND ticket = ?", region, ticket).Limit(1).Find(&rows).Error
	if err != nil {
		return lockworker.LedgerEntry{}, false, fmt.Errorf("read the ledger entry of ticket %q of region %q: %w", ticket, region, err)
	}
	if len(rows) == 0 {
		return lockworker.LedgerEntry{}, false, nil
	}
	row := rows[0]
	return lockworker.LedgerEntry{
		Region:      row.Region,
		Ticket:      row.Ticket,
		Round:       row.Round,
		Kind:        lockworker.Kind(row.Kind),
		Outcome:     lockworker.Outcome(row.Outcome),
		Reason:      lockworker.Reason(row.Reason),
		Status:      row.Status,
		Comment:     row.Comment,
		DecidedAt:   row.DecidedAt.UTC(),
		AppliedAt:   fromNullTime(row.AppliedAt),
		ConfirmedAt: fromNullTime(row.ConfirmedAt),
	}, true, nil
}

// ClaimUpdate takes the right to send the pending update of a ticket's
// ledger entry at round, for the claim lease. seen is when the caller saw the
// ticket without the update. It reports false when the entry is not at that
// round, is confirmed already, another process holds the claim (its lease has
// not run out), or the last claim ended after seen, so that the update may
// have reached the ticket since the caller looked: then the caller must not
// send the update, and looks again on its next pass.
func (s *Store) ClaimUpdate(ctx context.Context, region, ticket string, round int, seen time.Time) (bool, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	now := s.now()
	res := s.pending(ctx, region, ticket, round).
		Where("claim_until <= ? AND claim_until <= ?", now, seen.UTC()).
		Update("claim_until", now.Add(s.lease))
	if res.Error != nil {
		return false, fmt.Errorf("claim the update of ticket %q of region %q round %d: %w", ticket, region, round, res.Error)
	}
	return res.RowsAffected == 1, nil
}

// ReleaseUpdate gives back the claim on a ticket's pending update at round,
// after a failure to send it, so that the next pass may try again at once
// instead of waiting for the lease to run out.
func (s *Store) ReleaseUpdate(ctx context.Context, region, ticket string, round int) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	err := s.pending(ctx, region, ticket, round).Update("claim_until", s.now()).Error
	if err != nil {
		return fmt.Errorf("release the update of ticket %q of region %q round %d: %w", ticket, region, round, err)
	}
	return nil
}

// ConfirmUpdate records that the ticket system has confirmed the update of
// the ticket's ledger entry at round. Confirming again keeps the first time.
// It returns an error wrapping lockworker.ErrConflict when the entry is not at
// that round.
func (s *Store) ConfirmUpdate(ctx context.Context, region, ticket string, round int) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	res := s.db.WithContext(ctx).Model(&ledgerRow{}).
		Where("region = ? AND ticket = ? AND round = ?", region, ticket, round).
		Update("confirmed_at", gorm.Expr("COALESCE(confirmed_at, ?)", s.now()))
	if res.Error != nil {
		return fmt.Errorf("confirm the update of ticket %q of region %q round %d: %w", ticket, region, round, res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("confirm the update of ticket %q of region %q round %d: the ledger entry is not at that round: %w", ticket, region, round, lockworker.ErrConflict)
	}
	return nil
}

// pending selects a ticket's ledger entry at round while its update is not
// confirmed.
func (s *Store) pending(ctx context.Context, region, ticket string, round int) *gorm.DB {
	return s.db.WithContext(ctx).Model(&ledgerRow{}).
		Where("region = ? AND ticket = ? AND round = ? AND confirmed_at IS NULL", region, ticket, round)
}
