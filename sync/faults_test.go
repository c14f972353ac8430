package sync_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	gosync "sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lockworker/lockworker"
	"github.com/lockworker/lockworker/cosmic/cosmictest"
	"github.com/lockworker/lockworker/easit"
	"github.com/lockworker/lockworker/easit/easittest"
	"github.com/lockworker/lockworker/sync"
)

// The fault matrix. Each test puts orders through a real pass while one
// outside system fails in one way, checks what the ticket, the lock store and
// the audit trail hold right after, removes the fault, and checks that the
// next pass, two minutes later as the schedule would run it, carries every
// order out exactly once, and that a further pass changes nothing. Each test
// logs its figures as a "matrix:" line (go test -v -run Matrix).
//
// Rows that tests elsewhere cover: an update answered 5xx, dropped, or
// answered Exception for the item (TestAFailedUpdateIsSentOnceMoreAndNeverAppliedAgain),
// an update that arrived despite an error (TestAnUpdateThatArrivedDespiteAnErrorIsConfirmedNotResent),
// a region that cannot be read at all (TestARegionThatCannotBeReadDoesNotStopTheOthers),
// one form failing (TestAFormServiceFailureIsRetriedNextPass), and a pass
// asked to stop (TestAStoppingPassStartsNoMoreOrders).

// placed is an order placed in the test world: a lock order of a person who
// has an account, one person per order.
type placed struct{ code, ticket, pnr string }

// place registers a valid lock order of ticket in the region for pnr, and
// pnr's account.
func (w *world) place(code, ticket, pnr string) placed {
	w.t.Helper()
	w.accounts(pnr)
	w.add(code, w.lockOrder(code, ticket, pnr))
	return placed{code: code, ticket: ticket, pnr: pnr}
}

// placeAll places an order for each of the people in the region, their
// tickets numbered from first.
func (w *world) placeAll(code string, first int, people []string) []placed {
	w.t.Helper()
	var orders []placed
	for i, pnr := range people {
		orders = append(orders, w.place(code, strconv.Itoa(first+i), pnr))
	}
	return orders
}

// ledgerState is how far the ledger has got with a ticket.
type ledgerState string

const (
	ledgerNone      ledgerState = "none"      // never decided
	ledgerPending   ledgerState = "pending"   // decided; the ticket update not confirmed
	ledgerConfirmed ledgerState = "confirmed" // decided and the update confirmed
)

// orderState is what the world holds of one order: its ticket in Easit, the
// person's locks, and the lock store's ledger and audit trail.
type orderState struct {
	Status   string
	Updates  int // imports Easit carried out on the ticket
	Comments int
	Locks    int // locks the person has ever had
	Audit    int // audit entries of the ticket
	Ledger   ledgerState
}

// The states an order passes through: as registered; decided and applied
// but the ticket not told; the ticket told but the telling not confirmed;
// and done.
var (
	untouched = orderState{Status: statuses.Open, Ledger: ledgerNone}
	recorded  = orderState{Status: statuses.Open, Locks: 1, Audit: 1, Ledger: ledgerPending}
	told      = orderState{Status: statuses.Resolved, Updates: 1, Comments: 1, Locks: 1, Audit: 1, Ledger: ledgerPending}
	done      = orderState{Status: statuses.Resolved, Updates: 1, Comments: 1, Locks: 1, Audit: 1, Ledger: ledgerConfirmed}
)

func (w *world) state(o placed) orderState {
	w.t.Helper()
	e := w.regions[o.code].easit
	s := orderState{
		Status:   e.Status(o.ticket),
		Updates:  e.Updates(o.ticket),
		Comments: len(e.Comments(o.ticket)),
		Locks:    len(w.history(o.pnr)),
		Audit:    len(w.audit(lockworker.AuditFilter{Region: o.code, Ticket: o.ticket})),
		Ledger:   ledgerNone,
	}
	entry, found, err := w.store.Ledger(context.Background(), o.code, o.ticket)
	switch {
	case err != nil:
		w.t.Fatal(err)
	case found && entry.Confirmed():
		s.Ledger = ledgerConfirmed
	case found:
		s.Ledger = ledgerPending
	}
	return s
}

// expectState checks that each order is in the state want.
func (w *world) expectState(want orderState, orders ...placed) {
	w.t.Helper()
	for _, o := range orders {
		if got := w.state(o); got != want {
			w.t.Errorf("ticket %s/%s: %+v, want %+v", o.code, o.ticket, got, want)
		}
	}
}

