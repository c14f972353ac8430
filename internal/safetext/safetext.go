// Package safetext makes text that came from outside lockworker (a ticket
// system, a form service, an HTTP client, a file) safe to show: Escape writes
// its control characters as visible escapes before it reaches a terminal,
// and a Hider takes the configured secrets out of it, in every form a peer
// may echo them, before it reaches a log line or an operator.
package safetext

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Escape returns s with every character that could steer a terminal or
// disguise a line written as a visible escape: C0 and C1 controls and DEL
// (escape sequences, carriage returns, newlines that forge rows), Unicode
// format characters (bidirectional overrides, zero-width joiners), the line
// and paragraph separators, and bytes that are not UTF-8. A tab is escaped
// too, since it shifts a table's columns. Everything else, Swedish letters
// included, is kept as it is.
//
// The escapes are Go's: \n, \t, \x1b, \u202e. Escape(s) == s exactly when
// Clean(s).
func Escape(s string) string {
	if Clean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size <= 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case !unsafe(r):
			b.WriteString(s[i : i+size])
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r == '\t':
			b.WriteString(`\t`)
		case r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		default:
			fmt.Fprintf(&b, `\u%04x`, r)
		}
		i += size
	}
	return b.String()
}

// Clean reports whether s is valid UTF-8 without a character that Escape
// would escape.
func Clean(s string) bool {
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if (r == utf8.RuneError && size <= 1) || unsafe(r) {
			return false
		}
		i += size
	}
	return true
}

// unsafe reports whether r must not reach a terminal as it is.
func unsafe(r rune) bool {
	return unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == '\u2028' || r == '\u2029'
}
