package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lockworker/lockworker"
	"github.com/lockworker/lockworker/sync"
)

// setupAudit returns an env whose audit trail holds, oldest first:
//
//	07/40   lock    manual    no_account    decided two days ago
//	07/55   lock    resolved                 } the first pass, in some order
//	12/55   lock    manual    no_account     }
//	12/102  lock    waiting   form_missing   }
//	07/56   unlock  resolved                 the second pass
//
// and the people of each decision by ticket.
func setupAudit(t *testing.T) (*env, map[string]string) {
	t.Helper()
	e := setup(t)
	e.accounts(adult, otherAdult)

	// The CLI cannot make a decision in the past, so the oldest is recorded
	// in the lock store directly, as a pass two days ago would have.
	store := e.openStore()
	defer store.Close()
	twoDaysAgo := time.Now().Add(-48 * time.Hour)
	err := store.Record(t.Context(), lockworker.Decision{
		Pass: sync.NewPassID(twoDaysAgo), At: twoDaysAgo, Region: "07", Ticket: "40",
		Kind: lockworker.KindLock, Outcome: lockworker.OutcomeManual, Reason: lockworker.ReasonNoAccount,
		Personnummer: e.personnummer(noAccount), Status: manual, Comment: "Personen har inget konto i 1177.",
	})
	if err != nil {
		t.Fatalf("record a decision two days ago: %v", err)
	}

	e.order("07", "55", lockKind, adult)
	e.order("12", "55", lockKind, noAccount)
	e.order("12", "102", lockKind, otherAdult)
	e.region("12").forms.Delete("blankett-12-102") // the order waits for its form
	e.sync()
	e.order("07", "56", unlockKind, adult)
	e.sync()
	return e, map[string]string{"07/40": noAccount, "07/55": adult, "12/55": noAccount, "12/102": otherAdult, "07/56": adult}
}

// audit prints the trail as a table, newest last, people by pseudonym.
func TestAuditTable(t *testing.T) {
	t.Parallel()
	e, people := setupAudit(t)
	res := e.run("audit")
	if res.code != exitOK {
		t.Fatalf("lockworker audit = %d, want 0; stderr:\n%s", res.code, res.stderr)
	}
	lines := strings.Split(strings.TrimSuffix(res.stdout, "\n"), "\n")
	if len(lines) != 7 || strings.Join(strings.Fields(lines[0]), " ") != "AT PASS REGION TICKET KIND OUTCOME REASON PERSON FORM SIGNER" || lines[6] != "5 decisions" {
		t.Fatalf("lockworker audit printed:\n%s\nwant a header, 5 decisions and their count", res.stdout)
	}
	t.Logf("lockworker audit:\n%s", res.stdout)

	// The form is the ticket's reference, and the signer is known once the
	// form has been read; the decision of two days ago names neither.
	want := map[string][]string{ // by ticket: kind, outcome, reason, form, signer
		"07/40":  {"lock", "manual", "no_account", "-", "-"},
		"07/55":  {"lock", "resolved", "-", "blankett-07-55", "SE2321000065-L55"},
		"12/55":  {"lock", "manual", "no_account", "blankett-12-55", "-"},
		"12/102": {"lock", "waiting", "form_missing", "blankett-12-102", "-"},
		"07/56":  {"unlock", "resolved", "-", "blankett-07-56", "SE2321000065-L56"},
	}
	var order []string
	var last time.Time
	for _, line := range lines[1:6] {
		// The time takes three columns: day, minute and zone.
		f := strings.Fields(line)
		if len(f) != 12 {
			t.Errorf("row %q has %d columns, want 12", line, len(f))
			continue
		}
		shown := strings.Join(f[:3], " ")
		f = append([]string{shown}, f[3:]...)
		at, err := parseDisplayTime(shown)
		if err != nil || at.Before(last) || !passID.MatchString(f[1]) {
			t.Errorf("row %q: time %q (%v) and pass %q, want times in Swedish time with the zone, newest last, and pass ids", line, f[0], err, f[1])
		}
		last = at
		id := f[2] + "/" + f[3]
		order = append(order, id)
		if got := []string{f[4], f[5], f[6], f[8], f[9]}; !slices.Equal(got, want[id]) {
			t.Errorf("row of %s: %q, want %q", id, got, want[id])
		}
		if f[7] != e.personnummer(people[id]).Pseudonym() {
			t.Errorf("row of %s: person %q, want the pseudonym of the order's personnummer", id, f[7])
		}
	}
	if len(order) != 5 || order[0] != "07/40" || order[4] != "07/56" {
		t.Errorf("rows in the order %q, want the decision of two days ago first and that of the last pass last", order)
	}
}

