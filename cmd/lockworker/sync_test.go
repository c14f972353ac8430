package main

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lockworker/lockworker"
	"github.com/lockworker/lockworker/cosmic/cosmictest"
	"github.com/lockworker/lockworker/easit"
	"github.com/lockworker/lockworker/easit/easittest"
	"github.com/lockworker/lockworker/lockstore/lockstoretest"
	"github.com/lockworker/lockworker/sync"
)

// A pass carries out every region's orders and tells each ticket once; a
// second pass right after finds nothing left to do. The same on SQLite and
// on PostgreSQL.
func TestSyncCarriesOutOrders(t *testing.T) {
	t.Parallel()
	stores := []struct {
		driver string
		dsn    func(testing.TB) string
	}{
		{"sqlite", lockstoretest.SQLiteDSN},
		{"postgres", lockstoretest.PostgresDSN}, // skipped without a test PostgreSQL, unless CI=true
	}
	for _, store := range stores {
		t.Run(store.driver, func(t *testing.T) {
			t.Parallel()
			e := setupStore(t, store.driver, store.dsn(t))
			e.accounts(adult, otherAdult)
			e.order("07", "55", lockKind, adult)
			e.order("12", "101", lockKind, noAccount)
			e.order("12", "102", unlockKind, otherAdult)

			res := e.sync()
			rows := summaryRows(t, res.stdout)
			first, _, _ := strings.Cut(res.stdout, "\n")
			id, started, ok := strings.Cut(strings.TrimPrefix(first, "pass "), ", started ")
			if _, err := parseDisplayTime(started); !ok || err != nil || !passID.MatchString(id) {
				t.Errorf("the summary begins %q (%v), want the pass id and when it started, as 2026-11-30 14:05 CET", first, err)
			}
			tickets := []struct {
				region, ticket string
				row            []string // ticket, kind, outcome, reason, action
				status         string
				comment        string
			}{
				{"07", "55", []string{"55", "lock", "resolved", "-", "decided"}, resolved, "är låst"},
				{"12", "101", []string{"101", "lock", "manual", "no_account", "decided"}, manual, "inget konto"},
				{"12", "102", []string{"102", "unlock", "noop", "-", "decided"}, resolved, "var inte låst"},
			}
			for _, tt := range tickets {
				id := tt.region + "/" + tt.ticket
				if got := rows[id]; !slices.Equal(got, tt.row) {
					t.Errorf("summary row of %s = %q, want %q", id, got, tt.row)
				}
				fake := e.region(tt.region).easit
				comments := fake.Comments(tt.ticket)
				if fake.Status(tt.ticket) != tt.status || len(comments) != 1 || !strings.Contains(comments[0], tt.comment) {
					t.Errorf("ticket %s in Easit: status %q, comments %q; want %q and one comment saying %q", id, fake.Status(tt.ticket), comments, tt.status, tt.comment)
				}
			}
			if state := e.status(adult); state["locked"] != true || state["region"] != "07" || state["ticket"] != "55" {
				t.Errorf("status of the adult after the lock = %v, want locked at 07's request on ticket 55", state)
			}

			// One log event per decision, with the personnummer as a
			// pseudonym only.
			decisions := map[string]map[string]any{}
			for _, ev := range logEvents(t, res.stderr) {
				if ev["message"] == "order" {
					decisions[fmt.Sprintf("%v/%v", ev["region"], ev["ticket"])] = ev
				}
			}
			for _, tt := range tickets {
				ev := decisions[tt.region+"/"+tt.ticket]
				if !passID.MatchString(fmt.Sprint(ev["pass"])) || ev["kind"] != tt.row[1] || ev["outcome"] != tt.row[2] ||
					dash(fmt.Sprint(ev["reason"])) != tt.row[3] || !pseudonym.MatchString(fmt.Sprint(ev["person"])) {
					t.Errorf("log event of %s/%s = %v, want its pass, kind %s, outcome %s, reason %s and a pseudonym", tt.region, tt.ticket, ev, tt.row[1], tt.row[2], tt.row[3])
				}
			}
			if len(decisions) != len(tickets) {
				t.Errorf("%d order events logged, want %d:\n%s", len(decisions), len(tickets), res.stderr)
			}

			// A second pass right after: every ticket is resolved or with
			// manual handling, and nothing is written to Easit again.
			res = e.sync()
			if n := strings.Count(res.stdout, "no open orders"); n != 2 {
				t.Errorf("second pass: %d regions without open orders, want 2:\n%s", n, res.stdout)
			}
			for _, tt := range tickets {
				fake := e.region(tt.region).easit
				if n, comments := fake.Updates(tt.ticket), fake.Comments(tt.ticket); n != 1 || len(comments) != 1 {
					t.Errorf("after a second pass, ticket %s/%s had %d updates and comments %q, want 1 and 1", tt.region, tt.ticket, n, comments)
				}
			}
			if n := len(e.audit()); n != len(tickets) {
				t.Errorf("the audit trail holds %d decisions after two passes, want %d", n, len(tickets))
			}
		})
	}
}

