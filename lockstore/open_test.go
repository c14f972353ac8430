package lockstore_test

import (
	"context"
	"database/sql"
	"gorm.io/gorm"
	"net/url"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lockworker/lockworker/lockstore"
	"github.com/lockworker/lockworker/lockstore/lockstoretest"
)

func TestSQLiteDSN(t *testing.T) {
	t.Parallel()
	ours := []string{"busy_timeout(5000)", "journal_mode(WAL)", "synchronous(FULL)", "secure_delete(ON)"}
	tests := []struct {
		name      string
		dsn       string
		wantPath  string
		wantQuery url.Values
	}{
		{
			name:      "a file path",
			dsn:       "/var/lib/lockworker/lockworker.db",
			wantPath:  "/var/lib/lockworker/lockworker.db",
			wantQuery: url.Values{"_pragma": ours, "_txlock": {"immediate"}},
		},
		{
			name:      "a file: URI keeps its parameters",
			dsn:       "file:/data/lw.db?mode=rwc&_pragma=cache_size(-8000)",
			wantPath:  "file:/data/lw.db",
			wantQuery: url.Values{"mode": {"rwc"}, "_pragma": append([]string{"cache_size(-8000)"}, ours...), "_txlock": {"immediate"}},
		},
		{
			name:     "the caller's settings take precedence over ours",
			dsn:      "file:lw.db?_pragma=busy_timeout(20000)&_pragma=SYNCHRONOUS=EXTRA&_txlock=exclusive",
			wantPath: "file:lw.db",
			wantQuery: url.Values{
				"_pragma": {"busy_timeout(20000)", "SYNCHRONOUS=EXTRA", "journal_mode(WAL)", "secure_delete(ON)"},
				"_txlock": {"exclusive"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := lockstore.BuildSQLiteDSN(tt.dsn)
			if err != nil {
				t.Fatal(err)
			}
			path, rawQuery, _ := strings.Cut(got, "?")
			query, err := url.ParseQuery(rawQuery)
			if err != nil {
				t.Fatal(err)
			}
			if path != tt.wantPath || !reflect.DeepEqual(query, tt.wantQuery) {
				t.Errorf("DSN %q = path %q, query %v; want %q, %v", tt.dsn, path, query, tt.wantPath, tt.wantQuery)
			}
		})
	}

	for _, dsn := range []string{"", "lw.db?_pragma=%zz"} {
		if got, err := lockstore.BuildSQLiteDSN(dsn); err == nil {
			t.Errorf("DSN %q = %q, want an error", dsn, got)
		}
	}
}

func TestSQLitePragmasOnEveryConnection(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		dsn   func(t *testing.T) string
		extra map[string]string // the caller's pragmas, by name and value
	}{
		{"a file path", func(t *testing.T) string { return lockstoretest.SQLiteDSN(t) }, nil},
		{
			"a file: URI with pragmas of its own",
			func(t *testing.T) string { return "file:" + lockstoretest.SQLiteDSN(t) + "?_pragma=cache_size(-4000)" },
			map[string]string{"cache_size": "-4000"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s := lockstoretest.Open(t, "sqlite", tt.dsn(t), lockstore.Options{})
			want := map[string]string{"journal_mode": "wal", "synchronous": "2", "busy_timeout": "5000"}
			for name, value := range tt.extra {
				want[name] = value
			}
			// The one writer connection, and connections of the read pool
			// held at once, which are distinct connections.
			for _, pool := range []struct {
				db        *gorm.DB
				conns     int
				queryOnly string
			}{{s.DB(), 1, "0"}, {s.ReadsDB(), 3, "1"}} {
				db, err := pool.db.DB()
				if err != nil {
					t.Fatal(err)
				}
				want["query_only"] = pool.queryOnly
				for i := range pool.conns {
					conn, err := db.Conn(t.Context())
					if err != nil {
						t.Fatal(err)
					}
					defer conn.Close()
					for name, value := range want {
						var got string
						if err := conn.QueryRowContext(t.Context(), "PRAGMA "+name).Scan(&got); err != nil {
							t.Fatalf("connection %d: PRAGMA %s: %v", i, name, err)
						}
						if got != value {
							t.Errorf("connection %d: %s = %s, want %s", i, name, got, value)
						}
					}
				}
			}
		})
	}
}

