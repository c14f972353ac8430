package main

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/lockworker/lockworker/internal/pnrtest"
	"github.com/lockworker/lockworker/lockstore/lockstoretest"
)

// privacyStores are the databases the privacy tests run on.
var privacyStores = []struct {
	driver string
	dsn    func(testing.TB) string
}{
	{"sqlite", lockstoretest.SQLiteDSN},
	{"postgres", lockstoretest.PostgresDSN}, // skipped without a test PostgreSQL, unless CI=true
}

// privacyPass runs a pass like the demo's: locks, an unlock, a manual
// order, a child; and a second pass.
func privacyPass(e *env) {
	e.t.Helper()
	e.accounts(adult, otherAdult, child)
	e.order("07", "55", lockKind, adult)
	e.order("07", "56", lockKind, child)
	e.order("12", "101", lockKind, noAccount)
	e.order("12", "102", lockKind, otherAdult)
	e.sync()
	e.order("12", "103", unlockKind, otherAdult)
	e.sync()
}

// assertStoreHoldsNoNumber fails the test if a copy of the env's store holds
// a personnummer in clear.
func assertStoreHoldsNoNumber(t *testing.T, e *env) {
	t.Helper()
	dump := lockstoretest.Dump(t, e.driver, e.dsn)
	for _, n := range []string{adult, otherAdult, child, noAccount} {
		if strings.Contains(dump, n) || strings.Contains(dump, n[2:]) {
			t.Errorf("a copy of the %s store holds %s in clear", e.driver, n)
		}
	}
	pnrtest.AssertNone(t, "a copy of the "+e.driver+" store", dump, time.Now())
}

// After a pass like the demo's, neither the SQLite files nor a pg_dump hold a
// personnummer in clear, and every lookup still works.
func TestNoPersonnummerInClearInTheStore(t *testing.T) {
	t.Parallel()
	for _, store := range privacyStores {
		t.Run(store.driver, func(t *testing.T) {
			t.Parallel()
			e := setupStore(t, store.driver, store.dsn(t))
			privacyPass(e)
			assertStoreHoldsNoNumber(t, e)
			if state := e.status(adult); state["locked"] != true || state["ticket"] != "55" {
				t.Errorf("status of the adult = %v, want locked by ticket 55", state)
			}
			if state := e.status(otherAdult); state["locked"] != false {
				t.Errorf("status of the other adult = %v, want unlocked", state)
			}
			res := e.run("audit", "--reveal")
			if res.code != exitOK || !strings.Contains(res.stdout, adult) || !strings.Contains(res.stdout, otherAdult) {
				t.Errorf("audit --reveal = %d, stdout:\n%s\nwant the numbers in clear", res.code, res.stdout)
			}
		})
	}
}

// Without a configured key, lockworker makes its keys beside an SQLite
// store, 0600, says where, and reads them at the next start.
func TestSQLiteKeysAreMadeBesideTheStore(t *testing.T) {
	t.Parallel()
	e := setup(t)
	data, err := os.ReadFile(e.config)
	if err != nil {
		t.Fatal(err)
	}
	var kept []string
	for _, line := range strings.Split(string(data), "\n") {
		if !strings.Contains(line, "data_key_file:") && !strings.Contains(line, "audit:") && !strings.Contains(line, "audit.key") {
			kept = append(kept, line)
		}
	}
	e.write("lockworker.yaml", strings.Join(kept, "\n"))

	res := e.run("status", adult)
	if res.code != exitFailed || !strings.Contains(res.stderr, "no lock store") {
		t.Errorf("status before any store = %d, stderr %q; want 1 and no lock store", res.code, res.stderr)
	}
	file := e.write("accounts.txt", adult+"\n")
	res = e.run("accounts", "import", file)
	for _, keyFile := range []string{e.dsn + ".data-key", e.dsn + ".audit-key"} {
		if res.code != exitOK || !strings.Contains(res.stderr, keyFile) {
			t.Errorf("the first accounts import = %d, stderr %q; want 0 and the key file named", res.code, res.stderr)
		}
		info, err := os.Stat(keyFile)
		if err != nil || info.Mode().Perm() != 0o600 {
			t.Fatalf("the key beside the store: %v, %v; want a file 0600", info, err)
		}
		key, err := readKeyFile(keyFile)
		if err != nil || len(key) < 32 {
			t.Fatalf("the key made beside the store: %d bytes, %v", len(key), err)
		}
	}
	e.order("07", "55", lockKind, adult)
	if res := e.sync(); strings.Contains(res.stderr, "made a key") {
		t.Errorf("the second start made a key again: %s", res.stderr)
	}
	if state := e.status(adult); state["locked"] != true {
		t.Errorf("status after the pass = %v, want locked", state)
	}
	assertStoreHoldsNoNumber(t, e)
}

// rotate-key seals every number under the new key; the store then opens
// with that key alone, and every lookup works.
func TestRotateKey(t *testing.T) {
	t.Parallel()
	for _, store := range privacyStores {
		t.Run(store.driver, func(t *testing.T) {
			t.Parallel()
			e := setupStore(t, store.driver, store.dsn(t))
			privacyPass(e)
			before := e.run("audit", "--reveal")

			if res := e.run("rotate-key", "--new-key-file", e.write("short.key", "short\n")); res.code != exitUsage {
				t.Errorf("rotate-key with a short key = %d, want %d", res.code, exitUsage)
			}
			newKey := e.write("data-2.key", "the second data key of the tests, 32 bytes or more\n")
			res := e.run("rotate-key", "--new-key-file", newKey)
			if res.code != exitOK || !strings.Contains(res.stdout, "sealed under the new key") {
				t.Fatalf("rotate-key = %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
			}
			// With the old key the store is refused, not read as empty.
			if res := e.run("status", adult); res.code != exitFailed || !strings.Contains(res.stderr, "data key") {
				t.Errorf("status with the old key = %d, stderr %q; want 1 and the key named", res.code, res.stderr)
			}
			e.editConfig(e.dir+"/data.key", newKey)
			if state := e.status(adult); state["locked"] != true || state["ticket"] != "55" {
				t.Errorf("status after rotating = %v, want locked by ticket 55", state)
			}
			if after := e.run("audit", "--reveal"); after.stdout != before.stdout {
				t.Errorf("the audit trail after rotating:\n%s\nbefore:\n%s", after.stdout, before.stdout)
			}
			// Lookups by the new hash: the account is found, the lock is
			// lifted, and the one active lock per person still holds.
			e.order("07", "57", unlockKind, adult)
			e.sync()
			if state := e.status(adult); state["locked"] != false {
				t.Errorf("status after the unlock = %v, want unlocked", state)
			}
			// The rotation is in the audit trail, whose chain still holds.
			if res := e.run("audit", "verify"); res.code != exitOK {
				t.Errorf("audit verify after rotating = %d, stderr %q", res.code, res.stderr)
			}
			assertStoreHoldsNoNumber(t, e)
		})
	}
}
