package lockstore

import (
	"context"
	"errors"
	"fmt"

	"github.com/lockworker/lockworker"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// Record records decision d in one transaction: it advances the ticket's
// ledger entry, checks that the person's active lock is still the one the
// decision was based on, applies d.Change, and appends the audit entry. Either
// all of it is committed, durably, or none of it.
//
// It returns an error wrapping lockworker.ErrConflict when what the decision
// was based on has changed: the ticket is in the ledger although d.Round is
// 0; its entry is not at round d.Round or not yet confirmed; the person's
// active lock is not d.ActiveLock; or the person has an active lock already.
// Decide again from fresh state.
//
// The ledger entry moves to round d.Round+1, unconfirmed, with the store's
// mark of the decision; the decision enters the ticket's history; and the
// caller holds the claim to send its update (see ClaimUpdate), which it
// renews while it sends.
func (s *Store) Record(ctx context.Context, d lockworker.Decision) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	fail := func(err error) error {
		return fmt.Errorf("record decision on ticket %q of region %q: %w", d.Ticket, d.Region, err)
	}
	if err := validate(d); err != nil {
		return fail(err)
	}
	var err error
	if s.group != nil {
		err = s.group.record(ctx, d)
	} else {
		err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error { return s.recordIn(tx, d) })
	}
	if err != nil {
		return fail(err)
	}
	return nil
}

// recordIn makes decision d's writes within transaction tx.
func (s *Store) recordIn(tx *gorm.DB, d lockworker.Decision) error {
	if err := s.advanceLedger(tx, d); err != nil {
		return err
	}
	if !d.Personnummer.IsZero() {
		if err := s.checkActiveLock(tx, d); err != nil {
			return err
		}
	}
	if err := s.applyChange(tx, d); err != nil {
		return err
	}
	if err := s.appendAudit(tx, s.auditRowOf(d), d.Personnummer.Reveal()); err != nil {
		return err
	}
	if err := tx.Create(decidedEvent(d)).Error; err != nil {
		return fmt.Errorf("add to the ticket's history: %w", err)
	}
	return nil
}

// validate refuses a decision that no state of the store could make right.
func validate(d lockworker.Decision) error {
	switch {
	case d.Region == "" || d.Ticket == "":
		return errors.New("the decision names no region or no ticket")
	case d.At.IsZero():
		return errors.New("the decision has no time")
	case d.Round < 0:
		return fmt.Errorf("the decision has round %d", d.Round)
	case d.Change != lockworker.ChangeNone && d.Change != lockworker.ChangeLock && d.Change != lockworker.ChangeUnlock:
		return fmt.Errorf("the decision has unknown change %d", d.Change)
	case d.Change != lockworker.ChangeNone && d.Personnummer.IsZero():
		return errors.New("the decision changes a lock but names no personnummer")
	case d.Change == lockworker.ChangeUnlock && d.ActiveLock == 0:
		return errors.New("the decision lifts a lock but names none")
	}
	return nil
}

// advanceLedger moves the ticket's ledger entry from round d.Round to the
// next. A new ticket's entry is inserted, so that of two processes deciding
// it the second fails on the primary key; a known ticket's entry is updated
// only if it is still at d.Round and confirmed, so that of two processes the
// second updates no row (on PostgreSQL it waits for the first and then sees
// the new round).
func (s *Store) advanceLedger(tx *gorm.DB, d lockworker.Decision) error {
	mark, now, err := s.step(tx)
	if err != nil {
		return err
	}
	row := ledgerRow{
		Region:        d.Region,
		Ticket:        d.Ticket,
		Round:         d.Round + 1,
		Kind:          string(d.Kind),
		Outcome:       string(d.Outcome),
		Reason:        string(d.Reason),
		Status:        d.Status,
		Comment:       d.Comment,
		DecidedAt:     dbTime(d.At),
		ClaimUntil:    now.Add(s.lease),
		Reporter:      d.Reporter,
		ReporterHSAID: d.ReporterHSAID,
		DecidedMark:   mark,
		ClaimHolder:   s.holder,
	}
	if d.Change != lockworker.ChangeNone {
		row.AppliedAt = nullTime(d.At)
	}

	if d.Round == 0 {
		err = tx.Create(&row).Error
		if isDuplicate(err) {
			return fmt.Errorf("the ticket was decided meanwhile: %w", lockworker.ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("insert the ledger entry: %w", err)
		}
		return nil
	}
	// Select("*") writes every column, the NULLs of applied_at and
	// confirmed_at included; the key stays as it is.
	res := tx.Model(&ledgerRow{}).
		Where("region = ? AND ticket = ? AND round = ? AND confirmed_at IS NOT NULL", d.Region, d.Ticket, d.Round).
		Select("*").Omit("region", "ticket").
		Updates(&row)
	if res.Error != nil {
		return fmt.Errorf("update the ledger entry: %w", res.Error)
	}
	if res.RowsAffected == 0 {
		return fmt.Errorf("the ledger entry is not at round %d or not confirmed: %w", d.Round, lockworker.ErrConflict)
	}
	return nil
}

// checkActiveLock compares the person's active lock with the one the
// decision was based on. On PostgreSQL it locks that row (FOR UPDATE; SQLite
// has one writer at a time anyway), so that a concurrent decision on the same
// person waits for this transaction and then sees its outcome.
func (s *Store) checkActiveLock(tx *gorm.DB, d lockworker.Decision) error {
	var ids []int64
	err := tx.Model(&lockRow{}).
		Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).
		Where("person_hash = ? AND lifted_at IS NULL", s.pn.hash(d.Personnummer.Reveal())).
		Pluck("id", &ids).Error
	if err != nil {
		return fmt.Errorf("look up the active lock: %w", err)
	}
	var active int64
	if len(ids) > 0 {
		active = ids[0]
	}
	if active != d.ActiveLock {
		return fmt.Errorf("the active lock is %d, the decision was based on %d: %w", active, d.ActiveLock, lockworker.ErrConflict)
	}
	return nil
}

