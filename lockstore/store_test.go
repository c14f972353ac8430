package lockstore_test

import (
	"bufio"
	"errors"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lockworker/lockworker"
	"github.com/lockworker/lockworker/lockstore"
	"github.com/lockworker/lockworker/lockstore/lockstoretest"
)

// The suite runs every test on both databases; each test has a fresh
// database of its own.

func TestSQLite(t *testing.T) {
	t.Parallel()
	runStoreSuite(t, backend{driver: "sqlite", freshDSN: lockstoretest.SQLiteDSN})
}

func TestPostgres(t *testing.T) {
	t.Parallel()
	runStoreSuite(t, backend{driver: "postgres", freshDSN: lockstoretest.PostgresDSN})
}

func runStoreSuite(t *testing.T, b backend) {
	tests := []struct {
		name string
		run  func(*testing.T, backend)
	}{
		{"accounts are added once", testAccounts},
		{"lifting a lock keeps it, and a later lock is a new one", testLockHistory},
		{"the database refuses a second active lock", testOneActiveLock},
		{"Record advances the ledger and audits the decision", testRecord},
		{"Record refuses a decision based on changed state", testRecordConflicts},
		{"Record refuses a decision no state could make right", testRecordInvalid},
		{"a failing step of Record leaves nothing behind", testRecordRollback},
		{"one live process at a time may send a ticket's update", testClaims},
		{"a view read before a decision never confirms it", testConfirmSeen},
		{"the audit trail is filtered and newest last", testAuditFilters},
		{"the database refuses to change the audit trail", testAuditAppendOnly},
		{"passes are recorded and listed newest last", testPasses},
		{"times are kept in UTC", testTimesInUTC},
		{"reopening keeps the data and the schema", testReopen},
		{"an older store is migrated in place with nothing lost", testMigrateAnOlderStore},
		{"a reader creates, migrates and writes nothing", testReaderWritesNothing},
		{"Check finds a missing, older or current store, and writes nothing", testCheck},
		{"a closed store reports errors naming the operation", testClosed},
		{"stores opening together share one schema", testOpenRace},
		{"of stores racing to record, one wins", testRecordRaces},
		{"of stores racing to claim an update, one wins", testClaimRace},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			tt.run(t, b)
		})
	}
}

// backend is a database the suite runs on.
type backend struct {
	driver   string
	freshDSN func(testing.TB) string // a fresh, empty database for one test
}

// lease is the tests' claim lease.
const lease = 2 * time.Minute

// start is when every test's clock starts.
var start = time.Date(2025, time.March, 10, 9, 0, 0, 0, time.UTC)

// setup opens a store on a fresh database, with a clock the test turns.
func (b backend) setup(t *testing.T) (*lockstore.Store, *clock) {
	t.Helper()
	clk := &clock{now: start}
	return b.open(t, b.freshDSN(t), clk), clk
}

// open opens another store, such as another process would, on dsn.
func (b backend) open(t *testing.T, dsn string, clk *clock) *lockstore.Store {
	t.Helper()
	return lockstoretest.Open(t, b.driver, dsn, lockstore.Options{Now: clk.Now, ClaimLease: lease})
}

// clock is a time that moves only when the test says so.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// Skatteverket test numbers.
var (
	anna    = mustPN("199908072391")
	bertil  = mustPN("200001012384")
	cecilia = mustPN("196408233234")
	david   = mustPN("192001011564")
)

func mustPN(s string) lockworker.Personnummer {
	pn, err := lockworker.ParsePersonnummer(s, start)
	if err != nil {
		panic(err)
	}
	return pn
}

// lockOrder is the decision to lock pn on a new ticket of region 07.
func lockOrder(ticket string, pn lockworker.Personnummer, at time.Time) lockworker.Decision {
	return lockworker.Decision{
		Pass:          "pass-1",
		At:            at,
		Region:        "07",
		Ticket:        ticket,
		Kind:          lockworker.KindLock,
		Outcome:       lockworker.OutcomeResolved,
		Personnummer:  pn,
		Reporter:      "Test Testsson",
		ReporterHSAID: "SE2321000065-lak1",
		Evidence:      lockworker.Evidence{Form: "form-" + ticket, Signer: "SE2321000065-lak1", SignedAt: at.Add(-time.Hour)},
		Change:        lockworker.ChangeLock,
		Status:        "Löst",
		Comment:       "Inloggningen till 1177 är låst.",
	}
}

