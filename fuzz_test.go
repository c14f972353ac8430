package lockworker_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lockworker/lockworker"
)

// processingTime maps the fuzzer's int64 to a processing time between 1900 and
// 2200, the span where a service could run and a ten-digit number mean
// something. Unix times within it, those of the seeds, are kept as they are.
func processingTime(unix int64) time.Time {
	const first, end = -2208988800, 7258118400 // 1900-01-01 and 2200-01-01 UTC
	if unix < first || unix >= end {
		const span = end - first
		unix = first + (unix%span+span)%span
	}
	return time.Unix(unix, 0)
}

// FuzzParsePersonnummer checks that no input panics the parser, that a number
// it accepts is 12 digits that parse again to the same value, and that an
// error never repeats the digits of what it rejected. The seeds are in
// testdata/fuzz/FuzzParsePersonnummer.
func FuzzParsePersonnummer(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string, unix int64) {
		now := processingTime(unix)
		p, err := lockworker.ParsePersonnummer(s, now)
		if err != nil {
			if !errors.Is(err, lockworker.ErrInvalidPersonnummer) {
				t.Errorf("error %q does not wrap ErrInvalidPersonnummer", err)
			}
			if digits := asciiDigits(s); len(digits) >= 10 && strings.Contains(err.Error(), digits) {
				t.Errorf("error %q repeats the input's digits", err)
			}
			return
		}

		n := p.Reveal()
		if len(n) != 12 || asciiDigits(n) != n {
			t.Fatalf("Reveal() = %q, want 12 ASCII digits", n)
		}
		if digits := asciiDigits(s); digits != n && digits != n[2:] {
			t.Errorf("Reveal() = %s is not the input's number %s", n, digits)
		}
		again, err := lockworker.ParsePersonnummer(n, now)
		if err != nil {
			t.Fatalf("Reveal() = %s does not parse again: %v", n, err)
		}
		if again != p {
			t.Errorf("Reveal() = %s parses again to %s", n, again.Reveal())
		}
		if out := p.String(); strings.Contains(out, n[2:]) || !pseudonymFormat.MatchString(out) {
			t.Errorf("String() = %q, want a pseudonym", out)
		}
		if !p.IsSamordningsnummer() && p.AgeOn(now) < 0 {
			t.Errorf("%s is born after the processing date %s", n, now.Format(time.RFC3339))
		}
	})
}

// FuzzParseHSAID checks that no input panics the parser and that an HSA-id it
// accepts has the shape of the rule: at most 31 characters, "SE", and a valid
// organisation number found after "SE" or "SE16". The seeds are in
// testdata/fuzz/FuzzParseHSAID.
func FuzzParseHSAID(f *testing.F) {
	f.Fuzz(func(t *testing.T, s string) {
		h, err := lockworker.ParseHSAID(s)
		if err != nil {
			if !errors.Is(err, lockworker.ErrInvalidHSAID) {
				t.Errorf("error %q does not wrap ErrInvalidHSAID", err)
			}
			if digits := asciiDigits(s); len(digits) >= 10 && strings.Contains(err.Error(), digits) {
				t.Errorf("error %q repeats the input's digits", err)
			}
			return
		}

		if len(s) > 31 || !strings.HasPrefix(s, "SE") {
			t.Errorf("accepted %q: longer than 31 characters or not starting with SE", s)
		}
		if h.String() != s {
			t.Errorf("String() = %q, want %q", h.String(), s)
		}
		org := h.OrgNumber()
		if !lockworker.ValidOrgNumber(org) {
			t.Errorf("OrgNumber() = %q is not a valid organisation number", org)
		}
		if !strings.HasPrefix(s, "SE"+org+"-") && !strings.HasPrefix(s, "SE16"+org+"-") {
			t.Errorf("OrgNumber() = %q is not the one in %q", org, s)
		}
	})
}
