package lockstore_test

import (
	"testing"

	"github.com/lockworker/lockworker"
	"github.com/lockworker/lockworker/lockstore"
	"github.com/lockworker/lockworker/lockstore/lockstoretest"
)

// BenchmarkVerifyAudit walks a chain of 100,000 entries, each with a sealed
// personnummer, as `lockworker audit verify` does. It runs on SQLite: filling
// a PostgreSQL chain one append at a time over the network takes minutes.
func BenchmarkVerifyAudit(b *testing.B) {
	for _, bk := range []backend{
		{driver: "sqlite", freshDSN: lockstoretest.SQLiteDSN},
	} {
		b.Run(bk.driver, func(b *testing.B) {
			const entries = 100_000
			s := lockstoretest.Open(b, bk.driver, bk.freshDSN(b), lockstore.Options{})
			a := lockworker.Access{At: start, Category: lockworker.AuditAccess, Actor: "bench", Purpose: "benchmark", Command: "status", People: []lockworker.Personnummer{anna}}
			if err := s.AppendAccesses(b.Context(), a, entries); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				r, err := s.VerifyAudit(b.Context(), 0)
				if err != nil || r.Entries != entries {
					b.Fatalf("VerifyAudit = %+v, %v; want %d entries", r, err, entries)
				}
			}
		})
	}
}
