package lockworker_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/lockworker/lockworker"
)

// pseudonymFormat is what a pseudonym looks like: "pn-" and 16 hex digits.
var pseudonymFormat = regexp.MustCompile(`^pn-[0-9a-f]{16}$`)

// assertNotInClear fails if out shows the number p in any of its forms.
func assertNotInClear(t *testing.T, what, out string, p lockworker.Personnummer) {
	t.Helper()
	n := p.Reveal()
	for _, form := range []string{n, n[2:], n[:8] + "-" + n[8:], n[2:8] + "-" + n[8:]} {
		if strings.Contains(out, form) {
			t.Errorf("%s shows the number in clear: %s", what, out)
			return
		}
	}
}

// A Personnummer prints as its pseudonym whatever the verb, alone or in a
// struct; the number itself never shows.
func TestPersonnummerNeverPrintsInClear(t *testing.T) {
	t.Parallel()
	p := mustParse(t, "196408233234", processing)
	pseudonym := p.Pseudonym()
	if !pseudonymFormat.MatchString(pseudonym) {
		t.Fatalf("Pseudonym() = %q, want pn- and 16 hex digits", pseudonym)
	}
	lock := lockworker.Lock{ID: 7, Personnummer: p, Region: "07"}
	audit := lockworker.AuditEntry{Ticket: "55", Personnummer: p}
	// Formatting cannot reach a method through an unexported field, so fmt
	// prints the raw value there.
	type order struct {
		ticket string
		pn     lockworker.Personnummer
	}

	tests := []struct {
		format string
		arg    any
		// wantPseudonym is false where fmt bypasses Format (%p, unexported
		// fields): there the output shows neither number nor pseudonym.
		wantPseudonym bool
	}{
		{"%v", p, true},
		{"%+v", p, true},
		{"%#v", p, true},
		{"%s", p, true},
		{"%q", p, true},
		{"%d", p, true},
		{"%x", p, true},
		{"%X", p, true},
		{"%20v", p, true},
		{"%p", p, false},
		{"%v", &p, true},
		{"no verb for", p, true},

		{"%v", lock, true},
		{"%+v", lock, true},
		{"%#v", lock, true},
		{"%+v", &lock, true},
		{"%s", audit, true},
		{"%q", audit, true},
		{"%d", audit, true},
		{"%x", audit, true},
		{"%p", lock, false},
		{"%v", []lockworker.Personnummer{p}, true},
		{"%v", map[string]lockworker.Personnummer{"pn": p}, true},
		{"%v", order{"55", p}, false},
		{"%+v", order{"55", p}, false},
		{"%#v", order{"55", p}, false},
		{"%s", order{"55", p}, false},
		{"%d", order{"55", p}, false},
		{"%x", order{"55", p}, false},
	}
	for _, tt := range tests {
		name := fmt.Sprintf("%s of %T", tt.format, tt.arg)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			// A format in a variable keeps vet from objecting to the verbs
			// that are wrong for a struct on purpose.
			got := fmt.Sprintf(tt.format, tt.arg)
			assertNotInClear(t, name, got, p)
			if tt.wantPseudonym && !strings.Contains(got, pseudonym) {
				t.Errorf("%s gives %q, want the pseudonym %s", name, got, pseudonym)
			}
		})
	}
	for what, got := range map[string]string{
		"Sprint":   fmt.Sprint(p),
		"Sprintln": fmt.Sprintln("person", p),
		"String":   p.String(),
		"Errorf":   fmt.Errorf("lock %v: %w", p, errors.New("busy")).Error(),
	} {
		assertNotInClear(t, what, got, p)
		if !strings.Contains(got, pseudonym) {
			t.Errorf("%s gives %q, want the pseudonym %s", what, got, pseudonym)
		}
	}
}

