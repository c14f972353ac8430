package lockstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/lockworker/lockworker"
)

// Ledger returns the ledger's entry for a ticket, if it was ever decided.
func (s *Store) Ledger(ctx context.Context, region, ticket string) (lockworker.LedgerEntry, bool, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var rows []ledgerRow
	err := s.reads.WithContext(ctx).Where("region = ? AND ticket = ?", region, ticket).Limit(1).Find(&rows).Error
	if err != nil {
		return lockworker.LedgerEntry{}, false, fmt.Errorf("read the ledger entry of ticket %q of region %q: %w", ticket, region, err)
	}
	if len(rows) == 0 {
		return lockworker.LedgerEntry{}, false, nil
	}
	return ledgerEntry(rows[0]), true, nil
}

// ledgerEntry is the ledger entry of row.
func ledgerEntry(row ledgerRow) lockworker.LedgerEntry {
	return lockworker.LedgerEntry{
		Region:        row.Region,
		Ticket:        row.Ticket,
		Round:         row.Round,
		Kind:          lockworker.Kind(row.Kind),
		Outcome:       lockworker.Outcome(row.Outcome),
		Reason:        lockworker.Reason(row.Reason),
		Status:        row.Status,
		Comment:       row.Comment,
		DecidedAt:     row.DecidedAt.UTC(),
		AppliedAt:     fromNullTime(row.AppliedAt),
		ConfirmedAt:   fromNullTime(row.ConfirmedAt),
		Decided:       lockworker.Mark(row.DecidedMark),
		ConfirmedMark: lockworker.Mark(row.ConfirmedMark),
		Reporter:      row.Reporter,
		ReporterHSAID: row.ReporterHSAID,
	}
}

// Mark reads the lock store's clock: a view of the tickets read after it
// shows every step recorded with this mark or an earlier one. It writes
// nothing, so a read-only store gives marks too.
func (s *Store) Mark(ctx context.Context) (lockworker.Mark, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var tick int64
	if err := s.db.WithContext(ctx).Model(&clockRow{}).Where("id = 1").Select("tick").Scan(&tick).Error; err != nil {
		return 0, fmt.Errorf("read the lock store's clock: %w", err)
	}
	return lockworker.Mark(tick), nil
}

// tick advances the lock store's clock in tx and returns the new mark. On
// PostgreSQL the clock's row stays locked until tx ends, so marks are given
// in the order the transactions commit.
func tick(tx *gorm.DB) (int64, error) {
	var mark int64
	if err := tx.Raw("UPDATE store_clock SET tick = tick + 1 WHERE id = 1 RETURNING tick").Scan(&mark).Error; err != nil {
		return 0, fmt.Errorf("advance the lock store's clock: %w", err)
	}
	return mark, nil
}

// lockClock takes the lock of the store's clock, first thing in a
// transaction that may advance it. Recording a decision advances the clock
// before it touches anything else, and holds it to the commit (with all the
// decisions committed together); every other transaction that advances it
// takes it first too, so that all take their locks in one order, the clock
// before the ledger rows, and none can wait for another in a cycle. SQLite
// has one writer at a time and needs no lock.
func (s *Store) lockClock(tx *gorm.DB) error {
	if s.driver != driverPostgres {
		return nil
	}
	if err := tx.Exec("SELECT tick FROM store_clock WHERE id = 1 FOR UPDATE").Error; err != nil {
		return fmt.Errorf("lock the lock store's clock: %w", err)
	}
	return nil
}

// step marks a step in tx: it advances the clock, and reads the time by
// which claims run out.
func (s *Store) step(tx *gorm.DB) (int64, time.Time, error) {
	mark, err := tick(tx)
	if err != nil {
		return 0, time.Time{}, err
	}
	now, err := s.dbNow(tx)
	return mark, now, err
}

// dbNow is the time by which claims run out: PostgreSQL's own clock, so that
// the hosts sharing it need not agree on the time; on SQLite, which serves
// one host, the store's clock.
func (s *Store) dbNow(tx *gorm.DB) (time.Time, error) {
	if s.driver != driverPostgres {
		return s.now(), nil
	}
	var now time.Time
	if err := tx.Raw("SELECT clock_timestamp()").Scan(&now).Error; err != nil {
		return time.Time{}, fmt.Errorf("read the database's clock: %w", err)
	}
	return dbTime(now), nil
}

