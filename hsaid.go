package lockworker

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidHSAID is wrapped by every error of ParseHSAID. The errors never
// repeat the input, so that they can be logged even when a personnummer was
// typed into an HSA-id field.
var ErrInvalidHSAID = errors.New("invalid HSA-id")

// HSAID is a validated HSA-id, the identity of a person or unit in Swedish
// healthcare's catalogue: "SE", an optional "16", the 10-digit organisation
// number of the issuing organisation, "-" and a local part.
type HSAID struct {
	value string
	org   string
}

// hsaLocalChars are the characters a local part may hold.
const hsaLocalChars = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz '()+,-./:=?"

// ParseHSAID checks s as an HSA-id: "SE", an optional "16", a Luhn-valid
// 10-digit organisation number, "-" and a local part of the characters
// [0-9A-Za-z '()+,-./:=?], at most 31 characters in all.
func ParseHSAID(s string) (HSAID, error) {
	invalid := func(why string) (HSAID, error) { return HSAID{}, fmt.Errorf("%w: %s", ErrInvalidHSAID, why) }
	if len(s) > 31 {
		return invalid("longer than 31 characters")
	}
	rest, ok := strings.CutPrefix(s, "SE")
	if !ok {
		return invalid(`does not start with "SE"`)
	}
	org, local, ok := strings.Cut(rest, "-")
	if !ok {
		return invalid(`no "-" after the organisation number`)
	}
	if len(org) == 12 && strings.HasPrefix(org, "16") {
		org = org[2:]
	}
	if len(org) != 10 || !allDigits(org) {
		return invalid("the organisation number is not 10 digits")
	}
	if !luhnValid(org) {
		return invalid("the organisation number has a wrong check digit")
	}
	if local == "" {
		return invalid("no local part")
	}
	for _, r := range local {
		if !strings.ContainsRune(hsaLocalChars, r) {
			return invalid(fmt.Sprintf("the local part holds %q", r))
		}
	}
	return HSAID{value: s, org: org}, nil
}

// String returns the HSA-id as given.
func (h HSAID) String() string { return h.value }

// IsZero reports whether h holds no HSA-id.
func (h HSAID) IsZero() bool { return h.value == "" }

// OrgNumber returns the 10-digit organisation number within the HSA-id.
func (h HSAID) OrgNumber() string { return h.org }

// ValidOrgNumber reports whether s is a 10-digit Swedish organisation number
// with a valid check digit.
func ValidOrgNumber(s string) bool { return len(s) == 10 && allDigits(s) && luhnValid(s) }
