package lockworker

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync/atomic"
	"time"
	_ "time/tzdata" // Age and century rules need Europe/Stockholm on any host.
	"unique"
)

// Stockholm is the time zone in which ages and the century of a ten-digit
// number are reckoned.
var Stockholm = mustLoadLocation("Europe/Stockholm")

func mustLoadLocation(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(fmt.Sprintf("load time zone %s: %v", name, err))
	}
	return loc
}

// ErrInvalidPersonnummer is matched by every error of ParsePersonnummer. The
// errors never repeat the input, so that they can be logged.
var ErrInvalidPersonnummer = errors.New("invalid personnummer")

// PersonnummerRule is a rule of the personnummer that a number can break.
type PersonnummerRule int

// The rules of a personnummer, in the order ParsePersonnummer checks them.
const (
	// PersonnummerForm: the text is not one of the accepted forms (10 or 12
	// ASCII digits, a separator only before the last four).
	PersonnummerForm PersonnummerRule = iota + 1
	// PersonnummerDate: the date does not exist (for a samordningsnummer,
	// day − 60).
	PersonnummerDate
	// PersonnummerBirthNumber: the birth number is 000, which is never given.
	PersonnummerBirthNumber
	// PersonnummerCheckDigit: the Luhn check digit is wrong.
	PersonnummerCheckDigit
	// PersonnummerFuture: the birth date is after the processing date.
	PersonnummerFuture
)

// PersonnummerError is an error of ParsePersonnummer: the rule the number
// breaks, so that a caller can say which, and how, in words that never repeat
// the number.
type PersonnummerError struct {
	Rule   PersonnummerRule
	Detail string // how the rule is broken, in English
}

func (e *PersonnummerError) Error() string { return ErrInvalidPersonnummer.Error() + ": " + e.Detail }

// Is makes every PersonnummerError match ErrInvalidPersonnummer.
func (e *PersonnummerError) Is(target error) bool { return target == ErrInvalidPersonnummer }

func invalidPersonnummer(rule PersonnummerRule, detail string) error {
	return &PersonnummerError{Rule: rule, Detail: detail}
}

// Personnummer is a validated Swedish personal identity number, or a
// samordningsnummer (coordination number), in its 12-digit form.
//
// It never prints in clear: String, Format and MarshalJSON give its keyed
// pseudonym. Reveal gives the digits to the few places that need them (the
// lock store, the form comparison, an operator's explicit --reveal).
type Personnummer struct {
	// digits holds YYYYMMDDNNNC behind a pointer, so that the printings that
	// bypass Format (fmt's %p, and a Personnummer in an unexported struct field,
	// which fmt prints by reflection) show an address, not the number. A unique
	// handle keeps equal numbers equal under ==.
	digits unique.Handle[string]
}

// ParsePersonnummer reads a personnummer in one of the forms YYYYMMDDNNNC,
// YYYYMMDD-NNNC, YYMMDD-NNNC, YYMMDD+NNNC and YYMMDDNNNC, trimmed of
// surrounding space. A ten-digit form takes its century from now, the
// processing time, in Europe/Stockholm: "-" or no separator means the holder is
// under 100 in that calendar year, "+" means 100 or over.
//
// It checks that the number has ASCII digits only, a real calendar date (for a
// samordningsnummer: day − 60, where month 00 and day 60 stand for an unknown
// month or day), a birth number other than 000, a valid Luhn check digit, and
// no birth date after now.
func ParsePersonnummer(s string, now time.Time) (Personnummer, error) {
	s = strings.TrimSpace(s)
	var date, serial string
	century := false // whether date holds the century
	switch len(s) {
	case 12:
		date, serial, century = s[:8], s[8:], true
	case 13:
		if s[8] != '-' {
			return Personnummer{}, invalidPersonnummer(PersonnummerForm, "a 12-digit number takes only '-' before the last four digits")
		}
		date, serial, century = s[:8], s[9:], true
	case 10:
		date, serial = s[:6], s[6:]
	case 11:
		if s[6] != '-' && s[6] != '+' {
			return Personnummer{}, invalidPersonnummer(PersonnummerForm, "a 10-digit number takes only '-' or '+' before the last four digits")
		}
		date, serial = s[:6], s[7:]
	default:
		return Personnummer{}, invalidPersonnummer(PersonnummerForm, "not 10 or 12 digits")
	}
	if !allDigits(date) || !allDigits(serial) {
		return Personnummer{}, invalidPersonnummer(PersonnummerForm, "not digits only")
	}

	today := now.In(Stockholm)
	var year int
	if century {
		year = atoi(date[:4])
		date = date[2:] // Luhn runs over YYMMDDNNNC, without the century
	} else {
		yy := atoi(date[:2])
		year = today.Year() - (today.Year()-yy)%100
		if strings.Contains(s, "+") {
			year -= 100
		}
	}
	month, day := atoi(date[2:4]), atoi(date[4:6])

	earliest, err := birthDate(year, month, day)
	if err != nil {
		return Personnummer{}, err
	}
	if serial[:3] == "000" {
		return Personnummer{}, invalidPersonnummer(PersonnummerBirthNumber, "birth number 000")
	}
	if !luhnValid(date + serial) {
		return Personnummer{}, invalidPersonnummer(PersonnummerCheckDigit, "wrong check digit")
	}
	if earliest.After(time.Date(today.Year(), today.Month(), today.Day(), 0, 0, 0, 0, time.UTC)) {
		return Personnummer{}, invalidPersonnummer(PersonnummerFuture, "birth date in the future")
	}
	return Personnummer{digits: unique.Make(fmt.Sprintf("%02d%s%s", year/100, date, serial))}, nil
}

