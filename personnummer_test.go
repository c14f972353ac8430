package lockworker_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/lockworker/lockworker"
	"github.com/lockworker/lockworker/internal/skatteverket"
)

// stockholm returns a wall-clock time in Europe/Stockholm.
func stockholm(year int, month time.Month, day, hour, minute int) time.Time {
	return time.Date(year, month, day, hour, minute, 0, 0, lockworker.Stockholm)
}

// utc returns a time given in UTC, for the cases where Stockholm's calendar day
// differs from UTC's.
func utc(year int, month time.Month, day, hour, minute int) time.Time {
	return time.Date(year, month, day, hour, minute, 0, 0, time.UTC)
}

// withCheckDigit completes YYYYMMDDNNN with its Luhn check digit (reckoned, as
// Skatteverket does, over YYMMDDNNN without the century). It builds numbers
// whose only fault is their date or birth number, so that the rule under test,
// not the check digit, is what rejects them. It is written apart from the
// package's own Luhn code so that each checks the other.
func withCheckDigit(yyyymmddnnn string) string {
	sum := 0
	for i, c := range yyyymmddnnn[2:] {
		d := int(c - '0')
		if i%2 == 0 { // every other digit from the left, starting with the first, is doubled
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return yyyymmddnnn + string(rune('0'+(10-sum%10)%10))
}

// tenDigit gives the ten-digit form of a 12-digit number with separator sep
// ("-", "+" or "").
func tenDigit(twelve, sep string) string { return twelve[2:8] + sep + twelve[8:] }

// tenDigitForms gives the ten-digit forms of a 12-digit number at now: with
// "+" for those who are 100 or over in now's calendar year, else with "-" and
// without separator.
func tenDigitForms(twelve string, now time.Time) []string {
	if now.Year()-atoi(twelve[:4]) >= 100 {
		return []string{tenDigit(twelve, "+")}
	}
	return []string{tenDigit(twelve, "-"), tenDigit(twelve, "")}
}

// atoi converts digits known to be ASCII, those of Skatteverket's lists.
func atoi(s string) int {
	n := 0
	for _, c := range s {
		n = n*10 + int(c-'0')
	}
	return n
}

// failLimit reports at most a few failures of a test over thousands of numbers,
// each by file and line rather than by number, then how many failed in all.
type failLimit struct {
	t      *testing.T
	file   string
	failed int
}

func (f *failLimit) errorf(line int, format string, args ...any) {
	f.t.Helper()
	if f.failed++; f.failed <= 5 {
		f.t.Errorf("%s:%d: "+format, append([]any{f.file, line + 1}, args...)...)
	}
}

func (f *failLimit) done() {
	if f.failed > 5 {
		f.t.Errorf("%s: %d numbers failed in all", f.file, f.failed)
	}
}

// mustParse parses a number that the test expects to be valid at now.
func mustParse(t *testing.T, s string, now time.Time) lockworker.Personnummer {
	t.Helper()
	p, err := lockworker.ParsePersonnummer(s, now)
	if err != nil {
		t.Fatalf("ParsePersonnummer(%q, %s): %v", s, now.Format(time.RFC3339), err)
	}
	return p
}

// assertRejected checks that s is invalid at now, and that the error neither
// repeats the input nor fails to say what kind of error it is.
func assertRejected(t *testing.T, s string, now time.Time) {
	t.Helper()
	p, err := lockworker.ParsePersonnummer(s, now)
	if err == nil {
		t.Fatalf("ParsePersonnummer(%q, %s) = %s, want an error", s, now.Format(time.RFC3339), p.Reveal())
	}
	if !errors.Is(err, lockworker.ErrInvalidPersonnummer) {
		t.Errorf("error %q does not wrap ErrInvalidPersonnummer", err)
	}
	if !p.IsZero() {
		t.Errorf("an invalid number gave the non-zero value %s", p.Reveal())
	}
	if digits := asciiDigits(s); len(digits) >= 6 && strings.Contains(err.Error(), digits) {
		t.Errorf("error %q repeats the input's digits", err)
	}
	if trimmed := strings.TrimSpace(s); len(trimmed) >= 4 && strings.Contains(err.Error(), trimmed) {
		t.Errorf("error %q repeats the input", err)
	}
}

// asciiDigits returns the ASCII digits of s, in order.
func asciiDigits(s string) string {
	var b strings.Builder
	for _, c := range []byte(s) {
		if '0' <= c && c <= '9' {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// processing is the fixed processing date of the tests that do not turn on it.
var processing = stockholm(2025, time.June, 15, 12, 0)

func TestParsePersonnummerAcceptsTheFiveForms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"YYYYMMDDNNNC", "196408233234", "196408233234"},
		{"YYYYMMDD-NNNC", "19640823-3234", "196408233234"},
		{"YYMMDD-NNNC", "640823-3234", "196408233234"},
		{"YYMMDDNNNC", "6408233234", "196408233234"},
		{"YYMMDD+NNNC", "900101+9802", "189001019802"},
		{"surrounding spaces", "  640823-3234  ", "196408233234"},
		{"surrounding tab and newline", "\t196408233234\r\n", "196408233234"},
		{"surrounding no-break space", "\u00a0640823-3234\u00a0", "196408233234"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := mustParse(t, tt.in, processing).Reveal(); got != tt.want {
				t.Errorf("ParsePersonnummer(%q).Reveal() = %s, want %s", tt.in, got, tt.want)
			}
		})
	}
}

// Only the 12-digit form is stored and compared: every form of one number is
// the same value.
func TestParsePersonnummerGivesOneValuePerNumber(t *testing.T) {
	t.Parallel()
	want := mustParse(t, "196408233234", processing)
	for _, in := range []string{"19640823-3234", "640823-3234", "6408233234", " 196408233234 "} {
		if got := mustParse(t, in, processing); got != want {
			t.Errorf("ParsePersonnummer(%q) != ParsePersonnummer(%q)", in, "196408233234")
		}
	}
	if other := mustParse(t, "199908072391", processing); other == want {
		t.Error("two different numbers compare equal")
	}
}

func TestParsePersonnummerRejectsOtherForms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
	}{
		{"empty", ""},
		{"only space", "   "},
		{"plus in the 12-digit form", "19640823+3234"},
		{"space as separator, 12 digits", "19640823 3234"},
		{"space as separator, 10 digits", "640823 3234"},
		{"slash as separator", "640823/3234"},
		{"underscore as separator", "19640823_3234"},
		{"en dash as separator", "640823\u20133234"},
		{"minus sign as separator", "19640823\u22123234"},
		{"separator after the century", "19-6408233234"},
		{"separator after the month", "6408-233234"},
		{"separator one digit early", "64082-33234"},
		{"separator one digit late", "6408233-234"},
		{"separator one digit late, 12 digits", "196408233-234"},
		{"separator at the end", "6408233234-"},
		{"separator at the start", "-6408233234"},
		{"two separators", "640823--3234"},
		{"two separators, 12 digits", "19640823--3234"},
		{"separator inside the 12 digits", "19640823-32-34"},
		{"space inside", "640823 -3234"},
		{"Arabic-Indic digits", "١٩٦٤٠٨٢٣٣٢٣٤"},
		{"Arabic-Indic digits, 10-digit form", "٦٤٠٨٢٣-٣٢٣٤"},
		// Non-ASCII digits are longer than one byte: these are 10 to 13
		// bytes long, as valid forms are, so that the digit check must catch them.
		{"one Arabic-Indic digit (12 bytes)", "196408233٣4"},
		{"one Arabic-Indic digit (13 bytes)", "19640823-٣23"},
		{"one Arabic-Indic digit (11 bytes)", "640823-٣23"},
		{"full-width digits", "１９６４０８２３３２３４"},
		{"one full-width digit (12 bytes)", "196408233３"},
		{"one full-width digit (10 bytes)", "640823３2"},
		{"superscript digit (12 bytes)", "640823-323\u00b3"},
		{"letter for the check digit", "19640823323X"},
		{"letter in the date", "6408A3-3234"},
		{"letters only", "ABCDEFGHIJKL"},
		{"leading sign", "+6408233234"},
		{"NUL inside", "640823\x003234"},
		{"9 digits", "640823323"},
		{"11 digits", "64082332341"},
		{"13 digits", "1964082332341"},
		{"14 characters", "19640823-32341"},
		{"two numbers", "196408233234 196408233234"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assertRejected(t, tt.in, processing)
		})
	}
}