// unlockOrder is the decision to lift pn's lock id on a new ticket of
// region 07.
func unlockOrder(ticket string, pn lockworker.Personnummer, id int64, at time.Time) lockworker.Decision {
	d := lockOrder(ticket, pn, at)
	d.Kind = lockworker.KindUnlock
	d.Change = lockworker.ChangeUnlock
	d.ActiveLock = id
	d.Comment = "Låsningen är hävd."
	return d
}

// manualOrder is the decision to send a new ticket of region to manual
// handling because it names no valid personnummer.
func manualOrder(region, ticket string, at time.Time) lockworker.Decision {
	return lockworker.Decision{
		Pass:    "pass-1",
		At:      at,
		Region:  region,
		Ticket:  ticket,
		Kind:    lockworker.KindLock,
		Outcome: lockworker.OutcomeManual,
		Reason:  lockworker.ReasonInvalidPersonnummer,
		Status:  "Manuell hantering",
		Comment: "Personnumret är ogiltigt.",
	}
}

func record(t *testing.T, s *lockstore.Store, d lockworker.Decision) {
	t.Helper()
	if err := s.Record(t.Context(), d); err != nil {
		t.Fatalf("Record(ticket %s): %v", d.Ticket, err)
	}
}

func confirm(t *testing.T, s *lockstore.Store, region, ticket string, round int) {
	t.Helper()
	if err := s.ConfirmSent(t.Context(), region, ticket, round); err != nil {
		t.Fatalf("ConfirmSent(%s, %s, %d): %v", region, ticket, round, err)
	}
}

// activeLock is pn's active lock, the zero Lock for none.
func activeLock(t *testing.T, s *lockstore.Store, pn lockworker.Personnummer) lockworker.Lock {
	t.Helper()
	lock, ok, err := s.ActiveLock(t.Context(), pn)
	if err != nil {
		t.Fatalf("ActiveLock: %v", err)
	}
	if ok != (lock.ID != 0) {
		t.Fatalf("ActiveLock = %+v, %v: found and ID disagree", lock, ok)
	}
	return lock
}

// activeLockID is the ID of pn's active lock, 0 for none.
func activeLockID(t *testing.T, s *lockstore.Store, pn lockworker.Personnummer) int64 {
	t.Helper()
	return activeLock(t, s, pn).ID
}

func ledger(t *testing.T, s *lockstore.Store, region, ticket string) (lockworker.LedgerEntry, bool) {
	t.Helper()
	entry, ok, err := s.Ledger(t.Context(), region, ticket)
	if err != nil {
		t.Fatalf("Ledger(%s, %s): %v", region, ticket, err)
	}
	return entry, ok
}

func audit(t *testing.T, s *lockstore.Store, f lockworker.AuditFilter) []lockworker.AuditEntry {
	t.Helper()
	entries, err := s.Audit(t.Context(), f)
	if err != nil {
		t.Fatalf("Audit(%+v): %v", f, err)
	}
	return entries
}

func locks(t *testing.T, s *lockstore.Store, pn lockworker.Personnummer) []lockworker.Lock {
	t.Helper()
	all, err := s.Locks(t.Context(), pn)
	if err != nil {
		t.Fatalf("Locks: %v", err)
	}
	return all
}

// state is what a decision on one ticket and one person can change.
type state struct {
	Ledger   lockworker.LedgerEntry
	InLedger bool
	Locks    []lockworker.Lock
	Audit    []lockworker.AuditEntry
}

