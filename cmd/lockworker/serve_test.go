package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	gosync "sync"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/lockworker/lockworker"
	"github.com/lockworker/lockworker/config"
	"github.com/lockworker/lockworker/cosmic"
	"github.com/lockworker/lockworker/cosmic/cosmictest"
	"github.com/lockworker/lockworker/easit"
	"github.com/lockworker/lockworker/easit/easittest"
	"github.com/lockworker/lockworker/lockstore"
)

// More of Skatteverket's test numbers, for the orders that a running service
// takes up while it is being stopped.
const (
	leapAdult    = "200002292399"
	oldLeapAdult = "198802292394"
	newYearAdult = "200001012384"
)

// lockworker serve, in-process, does the whole job unattended: it carries
// out the orders on its schedule, serves the admin API, says when a region
// is not ready, and stops on a signal without leaving an order half done.
// The steps run in turn on one service, so they are not subtests: the env's
// helpers fail the test from its own goroutine.
func TestServe(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the service for about 20 seconds")
	}
	t.Parallel()
	e := setup(t)
	e.accounts(adult, otherAdult, child, leapAdult, oldLeapAdult, newYearAdult)
	e.order("07", "55", lockKind, adult)
	e.order("07", "56", lockKind, noAccount)
	e.order("12", "101", unlockKind, otherAdult)
	e.order("12", "102", lockKind, child)
	s := e.serve()

	// The orders are carried out on the schedule, those registered before
	// the start and one registered while the service runs, with no one
	// asking.
	want := map[string]string{"07/55": resolved, "07/56": manual, "12/101": resolved, "12/102": resolved}
	e.eventually(30*time.Second, "the orders registered before the start are decided", func() (bool, string) {
		got := e.statuses(slices.Collect(maps.Keys(want))...)
		return maps.Equal(got, want), fmt.Sprintf("ticket statuses %v, want %v", got, want)
	})
	e.order("07", "57", lockKind, otherAdult)
	e.eventually(30*time.Second, "the order registered while serving is decided", func() (bool, string) {
		status := e.region("07").easit.Status("57")
		return status == resolved, fmt.Sprintf("ticket 07/57 has status %q, want %q", status, resolved)
	})

	// Health, and readiness now that both regions have had a good pass.
	if code, body := s.get("/healthz"); code != http.StatusOK {
		t.Errorf("GET /healthz = %d %q, want 200", code, body)
	}
	e.eventually(30*time.Second, "/readyz says ready", func() (bool, string) {
		code, body := s.get("/readyz")
		return code == http.StatusOK, fmt.Sprintf("GET /readyz = %d %q", code, body)
	})

	// POST /sync needs the admin token as a bearer token.
	for _, tt := range []struct{ name, authorization string }{
		{"no token", ""},
		{"a wrong token", "Bearer not-the-admin-token"},
		{"the token, not as a bearer token", s.token},
		{"the token with a wrong scheme", "Basic " + s.token},
	} {
		if code, body := s.post("/sync", tt.authorization); code != http.StatusUnauthorized || strings.Contains(body, `"pass"`) {
			t.Errorf("POST /sync with %s = %d %q, want 401 and no pass", tt.name, code, body)
		}
	}
	// With it, a pass runs and the answer is its summary.
	for _, tt := range []struct {
		query   string
		regions []string
	}{
		{"", []string{"07 Region Kronoberg", "12 Region Skåne"}},
		{"?region=12", []string{"12 Region Skåne"}},
	} {
		sum := s.sync(tt.query)
		var regions []string
		for _, r := range sum.Regions {
			regions = append(regions, r.Code+" "+r.Name+r.Error)
		}
		if !passID.MatchString(sum.Pass) || !sum.OK || !slices.Equal(regions, tt.regions) {
			t.Errorf("POST /sync%s answered pass %q, ok %v, regions %q; want a pass id, ok, and the regions %q, each read",
				tt.query, sum.Pass, sum.OK, regions, tt.regions)
		}
	}

	// The metrics. The counters of orders are those of the audit trail:
	// every order so far was decided once, and none waits. A pass counts
	// its orders when it ends, after recording them, so look until the two
	// agree.
	var fams map[string]*dto.MetricFamily
	e.eventually(30*time.Second, "lockworker_orders_total matches the audit trail", func() (bool, string) {
		fams = s.metrics()
		got, want := orderCounts(fams), auditCounts(e.audit())
		return maps.Equal(got, want), fmt.Sprintf("lockworker_orders_total = %v, want the audit trail's %v", got, want)
	})
	active := 0
	for _, l := range e.locks(adult, otherAdult, child, noAccount) {
		if l.Active() {
			active++
		}
	}
	if got := metricGauge(fams, "lockworker_active_locks"); active != 3 || got != float64(active) {
		t.Errorf("lockworker_active_locks = %v, want the %d active locks of the store (3: the adult, the other adult and the child)", got, active)
	}
	for name := range fams {
		if !strings.HasPrefix(name, "lockworker_") {
			t.Errorf("/metrics serves %s, want every metric named lockworker_…", name)
		}
	}
	for _, want := range []struct {
		metric string
		labels map[string]string
	}{
		{"lockworker_easit_requests_total", map[string]string{"region": "07", "op": easit.OpList, "status": "200"}},
		{"lockworker_easit_requests_total", map[string]string{"region": "12", "op": easit.OpImport, "status": "200"}},
		{"lockworker_form_service_requests_total", map[string]string{"region": "07", "op": cosmic.OpForm, "status": "200"}},
		{"lockworker_form_service_requests_total", map[string]string{"region": "12", "op": cosmic.OpForm, "status": "200"}},
		{"lockworker_passes_total", map[string]string{"trigger": "schedule"}},
		{"lockworker_passes_total", map[string]string{"trigger": "manual"}},
		{"lockworker_pass_duration_seconds", map[string]string{"region": "07"}},
		{"lockworker_last_successful_pass_timestamp_seconds", map[string]string{"region": "12"}},
	} {
		if got := metricValue(fams, want.metric, want.labels); got <= 0 {
			t.Errorf("%s%v = %v, want more than 0", want.metric, want.labels, got)
		}
	}
	t.Logf("/metrics serves %q", slices.Sorted(maps.Keys(fams)))

	// The audit trail's chain: verified at start, and its head shown as a
	// fingerprint of letters that an outside system can record.
	if got := metricGauge(fams, "lockworker_audit_chain_verified"); got != 1 {
		t.Errorf("lockworker_audit_chain_verified = %v, want 1", got)
	}
	func() {
		store := e.openStore()
		defer store.Close()
		seq, hash, err := store.AuditHead(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		fams = s.metrics()
		want := map[string]string{"fingerprint": lockstore.Fingerprint(hash)}
		if got := metricValue(fams, "lockworker_audit_chain_head", want); got != float64(seq) || seq == 0 {
			t.Errorf("lockworker_audit_chain_head%v = %v, want the head's number %d", want, got, seq)
		}
	}()

	// A region whose Easit fails every read is not ready once three
	// intervals have passed without a good pass, and ready again when it
	// recovers. Each pass now spends Easit's 10-second read budget on
	// region 12, so each transition takes a pass or two; region 07 stays
	// ready meanwhile, its good read noted as soon as its part of a pass is
	// done.
	skane := e.region("12").easit
	skane.SetFault(func(c easittest.Call) *easittest.Fault {
		if c.Op == easit.OpList {
			return &easittest.Fault{Status: http.StatusServiceUnavailable, Body: "Service Unavailable"}
		}
		return nil
	})
	e.eventually(25*time.Second, "/readyz names region 12 alone", func() (bool, string) {
		code, body := s.get("/readyz")
		return code == http.StatusServiceUnavailable && strings.Contains(body, "12 Region Skåne") && !strings.Contains(body, "07 Region Kronoberg"),
			fmt.Sprintf("GET /readyz = %d %q, want 503 naming 12 Region Skåne and not 07 Region Kronoberg", code, body)
	})
	// The failed read is counted when its pass ends.
	e.eventually(25*time.Second, "lockworker_region_failures_total counts region 12", func() (bool, string) {
		fams = s.metrics()
		got := metricValue(fams, "lockworker_region_failures_total", map[string]string{"region": "12"})
		return got >= 1, fmt.Sprintf("lockworker_region_failures_total{region=12} = %v, want at least 1", got)
	})
	if got := metricValue(fams, "lockworker_easit_requests_total", map[string]string{"region": "12", "op": easit.OpList, "status": "503"}); got < 1 {
		t.Errorf("lockworker_easit_requests_total{region=12,op=list,status=503} = %v, want at least 1", got)
	}
	skane.SetFault(nil)
	e.eventually(25*time.Second, "/readyz says ready again", func() (bool, string) {
		code, body := s.get("/readyz")
		return code == http.StatusOK, fmt.Sprintf("GET /readyz = %d %q, want 200", code, body)
	})

	// A stop finishes the orders under way and starts no other. The form
	// service answers these orders slowly, so that the stop comes while a
	// pass carries them out, four of region 07's at a time.
	kronoberg := e.region("07")
	kronoberg.forms.SetFault(func(c cosmictest.Call) *cosmictest.Fault {
		if strings.HasPrefix(c.Ref, "blankett-07-6") {
			return &cosmictest.Fault{Delay: time.Second}
		}
		return nil
	})
	e.order("07", "60", lockKind, leapAdult)
	e.order("07", "61", lockKind, oldLeapAdult)
	e.order("07", "62", lockKind, newYearAdult)
	e.order("07", "63", unlockKind, adult)
	e.order("07", "64", lockKind, noAccount)
	e.eventually(30*time.Second, "a pass reads the forms of the new orders", func() (bool, string) {
		for _, c := range kronoberg.forms.Calls() {
			if strings.HasPrefix(c.Ref, "blankett-07-6") {
				return true, ""
			}
		}
		return false, "no form of tickets 07/60-64 read"
	})
	// The pass under way read region 07's view before this order came, and
	// the schedule starts no other pass of 07 while it runs.
	e.order("07", "65", unlockKind, child)
	if code, took := s.stop(); code != exitOK || took > 5*time.Second {
		t.Errorf("serve returned %d %s after the stop, want 0 within 5s", code, took.Round(time.Millisecond))
	}
	assertNothingHalfDone(t, e, []string{"07/55", "07/56", "07/57", "07/60", "07/61", "07/62", "07/63", "07/64", "07/65", "12/101", "12/102"})
	if status := kronoberg.easit.Status("60"); status != resolved {
		_, stderr := s.output()
		t.Errorf("ticket 07/60, under way at the stop: status %q, want it finished (%q)\n%s", status, resolved, stderr)
	}
	if status := kronoberg.easit.Status("65"); status != open {
		t.Errorf("ticket 07/65, not started at the stop: status %q, want it left %q for the next start", status, open)
	}

	// The logs: every pass and every decision, and no personnummer.
	stdout, stderr := s.output()
	assertNoPersonnummer(t, "standard output of lockworker serve", stdout)
	assertNoPersonnummer(t, "standard error of lockworker serve", stderr)
	events := logEvents(t, stderr)
	assertPassEvents(t, events)
	assertOrderEvents(t, events, e.audit())
}