// sync exits 0 only when every region was read and every order got an
// outcome other than error; a failing region or order does not stop the
// others.
func TestSyncExitStatus(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		// fail makes something fail.
		fail func(e *env)
		// slow marks a case that waits out the 10-second read budget of
		// every read of Easit.
		slow bool
		want int
		// carriedOut and untouched are the orders ("07/55") that were, and
		// were not, resolved in Easit.
		carriedOut, untouched []string
		// wantOut is in the summary.
		wantOut string
	}{
		{
			name:       "every region read and no order errored",
			fail:       func(*env) {},
			want:       exitOK,
			carriedOut: []string{"07/55", "07/56", "12/101"},
			wantOut:    "3 resolved, 0 noop, 0 waiting, 0 manual, 0 error",
		},
		{
			name:       "a region's Easit refuses the API key",
			fail:       func(e *env) { e.vars["EASIT_07_KEY"] = "a revoked key" },
			want:       exitFailed,
			carriedOut: []string{"12/101"},
			untouched:  []string{"07/55", "07/56"},
			wantOut:    "HTTP 401 Unauthorized",
		},
		{
			name: "a region's Easit view has a column labelled twice",
			fail: func(e *env) {
				columnTwice(e, "07")
				e.order("07", "55", lockKind, adult)
				e.order("07", "56", lockKind, otherAdult)
			},
			want:       exitFailed,
			carriedOut: []string{"12/101"},
			untouched:  []string{"07/55", "07/56"},
			wantOut:    `could not be read: read the tickets of view "VIS-1177-las": view "VIS-1177-las" has 2 columns labelled "Personnummer"`,
		},
		{
			name: "a region's Easit fails every read",
			fail: func(e *env) {
				e.region("07").easit.SetFault(func(c easittest.Call) *easittest.Fault {
					if c.Op == easit.OpList {
						return &easittest.Fault{Status: http.StatusInternalServerError, Body: "Internal server error"}
					}
					return nil
				})
			},
			slow:       true,
			want:       exitFailed,
			carriedOut: []string{"12/101"},
			untouched:  []string{"07/55", "07/56"},
			wantOut:    "read budget of 10s spent: context deadline exceeded (last answer HTTP 500",
		},
		{
			name: "a region's form service fails on one order",
			fail: func(e *env) {
				e.region("07").forms.SetFault(func(c cosmictest.Call) *cosmictest.Fault {
					if c.Ref == "blankett-07-56" {
						return &cosmictest.Fault{Status: http.StatusForbidden}
					}
					return nil
				})
			},
			want:       exitFailed,
			carriedOut: []string{"07/55", "12/101"},
			untouched:  []string{"07/56"},
			wantOut:    "2 resolved, 0 noop, 0 waiting, 0 manual, 1 error",
		},
		{
			name: "a region's Easit refuses the ticket updates",
			fail: func(e *env) {
				e.region("12").easit.SetFault(func(c easittest.Call) *easittest.Fault {
					if c.Op == easit.OpImport {
						return &easittest.Fault{ItemResult: "Exception", Body: "Ärendet är låst av en annan användare"}
					}
					return nil
				})
			},
			want:       exitFailed,
			carriedOut: []string{"07/55", "07/56"},
			untouched:  []string{"12/101"},
			wantOut:    "2 resolved, 0 noop, 0 waiting, 0 manual, 1 error",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.slow && testing.Short() {
				t.Skip("waits out the read budget of 10 seconds")
			}
			e := setup(t)
			e.accounts(adult, otherAdult, child)
			e.order("07", "55", lockKind, adult)
			e.order("07", "56", lockKind, otherAdult)
			e.order("12", "101", lockKind, child)
			tt.fail(e)

			res := e.run("sync")
			if res.code != tt.want || !strings.Contains(res.stdout, tt.wantOut) {
				t.Errorf("lockworker sync = %d, want %d and %q in the summary:\n%s\nstderr:\n%s", res.code, tt.want, tt.wantOut, res.stdout, res.stderr)
			}
			for _, id := range tt.carriedOut {
				region, ticket, _ := strings.Cut(id, "/")
				if status := e.region(region).easit.Status(ticket); status != resolved {
					t.Errorf("ticket %s: status %q, want %q", id, status, resolved)
				}
			}
			for _, id := range tt.untouched {
				region, ticket, _ := strings.Cut(id, "/")
				fake := e.region(region).easit
				if status, n := fake.Status(ticket), fake.Updates(ticket); status != open || n != 0 {
					t.Errorf("ticket %s: status %q after %d updates, want it left %q", id, status, n, open)
				}
			}
		})
	}
}

