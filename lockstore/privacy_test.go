package lockstore_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lockworker/lockworker"
	"github.com/lockworker/lockworker/internal/pnrtest"
	"github.com/lockworker/lockworker/lockstore"
	"github.com/lockworker/lockworker/lockstore/lockstoretest"
)

// assertNoneInClear fails the test if a copy of the store at dsn holds any
// of pns, or anything else shaped like a personnummer, in clear.
func assertNoneInClear(t *testing.T, b backend, dsn string, pns ...lockworker.Personnummer) {
	t.Helper()
	dump := lockstoretest.Dump(t, b.driver, dsn)
	if len(dump) == 0 {
		t.Fatal("the copy of the store is empty")
	}
	for _, pn := range pns {
		if strings.Contains(dump, pn.Reveal()) || strings.Contains(dump, pn.Reveal()[2:]) {
			t.Errorf("a copy of the store holds %v in clear", pn)
		}
	}
	pnrtest.AssertNone(t, "a copy of the store", dump, start)
}

func testNoneInClear(t *testing.T, b backend) {
	dsn := b.freshDSN(t)
	clk := &clock{now: start}
	s := b.open(t, dsn, clk)
	if _, err := s.AddAccounts(t.Context(), []lockworker.Personnummer{anna, bertil, cecilia}); err != nil {
		t.Fatal(err)
	}
	record(t, s, lockOrder("55", anna, start))
	record(t, s, lockOrder("56", bertil, start))
	record(t, s, unlockOrder("57", bertil, activeLockID(t, s, bertil), start.Add(time.Hour)))
	record(t, s, manualOrder("07", "58", start))
	assertNoneInClear(t, b, dsn, anna, bertil, cecilia)

	// What the store keeps is still found by the number.
	if ok, err := s.HasAccount(t.Context(), cecilia); err != nil || !ok {
		t.Errorf("HasAccount(cecilia) = %v, %v; want true", ok, err)
	}
	if got := activeLock(t, s, anna); got.Personnummer != anna || got.Ticket != "55" {
		t.Errorf("ActiveLock(anna) = %+v", got)
	}
	entries := audit(t, s, lockworker.AuditFilter{})
	byTicket := map[string]lockworker.Personnummer{}
	for _, e := range entries {
		byTicket[e.Ticket] = e.Personnummer
	}
	if len(entries) != 4 || byTicket["55"] != anna || byTicket["57"] != bertil || !byTicket["58"].IsZero() {
		t.Errorf("the audit trail reads back as %+v", entries)
	}
}

func testWrongDataKey(t *testing.T, b backend) {
	dsn := b.freshDSN(t)
	s := b.open(t, dsn, &clock{now: start})
	record(t, s, lockOrder("55", anna, start))

	other := []byte("another data key of at least 32 bytes")
	for name, open := range map[string]func() (*lockstore.Store, error){
		"Open": func() (*lockstore.Store, error) {
			return lockstore.Open(t.Context(), b.driver, dsn, lockstoretest.Keyed(lockstore.Options{DataKey: other}))
		},
		"OpenReadOnly": func() (*lockstore.Store, error) {
			return lockstore.OpenReadOnly(t.Context(), b.driver, dsn, lockstoretest.Keyed(lockstore.Options{DataKey: other}))
		},
	} {
		if s, err := open(); !errors.Is(err, lockstore.ErrDataKey) {
			if err == nil {
				s.Close()
			}
			t.Errorf("%s with another data key: %v, want ErrDataKey", name, err)
		}
	}
	if _, err := lockstore.Open(t.Context(), b.driver, dsn, lockstoretest.Keyed(lockstore.Options{DataKey: []byte("short")})); err == nil || !strings.Contains(err.Error(), "at least 32") {
		t.Errorf("Open with a short key: %v, want an error asking for 32 bytes", err)
	}
}

func testRotateDataKey(t *testing.T, b backend) {
	dsn := b.freshDSN(t)
	clk := &clock{now: start}
	s := b.open(t, dsn, clk)
	if _, err := s.AddAccounts(t.Context(), []lockworker.Personnummer{anna, bertil}); err != nil {
		t.Fatal(err)
	}
	record(t, s, lockOrder("55", anna, start))
	record(t, s, lockOrder("56", bertil, start))
	record(t, s, unlockOrder("57", bertil, activeLockID(t, s, bertil), start.Add(time.Hour)))
	before := audit(t, s, lockworker.AuditFilter{})

	newKey := []byte("the data key after rotation, 32 bytes or more")
	n, err := s.RotateDataKey(t.Context(), newKey)
	if err != nil {
		t.Fatalf("RotateDataKey: %v", err)
	}
	// Two accounts, two locks, three audit entries.
	if n != 7 {
		t.Errorf("RotateDataKey rewrote %d values, want 7", n)
	}
	if _, err := s.RotateDataKey(t.Context(), newKey); err == nil {
		t.Error("a second rotation by the store with the old key succeeded")
	}

	if _, err := lockstore.OpenReadOnly(t.Context(), b.driver, dsn, lockstoretest.Keyed(lockstore.Options{})); !errors.Is(err, lockstore.ErrDataKey) {
		t.Errorf("OpenReadOnly with the old key after rotating: %v, want ErrDataKey", err)
	}
	r := lockstoretest.Open(t, b.driver, dsn, lockstoretest.Keyed(lockstore.Options{Now: clk.Now, ClaimLease: lease, DataKey: newKey}))
	for _, pn := range []lockworker.Personnummer{anna, bertil} {
		if ok, err := r.HasAccount(t.Context(), pn); err != nil || !ok {
			t.Errorf("HasAccount(%v) after rotating = %v, %v; want true", pn, ok, err)
		}
	}
	if got := activeLock(t, r, anna); got.Ticket != "55" || got.Personnummer != anna {
		t.Errorf("ActiveLock(anna) after rotating = %+v", got)
	}
	if got := locks(t, r, bertil); len(got) != 1 || got[0].Active() {
		t.Errorf("Locks(bertil) after rotating = %+v, want the one lifted lock", got)
	}
	if after := audit(t, r, lockworker.AuditFilter{}); len(after) != len(before) || after[0].Personnummer != anna || after[2].Personnummer != bertil {
		t.Errorf("the audit trail after rotating = %+v", after)
	}
	// The database still refuses a second active lock, now by the new hash.
	if err := r.Record(t.Context(), lockOrder("58", anna, start.Add(2*time.Hour))); !errors.Is(err, lockworker.ErrConflict) {
		t.Errorf("a second lock of anna after rotating: %v, want ErrConflict", err)
	}
	record(t, r, lockOrder("59", bertil, start.Add(2*time.Hour)))
	assertNoneInClear(t, b, dsn, anna, bertil)
}
