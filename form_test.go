package lockworker_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lockworker/lockworker"
)

func TestFormIsAboutComparesTheTwelveDigitForm(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	p, err := lockworker.ParsePersonnummer("196101182803", now)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		patient string
		want    bool
	}{
		{"196101182803", true},
		{"19610118-2803", true},
		{"610118-2803", true},
		{"6101182803", true},
		{" 19610118-2803 ", true},
		{"610118+2803", false}, // 1861: another person
		{"200001012384", false},
		{"19610118-2804", false}, // wrong check digit
		{"1961-01-18-2803", false},
		{"", false},
	}
	for _, tt := range tests {
		if got := (lockworker.Form{Patient: tt.patient}).IsAbout(p, now); got != tt.want {
			t.Errorf("a form about %q IsAbout the person: %v, want %v", tt.patient, got, tt.want)
		}
	}
	if (lockworker.Form{Patient: ""}).IsAbout(lockworker.Personnummer{}, now) {
		t.Error("a form naming no patient is about the zero personnummer")
	}
}

// CheckFormReference accepts a FHIR id that holds no personnummer, and
// otherwise names the rule the reference breaks, without repeating it.
func TestCheckFormReference(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		ref  string
		rule lockworker.FormReferenceRule // 0: accepted
	}{
		{"a FHIR id", "blankett-7f3a9c", 0},
		{"dots and digits", "BL.2025.0314-0019", 0},
		{"64 characters", strings.Repeat("a", 64), 0},
		{"a short run of digits", "F-07-55", 0},
		{"empty", "", lockworker.FormReferenceLength},
		{"65 characters", strings.Repeat("a", 65), lockworker.FormReferenceLength},
		{"a slash", "F/07/55", lockworker.FormReferenceChars},
		{"a space", "F 07", lockworker.FormReferenceChars},
		{"a Swedish letter, long", strings.Repeat("å", 40), lockworker.FormReferenceChars},
		{"a dot", ".", lockworker.FormReferenceDots},
		{"a dot-dot", "..", lockworker.FormReferenceDots},
		{"a personnummer", "196408233234", lockworker.FormReferencePersonnummer},
		{"a personnummer within", "pnr-640823-3234", lockworker.FormReferencePersonnummer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := lockworker.CheckFormReference(tt.ref)
			if tt.rule == 0 {
				if err != nil {
					t.Errorf("CheckFormReference(%q) = %v, want nil", tt.ref, err)
				}
				return
			}
			var fe *lockworker.FormReferenceError
			if !errors.As(err, &fe) || fe.Rule != tt.rule {
				t.Fatalf("CheckFormReference(%q) = %v, want a FormReferenceError of rule %d", tt.ref, err, tt.rule)
			}
			if len(tt.ref) > 2 && strings.Contains(err.Error(), tt.ref) {
				t.Errorf("error %q repeats the reference", err)
			}
			// Syntax alone, without the personnummer rule, is what a
			// form service's path needs.
			if got, want := lockworker.ValidFormReference(tt.ref), tt.rule == lockworker.FormReferencePersonnummer; got != want {
				t.Errorf("ValidFormReference(%q) = %v, want %v", tt.ref, got, want)
			}
		})
	}
}