// assertNothingHalfDone checks that every decision that the audit trail holds
// reached its ticket, once, and was confirmed in the ledger; that a ticket
// without one is untouched; and that every lock, active or lifted, was told
// to its tickets.
func assertNothingHalfDone(t *testing.T, e *env, tickets []string) {
	t.Helper()
	byTicket := map[string][]lockworker.AuditEntry{}
	for _, en := range e.audit() {
		byTicket[en.Region+"/"+en.Ticket] = append(byTicket[en.Region+"/"+en.Ticket], en)
	}
	for _, id := range tickets {
		code, ticket, _ := strings.Cut(id, "/")
		fake := e.region(code).easit
		decisions := byTicket[id]
		if len(decisions) == 0 {
			if status, n := fake.Status(ticket), fake.Updates(ticket); status != open || n != 0 {
				t.Errorf("ticket %s has no decision in the audit trail, yet status %q after %d updates", id, status, n)
			}
			continue
		}
		last := decisions[len(decisions)-1]
		if status, comments := fake.Status(ticket), fake.Comments(ticket); status != statusOf(last.Outcome) || len(comments) != len(decisions) {
			t.Errorf("ticket %s: status %q with %d comments, want %q (%s) with one comment per decision (%d)",
				id, status, len(comments), statusOf(last.Outcome), last.Outcome, len(decisions))
		}
		if entry, ok := e.ledger(code, ticket); !ok || !entry.Confirmed() {
			t.Errorf("ticket %s: ledger entry %+v (found %v), want its update confirmed", id, entry, ok)
		}
	}
	for _, l := range e.locks(adult, otherAdult, child, leapAdult, oldLeapAdult, newYearAdult) {
		if status := e.region(l.Region).easit.Status(l.Ticket); status != resolved {
			t.Errorf("the lock of %s by ticket %s/%s: ticket status %q, want %q", l.Personnummer, l.Region, l.Ticket, status, resolved)
		}
		if !l.Active() {
			if status := e.region(l.LiftedRegion).easit.Status(l.LiftedTicket); status != resolved {
				t.Errorf("the lifting of %s's lock by ticket %s/%s: ticket status %q, want %q", l.Personnummer, l.LiftedRegion, l.LiftedTicket, status, resolved)
			}
		}
	}
}

