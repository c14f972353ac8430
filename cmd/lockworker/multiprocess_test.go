package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/lockworker/lockworker"
	"github.com/lockworker/lockworker/easit"
	"github.com/lockworker/lockworker/easit/easittest"
	"github.com/lockworker/lockworker/internal/skatteverket"
	"github.com/lockworker/lockworker/lockstore/lockstoretest"
)

// multiOrders is how many orders each of the two regions holds.
const multiOrders = 100

// multiInvalid is what the orders that give no valid personnummer give.
const multiInvalid = "personnummer saknas"

// Several lockworker processes started at the same moment on one lock
// store, over the same regions, carry out every order exactly once: each
// ticket is updated in Easit once, with one comment, each decision is in
// the audit trail once, and each lock order gives one lock. On PostgreSQL,
// the production database, with three processes; on one SQLite file, which
// the store opens with WAL, busy_timeout and BEGIN IMMEDIATE, with two.
func TestMultiProcessSync(t *testing.T) {
	bin := builtBinary(t)
	t.Parallel()
	tests := []struct {
		driver    string
		dsn       func(testing.TB) string
		processes int
	}{
		{"postgres", lockstoretest.PostgresDSN, 3},
		{"sqlite", lockstoretest.SQLiteDSN, 2},
	}
	for _, tt := range tests {
		t.Run(tt.driver, func(t *testing.T) {
			t.Parallel()
			e := crashSetup(t, tt.driver, tt.dsn(t))
			// Each process keeps to its own rate limit; ten requests a
			// second to each Easit would make the test wait for nothing.
			e.editConfig("\nlimits:\n", "\nlimits:\n  easit_requests_per_second: 200\n")
			seeds, orders := multiPlan(multiNumbers(t))
			var accounts []string
			for _, o := range append(seeds, orders...) {
				if o.account {
					accounts = append(accounts, o.number)
				}
			}
			e.accounts(accounts...)

			// The locks that the unlock orders lift, and that some lock
			// orders find in place, come from a pass of their own before.
			for _, o := range seeds {
				e.order(o.region, o.ticket, o.kind, o.number)
			}
			e.sync()
			for _, o := range orders {
				e.order(o.region, o.ticket, o.kind, o.number)
			}

			// The processes start one right after another, and each
			// region's Easit holds their first reads of its view until all
			// have come (see multiBarrier), so that they decide its orders
			// at the same moment.
			started := time.Now()
			rounds := 0
			var decided []int       // the orders each pass decided, in the order run
			var firstRound []string // the passes of the first round
			for {
				rounds++
				for _, r := range e.regions {
					r.easit.SetFault(multiBarrier(tt.processes))
				}
				procs := make([]*crashProcess, tt.processes)
				for i := range procs {
					procs[i] = crashStart(t, e, bin, "sync", "--json")
				}
				for i, p := range procs {
					res := p.wait(time.Minute)
					if res.code != exitOK {
						t.Errorf("round %d, process %d: lockworker sync = %d, want 0; stderr:\n%s", rounds, i+1, res.code, res.stderr)
					}
					sum := parseSummary(t, res.stdout)
					if rounds == 1 {
						firstRound = append(firstRound, sum.Pass)
					}
					n := 0
					for _, r := range sum.Regions {
						for _, o := range r.Orders {
							if o.Action == "decided" {
								n++
							}
						}
					}
					decided = append(decided, n)
				}
				left := multiOpen(e, orders)
				if len(left) == 0 {
					break
				}
				// A process waits for a claim another holds, and reads a
				// view again that is older than a step recorded on one of
				// its tickets: one round does everything.
				t.Fatalf("%d orders still open after a round of %d processes: %q", len(left), tt.processes, left)
			}
			wall := time.Since(started)

			together := multiTogether(t, e, firstRound)
			duplicates, lost := multiCheck(t, e, seeds, orders)
			t.Logf("%s: %d processes, %d orders, %d rounds (%d passes), %d duplicates, %d lost, %s in all; "+
				"the first round's passes ran together for %s; orders decided by each pass: %v",
				tt.driver, tt.processes, len(orders), rounds, rounds*tt.processes, duplicates, lost, wall.Round(time.Millisecond),
				together.Round(time.Millisecond), decided)
		})
	}
}

