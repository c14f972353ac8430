package lockstore_test

import (
	"testing"
	"time"

	"github.com/lockworker/lockworker"
	"github.com/lockworker/lockworker/lockstore"
)

func testPurge(t *testing.T, b backend) {
	s, clk := b.setup(t)
	ctx := t.Context()
	year := 365 * 24 * time.Hour
	// Six years ago: bertil locked and unlocked, an order without a number;
	// five and a half years ago anna locked, and she still is.
	record(t, s, lockOrder("55", bertil, clk.Now()))
	record(t, s, unlockOrder("56", bertil, activeLockID(t, s, bertil), clk.Now()))
	record(t, s, manualOrder("07", "57", clk.Now()))
	if err := s.RecordPass(ctx, lockworker.PassRecord{ID: "old", StartedAt: clk.Now(), FinishedAt: clk.Now()}); err != nil {
		t.Fatal(err)
	}
	clk.Advance(year / 2)
	record(t, s, lockOrder("58", anna, clk.Now()))
	clk.Advance(year*5 + year/2)
	record(t, s, lockOrder("59", cecilia, clk.Now()))
	if err := s.RecordPass(ctx, lockworker.PassRecord{ID: "new", StartedAt: clk.Now(), FinishedAt: clk.Now()}); err != nil {
		t.Fatal(err)
	}

	p := lockstore.Purge{AuditBefore: clk.Now().Add(-5 * year), PassesBefore: clk.Now().Add(-90 * 24 * time.Hour), Actor: "test", Purpose: "retention"}
	rep, err := s.Purge(ctx, p)
	if err != nil {
		t.Fatalf("Purge: %v", err)
	}
	if rep != (lockstore.PurgeReport{AuditEntries: 3, Passes: 1, Locks: 1, KeptFrom: 4}) {
		t.Errorf("Purge = %+v; want bertil's 2 entries and the manual one, the old pass and bertil's lifted lock removed, entries kept from 4", rep)
	}
	// The kept chain verifies from its checkpoint, with the purge in it.
	r := verify(t, s)
	if r.First != 4 || r.Entries != 3 {
		t.Errorf("after the purge the chain is %+v; want anna's and cecilia's decisions and the purge, from 4", r)
	}
	if got := audit(t, s, lockworker.AuditFilter{}); len(got) != 2 || got[0].Ticket != "58" || got[1].Ticket != "59" {
		t.Errorf("the decisions after the purge = %+v; want anna's (locked still) and cecilia's", got)
	}
	if got := activeLock(t, s, anna); got.Ticket != "58" {
		t.Errorf("anna's active lock after the purge = %+v", got)
	}
	if got := locks(t, s, bertil); len(got) != 0 {
		t.Errorf("bertil's locks after the purge = %+v, want none", got)
	}
	if passes, err := s.Passes(ctx, 0); err != nil || len(passes) != 1 || passes[0].ID != "new" {
		t.Errorf("passes after the purge = %+v, %v; want the new one", passes, err)
	}
	trail, err := s.PersonTrail(ctx, bertil)
	if err != nil || len(trail) != 0 {
		t.Errorf("bertil's trail after the purge = %+v, %v; want nothing", trail, err)
	}

	// A second purge removes nothing more, and the chain still verifies.
	rep, err = s.Purge(ctx, p)
	if err != nil || rep.AuditEntries != 0 || rep.KeptFrom != 4 {
		t.Errorf("a second Purge = %+v, %v; want nothing removed", rep, err)
	}
	if r := verify(t, s); r.Entries != 4 {
		t.Errorf("after a second purge the chain is %+v, want 4 entries", r)
	}
	// Removing the entry where the kept chain begins is found.
	dropAppendOnly(t, b, s)
	if err := s.DB().Exec("DELETE FROM audit_entries WHERE seq = 4").Error; err != nil {
		t.Fatal(err)
	}
	if _, err := s.VerifyAudit(ctx, 0); err == nil {
		t.Error("VerifyAudit after the first kept entry was removed: no error")
	}
}
