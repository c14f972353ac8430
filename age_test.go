package lockworker_test

import (
	"testing"
	"time"
)

// Age is a calendar comparison on the processing date in Europe/Stockholm, and
// a 29 February birthday falls on 28 February in other years.
func TestPersonnummerAgeOn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		number string
		on     time.Time
		want   int
	}{
		// The 13-year boundary of the child rule.
		{"born 2013-01-01, the day before", "201301012397", stockholm(2025, time.December, 31, 12, 0), 12},
		{"born 2013-01-01, the day of", "201301012397", stockholm(2026, time.January, 1, 12, 0), 13},
		{"born 2013-01-01, the day after", "201301012397", stockholm(2026, time.January, 2, 12, 0), 13},
		// At 23:00 UTC on 31 December it is already 1 January in Stockholm.
		{"born 2013-01-01, last minute before, Stockholm", "201301012397", utc(2025, time.December, 31, 22, 59), 12},
		{"born 2013-01-01, first hour, Stockholm, still the 31st in UTC", "201301012397", utc(2025, time.December, 31, 23, 0), 13},
		{"born 2013-01-01, midnight in Stockholm", "201301012397", stockholm(2026, time.January, 1, 0, 0), 13},
		{"born 2012-02-28, the day before", "201202282388", stockholm(2025, time.February, 27, 12, 0), 12},
		{"born 2012-02-28, the day of", "201202282388", stockholm(2025, time.February, 28, 12, 0), 13},
		{"born 2012-02-28, the day after", "201202282388", stockholm(2025, time.March, 1, 12, 0), 13},
		{"born 2012-02-28, last minute before, Stockholm", "201202282388", utc(2025, time.February, 27, 22, 59), 12},
		{"born 2012-02-28, first hour, Stockholm, still the 27th in UTC", "201202282388", utc(2025, time.February, 27, 23, 30), 13},
		{"born 2012-02-28, 29 February of a leap year", "201202282388", stockholm(2024, time.February, 29, 12, 0), 12},

		// Summer time: Stockholm is two hours ahead of UTC.
		{"born 1999-08-07, 23:30 on the day before in Stockholm", "199908072391", utc(2025, time.August, 6, 21, 30), 25},
		{"born 1999-08-07, 00:30 on the day in Stockholm", "199908072391", utc(2025, time.August, 6, 22, 30), 26},

		// 29 February birthdays.
		{"born 2000-02-29, 27 February of a year not leap", "200002292399", stockholm(2001, time.February, 27, 12, 0), 0},
		{"born 2000-02-29, 28 February of a year not leap", "200002292399", stockholm(2001, time.February, 28, 12, 0), 1},
		{"born 2000-02-29, 1 March of a year not leap", "200002292399", stockholm(2001, time.March, 1, 12, 0), 1},
		{"born 2000-02-29, 28 February of a leap year", "200002292399", stockholm(2004, time.February, 28, 12, 0), 3},
		{"born 2000-02-29, 29 February of a leap year", "200002292399", stockholm(2004, time.February, 29, 12, 0), 4},
		{"born 2000-02-29, 28 February 2100, not a leap year", "200002292399", stockholm(2100, time.February, 28, 12, 0), 100},
		{"born 2008-02-29, 27 February of the 13th year", "200802292383", stockholm(2021, time.February, 27, 12, 0), 12},
		{"born 2008-02-29, 28 February of the 13th year", "200802292383", stockholm(2021, time.February, 28, 12, 0), 13},
		{"born 2008-02-29, first hour of 28 February in Stockholm", "200802292383", utc(2021, time.February, 27, 23, 30), 13},
		{"born 2008-02-29, 28 February of a leap year", "200802292383", stockholm(2020, time.February, 28, 12, 0), 11},
		{"born 2008-02-29, 29 February of a leap year", "200802292383", stockholm(2020, time.February, 29, 12, 0), 12},
		{"born 1988-02-29, 27 February of a year not leap", "198802292394", stockholm(2023, time.February, 27, 12, 0), 34},
		{"born 1988-02-29, 28 February of a year not leap", "198802292394", stockholm(2023, time.February, 28, 12, 0), 35},
		{"born 1988-02-29, 28 February of a leap year", "198802292394", stockholm(2024, time.February, 28, 12, 0), 35},
		{"born 1988-02-29, 29 February of a leap year", "198802292394", stockholm(2024, time.February, 29, 12, 0), 36},

		{"the day of birth", "201202282388", stockholm(2012, time.February, 28, 0, 0), 0},
		{"over 100", "189001019802", stockholm(2025, time.June, 15, 12, 0), 135},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := mustParse(t, tt.number, processing)
			if got := p.AgeOn(tt.on); got != tt.want {
				t.Errorf("AgeOn(%s) = %d, want %d", tt.on.Format(time.RFC3339), got, tt.want)
			}
		})
	}
}
