package easit_test

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lockworker/lockworker/easit"
	"github.com/lockworker/lockworker/internal/httpedge"
	"github.com/lockworker/lockworker/internal/httpedge/httpedgetest"
)

// A hostile Easit, or whatever answers in its place, cannot take the API key
// elsewhere, nor the client's memory.

// witness is a server that should never be reached: it counts the requests
// that reach it and answers each as a forged Easit would.
type witness struct {
	*httptest.Server
	hits atomic.Int32
}

func newWitness(t *testing.T, tls bool) *witness {
	t.Helper()
	w := &witness{}
	h := http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		w.hits.Add(1)
		fmt.Fprint(rw, `{"message":"Pong!","items":{"item":[]},"page":1,"totalNumberOfPages":1,"importItemResult":[]}`)
	})
	if tls {
		w.Server = httptest.NewTLSServer(h)
	} else {
		w.Server = httptest.NewServer(h)
	}
	t.Cleanup(w.Close)
	return w
}

func TestTheClientFollowsNoRedirect(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		tls       bool // the configured Easit speaks TLS
		targetTLS bool
	}{
		{"to another port of the same host", false, false},
		{"from https to http", true, false},
		{"to another https host", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			target := newWitness(t, tc.targetTLS)
			redirect := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, target.URL+r.URL.Path, http.StatusTemporaryRedirect)
			})
			var srv *httptest.Server
			if tc.tls {
				srv = httptest.NewTLSServer(redirect)
			} else {
				srv = httptest.NewServer(redirect)
			}
			t.Cleanup(srv.Close)
			hc := srv.Client()
			if tc.targetTLS {
				hc = target.Client() // trusts both test servers' certificate
			}
			c := easit.NewClient(srv.URL, testKey, easit.WithHTTPClient(hc), easit.WithReadBudget(time.Second))

			errs := map[string]error{"ping": c.Ping(t.Context())}
			_, errs["list"] = c.ListAllItems(t.Context(), easit.ListOptions{View: "V"})
			_, errs["import"] = c.Import(t.Context(), easit.ImportRequest{Handler: "H", Items: []easit.ImportItem{{UID: "u1"}}})
			for op, err := range errs {
				if err == nil || !strings.Contains(err.Error(), "307") {
					t.Errorf("%s: %v, want a failure naming the redirect", op, err)
				}
			}
			if n := target.hits.Load(); n != 0 {
				t.Errorf("the redirect's target got %d requests, want none", n)
			}
		})
	}
}

func TestTheClientSendsNothingToAnotherOrigin(t *testing.T) {
	t.Parallel()
	target := newWitness(t, false)
	hc, err := httpedge.Client(nil, "http://127.0.0.1:1", nil)
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, target.URL, nil)
	req.SetBasicAuth(testKey, "")
	if _, err := hc.Do(req); err == nil || !strings.Contains(err.Error(), "another origin") {
		t.Errorf("a request to another origin: %v, want it refused", err)
	}
	if target.hits.Load() != 0 {
		t.Error("the request reached the other origin")
	}
}

