package lockstoretest_test

import (
	"net/url"
	"os"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/lockworker/lockworker/lockstore"
	"github.com/lockworker/lockworker/lockstore/lockstoretest"
)

func TestOpenSQLite(t *testing.T) {
	t.Parallel()
	if a, b := lockstoretest.SQLiteDSN(t), lockstoretest.SQLiteDSN(t); a == b {
		t.Errorf("two databases share the file %s", a)
	}
	s := lockstoretest.OpenSQLite(t, lockstore.Options{})
	if n, err := s.CountActiveLocks(t.Context()); err != nil || n != 0 {
		t.Errorf("CountActiveLocks on a fresh store = %d, %v; want 0", n, err)
	}
}

func TestPostgresSchemaIsDroppedAfterTheTest(t *testing.T) {
	t.Parallel()
	var schema string
	t.Run("a test", func(t *testing.T) {
		dsn := lockstoretest.PostgresDSN(t)
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		schema = u.Query().Get("search_path")
		s := lockstoretest.Open(t, "postgres", dsn, lockstore.Options{})
		if n, err := s.CountActiveLocks(t.Context()); err != nil || n != 0 {
			t.Errorf("CountActiveLocks on a fresh store = %d, %v; want 0", n, err)
		}
		if got := schemas(t, schema); got != 1 {
			t.Errorf("%d schemas named %q during the test, want 1", got, schema)
		}
	})
	if schema == "" {
		t.Skip("no test PostgreSQL")
	}
	if got := schemas(t, schema); got != 0 {
		t.Errorf("%d schemas named %q after the test, want 0", got, schema)
	}
}

// schemas counts the schemas named name in the test PostgreSQL.
func schemas(t *testing.T, name string) int {
	t.Helper()
	base := os.Getenv("LOCKWORKER_TEST_POSTGRES")
	if base == "" {
		base = lockstoretest.DefaultPostgresURL
	}
	conn, err := pgx.Connect(t.Context(), base)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(t.Context())
	var n int
	if err := conn.QueryRow(t.Context(), "SELECT count(*) FROM pg_namespace WHERE nspname = $1", name).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}
