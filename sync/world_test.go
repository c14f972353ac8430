package sync_test

import (
	"bytes"
	"context"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/lockworker/lockworker"
	"github.com/lockworker/lockworker/config"
	"github.com/lockworker/lockworker/cosmic"
	"github.com/lockworker/lockworker/cosmic/cosmictest"
	"github.com/lockworker/lockworker/easit"
	"github.com/lockworker/lockworker/easit/easittest"
	"github.com/lockworker/lockworker/internal/pnrtest"
	"github.com/lockworker/lockworker/internal/skatteverket"
	"github.com/lockworker/lockworker/lockstore"
	"github.com/lockworker/lockworker/lockstore/lockstoretest"
	"github.com/lockworker/lockworker/sync"
)

// The test world: two regions, each with an in-memory Easit GO and form
// service reached through the real clients, a real SQLite lock store, and a
// clock the test moves.

const (
	apiKey = "test-easit-key"
	token  = "test-forms-token"
)

var (
	lockForm   = lockworker.Code{System: "https://fhir.region.example/CodeSystem/blankett", Code: "1177-LAS"}
	unlockForm = lockworker.Code{System: "https://fhir.region.example/CodeSystem/blankett", Code: "1177-HAV"}
	statuses   = config.DefaultStatuses
)

// start is when the test world's clock begins: Monday 23 November 2026,
// 11:00 in Stockholm.
var start = time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)

