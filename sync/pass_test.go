package sync_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	gosync "sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lockworker/lockworker"
	"github.com/lockworker/lockworker/cosmic/cosmictest"
	"github.com/lockworker/lockworker/easit"
	"github.com/lockworker/lockworker/easit/easittest"
	"github.com/lockworker/lockworker/lockstore/lockstoretest"
	"github.com/lockworker/lockworker/sync"
)

func TestASecondPassChangesNothing(t *testing.T) {
	t.Parallel()
	w := setup(t)
	w.accounts(adult, child)
	w.add("07", w.lockOrder("07", "55", adult))
	w.add("07", w.lockOrder("07", "56", child))
	waiting := w.lockOrder("12", "101", adult)
	waiting.form = nil
	w.add("12", waiting)
	w.add("12", w.lockOrder("12", "102", mistypedPnr))
	w.pass()
	updates := w.updates("07", "55", "56") + w.updates("12", "101", "102")
	audit := len(w.audit(lockworker.AuditFilter{}))

	w.clock.Advance(2 * time.Minute)
	sum := w.pass()

	if n := w.updates("07", "55", "56") + w.updates("12", "101", "102"); n != updates {
		t.Errorf("the second pass made %d Easit updates", n-updates)
	}
	if n := len(w.audit(lockworker.AuditFilter{})); n != audit {
		t.Errorf("the second pass wrote %d audit entries", n-audit)
	}
	passes, err := w.store.Passes(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(passes) != 2 || passes[1].ID != sum.Pass {
		t.Errorf("passes = %+v, want both passes recorded", passes)
	}
	if got := passes[1].Outcomes[lockworker.OutcomeWaiting]; got != 1 {
		t.Errorf("the second pass's record counts %d waiting, want 1 (the re-check)", got)
	}
}

func TestAFailedUpdateIsSentOnceMoreAndNeverAppliedAgain(t *testing.T) {
	t.Parallel()
	faults := []struct {
		name  string
		fault easittest.Fault
	}{
		{"a server error", easittest.Fault{Status: http.StatusInternalServerError, Body: "Internal error"}},
		{"a dropped connection", easittest.Fault{Drop: true}},
		{"an Exception for the item", easittest.Fault{ItemResult: "Exception", Body: "Handler failed"}},
	}
	for _, tt := range faults {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := setup(t)
			w.accounts(adult)
			w.add("07", w.lockOrder("07", "55", adult))
			e := w.regions["07"].easit
			e.SetFault(failImports(tt.fault))

			res := result(t, w.pass(), "07", "55")

			if res.Outcome != lockworker.OutcomeError || res.Reason != lockworker.ReasonEasitError {
				t.Fatalf("with the update failing: %s %s, want error easit_error", res.Outcome, res.Reason)
			}
			if _, locked := w.lock(adult); !locked {
				t.Fatal("the lock was not recorded before the update")
			}
			if e.Status("55") != statuses.Open || len(e.Comments("55")) != 0 {
				t.Fatalf("the failed update changed the ticket: %q %q", e.Status("55"), e.Comments("55"))
			}

			e.SetFault(nil)
			w.clock.Advance(2 * time.Minute)
			res = result(t, w.pass(), "07", "55")

			if res.Outcome != lockworker.OutcomeResolved || res.Action != sync.ActionResent {
				t.Errorf("next pass: %s %s, want resolved, resent", res.Outcome, res.Action)
			}
			if n := e.Updates("55"); n != 1 {
				t.Errorf("%d updates carried out, want exactly 1", n)
			}
			if c := e.Comments("55"); len(c) != 1 || e.Status("55") != statuses.Resolved {
				t.Errorf("ticket = %q with comments %q, want Löst with one comment", e.Status("55"), c)
			}
			if h := w.history(adult); len(h) != 1 {
				t.Errorf("%d locks, want 1", len(h))
			}
			if n := len(w.audit(lockworker.AuditFilter{Ticket: "55"})); n != 1 {
				t.Errorf("%d audit entries, want 1: a re-sent update is not a new decision", n)
			}

			// And then the ticket rests.
			w.clock.Advance(2 * time.Minute)
			w.pass()
			if n := e.Updates("55"); n != 1 {
				t.Errorf("%d updates after a third pass, want 1", n)
			}
		})
	}
}

