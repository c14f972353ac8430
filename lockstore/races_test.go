package lockstore_test

import (
	"errors"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/lockworker/lockworker"
	"github.com/lockworker/lockworker/lockstore"
)

// racers is how many stores, as if in as many processes, race on one
// database.
const racers = 8

// openRacers opens racers stores on one fresh database.
func openRacers(t *testing.T, b backend, clk *clock) []*lockstore.Store {
	dsn := b.freshDSN(t)
	stores := make([]*lockstore.Store, racers)
	for i := range stores {
		stores[i] = b.open(t, dsn, clk)
	}
	return stores
}

// race runs the attempts of racers racers at once and returns what each
// returned.
func race[T any](attempt func(i int) T) []T {
	results := make([]T, racers)
	ready := make(chan struct{})
	var wg sync.WaitGroup
	for i := range racers {
		wg.Go(func() {
			<-ready
			results[i] = attempt(i)
		})
	}
	close(ready)
	wg.Wait()
	return results
}

func testRecordRaces(t *testing.T, b backend) {
	tests := []struct {
		name    string
		prepare func(t *testing.T, s *lockstore.Store)
		// decide is racer i's decision, made when the person's active lock
		// was activeLock.
		decide          func(i int, activeLock int64) lockworker.Decision
		wantActiveLocks int64
	}{
		{
			name: "to decide one new ticket",
			decide: func(int, int64) lockworker.Decision {
				return lockOrder("55", anna, start)
			},
			wantActiveLocks: 1,
		},
		{
			name: "to lock one person on different tickets",
			decide: func(i int, _ int64) lockworker.Decision {
				return lockOrder(strconv.Itoa(60+i), anna, start)
			},
			wantActiveLocks: 1,
		},
		{
			name: "to decide one ticket afresh",
			prepare: func(t *testing.T, s *lockstore.Store) {
				record(t, s, manualOrder("07", "55", start))
				confirm(t, s, "07", "55", 1)
			},
			decide: func(int, int64) lockworker.Decision {
				d := lockOrder("55", anna, start.Add(time.Hour))
				d.Round = 1
				return d
			},
			wantActiveLocks: 1,
		},
		{
			name: "to lift one lock on different tickets",
			prepare: func(t *testing.T, s *lockstore.Store) {
				record(t, s, lockOrder("50", anna, start))
			},
			decide: func(i int, activeLock int64) lockworker.Decision {
				return unlockOrder(strconv.Itoa(60+i), anna, activeLock, start.Add(time.Hour))
			},
			wantActiveLocks: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			stores := openRacers(t, b, &clock{now: start})
			if tt.prepare != nil {
				tt.prepare(t, stores[0])
			}
			activeLock := activeLockID(t, stores[0], anna)
			trailBefore := len(audit(t, stores[0], lockworker.AuditFilter{}))

			errs := race(func(i int) error {
				return stores[i].Record(t.Context(), tt.decide(i, activeLock))
			})

			winners := 0
			for i, err := range errs {
				switch {
				case err == nil:
					winners++
				case !errors.Is(err, lockworker.ErrConflict):
					t.Errorf("racer %d: %v, want nil or ErrConflict", i, err)
				}
			}
			if winners != 1 {
				t.Errorf("%d racers won, want 1", winners)
			}
			if got := len(audit(t, stores[0], lockworker.AuditFilter{})) - trailBefore; got != 1 {
				t.Errorf("%d decisions audited, want 1", got)
			}
			if n, err := stores[0].CountActiveLocks(t.Context()); err != nil || n != tt.wantActiveLocks {
				t.Errorf("CountActiveLocks = %d, %v; want %d", n, err, tt.wantActiveLocks)
			}
		})
	}
}

func testClaimRace(t *testing.T, b backend) {
	clk := &clock{now: start}
	stores := openRacers(t, b, clk)
	record(t, stores[0], manualOrder("07", "55", start))
	// The recorder failed to send the update, and gave its claim back.
	if err := stores[0].ReleaseUpdate(t.Context(), "07", "55", 1, "Easit answered 503"); err != nil {
		t.Fatal(err)
	}
	seen, err := stores[0].Mark(t.Context())
	if err != nil {
		t.Fatal(err)
	}

	type result struct {
		claim lockworker.Claim
		err   error
	}
	results := race(func(i int) result {
		claim, err := stores[i].ClaimUpdate(t.Context(), "07", "55", 1, seen)
		return result{claim, err}
	})

	claims := 0
	for i, r := range results {
		switch {
		case r.err != nil:
			t.Errorf("racer %d: %v", i, r.err)
		case r.claim == lockworker.ClaimTaken:
			claims++
		case r.claim != lockworker.ClaimBusy:
			t.Errorf("racer %d: claim %d, want taken or busy", i, r.claim)
		}
	}
	if claims != 1 {
		t.Errorf("%d racers claimed the update, want 1", claims)
	}
}

func testOpenRace(t *testing.T, b backend) {
	dsn := b.freshDSN(t)
	// As many stores as processes starting at once, on an empty database:
	// they must not trip over each other creating its schema.
	stores := make([]*lockstore.Store, racers)
	errs := race(func(i int) error {
		s, err := lockstore.Open(t.Context(), b.driver, dsn, lockstore.Options{})
		stores[i] = s
		return err
	})
	for i, err := range errs {
		if err != nil {
			t.Errorf("store %d: Open: %v", i, err)
			continue
		}
		if err := stores[i].Close(); err != nil {
			t.Errorf("store %d: Close: %v", i, err)
		}
	}
}
