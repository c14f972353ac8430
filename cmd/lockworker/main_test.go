package main

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lockworker/lockworker/internal/pnrtest"
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
// shown, the operator asked with --reveal (SPEC §5), or it is a resident's
// extract, which names the resident it was asked for.
func runCLI(t *testing.T, getenv func(string) (string, bool), args ...string) result {
	t.Helper()
	var stdout, stderr bytes.Buffer
	code := run(t.Context(), args, &stdout, &stderr, getenv)
	res := result{code: code, stdout: stdout.String(), stderr: stderr.String()}
	assertNoPersonnummer(t, "standard error of lockworker "+strings.Join(args, " "), res.stderr)
	if !slices.Contains(args, "demo") && !slices.Contains(args, "--reveal") && !slices.Contains(args, "extract") {
		assertNoPersonnummer(t, "standard output of lockworker "+strings.Join(args, " "), res.stdout)
	}
	return res
}

// noEnv is an empty environment.
func noEnv(string) (string, bool) { return "", false }

// assertNoPersonnummer fails the test if text holds a personnummer in clear.
func assertNoPersonnummer(t *testing.T, what, text string) {
	t.Helper()
	pnrtest.AssertNone(t, what, text, time.Now())
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