// expectResults checks what a pass did with each order.
func expectResults(t *testing.T, sum sync.Summary, outcome lockworker.Outcome, reason lockworker.Reason, action sync.Action, orders ...placed) {
	t.Helper()
	for _, o := range orders {
		res := result(t, sum, o.code, o.ticket)
		if res.Outcome != outcome || res.Reason != reason || res.Action != action {
			t.Errorf("ticket %s/%s: %s %s %s, want %s %s %s (%s)", o.code, o.ticket,
				res.Outcome, res.Reason, res.Action, outcome, reason, action, res.Error)
		}
	}
}

// nextPass runs the pass after a fault, two minutes later, as the schedule
// would.
func (w *world) nextPass() sync.Summary {
	w.t.Helper()
	w.clock.Advance(2 * time.Minute)
	return w.pass()
}

// rests checks that a further pass leaves the orders as they are and does
// not act on them.
func (w *world) rests(orders ...placed) {
	w.t.Helper()
	before := make([]orderState, len(orders))
	for i, o := range orders {
		before[i] = w.state(o)
	}
	sum := w.nextPass()
	for i, o := range orders {
		if got := w.state(o); got != before[i] {
			w.t.Errorf("a further pass changed ticket %s/%s: %+v, then %+v", o.code, o.ticket, before[i], got)
		}
		for _, r := range sum.Regions {
			for _, res := range r.Orders {
				if r.Code == o.code && res.Ticket == o.ticket {
					w.t.Errorf("a further pass acted on ticket %s/%s: %+v", o.code, o.ticket, res)
				}
			}
		}
	}
}

// tally checks that every order was carried out exactly once: it counts the
// duplicates (an Easit update, a comment, a lock or an audit entry beyond the
// one each order should have) and the orders lost (not carried out), logs the
// row's figures, and fails the test unless both are 0.
func (w *world) tally(orders ...placed) {
	w.t.Helper()
	duplicates, lost := 0, 0
	for _, o := range orders {
		s := w.state(o)
		duplicates += max(s.Updates-1, 0) + max(s.Comments-1, 0) + max(s.Locks-1, 0) + max(s.Audit-1, 0)
		if s.Status != statuses.Resolved || s.Ledger != ledgerConfirmed || s.Comments == 0 || s.Locks == 0 || s.Audit == 0 {
			lost++
		}
	}
	w.t.Logf("matrix: %s: %d orders, %d duplicates, %d lost", w.t.Name(), len(orders), duplicates, lost)
	if duplicates != 0 || lost != 0 {
		w.t.Errorf("%d duplicates and %d orders lost, want none", duplicates, lost)
	}
}

// heldAnswers is an HTTP transport for the Easit client that, while holding,
// lets each import reach Easit and be carried out but holds its answer back
// until the client gives up (its timeout, or its caller's context): an answer
// lost on the way back, so that the update took effect and lockworker cannot
// know it.
type heldAnswers struct {
	holding atomic.Bool
	held    chan struct{} // receives when an answer is held back, if no earlier one waits
}

func newHeldAnswers() *heldAnswers { return &heldAnswers{held: make(chan struct{}, 1)} }

func (h *heldAnswers) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := http.DefaultTransport.RoundTrip(req)
	if err != nil || req.Method != http.MethodPost || !h.holding.Load() {
		return resp, err
	}
	resp.Body.Close()
	select {
	case h.held <- struct{}{}:
	default:
	}
	<-req.Context().Done()
	return nil, context.Cause(req.Context())
}

// shortEasitTimeout is the Easit timeout of the worlds whose updates time
// out, so that the tests need not wait the world's usual 2 seconds.
const shortEasitTimeout = 200 * time.Millisecond

