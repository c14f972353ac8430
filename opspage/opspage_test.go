package opspage

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/lockworker/lockworker"
	"github.com/lockworker/lockworker/internal/pnrtest"
	"github.com/lockworker/lockworker/lockstore"
	"github.com/lockworker/lockworker/lockstore/lockstoretest"
	"github.com/lockworker/lockworker/service"
	"github.com/lockworker/lockworker/sync"
)

const token = "an-admin-token-of-at-least-32-characters"

var start = time.Date(2026, 11, 30, 13, 5, 0, 0, time.UTC)

// anna is one of Skatteverket's test numbers.
var anna = func() lockworker.Personnummer {
	pn, err := lockworker.ParsePersonnummer("199908072391", start)
	if err != nil {
		panic(err)
	}
	return pn
}()

// fakeService is the running service, as the page sees it.
type fakeService struct {
	mu     gosync.Mutex
	health service.Health
	asked  []sync.Options
	sum    sync.Summary
	err    error
}

func (f *fakeService) Health(context.Context) service.Health {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.health
}

func (f *fakeService) Sync(_ context.Context, opts sync.Options, _ string) (sync.Summary, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.asked = append(f.asked, opts)
	sum := f.sum
	sum.DryRun = opts.DryRun
	return sum, f.err
}

// accessLog keeps the accesses it is told of.
type accessLog struct {
	mu  gosync.Mutex
	got []Access
}

func (l *accessLog) RecordAccess(_ context.Context, a Access) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.got = append(l.got, a)
	return nil
}

type env struct {
	t     *testing.T
	page  *Page
	srv   *httptest.Server
	svc   *fakeService
	store *lockstore.Store
	log   *accessLog
	logs  *strings.Builder
}

var regions = []service.Region{{Code: "07", Name: "Region Kronoberg"}, {Code: "12", Name: "Region Skåne"}}

func setup(t *testing.T, withLog bool) *env { t.Helper(); return setupWith(t, withLog, nil) }

// setupWith is setup with the sign-in of oidc (nil for none).
func setupWith(t *testing.T, withLog bool, oidc *OIDC) *env {
	t.Helper()
	store := lockstoretest.OpenSQLite(t, lockstore.Options{Now: func() time.Time { return start }})
	e := &env{t: t, store: store, logs: &strings.Builder{}, svc: &fakeService{health: service.Health{Regions: []service.RegionHealth{
		{Region: regions[0], LastGood: start.Add(-time.Minute)},
		{Region: regions[1], LastFailure: start.Add(-2 * time.Minute), Failure: "read the view: 503 Service Unavailable", Problem: "no good pass yet"},
	}}}}
	cfg := Config{Token: token, Regions: regions, Now: func() time.Time { return start }, Log: zerolog.New(e.logs), OIDC: oidc}
	if withLog {
		e.log = &accessLog{}
		cfg.AccessLog = e.log
	}
	p, err := New(cfg, store)
	if err != nil {
		t.Fatal(err)
	}
	e.page = p
	e.srv = httptest.NewServer(p.For(e.svc))
	t.Cleanup(e.srv.Close)
	return e
}

func (e *env) record(d lockworker.Decision) {
	e.t.Helper()
	if err := e.store.Record(e.t.Context(), d); err != nil {
		e.t.Fatalf("record %s: %v", d.Ticket, err)
	}
}

func lockOrder(ticket string, at time.Time) lockworker.Decision {
	return lockworker.Decision{
		Pass: "20261130T130500Z-1", At: at, Region: "07", Ticket: ticket, Kind: lockworker.KindLock,
		Outcome: lockworker.OutcomeResolved, Personnummer: anna, Reporter: "Test Testsson", ReporterHSAID: "SE2321000065-lak1",
		Evidence: lockworker.Evidence{Form: "form-" + ticket, Signer: "SE2321000065-lak1", SignedAt: at.Add(-time.Hour)},
		Change:   lockworker.ChangeLock, Status: "Löst", Comment: "Inloggningen till 1177 är låst.",
	}
}

func manualOrder(ticket string, at time.Time) lockworker.Decision {
	return lockworker.Decision{
		Pass: "20261130T130500Z-1", At: at, Region: "12", Ticket: ticket, Kind: lockworker.KindLock,
		Outcome: lockworker.OutcomeManual, Reason: lockworker.ReasonInvalidPersonnummer,
		Status: "Manuell hantering", Comment: "Personnumret är ogiltigt.",
	}
}