// auditJSON runs `audit --json` with args and parses each line.
func auditJSON(t *testing.T, e *env, args ...string) []map[string]any {
	t.Helper()
	res := e.run(append([]string{"audit", "--json"}, args...)...)
	if res.code != exitOK {
		t.Fatalf("lockworker audit --json %s = %d, want 0; stderr:\n%s", strings.Join(args, " "), res.code, res.stderr)
	}
	var entries []map[string]any
	for line := range strings.Lines(res.stdout) {
		var entry map[string]any
		if err := json.Unmarshal([]byte(line), &entry); err != nil {
			t.Fatalf("lockworker audit --json printed a line that is not a JSON object (%v): %q", err, line)
		}
		entries = append(entries, entry)
	}
	return entries
}

// auditTickets returns the "region/ticket" of each entry, in order.
func auditTickets(entries []map[string]any) []string {
	var ids []string
	for _, en := range entries {
		ids = append(ids, en["region"].(string)+"/"+en["ticket"].(string))
	}
	return ids
}

// audit --json prints one object a line, with at, pass, region, ticket,
// kind, outcome and reason, and the person by pseudonym.
func TestAuditJSON(t *testing.T) {
	t.Parallel()
	e, people := setupAudit(t)
	entries := auditJSON(t, e)
	want := map[string]string{ // by ticket: kind outcome reason
		"07/40": "lock manual no_account", "07/55": "lock resolved ", "12/55": "lock manual no_account",
		"12/102": "lock waiting form_missing", "07/56": "unlock resolved ",
	}
	got := map[string]string{}
	for _, en := range entries {
		id := en["region"].(string) + "/" + en["ticket"].(string)
		got[id] = strings.Join([]string{en["kind"].(string), en["outcome"].(string), en["reason"].(string)}, " ")
		at, err := time.Parse(time.RFC3339Nano, en["at"].(string))
		if err != nil || time.Since(at) > 49*time.Hour || !passID.MatchString(en["pass"].(string)) {
			t.Errorf("entry of %s: at %q (%v), pass %q; want a recent RFC 3339 time and a pass id", id, en["at"], err, en["pass"])
		}
		if en["person"] != e.personnummer(people[id]).Pseudonym() || en["personnummer"] != nil {
			t.Errorf("entry of %s: person %q, personnummer %q; want the pseudonym and no number", id, en["person"], en["personnummer"])
		}
	}
	if !maps.Equal(got, want) || len(entries) != len(want) {
		t.Errorf("audit --json gave %v, want %v", got, want)
	}
	if ids := auditTickets(entries); len(ids) != 5 || ids[0] != "07/40" || ids[4] != "07/56" {
		t.Errorf("audit --json in the order %q, want the oldest first and the newest last", ids)
	}
}