// multiBarrier returns a fault function for a fake Easit that holds the
// first reads of its view (page 1) until n have come, so that n processes
// started together decide the view's orders at the same moment. Should one
// be late, a read is held no longer than 1.5s after the first came, within
// the Easit timeout of the test (crashEasitTimeout), so that none times out.
func multiBarrier(n int) func(easittest.Call) *easittest.Fault {
	var mu gosync.Mutex
	arrived := 0
	release := make(chan struct{})
	open := gosync.OnceFunc(func() { close(release) })
	return func(c easittest.Call) *easittest.Fault {
		if c.Op != easit.OpList || c.Page > 1 {
			return nil
		}
		mu.Lock()
		arrived++
		if arrived == 1 {
			time.AfterFunc(1500*time.Millisecond, open)
		}
		if arrived == n {
			open()
		}
		mu.Unlock()
		<-release
		return nil
	}
}

// multiTogether returns how long the passes all ran at once, from the
// last one's start to the first one's end, as the lock store recorded them;
// the test fails if they did not run at once at all, since then it tested
// nothing of their running together.
func multiTogether(t *testing.T, e *env, passes []string) time.Duration {
	t.Helper()
	records, err := crashStore(t, e).Passes(t.Context(), 0)
	if err != nil {
		t.Fatalf("read the passes: %v", err)
	}
	var lastStart, firstEnd time.Time
	found := 0
	for _, p := range records {
		if !slices.Contains(passes, p.ID) {
			continue
		}
		found++
		if lastStart.IsZero() || p.StartedAt.After(lastStart) {
			lastStart = p.StartedAt
		}
		if firstEnd.IsZero() || p.FinishedAt.Before(firstEnd) {
			firstEnd = p.FinishedAt
		}
	}
	if found != len(passes) {
		t.Fatalf("the lock store recorded %d of the passes %q", found, passes)
	}
	together := firstEnd.Sub(lastStart)
	if together <= 0 {
		t.Errorf("the passes %q did not run at once: the last started %s after the first finished", passes, -together)
	}
	return together
}

// multiOrder is an order of the test and what must become of it.
type multiOrder struct {
	region, ticket, kind, number string
	// account is whether the person has an existing 1177 account.
	account bool

	status  string
	outcome lockworker.Outcome
	reason  lockworker.Reason
	// history is the person's locks at the end, oldest first, each as
	// the region and ticket that made it ("07/1001"), and for a lifted one
	// those that lifted it ("07/3 lifted by 07/1005"); "" for none.
	history string
}

// multiPlan lays out multiOrders orders in each region, every person in
// one order only, so that the outcome of each is known whatever order the
// processes take them in; and the seeds, the lock orders carried out before
// them, which lock the people that some of the orders find locked.
func multiPlan(numbers []string) (seeds, orders []multiOrder) {
	next := func() string {
		n := numbers[0]
		numbers = numbers[1:]
		return n
	}
	// seed adds a lock order for number in a region and returns its
	// ticket as a history names it.
	seed := func(region, number string) string {
		ticket := strconv.Itoa(len(seeds) + 1) // below the orders' numbers in both regions
		seeds = append(seeds, multiOrder{region: region, ticket: ticket, kind: lockKind, number: number, account: true,
			status: resolved, outcome: lockworker.OutcomeResolved})
		return region + "/" + ticket
	}
	regions := []string{"07", "12"}
	for ri, region := range regions {
		other := regions[1-ri]
		for i := range multiOrders {
			o := multiOrder{region: region, ticket: strconv.Itoa(1001 + i), number: next(), account: true, status: resolved}
			here := region + "/" + o.ticket
			switch i % 10 {
			case 0, 1, 2, 3:
				o.kind, o.outcome, o.history = lockKind, lockworker.OutcomeResolved, here
			case 4: // locked already
				o.kind, o.outcome, o.history = lockKind, lockworker.OutcomeNoop, seed(region, o.number)
			case 5:
				o.kind, o.outcome, o.history = unlockKind, lockworker.OutcomeResolved, seed(region, o.number)+" lifted by "+here
			case 6: // not locked
				o.kind, o.outcome = unlockKind, lockworker.OutcomeNoop
			case 7:
				o.kind, o.account = lockKind, false
				o.status, o.outcome, o.reason = manual, lockworker.OutcomeManual, lockworker.ReasonNoAccount
			case 8:
				o.kind, o.number, o.account = lockKind, multiInvalid, false
				o.status, o.outcome, o.reason = manual, lockworker.OutcomeManual, lockworker.ReasonInvalidPersonnummer
			case 9: // locked at the other region's request
				o.kind, o.history = unlockKind, seed(other, o.number)
				o.status, o.outcome, o.reason = manual, lockworker.OutcomeManual, lockworker.ReasonUnlockWrongRegion
			}
			orders = append(orders, o)
		}
	}
	return seeds, orders
}

