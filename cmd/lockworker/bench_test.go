package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/metrics"
	"slices"
	gosync "sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/lockworker/lockworker"
	"github.com/lockworker/lockworker/config"
	"github.com/lockworker/lockworker/cosmic/cosmictest"
	"github.com/lockworker/lockworker/easit/easittest"
	"github.com/lockworker/lockworker/internal/skatteverket"
	"github.com/lockworker/lockworker/lockstore"
	"github.com/lockworker/lockworker/lockstore/lockstoretest"
	"github.com/lockworker/lockworker/sync"
)

// The benchmarks of a pass run the program's own wiring, at the default
// configuration, against the fake Easit and form service of two regions
// whose every answer comes after benchLatency, on a fresh SQLite lock store:
//
//	go test ./cmd/lockworker -run '^$' -bench Pass -benchtime 1x
//
// Each reports, besides the time:
//   - orders/s;
//   - x_serial: how many times faster the pass is than one request at a time
//     (two calls per order, one Easit update and one form read, plus the
//     view's pages of 100, each taking benchLatency);
//   - easit_req/order: the requests to Easit, pages and imports, per order;
//   - max_easit_req/s: the most requests one region's Easit got within any
//     second, to hold against limits.easit_requests_per_second;
//   - peak_heap_MB: the most heap in use while the pass ran, the fakes'
//     included, sampled every millisecond; pass_heap_MB is the part above the
//     heap in use before the pass.
const benchLatency = 5 * time.Millisecond

func BenchmarkPass(b *testing.B) { benchPasses(b, newBenchWorld) }

// BenchmarkPassOfAViewOfOpenOrders is BenchmarkPass with views that list
// only the open and waiting orders: the pass's own updates take the tickets
// it resolves out of the view while it reads it.
func BenchmarkPassOfAViewOfOpenOrders(b *testing.B) {
	benchPasses(b, func(b *testing.B, regions int) *benchWorld {
		return newBenchWorldOn(b, regions, fmt.Sprintf("lockstore: {driver: sqlite, dsn: %q}\n", filepath.Join(b.TempDir(), "lockworker.db")),
			easittest.Config{OnlyStatuses: []string{open, config.DefaultStatuses.Waiting}})
	})
}

// BenchmarkPassOnPostgres is BenchmarkPass on a PostgreSQL lock store.
func BenchmarkPassOnPostgres(b *testing.B) { benchPasses(b, newBenchWorldOnPostgres) }

// benchPasses measures a pass of 1,000 and of 10,000 orders over two
// regions, each in a world that newWorld makes.
func benchPasses(b *testing.B, newWorld func(*testing.B, int) *benchWorld) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("orders=%d", n), func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				w := newWorld(b, 2)
				w.addOrders(b, n)
				b.StartTimer()
				w.measure(b, n, func(ctx context.Context) sync.Summary { return w.pass(b, ctx) })
			}
		})
	}
}

// BenchmarkPassOfTheBinary runs the pass as an operator does, `lockworker
// sync` of the built binary, against the same fakes in the benchmark's
// process, and reports the peak memory of the lockworker process (its peak
// resident set, VmHWM) as peak_rss_MB.
func BenchmarkPassOfTheBinary(b *testing.B) {
	if runtime.GOOS != "linux" {
		b.Skip("reads the peak memory of a process from /proc")
	}
	bin := builtBinary(b)
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("orders=%d", n), func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				w := newBenchWorld(b, 2)
				w.addOrders(b, n)
				b.StartTimer()
				started := time.Now()
				var stderr bytes.Buffer
				cmd := exec.CommandContext(b.Context(), bin, "sync", "--config", w.config, "--json")
				cmd.Env = append(cmd.Environ(), "LOCKWORKER_CONFIG=")
				cmd.Stderr = &stderr
				out, err := cmd.StdoutPipe()
				if err != nil {
					b.Fatal(err)
				}
				if err := cmd.Start(); err != nil {
					b.Fatal(err)
				}
				peak := peakMemory(cmd.Process.Pid)
				var sum struct {
					Regions []struct {
						Orders []struct{ Outcome lockworker.Outcome }
					}
				}
				decodeErr := json.NewDecoder(out).Decode(&sum)
				if err := cmd.Wait(); err != nil || decodeErr != nil {
					b.Fatalf("lockworker sync: %v, %v; stderr ends: %s", err, decodeErr, lastLine(stderr.String()))
				}
				took := time.Since(started)
				b.StopTimer()
				resolved := 0
				for _, r := range sum.Regions {
					for _, o := range r.Orders {
						if o.Outcome == lockworker.OutcomeResolved {
							resolved++
						}
					}
				}
				if resolved != n {
					b.Fatalf("%d orders resolved, want %d", resolved, n)
				}
				b.ReportMetric(float64(n)/took.Seconds(), "orders/s")
				b.ReportMetric(float64(peak())/(1<<20), "peak_rss_MB")
			}
		})
	}
}

