// Package lockstoretest gives tests a real lock store on a fresh, empty
// database of their own: an SQLite file in the test's temporary directory, or
// a schema of its own in the test PostgreSQL, dropped when the test ends.
//
// The PostgreSQL database is named by the environment variable
// LOCKWORKER_TEST_POSTGRES (default DefaultPostgresURL). When it cannot be
// reached, the test is skipped, unless CI=true: in CI the PostgreSQL tests
// must run, so the test fails instead.
package lockstoretest

import (
	"context"
	"crypto/rand"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/lockworker/lockworker/lockstore"
)

// DefaultPostgresURL is the test PostgreSQL when LOCKWORKER_TEST_POSTGRES is
// not set.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// SQLiteDSN returns the DSN of a fresh SQLite database file in t.TempDir().
func SQLiteDSN(t testing.TB) string {
	t.Helper()
	return filepath.Join(t.TempDir(), "lockworker.db")
}

// PostgresDSN creates a fresh schema in the test PostgreSQL, drops it with
// all its tables when the test ends, and returns a DSN whose search_path is
// that schema.
func PostgresDSN(t testing.TB) string {
	t.Helper()
	base := os.Getenv("LOCKWORKER_TEST_POSTGRES")
	if base == "" {
		base = DefaultPostgresURL
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("connect to the test PostgreSQL (LOCKWORKER_TEST_POSTGRES): %v", err)
		}
		t.Skipf("no test PostgreSQL (set LOCKWORKER_TEST_POSTGRES): %v", err)
	}
	defer conn.Close(ctx)

	// rand.Text is letters and digits, so the name needs no quoting.
	schema := "lw_" + strings.ToLower(rand.Text())
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		// A fresh connection: the test's context and connection are gone.
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})

	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("LOCKWORKER_TEST_POSTGRES is not a URL: %v", err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// DataKey is the data key that Keyed gives stores of tests.
var DataKey = []byte("lockworker test data key, 32 bytes or more")

// AuditKey is the audit key that Keyed gives stores of tests.
var AuditKey = []byte("lockworker test audit key, 32 bytes or more")

// Keyed returns opts with DataKey and AuditKey where they have no key of
// their own.
func Keyed(opts lockstore.Options) lockstore.Options {
	if opts.DataKey == nil {
		opts.DataKey = DataKey
	}
	if opts.AuditKey == nil {
		opts.AuditKey = AuditKey
	}
	return opts
}

// Open opens a Store on dsn and closes it when the test ends. Options
// without keys get the test's (Keyed).
func Open(t testing.TB, driver, dsn string, opts lockstore.Options) *lockstore.Store {
	t.Helper()
	opts = Keyed(opts)
	s, err := lockstore.Open(t.Context(), driver, dsn, opts)
	if err != nil {
		t.Fatalf("open the %s lock store: %v", driver, err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close the %s lock store: %v", driver, err)
		}
	})
	return s
}

// OpenSQLite opens a Store on a fresh SQLite database.
func OpenSQLite(t testing.TB, opts lockstore.Options) *lockstore.Store {
	t.Helper()
	return Open(t, "sqlite", SQLiteDSN(t), opts)
}

// OpenPostgres opens a Store on a fresh schema of the test PostgreSQL, or
// skips the test (fails it in CI) when there is none.
func OpenPostgres(t testing.TB, opts lockstore.Options) *lockstore.Store {
	t.Helper()
	return Open(t, "postgres", PostgresDSN(t), opts)
}
