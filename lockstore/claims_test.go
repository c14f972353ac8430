package lockstore_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/lockworker/lockworker"
	"github.com/lockworker/lockworker/lockstore"
	"github.com/lockworker/lockworker/lockstore/lockstoretest"
)

// claimLease is the claim lease of the claims' tests: short, since on
// PostgreSQL a claim runs out by the database's own clock, which no test
// turns.
const claimLease = 500 * time.Millisecond

// expire lets every claim of stores opened with claimLease run out: the
// test's clock on SQLite, the database's on PostgreSQL.
func (b backend) expire(clk *clock) {
	if b.driver == "postgres" {
		time.Sleep(2 * claimLease)
		return
	}
	clk.Advance(2 * claimLease)
}

// twoProcesses opens two stores on one fresh database, as two processes
// would, each with the claims' lease.
func (b backend) twoProcesses(t *testing.T) (a, other *lockstore.Store, clk *clock) {
	t.Helper()
	dsn := b.freshDSN(t)
	clk = &clock{now: start}
	opts := lockstore.Options{Now: clk.Now, ClaimLease: claimLease}
	return lockstoretest.Open(t, b.driver, dsn, opts), lockstoretest.Open(t, b.driver, dsn, opts), clk
}

func mark(t *testing.T, s *lockstore.Store) lockworker.Mark {
	t.Helper()
	m, err := s.Mark(t.Context())
	if err != nil {
		t.Fatalf("Mark: %v", err)
	}
	return m
}