func TestTheMatrixAnEasitUpdateThatFails(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		fault easittest.Fault
		// hold holds the answers to imports back instead.
		hold bool
		// after is the state right after the fault; next the action of
		// the pass that follows.
		after orderState
		next  sync.Action
	}{
		{
			name:  "Skipped for the item: not carried out, sent again",
			fault: easittest.Fault{ItemResult: "Skipped", Body: "Ärendet är låst för ändring av en annan användare"},
			after: recorded, next: sync.ActionResent,
		},
		{
			name:  "a timeout before the update arrived: sent again",
			fault: easittest.Fault{Delay: 10 * shortEasitTimeout},
			after: recorded, next: sync.ActionResent,
		},
		{
			name: "a timeout after the update arrived: confirmed, not sent again",
			hold: true,
			// The ticket is resolved in Easit, but the ledger does not know it.
			after: told, next: sync.ActionConfirmed,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			held := newHeldAnswers()
			w := setupVariant(t, variant{easitOptions: []easit.Option{
				easit.WithTimeout(shortEasitTimeout), easit.WithHTTPClient(&http.Client{Transport: held}),
			}})
			o := w.place("07", "55", adult)
			e := w.regions["07"].easit
			if tt.hold {
				held.holding.Store(true)
			} else {
				e.SetFault(failImports(tt.fault))
			}

			expectResults(t, w.pass(), lockworker.OutcomeError, lockworker.ReasonEasitError, sync.ActionNone, o)
			w.expectState(tt.after, o)

			held.holding.Store(false)
			e.SetFault(nil)
			expectResults(t, w.nextPass(), lockworker.OutcomeResolved, lockworker.ReasonNone, tt.next, o)
			w.expectState(done, o)
			w.rests(o)
			w.tally(o)
		})
	}
}

func TestTheMatrixAListThatFailsOnPage2Of3(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// fails says how often page 2 fails before Easit answers it.
		fails int
		// readFails is whether region 07 reads as failed.
		readFails bool
	}{
		{"for longer than the read budget: the region fails, its first page is decided", 1 << 30, true},
		{"once: the read is retried within its budget", 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Pages of 2: six orders make three pages.
			w := setupVariant(t, variant{easitPageSize: 2})
			people := testNumbers(t, 7)
			kronoberg := w.placeAll("07", 55, people[:6])
			skane := w.place("12", "101", people[6])
			e := w.regions["07"].easit
			var page2 atomic.Int64
			e.SetFault(func(c easittest.Call) *easittest.Fault {
				if c.Op == easit.OpList && c.Page == 2 && page2.Add(1) <= int64(tt.fails) {
					return &easittest.Fault{Status: http.StatusServiceUnavailable, Body: "Service Unavailable"}
				}
				return nil
			})

			sum := w.pass()

			expectResults(t, sum, lockworker.OutcomeResolved, lockworker.ReasonNone, sync.ActionDecided, skane)
			w.expectState(done, skane)
			if !tt.readFails {
				if failed := sum.FailedRegions(); len(failed) != 0 {
					t.Fatalf("failed regions = %v, want none", failed)
				}
				expectResults(t, sum, lockworker.OutcomeResolved, lockworker.ReasonNone, sync.ActionDecided, kronoberg...)
				w.expectState(done, kronoberg...)
				w.rests(append(kronoberg, skane)...)
				w.tally(append(kronoberg, skane)...)
				return
			}

			if failed := sum.FailedRegions(); len(failed) != 1 || failed[0] != "07" {
				t.Errorf("failed regions = %v, want [07]", failed)
			}
			// The orders of page 1 were handled as it came, each on its own
			// ticket; those of pages 2 and 3 wait for the next pass.
			firstPage, rest := kronoberg[:2], kronoberg[2:]
			expectResults(t, sum, lockworker.OutcomeResolved, lockworker.ReasonNone, sync.ActionDecided, firstPage...)
			if n := len(sum.Regions[0].Orders); n != len(firstPage) {
				t.Errorf("the failed region reports %d orders, want the %d of its first page", n, len(firstPage))
			}
			w.expectState(done, firstPage...)
			w.expectState(untouched, rest...)
			var pages []int
			for _, c := range e.Calls() {
				if c.Op == easit.OpList {
					pages = append(pages, c.Page)
				}
			}
			if slices.Contains(pages, 3) || slices.Index(pages, 2) != 1 || len(pages) < 3 {
				t.Errorf("pages read = %v, want page 1, then page 2 retried, and never page 3", pages)
			}

			e.SetFault(nil)
			sum = w.nextPass()
			expectResults(t, sum, lockworker.OutcomeResolved, lockworker.ReasonNone, sync.ActionDecided, rest...)
			w.expectState(done, kronoberg...)
			w.rests(append(kronoberg, skane)...)
			w.tally(append(kronoberg, skane)...)
		})
	}
}

