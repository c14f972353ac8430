package main

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/lockworker/lockworker/internal/pnrtest"
)

// axeSource is axe-core, the accessibility checker (testdata/axe-core).
//
//go:embed testdata/axe-core/axe.min.js
var axeSource string

// browser is a headless Chromium of one test, signed in as no one until it
// signs in.
type browser struct {
	t    *testing.T
	ctx  context.Context
	base string // the ops page's address, as the browser reaches it
	dir  string // where the screenshots go
}

// newBrowser starts Debian's chromium with the flags it needs as root in a
// container, and a profile of its own.
func newBrowser(t *testing.T, base string) *browser {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("no chromium: %v", err)
		}
		t.Skipf("no chromium (apt-get install chromium): %v", err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true), chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1280, 900),
		chromedp.Flag("accept-lang", "sv-SE,sv"),
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelCtx(); cancelAlloc() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	dir := t.ArtifactDir()
	return &browser{t: t, ctx: ctx, base: base, dir: dir}
}

// run runs actions, each bounded, and fails the test with what was asked.
func (b *browser) run(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v; the page shows:\n%s", what, err, b.body())
	}
}

// get runs one action that gives a value, bounded like run.
func get[T any](b *browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("%s: %v; the page shows:\n%s", what, err, b.body())
	}
	return v
}

// body is the page's text, for a failure's message.
func (b *browser) body() string {
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	s, _ := chromedp.Run(ctx, chromedp.Evaluate[string]("document.body ? document.body.innerText : ''"))
	return s
}

// poll waits until the expression is true, through the navigation that a
// click on a form's button starts.
func poll(expression string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		for {
			ok, err := chromedp.Evaluate[bool](expression)(ctx, t)
			if err == nil && ok {
				return nil
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("wait for %s: %w (last: %v)", expression, ctx.Err(), err)
			case <-time.After(100 * time.Millisecond):
			}
		}
	})
}

// open goes to path and waits for its h1.
func (b *browser) open(path string) {
	b.t.Helper()
	b.run("open "+path, chromedp.Navigate(b.base+path), chromedp.WaitVisible("main h1"))
}

// text returns the text of the main part of the page.
func (b *browser) text() string {
	b.t.Helper()
	return get(b, "read the page", chromedp.Evaluate[string]("document.querySelector('main').innerText"))
}

// sees fails the test unless the page's main part shows each of wants.
func (b *browser) sees(what string, wants ...string) {
	b.t.Helper()
	text := b.text()
	for _, want := range wants {
		if !strings.Contains(text, want) {
			b.t.Errorf("%s: the page does not show %q; it shows:\n%s", what, want, text)
		}
	}
}

