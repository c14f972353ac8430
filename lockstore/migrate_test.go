package lockstore_test

import (
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver

	"github.com/lockworker/lockworker"
	"github.com/lockworker/lockworker/lockstore"
)

// olderStore makes, on dsn, the store that lockworker made before its schema
// was versioned: the tables of version 1 and no schema_migrations, holding,
// as that lockworker wrote them, an account, a lock, a ledger entry (its
// update pending) and an audit entry.
func (b backend) olderStore(t *testing.T, dsn string) {
	t.Helper()
	s, err := lockstore.OpenAtVersion(t.Context(), b.driver, dsn, lockstore.Options{}, 1)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	db := s.DB()
	for _, stmt := range []struct {
		sql  string
		args []any
	}{
		{"INSERT INTO accounts (personnummer, registered_at) VALUES (?, ?)", []any{anna.Reveal(), start}},
		{`INSERT INTO locks (personnummer, region, ticket, form, locked_at, proxy_suspended, lifted_region, lifted_ticket, lifted_form)
			VALUES (?, '07', '55', 'form-55', ?, false, '', '', '')`, []any{anna.Reveal(), start}},
		{`INSERT INTO tickets (region, ticket, round, kind, outcome, reason, status, comment, decided_at, applied_at, claim_until, reporter, reporter_hsa_id)
			VALUES ('07', '55', 1, 'lock', 'resolved', '', 'Löst', 'Inloggningen till 1177 är låst.', ?, ?, ?, 'Test Testsson', 'SE2321000065-lak1')`, []any{start, start, start}},
		{`INSERT INTO audit_entries (at, pass, region, ticket, kind, outcome, reason, personnummer, reporter, reporter_hsa_id, form, signer)
			VALUES (?, 'pass-1', '07', '55', 'lock', 'resolved', '', ?, 'Test Testsson', 'SE2321000065-lak1', 'form-55', 'SE2321000065-lak1')`, []any{start, anna.Reveal()}},
		{"DROP TABLE schema_migrations", nil},
	} {
		if err := db.Exec(stmt.sql, stmt.args...).Error; err != nil {
			t.Fatalf("%s: %v", stmt.sql, err)
		}
	}
}

func testMigrateAnOlderStore(t *testing.T, b backend) {
	dsn := b.freshDSN(t)
	clk := &clock{now: start}
	b.olderStore(t, dsn)

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
	if e, found, err := s.Ledger(t.Context(), "07", "55"); err != nil || !found || e.Round != 1 || e.Comment == "" || e.Confirmed() {
		t.Errorf("the ledger entry after migrating = %+v, %v, %v; want round 1 pending, with its comment", e, found, err)
	}
	// The pending update can be claimed and confirmed, and the ticket's
	// history holds the decision from the audit trail.
	if claim, err := s.ClaimUpdate(t.Context(), "07", "55", 1, mark(t, s)); err != nil || claim != lockworker.ClaimTaken {
		t.Errorf("ClaimUpdate after migrating = %d, %v; want taken", claim, err)
	}
	confirm(t, s, "07", "55", 1)
	if h, err := s.History(t.Context(), "07", "55"); err != nil || len(h) != 2 || h[0].Event != lockworker.EventDecided || h[0].ReporterHSAID == "" {
		t.Errorf("History after migrating = %+v, %v; want the decision and the confirmation", h, err)
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
	{
		older := b.freshDSN(t)
		b.olderStore(t, older)
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

func testCheck(t *testing.T, b backend) {
	ctx := t.Context()
	opts := lockstore.Options{}
	if err := lockstore.Check(ctx, b.driver, b.freshDSN(t), opts); !errors.Is(err, lockstore.ErrNoStore) {
		t.Errorf("Check of no store: %v, want ErrNoStore", err)
	}
	older := b.freshDSN(t)
	b.olderStore(t, older)
	if err := lockstore.Check(ctx, b.driver, older, opts); !errors.Is(err, lockstore.ErrSchemaVersion) {
		t.Errorf("Check of an older store: %v, want ErrSchemaVersion", err)
	}
	current := b.freshDSN(t)
	s := b.open(t, current, &clock{now: start})
	before := mark(t, s)
	if err := lockstore.Check(ctx, b.driver, current, opts); err != nil {
		t.Errorf("Check of a store at this version: %v", err)
	}
	if after := mark(t, s); after != before {
		t.Errorf("Check moved the store's clock from %d to %d: its write was not rolled back", before, after)
	}
	if b.driver == "postgres" {
		// A database that refuses writes (a standby, a role without the
		// grant) is found out.
		if err := lockstore.Check(ctx, b.driver, current+"&default_transaction_read_only=on", opts); err == nil || !strings.Contains(err.Error(), "write to it") {
			t.Errorf("Check of a read-only session: %v, want a failed write", err)
		}
	}
}