// ClaimUpdate tries to take the right to send the pending update of a
// ticket's ledger entry at round, for a caller whose view of the ticket,
// read after mark seen, lacks it. The claim is the Store's while it renews it
// (RenewUpdate) within the claim lease; it ends with ReleaseUpdate or a
// confirmation.
//
// It reports ClaimDone when the entry is confirmed or not at round;
// ClaimBusy when a live holder has it; ClaimStale when the view was read
// before the decision or before the last attempt ended, so that the update
// may have arrived since (a holder whose claim ran out unrenewed has died or
// lost the store: its attempt ends now, and is recorded in the history);
// and ClaimTaken otherwise.
func (s *Store) ClaimUpdate(ctx context.Context, region, ticket string, round int, seen lockworker.Mark) (lockworker.Claim, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	result := lockworker.ClaimDone
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := s.lockClock(tx); err != nil {
			return err
		}
		row, found, err := lockedEntry(tx, region, ticket)
		if err != nil || !found || row.Round != round || row.ConfirmedAt.Valid {
			return err
		}
		now, err := s.dbNow(tx)
		if err != nil {
			return err
		}
		this := tx.Model(&ledgerRow{}).Where("region = ? AND ticket = ? AND round = ?", region, ticket, round)
		switch {
		case row.ClaimHolder != "" && row.ClaimUntil.After(now):
			result = lockworker.ClaimBusy
		case row.ClaimHolder != "":
			mark, err := tick(tx)
			if err != nil {
				return err
			}
			err = this.Updates(map[string]any{"claim_holder": "", "attempt_end_mark": mark}).Error
			if err != nil {
				return err
			}
			result = lockworker.ClaimStale
			return s.addEvent(tx, row, "", lockworker.EventTakenOver, "the process that held the update did not renew its claim in time")
		case row.DecidedMark > int64(seen) || row.AttemptEndMark > int64(seen):
			result = lockworker.ClaimStale
		default:
			result = lockworker.ClaimTaken
			return this.Updates(map[string]any{"claim_holder": s.holder, "claim_until": now.Add(s.lease)}).Error
		}
		return nil
	})
	if err != nil {
		return lockworker.ClaimDone, fmt.Errorf("claim the update of ticket %q of region %q round %d: %w", ticket, region, round, err)
	}
	return result, nil
}

// lockedEntry reads a ticket's ledger row, locked for the rest of tx on
// PostgreSQL (SQLite has one writer at a time anyway).
func lockedEntry(tx *gorm.DB, region, ticket string) (ledgerRow, bool, error) {
	var rows []ledgerRow
	err := tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).
		Where("region = ? AND ticket = ?", region, ticket).Limit(1).Find(&rows).Error
	if err != nil || len(rows) == 0 {
		return ledgerRow{}, false, err
	}
	return rows[0], true, nil
}

// RenewUpdate extends this Store's claim on a ticket's pending update at
// round by the claim lease. It reports false when the Store no longer holds
// the claim: the update is confirmed, or the claim ran out and was taken
// over.
func (s *Store) RenewUpdate(ctx context.Context, region, ticket string, round int) (bool, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var renewed bool
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		now, err := s.dbNow(tx)
		if err != nil {
			return err
		}
		res := s.held(tx, region, ticket, round).Update("claim_until", now.Add(s.lease))
		renewed = res.RowsAffected == 1
		return res.Error
	})
	if err != nil {
		return false, fmt.Errorf("renew the claim on the update of ticket %q of region %q round %d: %w", ticket, region, round, err)
	}
	return renewed, nil
}