func TestPersonnummerMarshalsAsPseudonym(t *testing.T) {
	t.Parallel()
	p := mustParse(t, "196408233234", processing)
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"alone", p, `"` + p.Pseudonym() + `"`},
		{"in a map", map[string]any{"pn": p}, `{"pn":"` + p.Pseudonym() + `"}`},
		{"in a lock", lockworker.Lock{Personnummer: p}, `"Personnummer":"` + p.Pseudonym() + `"`},
		{"in an audit entry", &lockworker.AuditEntry{Personnummer: p}, `"Personnummer":"` + p.Pseudonym() + `"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := json.Marshal(tt.v)
			if err != nil {
				t.Fatalf("json.Marshal: %v", err)
			}
			assertNotInClear(t, "json.Marshal", string(b), p)
			if !strings.Contains(string(b), tt.want) {
				t.Errorf("json.Marshal = %s, want it to hold %s", b, tt.want)
			}
		})
	}
}

// The ways a zerolog event can take a value all give the pseudonym.
func TestPersonnummerLogsAsPseudonym(t *testing.T) {
	t.Parallel()
	p := mustParse(t, "196408233234", processing)
	tests := []struct {
		name string
		log  func(*zerolog.Event) *zerolog.Event
		want string // the field as it should appear in the JSON line
	}{
		{"Interface", func(e *zerolog.Event) *zerolog.Event { return e.Interface("pn", p) }, `"pn":"` + p.Pseudonym() + `"`},
		{"Stringer", func(e *zerolog.Event) *zerolog.Event { return e.Stringer("pn", p) }, `"pn":"` + p.Pseudonym() + `"`},
		{"Any", func(e *zerolog.Event) *zerolog.Event { return e.Any("pn", p) }, `"pn":"` + p.Pseudonym() + `"`},
		{"Any of a lock", func(e *zerolog.Event) *zerolog.Event { return e.Any("lock", lockworker.Lock{Personnummer: p}) }, `"Personnummer":"` + p.Pseudonym() + `"`},
		{"Fields", func(e *zerolog.Event) *zerolog.Event { return e.Fields(map[string]any{"pn": p}) }, `"pn":"` + p.Pseudonym() + `"`},
		{"Str of String", func(e *zerolog.Event) *zerolog.Event { return e.Str("pn", p.String()) }, `"pn":"` + p.Pseudonym() + `"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var out bytes.Buffer
			log := zerolog.New(&out)
			tt.log(log.Info()).Msgf("decided %v", p)
			assertNotInClear(t, "the log line", out.String(), p)
			if !strings.Contains(out.String(), tt.want) {
				t.Errorf("log line %s, want it to hold %s", out.String(), tt.want)
			}
		})
	}
}

// The pseudonym follows one person under one key, tells people apart, and
// changes with the key. This test sets the process-wide key, so it must not
// run in parallel with the others (it is sequential, so they wait for it).
func TestPseudonymKey(t *testing.T) {
	a := mustParse(t, "196408233234", processing)
	aTen := mustParse(t, "640823-3234", processing)
	b := mustParse(t, "199908072391", processing)

	key1 := []byte("first key, 32 bytes long enough!")
	key2 := []byte("second key of sixteen bytes or more")
	if err := lockworker.SetPseudonymKey(key1); err != nil {
		t.Fatalf("SetPseudonymKey: %v", err)
	}
	under1 := a.Pseudonym()
	if a.Pseudonym() != under1 || aTen.Pseudonym() != under1 {
		t.Error("one number has two pseudonyms under one key")
	}
	if b.Pseudonym() == under1 {
		t.Error("two numbers share a pseudonym")
	}

	// A caller's later change to its key slice must not change pseudonyms.
	key1[0] ^= 0xff
	if a.Pseudonym() != under1 {
		t.Error("SetPseudonymKey keeps the caller's slice instead of a copy")
	}
	key1[0] ^= 0xff

	if err := lockworker.SetPseudonymKey(key2); err != nil {
		t.Fatalf("SetPseudonymKey: %v", err)
	}
	if a.Pseudonym() == under1 {
		t.Error("the pseudonym is the same under another key")
	}
	if !pseudonymFormat.MatchString(a.Pseudonym()) {
		t.Errorf("Pseudonym() = %q, want pn- and 16 hex digits", a.Pseudonym())
	}

	// The same key gives the same pseudonyms again, as after a restart.
	if err := lockworker.SetPseudonymKey(key1); err != nil {
		t.Fatalf("SetPseudonymKey: %v", err)
	}
	if a.Pseudonym() != under1 {
		t.Error("the same key gives another pseudonym")
	}

	for _, short := range [][]byte{nil, {}, []byte("fifteen bytes!!")} {
		if err := lockworker.SetPseudonymKey(short); err == nil {
			t.Errorf("SetPseudonymKey accepts a key of %d bytes", len(short))
		}
		if a.Pseudonym() != under1 {
			t.Errorf("a refused key of %d bytes changed the pseudonym", len(short))
		}
	}
	if err := lockworker.SetPseudonymKey([]byte("sixteen bytes!!!")); err != nil {
		t.Errorf("SetPseudonymKey refuses a key of 16 bytes: %v", err)
	}
}