// Without admin.listen, serve still carries out the orders on its schedule,
// warns that there is no admin API, and stops as it should.
func TestServeWithoutAdmin(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.accounts(adult)
	e.order("07", "55", lockKind, adult)
	s := e.startServe()
	e.eventually(30*time.Second, "the order is carried out", func() (bool, string) {
		status := e.region("07").easit.Status("55")
		return status == resolved, fmt.Sprintf("ticket 07/55 has status %q, want %q", status, resolved)
	})
	if code, took := s.stop(); code != exitOK || took > 5*time.Second {
		t.Errorf("serve returned %d %s after the stop, want 0 within 5s", code, took.Round(time.Millisecond))
	}
	stdout, stderr := s.output()
	assertNoPersonnummer(t, "standard output of lockworker serve", stdout)
	assertNoPersonnummer(t, "standard error of lockworker serve", stderr)
	if !strings.Contains(stderr, "no admin.listen configured") {
		t.Errorf("serve without admin.listen does not warn of it:\n%s", stderr)
	}
}

// A service that cannot start says why and exits at once: 2 for a mistake
// in the configuration, 1 for a resource it cannot have. It reads no order.
func TestServeCannotStart(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		breaks   func(t *testing.T, e *env)
		wantCode int
		wantErr  string
	}{
		{"no configuration", func(_ *testing.T, e *env) { e.config = "" }, exitUsage, "no configuration: give --config FILE or set LOCKWORKER_CONFIG"},
		{"an admin listener without a token", func(_ *testing.T, e *env) {
			e.write("lockworker.yaml", e.configYAML()+"admin:\n  listen: 127.0.0.1:8080\n")
		}, exitUsage, "admin.token: is required when admin.listen is set"},
		{"an admin address in use", func(t *testing.T, e *env) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { ln.Close() })
			e.vars["LOCKWORKER_ADMIN_TOKEN"] = "the-admin-token-of-at-least-32-characters"
			e.write("lockworker.yaml", e.configYAML()+fmt.Sprintf("admin:\n  listen: %q\n  token: ${LOCKWORKER_ADMIN_TOKEN}\n", ln.Addr()))
		}, exitFailed, "admin listener: listen tcp"},
		{"a lock store that cannot be reached", func(_ *testing.T, e *env) {
			e.editConfig("driver: sqlite", "driver: postgres")
			e.editConfig(strconv.Quote(e.dsn), `"postgres://lockworker@127.0.0.1:1/lockworker?sslmode=disable"`)
		}, exitFailed, "open the lock store"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t)
			e.order("07", "55", lockKind, adult)
			tt.breaks(t, e)
			res := e.run("serve")
			if res.code != tt.wantCode || !strings.Contains(res.stderr, tt.wantErr) {
				t.Errorf("lockworker serve = %d, stderr %q; want %d and %q", res.code, res.stderr, tt.wantCode, tt.wantErr)
			}
			for _, r := range e.regions {
				if calls := r.easit.Calls(); len(calls) != 0 {
					t.Errorf("region %s's Easit got %d calls, want none", r.Code, len(calls))
				}
			}
		})
	}
}

