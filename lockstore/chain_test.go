package lockstore_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lockworker/lockworker"
	"github.com/lockworker/lockworker/lockstore"
)

// chained fills a fresh store with five audit entries: three decisions and
// two accesses.
func chained(t *testing.T, b backend) *lockstore.Store {
	t.Helper()
	s, clk := b.setup(t)
	record(t, s, lockOrder("55", anna, clk.Now()))
	logAccess(t, s, "status", anna)
	record(t, s, lockOrder("56", bertil, clk.Now()))
	logAccess(t, s, "audit --reveal", anna, bertil)
	return s
}

func logAccess(t *testing.T, s *lockstore.Store, command string, people ...lockworker.Personnummer) {
	t.Helper()
	err := s.LogAccess(t.Context(), lockworker.Access{At: start, Category: lockworker.AuditAccess, Actor: "operatör", Purpose: "test", Command: command, People: people})
	if err != nil {
		t.Fatalf("LogAccess: %v", err)
	}
}

func verify(t *testing.T, s *lockstore.Store) lockstore.ChainReport {
	t.Helper()
	r, err := s.VerifyAudit(t.Context(), 0)
	if err != nil {
		t.Fatalf("VerifyAudit: %v", err)
	}
	return r
}

// dropAppendOnly removes the audit trail's triggers, as someone with rights
// on the database could.
func dropAppendOnly(t *testing.T, b backend, s *lockstore.Store) {
	t.Helper()
	stmts := []string{"DROP TRIGGER audit_entries_no_update", "DROP TRIGGER audit_entries_no_delete"}
	if b.driver == "postgres" {
		stmts = []string{"DROP TRIGGER audit_entries_append_only ON audit_entries"}
	}
	for _, stmt := range stmts {
		if err := s.DB().Exec(stmt).Error; err != nil {
			t.Fatalf("%s: %v", stmt, err)
		}
	}
}

func testChainVerifies(t *testing.T, b backend) {
	s := chained(t, b)
	r := verify(t, s)
	seq, head, err := s.AuditHead(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if r.Entries != 5 || r.First != 1 || r.Last != 5 || r.Head != head || seq != 5 {
		t.Errorf("VerifyAudit = %+v; head %d %s; want 5 entries from 1 to 5 ending at the head", r, seq, head)
	}
	if fp := r.Fingerprint(); len(fp) != 16 || strings.ContainsAny(fp, "0123456789") {
		t.Errorf("Fingerprint = %q, want 16 letters", fp)
	}
	newest, err := s.VerifyAudit(t.Context(), 2)
	if err != nil || newest.Entries != 2 || newest.First != 4 || newest.Head != head {
		t.Errorf("VerifyAudit of the newest 2 = %+v, %v; want entries 4 and 5", newest, err)
	}
	// The decisions alone are the audit trail's listing; the accesses are
	// in the chain.
	if got := audit(t, s, lockworker.AuditFilter{}); len(got) != 2 {
		t.Errorf("Audit lists %d entries, want the 2 decisions", len(got))
	}
}

func testChainFindsTampering(t *testing.T, b backend) {
	tests := []struct {
		name    string
		stmt    string
		args    func(s *lockstore.Store) []any
		wantErr string
	}{
		{"a changed entry", "UPDATE audit_entries SET outcome = 'noop' WHERE seq = 3", nil, "entry 3 was changed"},
		{"a changed time", "UPDATE audit_entries SET at = ? WHERE seq = 2", func(*lockstore.Store) []any { return []any{start.Add(time.Hour)} }, "entry 2 was changed"},
		{"a changed person", "UPDATE audit_entries SET person_hash = ?, person_sealed = ? WHERE seq = 1",
			func(s *lockstore.Store) []any { return []any{s.PersonHash(cecilia), s.Seal(cecilia)} }, "entry 1 was changed"},
		{"a removed entry", "DELETE FROM audit_entries WHERE seq = 3", nil, "entry 3 is missing"},
		{"the newest entry removed", "DELETE FROM audit_entries WHERE seq = 5", nil, "entries 5 to 5 were removed"},
		{"an inserted entry", `INSERT INTO audit_entries (at, pass, region, ticket, kind, outcome, reason, person_hash, person_sealed,
			reporter, reporter_hsa_id, form, signer, seq, category, actor, purpose, prev_hash, hash)
			SELECT at, pass, region, '99', kind, outcome, reason, person_hash, person_sealed, reporter, reporter_hsa_id, form, signer,
			6, category, actor, purpose, hash, hash FROM audit_entries WHERE seq = 5`, nil, "entry 6 was changed or inserted"},
		{"entries renumbered around an insert", "UPDATE audit_entries SET seq = seq + 10 WHERE seq >= 4", nil, "entry 4 is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := chained(t, b)
			dropAppendOnly(t, b, s)
			var args []any
			if tt.args != nil {
				args = tt.args(s)
			}
			if err := s.DB().Exec(tt.stmt, args...).Error; err != nil {
				t.Fatalf("%s: %v", tt.stmt, err)
			}
			_, err := s.VerifyAudit(t.Context(), 0)
			if !errors.Is(err, lockstore.ErrChainBroken) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("VerifyAudit = %v, want ErrChainBroken naming %q", err, tt.wantErr)
			}
		})
	}
}

// Three stores appending at once, as three processes would, keep one linear
// chain.
func testChainLinearAcrossProcesses(t *testing.T, b backend) {
	dsn := b.freshDSN(t)
	clk := &clock{now: start}
	stores := []*lockstore.Store{b.open(t, dsn, clk), b.open(t, dsn, clk), b.open(t, dsn, clk)}
	const each = 15
	var wg sync.WaitGroup
	errs := make(chan error, len(stores)*each)
	for i, s := range stores {
		wg.Go(func() {
			for j := range each {
				var err error
				if j%3 == 0 {
					err = s.LogAccess(t.Context(), lockworker.Access{At: start, Category: lockworker.AuditAccess, Actor: fmt.Sprint("process ", i), Command: "status", People: []lockworker.Personnummer{anna}})
				} else {
					err = s.Record(t.Context(), manualOrder("07", fmt.Sprintf("%d-%d", i, j), start))
				}
				if err != nil {
					errs <- err
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Errorf("append: %v", err)
	}
	if r := verify(t, stores[0]); r.Entries != int64(len(stores)*each) {
		t.Errorf("the chain holds %d entries, want %d", r.Entries, len(stores)*each)
	}
}

func testChainOfAMigratedStore(t *testing.T, b backend) {
	dsn := b.freshDSN(t)
	b.olderStore(t, dsn)
	s := b.open(t, dsn, &clock{now: start})
	if r := verify(t, s); r.Entries != 1 {
		t.Errorf("the migrated chain holds %d entries, want the 1 made before", r.Entries)
	}
	record(t, s, lockOrder("60", bertil, start))
	if r := verify(t, s); r.Entries != 2 || r.Last != 2 {
		t.Errorf("after a decision the chain is %+v, want 2 entries", r)
	}
}
