package main

import (
	"maps"
	"slices"
	"strings"
	"testing"
	"time"
)

// setupLocked returns an env in which a pass, run between the two times it
// returns, locked the adult on ticket 07/55 and the child on 07/58.
func setupLocked(t *testing.T) (e *env, before, after time.Time) {
	t.Helper()
	e = setup(t)
	e.accounts(adult, otherAdult, child)
	e.order("07", "55", lockKind, adult)
	e.order("07", "58", lockKind, child)
	before = time.Now()
	e.sync()
	return e, before, time.Now()
}

// status --json prints the lock in the shape the README gives, for the number in
// any of its written forms.
func TestStatusJSON(t *testing.T) {
	t.Parallel()
	e, before, after := setupLocked(t)
	tests := []struct {
		number         string
		ticket         string
		proxySuspended bool
	}{
		{adult, "55", false},
		{"19990807-2391", "55", false},
		{"990807-2391", "55", false},
		{child, "58", true},
	}
	for _, tt := range tests {
		state := e.status(tt.number)
		if keys := slices.Sorted(maps.Keys(state)); !slices.Equal(keys, []string{"locked", "proxy_suspended", "region", "since", "ticket"}) {
			t.Errorf("status %s --json has the keys %q, want locked, proxy_suspended, region, since and ticket", tt.number, keys)
		}
		since, err := time.Parse(time.RFC3339, state["since"].(string))
		if err != nil || since.Before(before.Truncate(time.Second)) || since.After(after) {
			t.Errorf("status %s --json: since %q (%v), want RFC 3339 between %v and %v", tt.number, state["since"], err, before, after)
		}
		if state["locked"] != true || state["region"] != "07" || state["ticket"] != tt.ticket || state["proxy_suspended"] != tt.proxySuspended {
			t.Errorf("status %s --json = %v, want locked by region 07 on ticket %s, proxy suspended %v", tt.number, state, tt.ticket, tt.proxySuspended)
		}
	}

	// Someone not locked: "locked":false and no other key.
	if res := e.run("status", otherAdult, "--json"); res.code != exitOK || res.stdout != `{"locked":false}`+"\n" {
		t.Errorf("status --json of someone not locked = %d, %q; want 0 and {\"locked\":false}", res.code, res.stdout)
	}
}

// Plain status says what an operator needs, and never the number.
func TestStatusPlain(t *testing.T) {
	t.Parallel()
	e, _, _ := setupLocked(t)
	tests := []struct {
		number string
		want   []string
	}{
		{adult, []string{"locked since ", " at the request of Region Kronoberg (07), ticket 55, form blankett-07-55\n"}},
		{child, []string{"ticket 58, form blankett-07-58\n", "the guardians' proxy is suspended while the lock lasts\n"}},
		{otherAdult, []string{"not locked\n"}},
	}
	for _, tt := range tests {
		res := e.run("status", tt.number)
		if since, ok := strings.CutPrefix(res.stdout, "locked since "); ok {
			shown, _, _ := strings.Cut(since, " at the request")
			if _, err := parseDisplayTime(shown); err != nil {
				t.Errorf("status %s: %v", tt.number, err)
			}
		}
		for _, want := range tt.want {
			if res.code != exitOK || !strings.Contains(res.stdout, want) {
				t.Errorf("status %s = %d, %q; want 0 and %q", tt.number, res.code, res.stdout, want)
			}
		}
		if res.code == exitOK && strings.Contains(res.stdout, tt.number) {
			t.Errorf("status %s printed the number: %q", tt.number, res.stdout)
		}
	}
}

// An invalid personnummer is a usage error, and the message does not repeat
// it: it may be a real person's number with a typo.
func TestStatusInvalidPersonnummer(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for _, number := range []string{"19990807-2392", "1999080723910", "99O807-2391", "19990230-2391"} {
		res := e.run("status", number, "--json")
		if res.code != exitUsage || !strings.Contains(res.stderr, "invalid personnummer") || res.stdout != "" {
			t.Errorf("status %s = %d, stdout %q, stderr %q; want %d and invalid personnummer", number, res.code, res.stdout, res.stderr, exitUsage)
		}
		if strings.Contains(res.stderr, number) {
			t.Errorf("status %s repeated the number: %q", number, res.stderr)
		}
	}
}
