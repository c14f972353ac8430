package service_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/rs/zerolog"

	"github.com/lockworker/lockworker/easit"
	"github.com/lockworker/lockworker/service"
	"github.com/lockworker/lockworker/sync"
)

// exportSecret is region 07's export secret in these tests; region 12 has
// none.
const exportSecret = "the-export-secret-of-region-07-of-32-characters"

// exports are the push endpoints of the tests: region 07's alone, reading
// bodies as lockworker does, by the default labels.
var exports = map[string]service.Export{
	"07": {Secret: exportSecret, Tickets: easit.Fields{}},
}

// bothExports are the push endpoints of both regions.
var bothExports = map[string]service.Export{
	"07": exports["07"],
	"12": {Secret: exportSecret, Tickets: easit.Fields{}},
}

// exportBody is Easit's export of the tickets, each with a personnummer
// (Skatteverket's test number) and a status the view need not agree with.
func exportBody(tickets ...string) string {
	var items []string
	for _, t := range tickets {
		items = append(items, `{"id":"1","uid":"u`+t+`","property":[{"name":"Id","content":"`+t+`"},`+
			`{"name":"Status","content":"Registrerad"},{"name":"Personnummer","content":"199908072391"}]}`)
	}
	return `{"itemToImport":[` + strings.Join(items, ",") + `]}`
}

// push sends a body to POST /easit/{code} with Basic auth of user and
// password, none when both are empty.
func push(t *testing.T, base, code, user, password, body string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, base+"/easit/"+code, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if user != "" || password != "" {
		req.SetBasicAuth(user, password)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(answer)
}

// pushPasses are the passes of pushed tickets among passes.
func pushPasses(passes []sync.Options) []sync.Options {
	var out []sync.Options
	for _, p := range passes {
		if p.Tickets != nil {
			out = append(out, p)
		}
	}
	return out
}

// Easit authenticates with the region's export secret as its Basic
// password, whatever its user name; nothing else, not even the admin token,
// opens the endpoint, and a region without a secret has none.
func TestAPushNeedsTheRegionsExportSecret(t *testing.T) {
	t.Parallel()
	syncer := &fakeSyncer{}
	a := startAdminWith(t, service.Config{Exports: exports}, syncer)
	base := "http://" + a.addr
	for _, tt := range []struct{ name, user, password string }{
		{"no credentials", "", ""},
		{"a wrong password", "easit", "not-the-export-secret"},
		{"the secret as the user name", exportSecret, ""},
		{"the admin token", "easit", adminToken},
	} {
		code, header, body := push(t, base, "07", tt.user, tt.password, exportBody("55"))
		if code != http.StatusUnauthorized || header.Get("WWW-Authenticate") != `Basic realm="lockworker"` {
			t.Errorf("%s: %d %q, WWW-Authenticate %q; want 401 and Basic realm=\"lockworker\"", tt.name, code, body, header.Get("WWW-Authenticate"))
		}
	}
	req, _ := http.NewRequest(http.MethodPost, base+"/easit/07", strings.NewReader(exportBody("55")))
	req.Header.Set("Authorization", "Bearer "+adminToken)
	if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("the admin token as a bearer token: %v %v, want 401", resp.StatusCode, err)
	} else {
		resp.Body.Close()
	}
	for _, user := range []string{"", "easit", "anyone at all"} {
		if code, _, body := push(t, base, "07", user, exportSecret, exportBody("55")); code != http.StatusAccepted || body != `{"queued":1}`+"\n" {
			t.Errorf("the secret with user %q: %d %q, want 202 {\"queued\":1}", user, code, body)
		}
	}
	for _, region := range []string{"12", "99", "07x"} {
		if code, _, _ := push(t, base, region, "easit", exportSecret, exportBody("55")); code != http.StatusNotFound {
			t.Errorf("POST /easit/%s: %d, want 404: region 12 has no export secret, 99 is not configured", region, code)
		}
	}
	for deadline := time.Now().Add(5 * time.Second); len(pushPasses(syncer.passes())) == 0; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no pass of the pushed ticket within 5 s")
		}
	}
	if logs := a.logs.String(); strings.Contains(logs, exportSecret) || strings.Contains(logs, "199908072391") {
		t.Errorf("the log shows the secret or the body:\n%s", logs)
	}
}