func TestAnUpdateThatArrivedDespiteAnErrorIsConfirmedNotResent(t *testing.T) {
	t.Parallel()
	w := setup(t)
	w.accounts(adult)
	w.add("07", w.lockOrder("07", "55", adult))
	e := w.regions["07"].easit
	e.SetFault(failImports(easittest.Fault{AfterApply: true, Status: http.StatusBadGateway, Body: "Bad gateway"}))

	if res := result(t, w.pass(), "07", "55"); res.Outcome != lockworker.OutcomeError {
		t.Fatalf("first pass: %s, want error", res.Outcome)
	}
	e.SetFault(nil)
	res := result(t, w.pass(), "07", "55")

	if res.Action != sync.ActionConfirmed || res.Outcome != lockworker.OutcomeResolved {
		t.Errorf("next pass: %s %s, want resolved, confirmed", res.Outcome, res.Action)
	}
	if c := e.Comments("55"); len(c) != 1 {
		t.Errorf("comments = %q, want the one that arrived", c)
	}
	entry, _, err := w.store.Ledger(context.Background(), "07", "55")
	if err != nil || !entry.Confirmed() {
		t.Errorf("ledger entry = %+v, %v; want confirmed", entry, err)
	}
}

// failImports fails every import with f.
func failImports(f easittest.Fault) func(easittest.Call) *easittest.Fault {
	return func(c easittest.Call) *easittest.Fault {
		if c.Op != easit.OpImport {
			return nil
		}
		return &f
	}
}

func TestAReSubmittedOrderIsDecidedAfresh(t *testing.T) {
	t.Parallel()
	w := setup(t)
	w.accounts(adult)
	o := w.lockOrder("07", "55", adult)
	wrong := *o.form
	wrong.Patient = otherAdult
	o.form = &wrong
	w.add("07", o)
	w.expect(w.pass(), "07", "55", lockworker.OutcomeManual, lockworker.ReasonFormPatientMismatch)

	// The agent has the form corrected and sets the ticket back to open.
	fixed := w.lockOrder("07", "55", adult).form
	w.regions["07"].forms.Put(*fixed)
	w.regions["07"].easit.SetStatus("55", statuses.Open)
	w.clock.Advance(2 * time.Minute)
	res := result(t, w.pass(), "07", "55")

	if res.Outcome != lockworker.OutcomeResolved {
		t.Fatalf("re-submitted: %s %s, want resolved", res.Outcome, res.Reason)
	}
	if _, locked := w.lock(adult); !locked {
		t.Error("the person is not locked")
	}

	// Re-submitted once more, the rules keep the store right: nothing to do.
	w.regions["07"].easit.SetStatus("55", statuses.Open)
	w.clock.Advance(2 * time.Minute)
	if res := result(t, w.pass(), "07", "55"); res.Outcome != lockworker.OutcomeNoop {
		t.Errorf("re-submitted after the lock: %s, want noop", res.Outcome)
	}
	if h := w.history(adult); len(h) != 1 {
		t.Errorf("%d locks, want 1", len(h))
	}
	entries := w.audit(lockworker.AuditFilter{Ticket: "55"})
	var outcomes []lockworker.Outcome
	for _, e := range entries {
		outcomes = append(outcomes, e.Outcome)
	}
	if len(outcomes) != 3 || outcomes[0] != lockworker.OutcomeManual || outcomes[1] != lockworker.OutcomeResolved || outcomes[2] != lockworker.OutcomeNoop {
		t.Errorf("audit outcomes = %v, want manual, resolved, noop", outcomes)
	}
	if c := w.regions["07"].easit.Comments("55"); len(c) != 3 {
		t.Errorf("%d comments, want one for each decision", len(c))
	}
}

