package easit_test

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lockworker/lockworker/easit"
)

// testKey is the API key of the tests: the secret that no error may show.
const testKey = "k3y-07-Kronoberg-s3cret"

// setup starts an httptest server for one test and returns a client of it,
// with retry waits short enough for tests, and the mux on which the test
// installs its Easit.
func setup(t *testing.T, opts ...easit.Option) (*easit.Client, *http.ServeMux) {
	t.Helper()
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	opts = append([]easit.Option{easit.WithRetryWait(time.Millisecond, 2*time.Millisecond)}, opts...)
	return easit.NewClient(srv.URL, testKey, opts...), mux
}

// testdata returns a recorded body under testdata/.
func testdata(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// checkRequest asserts what every request to Easit carries: the method, JSON
// headers, and Basic auth with the API key as user name (or none, for /ping).
// It returns the request's body.
func checkRequest(t *testing.T, r *http.Request, method string, auth bool) []byte {
	t.Helper()
	if r.Method != method {
		t.Errorf("method = %s, want %s", r.Method, method)
	}
	if got := r.Header.Get("Accept"); got != "application/json" {
		t.Errorf("Accept = %q, want application/json", got)
	}
	user, password, ok := r.BasicAuth()
	switch {
	case auth && (!ok || user != testKey || password != ""):
		t.Errorf("Basic auth = %q, %q, %v; want the API key as user name and no password", user, password, ok)
	case !auth && r.Header.Get("Authorization") != "":
		t.Errorf("Authorization sent to %s, which needs none", r.URL.Path)
	}
	var body []byte
	if r.ContentLength != 0 {
		if got := r.Header.Get("Content-Type"); got != "application/json" {
			t.Errorf("Content-Type = %q, want application/json", got)
		}
		var err error
		if body, err = io.ReadAll(r.Body); err != nil {
			t.Errorf("read body: %v", err)
		}
	}
	return body
}

// assertJSON asserts that got is the JSON value want, whatever its spacing
// and key order.
func assertJSON(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Fatalf("body %s is not JSON: %v", got, err)
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("want %s is not JSON: %v", want, err)
	}
	if !reflect.DeepEqual(g, w) {
		t.Errorf("body = %s\nwant   %s", got, want)
	}
}

// step answers one request.
type step func(w http.ResponseWriter, r *http.Request)

// script answers the n-th request with steps[n], and every request after the
// last step with the last step. It counts the requests.
func script(steps ...step) (http.HandlerFunc, *atomic.Int32) {
	var n atomic.Int32
	return func(w http.ResponseWriter, r *http.Request) {
		i := int(n.Add(1)) - 1
		steps[min(i, len(steps)-1)](w, r)
	}, &n
}

func status(code int, text string) step {
	return func(w http.ResponseWriter, _ *http.Request) { http.Error(w, text, code) }
}

func body(data []byte) step {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(data)
	}
}

// redirect sends the client elsewhere.
func redirect(w http.ResponseWriter, r *http.Request) {
	http.Redirect(w, r, "/integration-api/elsewhere", http.StatusFound)
}

// drop closes the connection without an answer: a network error.
func drop(w http.ResponseWriter, _ *http.Request) {
	conn, _, err := http.NewResponseController(w).Hijack()
	if err != nil {
		panic(err)
	}
	conn.Close()
}

// slow answers after d, or not at all if the client gives up first.
func slow(d time.Duration, then step) step {
	return func(w http.ResponseWriter, r *http.Request) {
		// The server notices a client that gives up only once it has read
		// the request's body.
		_, _ = io.Copy(io.Discard, r.Body)
		select {
		case <-time.After(d):
			then(w, r)
		case <-r.Context().Done():
		}
	}
}

// observed records what a client reports to its observer.
type observed struct {
	mu    sync.Mutex
	calls []string
}

func (o *observed) observe(op string, status int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls = append(o.calls, fmt.Sprintf("%s %d", op, status))
}

func (o *observed) get() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.calls...)
}