// A body that is too large, not JSON, not an export, or names no ticket is
// refused with a short reason, and starts no pass.
func TestABodyThatIsNoExportIsABadRequest(t *testing.T) {
	t.Parallel()
	syncer := &fakeSyncer{}
	a := startAdminWith(t, service.Config{Exports: exports}, syncer)
	huge := `{"itemToImport":[{"property":[{"name":"Id","content":"55"},{"name":"Beskrivning","content":"` + strings.Repeat("x", 1<<20) + `"}]}]}`
	for _, tt := range []struct{ name, body, want string }{
		{"over 1 MB", huge, "over 1 MB"},
		{"not JSON", "Id=55&Personnummer=199908072391", "not JSON"},
		{"not an export", `{"items":{"item":[{"property":[{"name":"Id","content":"55"}]}]}}`, "not an Easit export"},
		{"no ticket number", `{"itemToImport":[{"property":[{"name":"Personnummer","content":"199908072391"}]}]}`, "no item of the export has a ticket number: each lacks the property"},
	} {
		code, _, body := push(t, "http://"+a.addr, "07", "easit", exportSecret, tt.body)
		if code != http.StatusBadRequest || !strings.Contains(body, tt.want) || len(body) > 200 {
			t.Errorf("%s: %d %q, want 400 saying %q in a line", tt.name, code, body, tt.want)
		}
	}
	time.Sleep(time.Second) // longer than a push waits for its pass
	if got := pushPasses(syncer.passes()); len(got) > 0 {
		t.Errorf("passes of refused pushes: %+v", got)
	}
	if logs := a.logs.String(); strings.Contains(logs, "199908072391") || strings.Contains(logs, "xxxx") {
		t.Errorf("the log shows a body:\n%s", logs)
	}
}

// pushService runs a service on "@every 1h" in a synctest bubble, its pass
// at start done, and returns it with its handler; the test's end stops it.
func pushService(t *testing.T, syncer *fakeSyncer) (*service.Service, http.Handler) {
	t.Helper()
	metrics := service.NewMetrics(func(context.Context) (int64, error) { return 0, nil })
	svc, err := service.New(service.Config{Schedule: "@every 1h", Regions: regions, Token: adminToken, Exports: bothExports},
		syncer, &fakeStore{}, metrics, zerolog.New(zerolog.NewTestWriter(t)), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- svc.Run(ctx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	synctest.Wait()
	return svc, svc.Handler()
}

// pushIn sends an export to the handler in the bubble.
func pushIn(t *testing.T, h http.Handler, code string, tickets ...string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/easit/"+code, strings.NewReader(exportBody(tickets...)))
	req.SetBasicAuth("easit", exportSecret)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusAccepted {
		t.Fatalf("POST /easit/%s = %d %q, want 202", code, rec.Code, rec.Body.String())
	}
}

// Pushes that come close together are handled in one pass of the region,
// narrowed to their tickets, which starts within a second of the first and
// counts as a push in the metrics.
func TestPushesCloseTogetherAreHandledInOnePass(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		syncer := &fakeSyncer{}
		started := make(chan time.Time, 10)
		syncer.run = func(_ context.Context, opts sync.Options) (sync.Summary, error) {
			if opts.Tickets != nil {
				started <- time.Now()
			}
			return summary(opts, nil), nil
		}
		_, h := pushService(t, syncer)
		first := time.Now()
		pushIn(t, h, "07", "56")
		time.Sleep(50 * time.Millisecond)
		pushIn(t, h, "07", "55", "56")
		time.Sleep(time.Second)
		synctest.Wait()

		passes := pushPasses(syncer.passes())
		if len(passes) != 1 || passes[0].Region != "07" || !slices.Equal(passes[0].Tickets, []string{"55", "56"}) {
			t.Fatalf("passes of pushed tickets %+v; want one, of region 07 and tickets 55 and 56", passes)
		}
		if took := (<-started).Sub(first); took >= time.Second {
			t.Errorf("the pass started %s after the first push, want within a second", took)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		if !strings.Contains(rec.Body.String(), `lockworker_passes_total{trigger="push"} 1`) {
			t.Errorf("the metrics do not count the pass as a push:\n%s", rec.Body.String())
		}
	})
}

// A push that comes while a pass is at work on the region waits for it, and
// its pass starts the moment it ends; another region's pushes do not wait.
func TestAPushWhileTheRegionsPassRunsIsHandledRightAfter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		syncer := &fakeSyncer{}
		hold, release := make(chan struct{}), make(chan struct{})
		syncer.run = func(_ context.Context, opts sync.Options) (sync.Summary, error) {
			if opts.Tickets == nil && opts.Ticket == "42" { // the operator's pass of 07, held
				close(hold)
				<-release
			}
			sum := summary(opts, nil)
			sum.Regions = slices.DeleteFunc(sum.Regions, func(r sync.RegionSummary) bool { return opts.Region != "" && r.Code != opts.Region })
			return sum, nil
		}
		svc, h := pushService(t, syncer)
		go func() { _, _ = svc.Sync(context.Background(), sync.Options{Region: "07", Ticket: "42"}, "manual") }()
		<-hold
		released := time.Time{}
		defer func() {
			if released.IsZero() {
				close(release) // the test failed while 07 was held
			}
		}()
		pushIn(t, h, "07", "55")
		pushIn(t, h, "12", "101")
		time.Sleep(5 * time.Second)
		synctest.Wait()
		passes := pushPasses(syncer.passes())
		if len(passes) != 1 || passes[0].Region != "12" {
			t.Fatalf("passes of pushed tickets while 07 is held: %+v; want 12's alone", passes)
		}

		released = time.Now()
		close(release)
		synctest.Wait()
		passes = pushPasses(syncer.passes())
		if len(passes) != 2 || passes[1].Region != "07" || !slices.Equal(passes[1].Tickets, []string{"55"}) {
			t.Fatalf("passes of pushed tickets once 07 is free: %+v; want 07's of ticket 55 after 12's", passes)
		}
		if waited := time.Since(released); waited != 0 {
			t.Errorf("the pushed ticket waited %s after the region's pass ended, want none", waited)
		}
	})
}