// A mistake in the command line or the configuration is exit status 2, with
// a message that names it, and nothing is read or written.
func TestSyncUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		breaks  func(e *env)
		wantErr string
	}{
		{"an unknown flag", []string{"--all"}, nil, "unknown flag: --all"},
		{"an unknown region", []string{"--region", "99"}, nil, `--region "99": no such region in the configuration (it has 07, 12)`},
		{"a variable that is no number", nil, func(e *env) {
			e.editConfig("schedule:", "limits:\n  concurrent_orders: ${N}\nschedule:")
			e.vars["N"] = "eight"
		}, `line 7, column 22: limits.concurrent_orders: want a whole number, not "${N}" (from the environment)`},
		{"--reveal without --dry-run", []string{"--reveal"}, nil, "--reveal goes with --dry-run only"},
		{"no configuration", nil, func(e *env) { e.config = "" }, "no configuration: give --config FILE or set LOCKWORKER_CONFIG"},
		{"a missing configuration file", nil, func(e *env) { e.config = filepath.Join(e.dir, "missing.yaml") }, "missing.yaml: no such file"},
		{"a missing environment variable", nil, func(e *env) { delete(e.vars, "EASIT_12_KEY") }, "environment variable EASIT_12_KEY is not set"},
		{"a misspelt setting", nil, func(e *env) { e.editConfig("form_wait:", "form_wiat:") }, `line 10, column 3: policy: unknown key "form_wiat"`},
		{"a lock store driver that is none", nil, func(e *env) { e.editConfig("driver: sqlite", "driver: mysql") }, "lockstore.driver: must be sqlite or postgres"},
		{"a child policy that is none", nil, func(e *env) { e.editConfig("children_under_13: lock", "children_under_13: ask") }, "policy.children_under_13: must be lock or manual"},
		{"a wrong organisation number", nil, func(e *env) { e.editConfig(`"2321000255"`, `"2321000256"`) }, "regions[1].org_number: must be a 10-digit organisation number"},
		{"a log level that is none", nil, func(e *env) { e.editConfig("level: debug", "level: chatty") }, "log.level: must be one of"},
		{"a pseudonym key too short", nil, func(e *env) { e.write("pseudonym.key", "too short") }, "log.pseudonym_key_file: the key must be at least 16 bytes"},
		{"a missing pseudonym key file", nil, func(e *env) { e.editConfig(`pseudonym.key"`, `missing.key"`) }, "log.pseudonym_key_file: open"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t)
			e.order("07", "55", lockKind, adult)
			if tt.breaks != nil {
				tt.breaks(e)
			}
			res := e.run(append([]string{"sync"}, tt.args...)...)
			if res.code != exitUsage || !strings.Contains(res.stderr, tt.wantErr) {
				t.Errorf("lockworker sync %s = %d, stderr %q; want %d and %q", strings.Join(tt.args, " "), res.code, res.stderr, exitUsage, tt.wantErr)
			}
			for _, r := range e.regions {
				if calls := r.easit.Calls(); len(calls) != 0 {
					t.Errorf("region %s's Easit got %d calls, want none", r.Code, len(calls))
				}
			}
		})
	}
}