func TestTheMatrixAFormServiceDownOrSlow(t *testing.T) {
	t.Parallel()
	// The world's form client gives up a read after its budget of 1s; the
	// slow answer that must be waited for gets an ample budget instead, so
	// that a busy machine cannot make it run out.
	tests := []struct {
		name    string
		variant variant
		fault   cosmictest.Fault
		// fails is whether the pass gives the order the error outcome.
		fails bool
	}{
		{"every call answered 503", variant{}, cosmictest.Fault{Status: http.StatusServiceUnavailable}, true},
		{"every connection dropped", variant{}, cosmictest.Fault{Drop: true}, true},
		{"slower than the read budget", variant{}, cosmictest.Fault{Delay: 1500 * time.Millisecond}, true},
		{"slow within the read budget: the order is still resolved", ampleTime, cosmictest.Fault{Delay: 1500 * time.Millisecond}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := setupVariant(t, tt.variant)
			o := w.place("07", "55", adult)
			forms := w.regions["07"].forms
			forms.SetFault(func(cosmictest.Call) *cosmictest.Fault { return &tt.fault })

			sum := w.pass()

			if !tt.fails {
				expectResults(t, sum, lockworker.OutcomeResolved, lockworker.ReasonNone, sync.ActionDecided, o)
				w.expectState(done, o)
				w.rests(o)
				w.tally(o)
				return
			}
			expectResults(t, sum, lockworker.OutcomeError, lockworker.ReasonFormsError, sync.ActionNone, o)
			w.expectState(untouched, o)

			forms.SetFault(nil)
			expectResults(t, w.nextPass(), lockworker.OutcomeResolved, lockworker.ReasonNone, sync.ActionDecided, o)
			w.expectState(done, o)
			w.rests(o)
			w.tally(o)
		})
	}
}

// storeFault is how a faultyStore fails a call.
type storeFault int

const (
	// unreachable fails the call without reaching the database.
	unreachable storeFault = iota + 1
	// lostAnswer makes the call, then fails it: what it did is done, and
	// the caller cannot know. After Record, the store is as a process that
	// died just after the commit leaves it.
	lostAnswer
)

var (
	errUnreachable = errors.New("dial tcp 10.0.0.5:5432: connect: connection refused")
	errLostAnswer  = errors.New("read tcp 10.0.0.5:5432: connection reset by peer")
)

// faultyStore is the real lock store with chosen methods failing on demand.
type faultyStore struct {
	sync.Store

	mu     gosync.Mutex
	faults map[string]storeFault // by method name
}

func newFaultyStore(s sync.Store) *faultyStore {
	return &faultyStore{Store: s, faults: map[string]storeFault{}}
}

// fail has method fail as f from now on.
func (s *faultyStore) fail(method string, f storeFault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults[method] = f
}

// heal ends every fault.
func (s *faultyStore) heal() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.faults)
}

// call makes the call do, or fails it as the method's fault says.
func (s *faultyStore) call(method string, do func() error) error {
	s.mu.Lock()
	f := s.faults[method]
	s.mu.Unlock()
	switch f {
	case unreachable:
		return fmt.Errorf("%s: %w", method, errUnreachable)
	case lostAnswer:
		if err := do(); err != nil {
			return err
		}
		return fmt.Errorf("%s: %w", method, errLostAnswer)
	}
	return do()
}

func (s *faultyStore) HasAccount(ctx context.Context, p lockworker.Personnummer) (has bool, err error) {
	err = s.call("HasAccount", func() (err error) {
		has, err = s.Store.HasAccount(ctx, p)
		return err
	})
	return has, err
}

func (s *faultyStore) ActiveLock(ctx context.Context, p lockworker.Personnummer) (l lockworker.Lock, found bool, err error) {
	err = s.call("ActiveLock", func() (err error) {
		l, found, err = s.Store.ActiveLock(ctx, p)
		return err
	})
	return l, found, err
}

func (s *faultyStore) Ledger(ctx context.Context, region, ticket string) (e lockworker.LedgerEntry, found bool, err error) {
	err = s.call("Ledger", func() (err error) {
		e, found, err = s.Store.Ledger(ctx, region, ticket)
		return err
	})
	return e, found, err
}

func (s *faultyStore) Record(ctx context.Context, d lockworker.Decision) error {
	return s.call("Record", func() error { return s.Store.Record(ctx, d) })
}

func (s *faultyStore) Mark(ctx context.Context) (m lockworker.Mark, err error) {
	err = s.call("Mark", func() (err error) {
		m, err = s.Store.Mark(ctx)
		return err
	})
	return m, err
}

