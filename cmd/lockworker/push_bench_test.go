package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/lockworker/lockworker/config"
)

// BenchmarkPush measures how soon an order that Easit pushes is carried out:
// lockworker serve runs with the program's own wiring at the default
// configuration (but for the schedule, an hour, so that no scheduled pass
// helps), over the fakes of two regions answering after benchLatency, and
// each iteration registers a lock order, pushes it to POST /easit/07 and
// waits until the fake Easit shows the ticket resolved:
//
//	go test ./cmd/lockworker -run '^$' -bench Push -benchtime 20x
//
// It reports s/push, the mean seconds from the push to the resolved ticket,
// and max_s/push, the longest.
func BenchmarkPush(b *testing.B) {
	w := newBenchWorld(b, 2)
	r := w.regions[0]
	const secret = "the-export-secret-of-the-benchmark-0123456789"
	w.cfg.Schedule = "@every 1h"
	w.cfg.Admin.Listen = "127.0.0.1:0"
	w.cfg.Admin.Token = config.Secret("the-admin-token-of-the-benchmark-0123456789")
	w.cfg.Regions[0].Easit.ExportSecret = config.Secret(secret)
	// The orders, their accounts and their forms, each a draft that no
	// pass acts on until the iteration registers it.
	const draft = "Utkast"
	w.addOrdersTo(b, r, b.N, 0)
	for i := range b.N {
		r.easit.SetStatus(fmt.Sprint(1000+i), draft)
	}

	ctx, stop := context.WithCancel(context.Background())
	listening := make(chan net.Addr, 1)
	served := make(chan error, 1)
	a := &app{now: time.Now, stderr: io.Discard}
	go func() {
		served <- a.serve(ctx, w.cfg, w.store, newJSONLogger(io.Discard, zerolog.InfoLevel), func(addr net.Addr) { listening <- addr })
	}()
	defer func() {
		stop()
		if err := <-served; err != nil {
			b.Errorf("serve: %v", err)
		}
	}()
	base := "http://" + (<-listening).String()
	waitBench(b, 30*time.Second, "the pass at start reads both regions", func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})

	var total, longest time.Duration
	b.ResetTimer()
	for i := range b.N {
		b.StopTimer()
		ticket := fmt.Sprint(1000 + i)
		r.easit.SetStatus(ticket, open)
		body := fmt.Sprintf(`{"itemToImport":[{"id":"1","uid":"u%s","property":[{"name":"Id","content":%q}]}]}`, ticket, ticket)
		req, err := http.NewRequest(http.MethodPost, base+"/easit/"+r.code, strings.NewReader(body))
		if err != nil {
			b.Fatal(err)
		}
		req.SetBasicAuth("easit", secret)
		b.StartTimer()
		pushed := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			b.Fatalf("POST /easit/%s = %d, want 202", r.code, resp.StatusCode)
		}
		waitBench(b, 10*time.Second, "ticket "+ticket+" resolved", func() bool { return r.easit.Status(ticket) == resolved })
		took := time.Since(pushed)
		b.StopTimer()
		total += took
		longest = max(longest, took)
	}
	b.ReportMetric(total.Seconds()/float64(b.N), "s/push")
	b.ReportMetric(longest.Seconds(), "max_s/push")
}

// waitBench polls cond every millisecond until it holds, failing the
// benchmark if it does not within timeout.
func waitBench(b *testing.B, timeout time.Duration, what string, cond func() bool) {
	b.Helper()
	for deadline := time.Now().Add(timeout); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			b.Fatalf("%s: not within %s", what, timeout)
		}
	}
}
