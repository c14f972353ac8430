package safetext_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/lockworker/lockworker/internal/safetext"
)

func TestEscape(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ in, want string }{
		{"55", "55"},
		{"Anmälare Åsa Öberg", "Anmälare Åsa Öberg"},
		{"\x1b[2J\x1b]0;owned\x07", `\x1b[2J\x1b]0;owned\x07`},
		{"55\nresolved", `55\nresolved`},
		{"a\rb\tc", `a\rb\tc`},
		{"nul\x00", `nul\x00`},
		{"del\x7f", `del\x7f`},
		{"c1\u009b31m", `c1\x9b31m`},
		{"bidi\u202eevil", `bidi\u202eevil`},
		{"zero\u200bwidth", `zero\u200bwidth`},
		{"sep\u2028line", `sep\u2028line`},
		{"bad\xffutf8", `bad\xffutf8`},
		{`already \x1b`, `already \x1b`},
	} {
		if got := safetext.Escape(tc.in); got != tc.want {
			t.Errorf("Escape(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if clean := safetext.Clean(tc.in); clean != (tc.in == tc.want) {
			t.Errorf("Clean(%q) = %v", tc.in, clean)
		}
	}
}

// FuzzEscape: whatever comes in, what goes out is valid UTF-8 that holds no
// character a terminal acts on, and text that needed no escape is kept.
func FuzzEscape(f *testing.F) {
	for _, seed := range []string{"55", "\x1b[31mALL REGIONS OK\x1b[0m", "55\n  07  resolved", "\u202e", "\xc3", "Åsa\x00", "\u0085"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		out := safetext.Escape(s)
		if !utf8.ValidString(out) {
			t.Fatalf("Escape(%q) = %q is not UTF-8", s, out)
		}
		if !safetext.Clean(out) {
			t.Fatalf("Escape(%q) = %q still holds a control character", s, out)
		}
		for _, r := range out {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
				t.Fatalf("Escape(%q) = %q holds %U", s, out, r)
			}
		}
		if safetext.Clean(s) != (out == s) {
			t.Fatalf("Escape(%q) = %q, but Clean says %v", s, out, safetext.Clean(s))
		}
		if safetext.Escape(out) != out {
			t.Fatalf("Escape is not idempotent on %q", out)
		}
	})
}

func TestHider(t *testing.T) {
	t.Parallel()
	const key = `Key/with"Quote+Plus-3Hq7Lw2Zt9Xc`
	h := safetext.NewHider("<api key>", key).With("<token>", "tok-Zm41Rt8Pd83Kq")
	for _, tc := range []struct{ name, text string }{
		{"as sent", "user=" + key},
		{"JSON-escaped", `{"user":"Key/with\"Quote+Plus-3Hq7Lw2Zt9Xc"}`},
		{"URL-encoded", "user=Key%2Fwith%22Quote%2BPlus-3Hq7Lw2Zt9Xc"},
		{"lower-cased", "user=" + strings.ToLower(key)},
		{"upper-cased", "USER=" + strings.ToUpper(key)},
		{"cut short", "user=" + key[:9] + "…"},
		{"Basic credentials", "Authorization: Basic S2V5L3dpdGgiUXVvdGUrUGx1cy0zSHE3THcyWnQ5WGM6"},
		{"the second secret", "Bearer TOK-ZM41RT8PD83KQ"},
	} {
		got := h.Hide(tc.text)
		for _, part := range []string{key[:6], strings.ToLower(key[:6]), "S2V5L3", "tok-Zm", "TOK-ZM", "Key%2F"} {
			if strings.Contains(got, part) {
				t.Errorf("%s: Hide(%q) = %q still shows %q", tc.name, tc.text, got, part)
			}
		}
		if !strings.Contains(got, "<api key>") && !strings.Contains(got, "<token>") {
			t.Errorf("%s: Hide(%q) = %q names no secret", tc.name, tc.text, got)
		}
	}
	if got := h.Hide("Key/w is short, and so is tok-Z"); got != "Key/w is short, and so is tok-Z" {
		t.Errorf("a beginning shorter than %d characters was hidden: %q", safetext.MinPrefix, got)
	}
	var zero *safetext.Hider
	if zero.Hide("anything") != "anything" {
		t.Error("the nil Hider changed its text")
	}
}