func (s *faultyStore) ClaimUpdate(ctx context.Context, region, ticket string, round int, seen lockworker.Mark) (claim lockworker.Claim, err error) {
	err = s.call("ClaimUpdate", func() (err error) {
		claim, err = s.Store.ClaimUpdate(ctx, region, ticket, round, seen)
		return err
	})
	return claim, err
}

func (s *faultyStore) RenewUpdate(ctx context.Context, region, ticket string, round int) (renewed bool, err error) {
	err = s.call("RenewUpdate", func() (err error) {
		renewed, err = s.Store.RenewUpdate(ctx, region, ticket, round)
		return err
	})
	return renewed, err
}

func (s *faultyStore) ReleaseUpdate(ctx context.Context, region, ticket string, round int, why string) error {
	return s.call("ReleaseUpdate", func() error { return s.Store.ReleaseUpdate(ctx, region, ticket, round, why) })
}

func (s *faultyStore) ConfirmSentAll(ctx context.Context, region string, updates []lockworker.UpdateRef) []error {
	var errs []error
	err := s.call("ConfirmSent", func() error {
		errs = s.Store.ConfirmSentAll(ctx, region, updates)
		return errors.Join(errs...)
	})
	if err == nil {
		return errs
	}
	// The fault fails every update of the batch.
	errs = make([]error, len(updates))
	for i := range errs {
		errs[i] = err
	}
	return errs
}

func (s *faultyStore) ConfirmSeen(ctx context.Context, region, ticket string, round int, seen lockworker.Mark) error {
	return s.call("ConfirmSeen", func() error { return s.Store.ConfirmSeen(ctx, region, ticket, round, seen) })
}

func (s *faultyStore) RecordPass(ctx context.Context, p lockworker.PassRecord) error {
	return s.call("RecordPass", func() error { return s.Store.RecordPass(ctx, p) })
}

func TestTheMatrixALockStoreThatFails(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		method string
		// outcome, reason and after are of the pass with the fault; next
		// is the action of the pass that follows.
		outcome lockworker.Outcome
		reason  lockworker.Reason
		after   orderState
		next    sync.Action
	}{
		{"reading the ledger: nothing written anywhere", "Ledger",
			lockworker.OutcomeError, lockworker.ReasonLockStoreError, untouched, sync.ActionDecided},
		{"reading the lock: nothing written anywhere", "ActiveLock",
			lockworker.OutcomeError, lockworker.ReasonLockStoreError, untouched, sync.ActionDecided},
		{"reading the account: nothing written anywhere", "HasAccount",
			lockworker.OutcomeError, lockworker.ReasonLockStoreError, untouched, sync.ActionDecided},
		{"recording the decision: nothing written anywhere", "Record",
			lockworker.OutcomeError, lockworker.ReasonLockStoreError, untouched, sync.ActionDecided},
		{"confirming the update: the ticket is resolved, and read back next pass", "ConfirmSent",
			lockworker.OutcomeError, lockworker.ReasonLockStoreError, told, sync.ActionConfirmed},
		{"recording the pass: the orders are done all the same", "RecordPass",
			lockworker.OutcomeResolved, lockworker.ReasonNone, done, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := setup(t)
			store := newFaultyStore(w.store)
			w.syncer.Store = store
			o := w.place("07", "55", adult)
			store.fail(tt.method, unreachable)

			action := sync.ActionNone
			if tt.outcome != lockworker.OutcomeError {
				action = sync.ActionDecided
			}
			expectResults(t, w.pass(), tt.outcome, tt.reason, action, o)
			w.expectState(tt.after, o)

			store.heal()
			sum := w.nextPass()
			if tt.next != "" {
				expectResults(t, sum, lockworker.OutcomeResolved, lockworker.ReasonNone, tt.next, o)
			}
			w.expectState(done, o)
			w.rests(o)
			w.tally(o)
		})
	}

	t.Run("claiming an update to send again: nothing sent, sent by the next pass", func(t *testing.T) {
		t.Parallel()
		w := setup(t)
		store := newFaultyStore(w.store)
		w.syncer.Store = store
		o := w.place("07", "55", adult)
		e := w.regions["07"].easit
		e.SetFault(failImports(easittest.Fault{Status: http.StatusServiceUnavailable}))
		w.pass()
		e.SetFault(nil)
		store.fail("ClaimUpdate", unreachable)

		expectResults(t, w.nextPass(), lockworker.OutcomeError, lockworker.ReasonLockStoreError, sync.ActionNone, o)
		w.expectState(recorded, o)

		store.heal()
		expectResults(t, w.nextPass(), lockworker.OutcomeResolved, lockworker.ReasonNone, sync.ActionResent, o)
		w.expectState(done, o)
		w.rests(o)
		w.tally(o)
	})

	t.Run("reading the store's clock: the region is not read, nothing written", func(t *testing.T) {
		t.Parallel()
		w := setup(t)
		store := newFaultyStore(w.store)
		w.syncer.Store = store
		o := w.place("07", "55", adult)
		store.fail("Mark", unreachable)

		sum := w.pass()
		if got := sum.FailedRegions(); len(got) != 2 || !strings.Contains(sum.Regions[0].Error, "read the lock store's clock") {
			t.Errorf("failed regions %v (%q), want both, for the store's clock", got, sum.Regions[0].Error)
		}
		w.expectState(untouched, o)

		store.heal()
		expectResults(t, w.nextPass(), lockworker.OutcomeResolved, lockworker.ReasonNone, sync.ActionDecided, o)
		w.expectState(done, o)
		w.rests(o)
		w.tally(o)
	})

	t.Run("recording the pass: it is logged, and the next pass is recorded", func(t *testing.T) {
		t.Parallel()
		w := setup(t)
		store := newFaultyStore(w.store)
		w.syncer.Store = store
		w.place("07", "55", adult)
		store.fail("RecordPass", unreachable)

		w.pass()

		if !strings.Contains(w.logs.String(), `"message":"record the pass"`) {
			t.Error("the failure to record the pass was not logged")
		}
		store.heal()
		sum := w.nextPass()
		passes, err := w.store.Passes(context.Background(), 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(passes) != 1 || passes[0].ID != sum.Pass {
			t.Errorf("passes = %+v, want only the pass after the fault", passes)
		}
	})
}