// BenchmarkPassSlowRegion measures how long the orders of one region take
// while the other region's Easit answers every call after 30 seconds, and
// when the region is alone, for comparison.
func BenchmarkPassSlowRegion(b *testing.B) {
	const n = 500
	for _, slow := range []bool{false, true} {
		b.Run(fmt.Sprintf("other_region_hung=%t", slow), func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				regions := 1
				if slow {
					regions = 2
				}
				w := newBenchWorld(b, regions)
				w.addOrdersTo(b, w.regions[0], n, 0)
				if slow {
					w.regions[1].latency = 30 * time.Second
					w.addOrdersTo(b, w.regions[1], 10, n)
				}
				b.StartTimer()
				ctx, cancel := context.WithCancel(b.Context())
				fastDone := make(chan time.Duration, 1)
				started := time.Now()
				go func() {
					_, _ = w.syncer.RunOnce(ctx, sync.Options{RegionDone: func(rs sync.RegionSummary) {
						if rs.Code == w.regions[0].code {
							if got := countOutcome(rs, lockworker.OutcomeResolved); got != n {
								b.Errorf("region %s: %d orders resolved, want %d (%s)", rs.Code, got, n, rs.Error)
							}
							fastDone <- time.Since(started)
						}
					}})
				}()
				var took time.Duration
				select {
				case took = <-fastDone:
				case <-time.After(5 * time.Minute):
					b.Fatal("the region's orders were not done within 5 minutes")
				}
				cancel()
				b.StopTimer()
				b.ReportMetric(took.Seconds(), "region_s")
				b.ReportMetric(float64(n)/took.Seconds(), "orders/s")
			}
		})
	}
}

// BenchmarkPassIdle counts the requests of a pass that finds no order.
func BenchmarkPassIdle(b *testing.B) {
	for range b.N {
		b.StopTimer()
		w := newBenchWorld(b, 2)
		b.StartTimer()
		sum := w.pass(b, b.Context())
		b.StopTimer()
		if failed := sum.FailedRegions(); len(failed) > 0 {
			b.Fatalf("failed regions %v", failed)
		}
		b.ReportMetric(float64(w.easitRequests())/float64(len(w.regions)), "easit_req/region")
	}
}

type benchWorld struct {
	cfg *config.Config // the configuration of the regions, all else at its default
	// config is cfg as a file.
	config  string
	regions []*benchRegion
	syncer  *sync.Syncer
	store   *lockstore.Store
	people  []lockworker.Personnummer
}

// benchRegion is one region's fakes, answering after latency.
type benchRegion struct {
	code, name, org string
	easit           *easittest.Server
	forms           *cosmictest.Server
	latency         time.Duration

	mu    gosync.Mutex
	calls []time.Time // when each Easit request came
}

// newBenchWorld is a world of the regions on a fresh SQLite store.
func newBenchWorld(b *testing.B, regions int) *benchWorld {
	b.Helper()
	return newBenchWorldOn(b, regions, fmt.Sprintf("lockstore: {driver: sqlite, dsn: %q}\n", filepath.Join(b.TempDir(), "lockworker.db")), easittest.Config{})
}