func snapshot(t *testing.T, s *lockstore.Store, region, ticket string, pn lockworker.Personnummer) state {
	t.Helper()
	entry, ok := ledger(t, s, region, ticket)
	return state{Ledger: entry, InLedger: ok, Locks: locks(t, s, pn), Audit: audit(t, s, lockworker.AuditFilter{})}
}

func assertUnchanged(t *testing.T, before, after state) {
	t.Helper()
	if !reflect.DeepEqual(before, after) {
		t.Errorf("the store changed:\nbefore %+v\nafter  %+v", before, after)
	}
}

func testAccounts(t *testing.T, b backend) {
	s, clk := b.setup(t)
	many := readTestNumbers(t)

	// Each import builds on the ones before, an hour later.
	imports := []struct {
		name      string
		pns       []lockworker.Personnummer
		wantAdded int
	}{
		{"a first import adds every number", []lockworker.Personnummer{anna, bertil}, 2},
		{"the same import again adds nothing", []lockworker.Personnummer{anna, bertil}, 0},
		{"only new numbers are added, once each", []lockworker.Personnummer{bertil, cecilia, cecilia}, 1},
		{"an empty import adds nothing", nil, 0},
		{"a large import is added in several batches", many, len(many)},
		{"and again adds nothing", many, 0},
	}
	for _, imp := range imports {
		added, err := s.AddAccounts(t.Context(), imp.pns)
		if err != nil {
			t.Fatalf("%s: AddAccounts: %v", imp.name, err)
		}
		if added != imp.wantAdded {
			t.Errorf("%s: added %d, want %d", imp.name, added, imp.wantAdded)
		}
		clk.Advance(time.Hour)
	}

	// An account keeps the time it was first registered.
	registered := map[lockworker.Personnummer]time.Time{anna: start, cecilia: start.Add(2 * time.Hour)}
	for pn, want := range registered {
		var got time.Time
		err := s.DB().Raw("SELECT registered_at FROM accounts WHERE personnummer = ?", pn.Reveal()).Row().Scan(&got)
		if err != nil || !got.Equal(want) {
			t.Errorf("%v registered at %v (%v), want %v", pn, got, err, want)
		}
	}

	if _, err := s.AddAccounts(t.Context(), []lockworker.Personnummer{david, {}}); err == nil {
		t.Error("AddAccounts with an empty number: no error")
	}

	has := map[lockworker.Personnummer]bool{anna: true, bertil: true, cecilia: true, many[len(many)-1]: true, david: false}
	for pn, want := range has {
		got, err := s.HasAccount(t.Context(), pn)
		if err != nil {
			t.Fatalf("HasAccount: %v", err)
		}
		if got != want {
			t.Errorf("HasAccount(%v) = %v, want %v", pn, got, want)
		}
	}
}

