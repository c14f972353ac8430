package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	gosync "sync"
	"testing"
)

// The built binary runs as the in-process tests run it: main hands the
// command line to run and exits with its status.
func TestBinary(t *testing.T) {
	t.Parallel()
	bin := builtBinary(t)

	// env is the process's environment without a configuration, so that
	// LOCKWORKER_CONFIG of the one running the tests cannot leak in.
	env := append(os.Environ(), "LOCKWORKER_CONFIG=")
	tests := []struct {
		args       []string
		wantCode   int
		wantStdout string
		wantStderr string
	}{
		{[]string{"version"}, exitOK, "lockworker v1.2.3-test\n", ""},
		{[]string{"demo"}, exitOK, "3 resolved, 2 noop, 1 waiting, 5 manual, 0 error\n", ""},
		{[]string{"sync"}, exitUsage, "", "lockworker: no configuration"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			cmd := exec.CommandContext(t.Context(), bin, tt.args...)
			cmd.Env, cmd.Stdout, cmd.Stderr = env, &stdout, &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			if err != nil && !errors.As(err, &exit) {
				t.Fatalf("run %s: %v", bin, err)
			}
			if code := cmd.ProcessState.ExitCode(); code != tt.wantCode {
				t.Errorf("lockworker %s exited %d, want %d; stderr:\n%s", strings.Join(tt.args, " "), code, tt.wantCode, stderr.String())
			}
			if !strings.HasSuffix(stdout.String(), tt.wantStdout) || !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("lockworker %s: stdout ending %q, stderr %q; want stdout ending %q, stderr holding %q",
					strings.Join(tt.args, " "), lastLine(stdout.String()), stderr.String(), tt.wantStdout, tt.wantStderr)
			}
			assertNoPersonnummer(t, "standard error of the binary", stderr.String())
		})
	}
}

// lastLine returns the last line of s.
func lastLine(s string) string {
	s = strings.TrimSuffix(s, "\n")
	return s[strings.LastIndex(s, "\n")+1:]
}

// binary builds lockworker once per test process, with the version
// v1.2.3-test, into the directory of the test binary: `go test` runs that
// from its work directory and removes it afterwards.
var binary = gosync.OnceValues(func() (string, error) {
	exe, err := os.Executable()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(filepath.Dir(exe), "lockworker")
	build := exec.Command("go", "build", "-o", bin, "-ldflags", "-X main.version=v1.2.3-test", ".")
	if out, err := build.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build: %w\n%s", err, out)
	}
	return bin, nil
})

// builtBinary returns the built lockworker, or skips a -short run, which
// builds nothing.
func builtBinary(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin, err := binary()
	if err != nil {
		t.Fatalf("build lockworker: %v", err)
	}
	return bin
}
