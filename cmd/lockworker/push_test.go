package main

import (
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/lockworker/lockworker/easit"
	"github.com/lockworker/lockworker/easit/easittest"
)

// exportSecret07 is region 07's export secret in these tests; region 12 has
// none.
const exportSecret07 = "the-export-secret-of-region-07-of-32-characters"

// lockworker serve takes Easit's "Export item": a pushed order is carried
// out at once, not on the schedule (an hour here), from what the view says
// of it whatever the export says; only the region's Easit may push, and only
// an export is taken. The steps run in turn on one service.
func TestServeTakesEasitsPush(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the service for about 10 seconds")
	}
	t.Parallel()
	e := setup(t)
	e.accounts(adult, otherAdult, leapAdult, oldLeapAdult)
	e.editConfig("api_key: ${EASIT_07_KEY}\n", fmt.Sprintf("api_key: ${EASIT_07_KEY}\n      export_secret_file: %q\n",
		e.write("easit-07-export.secret", exportSecret07+"\n")))
	s := e.serveHourly()
	kronoberg := e.region("07").easit

	// Only the region's export secret, as the password of HTTP Basic, opens
	// the endpoint; the user name is Easit's to choose. The ticket these
	// pushes name is in no view: it is passed over.
	for _, tt := range []struct{ name, user, password string }{
		{"no credentials", "", ""},
		{"a wrong password", "easit", "not-the-export-secret"},
		{"the admin token", "easit", s.token},
	} {
		if code, header, body := s.push("07", tt.user, tt.password, export("999", "", "", "")); code != http.StatusUnauthorized ||
			header.Get("WWW-Authenticate") != `Basic realm="lockworker"` {
			t.Errorf("POST /easit/07 with %s = %d %q, want 401 with a Basic challenge", tt.name, code, body)
		}
	}
	for _, user := range []string{"", "easit-export"} {
		if code, _, body := s.push("07", user, exportSecret07, export("999", "", "", "")); code != http.StatusAccepted {
			t.Errorf("POST /easit/07 with the secret and user %q = %d %q, want 202", user, code, body)
		}
	}
	for _, code := range []string{"12", "99"} {
		if got, _, body := s.push(code, "easit", exportSecret07, export("999", "", "", "")); got != http.StatusNotFound {
			t.Errorf("POST /easit/%s = %d %q, want 404: region 12 has no export secret, and 99 is no region", code, got, body)
		}
	}

	// A body that is too large, not JSON or not an export is refused.
	for _, tt := range []struct{ name, body string }{
		{"over 1 MB", `{"itemToImport":[{"property":[{"name":"Id","content":"55"},{"name":"Beskrivning","content":"` + strings.Repeat("x", 1<<20) + `"}]}]}`},
		{"not JSON", "<item><Id>55</Id></item>"},
		{"not an export", `{"items":{"item":[{"property":[{"name":"Id","content":"55"}]}]}}`},
		{"no ticket number", `{"itemToImport":[{"property":[{"name":"Status","content":"Registrerad"}]}]}`},
	} {
		if code, _, body := s.push("07", "easit", exportSecret07, tt.body); code != http.StatusBadRequest {
			t.Errorf("POST /easit/07 with a body %s = %d %q, want 400", tt.name, code, body)
		}
	}

	// An order pushed is carried out at once, as the view has it: the
	// export says another person, another kind and a resolved status, and
	// none of that counts.
	e.order("07", "55", lockKind, adult)
	if code, _, body := s.push("07", "easit", exportSecret07, export("55", otherAdult, unlockKind, resolved)); code != http.StatusAccepted {
		t.Fatalf("POST /easit/07 of ticket 55 = %d %q, want 202", code, body)
	}
	e.eventually(10*time.Second, "the pushed order is carried out", func() (bool, string) {
		status := kronoberg.Status("55")
		return status == resolved, fmt.Sprintf("ticket 07/55 has status %q, want %q", status, resolved)
	})
	if locks := e.locks(adult); len(locks) != 1 || !locks[0].Active() {
		t.Errorf("the view's person has locks %+v, want one active lock", locks)
	}
	if locks := e.locks(otherAdult); len(locks) != 0 {
		t.Errorf("the person the export named has locks %+v, want none", locks)
	}
	if n := kronoberg.Updates("999"); n != 0 {
		t.Errorf("ticket 999, in no view, was updated %d times", n)
	}

	// A push while a pass is at work on the region waits for it: the
	// operator's pass holds its ticket update in Easit, and no pass reads
	// the view until it is let go.
	e.order("07", "57", lockKind, leapAdult)
	held, release := make(chan struct{}), make(chan struct{})
	var mu gosync.Mutex
	var holding bool
	var readWhileHeld int
	kronoberg.SetFault(func(c easittest.Call) *easittest.Fault {
		switch {
		case c.Op == easit.OpImport && slices.Contains(c.Tickets, "57"):
			mu.Lock()
			holding = true
			mu.Unlock()
			close(held)
			<-release
			mu.Lock()
			holding = false
			mu.Unlock()
		case c.Op == easit.OpList:
			mu.Lock()
			if holding {
				readWhileHeld++
			}
			mu.Unlock()
		}
		return nil
	})
	released := false
	defer func() {
		if !released {
			close(release)
		}
	}()
	manual := make(chan summaryJSON, 1)
	go func() { manual <- s.sync("?region=07") }()
	select {
	case <-held:
	case <-time.After(10 * time.Second):
		t.Fatal("the operator's pass did not send ticket 57's update")
	}
	e.order("07", "58", lockKind, oldLeapAdult)
	if code, _, body := s.push("07", "easit", exportSecret07, export("58", "", "", "")); code != http.StatusAccepted {
		t.Fatalf("POST /easit/07 of ticket 58 = %d %q, want 202", code, body)
	}
	time.Sleep(1500 * time.Millisecond) // longer than a free region's push waits for its pass
	mu.Lock()
	if readWhileHeld != 0 {
		t.Errorf("the view was read %d times while the region's pass was at work", readWhileHeld)
	}
	mu.Unlock()
	if status := kronoberg.Status("58"); status != open {
		t.Errorf("ticket 07/58 has status %q while the region's pass is at work, want it %q", status, open)
	}
	released = true
	close(release)
	if sum := <-manual; !sum.OK || sum.orders()["07/57"] == "" {
		t.Errorf("the operator's pass: ok %v, orders %v; want ok, with ticket 57", sum.OK, sum.orders())
	}
	e.eventually(10*time.Second, "the order pushed during the pass is carried out after it", func() (bool, string) {
		status := kronoberg.Status("58")
		return status == resolved, fmt.Sprintf("ticket 07/58 has status %q, want %q", status, resolved)
	})

	// The passes of pushed tickets count as such.
	e.eventually(10*time.Second, "lockworker_passes_total counts the pushes' passes", func() (bool, string) {
		got := metricValue(s.metrics(), "lockworker_passes_total", map[string]string{"trigger": "push"})
		return got >= 2, fmt.Sprintf("lockworker_passes_total{trigger=push} = %v, want at least 2", got)
	})

	if code, took := s.stop(); code != exitOK || took > 5*time.Second {
		t.Errorf("serve returned %d %s after the stop, want 0 within 5s", code, took.Round(time.Millisecond))
	}
	// Each push is logged with its region and how many tickets it named,
	// never with its body.
	_, stderr := s.output()
	assertNoPersonnummer(t, "standard error of lockworker serve", stderr)
	pushes := 0
	for _, ev := range logEvents(t, stderr) {
		if ev["message"] == "Easit pushed tickets" {
			pushes++
			if ev["region"] != "07" || ev["tickets"] != float64(1) {
				t.Errorf("a push's log event %v, want region 07 and 1 ticket", ev)
			}
		}
	}
	if pushes != 4 {
		t.Errorf("%d pushes logged, want the 4 taken", pushes)
	}
	if strings.Contains(stderr, exportSecret07) || strings.Contains(stderr, "Beskrivning") {
		t.Error("the log shows the export secret or a body")
	}
}