func TestTheMatrixAClaimLeftHeld(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// fault makes the first pass leave the ticket's claim held.
		fault func(w *world, store *faultyStore)
		// reason is the first pass's.
		reason lockworker.Reason
	}{
		{
			// In-process, as a crash just after the commit: the decision
			// and the lock are committed, the ticket is not told, and the
			// claim on its update is neither given back nor renewed.
			name:   "by a process that died after the commit",
			fault:  func(_ *world, store *faultyStore) { store.fail("Record", lostAnswer) },
			reason: lockworker.ReasonLockStoreError,
		},
		{
			name: "by a failed update whose claim could not be given back",
			fault: func(w *world, store *faultyStore) {
				w.regions["07"].easit.SetFault(failImports(easittest.Fault{Status: http.StatusServiceUnavailable}))
				store.fail("ReleaseUpdate", unreachable)
			},
			reason: lockworker.ReasonEasitError,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := setup(t) // the lock store's claim lease is its default, 15 seconds
			store := newFaultyStore(w.store)
			w.syncer.Store = store
			o := w.place("07", "55", adult)
			tt.fault(w, store)

			expectResults(t, w.pass(), lockworker.OutcomeError, tt.reason, sync.ActionNone, o)
			w.expectState(recorded, o)
			store.heal()
			w.regions["07"].easit.SetFault(nil)

			// The claim was not renewed, so the next pass, once the lease
			// has run out, takes it over, reads the ticket again and sends
			// the update.
			expectResults(t, w.nextPass(), lockworker.OutcomeResolved, lockworker.ReasonNone, sync.ActionResent, o)
			w.expectState(done, o)
			w.rests(o)
			w.tally(o)
		})
	}
}