// newBenchWorldOnPostgres is a world of the regions on a fresh schema of
// the test PostgreSQL.
func newBenchWorldOnPostgres(b *testing.B, regions int) *benchWorld {
	b.Helper()
	dir := b.TempDir()
	dataKey, auditKey := filepath.Join(dir, "data-key"), filepath.Join(dir, "audit-key")
	for _, path := range []string{dataKey, auditKey} {
		if _, err := makeKeyFile(path); err != nil {
			b.Fatal(err)
		}
	}
	return newBenchWorldOn(b, regions, fmt.Sprintf("lockstore: {driver: postgres, dsn: %q, data_key_file: %q}\naudit: {key_file: %q}\n",
		lockstoretest.PostgresDSN(b), dataKey, auditKey), easittest.Config{})
}

// newBenchWorldOn is a world of the regions on the store that the
// configuration's lines store name, its Easits made as view says.
func newBenchWorldOn(b *testing.B, regions int, store string, view easittest.Config) *benchWorld {
	b.Helper()
	w := &benchWorld{}
	all := []*benchRegion{
		{code: "07", name: "Region Kronoberg", org: "2321000065"},
		{code: "12", name: "Region Skåne", org: "2321000255"},
	}
	yaml := store + "regions:\n"
	for _, r := range all[:regions] {
		r.latency = benchLatency
		view.APIKey = "easit-key-" + r.code
		r.easit = easittest.NewServer(view)
		b.Cleanup(r.easit.Close)
		r.easit.SetFault(func(easittest.Call) *easittest.Fault {
			r.mu.Lock()
			defer r.mu.Unlock()
			r.calls = append(r.calls, time.Now())
			return &easittest.Fault{Delay: r.latency}
		})
		r.forms = cosmictest.NewServer(cosmictest.Config{Token: "forms-token-" + r.code})
		b.Cleanup(r.forms.Close)
		r.forms.SetFault(func(cosmictest.Call) *cosmictest.Fault { return &cosmictest.Fault{Delay: benchLatency} })
		w.regions = append(w.regions, r)
		yaml += fmt.Sprintf(`  - code: %q
    name: %s
    org_number: %q
    easit: {url: %s, api_key: easit-key-%s, view: VIS-1177-las, import_handler: VIS-1177-uppdatera}
    forms:
      url: %s
      token: forms-token-%s
      lock_form: {system: %q, code: %q}
      unlock_form: {system: %q, code: %q}
`, r.code, r.name, r.org, r.easit.URL(), r.code, r.forms.URL(), r.code, lockForm.System, lockForm.Code, unlockForm.System, unlockForm.Code)
	}
	cfg, err := config.Parse([]byte(yaml), func(string) (string, bool) { return "", false })
	if err != nil {
		b.Fatal(err)
	}
	w.cfg = cfg
	w.config = filepath.Join(b.TempDir(), "lockworker.yaml")
	if err := os.WriteFile(w.config, []byte(yaml), 0o600); err != nil {
		b.Fatal(err)
	}
	a := &app{now: time.Now, stderr: io.Discard}
	w.store, err = a.openStore(b.Context(), cfg.LockStore, cfg.Audit)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = w.store.Close() })
	w.syncer, err = a.newSyncer(cfg, w.store, newJSONLogger(io.Discard, zerolog.InfoLevel), nil)
	if err != nil {
		b.Fatal(err)
	}
	return w
}

// addOrders adds n valid lock orders, spread evenly over the regions.
func (w *benchWorld) addOrders(b *testing.B, n int) {
	b.Helper()
	per := n / len(w.regions)
	for i, r := range w.regions {
		w.addOrdersTo(b, r, per, i*per)
	}
}

// addOrdersTo adds n valid lock orders to r, of the adults from the first'th
// on, with their accounts and signed forms.
func (w *benchWorld) addOrdersTo(b *testing.B, r *benchRegion, n, first int) {
	b.Helper()
	now := time.Now()
	if len(w.people) < first+n {
		w.people = benchAdults(b, first+n, now)
	}
	people := w.people[first : first+n]
	if _, err := w.store.AddAccounts(b.Context(), people); err != nil {
		b.Fatal(err)
	}
	created := now.Add(-time.Hour)
	for i, p := range people {
		ticket := fmt.Sprint(1000 + first + i)
		ref := "F-" + r.code + "-" + ticket
		r.easit.AddOrder(easittest.Order{
			Ticket: ticket, Status: open, Kind: lockKind, Personnummer: p.Reveal(),
			Reporter: "Doktor Testsson", ReporterHSAID: "SE" + r.org + "-D1",
			FormRef: ref, Created: created,
		})
		r.forms.Put(cosmictest.Document{
			ID: ref, DocStatus: "final", Type: lockForm, Patient: p.Reveal(),
			Signer: "SE" + r.org + "-L1", Custodian: "SE" + r.org + "-1000",
			Date: created.Add(-30 * time.Minute),
		})
	}
}