// check saves a screenshot of the page as name.png, fails the test on any
// violation of WCAG 2.1 A or AA that axe-core finds, and on a personnummer
// in the page's URL or title.
func (b *browser) check(name string) {
	b.t.Helper()
	png := get(b, "screenshot "+name, chromedp.FullScreenshot(100))
	url := get(b, "the URL of "+name, chromedp.Location())
	title := get(b, "the title of "+name, chromedp.Title())
	if err := os.WriteFile(filepath.Join(b.dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
	pnrtest.AssertNone(b.t, name+": the URL", url, time.Now())
	pnrtest.AssertNone(b.t, name+": the title", title, time.Now())
	get(b, "inject axe-core", chromedp.Evaluate[bool](axeSource+";true"))
	violations := get(b, "axe-core on "+name, chromedp.Evaluate[string](`axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
			.then(r => JSON.stringify(r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(" "))}))))`,
		chromedp.EvalAwaitPromise))
	var found []any
	if err := json.Unmarshal([]byte(violations), &found); err != nil {
		b.t.Fatalf("axe-core's answer %q: %v", violations, err)
	}
	if len(found) > 0 {
		b.t.Errorf("%s: axe-core finds violations of WCAG 2.1 AA: %s", name, violations)
	}
}

// signIn signs in through the provider as who is, of groups, from a page
// without a session, and waits for the overview.
func (b *browser) signIn(is *issuer, who string, groups ...string) {
	b.t.Helper()
	is.signInAs(who, groups...)
	b.open("/")
	b.run("sign in as "+who,
		chromedp.Click(`a[href="/login"]`),
		chromedp.WaitVisible(`#live`),
	)
	b.sees("signed in as "+who, "Översikt")
	header := get(b, "read the header", chromedp.Evaluate[string]("document.querySelector('header').innerText"))
	if !strings.Contains(header, who) {
		b.t.Errorf("the header does not name %s: %q", who, header)
	}
}

// signOut signs out and waits for the sign-in.
func (b *browser) signOut() {
	b.t.Helper()
	b.run("sign out", chromedp.Click(`form[action="/logout"] button`), chromedp.WaitVisible(`a[href="/login"]`))
}

func TestOpsPageInABrowser(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the service and a browser")
	}
	t.Parallel()
	e := setup(t)
	e.accounts(adult, otherAdult)
	e.order("07", "55", lockKind, adult)
	e.order("12", "101", lockKind, "199908072392") // an invalid number: manual handling

	// The service, with a pass at the start and then every two minutes:
	// the passes of the test are the ones it asks for.
	listen := freeAddr(t)
	_, port, _ := net.SplitHostPort(listen)
	base := "http://localhost:" + port
	is := newIssuer(t, "lockworker", "the client secret of the test", base+"/callback")
	secret := e.write("oidc-client-secret", "the client secret of the test\n")
	e.vars["LOCKWORKER_ADMIN_TOKEN"] = "the-admin-token-of-at-least-32-characters-browser"
	data, err := os.ReadFile(e.config)
	if err != nil {
		t.Fatal(err)
	}
	e.write(filepath.Base(e.config), string(data)+fmt.Sprintf(`admin:
  listen: %q
  token: ${LOCKWORKER_ADMIN_TOKEN}
  oidc:
    issuer: %s
    client_id: lockworker
    client_secret_file: %q
    redirect_url: %s/callback
    viewer_group: lockworker-viewers
    operator_group: lockworker-operators
`, listen, is.URL(), secret, base))
	s := e.startServe()
	s.admin, s.token = "http://"+listen, e.vars["LOCKWORKER_ADMIN_TOKEN"]
	e.eventually(30*time.Second, "the first pass is done", func() (bool, string) {
		st := e.statuses("07/55", "12/101")
		return st["07/55"] == resolved && st["12/101"] == manual, fmt.Sprintf("statuses %v", st)
	})

	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the service's log:\n%s", s.stderr.String())
		}
	})
	t.Run("without a session, only the sign-in", func(t *testing.T) {
		b := newBrowser(t, base)
		for _, path := range []string{"/", "/decisions", "/ticket?region=07&ticket=55", "/person", "/resync"} {
			b.open(path)
			text := b.text()
			if !strings.Contains(text, "Logga in") || strings.Contains(text, "Kronoberg") || strings.Contains(text, "55") {
				t.Errorf("%s without a session shows:\n%s", path, text)
			}
		}
		b.check("signin")
	})

	t.Run("the session cookie", func(t *testing.T) {
		is.signInAs("vera", "lockworker-viewers")
		noFollow := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		step := func(url string, cookies ...*http.Cookie) *http.Response {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, url, nil)
			if err != nil {
				t.Fatal(err)
			}
			for _, c := range cookies {
				req.AddCookie(c)
			}
			res, err := noFollow.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			return res
		}
		login := step(s.admin + "/login")
		atIssuer := step(login.Header.Get("Location"))
		back := strings.Replace(atIssuer.Header.Get("Location"), base, s.admin, 1)
		if step(back).StatusCode != http.StatusBadRequest {
			t.Error("the callback without the browser's sign-in cookie is not refused")
		}
		// The state is used once: a fresh sign-in.
		login = step(s.admin + "/login")
		atIssuer = step(login.Header.Get("Location"))
		back = strings.Replace(atIssuer.Header.Get("Location"), base, s.admin, 1)
		res := step(back, login.Cookies()...)
		var session *http.Cookie
		for _, c := range res.Cookies() {
			if c.Name == "lockworker_session" {
				session = c
			}
		}
		if res.StatusCode != http.StatusOK || session == nil || !session.Secure || !session.HttpOnly || session.SameSite != http.SameSiteStrictMode ||
			session.MaxAge <= 0 || session.Expires.IsZero() || session.Path != "/" {
			t.Errorf("the callback answered %d with the session cookie %+v; want Secure, HttpOnly, SameSite=Strict, an expiry", res.StatusCode, session)
		}
	})

	t.Run("a viewer sees and is refused each operator action", func(t *testing.T) {
		b := newBrowser(t, base)
		b.signIn(is, "vera", "lockworker-viewers")
		b.sees("the overview", "07 Region Kronoberg", "12 Region Skåne", "Redo", "Manuell hantering", "12/101", "invalid_personnummer")
		b.check("overview-viewer")
		for _, path := range []string{"/person", "/resync"} {
			b.open(path)
			b.sees(path+" as a viewer", "Det här får bara en operatör göra.")
		}
		b.check("refused")
		b.open("/ticket?region=07&ticket=55")
		if strings.Contains(b.text(), "Visa personnummer") {
			t.Error("a viewer is offered to show the personnummer")
		}
		// A viewer's own POST, CSRF token and all, is refused too.
		status := get(b, "POST /resync as a viewer", chromedp.Evaluate[int](`fetch("/resync", {method: "POST", body: new URLSearchParams({run: "now"})}).then(r => r.status)`,
			chromedp.EvalAwaitPromise))
		if status != http.StatusForbidden {
			t.Errorf("a viewer's POST /resync = %d, want 403", status)
		}
		b.signOut()
		b.open("/")
		if text := b.text(); strings.Contains(text, "Kronoberg") {
			t.Errorf("after signing out, / shows:\n%s", text)
		}
	})

	t.Run("an operator reads, looks up and re-syncs", func(t *testing.T) {
		b := newBrowser(t, base)
		b.signIn(is, "otto", "lockworker-operators")

		// The overview updates itself: a pass asked for elsewhere appears.
		b.open("/")
		sum := s.sync("?region=07")
		b.run("the new pass appears on the open overview", chromedp.WaitVisible(fmt.Sprintf(`//td[text()=%q]`, sum.Pass)))
		b.check("overview")

		b.open("/decisions")
		b.sees("the decisions", "07/55", "12/101", "resolved", "manual", "pn-")
		b.check("decisions")
		b.run("filter the decisions", chromedp.SetValue(`select[name="outcome"]`, "manual"),
			chromedp.Click(`form.filter button`), poll(`location.search.includes("outcome=manual") && document.readyState === "complete"`))
		if text := b.text(); strings.Contains(text, "07/55") || !strings.Contains(text, "12/101") {
			t.Errorf("the decisions filtered to manual show:\n%s", text)
		}

		b.open("/ticket?region=07&ticket=55")
		b.sees("the ticket", "Klart: inloggningen till 1177", "Löst", "beslut", "bekräftad")
		b.check("ticket")
		b.run("show the personnummer", chromedp.SetValue(`form.reveal input[name="why"]`, "the patient asked on the phone"),
			chromedp.Click(`form.reveal button`), poll(`location.pathname === "/ticket/reveal" && document.readyState === "complete"`))
		if got := get(b, "the number shown", chromedp.Evaluate[string](`document.querySelector("#revealed").innerText`)); got != adult {
			t.Errorf("the revealed number is %q, want %s", got, adult)
		}
		b.check("ticket-revealed")

		b.open("/person")
		b.run("look a person up", chromedp.SetValue(`input[name="personnummer"]`, "19990807-2391"),
			chromedp.SetValue(`input[name="why"]`, "ticket 61 asks whether she is locked"),
			chromedp.Click(`form.filter button`), poll(`!!document.querySelector("#lock-status")`))
		b.sees("the person", "199908072391", "Inloggningen är låst", "07/55", "blankett-07-55",
			"otto", "the patient asked on the phone", "ticket 61 asks whether she is locked") // the trail: both looks
		b.check("person")

		// Both looks are in the access log, by name and reason.
		res := e.run("audit", "extract", adult, "--json")
		var ex struct {
			Accesses []struct {
				Who string `json:"vem"`
				Why string `json:"varför"`
				How string `json:"hur"`
			} `json:"åtkomster"`
		}
		if err := json.Unmarshal([]byte(res.stdout), &ex); err != nil {
			t.Fatalf("audit extract --json: %v\n%s%s", err, res.stdout, res.stderr)
		}
		var looks []string
		for _, a := range ex.Accesses {
			looks = append(looks, a.Who+": "+a.How+": "+a.Why)
		}
		for _, want := range []string{
			"otto: lockworker ops page: reveal: ticket 07/55: the patient asked on the phone",
			"otto: lockworker ops page: lookup: ticket 61 asks whether she is locked",
		} {
			if !slices.Contains(looks, want) {
				t.Errorf("the access log lacks %q; it holds %q", want, looks)
			}
		}

		// A new order, re-synced as one ticket: the preview first, then the pass.
		e.order("07", "58", lockKind, otherAdult)
		b.open("/resync")
		b.run("preview ticket 07/58", chromedp.SetValue(`select[name="region"]`, "07"),
			chromedp.SetValue(`input[name="ticket"]`, "58"),
			chromedp.Click(`button[value="preview"]`), chromedp.WaitVisible(`#result`))
		b.sees("the preview", "Förhandsgranskning", "58", "resolved")
		b.check("resync-preview")
		if st := e.region("07").easit.Status("58"); st != open {
			t.Errorf("the preview changed ticket 58 to %q", st)
		}
		b.run("run it", chromedp.Click(`button[value="now"]`),
			poll(`document.readyState === "complete" && !!document.querySelector("#result") && !document.body.innerText.includes("Förhandsgranskning")`))
		b.sees("the result", "58", "resolved", "decided", "Allt gick bra")
		if strings.Contains(b.text(), "Förhandsgranskning") {
			t.Error("the pass is shown as a preview")
		}
		b.check("resync")
		if st := e.region("07").easit.Status("58"); st != resolved {
			t.Errorf("after the re-sync ticket 58 is %q, want %q", st, resolved)
		}
	})

	if code, _ := s.stop(); code != exitOK {
		t.Errorf("serve exited %d", code)
	}
	_, stderr := s.output()
	pnrtest.AssertNone(t, "the logs", stderr, time.Now())
}