// Every one of Skatteverket's test personnummer is valid in its 12-digit form,
// and in its 10-digit forms with the separator that its age calls for on a
// fixed processing date.
func TestParsePersonnummerAcceptsSkatteverketsTestPersonnummer(t *testing.T) {
	t.Parallel()
	fails := &failLimit{t: t, file: "testpersonnummer.txt"}
	defer fails.done()
	for line, n := range skatteverket.Personnummer() {
		if withCheckDigit(n[:11]) != n {
			fails.errorf(line, "the test helper withCheckDigit disagrees with Skatteverket")
		}
		for _, form := range append([]string{n, n[:8] + "-" + n[8:]}, tenDigitForms(n, processing)...) {
			p, err := lockworker.ParsePersonnummer(form, processing)
			switch {
			case err != nil:
				fails.errorf(line, "the form %d digits long: %v", len(form), err)
			case p.Reveal() != n:
				fails.errorf(line, "a form %d digits long gives another number", len(form))
			case p.IsSamordningsnummer():
				fails.errorf(line, "taken for a samordningsnummer")
			}
		}
	}
}

// Every one of Skatteverket's test samordningsnummer is valid and recognised as
// one, month 00 and day 60 included.
func TestParsePersonnummerAcceptsSkatteverketsTestSamordningsnummer(t *testing.T) {
	t.Parallel()
	fails := &failLimit{t: t, file: "testsamordningsnummer.txt"}
	defer fails.done()
	for line, n := range skatteverket.Samordningsnummer() {
		for _, form := range append([]string{n}, tenDigitForms(n, processing)...) {
			p, err := lockworker.ParsePersonnummer(form, processing)
			switch {
			case err != nil:
				fails.errorf(line, "the form %d digits long: %v", len(form), err)
			case p.Reveal() != n:
				fails.errorf(line, "a form %d digits long gives another number", len(form))
			case !p.IsSamordningsnummer():
				fails.errorf(line, "not recognised as a samordningsnummer")
			}
		}
	}
}