// ReleaseUpdate gives back this Store's claim on a ticket's pending update
// at round after a failure to send it, why, and records the attempt in the
// ticket's history. The attempt's end is marked: a view read after it
// shows whether the update arrived. An entry confirmed meanwhile is left as
// it is.
func (s *Store) ReleaseUpdate(ctx context.Context, region, ticket string, round int, why string) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := s.lockClock(tx); err != nil {
			return err
		}
		row, found, err := lockedEntry(tx, region, ticket)
		if err != nil || !found || row.Round != round || row.ConfirmedAt.Valid {
			// Confirmed meanwhile (another process saw the update
			// arrive): the attempt did not fail after all.
			return err
		}
		mark, now, err := s.step(tx)
		if err != nil {
			return err
		}
		err = s.held(tx, region, ticket, round).
			Updates(map[string]any{"claim_holder": "", "claim_until": now, "attempt_end_mark": mark}).Error
		if err != nil {
			return err
		}
		return s.addEvent(tx, row, "", lockworker.EventSendFailed, why)
	})
	if err != nil {
		return fmt.Errorf("release the update of ticket %q of region %q round %d: %w", ticket, region, round, err)
	}
	return nil
}

// held selects a ticket's ledger entry at round while this Store holds the
// claim on its pending update.
func (s *Store) held(tx *gorm.DB, region, ticket string, round int) *gorm.DB {
	return tx.Model(&ledgerRow{}).Where("region = ? AND ticket = ? AND round = ? AND confirmed_at IS NULL AND claim_holder = ?",
		region, ticket, round, s.holder)
}

// ConfirmSent records that the ticket system accepted the update of the
// ticket's ledger entry at round, sent by this Store. Confirming again keeps
// the first confirmation. It returns an error wrapping
// lockworker.ErrConflict when the entry is not at that round.
func (s *Store) ConfirmSent(ctx context.Context, region, ticket string, round int) error {
	return s.confirm(ctx, region, ticket, round, -1, "the ticket system accepted the update")
}

// ConfirmSentAll is ConfirmSent of several updates of a region's tickets, in
// one transaction, so that a batch of updates costs one commit. It returns
// one error per update, nil for each confirmed: an entry not at its round
// fails alone; a failure of the database fails them all.
func (s *Store) ConfirmSentAll(ctx context.Context, region string, updates []lockworker.UpdateRef) []error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	errs := make([]error, len(updates))
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := s.lockClock(tx); err != nil {
			return err
		}
		c := confirmation{store: s, tx: tx, how: "the ticket system accepted the update"}
		for i, u := range updates {
			err := c.confirm(region, u.Ticket, u.Round, -1)
			if errors.Is(err, lockworker.ErrConflict) {
				errs[i] = fmt.Errorf("confirm the update of ticket %q of region %q round %d: %w", u.Ticket, region, u.Round, err)
				continue
			}
			if err != nil {
				return err
			}
		}
		return c.record()
	})
	if err != nil {
		for i, u := range updates {
			errs[i] = fmt.Errorf("confirm the update of ticket %q of region %q round %d: %w", u.Ticket, region, u.Round, err)
		}
	}
	return errs
}

// ConfirmSeen records that a view of the ticket read after mark seen shows
// the update of its ledger entry at round. It returns an error wrapping
// lockworker.ErrStaleView when the view was read before the decision (it
// may show an earlier state that looks the same), and
// lockworker.ErrConflict when the entry is not at that round.
func (s *Store) ConfirmSeen(ctx context.Context, region, ticket string, round int, seen lockworker.Mark) error {
	return s.confirm(ctx, region, ticket, round, seen, "the ticket showed the update")
}

// confirm confirms an update; seen is the view's mark, or -1 for an update
// the ticket system accepted.
func (s *Store) confirm(ctx context.Context, region, ticket string, round int, seen lockworker.Mark, how string) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := s.lockClock(tx); err != nil {
			return err
		}
		c := confirmation{store: s, tx: tx, how: how}
		if err := c.confirm(region, ticket, round, seen); err != nil {
			return err
		}
		return c.record()
	})
	if err != nil {
		return fmt.Errorf("confirm the update of ticket %q of region %q round %d: %w", ticket, region, round, err)
	}
	return nil
}

// confirmation confirms updates within transaction tx, all at one step of
// the store's clock, and adds them to the tickets' histories together.
type confirmation struct {
	store *Store
	tx    *gorm.DB
	how   string // how the updates are known to have arrived
	// mark is the step of the confirmations, 0 until the first.
	mark   int64
	events []ticketEventRow
}

