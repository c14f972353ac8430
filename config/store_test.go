package config

import (
	"strings"
	"testing"
)

// A command that reads only the lock store reads the lockstore and log
// sections alone: the regions' secrets may be missing from its environment.
func TestParseStoreOnlyNeedsNoRegionSecret(t *testing.T) {
	t.Parallel()
	doc := `
lockstore:
  driver: postgres
  dsn: ${LOCKSTORE_DSN}
  statement_timeout: 3s
regions:
  - code: "07"
    name: Region Kronoberg
    easit:
      url: http://127.0.0.1:9001
      api_key: ${EASIT_07_KEY}
  - code: "12"
    name: ${REGION_12_NAME}
log:
  level: warn
`
	env := func(name string) (string, bool) {
		if name == "LOCKSTORE_DSN" {
			return dsnSecret, true
		}
		return "", false
	}
	got, err := parseStoreOnly([]byte(doc), env)
	if err != nil {
		t.Fatalf("parseStoreOnly: %v", err)
	}
	if got.LockStore.Driver != "postgres" || got.LockStore.DSN.Reveal() != dsnSecret || got.LockStore.StatementTimeout.String() != "3s" ||
		got.LockStore.ConnectTimeout != Default().LockStore.ConnectTimeout || got.Log.Level != "warn" {
		t.Errorf("parseStoreOnly = %+v, want the lockstore and log sections with the defaults", got)
	}
	if len(got.Regions) != 1 || got.Regions["07"] != "Region Kronoberg" {
		t.Errorf("regions = %v, want 07 named and 12, whose name comes from the environment, left out", got.Regions)
	}

	// The lockstore section itself is checked, and its variables needed.
	for _, bad := range []struct{ doc, want string }{
		{"lockstore: {driver: mysql}", "lockstore.driver"},
		{"lockstore:\n  dsn: ${NOT_SET}", "NOT_SET"},
		{"lockstore: {dsnn: x}", "dsnn"},
		{"lockstore: {connect_timeout: -1s}", "lockstore.connect_timeout"},
	} {
		if _, err := parseStoreOnly([]byte(bad.doc), env); err == nil || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("parseStoreOnly(%q) = %v, want an error naming %s", bad.doc, err, bad.want)
		}
	}
}

func TestSQLitePathFromTheConfigurationsDirectory(t *testing.T) {
	t.Parallel()
	tests := []struct{ driver, dsn, want string }{
		{"sqlite", "lockworker.db", "/etc/lw/lockworker.db"},
		{"sqlite", "../var/lw.db?_pragma=busy_timeout(9000)", "/etc/var/lw.db?_pragma=busy_timeout(9000)"},
		{"sqlite", "file:data/lw.db?mode=rwc", "file:/etc/lw/data/lw.db?mode=rwc"},
		{"sqlite", "/var/lib/lockworker/lw.db", "/var/lib/lockworker/lw.db"},
		{"sqlite", "file:/var/lib/lw.db", "file:/var/lib/lw.db"},
		{"sqlite", ":memory:", ":memory:"},
		{"postgres", "postgres://db/lw", "postgres://db/lw"},
	}
	for _, tt := range tests {
		ls := LockStore{Driver: tt.driver, DSN: Secret(tt.dsn)}
		if got := ls.SQLitePathFrom("/etc/lw").Reveal(); got != tt.want {
			t.Errorf("%s DSN %q from /etc/lw = %q, want %q", tt.driver, tt.dsn, got, tt.want)
		}
	}
}