// The configuration reads as it is written: a ${VAR} stands for a number as
// well as a string.
func TestSyncReadsVariablesAsTheValuesTheyStandFor(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.editConfig("schedule:", "limits:\n  concurrent_orders: ${N}\n  easit_requests_per_second: ${RATE}\nschedule:")
	e.vars["N"], e.vars["RATE"] = "8", "50"
	e.accounts(adult)
	e.order("07", "55", lockKind, adult)

	res := e.sync()

	if row := summaryRows(t, res.stdout)["07/55"]; len(row) < 3 || row[2] != "resolved" {
		t.Errorf("ticket 07/55: %q, want resolved; stdout:\n%s", row, res.stdout)
	}
}

// A lock store that cannot be reached fails the run, not the configuration:
// exit 1, and no ticket is read.
func TestSyncLockStoreUnreachable(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.order("07", "55", lockKind, adult)
	e.editConfig("driver: sqlite", "driver: postgres")
	e.editConfig(strconv.Quote(e.dsn), `"postgres://lockworker@127.0.0.1:1/lockworker?sslmode=disable"`)

	res := e.run("sync")
	if res.code != exitFailed || !strings.Contains(res.stderr, "open the lock store") {
		t.Errorf("lockworker sync = %d, stderr %q; want %d and the lock store named", res.code, res.stderr, exitFailed)
	}
	for _, r := range e.regions {
		if calls := r.easit.Calls(); len(calls) != 0 {
			t.Errorf("region %s's Easit got %d calls, want none", r.Code, len(calls))
		}
	}
}

// The configuration file comes from --config, else from LOCKWORKER_CONFIG.
func TestSyncConfigFromTheEnvironment(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		flag, envVar func(e *env) string
	}{
		{"LOCKWORKER_CONFIG alone", func(*env) string { return "" }, func(e *env) string { return e.config }},
		{"--config before LOCKWORKER_CONFIG", func(e *env) string { return e.config }, func(e *env) string { return e.write("broken.yaml", "regions: [") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t)
			e.accounts(adult)
			e.order("07", "55", lockKind, adult)
			e.config, e.vars["LOCKWORKER_CONFIG"] = tt.flag(e), tt.envVar(e)
			e.sync()
			if status := e.region("07").easit.Status("55"); status != resolved {
				t.Errorf("ticket 55: status %q, want %q", status, resolved)
			}
		})
	}
}

// A dry run decides and prints, but changes nothing anywhere: not the
// tickets, not the locks, not the ledger or the audit trail.
func TestSyncDryRun(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.accounts(adult)
	e.order("07", "55", lockKind, adult)
	e.order("12", "101", lockKind, noAccount)

	res := e.sync("--dry-run")
	rows := summaryRows(t, res.stdout)
	if !strings.Contains(res.stdout, "(dry run: nothing was changed)") ||
		!slices.Equal(rows["07/55"], []string{"55", "lock", "resolved", "-", "none"}) ||
		!slices.Equal(rows["12/101"], []string{"101", "lock", "manual", "no_account", "none"}) {
		t.Errorf("dry run printed:\n%s\nwant it marked as a dry run, 07/55 resolved and 12/101 manual (no_account), with nothing done", res.stdout)
	}
	for _, id := range []string{"07/55", "12/101"} {
		region, ticket, _ := strings.Cut(id, "/")
		fake := e.region(region).easit
		if fake.Updates(ticket) != 0 || fake.Status(ticket) != open || len(fake.Comments(ticket)) != 0 {
			t.Errorf("after a dry run, ticket %s has %d updates, status %q and comments %q; want it untouched", id, fake.Updates(ticket), fake.Status(ticket), fake.Comments(ticket))
		}
		for _, c := range fake.Calls() {
			if c.Op == easit.OpImport {
				t.Errorf("a dry run sent region %s's Easit an import: %+v", region, c)
			}
		}
	}
	if state := e.status(adult); len(state) != 1 || state["locked"] != false {
		t.Errorf("status after a dry run = %v, want not locked", state)
	}
	if entries := e.audit(); len(entries) != 0 {
		t.Errorf("a dry run wrote %d audit entries, want none", len(entries))
	}

	// The real pass decides the tickets afresh, as if the dry run had not
	// been.
	rows = summaryRows(t, e.sync().stdout)
	if !slices.Equal(rows["07/55"], []string{"55", "lock", "resolved", "-", "decided"}) {
		t.Errorf("the pass after a dry run: 07/55 = %q, want it resolved and decided", rows["07/55"])
	}
	if status, comments := e.region("07").easit.Status("55"), e.region("07").easit.Comments("55"); status != resolved || len(comments) != 1 {
		t.Errorf("after the pass, ticket 07/55: status %q, comments %q; want %q and one comment", status, comments, resolved)
	}
	if state := e.status(adult); state["locked"] != true {
		t.Errorf("status after the pass = %v, want locked", state)
	}
}

