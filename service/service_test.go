package service_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	gosync "sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rs/zerolog"

	"github.com/lockworker/lockworker"
	"github.com/lockworker/lockworker/service"
	"github.com/lockworker/lockworker/sync"
)

const adminToken = "admin-secret-token-of-32-characters"

var regions = []service.Region{{Code: "07", Name: "Region Kronoberg"}, {Code: "12", Name: "Region Skåne"}}

// fakeSyncer runs passes by a function the test gives, and records them.
type fakeSyncer struct {
	mu    gosync.Mutex
	calls []sync.Options
	run   func(ctx context.Context, opts sync.Options) (sync.Summary, error)
}

func (f *fakeSyncer) RunOnce(ctx context.Context, opts sync.Options) (sync.Summary, error) {
	f.mu.Lock()
	f.calls = append(f.calls, opts)
	run := f.run
	f.mu.Unlock()
	sum, err := summary(opts, nil), error(nil)
	if run != nil {
		sum, err = run(ctx, opts)
	}
	// Like the real syncer, it tells of each region as it is done.
	for _, r := range sum.Regions {
		if opts.RegionDone != nil {
			opts.RegionDone(r)
		}
	}
	return sum, err
}

func (f *fakeSyncer) passes() []sync.Options {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]sync.Options(nil), f.calls...)
}

// summary is a pass over both regions, those in failed unread.
func summary(opts sync.Options, failed map[string]bool) sync.Summary {
	sum := sync.Summary{Pass: opts.Pass}
	for _, r := range regions {
		rs := sync.RegionSummary{Code: r.Code, Name: r.Name, Duration: 40 * time.Millisecond}
		if failed[r.Code] {
			rs.Error = "Easit answered 503"
		} else {
			rs.Orders = []sync.Result{
				{Ticket: "55", Kind: lockworker.KindLock, Outcome: lockworker.OutcomeResolved},
				{Ticket: "56", Kind: lockworker.KindLock, Outcome: lockworker.OutcomeManual, Reason: lockworker.ReasonNoAccount},
			}
		}
		sum.Regions = append(sum.Regions, rs)
	}
	return sum
}

type fakeStore struct {
	mu       gosync.Mutex
	down     bool
	readOnly bool
}

func (s *fakeStore) Ping(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.down {
		return errors.New("failed to connect to `user=lockworker database=locks`: 10.1.2.3:5432: connection refused")
	}
	return nil
}

func (s *fakeStore) CheckWrite(context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.readOnly {
		return errors.New("ERROR: cannot execute INSERT in a read-only transaction (SQLSTATE 25006) on host 10.1.2.3 user lockworker")
	}
	return nil
}

func (s *fakeStore) setDown(down bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.down = down
}

type env struct {
	svc    *service.Service
	syncer *fakeSyncer
	store  *fakeStore
	clock  *clock
	http   *httptest.Server
}

type clock struct {
	mu gosync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// setup returns a service on "@every 2m" with a fake syncer and store, its
// admin API served by an httptest server.
func setup(t *testing.T) *env {
	t.Helper()
	return setupWith(t, nil)
}

// setupWith is setup with a reader of tickets' records.
func setupWith(t *testing.T, tickets service.TicketReader) *env {
	t.Helper()
	e := &env{syncer: &fakeSyncer{}, store: &fakeStore{}, clock: &clock{t: time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)}}
	metrics := service.NewMetrics(func(context.Context) (int64, error) { return 3, nil })
	svc, err := service.New(service.Config{Schedule: "@every 2m", Regions: regions, Token: adminToken, Tickets: tickets},
		e.syncer, e.store, metrics, zerolog.New(zerolog.NewTestWriter(t)), e.clock.Now)
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
	e.http = httptest.NewServer(svc.Handler())
	t.Cleanup(e.http.Close)
	return e
}