// do sends a request as the token's holder when auth is "token", as the
// session of that id when auth starts with "session:", else as no one.
func (e *env) do(method, path, auth string, form url.Values, header ...string) (int, http.Header, string) {
	e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequestWithContext(e.t.Context(), method, e.srv.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	switch {
	case auth == "token":
		req.Header.Set("Authorization", "Bearer "+token)
	case strings.HasPrefix(auth, "session:"):
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: strings.TrimPrefix(auth, "session:")})
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return res.StatusCode, res.Header, string(b)
}

func TestWithoutATokenOnlyTheSignIn(t *testing.T) {
	t.Parallel()
	e := setup(t, true)
	e.record(lockOrder("55", start.Add(-time.Hour)))
	for _, tt := range []struct{ method, path string }{
		{"GET", "/"}, {"GET", "/fragment/overview"}, {"GET", "/decisions"}, {"GET", "/ticket?region=07&ticket=55"},
		{"GET", "/person"}, {"POST", "/person"}, {"POST", "/ticket/reveal"}, {"GET", "/resync"}, {"POST", "/resync"}, {"GET", "/nowhere"},
	} {
		for _, auth := range []string{"", "wrong", "session:no-such-session"} {
			t.Run(tt.method+" "+tt.path+" "+auth, func(t *testing.T) {
				h := []string{}
				if auth == "wrong" {
					h = []string{"Authorization", "Bearer not-the-token-but-long-enough-to-be-one"}
				}
				form := url.Values{"personnummer": {anna.Reveal()}, "why": {"test"}, "region": {"07"}, "ticket": {"55"}, "run": {"now"}}
				if tt.method == "GET" {
					form = nil
				}
				code, hdr, body := e.do(tt.method, tt.path, auth, form, h...)
				if code != http.StatusUnauthorized {
					t.Errorf("status %d, want 401", code)
				}
				if hdr.Get("Cache-Control") != "no-store" {
					t.Errorf("Cache-Control %q, want no-store", hdr.Get("Cache-Control"))
				}
				for _, secret := range []string{"Kronoberg", "Inloggningen till 1177", "55", anna.Reveal(), anna.Pseudonym()} {
					if strings.Contains(body, secret) {
						t.Errorf("the sign-in shows %q:\n%s", secret, body)
					}
				}
				if !strings.Contains(body, "administratörstoken") {
					t.Errorf("no word of the token:\n%s", body)
				}
			})
		}
	}
	if len(e.log.got) != 0 || len(e.svc.asked) != 0 {
		t.Errorf("without a sign-in: accesses %v, passes %v", e.log.got, e.svc.asked)
	}
}