// A ten-digit number takes its century from the processing date in
// Europe/Stockholm: "-" or none means under 100 in that calendar year, "+"
// means 100 or over.
func TestParsePersonnummerCenturyOfTenDigitForms(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		in          string
		now         time.Time
		wantCentury string // "" when the number is invalid at now
	}{
		{"99 in 2019: minus", "200101-1564", stockholm(2019, time.June, 15, 12, 0), "19"},
		{"99 in 2019: none", "2001011564", stockholm(2019, time.June, 15, 12, 0), "19"},
		{"99 in 2019: plus means 199", "200101+1564", stockholm(2019, time.June, 15, 12, 0), "18"},
		{"100 in 2020: plus", "200101+1564", stockholm(2020, time.June, 15, 12, 0), "19"},
		{"100 in 2020: minus means born in 2020", "200101-1564", stockholm(2020, time.June, 15, 12, 0), "20"},
		{"100 in 2020: none means born in 2020", "2001011564", stockholm(2020, time.June, 15, 12, 0), "20"},

		{"born 1890: plus", "900101+9802", processing, "18"},
		{"born 1890: minus means born 1990", "900101-9802", processing, "19"},

		// The calendar year decides, not the birthday: someone who turns 100
		// in December is written with "+" from 1 January.
		{"turns 100 later this year: plus", "251217+7011", stockholm(2025, time.January, 15, 12, 0), "19"},
		{"turns 100 later this year: minus would be born in the future", "251217-7011", stockholm(2025, time.January, 15, 12, 0), ""},
		{"turns 100 next year: minus", "251217-7011", stockholm(2024, time.December, 31, 12, 0), "19"},

		// 23:30 UTC on 31 December 2019 is 00:30 on 1 January 2020 in Stockholm.
		{"last hour of 2019 in Stockholm: minus", "200101-1564", utc(2019, time.December, 31, 22, 30), "19"},
		{"last hour of 2019 in Stockholm: plus", "200101+1564", utc(2019, time.December, 31, 22, 30), "18"},
		{"first hour of 2020 in Stockholm: plus", "200101+1564", utc(2019, time.December, 31, 23, 30), "19"},
		{"first hour of 2020 in Stockholm: minus is born today", "200101-1564", utc(2019, time.December, 31, 23, 30), "20"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.wantCentury == "" {
				assertRejected(t, tt.in, tt.now)
				return
			}
			got := mustParse(t, tt.in, tt.now).Reveal()
			if got[:2] != tt.wantCentury || got[2:] != asciiDigits(tt.in) {
				t.Errorf("ParsePersonnummer(%q, %s) has century %s, want %s", tt.in, tt.now.Format(time.RFC3339), got[:2], tt.wantCentury)
			}
		})
	}
}

