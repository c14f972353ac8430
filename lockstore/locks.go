package lockstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/lockworker/lockworker"
	"gorm.io/gorm"
	"gorm.io/gorm/clause"
)

// accountBatch is how many accounts one INSERT adds: well under the limits of
// both databases on bound parameters.
const accountBatch = 500

// AddAccounts registers existing 1177 accounts, as of now, and returns how
// many were new. Accounts already registered are left as they are, so an
// import can be run again.
func (s *Store) AddAccounts(ctx context.Context, pns []lockworker.Personnummer) (added int, err error) {
	if len(pns) == 0 {
		return 0, nil
	}
	now := s.now()
	rows := make([]accountRow, len(pns))
	for i, pn := range pns {
		if pn.IsZero() {
			return 0, fmt.Errorf("add accounts: number %d of %d is empty", i+1, len(pns))
		}
		rows[i] = accountRow{PersonHash: s.pn.hash(pn.Reveal()), PersonSealed: s.pn.seal(pn.Reveal()), RegisteredAt: now}
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		res := tx.Clauses(clause.OnConflict{DoNothing: true}).CreateInBatches(rows, accountBatch)
		added = int(res.RowsAffected)
		return res.Error
	})
	if err != nil {
		return 0, fmt.Errorf("add %d accounts: %w", len(pns), err)
	}
	return added, nil
}

// HasAccount reports whether pn has an existing 1177 account.
func (s *Store) HasAccount(ctx context.Context, pn lockworker.Personnummer) (bool, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var n int64
	err := s.reads.WithContext(ctx).Model(&accountRow{}).Where("person_hash = ?", s.pn.hash(pn.Reveal())).Count(&n).Error
	if err != nil {
		return false, fmt.Errorf("look up account %v: %w", pn, err)
	}
	return n > 0, nil
}

// ActiveLock returns pn's active lock, if any.
func (s *Store) ActiveLock(ctx context.Context, pn lockworker.Personnummer) (lockworker.Lock, bool, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var rows []lockRow
	err := s.reads.WithContext(ctx).Where("person_hash = ? AND lifted_at IS NULL", s.pn.hash(pn.Reveal())).Limit(1).Find(&rows).Error
	if err != nil {
		return lockworker.Lock{}, false, fmt.Errorf("look up the active lock of %v: %w", pn, err)
	}
	if len(rows) == 0 {
		return lockworker.Lock{}, false, nil
	}
	lock, err := s.toLock(rows[0])
	if err != nil {
		return lockworker.Lock{}, false, fmt.Errorf("look up the active lock of %v: %w", pn, err)
	}
	return lock, true, nil
}

// Locks returns pn's locks, active and lifted, oldest first.
func (s *Store) Locks(ctx context.Context, pn lockworker.Personnummer) ([]lockworker.Lock, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var rows []lockRow
	err := s.db.WithContext(ctx).Where("person_hash = ?", s.pn.hash(pn.Reveal())).Order("locked_at, id").Find(&rows).Error
	if err != nil {
		return nil, fmt.Errorf("list the locks of %v: %w", pn, err)
	}
	locks := make([]lockworker.Lock, len(rows))
	for i, row := range rows {
		if locks[i], err = s.toLock(row); err != nil {
			return nil, fmt.Errorf("list the locks of %v: %w", pn, err)
		}
	}
	return locks, nil
}

// CountActiveLocks returns how many people are locked.
func (s *Store) CountActiveLocks(ctx context.Context) (int64, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var n int64
	if err := s.db.WithContext(ctx).Model(&lockRow{}).Where("lifted_at IS NULL").Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count active locks: %w", err)
	}
	return n, nil
}

func (s *Store) toLock(row lockRow) (lockworker.Lock, error) {
	pn, err := s.person(row.PersonSealed)
	if err != nil {
		return lockworker.Lock{}, fmt.Errorf("lock %d: %w", row.ID, err)
	}
	return lockworker.Lock{
		ID:             row.ID,
		Personnummer:   pn,
		Region:         row.Region,
		Ticket:         row.Ticket,
		Form:           row.Form,
		LockedAt:       row.LockedAt.UTC(),
		ProxySuspended: row.ProxySuspended,
		LiftedAt:       fromNullTime(row.LiftedAt),
		LiftedRegion:   row.LiftedRegion,
		LiftedTicket:   row.LiftedTicket,
		LiftedForm:     row.LiftedForm,
	}, nil
}

// personnummer reads back a stored 12-digit number; "" is the zero number.
func (s *Store) personnummer(digits string) (lockworker.Personnummer, error) {
	if digits == "" {
		return lockworker.Personnummer{}, nil
	}
	pn, err := lockworker.ParsePersonnummer(digits, s.now())
	if err != nil {
		return lockworker.Personnummer{}, fmt.Errorf("read stored personnummer: %w", err)
	}
	return pn, nil
}

// nullTime stores the zero time as NULL.
func nullTime(t time.Time) sql.NullTime {
	if t.IsZero() {
		return sql.NullTime{}
	}
	return sql.NullTime{Time: dbTime(t), Valid: true}
}

// fromNullTime reads NULL back as the zero time.
func fromNullTime(t sql.NullTime) time.Time {
	if !t.Valid {
		return time.Time{}
	}
	return t.Time.UTC()
}

// isDuplicate reports whether err is a unique or primary key violation.
func isDuplicate(err error) bool { return errors.Is(err, gorm.ErrDuplicatedKey) }
