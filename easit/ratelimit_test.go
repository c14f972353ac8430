package easit_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	gosync "sync"
	"testing"
	"testing/synctest"
	"time"

	"golang.org/x/time/rate"

	"github.com/lockworker/lockworker/easit"
)

// pongTransport answers every request with Pong! and notes when it came.
type pongTransport struct {
	mu    gosync.Mutex
	times []time.Time
}

func (p *pongTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	p.mu.Lock()
	p.times = append(p.times, time.Now())
	p.mu.Unlock()
	return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}},
		Body: io.NopCloser(strings.NewReader(`{"message":"Pong!"}`)), Request: r}, nil
}

func TestTheRateLimitSpacesRequests(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		transport := &pongTransport{}
		client := easit.NewClient("http://easit.example", testKey,
			easit.WithHTTPClient(&http.Client{Transport: transport}),
			easit.WithRateLimit(rate.NewLimiter(2, 1)))
		begun := time.Now()

		for range 5 {
			if err := client.Ping(t.Context()); err != nil {
				t.Fatal(err)
			}
		}

		// Two requests a second, the first at once: the fifth after 2 s.
		if took := time.Since(begun); took != 2*time.Second {
			t.Errorf("5 requests took %s, want 2s", took)
		}
		for i := 1; i < len(transport.times); i++ {
			if gap := transport.times[i].Sub(transport.times[i-1]); gap != 500*time.Millisecond {
				t.Errorf("request %d came %s after the one before, want 500ms", i+1, gap)
			}
		}
	})
}

func TestAnUpdateHeldBackByTheRateLimitWasNotSent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		transport := &pongTransport{}
		client := easit.NewClient("http://easit.example", testKey,
			easit.WithHTTPClient(&http.Client{Transport: transport}),
			easit.WithRateLimit(rate.NewLimiter(rate.Every(time.Minute), 1)))
		if err := client.Ping(t.Context()); err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()

		_, err := client.Import(ctx, easit.ImportRequest{Handler: "H", Items: []easit.ImportItem{{UID: "u1"}}})

		if err == nil || easit.Uncertain(err) || !easit.Retryable(err) {
			t.Errorf("Import held back: %v (uncertain %v, retryable %v), want a safe, retryable error", err, easit.Uncertain(err), easit.Retryable(err))
		}
		var e *easit.Error
		if !errors.As(err, &e) || len(transport.times) != 1 {
			t.Errorf("error %v after %d requests, want an *easit.Error and only the ping sent", err, len(transport.times))
		}
	})
}