// readTestNumbers reads the test numbers of testdata/testpersonnummer.txt.
func readTestNumbers(t *testing.T) []lockworker.Personnummer {
	t.Helper()
	f, err := os.Open("testdata/testpersonnummer.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var pns []lockworker.Personnummer
	lines := bufio.NewScanner(f)
	for lines.Scan() {
		if line := lines.Text(); !strings.HasPrefix(line, "#") {
			pns = append(pns, mustPN(line))
		}
	}
	if err := lines.Err(); err != nil {
		t.Fatal(err)
	}
	return pns
}

func testLockHistory(t *testing.T, b backend) {
	s, clk := b.setup(t)

	record(t, s, lockOrder("55", anna, clk.Now()))
	first := activeLockID(t, s, anna)
	if first == 0 {
		t.Fatal("no active lock after the lock order")
	}
	confirm(t, s, "07", "55", 1)

	clk.Advance(24 * time.Hour)
	unlock := unlockOrder("56", anna, first, clk.Now())
	unlock.Region = "06"
	record(t, s, unlock)
	if id := activeLockID(t, s, anna); id != 0 {
		t.Fatalf("active lock %d after the unlock order", id)
	}

	clk.Advance(24 * time.Hour)
	record(t, s, lockOrder("57", anna, clk.Now()))

	want := []lockworker.Lock{
		{
			ID: first, Personnummer: anna, Region: "07", Ticket: "55", Form: "form-55", LockedAt: start,
			LiftedAt: start.Add(24 * time.Hour), LiftedRegion: "06", LiftedTicket: "56", LiftedForm: "form-56",
		},
		{ID: activeLockID(t, s, anna), Personnummer: anna, Region: "07", Ticket: "57", Form: "form-57", LockedAt: start.Add(48 * time.Hour)},
	}
	if got := locks(t, s, anna); !reflect.DeepEqual(got, want) {
		t.Errorf("Locks =\n%+v\nwant\n%+v", got, want)
	}
	if want[1].ID == first {
		t.Errorf("the later lock reuses the lifted lock's ID %d", first)
	}
	if n, err := s.CountActiveLocks(t.Context()); err != nil || n != 1 {
		t.Errorf("CountActiveLocks = %d, %v; want 1", n, err)
	}
}

func testOneActiveLock(t *testing.T, b backend) {
	s, clk := b.setup(t)
	record(t, s, lockOrder("55", anna, clk.Now()))

	// Behind the store's back, straight into the table.
	insert := func(liftedAt any) error {
		return s.DB().Exec(`INSERT INTO locks
			(personnummer, region, ticket, form, locked_at, proxy_suspended, lifted_at, lifted_region, lifted_ticket, lifted_form)
			VALUES (?, '07', '99', 'form-99', ?, false, ?, '', '', '')`,
			anna.Reveal(), start, liftedAt).Error
	}
	if err := insert(nil); err == nil {
		t.Error("a second active lock for one person was accepted")
	}
	if err := insert(start.Add(time.Hour)); err != nil {
		t.Errorf("a second, lifted lock for one person was refused: %v", err)
	}
	if got := len(locks(t, s, anna)); got != 2 {
		t.Errorf("%d locks, want the active one and the lifted one", got)
	}
}

func testRecord(t *testing.T, b backend) {
	s, clk := b.setup(t)

	lock := lockOrder("55", anna, clk.Now())
	lock.ProxySuspended = true
	record(t, s, lock)
	want := lockworker.LedgerEntry{
		Region: "07", Ticket: "55", Round: 1, Kind: lockworker.KindLock, Outcome: lockworker.OutcomeResolved,
		Status: "Löst", Comment: "Inloggningen till 1177 är låst.", DecidedAt: start, AppliedAt: start,
		Decided: 1, Reporter: "Test Testsson", ReporterHSAID: "SE2321000065-lak1",
	}
	if got, _ := ledger(t, s, "07", "55"); !reflect.DeepEqual(got, want) {
		t.Errorf("ledger after the lock =\n%+v\nwant\n%+v", got, want)
	}
	active := activeLock(t, s, anna)
	if !active.ProxySuspended {
		t.Error("the lock does not record that the proxy is suspended")
	}

	// The agent sets the ticket back to open after the update was confirmed:
	// it is decided afresh, and this time there is nothing to change.
	clk.Advance(time.Minute)
	confirm(t, s, "07", "55", 1)
	clk.Advance(time.Hour)
	again := lockOrder("55", anna, clk.Now())
	again.Round = 1
	again.ActiveLock = active.ID
	again.Outcome = lockworker.OutcomeNoop
	again.Change = lockworker.ChangeNone
	again.Comment = "Inloggningen var redan låst."
	record(t, s, again)
	want = lockworker.LedgerEntry{
		Region: "07", Ticket: "55", Round: 2, Kind: lockworker.KindLock, Outcome: lockworker.OutcomeNoop,
		Status: "Löst", Comment: "Inloggningen var redan låst.", DecidedAt: clk.Now(),
		Decided: 3, Reporter: "Test Testsson", ReporterHSAID: "SE2321000065-lak1",
	}
	if got, _ := ledger(t, s, "07", "55"); !reflect.DeepEqual(got, want) {
		t.Errorf("ledger after the noop =\n%+v\nwant\n%+v", got, want)
	}

	// A decision without a personnummer changes no lock and is audited all
	// the same.
	record(t, s, manualOrder("07", "60", clk.Now()))

	wantAudit := []lockworker.AuditEntry{
		{
			Pass: "pass-1", At: start, Region: "07", Ticket: "55", Kind: lockworker.KindLock,
			Outcome: lockworker.OutcomeResolved, Personnummer: anna, Reporter: "Test Testsson", ReporterHSAID: "SE2321000065-lak1",
			Evidence: lockworker.Evidence{Form: "form-55", Signer: "SE2321000065-lak1", SignedAt: start.Add(-time.Hour)},
		},
		{
			Pass: "pass-1", At: clk.Now(), Region: "07", Ticket: "55", Kind: lockworker.KindLock,
			Outcome: lockworker.OutcomeNoop, Personnummer: anna, Reporter: "Test Testsson", ReporterHSAID: "SE2321000065-lak1",
			Evidence: lockworker.Evidence{Form: "form-55", Signer: "SE2321000065-lak1", SignedAt: clk.Now().Add(-time.Hour)},
		},
		{
			Pass: "pass-1", At: clk.Now(), Region: "07", Ticket: "60", Kind: lockworker.KindLock,
			Outcome: lockworker.OutcomeManual, Reason: lockworker.ReasonInvalidPersonnummer,
		},
	}
	got := audit(t, s, lockworker.AuditFilter{})
	for i := range got {
		got[i].ID = 0 // assigned by the database
	}
	if !reflect.DeepEqual(got, wantAudit) {
		t.Errorf("audit =\n%+v\nwant\n%+v", got, wantAudit)
	}
	if n, err := s.CountActiveLocks(t.Context()); err != nil || n != 1 {
		t.Errorf("CountActiveLocks = %d, %v; want 1", n, err)
	}
}

func testRecordConflicts(t *testing.T, b backend) {
	tests := []struct {
		name string
		// prepare brings the store to the state the decision meets.
		prepare func(t *testing.T, s *lockstore.Store, clk *clock)
		// decide is the decision, based on a state that is no longer so.
		decide func(t *testing.T, s *lockstore.Store, clk *clock) lockworker.Decision
	}{
		{
			name: "the ticket was decided meanwhile",
			prepare: func(t *testing.T, s *lockstore.Store, clk *clock) {
				record(t, s, lockOrder("55", anna, clk.Now()))
			},
			decide: func(t *testing.T, s *lockstore.Store, clk *clock) lockworker.Decision {
				return manualOrder("07", "55", clk.Now())
			},
		},
		{
			name: "the ticket was never decided",
			decide: func(t *testing.T, s *lockstore.Store, clk *clock) lockworker.Decision {
				d := manualOrder("07", "55", clk.Now())
				d.Round = 1
				return d
			},
		},
		{
			name: "the ticket was decided again meanwhile",
			prepare: func(t *testing.T, s *lockstore.Store, clk *clock) {
				record(t, s, manualOrder("07", "55", clk.Now()))
				confirm(t, s, "07", "55", 1)
				d := manualOrder("07", "55", clk.Now())
				d.Round = 1
				record(t, s, d)
				confirm(t, s, "07", "55", 2)
			},
			decide: func(t *testing.T, s *lockstore.Store, clk *clock) lockworker.Decision {
				d := manualOrder("07", "55", clk.Now())
				d.Round = 1
				return d
			},
		},
		{
			name: "the ticket's update is not confirmed yet",
			prepare: func(t *testing.T, s *lockstore.Store, clk *clock) {
				record(t, s, manualOrder("07", "55", clk.Now()))
			},
			decide: func(t *testing.T, s *lockstore.Store, clk *clock) lockworker.Decision {
				d := manualOrder("07", "55", clk.Now())
				d.Round = 1
				return d
			},
		},
		{
			name: "the person was locked meanwhile",
			prepare: func(t *testing.T, s *lockstore.Store, clk *clock) {
				record(t, s, lockOrder("54", anna, clk.Now()))
			},
			decide: func(t *testing.T, s *lockstore.Store, clk *clock) lockworker.Decision {
				return lockOrder("55", anna, clk.Now())
			},
		},
		{
			name: "the person's lock was lifted meanwhile",
			prepare: func(t *testing.T, s *lockstore.Store, clk *clock) {
				record(t, s, lockOrder("53", anna, clk.Now()))
				record(t, s, unlockOrder("54", anna, activeLockID(t, s, anna), clk.Now()))
			},
			decide: func(t *testing.T, s *lockstore.Store, clk *clock) lockworker.Decision {
				lifted := locks(t, s, anna)[0].ID
				return unlockOrder("55", anna, lifted, clk.Now())
			},
		},
		{
			name: "the person was unlocked and locked again meanwhile",
			prepare: func(t *testing.T, s *lockstore.Store, clk *clock) {
				record(t, s, lockOrder("52", anna, clk.Now()))
				record(t, s, unlockOrder("53", anna, activeLockID(t, s, anna), clk.Now()))
				record(t, s, lockOrder("54", anna, clk.Now()))
			},
			decide: func(t *testing.T, s *lockstore.Store, clk *clock) lockworker.Decision {
				lifted := locks(t, s, anna)[0].ID
				return unlockOrder("55", anna, lifted, clk.Now())
			},
		},
		{
			name: "the person has an active lock, which the decision would duplicate",
			prepare: func(t *testing.T, s *lockstore.Store, clk *clock) {
				record(t, s, lockOrder("54", anna, clk.Now()))
			},
			decide: func(t *testing.T, s *lockstore.Store, clk *clock) lockworker.Decision {
				d := lockOrder("55", anna, clk.Now())
				d.ActiveLock = activeLockID(t, s, anna)
				return d
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, clk := b.setup(t)
			if tt.prepare != nil {
				tt.prepare(t, s, clk)
			}
			clk.Advance(time.Hour)
			d := tt.decide(t, s, clk)
			before := snapshot(t, s, d.Region, d.Ticket, anna)

			err := s.Record(t.Context(), d)
			if !errors.Is(err, lockworker.ErrConflict) {
				t.Fatalf("Record: %v, want ErrConflict", err)
			}
			assertUnchanged(t, before, snapshot(t, s, d.Region, d.Ticket, anna))
		})
	}
}

func testRecordInvalid(t *testing.T, b backend) {
	tests := []struct {
		name   string
		mutate func(*lockworker.Decision)
	}{
		{"no region", func(d *lockworker.Decision) { d.Region = "" }},
		{"no ticket", func(d *lockworker.Decision) { d.Ticket = "" }},
		{"no time", func(d *lockworker.Decision) { d.At = time.Time{} }},
		{"a negative round", func(d *lockworker.Decision) { d.Round = -1 }},
		{"an unknown change", func(d *lockworker.Decision) { d.Change = 7 }},
		{"a lock of nobody", func(d *lockworker.Decision) { d.Personnummer = lockworker.Personnummer{} }},
		{"an unlock of no lock", func(d *lockworker.Decision) { d.Change = lockworker.ChangeUnlock }},
	}
	s, _ := b.setup(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := lockOrder("55", anna, start)
			tt.mutate(&d)
			before := snapshot(t, s, "07", "55", anna)

			err := s.Record(t.Context(), d)
			if err == nil || errors.Is(err, lockworker.ErrConflict) {
				t.Fatalf("Record: %v, want an error other than ErrConflict (deciding again cannot help)", err)
			}
			assertUnchanged(t, before, snapshot(t, s, "07", "55", anna))
		})
	}
}

