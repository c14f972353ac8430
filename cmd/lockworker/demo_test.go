package main

import (
	"slices"
	"strings"
	"testing"
)

// The demo shows every kind of outcome on its sample orders, and what each
// ticket was told.
func TestDemo(t *testing.T) {
	t.Parallel()
	res := runCLI(t, noEnv, "demo", "--log-level", "debug")
	if res.code != exitOK {
		t.Fatalf("lockworker demo = %d, want 0; stderr:\n%s", res.code, res.stderr)
	}

	rows := map[string][]string{} // a sample order's fields, by its ticket
	for line := range strings.Lines(res.stdout) {
		// A row: ticket, order kind (two words), number, outcome, reason,
		// status in Easit, and what it shows.
		fields := strings.Fields(line)
		if len(fields) > 7 && ticketNumber.MatchString(fields[0]) && slices.Contains([]string{lockKind, unlockKind}, fields[1]+" "+fields[2]) {
			rows[fields[0]] = fields
		}
	}
	tests := []struct {
		ticket, number  string // the number as the order gives it
		outcome, reason string
		status, showing string
	}{
		{"55", "199908072391", "resolved", "-", "Löst", "an adult's login is locked"},
		{"56", "196408233234", "resolved", "-", "Löst", "a lock made by the region is lifted"},
		{"57", "20000101-2384", "noop", "-", "Löst", "already locked"},
		{"58", "202312312388", "resolved", "-", "Löst", "a child under 13 is locked"},
		{"59", "198802292394", "waiting", "form_missing", "Väntar", "the form is not there yet"},
		{"60", "19990807-2392", "manual", "invalid_personnummer", "Manuell", "a mistyped number"},
		{"61", "191711602399", "manual", "samordningsnummer", "Manuell", "a samordningsnummer"},
		{"101", "200802292383", "manual", "no_account", "Manuell", "no 1177 account"},
		{"102", "200001012384", "manual", "unlock_wrong_region", "Manuell", "another region's lock"},
		{"103", "192001011564", "manual", "form_patient_mismatch", "Manuell", "a form about another patient"},
		{"104", "900101+9802", "noop", "-", "Löst", "not locked"},
	}
	for _, tt := range tests {
		fields := rows[tt.ticket]
		if len(fields) < 7 || fields[3] != tt.number || fields[4] != tt.outcome || fields[5] != tt.reason || fields[6] != tt.status {
			t.Errorf("demo ticket %s (%s): row %q, want the number %s, then %s, %s, %s", tt.ticket, tt.showing, fields, tt.number, tt.outcome, tt.reason, tt.status)
		}
	}
	if len(rows) != len(tests) {
		t.Errorf("the demo shows %d orders, want %d:\n%s", len(rows), len(tests), res.stdout)
	}
	for _, want := range []string{
		"07 #58: Klart: inloggningen till 1177 Vårdguidens e-tjänster är låst.",
		"Patienten är under 13 år: vårdnadshavarna kan inte längre agera ombud så länge låsningen gäller.",
		"12 #102: Till manuell hantering: låsningen gjordes på begäran av Region Kronoberg (07)",
		"3 resolved, 2 noop, 1 waiting, 5 manual, 0 error",
	} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("the demo's output lacks %q:\n%s", want, res.stdout)
		}
	}

	// The JSON logs (checked by runCLI for personnummer in clear) hold one
	// event per decision of the pass: one per sample order.
	var orders int
	for _, ev := range logEvents(t, res.stderr) {
		if ev["message"] != "order" {
			continue
		}
		orders++
		if person, _ := ev["person"].(string); person != "" && !pseudonym.MatchString(person) {
			t.Errorf("order event %v: person %q, want a pseudonym", ev, person)
		}
	}
	if want := len(tests); orders != want {
		t.Errorf("the demo logged %d order events, want %d:\n%s", orders, want, res.stderr)
	}
}