func TestARegionThatCannotBeReadDoesNotStopTheOthers(t *testing.T) {
	t.Parallel()
	w := setup(t)
	w.accounts(adult, otherAdult)
	w.add("07", w.lockOrder("07", "55", adult))
	w.add("12", w.lockOrder("12", "101", otherAdult))
	w.regions["07"].easit.SetFault(func(c easittest.Call) *easittest.Fault {
		return &easittest.Fault{Status: http.StatusServiceUnavailable, Body: "Down for maintenance"}
	})

	sum := w.pass()

	if sum.OK() {
		t.Error("the summary says all is well")
	}
	if failed := sum.FailedRegions(); len(failed) != 1 || failed[0] != "07" {
		t.Errorf("failed regions = %v, want [07]", failed)
	}
	if sum.Regions[0].Error == "" || strings.Contains(sum.Regions[0].Error, apiKey) {
		t.Errorf("region 07's error = %q, want a reason without the key", sum.Regions[0].Error)
	}
	w.expect(sum, "12", "101", lockworker.OutcomeResolved, lockworker.ReasonNone)
	if _, locked := w.lock(adult); locked {
		t.Error("region 07's order was carried out")
	}
}

func TestAFormServiceFailureIsRetriedNextPass(t *testing.T) {
	t.Parallel()
	w := setup(t)
	w.accounts(adult, otherAdult)
	w.add("07", w.lockOrder("07", "55", adult))
	w.add("07", w.lockOrder("07", "56", otherAdult))
	forms := w.regions["07"].forms
	forms.SetFault(func(c cosmictest.Call) *cosmictest.Fault {
		if c.Ref == "F-07-55" {
			return &cosmictest.Fault{Status: http.StatusBadGateway}
		}
		return nil
	})

	sum := w.pass()

	res := result(t, sum, "07", "55")
	if res.Outcome != lockworker.OutcomeError || res.Reason != lockworker.ReasonFormsError {
		t.Errorf("with the form service failing: %s %s, want error forms_error", res.Outcome, res.Reason)
	}
	if e := w.regions["07"].easit; e.Updates("55") != 0 || e.Status("55") != statuses.Open {
		t.Error("an error wrote to the ticket")
	}
	if n := len(w.audit(lockworker.AuditFilter{Ticket: "55"})); n != 0 {
		t.Errorf("an error wrote %d audit entries", n)
	}
	w.expect(sum, "07", "56", lockworker.OutcomeResolved, lockworker.ReasonNone)

	forms.SetFault(nil)
	w.expect(w.pass(), "07", "55", lockworker.OutcomeResolved, lockworker.ReasonNone)
}

func TestADryRunChangesNothing(t *testing.T) {
	t.Parallel()
	w := setup(t)
	w.accounts(adult)
	w.add("07", w.lockOrder("07", "55", adult))
	w.add("07", w.lockOrder("07", "56", mistypedPnr))

	sum := w.pass(sync.Options{DryRun: true})

	if !sum.DryRun {
		t.Error("the summary does not say it was a dry run")
	}
	if res := result(t, sum, "07", "55"); res.Outcome != lockworker.OutcomeResolved || !strings.Contains(res.Comment, "är låst") {
		t.Errorf("dry run: %s with comment %q, want the decision it would make", res.Outcome, res.Comment)
	}
	if res := result(t, sum, "07", "56"); res.Outcome != lockworker.OutcomeManual || res.Reason != lockworker.ReasonInvalidPersonnummer {
		t.Errorf("dry run: %s %s", res.Outcome, res.Reason)
	}
	if n := w.updates("07", "55", "56"); n != 0 {
		t.Errorf("a dry run made %d Easit updates", n)
	}
	if _, locked := w.lock(adult); locked {
		t.Error("a dry run locked someone")
	}
	if n := len(w.audit(lockworker.AuditFilter{})); n != 0 {
		t.Errorf("a dry run wrote %d audit entries", n)
	}
	if _, found, _ := w.store.Ledger(context.Background(), "07", "55"); found {
		t.Error("a dry run wrote to the ledger")
	}
	if passes, _ := w.store.Passes(context.Background(), 0); len(passes) != 0 {
		t.Error("a dry run recorded a pass")
	}

	// The real pass that follows carries the order out.
	w.expect(w.pass(), "07", "55", lockworker.OutcomeResolved, lockworker.ReasonNone)
}