// A dry run prints the personnummer in clear only when asked with --reveal.
func TestSyncReveal(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args       []string
		wantNumber bool
	}{
		{[]string{"--dry-run"}, false},
		{[]string{"--dry-run", "--reveal"}, true},
		{[]string{"--dry-run", "--json"}, false},
		{[]string{"--dry-run", "--json", "--reveal"}, true},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			e := setup(t)
			e.accounts(adult)
			e.order("07", "55", lockKind, adult)

			res := e.sync(tt.args...)
			if got := strings.Contains(res.stdout, adult); got != tt.wantNumber {
				t.Errorf("lockworker sync %s printed the number: %v, want %v:\n%s", strings.Join(tt.args, " "), got, tt.wantNumber, res.stdout)
			}
			if tt.wantNumber && !slices.Contains(tt.args, "--json") && !strings.Contains(res.stdout, "PERSONNUMMER") {
				t.Errorf("the table names no PERSONNUMMER column:\n%s", res.stdout)
			}
			// Revealing is an access to the person's data, in their
			// extract.
			ex := e.run("audit", "extract", adult)
			if got := strings.Contains(ex.stdout, "lockworker sync --dry-run --reveal"); got != tt.wantNumber {
				t.Errorf("the extract lists the dry run: %v, want %v:\n%s", got, tt.wantNumber, ex.stdout)
			}
		})
	}
}

// summaryJSON is what `sync --json` prints.
type summaryJSON struct {
	Pass          string `json:"pass"`
	StartedAt     string `json:"started_at"`
	OK            bool   `json:"ok"`
	DryRun        bool   `json:"dry_run"`
	MissingTicket string `json:"missing_ticket"`
	Regions       []struct {
		Code   string `json:"code"`
		Name   string `json:"name"`
		Error  string `json:"error"`
		Orders []struct {
			Ticket         string `json:"ticket"`
			Kind           string `json:"kind"`
			Outcome        string `json:"outcome"`
			Reason         string `json:"reason"`
			Person         string `json:"person"`
			Personnummer   string `json:"personnummer"`
			ProxySuspended bool   `json:"proxy_suspended"`
			Action         string `json:"action"`
			Why            string `json:"why"`
		} `json:"orders"`
	} `json:"regions"`
}

// orders returns the orders of a summary by region and ticket ("07/55"),
// each as "kind outcome reason".
func (s summaryJSON) orders() map[string]string {
	orders := map[string]string{}
	for _, r := range s.Regions {
		for _, o := range r.Orders {
			orders[r.Code+"/"+o.Ticket] = strings.TrimSpace(o.Kind + " " + o.Outcome + " " + o.Reason)
		}
	}
	return orders
}

func parseSummary(t *testing.T, stdout string) summaryJSON {
	t.Helper()
	var sum summaryJSON
	if err := json.Unmarshal([]byte(stdout), &sum); err != nil {
		t.Fatalf("sync --json printed no JSON summary (%v):\n%s", err, stdout)
	}
	return sum
}

var passID = regexp.MustCompile(`^[0-9]{8}T[0-9]{6}-[0-9a-f]{6}$`)