// benchAdults returns the first n adults of Skatteverket's test numbers.
func benchAdults(b *testing.B, n int, now time.Time) []lockworker.Personnummer {
	b.Helper()
	var out []lockworker.Personnummer
	for _, line := range skatteverket.Personnummer() {
		p, err := lockworker.ParsePersonnummer(line, now)
		if err == nil && !p.IsSamordningsnummer() && p.AgeOn(now) >= 18 {
			out = append(out, p)
		}
		if len(out) == n {
			return out
		}
	}
	b.Fatalf("Skatteverket's list holds fewer than %d adults", n)
	return nil
}

func (w *benchWorld) pass(b *testing.B, ctx context.Context) sync.Summary {
	b.Helper()
	sum, err := w.syncer.RunOnce(ctx, sync.Options{})
	if err != nil {
		b.Fatal(err)
	}
	return sum
}

// measure runs pass, which must resolve all n orders, and reports its
// figures.
func (w *benchWorld) measure(b *testing.B, n int, pass func(context.Context) sync.Summary) {
	b.Helper()
	runtime.GC()
	before := heapInUse()
	peak := before
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				peak = max(peak, heapInUse())
			}
		}
	}()
	started := time.Now()
	sum := pass(b.Context())
	took := time.Since(started)
	b.StopTimer()
	close(stop)
	<-sampled

	resolved := 0
	for _, rs := range sum.Regions {
		if rs.Error != "" {
			b.Errorf("region %s: %s", rs.Code, rs.Error)
		}
		resolved += countOutcome(rs, lockworker.OutcomeResolved)
	}
	if resolved != n {
		b.Fatalf("%d orders resolved, want %d: %v", resolved, n, sum.Counts())
	}
	pages := len(w.regions) * ((n/len(w.regions) + 99) / 100)
	serial := time.Duration(2*n+pages) * benchLatency
	b.ReportMetric(float64(n)/took.Seconds(), "orders/s")
	b.ReportMetric(serial.Seconds()/took.Seconds(), "x_serial")
	b.ReportMetric(float64(w.easitRequests())/float64(n), "easit_req/order")
	b.ReportMetric(float64(w.maxRequestsPerSecond()), "max_easit_req/s")
	b.ReportMetric(float64(peak)/(1<<20), "peak_heap_MB")
	b.ReportMetric(float64(peak-before)/(1<<20), "pass_heap_MB")
}

func countOutcome(rs sync.RegionSummary, o lockworker.Outcome) int {
	n := 0
	for _, res := range rs.Orders {
		if res.Outcome == o {
			n++
		}
	}
	return n
}

func (w *benchWorld) easitRequests() int {
	n := 0
	for _, r := range w.regions {
		r.mu.Lock()
		n += len(r.calls)
		r.mu.Unlock()
	}
	return n
}

// maxRequestsPerSecond is the most requests one region's Easit got within
// any second.
func (w *benchWorld) maxRequestsPerSecond() int {
	most := 0
	for _, r := range w.regions {
		r.mu.Lock()
		calls := slices.Clone(r.calls)
		r.mu.Unlock()
		first := 0
		for i, t := range calls {
			for t.Sub(calls[first]) >= time.Second {
				first++
			}
			most = max(most, i-first+1)
		}
	}
	return most
}

var heapSamples = []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/unused:bytes"}}

// heapInUse is the heap in use (runtime.MemStats.HeapInuse), read without
// stopping the world.
func heapInUse() uint64 {
	s := slices.Clone(heapSamples)
	metrics.Read(s)
	return s[0].Value.Uint64() + s[1].Value.Uint64()
}
