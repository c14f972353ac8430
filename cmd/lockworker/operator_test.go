package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lockworker/lockworker"
	"github.com/lockworker/lockworker/easit"
	"github.com/lockworker/lockworker/easit/easittest"
	"github.com/lockworker/lockworker/lockstore"
)

// A ticket asked for that no region's view holds is an error that says so.
func TestSyncOfATicketNoViewHoldsIsAnError(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.accounts(adult)
	e.order("07", "55", lockKind, adult)
	for _, args := range [][]string{{"sync", "--ticket", "999"}, {"sync", "--ticket", "999", "--dry-run"}} {
		res := e.run(args...)
		if res.code != exitFailed || !strings.Contains(res.stderr, "ticket 999 is not in the view of any region read") {
			t.Errorf("lockworker %s = %d, stderr %q; want 1 saying so", strings.Join(args, " "), res.code, res.stderr)
		}
	}
	res := e.run("sync", "--ticket", "999", "--json")
	if sum := parseSummary(t, res.stdout); res.code != exitFailed || sum.OK || sum.MissingTicket != "999" {
		t.Errorf("sync --ticket 999 --json = %d, %+v; want 1, ok false, missing_ticket 999", res.code, sum)
	}
	// A ticket the view holds but that needs nothing says so too.
	e.sync("--ticket", "55")
	res = e.run("sync", "--ticket", "55", "--json")
	sum := parseSummary(t, res.stdout)
	if res.code != exitOK || len(sum.Regions[0].Orders) != 1 || !strings.Contains(sum.Regions[0].Orders[0].Why, `nothing to do: the ticket's status is "Löst"`) {
		t.Errorf("sync --ticket 55 of a resolved ticket = %d, %+v; want 0 and why", res.code, sum.Regions)
	}
}

// A ticket whose update another live process holds is waited for and, when
// it holds it longer, shown as deferred with the reason, in the table and the
// JSON; the pass exits 1, since the order got no outcome.
func TestSyncShowsADeferredTicket(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.editConfig("lockstore:\n", "lockstore:\n  claim_lease: 1s\n")
	e.accounts(adult)
	e.order("07", "55", lockKind, adult)
	// Another process decided 55 and holds its update, with a lease of an
	// hour: it is alive for all this pass can tell.
	other, err := lockstore.Open(t.Context(), e.driver, e.dsn, lockstore.Options{ClaimLease: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	pn, err := lockworker.ParsePersonnummer(adult, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := other.Record(t.Context(), lockworker.Decision{
		Pass: "other", At: time.Now(), Region: "07", Ticket: "55", Kind: lockworker.KindLock, Outcome: lockworker.OutcomeResolved,
		Personnummer: pn, Change: lockworker.ChangeLock, Status: resolved, Comment: "Klart.",
	}); err != nil {
		t.Fatal(err)
	}

	res := e.run("sync", "--ticket", "55")
	row := summaryRows(t, res.stdout)["07/55"]
	if res.code != exitFailed || len(row) < 5 || row[4] != "deferred" ||
		!strings.Contains(res.stdout, "why: another process is sending the update") || !strings.Contains(res.stdout, "1 deferred") {
		t.Errorf("sync with 55's update held elsewhere = %d:\n%s\nwant 1, and 55 deferred with why", res.code, res.stdout)
	}
	res = e.run("sync", "--ticket", "55", "--json")
	sum := parseSummary(t, res.stdout)
	if o := sum.Regions[0].Orders; res.code != exitFailed || sum.OK || len(o) != 1 || o[0].Action != "deferred" || o[0].Why == "" {
		t.Errorf("sync --json with 55's update held elsewhere = %d, %+v; want 55 deferred with why", res.code, sum)
	}
	if n := e.region("07").easit.Updates("55"); n != 0 {
		t.Errorf("%d updates of 55, want none while another process holds it", n)
	}
}

// `ticket` shows a ticket's whole history from the store: the decision with
// its comment, reporter and HSA-id, the failed attempt, the confirmation.
func TestTicketShowsTheWholeHistory(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.accounts(adult)
	e.order("07", "55", lockKind, adult)
	kronoberg := e.region("07").easit
	kronoberg.SetFault(func(c easittest.Call) *easittest.Fault {
		if c.Op == easit.OpImport {
			return &easittest.Fault{Status: http.StatusServiceUnavailable, Body: "Service unavailable"}
		}
		return nil
	})
	if res := e.run("sync"); res.code != exitFailed {
		t.Fatalf("sync with Easit's imports failing = %d, want 1", res.code)
	}
	kronoberg.SetFault(nil)
	e.sync()
	clear(e.vars) // the ticket's record needs no region secret

	res := e.run("ticket", "07", "55")
	if res.code != exitOK {
		t.Fatalf("ticket 07 55 = %d; stderr:\n%s", res.code, res.stderr)
	}
	for _, want := range []string{"latest decision", "resolved", "confirmed", "decided", "Dr. Test Testsson", "SE2321000065-T55",
		"blankett-07-55", "Klart: inloggningen", "send_failed", "503"} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("ticket 07 55 does not show %q:\n%s", want, res.stdout)
		}
	}

	res = e.run("ticket", "07", "55", "--json")
	var rep struct {
		Outcome string `json:"outcome"`
		Pending bool   `json:"pending"`
		History []struct {
			Event, Comment, Detail string
			ReporterHSAID          string `json:"reporter_hsa_id"`
		} `json:"history"`
	}
	if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil || res.code != exitOK {
		t.Fatalf("ticket --json = %d, %q (%v)", res.code, res.stdout, err)
	}
	var events []string
	for _, h := range rep.History {
		events = append(events, h.Event)
	}
	if rep.Outcome != "resolved" || rep.Pending || strings.Join(events, " ") != "decided send_failed confirmed" ||
		rep.History[0].ReporterHSAID != "SE2321000065-T55" || rep.History[0].Comment == "" {
		t.Errorf("ticket --json = %s", res.stdout)
	}

	if res := e.run("ticket", "07", "999"); res.code != exitFailed || !strings.Contains(res.stderr, "holds nothing of the ticket") {
		t.Errorf("ticket 07 999 = %d, stderr %q; want 1 saying the store holds nothing of it", res.code, res.stderr)
	}
}

// Over HTTP, a ticket no view holds is 404 with the summary that says so,
// and a ticket's record is there for the bearer of the admin token.
func TestServeAnswersOfOneTicket(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.accounts(adult)
	e.order("07", "55", lockKind, adult)
	s := e.serve()
	e.eventually(10*time.Second, "ticket 07/55 is confirmed", func() (bool, string) {
		code, body := s.do(http.MethodGet, "/tickets/07/55", "Bearer "+s.token)
		return code == http.StatusOK && strings.Contains(body, `"pending":false`),
			fmt.Sprintf("GET /tickets/07/55 = %d %s", code, body)
	})
	if code, _ := s.get("/tickets/07/55"); code != http.StatusUnauthorized {
		t.Errorf("GET /tickets/07/55 without the token = %d, want 401", code)
	}
	e.eventually(10*time.Second, "POST /sync?ticket=999 is answered 404", func() (bool, string) {
		code, body := s.post("/sync?ticket=999", "Bearer "+s.token)
		return code == http.StatusNotFound && strings.Contains(body, `"missing_ticket":"999"`) && strings.Contains(body, `"ok":false`),
			fmt.Sprintf("POST /sync?ticket=999 = %d %s", code, body) // 409 while a scheduled pass runs
	})
}