func TestAPassTellsOfEachRegionAsItIsDone(t *testing.T) {
	t.Parallel()
	w := setup(t)
	w.accounts(adult)
	w.add("12", w.lockOrder("12", "101", adult))
	// The regions run at once: 12's view is answered once 07 is told of,
	// so that 07 is told of before 12 has locked anyone.
	sevenDone := make(chan struct{})
	w.regions["12"].easit.SetFault(func(c easittest.Call) *easittest.Fault {
		if c.Op == easit.OpList {
			select {
			case <-sevenDone:
			case <-time.After(10 * time.Second):
			}
		}
		return nil
	})
	var mu gosync.Mutex
	var done []string
	var lockedWhenDone []bool

	sum := w.pass(sync.Options{RegionDone: func(r sync.RegionSummary) {
		// Each region may be told of from its own goroutine.
		mu.Lock()
		defer mu.Unlock()
		done = append(done, r.Code)
		_, locked := w.lock(adult)
		lockedWhenDone = append(lockedWhenDone, locked)
		if r.Code == "07" {
			close(sevenDone)
		}
	}})

	if len(done) != 2 || done[0] != "07" || done[1] != "12" {
		t.Fatalf("regions told of: %v, want 07 then 12", done)
	}
	if lockedWhenDone[0] || !lockedWhenDone[1] {
		t.Errorf("locked when each region was told of: %v, want false then true", lockedWhenDone)
	}
	if len(sum.Regions) != 2 {
		t.Errorf("summary regions = %d", len(sum.Regions))
	}
}

func TestAPassCanBeNarrowedToARegionOrATicket(t *testing.T) {
	t.Parallel()
	w := setup(t)
	w.accounts(adult, otherAdult, luhnExample)
	w.add("07", w.lockOrder("07", "55", adult))
	w.add("07", w.lockOrder("07", "56", otherAdult))
	w.add("12", w.lockOrder("12", "101", luhnExample))

	sum := w.pass(sync.Options{Region: "07", Ticket: "56"})

	if len(sum.Regions) != 1 || len(sum.Regions[0].Orders) != 1 || sum.Regions[0].Orders[0].Ticket != "56" {
		t.Fatalf("summary = %+v, want only ticket 56 of region 07", sum.Regions)
	}
	if w.updates("07", "55") != 0 || w.updates("12", "101") != 0 || w.updates("07", "56") != 1 {
		t.Error("the pass touched other tickets than 56")
	}

	if _, err := w.syncer.RunOnce(context.Background(), sync.Options{Region: "99"}); !errors.Is(err, sync.ErrUnknownRegion) {
		t.Errorf("an unknown region: %v, want ErrUnknownRegion", err)
	}
}

func TestTwoOrdersForOnePersonInOnePassLockOnce(t *testing.T) {
	t.Parallel()
	w := setup(t)
	w.accounts(adult)
	for _, ticket := range []string{"55", "56", "57", "58"} {
		w.add("07", w.lockOrder("07", ticket, adult))
	}
	w.add("12", w.lockOrder("12", "101", adult))

	sum := w.pass()

	counts := sum.Counts()
	if counts[lockworker.OutcomeResolved] != 1 || counts[lockworker.OutcomeNoop] != 4 {
		t.Errorf("outcomes = %v, want one resolved and four noop", counts)
	}
	if h := w.history(adult); len(h) != 1 {
		t.Errorf("%d locks, want 1", len(h))
	}
}

// panickingForms is a form service whose client panics.
type panickingForms struct{}

func (panickingForms) Form(context.Context, string) (lockworker.Form, error) {
	panic("a bug in the form client")
}

