package cosmic_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lockworker/lockworker"
	"github.com/lockworker/lockworker/cosmic"
	"github.com/lockworker/lockworker/internal/httpedge/httpedgetest"
)

// A hostile form service, or whatever answers in its place, cannot take the
// token elsewhere, have a forged form accepted from another host, or take
// the client's memory.

// forgery is a server that should never be reached: it counts the requests
// and their tokens, and answers each with a signed lock form.
type forgery struct {
	*httptest.Server
	hits, tokens atomic.Int32
}

func newForgery(t *testing.T, tls bool) *forgery {
	t.Helper()
	f := &forgery{}
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.hits.Add(1)
		if r.Header.Get("Authorization") != "" {
			f.tokens.Add(1)
		}
		w.Header().Set("Content-Type", "application/fhir+json")
		_, _ = w.Write(fixture(t, "lock-form-signed.json"))
	})
	if tls {
		f.Server = httptest.NewTLSServer(h)
	} else {
		f.Server = httptest.NewServer(h)
	}
	t.Cleanup(f.Close)
	return f
}

func TestTheClientFollowsNoRedirect(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name           string
		tls, targetTLS bool
	}{
		{"to another port of the same host", false, false},
		{"from https to http", true, false},
		{"to another https host", true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			target := newForgery(t, tc.targetTLS)
			redirect := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, target.URL+r.URL.Path, http.StatusFound)
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
				hc = target.Client()
			}
			c := cosmic.NewClient(srv.URL+"/fhir", token, cosmic.WithHTTPClient(hc), cosmic.WithReadBudget(time.Second))

			_, err := c.Form(t.Context(), "blankett-7f3a9c")
			var se *cosmic.StatusError
			if !errors.As(err, &se) || se.StatusCode != http.StatusFound || errors.Is(err, lockworker.ErrFormNotFound) {
				t.Errorf("Form: %v, want the redirect as a failure", err)
			}
			if err := c.Metadata(t.Context()); err == nil {
				t.Error("Metadata followed the redirect")
			}
			if n, tokens := target.hits.Load(), target.tokens.Load(); n != 0 || tokens != 0 {
				t.Errorf("the redirect's target got %d requests, %d with the token; want none", n, tokens)
			}
		})
	}
}

func TestTheClientSendsNothingToAnotherOrigin(t *testing.T) {
	t.Parallel()
	target := newForgery(t, false)
	// The service's own base URL names another origin than target.
	c := cosmic.NewClient("http://127.0.0.1:1/fhir", token, cosmic.WithHTTPClient(target.Client()), cosmic.WithReadBudget(200*time.Millisecond))
	if _, err := c.Form(t.Context(), "blankett-7f3a9c"); err == nil {
		t.Error("Form succeeded against a closed port")
	}
	if target.hits.Load() != 0 {
		t.Error("a request reached another origin")
	}
}

func TestAnswersAreReadThroughALimit(t *testing.T) {
	t.Parallel()
	const limit = 64 << 10
	endless := func(w http.ResponseWriter, r *http.Request, _ int) {
		fmt.Fprint(w, `{"resourceType":"DocumentReference","id":"blankett-7f3a9c","content":[{"attachment":{"data":"`)
		chunk := strings.Repeat("QUFB", 8<<10)
		for r.Context().Err() == nil {
			if _, err := fmt.Fprint(w, chunk); err != nil {
				return
			}
		}
	}
	c, s := setup(t, endless, cosmic.WithResponseLimit(limit), cosmic.WithReadBudget(5*time.Second))
	start := time.Now()
	_, err := c.Form(t.Context(), "blankett-7f3a9c")
	if err == nil || !strings.Contains(err.Error(), "too large") {
		t.Errorf("Form of an endless answer: %v, want an answer too large", err)
	}
	if n := len(s.Requests()); n != 1 {
		t.Errorf("%d requests, want 1", n)
	}
	if d := time.Since(start); d > 4*time.Second {
		t.Errorf("the read took %s: the limit, not the budget, should end it", d)
	}

	// An error answer is bounded too, and not retried.
	c, s = setup(t, reply(http.StatusInternalServerError, []byte(strings.Repeat("x", 2*limit))),
		cosmic.WithResponseLimit(limit), cosmic.WithReadBudget(time.Second))
	if err := c.Metadata(t.Context()); err == nil || strings.Contains(err.Error(), "xxxx") {
		t.Errorf("Metadata of a long error page: %v, want a failure without the page", err)
	}
	if n := len(s.Requests()); n != 1 {
		t.Errorf("%d requests of a long error page, want 1", n)
	}
}

func TestTheClientSpeaksMutualTLSWithTheRegionsCA(t *testing.T) {
	t.Parallel()
	srv, files := httpedgetest.NewMutualTLSServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(fixture(t, "metadata.json"))
	}))
	httpedgetest.CheckMutualTLS(t, files, func(ctx context.Context, cfg *tls.Config) error {
		return cosmic.NewClient(srv.URL, token, cosmic.WithTLS(cfg), cosmic.WithReadBudget(2*time.Second)).Metadata(ctx)
	})
}

func TestTheTokenIsHiddenInEveryFormTheServiceEchoesIt(t *testing.T) {
	t.Parallel()
	for _, echo := range []string{
		strings.ToLower(token),
		strings.ToUpper(token),
		token[:7] + "…",
		`\"` + token + `\"`,
		"id " + token,
	} {
		outcome := fmt.Appendf(nil, `{"resourceType":"OperationOutcome","issue":[{"diagnostics":%q}]}`, "rejected Bearer "+echo)
		c, _ := setup(t, reply(http.StatusUnauthorized, outcome), cosmic.WithReadBudget(time.Second))
		forged := fmt.Appendf(nil, `{"resourceType":%q,"id":"blankett-7f3a9c"}`, echo)
		d, _ := setup(t, reply(http.StatusOK, forged), cosmic.WithReadBudget(time.Second))
		_, formErr := c.Form(t.Context(), "blankett-7f3a9c")
		_, decodeErr := d.Form(t.Context(), "blankett-7f3a9c")
		for _, err := range []error{formErr, c.Metadata(t.Context()), decodeErr} {
			if err == nil {
				t.Fatalf("echo %q: no error", echo)
			}
			if strings.Contains(strings.ToLower(err.Error()), strings.ToLower(token[:6])) {
				t.Errorf("echo %q: the error shows the token: %v", echo, err)
			}
		}
	}
}