// A claim lives as long as its holder: a live holder's is waited for, even
// past the lease, which it renews; a dead holder's is taken over by the very
// next pass, as soon as its lease runs out. The claims run on the real
// clock, with a lease of a second.
func TestAClaimIsTiedToItsHoldersLife(t *testing.T) {
	t.Parallel()
	const lease = time.Second
	t.Run("a live holder is waited for, and its update not sent again", func(t *testing.T) {
		t.Parallel()
		w := setupVariant(t, variant{claimLease: lease, realClaims: true})
		o := w.place("07", "55", adult)
		e := w.regions["07"].easit
		// Easit takes this process's update in, and holds it for longer
		// than the lease (within the client's timeout of 2s) before
		// carrying it out.
		arrived := make(chan struct{})
		var once gosync.Once
		e.SetFault(func(c easittest.Call) *easittest.Fault {
			if c.Op != easit.OpImport {
				return nil
			}
			once.Do(func() { close(arrived) })
			return &easittest.Fault{Delay: lease * 3 / 2}
		})
		first := make(chan sync.Summary)
		go func() { first <- w.pass() }()
		<-arrived

		// Another process's pass, while the update is on its way.
		sum, err := w.otherProcess(w.snapshot()).RunOnce(context.Background(), sync.Options{Region: "07"})
		if err != nil {
			t.Fatal(err)
		}
		if res := result(t, sum, "07", "55"); res.Action != sync.ActionNone || res.Why != "another process sent the update meanwhile" {
			t.Errorf("the other process: %s (%s), want none: the holder sent it", res.Action, res.Why)
		}
		expectResults(t, <-first, lockworker.OutcomeResolved, lockworker.ReasonNone, sync.ActionDecided, o)
		w.expectState(done, o)
		w.tally(o)
	})
	t.Run("a holder that cannot renew its claim stops sending", func(t *testing.T) {
		t.Parallel()
		w := setupVariant(t, variant{claimLease: lease, realClaims: true})
		store := newFaultyStore(w.store)
		w.syncer.Store = store
		o := w.place("07", "55", adult)
		e := w.regions["07"].easit
		e.SetFault(func(c easittest.Call) *easittest.Fault {
			if c.Op != easit.OpImport {
				return nil
			}
			return &easittest.Fault{Delay: lease * 3 / 2} // longer than the claim can last unrenewed
		})
		store.fail("RenewUpdate", unreachable)
		res := result(t, w.pass(), "07", "55")
		if res.Outcome != lockworker.OutcomeError || !strings.Contains(res.Error, "the claim on the update was lost") {
			t.Errorf("the pass whose claim could not be renewed: %s (%s), want an error saying the claim was lost", res.Outcome, res.Error)
		}
		w.expectState(recorded, o) // the send was cancelled before Easit carried it out
		store.heal()
		e.SetFault(nil)
		expectResults(t, w.pass(), lockworker.OutcomeResolved, lockworker.ReasonNone, sync.ActionResent, o)
		w.expectState(done, o)
		w.tally(o)
	})
	t.Run("a dead holder's claim is taken over by the very next pass", func(t *testing.T) {
		t.Parallel()
		w := setupVariant(t, variant{claimLease: lease, realClaims: true})
		store := newFaultyStore(w.store)
		w.syncer.Store = store
		o := w.place("07", "55", adult)
		store.fail("Record", lostAnswer) // the process dies after the commit
		expectResults(t, w.pass(), lockworker.OutcomeError, lockworker.ReasonLockStoreError, sync.ActionNone, o)
		w.expectState(recorded, o)

		sum, err := w.otherProcess(w.snapshot()).RunOnce(context.Background(), sync.Options{Region: "07"})
		if err != nil {
			t.Fatal(err)
		}
		expectResults(t, sum, lockworker.OutcomeResolved, lockworker.ReasonNone, sync.ActionResent, o)
		w.expectState(done, o)
		w.tally(o)
		history, err := w.store.History(context.Background(), "07", "55")
		if err != nil {
			t.Fatal(err)
		}
		if len(history) != 3 || history[1].Event != lockworker.EventTakenOver {
			t.Errorf("history = %+v, want the decision, the claim taken over and the confirmation", history)
		}
	})
}

// An agent may move a ticket on while its decision waits to be told: the
// update is then not sent over the agent's work, and the ledger keeps it
// pending (should the agent set the ticket back to open, it is sent then).
// The lock, applied before, stays.
func TestTheMatrixAPendingUpdateOfATicketMovedOnMeanwhile(t *testing.T) {
	t.Parallel()
	w := setup(t)
	store := newFaultyStore(w.store)
	w.syncer.Store = store
	o := w.place("07", "55", adult)
	store.fail("Record", lostAnswer)
	w.pass()
	store.heal()
	e := w.regions["07"].easit
	e.SetStatus("55", statuses.Manual)

	w.clock.Advance(4 * time.Minute) // past the claim lease
	if sum := w.pass(); len(sum.Regions[0].Orders) != 0 {
		t.Errorf("the pass acted on a ticket moved on: %+v", sum.Regions[0].Orders)
	}
	moved := recorded
	moved.Status = statuses.Manual
	w.expectState(moved, o)

	e.SetStatus("55", statuses.Open)
	expectResults(t, w.nextPass(), lockworker.OutcomeResolved, lockworker.ReasonNone, sync.ActionResent, o)
	w.expectState(done, o)
	w.tally(o)
}

