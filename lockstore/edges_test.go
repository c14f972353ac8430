package lockstore_test

import (
	"context"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/lockworker/lockworker"
	"github.com/lockworker/lockworker/lockstore"
	"github.com/lockworker/lockworker/lockstore/lockstoretest"
)

// A store that answers but cannot write fails CheckWrite, on both
// databases; one that can passes it and keeps nothing of the probe.
func TestCheckWriteFindsAStoreThatCannotWrite(t *testing.T) {
	t.Parallel()
	for _, driver := range []string{"sqlite", "postgres"} {
		t.Run(driver, func(t *testing.T) {
			t.Parallel()
			var s *lockstore.Store
			if driver == "sqlite" {
				s = lockstoretest.OpenSQLite(t, lockstore.Options{})
			} else {
				s = lockstoretest.OpenPostgres(t, lockstore.Options{})
			}
			ctx := context.Background()
			if err := s.CheckWrite(ctx); err != nil {
				t.Fatalf("CheckWrite of a writable store: %v", err)
			}
			if err := s.CheckWrite(ctx); err != nil {
				t.Fatalf("CheckWrite a second time (the first left its row?): %v", err)
			}
			var n int64
			if err := s.DB().Table("passes").Count(&n).Error; err != nil || n != 0 {
				t.Errorf("passes after two probes: %d (%v), want none", n, err)
			}

			if err := lockstore.MakeReadOnly(s, driver); err != nil {
				t.Fatal(err)
			}
			if err := s.Ping(ctx); err != nil {
				t.Fatalf("Ping of the read-only store: %v", err)
			}
			if err := s.CheckWrite(ctx); err == nil {
				t.Error("CheckWrite of a read-only store succeeded")
			}
			if err := s.RecordPass(ctx, lockworker.PassRecord{ID: "p"}); err == nil {
				t.Error("the read-only store took a write: the test proves nothing")
			}
		})
	}
}

// Not parallel: it sets the process's umask, which the parallel tests
// (started after this one returns) must not see.
func TestTheSQLiteFilesAreTheOwnersOnlyWhateverTheUmask(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	path := filepath.Join(t.TempDir(), "locks.db")
	s, err := lockstore.Open(context.Background(), "sqlite", path, lockstoretest.Keyed(lockstore.Options{}))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.RecordPass(context.Background(), lockworker.PassRecord{ID: "p"}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{path, path + "-wal", path + "-shm"} {
		info, err := os.Stat(name)
		if err != nil {
			t.Errorf("%s: %v", filepath.Base(name), err)
			continue
		}
		if mode := info.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s has mode %04o, want 0600", filepath.Base(name), mode)
		}
	}
}