// --region, --ticket, --outcome and --since narrow the trail, alone and
// together.
func TestAuditFilters(t *testing.T) {
	t.Parallel()
	e, _ := setupAudit(t)
	tests := []struct {
		args []string
		want []string // the tickets, in any order within a pass
	}{
		{[]string{"--region", "12"}, []string{"12/102", "12/55"}},
		{[]string{"--ticket", "55"}, []string{"07/55", "12/55"}},
		{[]string{"--region", "07", "--ticket", "55"}, []string{"07/55"}},
		{[]string{"--outcome", "manual"}, []string{"07/40", "12/55"}},
		{[]string{"--outcome", "waiting"}, []string{"12/102"}},
		{[]string{"--region", "07", "--outcome", "waiting"}, nil},
		{[]string{"--since", "1h"}, []string{"07/55", "07/56", "12/102", "12/55"}},
		{[]string{"--since", "1d"}, []string{"07/55", "07/56", "12/102", "12/55"}},
		{[]string{"--since", "3d"}, []string{"07/40", "07/55", "07/56", "12/102", "12/55"}},
		{[]string{"--since", "90m", "--region", "07", "--outcome", "resolved"}, []string{"07/55", "07/56"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			got := auditTickets(auditJSON(t, e, tt.args...))
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("audit %s gave %q, want %q", strings.Join(tt.args, " "), got, tt.want)
			}
		})
	}
}

// --reveal shows the 12-digit numbers, in the table and in JSON.
func TestAuditReveal(t *testing.T) {
	t.Parallel()
	e, people := setupAudit(t)

	res := e.run("audit", "--reveal", "--ticket", "55", "--region", "07")
	if res.code != exitOK || !strings.Contains(res.stdout, " "+adult+" ") {
		t.Errorf("audit --reveal = %d:\n%s\nwant the row of 07/55 with %s", res.code, res.stdout, adult)
	}
	for _, en := range auditJSON(t, e, "--reveal") {
		id := en["region"].(string) + "/" + en["ticket"].(string)
		if en["personnummer"] != people[id] || !pseudonym.MatchString(en["person"].(string)) {
			t.Errorf("audit --json --reveal: entry of %s has personnummer %q and person %q, want the 12-digit number and the pseudonym", id, en["personnummer"], en["person"])
		}
	}
}

// A filter that is not one is exit status 2, naming the flag.
func TestAuditUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		args    []string
		wantErr string
	}{
		{[]string{"--since", "yesterday"}, `--since: "yesterday" is not a duration`},
		{[]string{"--since", "-1h"}, `--since: "-1h" is not a duration`},
		{[]string{"--since", "7days"}, `--since: "7days" is not a duration`},
		{[]string{"--since", "xd"}, `--since: "xd" is not a number of days`},
		{[]string{"--outcome", "done"}, `--outcome "done": want one of`},
		{[]string{"--outcome", "Resolved"}, `--outcome "Resolved": want one of`},
		{[]string{"07"}, "takes 0 argument(s), got 1"},
		{[]string{"--region", "99"}, `--region "99": no such region in the configuration (it has 07, 12)`},
	}
	e := setup(t)
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			res := e.run(append([]string{"audit"}, tt.args...)...)
			if res.code != exitUsage || !strings.Contains(res.stderr, tt.wantErr) || res.stdout != "" {
				t.Errorf("audit %s = %d, stdout %q, stderr %q; want %d, nothing printed and %q",
					strings.Join(tt.args, " "), res.code, res.stdout, res.stderr, exitUsage, tt.wantErr)
			}
		})
	}
}

// audit shows people by the pseudonym of the configured key, the one the
// logs use, whatever key the process had before. (Not parallel: the key is
// process-wide.)
func TestAuditUsesTheConfiguredPseudonymKey(t *testing.T) {
	e, people := setupAudit(t)
	if err := lockworker.SetPseudonymKey([]byte("a key that is not the configured one")); err != nil {
		t.Fatal(err)
	}

	res := e.run("audit", "--json", "--ticket", "55", "--region", "07")

	mac := hmac.New(sha256.New, []byte("the pseudonym key of the tests of cmd/lockworker"))
	mac.Write([]byte(people["07/55"]))
	want := "pn-" + hex.EncodeToString(mac.Sum(nil)[:8])
	var entry map[string]any
	if err := json.Unmarshal([]byte(res.stdout), &entry); err != nil || entry["person"] != want {
		t.Errorf("audit --json = %q (%v), want person %s, the pseudonym under the configured key", res.stdout, err, want)
	}
}