// sync --json prints the pass as one JSON object: the pass, each region, and
// each order with its ticket, kind, outcome and reason.
func TestSyncJSON(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.accounts(adult, otherAdult, child)
	e.order("07", "55", lockKind, adult)
	e.order("07", "58", lockKind, child)
	e.order("12", "101", lockKind, noAccount)
	e.order("12", "102", unlockKind, otherAdult)

	sum := parseSummary(t, e.sync("--json").stdout)
	if !passID.MatchString(sum.Pass) || !sum.OK || sum.DryRun {
		t.Errorf("pass %q, ok %v, dry run %v; want a pass id, ok and not a dry run", sum.Pass, sum.OK, sum.DryRun)
	}
	if at, err := time.Parse(time.RFC3339Nano, sum.StartedAt); err != nil || !strings.HasSuffix(sum.StartedAt, "Z") || at.IsZero() {
		t.Errorf("started_at %q (%v), want RFC 3339 in UTC", sum.StartedAt, err)
	}
	var regions []string
	for _, r := range sum.Regions {
		regions = append(regions, r.Code+" "+r.Name+r.Error)
	}
	if want := []string{"07 Region Kronoberg", "12 Region Skåne"}; !slices.Equal(regions, want) {
		t.Errorf("regions %q, want %q, each read", regions, want)
	}
	want := map[string]string{
		"07/55":  "lock resolved",
		"07/58":  "lock resolved",
		"12/101": "lock manual no_account",
		"12/102": "unlock noop",
	}
	if got := sum.orders(); !maps.Equal(got, want) {
		t.Errorf("orders %v, want %v", got, want)
	}
	for _, r := range sum.Regions {
		for _, o := range r.Orders {
			if wantProxy := o.Ticket == "58"; o.ProxySuspended != wantProxy || !pseudonym.MatchString(o.Person) || o.Personnummer != "" || o.Action != "decided" {
				t.Errorf("order %s/%s: proxy suspended %v, person %q, personnummer %q, action %q; want proxy suspended %v, a pseudonym, no number, decided",
					r.Code, o.Ticket, o.ProxySuspended, o.Person, o.Personnummer, o.Action, wantProxy)
			}
		}
	}
}

// --ticket handles only that ticket, --region only that region; the rest is
// left alone.
func TestSyncNarrowed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args        []string
		handled     []string
		regionsRead []string
	}{
		{[]string{"--ticket", "56"}, []string{"07/56"}, []string{"07", "12"}},
		{[]string{"--region", "12"}, []string{"12/101"}, []string{"12"}},
		{[]string{"--region", "07", "--ticket", "55"}, []string{"07/55"}, []string{"07"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			e := setup(t)
			e.accounts(adult, otherAdult)
			e.order("07", "55", lockKind, adult)
			e.order("07", "56", lockKind, otherAdult)
			e.order("12", "101", lockKind, noAccount)

			sum := parseSummary(t, e.sync(append(tt.args, "--json")...).stdout)
			var handled, read []string
			for id := range sum.orders() {
				handled = append(handled, id)
			}
			for _, r := range sum.Regions {
				read = append(read, r.Code)
			}
			slices.Sort(handled)
			if !slices.Equal(handled, tt.handled) || !slices.Equal(read, tt.regionsRead) {
				t.Errorf("handled %q in regions %q, want %q in %q", handled, read, tt.handled, tt.regionsRead)
			}
			for _, id := range []string{"07/55", "07/56", "12/101"} {
				region, ticket, _ := strings.Cut(id, "/")
				if updated, want := e.region(region).easit.Updates(ticket) != 0, slices.Contains(tt.handled, id); updated != want {
					t.Errorf("ticket %s updated in Easit: %v, want %v", id, updated, want)
				}
			}
			for _, r := range e.regions {
				if called, want := len(r.easit.Calls()) != 0, slices.Contains(tt.regionsRead, r.Code); called != want {
					t.Errorf("region %s's Easit called: %v, want %v", r.Code, called, want)
				}
			}
		})
	}
}

// A region whose view could not be read whole is shown so, with the orders
// of the pages read before: their locks were applied and their tickets
// updated, and the totals count them.
func TestSyncShowsTheOrdersOfARegionReadInPart(t *testing.T) {
	t.Parallel()
	sum := sync.Summary{Pass: "20261130T090000-abcdef", Regions: []sync.RegionSummary{{
		Code: "07", Name: "Region Kronoberg", Error: `read the tickets of view "VIS-1177-las": page 2: HTTP 503`,
		Orders: []sync.Result{{Ticket: "55", Kind: lockworker.KindLock, Outcome: lockworker.OutcomeResolved, Action: sync.ActionDecided}},
	}}}
	var out strings.Builder
	if err := writeSummary(&out, sum, false); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`could not be read whole (the orders below are those of the pages read before): read the tickets of view "VIS-1177-las": page 2: HTTP 503`,
		"55      lock  resolved  -       decided",
		"1 resolved, 0 noop",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the summary lacks %q:\n%s", want, out.String())
		}
	}
}
