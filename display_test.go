package lockworker_test

import (
	"testing"
	"time"

	"github.com/lockworker/lockworker"
)

func TestDisplayTime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		at   time.Time
		want string
	}{
		{"winter time", time.Date(2026, 11, 30, 13, 5, 0, 0, time.UTC), "2026-11-30 14:05 CET"},
		{"summer time", time.Date(2026, 7, 1, 10, 0, 0, 0, time.UTC), "2026-07-01 12:00 CEST"},
		{"seconds are cut, not rounded", time.Date(2026, 11, 30, 13, 5, 59, 999_999_999, time.UTC), "2026-11-30 14:05 CET"},
		{"a time given in another zone", time.Date(2026, 11, 30, 18, 5, 0, 0, time.FixedZone("UTC+5", 5*3600)), "2026-11-30 14:05 CET"},
		{"a new year in Sweden that is still the old one in UTC", time.Date(2026, 12, 31, 23, 30, 0, 0, time.UTC), "2027-01-01 00:30 CET"},
		// On 25 October 2026 the clocks go back from 03:00 CEST to 02:00
		// CET: the hour from 02:00 is lived twice, told apart by the zone.
		{"the first 02:30 when the clocks go back", time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC), "2026-10-25 02:30 CEST"},
		{"the second 02:30 when the clocks go back", time.Date(2026, 10, 25, 1, 30, 0, 0, time.UTC), "2026-10-25 02:30 CET"},
		{"the first minute of summer time", time.Date(2026, 3, 29, 1, 0, 0, 0, time.UTC), "2026-03-29 03:00 CEST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := lockworker.DisplayTime(tt.at); got != tt.want {
				t.Errorf("DisplayTime(%s) = %q, want %q", tt.at.Format(time.RFC3339), got, tt.want)
			}
		})
	}
}
