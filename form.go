package lockworker

import (
	"errors"
	"regexp"
	"time"
)

// ErrFormNotFound means that the form service has no form by that reference,
// or not yet.
var ErrFormNotFound = errors.New("form not found")

// Code is a coded value: a code within a code system.
type Code struct {
	System string `yaml:"system" json:"system"`
	Code   string `yaml:"code" json:"code"`
}

// Form is what the form service says of a signed request form: the evidence
// the rules check, never the form's content.
type Form struct {
	ID string
	// Current reports whether the form is in force (not superseded or entered
	// in error).
	Current bool
	// Final reports whether the form is final or amended, as opposed to
	// preliminary or without a status.
	Final bool
	// Types are the codings of the form's type.
	Types []Code
	// Patient is the personnummer the form is about, as written (in any of
	// its accepted forms), or "" when the form names its patient by no
	// personnummer. IsAbout compares it.
	Patient string
	// Signer is the HSA-id of the person who signed, zero if none is given.
	Signer HSAID
	// Custodian is the HSA-id of the organisation that keeps the form, zero if
	// none is given.
	Custodian HSAID
	// Date is when the form was signed, zero when absent or unreadable.
	Date time.Time
}

// Signed reports whether the form is final and has an identified signer.
func (f Form) Signed() bool { return f.Final && !f.Signer.IsZero() }

// IsAbout reports whether the form is about the person p: whether its
// patient is p's personnummer, however written, read on the processing date
// now as the order's number was.
func (f Form) IsAbout(p Personnummer, now time.Time) bool {
	q, err := ParsePersonnummer(f.Patient, now)
	return err == nil && !p.IsZero() && q == p
}

// HasType reports whether the form is of type c.
func (f Form) HasType(c Code) bool {
	for _, t := range f.Types {
		if t == c {
			return true
		}
	}
	return false
}

// fhirID is the syntax of a FHIR id: 1 to 64 of A-Z a-z 0-9 - and .
var fhirID = regexp.MustCompile(`^[A-Za-z0-9.-]{1,64}$`)

// ValidFormReference reports whether ref can be a form's reference: a FHIR id
// other than "." and "..", which a proxy could take as a step up the path. A
// reference that passes needs no escaping in a URL path.
func ValidFormReference(ref string) bool {
	return fhirID.MatchString(ref) && ref != "." && ref != ".."
}
