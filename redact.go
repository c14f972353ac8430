package lockworker

import "regexp"

// numberShaped matches what could be a personnummer written in any of its
// accepted forms: 10 or 12 digits, or 6 or 8 digits, '-' or '+', and 4
// digits, standing alone among other digits.
var numberShaped = regexp.MustCompile(`(^|[^0-9])([0-9]{6}(?:[0-9]{2})?[-+]?[0-9]{4})([^0-9]|$)`)

// Redact replaces whatever could be a personnummer in s (a run of digits
// shaped like one, with a valid check digit) by "<personnummer>". It is for
// text that lockworker did not write itself, such as what an outside system
// said in an error, before it reaches a log line or an operator: it may hide
// a number that was no personnummer, never show one that was.
func Redact(s string) string {
	// A match consumes the character before and after it, so neighbours
	// sharing one separator need a second round.
	for range 2 {
		s = numberShaped.ReplaceAllStringFunc(s, func(m string) string {
			sub := numberShaped.FindStringSubmatch(m)
			digits := make([]byte, 0, 12)
			for i := 0; i < len(sub[2]); i++ {
				if c := sub[2][i]; c >= '0' && c <= '9' {
					digits = append(digits, c)
				}
			}
			if !luhnValid(string(digits[len(digits)-10:])) {
				return m
			}
			return sub[1] + "<personnummer>" + sub[3]
		})
	}
	return s
}