// assertPassEvents checks that every pass logged its start, and its end with
// the count of each outcome, which the order events of the pass add up to.
func assertPassEvents(t *testing.T, events []map[string]any) {
	t.Helper()
	started := map[string]int{}
	finished := map[string]map[string]any{}
	orders := map[string]map[string]float64{} // by pass, the order events by outcome
	for _, ev := range events {
		pass, _ := ev["pass"].(string)
		switch ev["message"] {
		case "pass started":
			started[pass]++
		case "pass finished":
			if finished[pass] != nil {
				t.Errorf("pass %s finished twice", pass)
			}
			finished[pass] = ev
		case "order":
			if orders[pass] == nil {
				orders[pass] = map[string]float64{}
			}
			orders[pass][fmt.Sprint(ev["outcome"])]++
		}
	}
	if len(started) < 3 {
		t.Errorf("%d passes logged, want several", len(started))
	}
	for pass, n := range started {
		ev := finished[pass]
		if n != 1 || ev == nil || !passID.MatchString(pass) {
			t.Errorf("pass %q: started %d times, finished: %v; want a pass id started and finished once", pass, n, ev)
			continue
		}
		for _, o := range lockworker.Outcomes {
			if count, ok := ev[string(o)].(float64); !ok || count != orders[pass][string(o)] {
				t.Errorf("pass %s finished with %s = %v, want the %v order events of that outcome", pass, o, ev[string(o)], orders[pass][string(o)])
			}
		}
	}
	for pass := range finished {
		if started[pass] == 0 {
			t.Errorf("pass %s finished without starting", pass)
		}
	}
}

