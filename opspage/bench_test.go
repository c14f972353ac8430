package opspage

import (
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	_ "github.com/glebarez/go-sqlite"
	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/rs/zerolog"

	"github.com/lockworker/lockworker"
	"github.com/lockworker/lockworker/lockstore"
	"github.com/lockworker/lockworker/lockstore/lockstoretest"
	"github.com/lockworker/lockworker/service"
)

// benchEntries is how many audit entries the store of the benchmark holds.
const benchEntries = 100_000

// BenchmarkPages answers each page of the ops page from a store of 100,000
// audit entries, on SQLite and on PostgreSQL, and reports the 95th
// percentile of its answer times (p95-ms), which must stay under 100 ms.
//
//	go test ./opspage -run '^$' -bench Pages -benchtime 200x
func BenchmarkPages(b *testing.B) {
	for _, driver := range []string{"sqlite", "postgres"} {
		b.Run(driver, func(b *testing.B) {
			var dsn string
			if driver == "sqlite" {
				dsn = lockstoretest.SQLiteDSN(b)
			} else {
				dsn = lockstoretest.PostgresDSN(b)
			}
			store := lockstoretest.Open(b, driver, dsn, lockstore.Options{DataKey: []byte("the data key of the ops page's benchmark")})
			fillAudit(b, store, driver, dsn)
			p, err := New(Config{Token: token, Regions: regions, Log: zerolog.Nop(), AccessLog: &accessLog{}}, store)
			if err != nil {
				b.Fatal(err)
			}
			h := p.For(&fakeService{health: service.Health{Regions: []service.RegionHealth{{Region: regions[0], LastGood: time.Now()}, {Region: regions[1], LastGood: time.Now()}}}})
			for _, page := range []struct {
				name, method, path string
				form               url.Values
			}{
				{"overview", "GET", "/", nil},
				{"overview fragment", "GET", "/fragment/overview", nil},
				{"decisions", "GET", "/decisions", nil},
				{"decisions page 100", "GET", "/decisions?page=100", nil},
				{"decisions filtered", "GET", "/decisions?region=12&outcome=manual&reason=form_missing&from=2026-01-01", nil},
				{"decisions of a ticket", "GET", "/decisions?ticket=1234", nil},
				{"ticket", "GET", "/ticket?region=07&ticket=1234", nil},
				{"reveal", "POST", "/ticket/reveal", url.Values{"region": {"07"}, "ticket": {"1234"}, "why": {"the benchmark"}}},
				{"person", "POST", "/person", url.Values{"personnummer": {anna.Reveal()}, "why": {"the benchmark"}}},
				{"resync form", "GET", "/resync", nil},
			} {
				b.Run(page.name, func(b *testing.B) {
					times := make([]time.Duration, 0, b.N)
					for b.Loop() {
						var body *strings.Reader
						if page.form != nil {
							body = strings.NewReader(page.form.Encode())
						} else {
							body = strings.NewReader("")
						}
						req := httptest.NewRequest(page.method, page.path, body)
						if page.form != nil {
							req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
						}
						req.Header.Set("Authorization", "Bearer "+token)
						rec := httptest.NewRecorder()
						began := time.Now()
						h.ServeHTTP(rec, req)
						times = append(times, time.Since(began))
						if rec.Code != http.StatusOK {
							b.Fatalf("%s %s = %d:\n%s", page.method, page.path, rec.Code, rec.Body)
						}
					}
					slices.Sort(times)
					p95 := times[(len(times)*95+99)/100-1]
					b.ReportMetric(float64(p95.Microseconds())/1000, "p95-ms")
				})
			}
		})
	}
}

// fillAudit gives store 100,000 audit entries over the last 400 days:
// 1,000 decisions recorded as a pass records them (of them 250 locks, 250
// manual and 500 waiting, over two regions), then copied in the database
// until there are enough.
func fillAudit(b *testing.B, store *lockstore.Store, driver, dsn string) {
	b.Helper()
	now := time.Now()
	for i := range 1000 {
		at := now.Add(-time.Duration(i) * 400 * 24 * time.Hour / 1000)
		d := lockworker.Decision{
			Pass: "bench", At: at, Region: []string{"07", "12"}[i%2], Ticket: fmt.Sprint(1000 + i), Kind: lockworker.KindLock,
			Outcome: lockworker.OutcomeWaiting, Reason: lockworker.ReasonFormMissing, Status: "Väntar på blankett", Comment: "Väntar på blankett.",
		}
		switch i % 4 {
		case 0:
			d.Outcome, d.Reason, d.Personnummer, d.Change, d.Status = lockworker.OutcomeResolved, "", anna, lockworker.ChangeLock, "Löst"
			d.Evidence = lockworker.Evidence{Form: "form", Signer: "SE2321000065-lak1", SignedAt: at}
			if i > 0 {
				// Anna is locked already: a lock order for her changes nothing.
				lock, _, err := store.ActiveLock(b.Context(), anna)
				if err != nil {
					b.Fatal(err)
				}
				d.Change, d.Outcome, d.ActiveLock = lockworker.ChangeNone, lockworker.OutcomeNoop, lock.ID
			}
		case 1:
			d.Outcome, d.Reason, d.Status = lockworker.OutcomeManual, lockworker.ReasonFormMissing, "Manuell hantering"
		}
		if err := store.Record(b.Context(), d); err != nil {
			b.Fatalf("record %s: %v", d.Ticket, err)
		}
	}
	sqlDriver := "sqlite"
	if driver == "postgres" {
		sqlDriver = "pgx"
	}
	db, err := sql.Open(sqlDriver, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(b.Context(), "SELECT * FROM audit_entries WHERE 1 = 0")
	if err != nil {
		b.Fatal(err)
	}
	cols, err := rows.Columns()
	rows.Close()
	if err != nil {
		b.Fatal(err)
	}
	// A copy takes the next places in the chain's sequence; the page does
	// not verify the chain.
	cols = slices.DeleteFunc(cols, func(c string) bool { return c == "id" || c == "seq" })
	list := strings.Join(cols, ", ")
	for n := 1000; n < benchEntries; n *= 2 {
		copyRows := fmt.Sprintf("INSERT INTO audit_entries (%s, seq) SELECT %s, seq + (SELECT MAX(seq) FROM audit_entries) FROM audit_entries ORDER BY id LIMIT %d",
			list, list, min(n, benchEntries-n))
		if _, err := db.ExecContext(b.Context(), copyRows); err != nil {
			b.Fatalf("copy the audit entries: %v", err)
		}
	}
	var count int
	if err := db.QueryRowContext(b.Context(), "SELECT COUNT(*) FROM audit_entries").Scan(&count); err != nil || count != benchEntries {
		b.Fatalf("the store holds %d audit entries (%v), want %d", count, err, benchEntries)
	}
	if driver == "postgres" {
		if _, err := db.ExecContext(b.Context(), "ANALYZE"); err != nil {
			b.Fatal(err)
		}
	}
}