// Each invalid number below has a correct check digit, so that the rule named,
// not Luhn, is what rejects it.
func TestParsePersonnummerRejectsWhatIsNoPersonnummer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
	}{
		{"29 February in a year not leap", withCheckDigit("20230229239")},
		{"29 February in 1900, not a leap year", withCheckDigit("19000229982")},
		{"29 February in 1900 from a ten-digit form", "000229+2399"},
		{"30 February", withCheckDigit("20000230239")},
		{"31 April", withCheckDigit("19640431323")},
		{"32 January", withCheckDigit("19640132323")},
		{"day 00", withCheckDigit("19640800323")},
		{"day 00 in a ten-digit form", tenDigit(withCheckDigit("19640800323"), "-")},
		{"month 00", withCheckDigit("19640023323")},
		{"month 13", withCheckDigit("19641323323")},
		{"month 13 in a ten-digit form", tenDigit(withCheckDigit("19641323323"), "")},
		{"month 99", withCheckDigit("19649923323")},
		{"birth number 000", withCheckDigit("19640823000")},
		{"birth number 000 in a ten-digit form", tenDigit(withCheckDigit("19640823000"), "-")},
		{"wrong check digit", "196408233235"},
		{"wrong check digit in a ten-digit form", "640823-3233"},
		{"two digits swapped", "196408232334"},

		{"samordningsnummer for 29 February in a year not leap", withCheckDigit("20190289239")},
		{"samordningsnummer with day 90 in February", withCheckDigit("20200290239")},
		{"samordningsnummer with day 90 in a leap February", withCheckDigit("20000290239")},
		{"samordningsnummer with day 91 in April", withCheckDigit("19310491239")},
		{"samordningsnummer with day 92", withCheckDigit("19550192238")},
		{"samordningsnummer with month 00 and day 92", withCheckDigit("19150092239")},
		{"samordningsnummer with month 13", withCheckDigit("19501361239")},
		{"samordningsnummer with birth number 000", withCheckDigit("19500191000")},
		{"samordningsnummer with wrong check digit", "191500722391"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assertRejected(t, tt.in, processing)
		})
	}
}

func TestParsePersonnummerSamordningsnummer(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want string
	}{
		{"month 00, unknown month", "191500722390", "191500722390"},
		{"day 60, unknown day", "191711602399", "191711602399"},
		{"29 February of a leap year", "202002892392", "202002892392"},
		{"29 February of a leap year, ten digits", "200289-2392", "202002892392"},
		{"month 00 and day 60", "193100602394", "193100602394"},
		{"day 91 in January", "195001912384", "195001912384"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := mustParse(t, tt.in, processing)
			if p.Reveal() != tt.want {
				t.Errorf("ParsePersonnummer(%q).Reveal() = %s, want %s", tt.in, p.Reveal(), tt.want)
			}
			if !p.IsSamordningsnummer() {
				t.Errorf("%s is not recognised as a samordningsnummer", tt.in)
			}
		})
	}
	for _, n := range []string{"196408233234", "200002292399", "199908072391"} {
		if mustParse(t, n, processing).IsSamordningsnummer() {
			t.Errorf("the personnummer %s is taken for a samordningsnummer", n)
		}
	}
}