func TestAPanicFailsOnlyItsOrder(t *testing.T) {
	t.Parallel()
	w := setup(t)
	w.accounts(adult, otherAdult)
	w.syncer.Regions[0].Forms = panickingForms{}
	w.add("07", w.lockOrder("07", "55", adult))
	w.add("12", w.lockOrder("12", "101", otherAdult))

	sum := w.pass()

	if res := result(t, sum, "07", "55"); res.Outcome != lockworker.OutcomeError {
		t.Errorf("the panicking order: %s, want error", res.Outcome)
	}
	w.expect(sum, "12", "101", lockworker.OutcomeResolved, lockworker.ReasonNone)
	if !strings.Contains(w.logs.String(), "a bug in the form client") {
		t.Error("the panic was not logged")
	}
}

func TestEachDecisionIsOneLogEventWithAPseudonym(t *testing.T) {
	t.Parallel()
	w := setup(t)
	w.accounts(adult)
	w.add("07", w.lockOrder("07", "55", adult))

	sum := w.pass()

	var events []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(w.logs.String()), "\n") {
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("a log line is not JSON: %v", err)
		}
		if ev["message"] == "order" {
			events = append(events, ev)
		}
	}
	if len(events) != 1 {
		t.Fatalf("%d order events, want 1", len(events))
	}
	ev := events[0]
	want := map[string]any{"pass": sum.Pass, "region": "07", "ticket": "55", "kind": "lock", "outcome": "resolved", "reason": "", "person": w.pnr(adult).Pseudonym()}
	for k, v := range want {
		if ev[k] != v {
			t.Errorf("event[%q] = %v, want %v", k, ev[k], v)
		}
	}
	if !strings.HasPrefix(ev["person"].(string), "pn-") {
		t.Errorf("person = %v, want a pseudonym", ev["person"])
	}
}

func TestAStoppingPassStartsNoMoreOrders(t *testing.T) {
	t.Parallel()
	w := setup(t)
	w.syncer.Concurrency = 1
	w.accounts(adult, otherAdult, luhnExample)
	w.add("07", w.lockOrder("07", "55", adult))
	w.add("07", w.lockOrder("07", "56", otherAdult))
	stop := make(chan struct{})
	// The form service of 07 asks the pass to stop while the first order
	// is under way.
	w.regions["07"].forms.SetFault(func(c cosmictest.Call) *cosmictest.Fault {
		if c.Ref == "F-07-55" {
			close(stop)
		}
		return nil
	})

	sum := w.pass(sync.Options{Stopping: stop, Pass: "p-stopping"})

	if sum.Pass != "p-stopping" {
		t.Errorf("pass id = %q, want the one given", sum.Pass)
	}
	// The regions run at once: 12, which has no order, may or may not have
	// been read before the stop.
	if sum.Counts()[lockworker.OutcomeResolved] != 1 {
		t.Fatalf("summary = %+v, want only the order under way", sum.Regions)
	}
	w.expect(sum, "07", "55", lockworker.OutcomeResolved, lockworker.ReasonNone)
	if w.updates("07", "56") != 0 {
		t.Error("an order started after the pass was asked to stop")
	}

	// The next pass takes up what was left, and the orders come since.
	w.add("12", w.lockOrder("12", "101", luhnExample))
	sum = w.pass()
	w.expect(sum, "07", "56", lockworker.OutcomeResolved, lockworker.ReasonNone)
	w.expect(sum, "12", "101", lockworker.OutcomeResolved, lockworker.ReasonNone)
}

// staleTickets is a view read before the world changed: another process's
// first read, under way while this one acts. Its reads after the first are
// of the world as it is.
type staleTickets struct {
	desk     sync.Tickets
	snapshot []lockworker.Ticket
	read     *atomic.Bool
}

func (s staleTickets) Update(ctx context.Context, us []lockworker.TicketUpdate) []error {
	return s.desk.Update(ctx, us)
}

func (s staleTickets) ReadView(ctx context.Context, each func([]lockworker.Ticket) error) error {
	if s.read.CompareAndSwap(false, true) {
		return each(s.snapshot)
	}
	return s.desk.ReadView(ctx, each)
}