func TestAnswersAreReadThroughALimit(t *testing.T) {
	t.Parallel()
	const limit = 64 << 10
	var calls atomic.Int32
	page := func(n, total int, pad int) string {
		return fmt.Sprintf(`{"items":{"item":[{"id":"13:%d","property":[{"name":"Id","content":"%d","rawValue":"%d"}],"attachment":[{"data":"%s"}]}]},"page":%d,"totalNumberOfPages":%d}`,
			n, n, n, strings.Repeat("A", pad), n, total)
	}
	for _, tc := range []struct {
		name   string
		answer http.HandlerFunc
		want   string
		calls  int32 // 0: not checked
	}{
		{"a page over the limit", func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			fmt.Fprint(w, page(1, 1, limit))
		}, "too large", 1},
		{"an endless page", func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			fmt.Fprint(w, `{"items":{"item":[{"id":"13:1","attachment":["`)
			chunk := strings.Repeat("A", 32<<10)
			for r.Context().Err() == nil {
				if _, err := fmt.Fprint(w, chunk); err != nil {
					return
				}
			}
		}, "too large", 1},
		{"a view of many pages each under the limit", func(w http.ResponseWriter, r *http.Request) {
			calls.Add(1)
			var req struct{ Page int }
			_ = decodeJSON(r, &req)
			fmt.Fprint(w, page(req.Page, 100, limit-1024))
		}, "more than 262144 bytes by page 5", 5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			calls.Store(0)
			c, mux := setup(t, easit.WithResponseLimit(limit), easit.WithReadBudget(5*time.Second))
			mux.HandleFunc("/integration-api/items", tc.answer)
			start := time.Now()
			_, err := c.ListAllItems(t.Context(), easit.ListOptions{View: "V"})
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("ListAllItems: %v, want an error saying %q", err, tc.want)
			}
			if n := calls.Load(); n != tc.calls {
				t.Errorf("%d requests, want %d: an answer too large is not retried", n, tc.calls)
			}
			if d := time.Since(start); d > 4*time.Second {
				t.Errorf("the read took %s: the limit, not the read budget, should end it", d)
			}
		})
	}

	// Under the limit, a page's attachments are skipped, its items read.
	c, mux := setup(t, easit.WithResponseLimit(limit))
	mux.HandleFunc("/integration-api/items", func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, page(1, 1, limit/2)) })
	view, err := c.ListAllItems(t.Context(), easit.ListOptions{View: "V"})
	if err != nil || len(view.Items) != 1 || view.Items[0].ID != "13:1" || len(view.Items[0].Properties) != 1 {
		t.Errorf("ListAllItems = %+v, %v; want item 13:1 with its property", view, err)
	}
}

func TestTheClientSpeaksMutualTLSWithTheRegionsCA(t *testing.T) {
	t.Parallel()
	srv, files := httpedgetest.NewMutualTLSServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"message":"Pong!"}`)
	}))
	httpedgetest.CheckMutualTLS(t, files, func(ctx context.Context, cfg *tls.Config) error {
		return easit.NewClient(srv.URL, testKey, easit.WithTLS(cfg), easit.WithReadBudget(2*time.Second)).Ping(ctx)
	})
}

func TestTheKeyIsHiddenInEveryFormEasitEchoesIt(t *testing.T) {
	t.Parallel()
	for _, echo := range []string{
		"user=" + strings.ToLower(testKey),
		"user=" + strings.ToUpper(testKey),
		`{"user":"` + testKey + `"}`,
		"Basic " + basicCredentials(testKey),
		strings.Repeat("x", 185) + " user=" + testKey,
	} {
		c, mux := setup(t, easit.WithReadBudget(time.Second))
		mux.HandleFunc("/integration-api/items", func(w http.ResponseWriter, r *http.Request) {
			if r.Method == http.MethodPost {
				fmt.Fprintf(w, `{"importItemResult":[{"uid":"u1","result":"Exception","skippedOrExceptionMessage":%q}]}`, echo)
				return
			}
			http.Error(w, echo, http.StatusUnauthorized)
		})
		_, listErr := c.ListItems(t.Context(), easit.ListOptions{View: "V"})
		_, importErr := c.Import(t.Context(), easit.ImportRequest{Handler: "H", Items: []easit.ImportItem{{UID: "u1"}}})
		for _, err := range []error{listErr, importErr} {
			if err == nil {
				t.Fatalf("echo %q: no error", echo)
			}
			text := strings.ToLower(err.Error())
			if strings.Contains(text, strings.ToLower(testKey[:6])) || strings.Contains(text, strings.ToLower(basicCredentials(testKey)[:6])) {
				t.Errorf("echo %q: the error shows the key: %v", echo, err)
			}
		}
	}
}

// basicCredentials is what the Authorization header carries for key.
func basicCredentials(key string) string {
	return base64.StdEncoding.EncodeToString([]byte(key + ":"))
}

// decodeJSON reads a request's JSON body into v.
func decodeJSON(r *http.Request, v any) error { return json.NewDecoder(r.Body).Decode(v) }