// SIGTERM itself is TestAStoppingPassStartsNoMoreOrders: a stopping pass
// finishes the orders under way. This is the harder case of a pass whose
// context ends while an update is on the wire, so that its outcome is
// uncertain.
func TestTheMatrixAPassCancelledWhileAnUpdateIsInFlight(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// arrives is whether the update reaches the ticket before the
		// context ends.
		arrives bool
		after   orderState
		next    sync.Action
	}{
		{"before the update arrived: sent again", false, recorded, sync.ActionResent},
		{"after the update arrived: confirmed, not sent again", true, told, sync.ActionConfirmed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			held := newHeldAnswers()
			w := setupVariant(t, variant{easitOptions: []easit.Option{easit.WithHTTPClient(&http.Client{Transport: held})}})
			o := w.place("07", "55", adult)
			e := w.regions["07"].easit
			inFlight := held.held
			if tt.arrives {
				held.holding.Store(true)
			} else {
				// Easit takes the update in and holds it, not yet carried
				// out, for longer than the test waits.
				arrived := make(chan struct{}, 1)
				inFlight = arrived
				e.SetFault(func(c easittest.Call) *easittest.Fault {
					if c.Op != easit.OpImport {
						return nil
					}
					arrived <- struct{}{}
					return &easittest.Fault{Delay: time.Minute}
				})
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() {
				<-inFlight
				cancel()
			}()

			sum, err := w.syncer.RunOnce(ctx, sync.Options{})
			if err != nil {
				t.Fatal(err)
			}

			expectResults(t, sum, lockworker.OutcomeError, lockworker.ReasonEasitError, sync.ActionNone, o)
			w.expectState(tt.after, o)

			held.holding.Store(false)
			e.SetFault(nil)
			expectResults(t, w.nextPass(), lockworker.OutcomeResolved, lockworker.ReasonNone, tt.next, o)
			w.expectState(done, o)
			w.rests(o)
			w.tally(o)
		})
	}
}

func TestTheMatrixABatchOfUpdates(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// fault fails the imports of the first pass; hold holds their
		// answers back until the pass is cut short instead: the process
		// killed once Easit had carried the batch out.
		fault easittest.Fault
		hold  bool
		// after is the state of the failing ticket (all of them, when the
		// whole import fails) right after; next the action of the pass
		// that follows.
		after orderState
		next  sync.Action
	}{
		{
			name:  "one item failing: that ticket alone, sent again",
			fault: easittest.Fault{ItemResults: map[string]string{"102": "Exception"}, Body: "Ärendet är låst"},
			after: recorded, next: sync.ActionResent,
		},
		{
			name:  "the whole import failing before it took effect: every ticket sent again",
			fault: easittest.Fault{Status: http.StatusServiceUnavailable, Body: "Service Unavailable"},
			after: recorded, next: sync.ActionResent,
		},
		{
			name:  "the process killed mid-batch, after Easit carried it out: confirmed, not sent again",
			hold:  true,
			after: told, next: sync.ActionConfirmed,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			held := newHeldAnswers()
			w := setupVariant(t, variant{easitOptions: []easit.Option{
				easit.WithTimeout(shortEasitTimeout), easit.WithHTTPClient(&http.Client{Transport: held}),
			}})
			orders := w.placeAll("07", 100, testNumbers(t, 5))
			e := w.regions["07"].easit
			failing := orders
			if len(tt.fault.ItemResults) > 0 {
				failing = orders[2:3]
			}
			if tt.hold {
				held.holding.Store(true)
			} else {
				e.SetFault(failImports(tt.fault))
			}

			sum := w.pass()
			for _, o := range orders {
				if slices.Contains(failing, o) {
					expectResults(t, sum, lockworker.OutcomeError, lockworker.ReasonEasitError, sync.ActionNone, o)
					w.expectState(tt.after, o)
				} else {
					expectResults(t, sum, lockworker.OutcomeResolved, lockworker.ReasonNone, sync.ActionDecided, o)
					w.expectState(done, o)
				}
			}

			held.holding.Store(false)
			e.SetFault(nil)
			sum = w.nextPass()
			expectResults(t, sum, lockworker.OutcomeResolved, lockworker.ReasonNone, tt.next, failing...)
			w.expectState(done, orders...)
			w.rests(orders...)
			w.tally(orders...)
		})
	}
}
