package main

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"

	"github.com/lockworker/lockworker/cosmic/cosmictest"
	"github.com/lockworker/lockworker/easit/easittest"
)

// What an outside system writes reaches the terminal escaped: a ticket
// number with escape sequences does not clear the screen or retitle the
// window, one with a newline does not forge a row, and an error page does
// not print its own verdict in colour.

// controlBytes reports the first byte of out that a terminal acts on.
func controlByte(out string) (byte, bool) {
	for i := 0; i < len(out); i++ {
		if c := out[i]; (c < 0x20 && c != '\n') || c == 0x7f {
			return c, true
		}
	}
	return 0, false
}

func TestTicketTextReachesTheTerminalEscaped(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.accounts(adult, otherAdult)
	const (
		clearScreen = "\x1b[2J\x1b]0;owned\x0755"
		forgedRow   = "56\n  57  lock  resolved  -  decided"
	)
	e.order("07", clearScreen, lockKind, adult)
	e.order("07", forgedRow, lockKind, otherAdult)

	for _, args := range [][]string{{"sync"}, {"audit"}, {"audit", "--ticket", "57"}} {
		res := e.run(args...)
		if c, ok := controlByte(res.stdout + res.stderr); ok {
			t.Errorf("lockworker %s printed the control character %#x:\n%q", strings.Join(args, " "), c, res.stdout)
		}
		for line := range strings.Lines(res.stdout) {
			if strings.HasPrefix(strings.TrimSpace(line), "57 ") {
				t.Errorf("lockworker %s printed a forged row: %q", strings.Join(args, " "), line)
			}
		}
		if args[0] == "sync" && (!strings.Contains(res.stdout, `\x1b[2J`) || !strings.Contains(res.stdout, "invalid_ticket_id")) {
			t.Errorf("lockworker sync does not show the escaped ticket going to manual handling:\n%s", res.stdout)
		}
	}
	for _, ticket := range []string{clearScreen, forgedRow} {
		if got := e.region("07").easit.Status(ticket); got != manual {
			t.Errorf("ticket %q: status %q, want %q", ticket, got, manual)
		}
	}
	if state := e.status(adult); state["locked"] != false {
		t.Errorf("the order of a ticket with an invalid number was carried out: %v", state)
	}

	// An error page that prints a verdict of its own.
	e.region("12").easit.SetFault(func(easittest.Call) *easittest.Fault {
		return &easittest.Fault{Status: http.StatusBadRequest, Body: "\x1b[2K\r\x1b[32mALL REGIONS OK\x1b[0m"}
	})
	res := e.run("check")
	if res.code != exitFailed {
		t.Errorf("check = %d, want %d", res.code, exitFailed)
	}
	if c, ok := controlByte(res.stdout + res.stderr); ok {
		t.Errorf("lockworker check printed the control character %#x:\n%q", c, res.stdout)
	}
	if !strings.Contains(res.stdout, `\x1b[32mALL REGIONS OK`) {
		t.Errorf("check does not show the error page escaped:\n%s", res.stdout)
	}
}

// An Easit or a form service that echoes the credentials, in whatever form,
// shows none of them in what check prints.
func TestCheckShowsNoSecretAPeerEchoes(t *testing.T) {
	t.Parallel()
	e := setup(t)
	key, token := e.vars["EASIT_07_KEY"], "forms-token-12"
	e.region("07").easit.SetFault(func(easittest.Call) *easittest.Fault {
		return &easittest.Fault{Status: http.StatusUnauthorized, Body: `{"user":"` + strings.ToUpper(key) + `","basic":"` + basicOf(key)[:10] + `"}`}
	})
	e.region("12").forms.SetFault(func(cosmictest.Call) *cosmictest.Fault {
		return &cosmictest.Fault{Status: http.StatusUnauthorized,
			Body: []byte(`{"resourceType":"OperationOutcome","issue":[{"diagnostics":"bad token ` + strings.ToLower(token)[:9] + `"}]}`)}
	})
	res := e.run("check")
	if res.code != exitFailed {
		t.Fatalf("check = %d, want %d:\n%s", res.code, exitFailed, res.stdout)
	}
	if !strings.Contains(res.stdout, "<api key>") || !strings.Contains(res.stdout, "<token>") {
		t.Errorf("check does not show the echoes, hidden:\n%s", res.stdout)
	}
	out := strings.ToLower(res.stdout + res.stderr)
	for what, secret := range map[string]string{"the API key": key, "its Basic credentials": basicOf(key), "the token": token} {
		if strings.Contains(out, strings.ToLower(secret[:6])) {
			t.Errorf("check shows %s:\n%s", what, res.stdout)
		}
	}
}

func basicOf(key string) string { return base64.StdEncoding.EncodeToString([]byte(key + ":")) }
