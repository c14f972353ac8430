package lockstoretest

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// Dump returns what a copy of the lock store at dsn would give someone who
// took it: for SQLite the bytes of the database file and its WAL, for
// PostgreSQL the output of pg_dump of the test's schema. Tests scan it for
// personnummer in clear.
func Dump(t testing.TB, driver, dsn string) string {
	t.Helper()
	if driver == "sqlite" {
		var b strings.Builder
		for _, suffix := range []string{"", "-wal"} {
			data, err := os.ReadFile(dsn + suffix)
			if err != nil && !os.IsNotExist(err) {
				t.Fatalf("read the store's files: %v", err)
			}
			b.Write(data)
		}
		return b.String()
	}
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("the DSN is not a URL: %v", err)
	}
	q := u.Query()
	schema := q.Get("search_path")
	// pg_dump takes libpq's parameters only.
	q.Del("search_path")
	u.RawQuery = q.Encode()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "pg_dump", "--dbname="+u.String(), "--schema="+schema).Output()
	if err != nil {
		t.Fatalf("pg_dump --schema=%s: %v", schema, err)
	}
	return string(out)
}
