package lockworker

import (
	"errors"
	"fmt"
	"strings"
)

// ErrInvalidHSAID is matched by every error of ParseHSAID. The errors never
// repeat the input, so that they can be logged even when a personnummer was
// typed into an HSA-id field.
var ErrInvalidHSAID = errors.New("invalid HSA-id")

// HSAIDRule is a rule of the HSA-id that a text can break.
type HSAIDRule int

// The rules of an HSA-id, in the order ParseHSAID checks them.
const (
	HSAIDLength           HSAIDRule = iota + 1 // more than 31 characters
	HSAIDPrefix                                // not starting with "SE"
	HSAIDSeparator                             // no "-" after the organisation number
	HSAIDOrgNumber                             // the organisation number is not 10 digits
	HSAIDOrgNumberCheck                        // the organisation number's check digit is wrong
	HSAIDLocalPartMissing                      // nothing after the "-"
	HSAIDLocalPartChars                        // the local part holds a character it may not
)

// HSAIDError is an error of ParseHSAID: the rule the text breaks.
type HSAIDError struct {
	Rule   HSAIDRule
	Detail string // how the rule is broken, in English
}

func (e *HSAIDError) Error() string { return ErrInvalidHSAID.Error() + ": " + e.Detail }

// Is makes every HSAIDError match ErrInvalidHSAID.
func (e *HSAIDError) Is(target error) bool { return target == ErrInvalidHSAID }

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
	invalid := func(rule HSAIDRule, detail string) (HSAID, error) {
		return HSAID{}, &HSAIDError{Rule: rule, Detail: detail}
	}
	if len(s) > 31 {
		return invalid(HSAIDLength, "longer than 31 characters")
	}
	rest, ok := strings.CutPrefix(s, "SE")
	if !ok {
		return invalid(HSAIDPrefix, `does not start with "SE"`)
	}
	org, local, ok := strings.Cut(rest, "-")
	if !ok {
		return invalid(HSAIDSeparator, `no "-" after the organisation number`)
	}
	if len(org) == 12 && strings.HasPrefix(org, "16") {
		org = org[2:]
	}
	if len(org) != 10 || !allDigits(org) {
		return invalid(HSAIDOrgNumber, "the organisation number is not 10 digits")
	}
	if !luhnValid(org) {
		return invalid(HSAIDOrgNumberCheck, "the organisation number has a wrong check digit")
	}
	if local == "" {
		return invalid(HSAIDLocalPartMissing, "no local part")
	}
	for _, r := range local {
		if !strings.ContainsRune(hsaLocalChars, r) {
			return invalid(HSAIDLocalPartChars, fmt.Sprintf("the local part holds %q", r))
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