// birthDate checks the date part of a number and returns the earliest birth
// date it allows (UTC midnight). For a samordningsnummer (day + 60), month 00
// and day 60 stand for an unknown month or day.
func birthDate(year, month, day int) (time.Time, error) {
	if day < 60 {
		if month < 1 || month > 12 {
			return time.Time{}, invalidPersonnummer(PersonnummerDate, "no such month")
		}
		if day < 1 || day > daysIn(year, time.Month(month)) {
			return time.Time{}, invalidPersonnummer(PersonnummerDate, "no such day")
		}
		return time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC), nil
	}
	day -= 60
	switch {
	case month > 12:
		return time.Time{}, invalidPersonnummer(PersonnummerDate, "no such month")
	case month == 0 && day > 31:
		return time.Time{}, invalidPersonnummer(PersonnummerDate, "no such day")
	case month == 0:
		return time.Date(year, time.January, 1, 0, 0, 0, 0, time.UTC), nil
	case day == 0:
		return time.Date(year, time.Month(month), 1, 0, 0, 0, 0, time.UTC), nil
	case day > daysIn(year, time.Month(month)):
		return time.Time{}, invalidPersonnummer(PersonnummerDate, "no such day")
	}
	return time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC), nil
}

func daysIn(year int, month time.Month) int {
	return time.Date(year, month+1, 0, 0, 0, 0, 0, time.UTC).Day()
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// atoi converts a string already known to hold ASCII digits only.
func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

// luhnValid reports whether the last digit of s is the Luhn check digit of the
// others.
func luhnValid(s string) bool {
	sum := 0
	for i := 0; i < len(s); i++ {
		d := int(s[len(s)-1-i] - '0')
		if i%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

// IsZero reports whether p holds no number.
func (p Personnummer) IsZero() bool { return p.digits == unique.Handle[string]{} }

// Reveal returns the number in clear, in its 12-digit form. Call it only to
// store or compare the number, or to show it to an operator who asked.
func (p Personnummer) Reveal() string {
	if p.IsZero() {
		return ""
	}
	return p.digits.Value()
}

// IsSamordningsnummer reports whether p is a samordningsnummer (day + 60).
func (p Personnummer) IsSamordningsnummer() bool {
	return !p.IsZero() && p.Reveal()[6] >= '6'
}

// AgeOn returns the holder's age in whole years at t, reckoned as a calendar
// comparison in Europe/Stockholm. Someone born on 29 February has a birthday
// on 28 February in other years. It is meaningless for a samordningsnummer,
// whose month or day may be unknown.
func (p Personnummer) AgeOn(t time.Time) int {
	if p.IsZero() {
		return 0
	}
	t = t.In(Stockholm)
	digits := p.Reveal()
	year, month, day := atoi(digits[:4]), atoi(digits[4:6]), atoi(digits[6:8])
	if month == 2 && day == 29 && daysIn(t.Year(), time.February) == 28 {
		day = 28
	}
	age := t.Year() - year
	if int(t.Month()) < month || (int(t.Month()) == month && t.Day() < day) {
		age--
	}
	return age
}

// String returns the pseudonym, never the number.
func (p Personnummer) String() string { return p.Pseudonym() }

// Format prints the pseudonym for every verb, so that no formatting of a
// Personnummer, %#v included, shows the number.
func (p Personnummer) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(p.Pseudonym())) }

// MarshalJSON gives the pseudonym, so that a Personnummer marshalled by
// mistake (a log field, say) does not leak.
func (p Personnummer) MarshalJSON() ([]byte, error) {
	return []byte(strconv.Quote(p.Pseudonym())), nil
}

// Pseudonym returns a keyed pseudonym of the number ("pn-" and 16 hex digits of
// HMAC-SHA256 under the process's pseudonym key): the same number gives the
// same pseudonym for as long as the key stays the same, so that log lines about
// one person can be followed without the number being in them.
func (p Personnummer) Pseudonym() string {
	if p.IsZero() {
		return ""
	}
	mac := hmac.New(sha256.New, *pseudonymKey.Load())
	mac.Write([]byte(p.Reveal()))
	return "pn-" + hex.EncodeToString(mac.Sum(nil)[:8])
}

// pseudonymKey is the HMAC key of pseudonyms. It is process-wide because
// String must give the pseudonym wherever a number is printed; it starts as a
// random key and is replaced by the configured one at start.
var pseudonymKey atomic.Pointer[[]byte]

func init() {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		panic(fmt.Sprintf("generate pseudonym key: %v", err))
	}
	pseudonymKey.Store(&key)
}

// SetPseudonymKey sets the key of pseudonyms for the whole process. Without a
// call, the key is random and pseudonyms change with every start.
func SetPseudonymKey(key []byte) error {
	if len(key) < 16 {
		return errors.New("pseudonym key: at least 16 bytes are needed")
	}
	k := append([]byte(nil), key...)
	pseudonymKey.Store(&k)
	return nil
}