func (e *env) do(t *testing.T, method, path, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, e.http.URL+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

func TestSyncNeedsTheToken(t *testing.T) {
	t.Parallel()
	e := setup(t)
	for _, token := range []string{"", "wrong", adminToken + "x", strings.ToUpper(adminToken)} {
		if status, _ := e.do(t, http.MethodPost, "/sync", token); status != http.StatusUnauthorized {
			t.Errorf("token %q: status %d, want 401", token, status)
		}
	}
	if n := len(e.syncer.passes()); n != 0 {
		t.Errorf("%d passes ran without the token", n)
	}

	status, body := e.do(t, http.MethodPost, "/sync?region=07&ticket=55", adminToken)

	if status != http.StatusOK {
		t.Fatalf("status %d: %s", status, body)
	}
	var got struct {
		Pass    string `json:"pass"`
		OK      bool   `json:"ok"`
		Regions []struct {
			Code   string `json:"code"`
			Orders []struct {
				Ticket  string `json:"ticket"`
				Outcome string `json:"outcome"`
			} `json:"orders"`
		} `json:"regions"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	passes := e.syncer.passes()
	if len(passes) != 1 || passes[0].Region != "07" || passes[0].Ticket != "55" {
		t.Fatalf("passes = %+v, want one for region 07, ticket 55", passes)
	}
	if got.Pass == "" || got.Pass != passes[0].Pass || !got.OK || len(got.Regions) != 2 || got.Regions[0].Orders[0].Outcome != "resolved" {
		t.Errorf("summary = %+v", got)
	}
}

func TestSyncOfAnUnknownRegionIsABadRequest(t *testing.T) {
	t.Parallel()
	e := setup(t)
	if status, body := e.do(t, http.MethodPost, "/sync?region=99", adminToken); status != http.StatusBadRequest || !strings.Contains(body, "99") {
		t.Errorf("status %d: %s", status, body)
	}
}

func TestAManualSyncNeverRunsBesideAPass(t *testing.T) {
	t.Parallel()
	e := setup(t)
	started, release := make(chan string), make(chan struct{})
	e.syncer.run = func(_ context.Context, opts sync.Options) (sync.Summary, error) {
		started <- opts.Pass
		<-release
		return summary(opts, nil), nil
	}
	first := make(chan int)
	go func() {
		req, _ := http.NewRequest(http.MethodPost, e.http.URL+"/sync", nil)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			first <- 0
			return
		}
		resp.Body.Close()
		first <- resp.StatusCode
	}()
	running := <-started

	status, body := e.do(t, http.MethodPost, "/sync", adminToken)

	if status != http.StatusConflict {
		t.Fatalf("status %d, want 409", status)
	}
	var busy struct{ Pass string }
	if err := json.Unmarshal([]byte(body), &busy); err != nil || busy.Pass != running {
		t.Errorf("409 body %s, want one naming pass %s", body, running)
	}
	close(release)
	if status := <-first; status != http.StatusOK {
		t.Errorf("the first sync: status %d, want 200", status)
	}
}

func TestAPanickingPassDoesNotStopTheNext(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.syncer.run = func(context.Context, sync.Options) (sync.Summary, error) { panic("bug") }
	if _, err := e.svc.Sync(context.Background(), sync.Options{}, "manual"); err == nil || !strings.Contains(err.Error(), "panicked") {
		t.Errorf("Sync: %v, want the panic as an error", err)
	}
	e.syncer.run = nil
	if _, err := e.svc.Sync(context.Background(), sync.Options{}, "manual"); err != nil {
		t.Errorf("the pass after the panic: %v", err)
	}
}

func TestReadiness(t *testing.T) {
	t.Parallel()
	e := setup(t)
	ready := func() (int, string) { return e.do(t, http.MethodGet, "/readyz", "") }

	// No region is ready before its first good pass.
	if status, body := ready(); status != http.StatusServiceUnavailable ||
		!strings.Contains(body, "07 Region Kronoberg: no good pass yet") || !strings.Contains(body, "12 Region Skåne: no good pass yet") {
		t.Errorf("before any pass: %d %s", status, body)
	}

	e.syncer.run = func(_ context.Context, opts sync.Options) (sync.Summary, error) {
		return summary(opts, map[string]bool{"12": true}), nil
	}
	e.svc.Sync(context.Background(), sync.Options{}, "schedule")
	if status, body := ready(); status != http.StatusServiceUnavailable || strings.Contains(body, "07") || !strings.Contains(body, "12 Region Skåne") {
		t.Errorf("with region 12 unread: %d %s, want only 12 named", status, body)
	}

	e.syncer.run = nil
	e.svc.Sync(context.Background(), sync.Options{}, "schedule")
	if status, body := ready(); status != http.StatusOK {
		t.Errorf("after a good pass: %d %s", status, body)
	}

	// Region 12 fails from now on: it stays ready for three intervals of
	// the schedule (6 minutes), and then is named.
	e.syncer.run = func(_ context.Context, opts sync.Options) (sync.Summary, error) {
		return summary(opts, map[string]bool{"12": true}), nil
	}
	e.clock.Advance(6 * time.Minute)
	e.svc.Sync(context.Background(), sync.Options{}, "schedule")
	if status, _ := ready(); status != http.StatusOK {
		t.Errorf("6 minutes after its last good pass: %d, want still ready", status)
	}
	e.clock.Advance(time.Second)
	if status, body := ready(); status != http.StatusServiceUnavailable || !strings.Contains(body, "12 Region Skåne: last good pass 6m1s ago") || strings.Contains(body, "07") {
		t.Errorf("past three intervals: %d %s", status, body)
	}

	// It recovers with its next good pass.
	e.syncer.run = nil
	e.svc.Sync(context.Background(), sync.Options{}, "schedule")
	if status, body := ready(); status != http.StatusOK {
		t.Errorf("after recovering: %d %s", status, body)
	}

	// A lock store that answers but cannot write is unready, and so is an
	// unreachable one; the answer names the part, not how it is reached.
	e.store.mu.Lock()
	e.store.readOnly = true
	e.store.mu.Unlock()
	if status, body := ready(); status != http.StatusServiceUnavailable || !strings.Contains(body, "lock store: cannot write") {
		t.Errorf("with the store read-only: %d %s", status, body)
	}
	e.store.setDown(true)
	status, body := ready()
	if status != http.StatusServiceUnavailable || !strings.Contains(body, "lock store: unreachable") {
		t.Errorf("with the store down: %d %s", status, body)
	}
	for _, detail := range []string{"10.1.2.3", "user", "database", "lockworker", "5432", "SQLSTATE"} {
		if strings.Contains(body, detail) {
			t.Errorf("/readyz shows the store's connection details (%q): %s", detail, body)
		}
	}
}

func TestARegionIsReadyAsSoonAsItsPartOfAPassIsDone(t *testing.T) {
	t.Parallel()
	e := setup(t)
	slowRegion := make(chan struct{})
	e.syncer.run = func(_ context.Context, opts sync.Options) (sync.Summary, error) {
		sum := summary(opts, nil)
		opts.RegionDone(sum.Regions[0]) // 07 is done …
		<-slowRegion                    // … while 12 takes its time
		return sync.Summary{Pass: sum.Pass, Regions: sum.Regions[1:]}, nil
	}
	go e.svc.Sync(context.Background(), sync.Options{}, "schedule")

	deadline := time.Now().Add(5 * time.Second)
	for {
		_, body := e.do(t, http.MethodGet, "/readyz", "")
		if !strings.Contains(body, "07") {
			if !strings.Contains(body, "12 Region Skåne: no good pass yet") {
				t.Errorf("readyz = %s, want 12 still named", body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("region 07 is not ready while region 12's part of the pass runs: %s", body)
		}
		time.Sleep(10 * time.Millisecond)
	}
	close(slowRegion)
}

func TestHealthz(t *testing.T) {
	t.Parallel()
	e := setup(t)
	if status, body := e.do(t, http.MethodGet, "/healthz", ""); status != http.StatusOK || strings.TrimSpace(body) != "ok" {
		t.Errorf("healthz: %d %q", status, body)
	}
}

func TestMetricsCountWhatPassesDid(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.svc.Sync(context.Background(), sync.Options{}, "schedule")
	// A deferred order got no outcome in its pass, and is not counted.
	e.syncer.run = func(_ context.Context, opts sync.Options) (sync.Summary, error) {
		sum := summary(opts, nil)
		sum.Regions[0].Orders = append(sum.Regions[0].Orders, sync.Result{Ticket: "57", Kind: lockworker.KindLock,
			Outcome: lockworker.OutcomeResolved, Action: sync.ActionDeferred, Why: "another process is sending the update"})
		return sum, nil
	}
	e.svc.Sync(context.Background(), sync.Options{}, "manual")

	_, body := e.do(t, http.MethodGet, "/metrics", "")

	for _, want := range []string{
		`lockworker_orders_total{kind="lock",outcome="resolved",reason="",region="07"} 2`,
		`lockworker_orders_total{kind="lock",outcome="manual",reason="no_account",region="12"} 2`,
		`lockworker_passes_total{trigger="manual"} 1`,
		`lockworker_passes_total{trigger="schedule"} 1`,
		`lockworker_pass_duration_seconds_count{region="07"} 2`,
		`lockworker_last_successful_pass_timestamp_seconds{region="12"} 1.795428e+09`,
		`lockworker_active_locks 3`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	for _, line := range strings.Split(body, "\n") {
		if line != "" && !strings.HasPrefix(line, "#") && !strings.HasPrefix(line, "lockworker_") {
			t.Errorf("a metric not named lockworker_…: %s", line)
		}
	}
}

// A region whose view could not be read whole counts as failed, and the
// orders of the pages read before it are counted all the same: their locks
// were applied and their tickets updated.
func TestMetricsCountTheOrdersOfARegionReadInPart(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.syncer.run = func(_ context.Context, opts sync.Options) (sync.Summary, error) {
		sum := summary(opts, nil)
		sum.Regions[0].Error = `read the tickets of view "VIS-1177-las": page 2: HTTP 503`
		return sum, nil
	}
	e.svc.Sync(context.Background(), sync.Options{}, "schedule")

	_, body := e.do(t, http.MethodGet, "/metrics", "")

	for _, want := range []string{
		`lockworker_orders_total{kind="lock",outcome="resolved",reason="",region="07"} 1`,
		`lockworker_region_failures_total{region="07"} 1`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(body, `lockworker_last_successful_pass_timestamp_seconds{region="07"}`) {
		t.Error("region 07 has a last successful pass, although its view was not read whole")
	}
}

func TestRunPassesOnTheScheduleAndStopsCleanly(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		syncer := &fakeSyncer{}
		svc, err := service.New(service.Config{Schedule: "@every 1s", Regions: regions},
			syncer, &fakeStore{}, nil, zerolog.New(zerolog.NewTestWriter(t)), nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- svc.Run(ctx) }()

		time.Sleep(3500 * time.Millisecond)
		synctest.Wait()
		// One pass at start, then one a second.
		if n := len(syncer.passes()); n != 4 {
			t.Errorf("%d passes in 3.5 s, want 4", n)
		}

		stop()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		if _, err := svc.Sync(context.Background(), sync.Options{}, "manual"); !errors.Is(err, service.ErrStopping) {
			t.Errorf("Sync after the stop: %v, want ErrStopping", err)
		}
	})
}

// On the real schedule, a region whose pass hangs holds back only itself:
// every tick starts a pass of the other region on time.
func TestOnTheScheduleAHungRegionHoldsOnlyItself(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		syncer := &fakeSyncer{}
		release := make(chan struct{})
		var calls atomic.Int32
		syncer.run = func(ctx context.Context, opts sync.Options) (sync.Summary, error) {
			sum := sync.Summary{Pass: opts.Pass}
			call := calls.Add(1)
			for _, rs := range summary(opts, nil).Regions {
				if opts.Regions != nil && !slices.Contains(opts.Regions, rs.Code) {
					continue
				}
				if rs.Code == "12" && call == 2 { // the first scheduled pass
					select { // 12's systems hang
					case <-release:
					case <-ctx.Done():
					}
				}
				opts.RegionDone(rs)
				sum.Regions = append(sum.Regions, rs)
			}
			return sum, nil
		}
		svc, err := service.New(service.Config{Schedule: "@every 1s", Regions: regions},
			syncer, &fakeStore{}, nil, zerolog.New(zerolog.NewTestWriter(t)), nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- svc.Run(ctx) }()

		time.Sleep(3500 * time.Millisecond)
		synctest.Wait()
		// The pass at start reads both; the first tick's pass holds 12, and
		// the two ticks after it read 07 alone.
		passes := syncer.passes()
		if len(passes) != 4 {
			t.Fatalf("%d passes in 3.5 s with 12 hung, want 4: %+v", len(passes), passes)
		}
		for _, p := range passes[2:] {
			if !slices.Equal(p.Regions, []string{"07"}) {
				t.Errorf("a scheduled pass while 12 hung read %v, want [07]", p.Regions)
			}
		}

		close(release)
		stop()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
}

func TestAStopLetsTheRunningPassFinishItsOrders(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		syncer := &fakeSyncer{}
		var sawStopping, cancelled bool
		syncer.run = func(ctx context.Context, opts sync.Options) (sync.Summary, error) {
			<-opts.Stopping              // the pass is asked to start no more orders…
			sawStopping = true           //
			time.Sleep(time.Second)      // …and finishes the one under way,
			cancelled = ctx.Err() != nil // uncancelled within the grace.
			return summary(opts, nil), nil
		}
		svc, _ := service.New(service.Config{Schedule: "@every 1m", Regions: regions},
			syncer, &fakeStore{}, nil, zerolog.New(zerolog.NewTestWriter(t)), nil)
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- svc.Run(ctx) }()
		synctest.Wait()

		begun := time.Now()
		stop()
		<-done
		if !sawStopping || cancelled {
			t.Errorf("the pass saw stopping %v, was cancelled %v; want stopping and not cancelled", sawStopping, cancelled)
		}
		if took := time.Since(begun); took != time.Second {
			t.Errorf("the stop took %s, want the second the pass needed", took)
		}
	})
}

func TestAStopCancelsAPassThatOutlastsTheGrace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		syncer := &fakeSyncer{}
		syncer.run = func(ctx context.Context, opts sync.Options) (sync.Summary, error) {
			<-ctx.Done() // an order stuck on a slow Easit
			return summary(opts, nil), nil
		}
		svc, _ := service.New(service.Config{Schedule: "@every 1m", Regions: regions, StopGrace: 3 * time.Second},
			syncer, &fakeStore{}, nil, zerolog.New(zerolog.NewTestWriter(t)), nil)
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- svc.Run(ctx) }()
		synctest.Wait()

		begun := time.Now()
		stop()
		<-done
		if took := time.Since(begun); took != 3*time.Second {
			t.Errorf("the stop took %s, want the grace of 3s", took)
		}
	})
}

func TestAStopCancelsAManualPassThatOutlastsTheGrace(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		syncer := &fakeSyncer{}
		svc, _ := service.New(service.Config{Schedule: "@every 1m", Regions: regions, StopGrace: 3 * time.Second},
			syncer, &fakeStore{}, nil, zerolog.New(zerolog.NewTestWriter(t)), nil)
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- svc.Run(ctx) }()
		synctest.Wait() // the first pass has run

		// An operator's re-sync gets stuck on a slow Easit.
		syncer.mu.Lock()
		syncer.run = func(ctx context.Context, opts sync.Options) (sync.Summary, error) {
			<-ctx.Done()
			return summary(opts, nil), nil
		}
		syncer.mu.Unlock()
		manual := make(chan error)
		go func() {
			_, err := svc.Sync(context.Background(), sync.Options{}, "manual")
			manual <- err
		}()
		synctest.Wait()

		begun := time.Now()
		stop()
		<-done
		if took := time.Since(begun); took != 3*time.Second {
			t.Errorf("the stop took %s, want the grace of 3s", took)
		}
		if err := <-manual; err != nil {
			t.Errorf("the manual pass: %v", err)
		}
	})
}

func TestTheScheduleSkipsOnlyARegionStillAtWork(t *testing.T) {
	t.Parallel()
	e := setup(t)
	hung, release := make(chan string, 1), make(chan struct{})
	e.syncer.run = func(_ context.Context, opts sync.Options) (sync.Summary, error) {
		sum := sync.Summary{Pass: opts.Pass}
		for _, rs := range summary(opts, nil).Regions {
			if (opts.Regions != nil && !slices.Contains(opts.Regions, rs.Code)) || (opts.Region != "" && opts.Region != rs.Code) {
				continue
			}
			if rs.Code == "12" {
				hung <- opts.Pass
				<-release // 12's systems hang
			}
			opts.RegionDone(rs)
			sum.Regions = append(sum.Regions, rs)
		}
		return sum, nil
	}
	first := make(chan error, 1)
	go func() {
		_, err := e.svc.Sync(context.Background(), sync.Options{}, "schedule")
		first <- err
	}()
	running := <-hung

	// The next scheduled pass starts on time, in 07 only.
	e.clock.Advance(3 * time.Minute)
	if _, err := e.svc.Sync(context.Background(), sync.Options{}, "schedule"); err != nil {
		t.Fatalf("the next scheduled pass: %v, want it run in 07", err)
	}
	passes := e.syncer.passes()
	if got := passes[len(passes)-1].Regions; !slices.Equal(got, []string{"07"}) {
		t.Errorf("the next scheduled pass read %v, want [07]", got)
	}
	// A manual pass of 07 does not wait for 12; one of 12, or of all, is
	// turned away naming the pass at work.
	if _, err := e.svc.Sync(context.Background(), sync.Options{Region: "07"}, "manual"); err != nil {
		t.Errorf("a manual pass of 07: %v", err)
	}
	for _, opts := range []sync.Options{{Region: "12"}, {}} {
		var busy *service.ErrBusy
		if _, err := e.svc.Sync(context.Background(), opts, "manual"); !errors.As(err, &busy) || busy.Pass != running {
			t.Errorf("a manual pass of %q: %v, want busy with pass %s", opts.Region, err, running)
		}
	}
	// Readiness and the metrics say which region is held.
	status, body := e.do(t, http.MethodGet, "/readyz", "")
	if status != http.StatusServiceUnavailable || !strings.Contains(body, "region 12 Region Skåne: pass "+running+" has been running for 3m0s") || strings.Contains(body, "region 07") {
		t.Errorf("readyz = %d %s, want 503 naming 12 alone as held by its pass", status, body)
	}
	if _, body := e.do(t, http.MethodGet, "/metrics", ""); !strings.Contains(body, `lockworker_region_skipped_total{region="12"} 1`) {
		t.Errorf("metrics lack the skipped region:\n%s", body)
	}

	close(release)
	if err := <-first; err != nil {
		t.Errorf("the first pass: %v", err)
	}
	if _, err := e.svc.Sync(context.Background(), sync.Options{Region: "12"}, "manual"); err != nil {
		t.Errorf("a manual pass of 12 once its pass ended: %v", err)
	}
}