func testRecordRollback(t *testing.T, b backend) {
	// Each decision is a new lock order: its first step, the ledger entry,
	// succeeds, and a later step fails.
	tests := []struct {
		name    string
		prepare func(t *testing.T, s *lockstore.Store)
		// basedOnActive bases the decision on the person's active lock.
		basedOnActive bool
		// restore undoes the sabotage of prepare after the decision.
		restore func(t *testing.T, s *lockstore.Store)
		wantErr error // nil for any error
	}{
		{
			name: "the active lock check fails",
			prepare: func(t *testing.T, s *lockstore.Store) {
				record(t, s, lockOrder("54", anna, start))
			},
			wantErr: lockworker.ErrConflict,
		},
		{
			name: "inserting the lock fails",
			prepare: func(t *testing.T, s *lockstore.Store) {
				record(t, s, lockOrder("54", anna, start))
			},
			basedOnActive: true,
			wantErr:       lockworker.ErrConflict,
		},
		{
			name: "appending to the audit trail fails",
			prepare: func(t *testing.T, s *lockstore.Store) {
				if err := s.DB().Exec("ALTER TABLE audit_entries RENAME TO audit_entries_gone").Error; err != nil {
					t.Fatal(err)
				}
			},
			restore: func(t *testing.T, s *lockstore.Store) {
				if err := s.DB().Exec("ALTER TABLE audit_entries_gone RENAME TO audit_entries").Error; err != nil {
					t.Fatal(err)
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, clk := b.setup(t)
			tt.prepare(t, s)
			locksBefore := locks(t, s, anna)
			d := lockOrder("55", anna, clk.Now())
			if tt.basedOnActive {
				d.ActiveLock = activeLockID(t, s, anna)
			}

			err := s.Record(t.Context(), d)
			if err == nil || (tt.wantErr != nil && !errors.Is(err, tt.wantErr)) {
				t.Fatalf("Record: %v, want %v", err, tt.wantErr)
			}
			if tt.restore != nil {
				tt.restore(t, s)
			}
			if entry, ok := ledger(t, s, "07", "55"); ok {
				t.Errorf("the ledger entry survived: %+v", entry)
			}
			if got := locks(t, s, anna); !reflect.DeepEqual(got, locksBefore) {
				t.Errorf("locks = %+v, want them as before, %+v", got, locksBefore)
			}
			if got := audit(t, s, lockworker.AuditFilter{Ticket: "55"}); len(got) != 0 {
				t.Errorf("the audit entry survived: %+v", got)
			}
		})
	}
}

func testTimesInUTC(t *testing.T, b backend) {
	s, clk := b.setup(t)
	// A clock and times in zones other than UTC, finer than the database
	// keeps them.
	clk.now = time.Date(2025, time.March, 10, 10, 0, 0, 123456789, lockworker.Stockholm)
	at := clk.Now().In(time.FixedZone("UTC+5", 5*60*60))
	d := lockOrder("55", anna, at)
	d.Evidence.SignedAt = at.Add(-time.Hour).In(time.FixedZone("UTC-3", -3*60*60))
	record(t, s, d)
	confirm(t, s, "07", "55", 1)
	pass := lockworker.PassRecord{ID: "p1", StartedAt: at, FinishedAt: at.Add(time.Second)}
	if err := s.RecordPass(t.Context(), pass); err != nil {
		t.Fatal(err)
	}

	lock := activeLock(t, s, anna)
	entry, _ := ledger(t, s, "07", "55")
	trail := audit(t, s, lockworker.AuditFilter{})
	passes, err := s.Passes(t.Context(), 1)
	if err != nil || len(trail) != 1 || len(passes) != 1 {
		t.Fatalf("read back %d audit entries and %d passes (%v), want 1 and 1", len(trail), len(passes), err)
	}
	tests := []struct {
		name      string
		got, want time.Time
	}{
		{"lock time", lock.LockedAt, at},
		{"decision time", entry.DecidedAt, at},
		{"application time", entry.AppliedAt, at},
		{"confirmation time", entry.ConfirmedAt, clk.Now()},
		{"audit time", trail[0].At, at},
		{"signing time", trail[0].Evidence.SignedAt, d.Evidence.SignedAt},
		{"pass start", passes[0].StartedAt, pass.StartedAt},
		{"pass end", passes[0].FinishedAt, pass.FinishedAt},
	}
	for _, tt := range tests {
		want := tt.want.UTC().Truncate(time.Microsecond)
		if tt.got.Location() != time.UTC || !tt.got.Equal(want) {
			t.Errorf("%s = %v, want %v", tt.name, tt.got, want)
		}
	}

}

func testReopen(t *testing.T, b backend) {
	dsn := b.freshDSN(t)
	clk := &clock{now: start}
	first := b.open(t, dsn, clk)
	if _, err := first.AddAccounts(t.Context(), []lockworker.Personnummer{anna}); err != nil {
		t.Fatal(err)
	}
	record(t, first, lockOrder("55", anna, start))
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}

	again := b.open(t, dsn, clk)
	if ok, err := again.HasAccount(t.Context(), anna); err != nil || !ok {
		t.Errorf("HasAccount after reopening = %v, %v; want true", ok, err)
	}
	if id := activeLockID(t, again, anna); id == 0 {
		t.Error("the lock is gone after reopening")
	}
	if got := len(audit(t, again, lockworker.AuditFilter{})); got != 1 {
		t.Errorf("%d audit entries after reopening, want 1", got)
	}
	if err := again.DB().Exec("DELETE FROM audit_entries").Error; err == nil {
		t.Error("the audit trail is no longer append-only after reopening")
	}
	if err := again.DB().Exec(`INSERT INTO locks
		(personnummer, region, ticket, form, locked_at, proxy_suspended, lifted_region, lifted_ticket, lifted_form)
		VALUES (?, '07', '99', 'form-99', ?, false, '', '', '')`, anna.Reveal(), start).Error; err == nil {
		t.Error("a second active lock is accepted after reopening")
	}
}