// assertOrderEvents checks that every decision of the audit trail was logged
// once, as an order event that names it and the person by pseudonym.
func assertOrderEvents(t *testing.T, events []map[string]any, entries []lockworker.AuditEntry) {
	t.Helper()
	decided := map[string]map[string]any{}
	for _, ev := range events {
		if ev["message"] == "order" && ev["action"] == "decided" {
			key := fmt.Sprintf("%v %v/%v", ev["pass"], ev["region"], ev["ticket"])
			if decided[key] != nil {
				t.Errorf("order %s logged as decided twice in one pass", key)
			}
			decided[key] = ev
		}
	}
	for _, en := range entries {
		key := en.Pass + " " + en.Region + "/" + en.Ticket
		ev := decided[key]
		if ev["kind"] != string(en.Kind) || ev["outcome"] != string(en.Outcome) || ev["reason"] != string(en.Reason) ||
			ev["person"] != en.Personnummer.Pseudonym() || !pseudonym.MatchString(fmt.Sprint(ev["person"])) {
			t.Errorf("order event of decision %s = %v, want kind %s, outcome %s, reason %q and person %s",
				key, ev, en.Kind, en.Outcome, en.Reason, en.Personnummer)
		}
	}
	if len(decided) != len(entries) {
		t.Errorf("%d order events say decided, want one per decision of the audit trail (%d)", len(decided), len(entries))
	}
}

// serving is lockworker serve running in-process on an env.
type serving struct {
	t      *testing.T
	admin  string // the base URL of the admin API
	token  string
	cancel context.CancelFunc
	done   chan int // the exit status, once run returns

	stdout, stderr lockedBuffer

	stopOnce gosync.Once
	code     int
	took     time.Duration
}