// A birth date after the processing date, in Stockholm's calendar, is
// rejected; a birth today is not.
func TestParsePersonnummerRejectsBirthInTheFuture(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		now  time.Time
		want string // "" when the number is rejected
	}{
		{"the day before", "201202282388", stockholm(2012, time.February, 27, 12, 0), ""},
		{"the day itself", "201202282388", stockholm(2012, time.February, 28, 0, 0), "201202282388"},
		{"the day after", "201202282388", stockholm(2012, time.February, 29, 12, 0), "201202282388"},
		{"ten digits, the month before", "120228-2388", stockholm(2012, time.January, 15, 12, 0), ""},
		{"ten digits without separator, the month before", "1202282388", stockholm(2012, time.January, 15, 12, 0), ""},
		{"ten digits, the day itself", "120228-2388", stockholm(2012, time.February, 28, 12, 0), "201202282388"},
		// 23:30 UTC on 27 February is already the 28th in Stockholm.
		{"last minutes of the day before in Stockholm", "201202282388", utc(2012, time.February, 27, 22, 59), ""},
		{"first minutes of the day in Stockholm", "201202282388", utc(2012, time.February, 27, 23, 30), "201202282388"},
		{"first minutes of the day in Stockholm, ten digits", "120228-2388", utc(2012, time.February, 27, 23, 30), "201202282388"},
		{"samordningsnummer, the day before", "202002892392", stockholm(2020, time.February, 28, 12, 0), ""},
		{"samordningsnummer, the day itself", "202002892392", stockholm(2020, time.February, 29, 12, 0), "202002892392"},
		{"samordningsnummer with month 00, the year before", "191500722390", stockholm(1914, time.December, 31, 12, 0), ""},
		{"samordningsnummer with month 00, the year itself", "191500722390", stockholm(1915, time.January, 1, 12, 0), "191500722390"},
		{"samordningsnummer with day 60, the month before", "191711602399", stockholm(1917, time.October, 31, 12, 0), ""},
		{"samordningsnummer with day 60, the month itself", "191711602399", stockholm(1917, time.November, 1, 12, 0), "191711602399"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.want == "" {
				assertRejected(t, tt.in, tt.now)
				return
			}
			if got := mustParse(t, tt.in, tt.now).Reveal(); got != tt.want {
				t.Errorf("ParsePersonnummer(%q, %s) = %s, want %s", tt.in, tt.now.Format(time.RFC3339), got, tt.want)
			}
		})
	}
}

func TestPersonnummerZeroValue(t *testing.T) {
	t.Parallel()
	var zero lockworker.Personnummer
	if !zero.IsZero() {
		t.Error("the zero Personnummer is not IsZero")
	}
	if zero.Reveal() != "" || zero.String() != "" || zero.Pseudonym() != "" {
		t.Errorf("the zero Personnummer shows %q, %q, %q; want nothing", zero.Reveal(), zero.String(), zero.Pseudonym())
	}
	if zero.IsSamordningsnummer() {
		t.Error("the zero Personnummer is a samordningsnummer")
	}
	if age := zero.AgeOn(processing); age != 0 {
		t.Errorf("the zero Personnummer has age %d", age)
	}
	if mustParse(t, "196408233234", processing).IsZero() {
		t.Error("a parsed Personnummer is IsZero")
	}
}

// Each error of ParsePersonnummer names the rule the number breaks, so that a
// comment can say which without repeating the number.
func TestParsePersonnummerSaysWhichRuleFails(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		rule lockworker.PersonnummerRule
	}{
		{"11 digits", "19640823323", lockworker.PersonnummerForm},
		{"a plus in a 12-digit number", "19640823+3234", lockworker.PersonnummerForm},
		{"a slash as separator", "640823/3234", lockworker.PersonnummerForm},
		{"a letter", "1964082332X4", lockworker.PersonnummerForm},
		{"30 February", withCheckDigit("20000230239"), lockworker.PersonnummerDate},
		{"month 13", withCheckDigit("19641323323"), lockworker.PersonnummerDate},
		{"samordningsnummer with day 92", withCheckDigit("19550192238"), lockworker.PersonnummerDate},
		{"birth number 000", withCheckDigit("19640823000"), lockworker.PersonnummerBirthNumber},
		{"wrong check digit", "196408233235", lockworker.PersonnummerCheckDigit},
		{"two digits swapped", "196408232334", lockworker.PersonnummerCheckDigit},
		{"born the day after processing", withCheckDigit("20250616239"), lockworker.PersonnummerFuture},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			assertRejected(t, tt.in, processing)
			_, err := lockworker.ParsePersonnummer(tt.in, processing)
			var pe *lockworker.PersonnummerError
			if !errors.As(err, &pe) || pe.Rule != tt.rule {
				t.Errorf("ParsePersonnummer(%q) = %v, want a PersonnummerError of rule %d", tt.in, err, tt.rule)
			}
		})
	}
}
