package lockstore

import (
	"context"
	"fmt"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/lockworker/lockworker"
)

// CountAccounts returns how many existing 1177 accounts the store knows.
func (s *Store) CountAccounts(ctx context.Context) (int64, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var n int64
	if err := s.db.WithContext(ctx).Model(&accountRow{}).Count(&n).Error; err != nil {
		return 0, fmt.Errorf("count accounts: %w", err)
	}
	return n, nil
}

// RemoveAccount removes pn's account, unless pn is locked now: a lock
// applies to an existing account, and the account of a locked person stays.
// It reports whether an account was removed, and whether pn is locked.
func (s *Store) RemoveAccount(ctx context.Context, pn lockworker.Personnummer) (removed, locked bool, err error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	hash := s.pn.hash(pn.Reveal())
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var ids []int64
		err := tx.Model(&lockRow{}).Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).
			Where("person_hash = ? AND lifted_at IS NULL", hash).Pluck("id", &ids).Error
		if err != nil {
			return err
		}
		if locked = len(ids) > 0; locked {
			return nil
		}
		res := tx.Where("person_hash = ?", hash).Delete(&accountRow{})
		removed = res.RowsAffected > 0
		return res.Error
	})
	if err != nil {
		return false, false, fmt.Errorf("remove the account of %v: %w", pn, err)
	}
	return removed, locked, nil
}

// ReplaceAccounts makes the accounts exactly pns, in one transaction, but
// for the accounts of people locked now, which stay and are returned. It
// returns how many accounts were added and removed.
func (s *Store) ReplaceAccounts(ctx context.Context, pns []lockworker.Personnummer) (added, removed int, kept []lockworker.Personnummer, err error) {
	ctx, cancel := context.WithTimeout(ctx, migrateTimeout)
	defer cancel()
	want := make(map[string]lockworker.Personnummer, len(pns))
	for _, pn := range pns {
		want[s.pn.hash(pn.Reveal())] = pn
	}
	err = s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		// Take the table whole, so that no lock is recorded meanwhile
		// for an account this removes.
		if err := lockPeople(tx, s.driver); err != nil {
			return err
		}
		var have []accountRow
		if err := tx.Find(&have).Error; err != nil {
			return fmt.Errorf("read the accounts: %w", err)
		}
		var locked []string
		if err := tx.Model(&lockRow{}).Where("lifted_at IS NULL").Pluck("person_hash", &locked).Error; err != nil {
			return fmt.Errorf("read the active locks: %w", err)
		}
		isLocked := make(map[string]bool, len(locked))
		for _, h := range locked {
			isLocked[h] = true
		}
		var gone []string
		for _, a := range have {
			switch _, ok := want[a.PersonHash]; {
			case ok:
				delete(want, a.PersonHash)
			case isLocked[a.PersonHash]:
				pn, err := s.person(a.PersonSealed)
				if err != nil {
					return err
				}
				kept = append(kept, pn)
			default:
				gone = append(gone, a.PersonHash)
			}
		}
		for start := 0; start < len(gone); start += accountBatch {
			res := tx.Where("person_hash IN ?", gone[start:min(start+accountBatch, len(gone))]).Delete(&accountRow{})
			if res.Error != nil {
				return fmt.Errorf("remove accounts: %w", res.Error)
			}
			removed += int(res.RowsAffected)
		}
		rows := make([]accountRow, 0, len(want))
		now := s.now()
		for hash, pn := range want {
			rows = append(rows, accountRow{PersonHash: hash, PersonSealed: s.pn.seal(pn.Reveal()), RegisteredAt: now})
		}
		if len(rows) > 0 {
			if err := tx.CreateInBatches(rows, accountBatch).Error; err != nil {
				return fmt.Errorf("add accounts: %w", err)
			}
		}
		added = len(rows)
		return nil
	})
	if err != nil {
		return 0, 0, nil, fmt.Errorf("replace the accounts: %w", err)
	}
	return added, removed, kept, nil
}