func TestSQLiteWritersLockAtBegin(t *testing.T) {
	t.Parallel()
	path := lockstoretest.SQLiteDSN(t)
	s := lockstoretest.Open(t, "sqlite", path, lockstore.Options{})
	// Another process, which does not wait for locks.
	other, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(0)")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	otherConn, err := other.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer otherConn.Close()

	tx := s.DB().Begin()
	if tx.Error != nil {
		t.Fatal(tx.Error)
	}
	// The store's transaction has written nothing yet, and still holds the
	// write lock.
	if _, err := otherConn.ExecContext(t.Context(), "BEGIN IMMEDIATE"); err == nil || !strings.Contains(err.Error(), "locked") {
		t.Fatalf("another writer began while the store's transaction was open: %v", err)
	}
	if err := tx.Rollback().Error; err != nil {
		t.Fatal(err)
	}
	if _, err := otherConn.ExecContext(t.Context(), "BEGIN IMMEDIATE"); err != nil {
		t.Errorf("another writer could not begin once the store's transaction ended: %v", err)
	}
	if _, err := otherConn.ExecContext(t.Context(), "ROLLBACK"); err != nil {
		t.Error(err)
	}
}

// A store opening while another process holds the SQLite file's write lock
// for longer than the busy timeout (a slow disk, a busy machine) waits for
// its turn to migrate, rather than failing to start.
func TestSQLiteOpenWaitsOutABusyFile(t *testing.T) {
	t.Parallel()
	path := lockstoretest.SQLiteDSN(t)
	first := lockstoretest.Open(t, "sqlite", path, lockstore.Options{})
	if err := first.Close(); err != nil {
		t.Fatal(err)
	}
	other, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	holder, err := other.Conn(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer holder.Close()
	if _, err := holder.ExecContext(t.Context(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	const held = 500 * time.Millisecond
	released := make(chan error, 1)
	go func() {
		time.Sleep(held)
		_, err := holder.ExecContext(context.Background(), "ROLLBACK")
		released <- err
	}()

	// A busy timeout far shorter than the lock is held.
	s, err := lockstore.Open(t.Context(), "sqlite", path+"?_pragma=busy_timeout(50)", lockstoretest.Keyed(lockstore.Options{}))
	if err != nil {
		t.Fatalf("Open while the file was busy for %s: %v", held, err)
	}
	if err := s.Close(); err != nil {
		t.Error(err)
	}
	if err := <-released; err != nil {
		t.Error(err)
	}
}

func TestOpenRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		driver  string
		dsn     func(t *testing.T) string
		wantErr string // in the error
	}{
		{"an unknown driver", "mysql", func(t *testing.T) string { return "lw" }, "unknown driver"},
		{"an empty sqlite DSN", "sqlite", func(t *testing.T) string { return "" }, "empty"},
		{"an sqlite database in memory", "sqlite", func(t *testing.T) string { return ":memory:" }, "not be durable"},
		{"an sqlite database without synchronous=FULL", "sqlite", func(t *testing.T) string {
			return lockstoretest.SQLiteDSN(t) + "?_pragma=synchronous(NORMAL)"
		}, "not be durable"},
		{"an sqlite database not in WAL mode", "sqlite", func(t *testing.T) string {
			return "file:" + lockstoretest.SQLiteDSN(t) + "?_pragma=journal_mode(DELETE)"
		}, "not be durable"},
		{"an sqlite database in a directory that does not exist", "sqlite", func(t *testing.T) string {
			return filepath.Join(t.TempDir(), "missing", "lw.db")
		}, "unable to open"},
		{"a postgres DSN that is not one", "postgres", func(t *testing.T) string { return "postgres://[::1" }, "cannot be parsed"},
		{"a postgres session without synchronous_commit", "postgres", func(t *testing.T) string {
			return lockstoretest.PostgresDSN(t) + "&synchronous_commit=off"
		}, "not be durable"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, err := lockstore.Open(t.Context(), tt.driver, tt.dsn(t), lockstoretest.Keyed(lockstore.Options{}))
			if err == nil {
				s.Close()
				t.Fatalf("Open: no error, want one about %q", tt.wantErr)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Open: %v, want an error about %q", err, tt.wantErr)
			}
		})
	}
}
