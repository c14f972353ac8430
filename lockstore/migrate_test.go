package lockstore_test

import (
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/lockworker/lockworker"
	"github.com/lockworker/lockworker/lockstore"
)

// olderStore makes, on dsn, the store that lockworker made before its schema
// was versioned: the tables of version 1 and no schema_migrations, holding
// an account, a lock, a ledger entry and an audit entry.
func (b backend) olderStore(t *testing.T, dsn string, clk *clock) {
	t.Helper()
	s := b.open(t, dsn, clk)
	if _, err := s.AddAccounts(t.Context(), []lockworker.Personnummer{anna}); err != nil {
		t.Fatal(err)
	}
	record(t, s, lockOrder("55", anna, start))
	if err := s.DB().Exec("DROP TABLE schema_migrations").Error; err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func testMigrateAnOlderStore(t *testing.T, b backend) {
	dsn := b.freshDSN(t)
	clk := &clock{now: start}
	b.olderStore(t, dsn, clk)

	s := b.open(t, dsn, clk) // Open migrates, as serve and sync do
	if v, err := s.SchemaVersion(t.Context()); err != nil || v != lockstore.SchemaVersion {
		t.Fatalf("SchemaVersion after migrating = %d, %v; want %d", v, err, lockstore.SchemaVersion)
	}
	if ok, err := s.HasAccount(t.Context(), anna); err != nil || !ok {
		t.Errorf("HasAccount after migrating = %v, %v; want true", ok, err)
	}
	if id := activeLockID(t, s, anna); id == 0 {
		t.Error("the lock is gone after migrating")
	}
	if got := len(audit(t, s, lockworker.AuditFilter{})); got != 1 {
		t.Errorf("%d audit entries after migrating, want 1", got)
	}
	if e, found, err := s.Ledger(t.Context(), "07", "55"); err != nil || !found || e.Round != 1 || e.Comment == "" {
		t.Errorf("the ledger entry after migrating = %+v, %v, %v; want round 1 with its comment", e, found, err)
	}
	if err := s.DB().Exec("DELETE FROM audit_entries").Error; err == nil {
		t.Error("the audit trail is no longer append-only after migrating")
	}
	// Migrating again changes nothing.
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("Migrate again: %v", err)
	}
	var versions []int
	if err := s.DB().Table("schema_migrations").Order("version").Pluck("version", &versions).Error; err != nil {
		t.Fatal(err)
	}
	if len(versions) != lockstore.SchemaVersion || versions[0] != 1 || versions[len(versions)-1] != lockstore.SchemaVersion {
		t.Errorf("schema_migrations holds %v, want each version from 1 to %d once", versions, lockstore.SchemaVersion)
	}
}

func testReaderWritesNothing(t *testing.T, b backend) {
	ctx := t.Context()
	clk := &clock{now: start}

	// No store: an error, and none is created.
	dsn := b.freshDSN(t)
	if s, err := lockstore.OpenReadOnly(ctx, b.driver, dsn, lockstore.Options{}); !errors.Is(err, lockstore.ErrNoStore) {
		if err == nil {
			s.Close()
		}
		t.Fatalf("OpenReadOnly of no store: %v, want ErrNoStore", err)
	}
	if b.driver == "sqlite" {
		if _, err := os.Stat(dsn); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("OpenReadOnly created %s (stat: %v)", filepath.Base(dsn), err)
		}
	} else {
		db, err := sql.Open("pgx", dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var tables int
		err = db.QueryRowContext(ctx, "SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema()").Scan(&tables)
		if err != nil || tables != 0 {
			t.Errorf("the reader left %d tables (%v), want none", tables, err)
		}
	}

	// An older store: refused until migrated, and not migrated by reading.
	if lockstore.SchemaVersion > 1 {
		older := b.freshDSN(t)
		b.olderStore(t, older, clk)
		if s, err := lockstore.OpenReadOnly(ctx, b.driver, older, lockstore.Options{}); !errors.Is(err, lockstore.ErrSchemaVersion) {
			if err == nil {
				s.Close()
			}
			t.Errorf("OpenReadOnly of an older store: %v, want ErrSchemaVersion", err)
		}
	}

	// A store at this version is read, and refuses to be written.
	current := b.freshDSN(t)
	writer := b.open(t, current, clk)
	record(t, writer, lockOrder("55", anna, start))
	reader, err := lockstore.OpenReadOnly(ctx, b.driver, current, lockstore.Options{})
	if err != nil {
		t.Fatalf("OpenReadOnly: %v", err)
	}
	defer reader.Close()
	if got := len(audit(t, reader, lockworker.AuditFilter{})); got != 1 {
		t.Errorf("the reader sees %d audit entries, want 1", got)
	}
	if _, err := reader.AddAccounts(ctx, []lockworker.Personnummer{bertil}); err == nil {
		t.Error("a read-only store added an account")
	}
	if err := reader.RecordPass(ctx, lockworker.PassRecord{ID: "p", StartedAt: start, FinishedAt: start}); err == nil {
		t.Error("a read-only store recorded a pass")
	}
}
