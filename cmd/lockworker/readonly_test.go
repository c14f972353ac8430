package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A relative SQLite path is the configuration file's neighbour, whatever the
// working directory: `status` run from elsewhere finds the lock, and creates
// no store where it runs.
func TestARelativeSQLitePathIsRelativeToTheConfiguration(t *testing.T) {
	t.Parallel()
	bin := builtBinary(t)
	e := setupStore(t, "sqlite", "lockworker.db")
	e.accounts(adult)
	e.order("07", "55", lockKind, adult)
	e.sync()
	if _, err := os.Stat(filepath.Join(e.dir, "lockworker.db")); err != nil {
		t.Fatalf("the store is not beside the configuration: %v", err)
	}

	elsewhere := t.TempDir()
	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(t.Context(), bin, "status", adult, "--json", "--config", e.config)
	// No region's secret in the environment: status needs none.
	cmd.Dir, cmd.Env, cmd.Stdout, cmd.Stderr = elsewhere, []string{"LOCKWORKER_CONFIG="}, &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("lockworker status from another directory: %v; stderr:\n%s", err, stderr.String())
	}
	var state map[string]any
	if err := json.Unmarshal(stdout.Bytes(), &state); err != nil || state["locked"] != true {
		t.Errorf("status from another directory = %q (%v), want locked", stdout.String(), err)
	}
	if entries, _ := os.ReadDir(elsewhere); len(entries) != 0 {
		t.Errorf("status created %d files in the working directory: %v", len(entries), entries)
	}
	assertNoPersonnummer(t, "standard error of the binary", stderr.String())
}

// status, audit and sync --dry-run read the store as it is: with no store
// they fail and create none.
func TestAMissingStoreIsAnErrorAndIsNotCreated(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for _, args := range [][]string{
		{"status", adult},
		{"status", adult, "--json"},
		{"audit"},
		{"sync", "--dry-run"},
	} {
		res := e.run(args...)
		if res.code != exitFailed || !strings.Contains(res.stderr, "no lock store") || res.stdout != "" {
			t.Errorf("lockworker %s with no store = %d, stdout %q, stderr %q; want 1 and an error saying there is no lock store",
				strings.Join(args, " "), res.code, res.stdout, res.stderr)
		}
		if _, err := os.Stat(e.dsn); !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("lockworker %s created the store (stat: %v)", strings.Join(args, " "), err)
		}
	}

	// migrate creates it; then the readers read it.
	if res := e.run("migrate"); res.code != exitOK || !strings.Contains(res.stdout, "schema version") {
		t.Fatalf("migrate = %d, %q; stderr:\n%s", res.code, res.stdout, res.stderr)
	}
	if res := e.run("status", adult); res.code != exitOK || res.stdout != "not locked\n" {
		t.Errorf("status after migrate = %d, %q; want 0 and not locked; stderr:\n%s", res.code, res.stdout, res.stderr)
	}
}

// The commands that only read the store, and migrate, need the lockstore
// section alone: not a region's secret. A pass needs them all.
func TestReadingTheStoreNeedsNoRegionSecret(t *testing.T) {
	t.Parallel()
	e, _, _ := setupLocked(t)
	clear(e.vars) // the Easit keys are gone
	for _, args := range [][]string{
		{"status", adult, "--json"},
		{"audit", "--json"},
		{"migrate"},
	} {
		if res := e.run(args...); res.code != exitOK || res.stdout == "" {
			t.Errorf("lockworker %s without the regions' secrets = %d, %q; want 0 and an answer; stderr:\n%s",
				strings.Join(args, " "), res.code, res.stdout, res.stderr)
		}
	}
	if res := e.run("sync", "--dry-run"); res.code != exitUsage || !strings.Contains(res.stderr, "EASIT_07_KEY") {
		t.Errorf("sync --dry-run without the regions' secrets = %d, stderr %q; want 2 naming the missing variable", res.code, res.stderr)
	}
}