// A pass of all a region's orders that starts after a push handles its
// tickets: no pass of them follows.
func TestAPassOfAllOrdersTakesInThePushesBeforeIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		syncer := &fakeSyncer{}
		svc, h := pushService(t, syncer)
		pushIn(t, h, "07", "55")
		if _, err := svc.Sync(context.Background(), sync.Options{}, "manual"); err != nil {
			t.Fatal(err)
		}
		time.Sleep(5 * time.Second)
		synctest.Wait()
		if passes := pushPasses(syncer.passes()); len(passes) > 0 {
			t.Errorf("passes of pushed tickets after a pass of all orders: %+v, want none", passes)
		}
	})
}

// A stop does not wait for the pushes not yet handled: they are left to the
// next start's passes, and a push during the stop is refused.
func TestAStopLeavesThePendingPushes(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		syncer := &fakeSyncer{}
		hold := make(chan struct{})
		syncer.run = func(_ context.Context, opts sync.Options) (sync.Summary, error) {
			if opts.Ticket == "42" {
				close(hold)
				<-opts.Stopping // held until the stop
			}
			return summary(opts, nil), nil
		}
		metrics := service.NewMetrics(func(context.Context) (int64, error) { return 0, nil })
		svc, err := service.New(service.Config{Schedule: "@every 1h", Regions: regions, Token: adminToken, Exports: exports},
			syncer, &fakeStore{}, metrics, zerolog.New(zerolog.NewTestWriter(t)), nil)
		if err != nil {
			t.Fatal(err)
		}
		ctx, stop := context.WithCancel(context.Background())
		done := make(chan error)
		go func() { done <- svc.Run(ctx) }()
		synctest.Wait()
		go func() { _, _ = svc.Sync(context.Background(), sync.Options{Region: "07", Ticket: "42"}, "manual") }()
		<-hold
		h := svc.Handler()
		pushIn(t, h, "07", "55")

		begun := time.Now()
		stop()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		if took := time.Since(begun); took > 0 {
			t.Errorf("the stop took %s, want no wait for the pushes", took)
		}
		synctest.Wait()
		if passes := pushPasses(syncer.passes()); len(passes) > 0 {
			t.Errorf("passes of pushed tickets after the stop: %+v", passes)
		}
		req := httptest.NewRequest(http.MethodPost, "/easit/07", strings.NewReader(exportBody("56")))
		req.SetBasicAuth("easit", exportSecret)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusServiceUnavailable {
			t.Errorf("a push after the stop: %d %q, want 503", rec.Code, rec.Body.String())
		}
	})
}
