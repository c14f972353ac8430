package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lockworker/lockworker"
)

// result is what one run of the command line gave.
type result struct {
	code           int
	stdout, stderr string
}

// runCLI runs the command line in-process with args and the environment
// getenv, as main does. Whatever the command, its standard error (the JSON
// logs and the error messages) must hold no personnummer in clear; nor may
// its standard output, unless it is the demo, whose sample numbers may be
// shown, or the operator asked with --reveal (SPEC §5).
func runCLI(t *testing.T, getenv func(string) (string, bool), args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), args, &stdout, &stderr, getenv)
	res := result{code: code, stdout: stdout.String(), stderr: stderr.String()}
	assertNoPersonnummer(t, "standard error of lockworker "+strings.Join(args, " "), res.stderr)
	if !slices.Contains(args, "demo") && !slices.Contains(args, "--reveal") {
		assertNoPersonnummer(t, "standard output of lockworker "+strings.Join(args, " "), res.stdout)
	}
	return res
}

// noEnv is an empty environment.
func noEnv(string) (string, bool) { return "", false }

// assertNoPersonnummer fails the test if text holds a personnummer in clear.
func assertNoPersonnummer(t *testing.T, what, text string) {
	t.Helper()
	if found := personnummerIn(text); len(found) > 0 {
		t.Errorf("%s holds %d personnummer in clear (%q):\n%s", what, len(found), found, text)
	}
}

var (
	digitRun = regexp.MustCompile(`[0-9]+`)
	// notPersonal are tokens that hold digits but, by construction, no
	// personnummer: pseudonyms, pass ids, durations in nanoseconds, and the
	// first directory under the temporary directory (t.TempDir and the demo
	// name theirs with random digits). They are masked before the scan so
	// that their digits cannot pass for a personnummer by chance.
	notPersonal = regexp.MustCompile(strings.Join([]string{
		`pn-[0-9a-f]{16}`,
		`[0-9]{8}T[0-9]{6}-[0-9a-f]{6}`,
		`"duration_ns": *[0-9]+`,
		regexp.QuoteMeta(filepath.Clean(os.TempDir())) + `/[^/\s"]*`,
	}, "|"))
)

// personnummerIn returns every run of digits in text that is shaped like a
// personnummer (10 or 12 digits, or 6 or 8 digits, '-' or '+' and 4 digits)
// and that ParsePersonnummer accepts.
func personnummerIn(text string) []string {
	text = notPersonal.ReplaceAllString(text, "…")
	runs := digitRun.FindAllStringIndex(text, -1)
	now := time.Now()
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

// The scan that every test relies on finds what it must and nothing else.
func TestPersonnummerIn(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, text string
		want       []string
	}{
		{"12 digits in a JSON log", `{"level":"info","personnummer":"199908072391"}`, []string{"199908072391"}},
		{"12 digits with a hyphen", "patient 19990807-2391.", []string{"19990807-2391"}},
		{"10 digits with a hyphen", "patient 990807-2391", []string{"990807-2391"}},
		{"10 digits with a plus", "born 1890: 900101+9802", []string{"900101+9802"}},
		{"10 digits bare", "pnr=9908072391", []string{"9908072391"}},
		{"glued to letters", "pnr199908072391x", []string{"199908072391"}},
		{"two in one line", "196408233234 and 200001012384", []string{"196408233234", "200001012384"}},
		{"a samordningsnummer", "191711602399", []string{"191711602399"}},
		{"a wrong check digit", "19990807-2392", nil},
		{"13 digits", "1199908072391", nil},
		{"a separator inside the date", "1999-08072391", nil},
		{"an organisation number", "SE2321000065-L55", nil},
		{"a pseudonym", `"person":"pn-0123456789abcdef"`, nil},
		{"a timestamp", `"time":"2026-11-23T12:45:12+01:00"`, nil},
		{"a pass id", `"pass":"20261123T100512-8301ab"`, nil},
		{"a temporary directory", filepath.Join(os.TempDir(), "TestX9908072391", "001", "lockworker.yaml"), nil},
		{"a path that holds one", "/srv/9908072391/lockworker.yaml", []string{"9908072391"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := personnummerIn(tt.text); !slices.Equal(got, tt.want) {
				t.Errorf("personnummerIn(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	res := runCLI(t, noEnv, "version")
	version, ok := strings.CutPrefix(res.stdout, "lockworker ")
	if res.code != exitOK || !ok || strings.TrimSpace(version) == "" || !strings.HasSuffix(version, "\n") {
		t.Errorf("lockworker version = %d, %q; want 0 and \"lockworker \" and a version on one line", res.code, res.stdout)
	}
}

// A mistake on the command line is exit status 2 with a message that says
// what is wrong, whatever the command; it runs nothing.
func TestUsageErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		args    []string
		wantErr string
	}{
		{"an unknown command", []string{"frobnicate"}, `unknown command "frobnicate"`},
		{"an unknown subcommand", []string{"accounts", "improt", "accounts.txt"}, `unknown command "improt" for "lockworker accounts"`},
		{"an unknown flag", []string{"version", "--verbose"}, "unknown flag: --verbose"},
		{"an argument too many", []string{"version", "now"}, "takes 0 argument(s), got 1"},
		{"an argument too few", []string{"accounts", "import"}, "takes 1 argument(s), got 0"},
		{"a demo log level that is none", []string{"demo", "--log-level", "chatty"}, "--log-level"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			res := runCLI(t, noEnv, tt.args...)
			if res.code != exitUsage || !strings.Contains(res.stderr, tt.wantErr) {
				t.Errorf("lockworker %s = %d, stderr %q; want %d and %q", strings.Join(tt.args, " "), res.code, res.stderr, exitUsage, tt.wantErr)
			}
			if res.stdout != "" {
				t.Errorf("lockworker %s printed %q on standard output, want nothing", strings.Join(tt.args, " "), res.stdout)
			}
		})
	}
}

// Called alone, a command that groups others shows its help.
func TestHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{{}, {"accounts"}, {"sync", "--help"}} {
		res := runCLI(t, noEnv, args...)
		if res.code != exitOK || !strings.Contains(res.stdout, "Usage:") {
			t.Errorf("lockworker %s = %d, %q; want 0 and the help", strings.Join(args, " "), res.code, res.stdout)
		}
	}
}