// serve configures the env for a service (a pass every second, and the admin
// API on a free loopback port with a token from the environment), starts it,
// and waits for its admin API to answer.
func (e *env) serve() *serving {
	e.t.Helper()
	listen := e.serviceConfig()
	s := e.startServe()
	s.admin, s.token = "http://"+listen, e.vars["LOCKWORKER_ADMIN_TOKEN"]
	e.eventually(30*time.Second, "the admin API answers", func() (bool, string) {
		code, body := s.get("/healthz")
		return code == http.StatusOK, fmt.Sprintf("GET /healthz = %d %q; stderr:\n%s", code, body, s.stderr.String())
	})
	return s
}

// startServe starts `lockworker serve` in-process on the env's configuration,
// as main does: the context that stop cancels stands for
// signal.NotifyContext. It is stopped when the test ends, if the test has not
// stopped it.
func (e *env) startServe() *serving {
	e.t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	s := &serving{t: e.t, cancel: cancel, done: make(chan int, 1)}
	go func() {
		s.done <- run(ctx, []string{"serve", "--config", e.config}, &s.stdout, &s.stderr, e.getenv)
	}()
	e.t.Cleanup(func() { s.stop() })
	return s
}

// serviceConfig sets the env's schedule to a pass every second, with a
// region's part of a pass bounded by 30 seconds rather than by that second,
// and adds an admin listener on a free loopback port, whose address it
// returns.
func (e *env) serviceConfig() string {
	e.t.Helper()
	listen := freeAddr(e.t)
	e.editConfig(`schedule: "@every 2m"`, `schedule: "@every 1s"`)
	if data, err := os.ReadFile(e.config); err == nil && strings.Contains(string(data), "\nlimits:\n") {
		e.editConfig("\nlimits:\n", "\nlimits:\n  region_timeout: 30s\n")
	} else {
		e.editConfig("\nschedule:", "\nlimits:\n  region_timeout: 30s\nschedule:")
	}
	e.vars["LOCKWORKER_ADMIN_TOKEN"] = "the-admin-token-of-at-least-32-characters-" + e.t.Name()
	data, err := os.ReadFile(e.config)
	if err != nil {
		e.t.Fatal(err)
	}
	e.write(filepath.Base(e.config), string(data)+fmt.Sprintf("admin:\n  listen: %q\n  token: ${LOCKWORKER_ADMIN_TOKEN}\n", listen))
	return listen
}

// freeAddr returns a loopback address with a port that was free a moment
// ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	if err := ln.Close(); err != nil {
		t.Fatal(err)
	}
	return addr
}

// stop cancels the service's context, as SIGTERM does, and returns its exit
// status and how long it took to return.
func (s *serving) stop() (code int, took time.Duration) {
	s.stopOnce.Do(func() {
		start := time.Now()
		s.cancel()
		select {
		case s.code = <-s.done:
			s.took = time.Since(start)
		case <-time.After(15 * time.Second):
			s.code, s.took = -1, time.Since(start)
			s.t.Errorf("lockworker serve did not return within 15s of the stop")
		}
	})
	return s.code, s.took
}

// output returns what the service wrote; call it once it has stopped.
func (s *serving) output() (stdout, stderr string) {
	return s.stdout.String(), s.stderr.String()
}

// adminClient is the client of the admin API; its timeout bounds a POST
// /sync that waits for a pass.
var adminClient = &http.Client{Timeout: 30 * time.Second}

// get makes a GET request of the admin API; a request that gets no answer is
// status 0.
func (s *serving) get(path string) (int, string) {
	return s.do(http.MethodGet, path, "")
}

// post makes a POST request of the admin API with the Authorization header.
func (s *serving) post(path, authorization string) (int, string) {
	return s.do(http.MethodPost, path, authorization)
}

func (s *serving) do(method, path, authorization string) (int, string) {
	req, err := http.NewRequestWithContext(s.t.Context(), method, s.admin+path, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	if authorization != "" {
		req.Header.Set("Authorization", authorization)
	}
	resp, err := adminClient.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, err.Error()
	}
	return resp.StatusCode, string(body)
}