// applyChange makes the decision's change to the locks. Lifting a lock keeps
// its row, with who lifted it, when, on which ticket and form.
func (s *Store) applyChange(tx *gorm.DB, d lockworker.Decision) error {
	switch d.Change {
	case lockworker.ChangeLock:
		err := tx.Create(&lockRow{
			PersonHash:     s.pn.hash(d.Personnummer.Reveal()),
			PersonSealed:   s.pn.seal(d.Personnummer.Reveal()),
			Region:         d.Region,
			Ticket:         d.Ticket,
			Form:           d.Evidence.Form,
			LockedAt:       dbTime(d.At),
			ProxySuspended: d.ProxySuspended,
		}).Error
		if isDuplicate(err) {
			return fmt.Errorf("the person has an active lock already: %w", lockworker.ErrConflict)
		}
		if err != nil {
			return fmt.Errorf("insert the lock: %w", err)
		}
	case lockworker.ChangeUnlock:
		res := tx.Model(&lockRow{}).
			Where("id = ? AND lifted_at IS NULL", d.ActiveLock).
			Updates(map[string]any{
				"lifted_at":     dbTime(d.At),
				"lifted_region": d.Region,
				"lifted_ticket": d.Ticket,
				"lifted_form":   d.Evidence.Form,
			})
		if res.Error != nil {
			return fmt.Errorf("lift lock %d: %w", d.ActiveLock, res.Error)
		}
		// checkActiveLock found the lock active and holds it; anything else
		// would record a lift that did not happen.
		if res.RowsAffected != 1 {
			return fmt.Errorf("lift lock %d: it was not active", d.ActiveLock)
		}
	}
	return nil
}

func decidedEvent(d lockworker.Decision) *ticketEventRow {
	return &ticketEventRow{
		At:            dbTime(d.At),
		Region:        d.Region,
		Ticket:        d.Ticket,
		Round:         d.Round + 1,
		Pass:          d.Pass,
		Event:         lockworker.EventDecided,
		Kind:          string(d.Kind),
		Outcome:       string(d.Outcome),
		Reason:        string(d.Reason),
		Status:        d.Status,
		Comment:       d.Comment,
		Reporter:      d.Reporter,
		ReporterHSAID: d.ReporterHSAID,
		Form:          d.Evidence.Form,
	}
}

func (s *Store) auditRowOf(d lockworker.Decision) *auditRow {
	return &auditRow{
		At:            dbTime(d.At),
		Pass:          d.Pass,
		Region:        d.Region,
		Ticket:        d.Ticket,
		Kind:          string(d.Kind),
		Outcome:       string(d.Outcome),
		Reason:        string(d.Reason),
		PersonHash:    s.pn.hash(d.Personnummer.Reveal()),
		PersonSealed:  s.pn.seal(d.Personnummer.Reveal()),
		Reporter:      d.Reporter,
		ReporterHSAID: d.ReporterHSAID,
		Form:          d.Evidence.Form,
		Signer:        d.Evidence.Signer,
		SignedAt:      nullTime(d.Evidence.SignedAt),
		Category:      string(lockworker.AuditDecision),
	}
}
