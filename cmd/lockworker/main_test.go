package main

import (
	"bytes"
	"fmt"
	"regexp"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lockworker/lockworker"
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
	if want := "lockworker " + buildVersion() + "\n"; res.stdout != want {
		t.Errorf("lockworker version = %q, want %q", res.stdout, want)
	}
}

// Without a stamped version, the version comes from what the Go toolchain
// recorded of the build.
func TestVersionOf(t *testing.T) {
	t.Parallel()
	vcs := func(settings ...string) *debug.BuildInfo {
		info := &debug.BuildInfo{Main: debug.Module{Path: "github.com/lockworker/lockworker", Version: "(devel)"}}
		for i := 0; i < len(settings); i += 2 {
			info.Settings = append(info.Settings, debug.BuildSetting{Key: settings[i], Value: settings[i+1]})
		}
		return info
	}
	const rev = "3f2a9c1d4e5b6a7980112233445566778899aabb"
	tests := []struct {
		name    string
		stamped string
		info    *debug.BuildInfo
		want    string
	}{
		{"stamped with -ldflags", "v1.4.0", vcs("vcs.revision", rev), "v1.4.0"},
		{"installed at a module version", "", &debug.BuildInfo{Main: debug.Module{Version: "v1.3.2"}}, "v1.3.2"},
		{"built from a clean checkout", "", vcs("vcs", "git", "vcs.revision", rev, "vcs.time", "2026-11-30T13:05:00Z", "vcs.modified", "false"),
			"devel 3f2a9c1d4e5b (2026-11-30T13:05:00Z)"},
		{"built from a checkout with changes", "", vcs("vcs.revision", rev, "vcs.time", "2026-11-30T13:05:00Z", "vcs.modified", "true"),
			"devel 3f2a9c1d4e5b (2026-11-30T13:05:00Z, modified)"},
		{"a revision without a time", "", vcs("vcs.revision", "3f2a9c1"), "devel 3f2a9c1"},
		{"built without version control", "", vcs(), "devel (no version control information)"},
		{"no build information", "", nil, "devel (no build information)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := versionOf(tt.stamped, tt.info); got != tt.want {
				t.Errorf("versionOf(%q, …) = %q, want %q", tt.stamped, got, tt.want)
			}
		})
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
		{"a flag of demo --serve without it", []string{"demo", "--listen", "127.0.0.1:0"}, "--listen goes with --serve"},
		{"demo --serve adding no orders", []string{"demo", "--serve", "--every", "0s"}, "--every must be more than 0"},
		{"demo --serve on no schedule", []string{"demo", "--serve", "--listen", "127.0.0.1:0", "--schedule", "now and then"}, "schedule"},
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

// displayTime is a time as lockworker shows it to people.
var displayTime = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d (CET|CEST)$`)

// parseDisplayTime reads a time that lockworker showed to people, and fails
// unless it has the form of lockworker.DisplayTime.
func parseDisplayTime(s string) (time.Time, error) {
	if !displayTime.MatchString(s) {
		return time.Time{}, fmt.Errorf("%q is not shown as 2026-11-30 14:05 CET", s)
	}
	return time.ParseInLocation("2006-01-02 15:04 MST", s, lockworker.Stockholm)
}