func testClosed(t *testing.T, b backend) {
	s, _ := b.setup(t)
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	ctx := t.Context()
	tests := []struct {
		call string
		err  func() error
		want string // the operation the error names
	}{
		{"Ping", func() error { return s.Ping(ctx) }, "ping lock store"},
		{"AddAccounts", func() error { _, err := s.AddAccounts(ctx, []lockworker.Personnummer{anna}); return err }, "add 1 accounts"},
		{"HasAccount", func() error { _, err := s.HasAccount(ctx, anna); return err }, "look up account"},
		{"ActiveLock", func() error { _, _, err := s.ActiveLock(ctx, anna); return err }, "look up the active lock"},
		{"Locks", func() error { _, err := s.Locks(ctx, anna); return err }, "list the locks"},
		{"CountActiveLocks", func() error { _, err := s.CountActiveLocks(ctx); return err }, "count active locks"},
		{"Ledger", func() error { _, _, err := s.Ledger(ctx, "07", "55"); return err }, "read the ledger entry"},
		{"Record", func() error { return s.Record(ctx, lockOrder("55", anna, start)) }, "record decision"},
		{"Mark", func() error { _, err := s.Mark(ctx); return err }, "read the lock store's clock"},
		{"ClaimUpdate", func() error { _, err := s.ClaimUpdate(ctx, "07", "55", 1, 0); return err }, "claim the update"},
		{"RenewUpdate", func() error { _, err := s.RenewUpdate(ctx, "07", "55", 1); return err }, "renew the claim"},
		{"ReleaseUpdate", func() error { return s.ReleaseUpdate(ctx, "07", "55", 1, "") }, "release the update"},
		{"ConfirmSent", func() error { return s.ConfirmSent(ctx, "07", "55", 1) }, "confirm the update"},
		{"History", func() error { _, err := s.History(ctx, "07", "55"); return err }, "read the history"},
		{"Audit", func() error { _, err := s.Audit(ctx, lockworker.AuditFilter{}); return err }, "read the audit trail"},
		{"RecordPass", func() error { return s.RecordPass(ctx, lockworker.PassRecord{ID: "p1"}) }, "record pass"},
		{"Passes", func() error { _, err := s.Passes(ctx, 1); return err }, "list passes"},
	}
	for _, tt := range tests {
		err := tt.err()
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%s on a closed store: %v, want an error naming %q", tt.call, err, tt.want)
		}
		if errors.Is(err, lockworker.ErrConflict) {
			t.Errorf("%s on a closed store: %v, which is no conflict", tt.call, err)
		}
	}
}