// export is Easit's export of one ticket, the fields given non-empty.
func export(ticket, personnummer, kind, status string) string {
	props := []string{fmt.Sprintf(`{"name":"Id","content":%q,"rawValue":%q}`, ticket, ticket)}
	for _, p := range [][2]string{{"Personnummer", personnummer}, {"Ärendetyp", kind}, {"Status", status}} {
		if p[1] != "" {
			props = append(props, fmt.Sprintf(`{"name":%q,"content":%q}`, p[0], p[1]))
		}
	}
	return `{"itemToImport":[{"id":"1","uid":"export-` + ticket + `","property":[` + strings.Join(props, ",") + `]}]}`
}

// serveHourly is serve with passes on the schedule an hour apart: only the
// pass at start, a manual pass or a push reads a view. It returns once both
// regions have been read.
func (e *env) serveHourly() *serving {
	e.t.Helper()
	listen := e.serviceConfig()
	e.editConfig(`schedule: "@every 1s"`, `schedule: "@every 1h"`)
	s := e.startServe()
	s.admin, s.token = "http://"+listen, e.vars["LOCKWORKER_ADMIN_TOKEN"]
	e.eventually(30*time.Second, "the pass at start reads both regions", func() (bool, string) {
		code, body := s.get("/readyz")
		return code == http.StatusOK, fmt.Sprintf("GET /readyz = %d %q; stderr:\n%s", code, body, s.stderr.String())
	})
	return s
}

// push sends body to POST /easit/{code} with HTTP Basic of user and
// password (none when both are empty).
func (s *serving) push(code, user, password, body string) (int, http.Header, string) {
	s.t.Helper()
	req, err := http.NewRequestWithContext(s.t.Context(), http.MethodPost, s.admin+"/easit/"+code, strings.NewReader(body))
	if err != nil {
		s.t.Fatal(err)
	}
	if user != "" || password != "" {
		req.SetBasicAuth(user, password)
	}
	resp, err := adminClient.Do(req)
	if err != nil {
		return 0, nil, err.Error()
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, nil, err.Error()
	}
	return resp.StatusCode, resp.Header, string(answer)
}
