package lockstore_test

import (
	"testing"

	"github.com/lockworker/lockworker"
)

func testReplaceAndRemoveAccounts(t *testing.T, b backend) {
	s, clk := b.setup(t)
	ctx := t.Context()
	if _, err := s.AddAccounts(ctx, []lockworker.Personnummer{anna, bertil, cecilia}); err != nil {
		t.Fatal(err)
	}
	record(t, s, lockOrder("55", bertil, clk.Now()))

	added, removed, kept, err := s.ReplaceAccounts(ctx, []lockworker.Personnummer{anna, david})
	if err != nil {
		t.Fatalf("ReplaceAccounts: %v", err)
	}
	if added != 1 || removed != 1 || len(kept) != 1 || kept[0] != bertil {
		t.Errorf("ReplaceAccounts = %d added, %d removed, kept %v; want david added, cecilia removed, bertil (locked) kept", added, removed, kept)
	}
	for pn, want := range map[lockworker.Personnummer]bool{anna: true, bertil: true, cecilia: false, david: true} {
		if ok, err := s.HasAccount(ctx, pn); err != nil || ok != want {
			t.Errorf("HasAccount(%v) after the replace = %v, %v; want %v", pn, ok, err, want)
		}
	}
	if n, err := s.CountAccounts(ctx); err != nil || n != 3 {
		t.Errorf("CountAccounts = %d, %v; want 3", n, err)
	}

	if removed, locked, err := s.RemoveAccount(ctx, anna); err != nil || !removed || locked {
		t.Errorf("RemoveAccount(anna) = %v, %v, %v; want removed", removed, locked, err)
	}
	if removed, locked, err := s.RemoveAccount(ctx, bertil); err != nil || removed || !locked {
		t.Errorf("RemoveAccount(bertil, locked) = %v, %v, %v; want kept, locked", removed, locked, err)
	}
	if removed, _, err := s.RemoveAccount(ctx, cecilia); err != nil || removed {
		t.Errorf("RemoveAccount(cecilia, gone) = %v, %v; want nothing removed", removed, err)
	}
	if n, err := s.CountAccounts(ctx); err != nil || n != 2 {
		t.Errorf("CountAccounts = %d, %v; want 2", n, err)
	}
}