// multiNumbers reads Skatteverket's test personnummer and keeps every
// hundredth, so that the people range from over 100 to under 13 years old.
func multiNumbers(t *testing.T) []string {
	t.Helper()
	var numbers []string
	for i, n := range skatteverket.Personnummer() {
		if i%100 == 0 {
			numbers = append(numbers, n)
		}
	}
	if len(numbers) < 2*multiOrders {
		t.Fatalf("%d test personnummer kept, want at least %d", len(numbers), 2*multiOrders)
	}
	return numbers
}

// multiOpen returns the orders whose tickets are still open, as "07/1001".
func multiOpen(e *env, orders []multiOrder) []string {
	var left []string
	for _, o := range orders {
		if e.region(o.region).easit.Status(o.ticket) == open {
			left = append(left, o.region+"/"+o.ticket)
		}
	}
	return left
}

// multiCheck checks what became of every order and seed, and returns how
// many were carried out more than once (a second update, comment, audit
// entry or lock) and how many were lost (a ticket not updated, or not left
// in the status that its order implies).
func multiCheck(t *testing.T, e *env, seeds, orders []multiOrder) (duplicates, lost int) {
	t.Helper()
	store := crashStore(t, e)
	entries, err := store.Audit(t.Context(), lockworker.AuditFilter{})
	if err != nil {
		t.Fatalf("read the audit trail: %v", err)
	}
	audit := map[string][]lockworker.AuditEntry{}
	for _, a := range entries {
		audit[a.Region+"/"+a.Ticket] = append(audit[a.Region+"/"+a.Ticket], a)
	}
	if want := len(seeds) + len(orders); len(entries) != want {
		t.Errorf("the audit trail holds %d decisions, want %d: one per ticket", len(entries), want)
	}

	for _, o := range append(seeds, orders...) {
		id := o.region + "/" + o.ticket
		fake := e.region(o.region).easit
		status, updates, comments := fake.Status(o.ticket), fake.Updates(o.ticket), len(fake.Comments(o.ticket))
		decisions := audit[id]
		if updates > 1 || comments > 1 || len(decisions) > 1 {
			duplicates++
		}
		if updates == 0 || status != o.status {
			lost++
		}
		if status != o.status || updates != 1 || comments != 1 {
			t.Errorf("ticket %s in Easit: status %q, %d updates, %d comments; want %q, one update and one comment", id, status, updates, comments, o.status)
		}
		want := fmt.Sprintf("[%s %s %s]", multiKinds[o.kind], o.outcome, o.reason)
		if got := multiDecisions(decisions); got != want {
			t.Errorf("the audit trail holds %s for ticket %s, want %s", got, id, want)
		}
	}

	// Every person is in one order only, so the locks each holds are known.
	active := 0
	for _, o := range orders {
		if o.number == multiInvalid {
			continue
		}
		pn, err := lockworker.ParsePersonnummer(o.number, time.Now())
		if err != nil {
			t.Fatalf("a test number does not parse: %v", err)
		}
		locks, err := store.Locks(t.Context(), pn)
		if err != nil {
			t.Fatalf("read the locks: %v", err)
		}
		var history []string
		for _, l := range locks {
			h := l.Region + "/" + l.Ticket
			if !l.Active() {
				h += " lifted by " + l.LiftedRegion + "/" + l.LiftedTicket
			}
			history = append(history, h)
		}
		if got := strings.Join(history, "; "); got != o.history {
			t.Errorf("the person of ticket %s/%s has the locks %q, want %q", o.region, o.ticket, got, o.history)
		}
		if o.history != "" {
			duplicates += max(len(locks)-1, 0)
			if !strings.Contains(o.history, "lifted") {
				active++
			}
		}
	}
	if n, err := store.CountActiveLocks(t.Context()); err != nil || n != int64(active) {
		t.Errorf("the lock store holds %d active locks (%v), want %d", n, err, active)
	}
	return duplicates, lost
}

// multiKinds are the kinds of order by the name Easit gives them.
var multiKinds = map[string]lockworker.Kind{lockKind: lockworker.KindLock, unlockKind: lockworker.KindUnlock}

// multiDecisions gives audit entries as "[kind outcome reason]" each.
func multiDecisions(entries []lockworker.AuditEntry) string {
	var b strings.Builder
	for _, a := range entries {
		fmt.Fprintf(&b, "[%s %s %s]", a.Kind, a.Outcome, a.Reason)
	}
	return b.String()
}
