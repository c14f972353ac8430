package lockworker_test

import (
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