func testClaims(t *testing.T, b backend) {
	a, other, clk := b.twoProcesses(t)
	ctx := t.Context()
	before := mark(t, a)
	// Recording the decision gives the recorder the claim.
	record(t, a, manualOrder("07", "55", clk.Now()))
	afterDecision := mark(t, a)

	claim := func(s *lockstore.Store, seen lockworker.Mark) func() (lockworker.Claim, error) {
		return func() (lockworker.Claim, error) { return s.ClaimUpdate(ctx, "07", "55", 1, seen) }
	}
	var beforeRelease, afterRelease, afterTakeOver lockworker.Mark
	steps := []struct {
		name string
		do   func() (lockworker.Claim, error)
		want lockworker.Claim
	}{
		{"another process waits for the recorder, which is alive", claim(other, afterDecision), lockworker.ClaimBusy},
		{"and a view read before the decision is never trusted", func() (lockworker.Claim, error) {
			if renewed, err := a.RenewUpdate(ctx, "07", "55", 1); err != nil || !renewed {
				t.Errorf("the recorder's RenewUpdate = %v, %v; want true", renewed, err)
			}
			beforeRelease = mark(t, a)
			if err := a.ReleaseUpdate(ctx, "07", "55", 1, "Easit answered 503"); err != nil {
				return 0, err
			}
			afterRelease = mark(t, a)
			return other.ClaimUpdate(ctx, "07", "55", 1, before)
		}, lockworker.ClaimStale},
		{"nor one read before the failed attempt ended", func() (lockworker.Claim, error) { return claim(other, beforeRelease)() }, lockworker.ClaimStale},
		{"one read after it may claim at once", func() (lockworker.Claim, error) { return claim(other, afterRelease)() }, lockworker.ClaimTaken},
		{"and then holds it alone", func() (lockworker.Claim, error) { return claim(a, afterRelease)() }, lockworker.ClaimBusy},
		{"a holder that dies leaves a claim that is taken over once it runs out", func() (lockworker.Claim, error) {
			if renewed, err := a.RenewUpdate(ctx, "07", "55", 1); err != nil || renewed {
				t.Errorf("RenewUpdate by a store that does not hold the claim = %v, %v; want false", renewed, err)
			}
			b.expire(clk)
			return claim(a, afterRelease)()
		}, lockworker.ClaimStale},
		{"by a view read after the take-over", func() (lockworker.Claim, error) {
			afterTakeOver = mark(t, a)
			return claim(a, afterTakeOver)()
		}, lockworker.ClaimTaken},
		{"the dead holder's claim is gone", func() (lockworker.Claim, error) {
			if renewed, err := other.RenewUpdate(ctx, "07", "55", 1); err != nil || renewed {
				t.Errorf("RenewUpdate by the holder taken over = %v, %v; want false", renewed, err)
			}
			return claim(other, afterTakeOver)()
		}, lockworker.ClaimBusy},
		{"no other round can be claimed", func() (lockworker.Claim, error) { return other.ClaimUpdate(ctx, "07", "55", 2, afterTakeOver) }, lockworker.ClaimDone},
		{"nor an unknown ticket", func() (lockworker.Claim, error) { return other.ClaimUpdate(ctx, "07", "56", 1, afterTakeOver) }, lockworker.ClaimDone},
		{"a confirmed update cannot be claimed", func() (lockworker.Claim, error) {
			if err := a.ConfirmSent(ctx, "07", "55", 1); err != nil {
				return 0, err
			}
			return claim(other, mark(t, a))()
		}, lockworker.ClaimDone},
	}
	for _, step := range steps {
		got, err := step.do()
		if err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if got != step.want {
			t.Errorf("%s: claim = %d, want %d", step.name, got, step.want)
		}
	}

	// The confirmation is marked after every view read before it, and
	// confirming again keeps the first.
	entry, _ := ledger(t, a, "07", "55")
	if !entry.Confirmed() || entry.ConfirmedMark <= afterTakeOver || entry.ConfirmedMark > mark(t, a) {
		t.Errorf("the entry = %+v, want confirmed with a mark after %d", entry, afterTakeOver)
	}
	first := entry.ConfirmedAt
	clk.Advance(time.Hour)
	if err := other.ConfirmSeen(ctx, "07", "55", 1, mark(t, a)); err != nil {
		t.Errorf("confirming again: %v", err)
	}
	if entry, _ := ledger(t, a, "07", "55"); !entry.ConfirmedAt.Equal(first) {
		t.Errorf("confirmed at %v, want the first confirmation, %v", entry.ConfirmedAt, first)
	}
	// Confirming a round the ledger entry is not at is a mistake to report,
	// not to pass over: the update would never count as confirmed.
	for _, ticket := range []string{"55", "56"} {
		if err := a.ConfirmSent(ctx, "07", ticket, 2); !errors.Is(err, lockworker.ErrConflict) {
			t.Errorf("ConfirmSent(ticket %s, round 2): %v, want ErrConflict", ticket, err)
		}
	}

	// The ticket's history holds every step.
	history, err := a.History(ctx, "07", "55")
	if err != nil {
		t.Fatal(err)
	}
	var events []string
	for _, e := range history {
		events = append(events, e.Event)
	}
	want := []string{lockworker.EventDecided, lockworker.EventSendFailed, lockworker.EventTakenOver, lockworker.EventConfirmed}
	if !slices.Equal(events, want) {
		t.Errorf("history = %q, want %q", events, want)
	}
	if d := history[0]; d.Comment == "" || d.Status != "Manuell hantering" || d.Outcome != lockworker.OutcomeManual || d.Round != 1 {
		t.Errorf("the decision in the history = %+v, want its status, outcome and comment", d)
	}
	if f := history[1]; f.Detail != "Easit answered 503" {
		t.Errorf("the failed attempt in the history = %+v, want why", f)
	}
}

// A view read before a decision never confirms it, even when it shows the
// decision's status: that status may be the ticket's state before it was
// re-opened.
func testConfirmSeen(t *testing.T, b backend) {
	s, clk := b.setup(t)
	ctx := t.Context()
	before := mark(t, s)
	record(t, s, manualOrder("07", "55", clk.Now()))
	if err := s.ConfirmSeen(ctx, "07", "55", 1, before); !errors.Is(err, lockworker.ErrStaleView) {
		t.Errorf("ConfirmSeen by a view read before the decision: %v, want ErrStaleView", err)
	}
	if entry, _ := ledger(t, s, "07", "55"); entry.Confirmed() {
		t.Error("a view read before the decision confirmed it")
	}
	if err := s.ConfirmSeen(ctx, "07", "55", 1, mark(t, s)); err != nil {
		t.Errorf("ConfirmSeen by a view read after the decision: %v", err)
	}
	if entry, _ := ledger(t, s, "07", "55"); !entry.Confirmed() {
		t.Error("a view read after the decision did not confirm it")
	}
}