func TestTheOverviewShowsHealthOutcomesWaitingManualAndPasses(t *testing.T) {
	t.Parallel()
	e := setup(t, false)
	e.record(lockOrder("55", start.Add(-time.Hour)))
	e.record(manualOrder("61", start.Add(-30*time.Minute)))
	old := lockOrder("40", start.Add(-48*time.Hour))
	old.Personnummer, old.Change, old.Outcome = lockworker.Personnummer{}, lockworker.ChangeNone, lockworker.OutcomeNoop
	e.record(old)
	waiting := manualOrder("62", start.Add(-10*time.Minute))
	waiting.Outcome, waiting.Reason, waiting.Status, waiting.Comment = lockworker.OutcomeWaiting, lockworker.ReasonFormMissing, "Väntar på blankett", "Väntar på blankett F1 … till 2026-12-03 14:05 CET"
	e.record(waiting)
	if err := e.store.RecordPass(t.Context(), lockworker.PassRecord{ID: "20261130T120000Z-abc", StartedAt: start.Add(-time.Hour), FinishedAt: start.Add(-time.Hour + time.Second),
		Regions: []string{"07", "12"}, Outcomes: map[lockworker.Outcome]int{lockworker.OutcomeResolved: 1}, FailedRegions: []string{"12"}}); err != nil {
		t.Fatal(err)
	}
	code, hdr, body := e.do("GET", "/", "token", nil)
	if code != http.StatusOK || hdr.Get("Cache-Control") != "no-store" || hdr.Get("Content-Language") != "sv" ||
		!strings.Contains(hdr.Get("Content-Security-Policy"), "frame-ancestors 'none'") || hdr.Get("X-Frame-Options") != "DENY" {
		t.Fatalf("GET / = %d, %v:\n%s", code, hdr, body)
	}
	for _, want := range []string{
		"<title>Översikt – lockworker</title>", "07 Region Kronoberg", "Redo", "Inte redo</strong>: no good pass yet",
		"read the view: 503 Service Unavailable", "2026-11-30 14:04 CET", // region 07's last good pass, Swedish time
		`outcome-resolved">resolved</span></th><td class="num">1</td>`, // the noop of 48 hours ago is not counted
		`outcome-noop">noop</span></th><td class="num">0</td>`,
		`outcome-manual">manual</span></th><td class="num">1</td>`,
		`href="/ticket?region=12&amp;ticket=61"`, "invalid_personnummer", "Personnumret är ogiltigt.",
		"form_missing", "till 2026-12-03 14:05 CET", "20261130T120000Z-abc", `data-every="10000"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the overview lacks %q", want)
		}
	}
	pnrtest.AssertNone(t, "the overview", body, start)
	_, _, frag := e.do("GET", "/fragment/overview", "token", nil)
	if strings.Contains(frag, "<html") || !strings.Contains(frag, "20261130T120000Z-abc") {
		t.Errorf("the fragment is not the overview's content alone:\n%s", frag)
	}
}

func TestEnglishWhenTheBrowserAsks(t *testing.T) {
	t.Parallel()
	e := setup(t, false)
	for _, tt := range []struct{ accept, want, title string }{
		{"", "sv", "Översikt"},
		{"en-GB,en;q=0.9", "en", "Overview"},
		{"sv-SE,sv;q=0.9,en;q=0.8", "sv", "Översikt"},
		{"de-DE,en;q=0.5", "en", "Overview"},
		{"fr", "sv", "Översikt"},
	} {
		_, hdr, body := e.do("GET", "/", "token", nil, "Accept-Language", tt.accept)
		if hdr.Get("Content-Language") != tt.want || !strings.Contains(body, `<html lang="`+tt.want+`">`) || !strings.Contains(body, "<title>"+tt.title) {
			t.Errorf("Accept-Language %q: Content-Language %q, want %q and title %q", tt.accept, hdr.Get("Content-Language"), tt.want, tt.title)
		}
	}
}

func TestEveryMessageInBothLanguages(t *testing.T) {
	t.Parallel()
	for key := range messages["sv"] {
		if _, ok := messages["en"][key]; !ok {
			t.Errorf("%q has no English", key)
		}
	}
	for key := range messages["en"] {
		if _, ok := messages["sv"][key]; !ok {
			t.Errorf("%q has no Swedish", key)
		}
	}
}

func TestDecisionsNewestFirstFilteredAndPaginated(t *testing.T) {
	t.Parallel()
	e := setup(t, false)
	for i := range 2*pageSize + 5 {
		d := manualOrder(fmt.Sprint(1000+i), start.Add(time.Duration(i-200)*time.Minute))
		if i%2 == 1 {
			d.Region = "07"
		}
		e.record(d)
	}
	e.record(lockOrder("55", start.Add(-time.Hour)))

	_, _, body := e.do("GET", "/decisions", "token", nil)
	if !strings.Contains(body, "1104") || strings.Contains(body, ">12/1000<") || !strings.Contains(body, `href="/decisions?page=2"`) || strings.Contains(body, `rel="prev"`) {
		t.Errorf("page 1 is not the newest %d with a link to page 2:\n%s", pageSize, body)
	}
	if i, j := strings.Index(body, "12/1104"), strings.Index(body, "07/1103"); i < 0 || j < 0 || i > j {
		t.Errorf("not newest first: 1104 at %d, 1103 at %d", i, j)
	}
	_, _, body = e.do("GET", "/decisions?page=3", "token", nil)
	if !strings.Contains(body, "12/1000") || strings.Contains(body, `rel="next"`) || !strings.Contains(body, `href="/decisions?page=2"`) {
		t.Errorf("page 3 does not end the trail:\n%s", body)
	}
	_, _, body = e.do("GET", "/decisions?region=07&outcome=resolved", "token", nil)
	if got := strings.Count(body, "<tr><td><time"); got != 1 || !strings.Contains(body, "07/55") || !strings.Contains(body, anna.Pseudonym()) {
		t.Errorf("region 07, resolved: %d rows, want 07/55 by pseudonym:\n%s", got, body)
	}
	pnrtest.AssertNone(t, "the decisions", body, start)
	_, _, body = e.do("GET", "/decisions?ticket=1003&reason=invalid_personnummer", "token", nil)
	if got := strings.Count(body, "<tr><td><time"); got != 1 || !strings.Contains(body, "07/1003") {
		t.Errorf("ticket 1003: %d rows:\n%s", got, body)
	}
	// The dates are days in Sweden: 00:30 CET on 30 November is 23:30 UTC
	// on the 29th.
	e.record(manualOrder("900", time.Date(2026, 11, 29, 23, 30, 0, 0, time.UTC)))
	e.record(manualOrder("901", time.Date(2026, 11, 29, 22, 30, 0, 0, time.UTC)))
	_, _, body = e.do("GET", "/decisions?to=2026-11-29", "token", nil)
	if got := strings.Count(body, "<tr><td><time"); got != 1 || !strings.Contains(body, "12/901") {
		t.Errorf("up to 29 November: %d rows, want 12/901 alone:\n%s", got, body)
	}
	_, _, body = e.do("GET", "/decisions?from=2026-11-30&to=2026-11-30&region=12&page=2", "token", nil)
	if got := strings.Count(body, "<tr><td><time"); got != 4 || !strings.Contains(body, "12/900") {
		t.Errorf("page 2 of 30 November in region 12: %d rows, want 53+1-50 = 4", got)
	}
	code, _, body := e.do("GET", "/decisions?from=yesterday", "token", nil)
	if code != http.StatusBadRequest || !strings.Contains(body, "inte giltiga") {
		t.Errorf("a bad date: %d:\n%s", code, body)
	}
}

func TestATicketsWholeHistory(t *testing.T) {
	t.Parallel()
	e := setup(t, true)
	e.record(lockOrder("55", start.Add(-time.Hour)))
	if err := e.store.ReleaseUpdate(t.Context(), "07", "55", 1, "update the ticket: 503"); err != nil {
		t.Fatal(err)
	}
	if err := e.store.ConfirmSent(t.Context(), "07", "55", 1); err != nil {
		t.Fatal(err)
	}
	code, _, body := e.do("GET", "/ticket?region=07&ticket=55", "token", nil)
	if code != http.StatusOK {
		t.Fatalf("status %d:\n%s", code, body)
	}
	for _, want := range []string{"<title>Ärende 07/55 – lockworker</title>", "Inloggningen till 1177 är låst.", "Test Testsson", "SE2321000065-lak1", "form-55", "beslut", "bekräftad", "Visa personnummer",
		"granskningsloggen", "2026-11-30 12:05 CET", anna.Pseudonym()} { // signed an hour before the decision
		if !strings.Contains(body, want) {
			t.Errorf("the ticket lacks %q", want)
		}
	}
	pnrtest.AssertNone(t, "the ticket", body, start)
	if code, _, _ := e.do("GET", "/ticket?region=07&ticket=56", "token", nil); code != http.StatusNotFound {
		t.Errorf("an unknown ticket: %d, want 404", code)
	}
	// A number typed where the ticket goes is not repeated in the title.
	if _, _, body := e.do("GET", "/ticket?region=07&ticket=199908072391", "token", nil); strings.Contains(body[:strings.Index(body, "</title>")], "1999") {
		t.Errorf("the title repeats what was typed as the ticket:\n%s", body)
	}

	// A reveal needs a reason, and is in the access log before it is shown.
	code, _, body = e.do("POST", "/ticket/reveal", "token", url.Values{"region": {"07"}, "ticket": {"55"}, "why": {"  "}})
	if code != http.StatusBadRequest || strings.Contains(body, anna.Reveal()) {
		t.Errorf("a reveal without a reason: %d", code)
	}
	code, _, body = e.do("POST", "/ticket/reveal", "token", url.Values{"region": {"07"}, "ticket": {"55"}, "why": {"the patient called"}})
	if code != http.StatusOK || !strings.Contains(body, `<strong id="revealed">`+anna.Reveal()) {
		t.Errorf("the reveal: %d:\n%s", code, body)
	}
	if len(e.log.got) != 1 || e.log.got[0].Who != TokenUser || e.log.got[0].Why != "the patient called" || e.log.got[0].Personnummer != anna || !strings.Contains(e.log.got[0].What, "07/55") {
		t.Errorf("the access log holds %+v", e.log.got)
	}
	pnrtest.AssertNone(t, "the logs", e.logs.String(), start)
}

func TestLookingAPersonUp(t *testing.T) {
	t.Parallel()
	e := setup(t, true)
	e.record(lockOrder("55", start.Add(-time.Hour)))
	code, _, body := e.do("POST", "/person", "token", url.Values{"personnummer": {"19990807-2391"}, "why": {"ticket 61 asks"}})
	if code != http.StatusOK {
		t.Fatalf("status %d:\n%s", code, body)
	}
	for _, want := range []string{`<span id="number">199908072391</span>`, "Inloggningen är låst", `href="/ticket?region=07&amp;ticket=55"`, "form-55",
		`<table id="trail">`, `outcome-resolved">resolved</span>`} {
		if !strings.Contains(body, want) {
			t.Errorf("the person lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body[:strings.Index(body, "</title>")], "1999") {
		t.Error("the number is in the title")
	}
	if len(e.log.got) != 1 || e.log.got[0].What != "lookup" || e.log.got[0].Personnummer != anna {
		t.Errorf("the access log holds %+v", e.log.got)
	}
	for _, tt := range []struct{ number, why string }{{"19990807-2392", "a reason"}, {"199908072391", ""}} {
		code, _, body := e.do("POST", "/person", "token", url.Values{"personnummer": {tt.number}, "why": {tt.why}})
		if code != http.StatusBadRequest || strings.Contains(body, "19990807") || strings.Contains(body, "id=\"number\"") {
			t.Errorf("%q, %q: %d, the number repeated or shown", tt.number, tt.why, code)
		}
	}
	if len(e.log.got) != 1 {
		t.Errorf("refused lookups logged: %+v", e.log.got)
	}
	pnrtest.AssertNone(t, "the logs", e.logs.String(), start)
}

func TestWithoutAnAccessLogNoPersonIsShown(t *testing.T) {
	t.Parallel()
	e := setup(t, false)
	e.record(lockOrder("55", start.Add(-time.Hour)))
	for _, tt := range []struct {
		method, path string
		form         url.Values
	}{
		{"GET", "/person", nil},
		{"POST", "/person", url.Values{"personnummer": {anna.Reveal()}, "why": {"a reason"}}},
		{"POST", "/ticket/reveal", url.Values{"region": {"07"}, "ticket": {"55"}, "why": {"a reason"}}},
	} {
		code, _, body := e.do(tt.method, tt.path, "token", tt.form)
		if code != http.StatusServiceUnavailable || strings.Contains(body, anna.Reveal()) || !strings.Contains(body, "ingen åtkomstlogg") {
			t.Errorf("%s %s: %d:\n%s", tt.method, tt.path, code, body)
		}
	}
}

func TestResyncPreviewsThenRuns(t *testing.T) {
	t.Parallel()
	e := setup(t, false)
	e.svc.sum = sync.Summary{Pass: "20261130T130500Z-def", Regions: []sync.RegionSummary{{Code: "07", Name: "Region Kronoberg", Orders: []sync.Result{
		{Ticket: "55", Kind: lockworker.KindLock, Outcome: lockworker.OutcomeResolved, Action: sync.ActionDecided, Comment: "Inloggningen till 1177 är låst."},
		{Ticket: "56", Action: sync.ActionDeferred, Why: "another process is sending the update"},
	}}}}
	code, _, body := e.do("POST", "/resync", "token", url.Values{"region": {"07"}, "ticket": {"55"}, "run": {"preview"}})
	if code != http.StatusOK || !strings.Contains(body, "Förhandsgranskning") || !strings.Contains(body, `value="now"`) || !strings.Contains(body, "another process is sending the update") {
		t.Errorf("the preview: %d:\n%s", code, body)
	}
	_, _, body = e.do("POST", "/resync", "token", url.Values{"region": {"07"}, "ticket": {"55"}, "run": {"now"}})
	if strings.Contains(body, "Förhandsgranskning") || !strings.Contains(body, "20261130T130500Z-def") || !strings.Contains(body, "Inloggningen till 1177 är låst.") {
		t.Errorf("the pass:\n%s", body)
	}
	want := []sync.Options{{Region: "07", Ticket: "55", DryRun: true}, {Region: "07", Ticket: "55"}}
	if fmt.Sprint(e.svc.asked) != fmt.Sprint(want) {
		t.Errorf("passes asked %+v, want %+v", e.svc.asked, want)
	}
	e.svc.err = &service.ErrBusy{Pass: "20261130T130000Z-run"}
	code, _, body = e.do("POST", "/resync", "token", url.Values{"run": {"now"}})
	if code != http.StatusConflict || !strings.Contains(body, "20261130T130000Z-run") {
		t.Errorf("a pass running: %d:\n%s", code, body)
	}
	if code, _, _ := e.do("POST", "/resync", "token", url.Values{"region": {"99"}}); code != http.StatusBadRequest {
		t.Errorf("an unknown region: %d", code)
	}
}

func TestViewersSeeAndOperatorsAct(t *testing.T) {
	t.Parallel()
	// The provider is not asked: the sessions are made here.
	e := setupWith(t, true, &OIDC{Issuer: "http://127.0.0.1:1", ClientID: "lockworker", RedirectURL: "http://127.0.0.1:1/callback", ViewerGroup: "v", OperatorGroup: "o"})
	e.record(lockOrder("55", start.Add(-time.Hour)))
	expires := start.Add(time.Hour)
	viewer := e.page.sessions.add(user{Name: "vera", Role: RoleViewer}, expires)
	operator := e.page.sessions.add(user{Name: "otto", Role: RoleOperator}, expires)
	stale := e.page.sessions.add(user{Name: "olle", Role: RoleOperator}, start)
	csrf := func(id string) string { u, _ := e.page.sessions.get(id); return u.CSRF }

	for _, path := range []string{"/", "/decisions", "/ticket?region=07&ticket=55"} {
		if code, _, body := e.do("GET", path, "session:"+viewer, nil); code != http.StatusOK || !strings.Contains(body, "vera") || strings.Contains(body, "Visa personnummer") {
			t.Errorf("a viewer's GET %s: %d", path, code)
		}
	}
	for _, tt := range []struct {
		method, path string
		form         url.Values
	}{
		{"GET", "/person", nil}, {"GET", "/resync", nil},
		{"POST", "/person", url.Values{"personnummer": {anna.Reveal()}, "why": {"a reason"}, "csrf": {csrf(viewer)}}},
		{"POST", "/ticket/reveal", url.Values{"region": {"07"}, "ticket": {"55"}, "why": {"a reason"}, "csrf": {csrf(viewer)}}},
		{"POST", "/resync", url.Values{"run": {"now"}, "csrf": {csrf(viewer)}}},
	} {
		code, _, body := e.do(tt.method, tt.path, "session:"+viewer, tt.form)
		if code != http.StatusForbidden || !strings.Contains(body, "bara en operatör") || strings.Contains(body, anna.Reveal()) {
			t.Errorf("a viewer's %s %s: %d", tt.method, tt.path, code)
		}
	}
	if code, _, _ := e.do("GET", "/", "session:"+stale, nil); code != http.StatusUnauthorized {
		t.Errorf("an expired session: %d, want 401", code)
	}
	// An operator's form without the session's CSRF token does nothing.
	for _, form := range []url.Values{{"run": {"now"}}, {"run": {"now"}, "csrf": {csrf(viewer)}}} {
		if code, _, _ := e.do("POST", "/resync", "session:"+operator, form); code != http.StatusForbidden {
			t.Errorf("a re-sync without the CSRF token (%v): %d, want 403", form, code)
		}
	}
	if code, _, body := e.do("POST", "/resync", "session:"+operator, url.Values{"run": {"now"}, "csrf": {csrf(operator)}}); code != http.StatusOK || !strings.Contains(body, `name="csrf"`) {
		t.Errorf("an operator's re-sync: %d:\n%s", code, body)
	}
	if len(e.svc.asked) != 1 || len(e.log.got) != 0 {
		t.Errorf("passes %v, accesses %v: want the operator's one pass", e.svc.asked, e.log.got)
	}
	if code, _, _ := e.do("POST", "/logout", "session:"+operator, url.Values{"csrf": {csrf(operator)}}); code != http.StatusOK {
		t.Errorf("sign out: %d", code)
	}
	if code, _, _ := e.do("GET", "/", "session:"+operator, nil); code != http.StatusUnauthorized {
		t.Errorf("after signing out: %d, want 401", code)
	}
}