// sync asks for a pass with the admin token and returns its summary. A pass
// of the schedule may be running (409); it asks again until it is its turn.
func (s *serving) sync(query string) summaryJSON {
	s.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, body := s.post("/sync"+query, "Bearer "+s.token)
		switch {
		case code == http.StatusOK:
			return parseSummary(s.t, body)
		case code == http.StatusConflict && strings.Contains(body, `"pass"`) && time.Now().Before(deadline):
			time.Sleep(20 * time.Millisecond)
		default:
			s.t.Fatalf("POST /sync%s with the admin token = %d %q, want 200 (or 409 naming the running pass, for a while)", query, code, body)
		}
	}
}

// metrics scrapes /metrics and parses its text format.
func (s *serving) metrics() map[string]*dto.MetricFamily {
	s.t.Helper()
	code, body := s.get("/metrics")
	if code != http.StatusOK {
		s.t.Fatalf("GET /metrics = %d %q, want 200", code, body)
	}
	parser := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := parser.TextToMetricFamilies(strings.NewReader(body))
	if err != nil {
		s.t.Fatalf("GET /metrics: not the Prometheus text format (%v):\n%s", err, body)
	}
	return fams
}

// metricValue returns the value of the counter or gauge, or the count of the
// histogram, of the family name whose labels include want; 0 when there is
// none.
func metricValue(fams map[string]*dto.MetricFamily, name string, want map[string]string) float64 {
	for _, m := range fams[name].GetMetric() {
		if !hasLabels(metricLabels(m), want) {
			continue
		}
		switch {
		case m.GetCounter() != nil:
			return m.GetCounter().GetValue()
		case m.GetHistogram() != nil:
			return float64(m.GetHistogram().GetSampleCount())
		default:
			return m.GetGauge().GetValue()
		}
	}
	return 0
}

// metricGauge returns the value of a gauge without labels, -1 when there is none.
func metricGauge(fams map[string]*dto.MetricFamily, name string) float64 {
	ms := fams[name].GetMetric()
	if len(ms) != 1 {
		return -1
	}
	return ms[0].GetGauge().GetValue()
}

func metricLabels(m *dto.Metric) map[string]string {
	labels := map[string]string{}
	for _, l := range m.GetLabel() {
		labels[l.GetName()] = l.GetValue()
	}
	return labels
}

// hasLabels reports whether labels hold every label of want.
func hasLabels(labels, want map[string]string) bool {
	for k, v := range want {
		if labels[k] != v {
			return false
		}
	}
	return true
}

// orderCounts returns lockworker_orders_total by "region kind outcome
// reason".
func orderCounts(fams map[string]*dto.MetricFamily) map[string]float64 {
	counts := map[string]float64{}
	for _, m := range fams["lockworker_orders_total"].GetMetric() {
		l := metricLabels(m)
		counts[l["region"]+" "+l["kind"]+" "+l["outcome"]+" "+l["reason"]] += m.GetCounter().GetValue()
	}
	return counts
}

// auditCounts returns the decisions of the audit trail by "region kind
// outcome reason".
func auditCounts(entries []lockworker.AuditEntry) map[string]float64 {
	counts := map[string]float64{}
	for _, en := range entries {
		counts[en.Region+" "+string(en.Kind)+" "+string(en.Outcome)+" "+string(en.Reason)]++
	}
	return counts
}

// statusOf is the ticket status that a decision's outcome sets.
func statusOf(o lockworker.Outcome) string {
	switch o {
	case lockworker.OutcomeResolved, lockworker.OutcomeNoop:
		return resolved
	case lockworker.OutcomeManual:
		return manual
	case lockworker.OutcomeWaiting:
		return config.DefaultStatuses.Waiting
	}
	return "(no status for outcome " + string(o) + ")"
}

// eventually polls cond until it holds, failing the test with cond's last
// word if it does not within timeout.
func (e *env) eventually(timeout time.Duration, what string, cond func() (bool, string)) {
	e.t.Helper()
	waitFor(e.t, timeout, what, cond)
}

// statuses returns the Easit status of each ticket ("07/55").
func (e *env) statuses(ids ...string) map[string]string {
	got := map[string]string{}
	for _, id := range ids {
		code, ticket, _ := strings.Cut(id, "/")
		got[id] = e.region(code).easit.Status(ticket)
	}
	return got
}

