package unreachable_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/lockworker/lockworker/internal/unreachable"
)

// Is tells a name that does not resolve and a refused connection, as an HTTP
// client reports them, from a server that answers or that is slow.
func TestIs(t *testing.T) {
	t.Parallel()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close() // nothing listens at its address any more
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		<-r.Context().Done()
	}))
	t.Cleanup(slow.Close)

	tests := []struct {
		name string
		url  string
		want bool
	}{
		// .invalid never resolves (RFC 6761); without a resolver the lookup
		// fails all the same.
		{"a name that does not resolve", "http://easit.lockworker.invalid:9001/ping", true},
		{"a refused connection", closed.URL, true},
		{"a server that does not answer in time", slow.URL, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, tt.url, nil)
			if err != nil {
				t.Fatal(err)
			}
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				resp.Body.Close()
				t.Fatalf("GET %s answered %d, want an error", tt.url, resp.StatusCode)
			}
			if got := unreachable.Is(err); got != tt.want {
				t.Errorf("Is(%v) = %v, want %v", err, got, tt.want)
			}
		})
	}

	if unreachable.Is(nil) || unreachable.Is(errors.New("HTTP 404")) || unreachable.Is(&net.OpError{Op: "read", Err: errors.New("connection reset by peer")}) {
		t.Error("Is took an error that is not a failure to reach the server")
	}
}