// staleMark is the lock store as another process sees it whose first mark
// was read before the world changed, with its first view.
type staleMark struct {
	sync.Store
	mark lockworker.Mark
	read *atomic.Bool
}

func (s staleMark) Mark(ctx context.Context) (lockworker.Mark, error) {
	if s.read.CompareAndSwap(false, true) {
		return s.mark, nil
	}
	return s.Store.Mark(ctx)
}

// snapshot is region 07's view and the store's mark read just before it, as
// another process reads them.
type snapshot struct {
	mark    lockworker.Mark
	tickets []lockworker.Ticket
}

func (w *world) snapshot() snapshot {
	w.t.Helper()
	mark, err := w.store.Mark(context.Background())
	if err != nil {
		w.t.Fatal(err)
	}
	var tickets []lockworker.Ticket
	err = w.syncer.Regions[0].Tickets.ReadView(context.Background(), func(page []lockworker.Ticket) error {
		tickets = append(tickets, page...)
		return nil
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return snapshot{mark, tickets}
}

// otherProcess is a second lockworker process on the same Easit and lock
// store (a Store of its own), whose first view of region 07 is the snapshot.
func (w *world) otherProcess(snap snapshot) *sync.Syncer {
	w.t.Helper()
	other := *w.syncer
	store := lockstoretest.Open(w.t, w.driver, w.dsn, w.opts)
	other.Store = staleMark{Store: store, mark: snap.mark, read: new(atomic.Bool)}
	other.Regions = append([]sync.Region(nil), w.syncer.Regions...)
	other.Regions[0].Tickets = staleTickets{desk: w.syncer.Regions[0].Tickets, snapshot: snap.tickets, read: new(atomic.Bool)}
	return &other
}

func TestAViewReadBeforeAnUpdateIsNotTrusted(t *testing.T) {
	t.Parallel()
	t.Run("to show a re-submission: the view is read again", func(t *testing.T) {
		t.Parallel()
		w := setup(t)
		w.accounts(adult)
		w.add("07", w.lockOrder("07", "55", adult))
		before := w.snapshot()
		w.pass() // this process resolves 55 …

		// … while the other still holds the view it read before.
		sum, err := w.otherProcess(before).RunOnce(context.Background(), sync.Options{Region: "07"})
		if err != nil {
			t.Fatal(err)
		}
		if n := len(sum.Regions[0].Orders); n != 0 {
			t.Errorf("the other process acted on %d orders of its stale view: %+v", n, sum.Regions[0].Orders)
		}
		if c := w.regions["07"].easit.Comments("55"); len(c) != 1 {
			t.Errorf("comments = %q, want one", c)
		}
	})
	t.Run("to lack an update whose outcome was uncertain: the view read again confirms it", func(t *testing.T) {
		t.Parallel()
		w := setup(t)
		w.accounts(adult)
		w.add("07", w.lockOrder("07", "55", adult))
		before := w.snapshot()
		e := w.regions["07"].easit
		e.SetFault(failImports(easittest.Fault{AfterApply: true, Status: http.StatusGatewayTimeout}))
		w.pass() // the update arrives, but this process cannot know it
		e.SetFault(nil)

		sum, err := w.otherProcess(before).RunOnce(context.Background(), sync.Options{Region: "07"})
		if err != nil {
			t.Fatal(err)
		}
		if res := result(t, sum, "07", "55"); res.Action != sync.ActionConfirmed {
			t.Errorf("the other process: %s, want confirmed from the view read again", res.Action)
		}
		if c := e.Comments("55"); len(c) != 1 {
			t.Errorf("comments = %q, want the one that arrived, not sent again", c)
		}
	})
	t.Run("to confirm an update: a view read before an agent re-opened the ticket", func(t *testing.T) {
		t.Parallel()
		w := setup(t)
		w.accounts(adult)
		o := w.place("07", "55", adult)
		w.pass()               // 55 resolved and confirmed
		before := w.snapshot() // another process reads 55 as resolved …
		e := w.regions["07"].easit
		e.SetStatus("55", statuses.Open) // … the agent re-opens it …
		e.SetFault(failImports(easittest.Fault{Status: http.StatusServiceUnavailable}))
		res := result(t, w.pass(), "07", "55") // … this process decides it afresh (noop), and the update fails
		if res.Outcome != lockworker.OutcomeError || e.Status("55") != statuses.Open {
			t.Fatalf("the re-submission: %+v, ticket %s; want an error and the ticket open", res, e.Status("55"))
		}
		e.SetFault(nil)

		// The other process's view shows the ticket resolved, as the update
		// would have: it must not take that for the update.
		sum, err := w.otherProcess(before).RunOnce(context.Background(), sync.Options{Region: "07"})
		if err != nil {
			t.Fatal(err)
		}
		if res := result(t, sum, "07", "55"); res.Action != sync.ActionResent || res.Outcome != lockworker.OutcomeNoop {
			t.Errorf("the other process: %s %s, want the noop's update sent, from the view read again", res.Outcome, res.Action)
		}
		if c := e.Comments("55"); len(c) != 2 || e.Status("55") != statuses.Resolved {
			t.Errorf("comments = %q, status %s; want the lock's and the noop's, and resolved", c, e.Status("55"))
		}
		w.rests(o)
	})
}

// A pass right after another acts on what that one left, with no margin:
// the store's clock orders the views and the steps.
func TestAPassRightAfterAnotherTrustsItsView(t *testing.T) {
	t.Parallel()
	t.Run("an update that failed is sent by the next pass at once", func(t *testing.T) {
		t.Parallel()
		w := setup(t)
		o := w.place("07", "55", adult)
		e := w.regions["07"].easit
		e.SetFault(failImports(easittest.Fault{Status: http.StatusServiceUnavailable}))
		expectResults(t, w.pass(), lockworker.OutcomeError, lockworker.ReasonEasitError, sync.ActionNone, o)
		e.SetFault(nil)
		expectResults(t, w.pass(), lockworker.OutcomeResolved, lockworker.ReasonNone, sync.ActionResent, o)
		w.expectState(done, o)
		w.tally(o)
	})
	t.Run("a form signed for a waiting order is acted on by the next pass at once", func(t *testing.T) {
		t.Parallel()
		w := setup(t)
		w.accounts(adult)
		waiting := w.lockOrder("07", "55", adult)
		form := *waiting.form
		waiting.form = nil
		w.add("07", waiting)
		w.expect(w.pass(), "07", "55", lockworker.OutcomeWaiting, lockworker.ReasonFormMissing)
		w.regions["07"].forms.Put(form)
		if res := result(t, w.pass(), "07", "55"); res.Outcome != lockworker.OutcomeResolved || res.Action != sync.ActionDecided {
			t.Errorf("the pass right after the form was signed: %s %s, want resolved, decided", res.Outcome, res.Action)
		}
		if c := w.regions["07"].easit.Comments("55"); len(c) != 2 || w.regions["07"].easit.Status("55") != statuses.Resolved {
			t.Errorf("comments %q; want the wait's and the lock's, and the ticket resolved", c)
		}
	})
	t.Run("a ticket re-opened right after its update was confirmed is decided afresh at once", func(t *testing.T) {
		t.Parallel()
		w := setup(t)
		w.accounts(adult)
		w.add("07", w.lockOrder("07", "55", adult))
		w.pass()
		w.regions["07"].easit.SetStatus("55", statuses.Open)
		if res := result(t, w.pass(), "07", "55"); res.Outcome != lockworker.OutcomeNoop || res.Action != sync.ActionDecided {
			t.Errorf("the pass right after the re-submission: %s %s, want noop, decided", res.Outcome, res.Action)
		}
		if c := w.regions["07"].easit.Comments("55"); len(c) != 2 || w.regions["07"].easit.Status("55") != statuses.Resolved {
			t.Errorf("comments %q; want the lock's and the noop's, and the ticket resolved", c)
		}
	})
}

func TestAHungRegionHoldsOnlyItself(t *testing.T) {
	t.Parallel()
	w := setup(t)
	w.syncer.RegionTimeout = 300 * time.Millisecond
	w.accounts(adult, otherAdult)
	w.add("07", w.lockOrder("07", "55", adult))
	w.add("12", w.lockOrder("12", "101", otherAdult))
	// 12's Easit answers nothing until the caller gives up.
	w.regions["12"].easit.SetFault(func(easittest.Call) *easittest.Fault { return &easittest.Fault{Delay: time.Hour} })
	var mu gosync.Mutex
	var order []string
	sum := w.pass(sync.Options{RegionDone: func(rs sync.RegionSummary) {
		mu.Lock()
		defer mu.Unlock()
		order = append(order, rs.Code)
	}})

	w.expect(sum, "07", "55", lockworker.OutcomeResolved, lockworker.ReasonNone)
	if !slices.Equal(order, []string{"07", "12"}) {
		t.Errorf("regions done in the order %v, want 07 before the hung 12", order)
	}
	for _, rs := range sum.Regions {
		if rs.Code == "12" && !strings.Contains(rs.Error, "deadline of 300ms") {
			t.Errorf("12's error = %q, want its deadline named", rs.Error)
		}
	}
}

// Orders are carried out as their page of the view comes, not once the whole
// view is read: here page 2 is answered only once Easit has got an update of
// an order of page 1.
func TestOrdersAreHandledAsTheirPageComes(t *testing.T) {
	t.Parallel()
	w := setupVariant(t, variant{easitPageSize: 2})
	orders := w.placeAll("07", 55, testNumbers(t, 4))
	updated := make(chan struct{})
	var once gosync.Once
	var waitedInVain atomic.Bool
	w.regions["07"].easit.SetFault(func(c easittest.Call) *easittest.Fault {
		switch {
		case c.Op == easit.OpImport:
			once.Do(func() { close(updated) })
		case c.Op == easit.OpList && c.Page == 2:
			select {
			case <-updated:
			case <-time.After(1500 * time.Millisecond): // within the client's timeout
				waitedInVain.Store(true)
			}
		}
		return nil
	})

	sum := w.pass()

	if waitedInVain.Load() {
		t.Error("no order of page 1 was carried out while page 2 was asked for")
	}
	expectResults(t, sum, lockworker.OutcomeResolved, lockworker.ReasonNone, sync.ActionDecided, orders...)
	w.expectState(done, orders...)
}

// A region whose view lacks a configured column (say, a misspelt
// fields.personnummer) is a failed region: none of its orders is judged,
// and none goes to manual handling for want of the column.
func TestARegionWhoseViewLacksAColumnFails(t *testing.T) {
	t.Parallel()
	w := setup(t)
	w.accounts(adult, otherAdult)
	w.add("07", w.lockOrder("07", "55", adult))
	w.add("12", w.lockOrder("12", "101", otherAdult))
	r := w.regions["07"]
	w.syncer.Regions[0].Tickets = easit.NewDesk(easit.NewClient(r.easit.URL(), apiKey), "VIS-1177-las", "VIS-1177-uppdatera",
		easit.Fields{Personnummer: "Personnr"})

	sum := w.pass()
	if got := sum.FailedRegions(); len(got) != 1 || got[0] != "07" || !strings.Contains(sum.Regions[0].Error, `has no column "Personnr"`) {
		t.Errorf("failed regions %v (%q), want 07 naming the column", got, sum.Regions[0].Error)
	}
	if n := len(r.easit.Comments("55")); n != 0 || r.easit.Status("55") != statuses.Open {
		t.Errorf("ticket 07/55 got %d comments and status %s, want none and open", n, r.easit.Status("55"))
	}
	if !strings.Contains(w.logs.String(), `"region":"07","error":"read the tickets of view \"VIS-1177-las\": view \"VIS-1177-las\" has no column \"Personnr\""`) {
		t.Error("the logs do not say why region 07 failed")
	}
	w.expect(sum, "12", "101", lockworker.OutcomeResolved, lockworker.ReasonNone)
}