// openStore opens the env's lock store for the test to read; close it.
func (e *env) openStore() *lockstore.Store {
	e.t.Helper()
	store, err := lockstore.Open(e.t.Context(), e.driver, e.dsn, e.storeOptions())
	if err != nil {
		e.t.Fatalf("open the lock store: %v", err)
	}
	return store
}

// locks returns every lock, active or lifted, of the people.
func (e *env) locks(numbers ...string) []lockworker.Lock {
	e.t.Helper()
	store := e.openStore()
	defer store.Close()
	var all []lockworker.Lock
	for _, n := range numbers {
		locks, err := store.Locks(e.t.Context(), e.personnummer(n))
		if err != nil {
			e.t.Fatalf("read the locks: %v", err)
		}
		all = append(all, locks...)
	}
	return all
}

// ledger returns the ledger entry of a ticket.
func (e *env) ledger(code, ticket string) (lockworker.LedgerEntry, bool) {
	e.t.Helper()
	store := e.openStore()
	defer store.Close()
	entry, ok, err := store.Ledger(e.t.Context(), code, ticket)
	if err != nil {
		e.t.Fatalf("read the ledger: %v", err)
	}
	return entry, ok
}

// personnummer parses one of the tests' numbers.
func (e *env) personnummer(number string) lockworker.Personnummer {
	e.t.Helper()
	p, err := lockworker.ParsePersonnummer(number, time.Now())
	if err != nil {
		e.t.Fatalf("a test number does not parse: %v", err)
	}
	return p
}

// lockedBuffer is a buffer that the service may write while the test reads
// it.
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

// The built binary serves as the README says: started with --config, it
// answers /healthz, carries out an order, and exits 0 soon after SIGTERM.
func TestServeBinary(t *testing.T) {
	t.Parallel()
	bin := builtBinary(t)
	e := setup(t)
	e.accounts(adult)
	e.order("07", "55", lockKind, adult)
	listen := e.serviceConfig()

	cmd := exec.Command(bin, "serve", "--config", e.config)
	cmd.Env = append(os.Environ(), "LOCKWORKER_CONFIG=")
	for k, v := range e.vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	p := startBinary(t, cmd)
	s := &serving{t: t, admin: "http://" + listen}

	e.eventually(30*time.Second, "GET /healthz answers 200", func() (bool, string) {
		code, body := s.get("/healthz")
		return code == http.StatusOK, fmt.Sprintf("GET /healthz = %d %q; stderr:\n%s", code, body, p.stderr.String())
	})
	e.eventually(30*time.Second, "ticket 07/55 is resolved", func() (bool, string) {
		status := e.region("07").easit.Status("55")
		return status == resolved, fmt.Sprintf("ticket 07/55 has status %q, want %q", status, resolved)
	})
	status := exec.Command(bin, "status", adult, "--json", "--config", e.config)
	status.Env = cmd.Env
	out, err := status.Output()
	if want := `"locked":true`; err != nil || !strings.Contains(string(out), want) {
		t.Errorf("lockworker status --json while serving = %q (%v), want %s", out, err, want)
	}

	if took, err := p.stop(t, syscall.SIGTERM); err != nil || took > 5*time.Second {
		t.Errorf("after SIGTERM lockworker serve exited with %v after %s, want status 0 within 5s; stderr:\n%s", err, took.Round(time.Millisecond), p.stderr.String())
	}
	stdout, stderr := p.stdout.String(), p.stderr.String()
	assertNoPersonnummer(t, "standard output of the binary's serve", stdout)
	assertNoPersonnummer(t, "standard error of the binary's serve", stderr)
	if events := logEvents(t, stderr); len(events) == 0 || events[0]["message"] != "lockworker serve starting" || events[0]["version"] != "v1.2.3-test" {
		t.Errorf("the logs do not begin with the start and the version v1.2.3-test:\n%s", stderr)
	}
	if !strings.Contains(stderr, `"message":"service stopped"`) {
		t.Errorf("the logs do not say the service stopped:\n%s", stderr)
	}
}