// confirm confirms the update of a ticket's ledger entry at round; seen is
// the view's mark, or -1 for an update the ticket system accepted.
func (c *confirmation) confirm(region, ticket string, round int, seen lockworker.Mark) error {
	row, found, err := lockedEntry(c.tx, region, ticket)
	switch {
	case err != nil:
		return err
	case !found || row.Round != round:
		return fmt.Errorf("the ledger entry is not at that round: %w", lockworker.ErrConflict)
	case row.ConfirmedAt.Valid:
		return nil
	case seen >= 0 && row.DecidedMark > int64(seen):
		return lockworker.ErrStaleView
	}
	if c.mark == 0 {
		if c.mark, err = tick(c.tx); err != nil {
			return err
		}
	}
	err = c.tx.Model(&ledgerRow{}).Where("region = ? AND ticket = ? AND round = ?", region, ticket, round).
		Updates(map[string]any{"confirmed_at": c.store.now(), "confirmed_mark": c.mark, "claim_holder": ""}).Error
	if err != nil {
		return err
	}
	c.events = append(c.events, c.store.event(row, "", lockworker.EventConfirmed, c.how))
	return nil
}

// record adds the confirmations to the tickets' histories.
func (c *confirmation) record() error {
	if len(c.events) == 0 {
		return nil
	}
	if err := c.tx.CreateInBatches(&c.events, 500).Error; err != nil {
		return fmt.Errorf("add to the tickets' histories: %w", err)
	}
	return nil
}

// event is a step of the ticket's history, for the round of row.
func (s *Store) event(row ledgerRow, pass, event, detail string) ticketEventRow {
	return ticketEventRow{At: s.now(), Region: row.Region, Ticket: row.Ticket, Round: row.Round, Pass: pass, Event: event, Detail: detail}
}

// addEvent appends a step to the ticket's history, for the round of row.
func (s *Store) addEvent(tx *gorm.DB, row ledgerRow, pass, event, detail string) error {
	e := s.event(row, pass, event, detail)
	if err := tx.Create(&e).Error; err != nil {
		return fmt.Errorf("add to the ticket's history: %w", err)
	}
	return nil
}

// History returns a ticket's history, oldest first: each decision (with its
// comment, reporter and form), each failed attempt to send its update, each
// claim taken over, each confirmation. Decisions recorded before the store
// kept a history come from the audit trail, without their comment.
func (s *Store) History(ctx context.Context, region, ticket string) ([]lockworker.TicketEvent, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	db := s.db.WithContext(ctx)
	var rows []ticketEventRow
	if err := db.Where("region = ? AND ticket = ?", region, ticket).Order("id").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("read the history of ticket %q of region %q: %w", ticket, region, err)
	}
	var audits []auditRow
	if err := db.Where("region = ? AND ticket = ?", region, ticket).Order("at, id").Find(&audits).Error; err != nil {
		return nil, fmt.Errorf("read the history of ticket %q of region %q: %w", ticket, region, err)
	}
	decided := map[string]bool{}
	for _, r := range rows {
		if r.Event == lockworker.EventDecided {
			decided[r.Pass] = true
		}
	}
	// The decisions from the audit trail go first, so that at one time they
	// precede the steps that followed them.
	var events []lockworker.TicketEvent
	for _, a := range audits {
		if decided[a.Pass] {
			continue
		}
		events = append(events, lockworker.TicketEvent{
			At: a.At.UTC(), Pass: a.Pass, Event: lockworker.EventDecided,
			Kind: lockworker.Kind(a.Kind), Outcome: lockworker.Outcome(a.Outcome), Reason: lockworker.Reason(a.Reason),
			Reporter: a.Reporter, ReporterHSAID: a.ReporterHSAID, Form: a.Form,
			Detail: "recorded before the store kept each ticket's history",
		})
	}
	for _, r := range rows {
		events = append(events, lockworker.TicketEvent{
			At: r.At.UTC(), Pass: r.Pass, Round: r.Round, Event: r.Event,
			Kind: lockworker.Kind(r.Kind), Outcome: lockworker.Outcome(r.Outcome), Reason: lockworker.Reason(r.Reason),
			Status: r.Status, Comment: r.Comment, Reporter: r.Reporter, ReporterHSAID: r.ReporterHSAID, Form: r.Form,
			Detail: r.Detail,
		})
	}
	slices.SortStableFunc(events, func(a, b lockworker.TicketEvent) int { return a.At.Compare(b.At) })
	return events, nil
}
