package lockworker

import (
	"errors"
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
	// SignerInvalid is why the signer's HSA-id was refused, when the form
	// gives one that is no HSA-id (Signer is then zero); nil otherwise.
	SignerInvalid error
	// Custodian is the HSA-id of the organisation that keeps the form, zero if
	// none is given.
	Custodian HSAID
	// CustodianInvalid is why the custodian's HSA-id was refused, when the
	// form gives one that is no HSA-id (Custodian is then zero); nil
	// otherwise.
	CustodianInvalid error
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

// FormReferenceRule is a rule of a form reference that a text can break.
type FormReferenceRule int

// The rules of a form reference, in the order CheckFormReference checks them.
const (
	FormReferenceLength       FormReferenceRule = iota + 1 // not 1 to 64 characters
	FormReferenceChars                                     // a character other than A-Z a-z 0-9 - .
	FormReferenceDots                                      // "." or "..", which a proxy could take as a step up the path
	FormReferencePersonnummer                              // it holds a personnummer
)

// FormReferenceError is an error of CheckFormReference: the rule the
// reference breaks. It never repeats the reference.
type FormReferenceError struct {
	Rule FormReferenceRule
}

func (e *FormReferenceError) Error() string {
	switch e.Rule {
	case FormReferenceLength:
		return "form reference is not 1 to 64 characters long"
	case FormReferenceChars:
		return "form reference holds a character other than A-Z a-z 0-9 - ."
	case FormReferenceDots:
		return `form reference is "." or ".."`
	default:
		return "form reference holds a personnummer"
	}
}

// CheckFormReference checks ref as an order's form reference: a FHIR id (1 to
// 64 of A-Z a-z 0-9 - .) other than "." and "..", that holds no personnummer.
// A reference that holds one was typed into the wrong field, and must not
// reach a comment or a log line.
func CheckFormReference(ref string) error {
	if rule := formReferenceSyntax(ref); rule != 0 {
		return &FormReferenceError{Rule: rule}
	}
	if Redact(ref) != ref {
		return &FormReferenceError{Rule: FormReferencePersonnummer}
	}
	return nil
}

// ValidFormReference reports whether ref can be a form's reference: a FHIR id
// other than "." and "..", which a proxy could take as a step up the path. A
// reference that passes needs no escaping in a URL path.
func ValidFormReference(ref string) bool { return formReferenceSyntax(ref) == 0 }

// formReferenceSyntax returns the rule of a FHIR id that ref breaks, or 0.
func formReferenceSyntax(ref string) FormReferenceRule {
	for i := 0; i < len(ref); i++ {
		if c := ref[i]; !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-' || c == '.') {
			return FormReferenceChars
		}
	}
	switch {
	case len(ref) < 1 || len(ref) > 64:
		return FormReferenceLength
	case ref == "." || ref == "..":
		return FormReferenceDots
	}
	return 0
}
