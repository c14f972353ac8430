package lockstore_test

import (
	"errors"
	"testing"
	"time"

	"github.com/lockworker/lockworker"
)

func testClaims(t *testing.T, b backend) {
	s, clk := b.setup(t)
	// Recording the decision gives the recorder the claim for a lease.
	record(t, s, manualOrder("07", "55", clk.Now()))

	claim := func(ticket string, round int) func() (bool, error) {
		return func() (bool, error) { return s.ClaimUpdate(t.Context(), "07", ticket, round, clk.Now()) }
	}
	// claimSeenBefore claims as a process that saw the ticket d ago.
	claimSeenBefore := func(d time.Duration) func() (bool, error) {
		return func() (bool, error) { return s.ClaimUpdate(t.Context(), "07", "55", 1, clk.Now().Add(-d)) }
	}
	release := func(round int) func() (bool, error) {
		return func() (bool, error) { return false, s.ReleaseUpdate(t.Context(), "07", "55", round) }
	}
	confirmed := func(round int) func() (bool, error) {
		return func() (bool, error) { return false, s.ConfirmUpdate(t.Context(), "07", "55", round) }
	}
	// Each step builds on the ones before, at the clock advanced by advance.
	steps := []struct {
		name        string
		advance     time.Duration
		do          func() (bool, error)
		wantClaimed bool
	}{
		{"the recorder holds the claim", 0, claim("55", 1), false},
		{"for as long as its lease runs", lease - time.Second, claim("55", 1), false},
		{"after the lease another process may claim it", time.Second, claim("55", 1), true},
		{"and then holds it alone", 0, claim("55", 1), false},
		{"a process gives its claim back", time.Second, release(1), false},
		{"one who saw the ticket before that may not claim it", 0, claimSeenBefore(time.Millisecond), false},
		{"but the update may be claimed again at once", 0, claim("55", 1), true},
		{"releasing another round gives nothing back", 0, release(2), false},
		{"so the claim is still held", 0, claim("55", 1), false},
		{"no other round can be claimed", lease, claim("55", 2), false},
		{"nor an unknown ticket", 0, claim("56", 1), false},
		{"the update is confirmed", 0, confirmed(1), false},
		{"a confirmed update cannot be claimed", 0, claim("55", 1), false},
		{"releasing it gives nothing back", 0, release(1), false},
		{"and still it cannot be claimed", 0, claim("55", 1), false},
		{"confirming again is harmless", time.Hour, confirmed(1), false},
	}
	for _, step := range steps {
		clk.Advance(step.advance)
		claimed, err := step.do()
		if err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if claimed != step.wantClaimed {
			t.Errorf("%s: claimed = %v, want %v", step.name, claimed, step.wantClaimed)
		}
	}

	// The last step confirmed again an hour after the first confirmation.
	entry, _ := ledger(t, s, "07", "55")
	if first := clk.Now().Add(-time.Hour); !entry.ConfirmedAt.Equal(first) {
		t.Errorf("confirmed at %v, want the first confirmation, %v", entry.ConfirmedAt, first)
	}

	// Confirming a round the ledger entry is not at is a mistake to report,
	// not to pass over: the update would never count as confirmed.
	for _, ticket := range []string{"55", "56"} {
		if err := s.ConfirmUpdate(t.Context(), "07", ticket, 2); !errors.Is(err, lockworker.ErrConflict) {
			t.Errorf("ConfirmUpdate(ticket %s, round 2): %v, want ErrConflict", ticket, err)
		}
	}
}