// clock is the test world's time, moved by the test.
type clock struct {
	mu gosync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func (c *clock) Advance(d time.Duration) { c.Set(c.Now().Add(d)) }

type region struct {
	code, name, org string
	easit           *easittest.Server
	forms           *cosmictest.Server
}

type world struct {
	t       *testing.T
	clock   *clock
	regions map[string]*region
	driver  string // the lock store's driver
	dsn     string // the lock store's database
	opts    lockstore.Options
	store   *lockstore.Store
	syncer  *sync.Syncer
	logs    *lockedBuffer
}

// setup starts the test world with Region Kronoberg (07) and Region Skåne
// (12). Every log line the world writes is checked for personnummer in
// clear when the test ends.
func setup(t *testing.T) *world {
	t.Helper()
	return setupVariant(t, variant{})
}

// variant changes the test world before it starts, for the tests of faults
// that need it: a smaller Easit page, a shorter Easit timeout, another
// claim lease, a longer read budget for forms. The zero variant is the usual
// world.
type variant struct {
	// easitPageSize is the largest page the Easit servers give; 0 for
	// their default.
	easitPageSize int
	// easitOptions are given to the Easit clients after the world's own,
	// so that they take precedence.
	easitOptions []easit.Option
	// claimLease is the lock store's claim lease, and the pass's; 0 for
	// their default.
	claimLease time.Duration
	// formsOptions are given to the form service clients after the
	// world's own.
	formsOptions []cosmic.Option
	// byteOrderMark has both fakes of each region put a byte-order mark
	// before their answers.
	byteOrderMark bool
	// postgres puts the lock store on PostgreSQL instead of SQLite.
	postgres bool
	// realClaims runs the lock store's claims on the real clock rather than
	// the world's, for the tests of claims held by processes that live or
	// die while the test waits.
	realClaims bool
	// openView has the Easit views list only the open and waiting orders.
	openView bool
}

// ampleTime is the variant whose clients give a read a minute, of Easit and
// of the form service: for the tests that read large or many answers, or a
// slow one, whose outcome must come from what was read, never from how busy
// the machine is.
var ampleTime = variant{
	easitOptions: []easit.Option{easit.WithReadBudget(time.Minute), easit.WithTimeout(time.Minute)},
	formsOptions: []cosmic.Option{cosmic.WithReadBudget(time.Minute), cosmic.WithTimeout(time.Minute)},
}

// setupVariant is setup for a variant of the world.
func setupVariant(t *testing.T, v variant) *world {
	t.Helper()
	w := &world{t: t, clock: &clock{t: start}, regions: map[string]*region{}, logs: &lockedBuffer{}}
	w.driver, w.dsn, w.opts = "sqlite", "", lockstore.Options{Now: w.clock.Now, ClaimLease: v.claimLease}
	if v.postgres {
		w.driver, w.dsn = "postgres", lockstoretest.PostgresDSN(t)
	} else {
		w.dsn = lockstoretest.SQLiteDSN(t)
	}
	if v.realClaims {
		w.opts.Now = nil
	}
	w.store = lockstoretest.Open(t, w.driver, w.dsn, w.opts)
	w.syncer = &sync.Syncer{
		Store:      w.store,
		Policy:     sync.Policy{ChildrenUnder13: sync.ChildLock, FormMaxAge: 2160 * time.Hour, FormWait: 72 * time.Hour, ClockTolerance: 5 * time.Minute},
		Log:        zerolog.New(w.logs).With().Timestamp().Logger(),
		Now:        w.clock.Now,
		ClaimLease: v.claimLease,
	}
	for _, r := range []*region{
		{code: "07", name: "Region Kronoberg", org: "2321000065"},
		{code: "12", name: "Region Skåne", org: "2321000255"},
	} {
		cfg := easittest.Config{APIKey: apiKey, Now: w.clock.Now, PageSize: v.easitPageSize, ByteOrderMark: v.byteOrderMark}
		if v.openView {
			cfg.OnlyStatuses = []string{statuses.Open, statuses.Waiting}
		}
		r.easit = easittest.NewServer(cfg)
		t.Cleanup(r.easit.Close)
		r.forms = cosmictest.NewServer(cosmictest.Config{Token: token, ByteOrderMark: v.byteOrderMark})
		t.Cleanup(r.forms.Close)
		w.regions[r.code] = r
		opts := []easit.Option{easit.WithRetryWait(time.Millisecond, 5*time.Millisecond), easit.WithReadBudget(time.Second), easit.WithTimeout(2 * time.Second)}
		client := easit.NewClient(r.easit.URL(), apiKey, append(opts, v.easitOptions...)...)
		w.syncer.Regions = append(w.syncer.Regions, sync.Region{
			Code: r.code, Name: r.name, OrgNumber: r.org,
			Kinds:    sync.Kinds(config.DefaultKinds),
			Statuses: sync.Statuses(statuses),
			LockForm: lockForm, UnlockForm: unlockForm,
			Tickets: easit.NewDesk(client, "VIS-1177-las", "VIS-1177-uppdatera", easit.Fields(config.DefaultFields)),
			Forms: cosmic.NewClient(r.forms.URL(), token, append([]cosmic.Option{
				cosmic.WithRetryWait(time.Millisecond, 5*time.Millisecond), cosmic.WithReadBudget(time.Second), cosmic.WithTimeout(2 * time.Second),
			}, v.formsOptions...)...),
		})
	}
	t.Cleanup(func() {
		assertNoPersonnummer(t, "the logs", w.logs.String())
		if t.Failed() {
			t.Logf("logs:\n%s", w.logs.String())
		}
	})
	return w
}

// order is a sample order and its form, valid unless a test changes them.
type order struct {
	easittest.Order
	form *cosmictest.Document // nil: the form service has no form
}

// lockOrder returns a valid lock order of ticket in the region for the
// person, created an hour ago, with a final form signed half an hour before.
func (w *world) lockOrder(code, ticket, pnr string) order {
	return w.newOrder(code, ticket, config.DefaultKinds.Lock, lockForm, pnr)
}

// unlockOrder is lockOrder for an unlock.
func (w *world) unlockOrder(code, ticket, pnr string) order {
	return w.newOrder(code, ticket, config.DefaultKinds.Unlock, unlockForm, pnr)
}

func (w *world) newOrder(code, ticket, kind string, formType lockworker.Code, pnr string) order {
	r := w.regions[code]
	created := w.clock.Now().Add(-time.Hour)
	ref := "F-" + code + "-" + ticket
	return order{
		Order: easittest.Order{
			Ticket: ticket, Status: statuses.Open, Kind: kind, Personnummer: pnr,
			Reporter: "Doktor Testsson", ReporterHSAID: "SE" + r.org + "-D" + ticket,
			FormRef: ref, Created: created,
		},
		form: &cosmictest.Document{
			ID: ref, DocStatus: "final", Type: formType, Patient: twelveDigits(w.t, pnr),
			Signer: "SE" + r.org + "-L" + ticket, Custodian: "SE" + r.org + "-1000",
			Date: created.Add(-30 * time.Minute),
		},
	}
}

// twelveDigits is the 12-digit form of a valid number, or the text itself.
func twelveDigits(t *testing.T, s string) string {
	if p, err := lockworker.ParsePersonnummer(s, start); err == nil {
		return p.Reveal()
	}
	return s
}

// add registers the order in its region's Easit and its form in the form
// service.
func (w *world) add(code string, o order) {
	r := w.regions[code]
	r.easit.AddOrder(o.Order)
	if o.form != nil {
		r.forms.Put(*o.form)
	}
}

// accounts registers existing 1177 accounts.
func (w *world) accounts(numbers ...string) {
	w.t.Helper()
	var ps []lockworker.Personnummer
	for _, n := range numbers {
		ps = append(ps, w.pnr(n))
	}
	if _, err := w.store.AddAccounts(context.Background(), ps); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) pnr(n string) lockworker.Personnummer {
	w.t.Helper()
	p, err := lockworker.ParsePersonnummer(n, w.clock.Now())
	if err != nil {
		w.t.Fatalf("test number: %v", err)
	}
	return p
}

// pass runs one pass and fails the test if it could not start.
func (w *world) pass(opts ...sync.Options) sync.Summary {
	w.t.Helper()
	var o sync.Options
	if len(opts) > 0 {
		o = opts[0]
	}
	sum, err := w.syncer.RunOnce(context.Background(), o)
	if err != nil {
		w.t.Fatalf("RunOnce: %v", err)
	}
	return sum
}

// result returns what the pass did with a ticket.
func result(t *testing.T, sum sync.Summary, code, ticket string) sync.Result {
	t.Helper()
	for _, r := range sum.Regions {
		for _, o := range r.Orders {
			if r.Code == code && o.Ticket == ticket {
				return o
			}
		}
	}
	t.Fatalf("the pass did not handle ticket %s/%s: %+v", code, ticket, sum)
	return sync.Result{}
}

// expect checks everything a first decision on a ticket leaves behind: the
// pass's result, the ticket's status and its one comment in Easit, and one
// entry in the audit trail. It returns the comment.
func (w *world) expect(sum sync.Summary, code, ticket string, outcome lockworker.Outcome, reason lockworker.Reason) string {
	w.t.Helper()
	res := result(w.t, sum, code, ticket)
	if res.Outcome != outcome || res.Reason != reason {
		w.t.Fatalf("ticket %s/%s: %s %s, want %s %s (%s)", code, ticket, res.Outcome, res.Reason, outcome, reason, res.Error)
	}
	wantStatus := map[lockworker.Outcome]string{
		lockworker.OutcomeResolved: statuses.Resolved, lockworker.OutcomeNoop: statuses.Resolved,
		lockworker.OutcomeWaiting: statuses.Waiting, lockworker.OutcomeManual: statuses.Manual,
	}[outcome]
	e := w.regions[code].easit
	if got := e.Status(ticket); got != wantStatus {
		w.t.Errorf("ticket %s/%s has status %q in Easit, want %q", code, ticket, got, wantStatus)
	}
	comments := e.Comments(ticket)
	if len(comments) != 1 {
		w.t.Fatalf("ticket %s/%s has %d comments, want 1: %q", code, ticket, len(comments), comments)
	}
	assertNoPersonnummer(w.t, "the comment", comments[0])
	if reason != lockworker.ReasonNone && !strings.Contains(comments[0], string(reason)) {
		w.t.Errorf("the comment %q does not give the reason code %s", comments[0], reason)
	}
	entries := w.audit(lockworker.AuditFilter{Region: code, Ticket: ticket})
	if len(entries) != 1 {
		w.t.Fatalf("ticket %s/%s has %d audit entries, want 1", code, ticket, len(entries))
	}
	if a := entries[0]; a.Outcome != outcome || a.Reason != reason || a.Pass != sum.Pass {
		w.t.Errorf("audit entry = %s %s in pass %s, want %s %s in pass %s", a.Outcome, a.Reason, a.Pass, outcome, reason, sum.Pass)
	}
	return comments[0]
}

func (w *world) audit(f lockworker.AuditFilter) []lockworker.AuditEntry {
	w.t.Helper()
	entries, err := w.store.Audit(context.Background(), f)
	if err != nil {
		w.t.Fatal(err)
	}
	return entries
}

// lock returns the person's active lock, if any.
func (w *world) lock(n string) (lockworker.Lock, bool) {
	w.t.Helper()
	l, ok, err := w.store.ActiveLock(context.Background(), w.pnr(n))
	if err != nil {
		w.t.Fatal(err)
	}
	return l, ok
}

// history returns every lock the person has had.
func (w *world) history(n string) []lockworker.Lock {
	w.t.Helper()
	locks, err := w.store.Locks(context.Background(), w.pnr(n))
	if err != nil {
		w.t.Fatal(err)
	}
	return locks
}

// updates counts the ticket updates a region's Easit has carried out.
func (w *world) updates(code string, tickets ...string) int {
	n := 0
	for _, id := range tickets {
		n += w.regions[code].easit.Updates(id)
	}
	return n
}

// testNumbers returns the first n adults of Skatteverket's test numbers,
// for tests that need many people.
func testNumbers(t *testing.T, n int) []string {
	t.Helper()
	var numbers []string
	for _, line := range skatteverket.Personnummer() {
		p, err := lockworker.ParsePersonnummer(line, start)
		if err == nil && !p.IsSamordningsnummer() && p.AgeOn(start) >= 18 {
			numbers = append(numbers, p.Reveal())
		}
		if len(numbers) == n {
			return numbers
		}
	}
	t.Fatalf("Skatteverket's list holds fewer than %d adults", n)
	return nil
}

// lockedBuffer is a log destination safe for the pass's goroutines.
type lockedBuffer struct {
	mu  gosync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// assertNoPersonnummer fails the test if text holds a valid personnummer in
// clear, in any of its accepted forms.
func assertNoPersonnummer(t *testing.T, what, text string) {
	t.Helper()
	pnrtest.AssertNone(t, what, text, start)
}
