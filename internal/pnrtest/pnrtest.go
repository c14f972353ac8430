// Package pnrtest finds personnummer in clear in what lockworker wrote, for
// the tests that prove none reaches a log line, a comment or an output that
// was not asked to reveal one. It is one scanner, proven once, that every
// such test uses.
package pnrtest

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/lockworker/lockworker"
)

var (
	digitRun = regexp.MustCompile(`[0-9]+`)
	// notPersonal are tokens that hold digits but, by construction, no
	// personnummer: pseudonyms, pass ids, durations in nanoseconds, and the
	// first directory under the temporary directory (t.TempDir and the demo
	// name theirs with random digits). They are masked before the scan so
	// that their digits cannot pass for a personnummer by chance (about one
	// pseudonym in 10,000 holds ten digits that make a valid one).
	notPersonal = regexp.MustCompile(strings.Join([]string{
		`pn-[0-9a-f]{16}`,
		`[0-9]{8}T[0-9]{6}-[0-9a-f]{6}`,
		`"duration_ns": *[0-9]+`,
		regexp.QuoteMeta(filepath.Clean(os.TempDir())) + `/[^/\s"]*`,
	}, "|"))
)

// Find returns every run of digits in text that is shaped like a
// personnummer (10 or 12 digits, or 6 or 8 digits, '-' or '+' and 4 digits)
// and that ParsePersonnummer accepts at now.
func Find(text string, now time.Time) []string {
	text = notPersonal.ReplaceAllString(text, "…")
	runs := digitRun.FindAllStringIndex(text, -1)
	var found []string
	for i, r := range runs {
		var candidate string
		switch n := r[1] - r[0]; {
		case n == 10 || n == 12:
			candidate = text[r[0]:r[1]]
		case (n == 6 || n == 8) && i+1 < len(runs):
			next := runs[i+1]
			if sep := text[r[1]]; (sep == '-' || sep == '+') && next[0] == r[1]+1 && next[1]-next[0] == 4 {
				candidate = text[r[0]:next[1]]
			}
		}
		if candidate == "" {
			continue
		}
		if _, err := lockworker.ParsePersonnummer(candidate, now); err == nil {
			found = append(found, candidate)
		}
	}
	return found
}

// AssertNone fails the test if text holds a personnummer in clear at now.
func AssertNone(t testing.TB, what, text string, now time.Time) {
	t.Helper()
	if found := Find(text, now); len(found) > 0 {
		t.Errorf("%s holds %d personnummer in clear: %q", what, len(found), found)
	}
}
