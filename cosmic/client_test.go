package cosmic_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
	"unicode/utf8"

	"github.com/lockworker/lockworker"
	"github.com/lockworker/lockworker/cosmic"
)

// token is the bearer token of every test client.
const token = "tok-8Hq2ZpLw0vXc"

// request is what the test server saw of one request.
type request struct {
	Method, Path, Accept, Authorization string
}

// server is a FHIR endpoint under /fhir that records every request and lets
// the test answer it; n counts the requests from 1.
type server struct {
	base     string // the client's base URL
	mu       sync.Mutex
	requests []request
}

func (s *server) Requests() []request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]request(nil), s.requests...)
}

// setup starts a server answering with answer and returns a client of it,
// with retry waits short enough for tests; opts may override them.
func setup(t *testing.T, answer func(w http.ResponseWriter, r *http.Request, n int), opts ...cosmic.Option) (*cosmic.Client, *server) {
	t.Helper()
	s := &server{}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.requests = append(s.requests, request{r.Method, r.URL.Path, r.Header.Get("Accept"), r.Header.Get("Authorization")})
		n := len(s.requests)
		s.mu.Unlock()
		answer(w, r, n)
	}))
	t.Cleanup(ts.Close)
	s.base = ts.URL + "/fhir"
	opts = append([]cosmic.Option{cosmic.WithRetryWait(time.Millisecond, 5*time.Millisecond)}, opts...)
	return cosmic.NewClient(s.base, token, opts...), s
}

// fixture returns a recorded answer from testdata.
func fixture(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// reply answers every request with status and body.
func reply(status int, body []byte) func(http.ResponseWriter, *http.Request, int) {
	return func(w http.ResponseWriter, _ *http.Request, _ int) {
		w.Header().Set("Content-Type", "application/fhir+json; charset=utf-8")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}
}

// drop closes the connection without an answer: a network error.
func drop(w http.ResponseWriter, _ *http.Request, _ int) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	_ = conn.Close()
}

// inTurn answers the nth request with the nth answer, and any later one with
// the last.
func inTurn(answers ...func(http.ResponseWriter, *http.Request, int)) func(http.ResponseWriter, *http.Request, int) {
	return func(w http.ResponseWriter, r *http.Request, n int) {
		answers[min(n, len(answers))-1](w, r, n)
	}
}

// observed records what a client reports to its observer.
type observed struct {
	mu    sync.Mutex
	calls []string // "op status"
}

func (o *observed) observe(op string, status int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.calls = append(o.calls, fmt.Sprintf("%s %d", op, status))
}

func (o *observed) Calls() []string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]string(nil), o.calls...)
}

func mustHSAID(t *testing.T, s string) lockworker.HSAID {
	t.Helper()
	h, err := lockworker.ParseHSAID(s) // proves the fixture's HSA-id valid, Luhn included
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// hsaidError is why ParseHSAID refuses s.
func hsaidError(s string) error {
	_, err := lockworker.ParseHSAID(s)
	return err
}

func TestFormTranslatesDocumentReference(t *testing.T) {
	t.Parallel()
	blankett := "https://fhir.region.example/CodeSystem/blankett"
	loinc := lockworker.Code{System: "http://loinc.org", Code: "51851-4"}
	cet := time.FixedZone("CET", 3600)
	tests := []struct {
		name    string
		fixture string
		ref     string
		want    lockworker.Form
	}{
		{
			name:    "a signed lock form gives its evidence",
			fixture: "lock-form-signed.json",
			ref:     "blankett-7f3a9c",
			want: lockworker.Form{
				ID: "blankett-7f3a9c", Current: true, Final: true,
				Types:     []lockworker.Code{{System: blankett, Code: "1177-LAS"}, loinc},
				Patient:   "199908072391",
				Signer:    mustHSAID(t, "SE2321000065-1003"),
				Custodian: mustHSAID(t, "SE2321000065-E000000000001"),
				Date:      time.Date(2025, 3, 14, 9, 12, 31, 402e6, cet),
			},
		},
		{
			name:    "a preliminary form has no authenticator yet and is not final",
			fixture: "form-preliminary.json",
			ref:     "blankett-prel-0042",
			want: lockworker.Form{
				ID: "blankett-prel-0042", Current: true, Final: false,
				Types:     []lockworker.Code{{System: blankett, Code: "1177-HAV"}},
				Patient:   "200001012384",
				Custodian: mustHSAID(t, "SE2321000065-E000000000001"),
				Date:      time.Date(2025, 3, 14, 8, 55, 0, 0, time.UTC),
			},
		},
		{
			name:    "a form entered in error is not current",
			fixture: "form-entered-in-error.json",
			ref:     "blankett-fel-0007",
			want: lockworker.Form{
				ID: "blankett-fel-0007", Current: false, Final: true,
				Types:     []lockworker.Code{{System: blankett, Code: "1177-LAS"}},
				Patient:   "196408233234",
				Signer:    mustHSAID(t, "SE2321000065-1003"),
				Custodian: mustHSAID(t, "SE2321000065-E000000000001"),
				Date:      time.Date(2025, 3, 13, 16, 40, 0, 0, cet),
			},
		},
		{
			name:    "the OID systems of personnummer and HSA-id are read alike, and amended is final",
			fixture: "form-oid-systems.json",
			ref:     "BL.2025.0314-0019",
			want: lockworker.Form{
				ID: "BL.2025.0314-0019", Current: true, Final: true,
				Types:     []lockworker.Code{{System: blankett, Code: "1177-HAV"}},
				Patient:   "200001012384",
				Signer:    mustHSAID(t, "SE162321000065-1003"),
				Custodian: mustHSAID(t, "SE162321000065-E000000000001"),
				Date:      time.Date(2025, 3, 14, 13, 20, 0, 5e8, time.UTC),
			},
		},
		{
			name:    "identifiers under other systems, a bare organisation number and a date without zone are not taken",
			fixture: "form-wrong-systems.json",
			ref:     "blankett-fel-system",
			want: lockworker.Form{
				ID: "blankett-fel-system", Current: true, Final: true,
				// The custodian is named by an organisation number alone,
				// under another system than the HSA-id's: no custodian.
				Types: []lockworker.Code{loinc},
			},
		},
		{
			name:    "an HSA-id system holding no HSA-id is kept with the reason it was refused",
			fixture: "form-invalid-hsaids.json",
			ref:     "blankett-ogiltiga-hsaid",
			want: lockworker.Form{
				ID: "blankett-ogiltiga-hsaid", Current: true, Final: true,
				Types:            []lockworker.Code{loinc},
				Patient:          "199908072391",
				SignerInvalid:    hsaidError("SE2321000066-1003"),
				CustodianInvalid: hsaidError("2321000065-E000000000001"),
				Date:             time.Date(2025, 3, 14, 10, 0, 0, 0, time.UTC),
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, s := setup(t, reply(http.StatusOK, fixture(t, tt.fixture)))

			got, err := c.Form(t.Context(), tt.ref)
			if err != nil {
				t.Fatalf("Form: %v", err)
			}
			if !got.Date.Equal(tt.want.Date) {
				t.Errorf("Date = %v, want %v", got.Date, tt.want.Date)
			}
			got.Date = tt.want.Date // compared above, as an instant
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Form =\n%+v\nwant\n%+v", got, tt.want)
			}
			want := []request{{"GET", "/fhir/DocumentReference/" + tt.ref, "application/fhir+json", "Bearer " + token}}
			if got := s.Requests(); !reflect.DeepEqual(got, want) {
				t.Errorf("requests = %+v, want %+v", got, want)
			}
		})
	}
}

func TestFormSignedOnlyWithFinalStatusAndSigner(t *testing.T) {
	t.Parallel()
	tests := []struct {
		fixture, ref string
		signed       bool
	}{
		{"lock-form-signed.json", "blankett-7f3a9c", true},
		{"form-oid-systems.json", "BL.2025.0314-0019", true},
		{"form-preliminary.json", "blankett-prel-0042", false},
		{"form-wrong-systems.json", "blankett-fel-system", false},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			t.Parallel()
			c, _ := setup(t, reply(http.StatusOK, fixture(t, tt.fixture)))
			form, err := c.Form(t.Context(), tt.ref)
			if err != nil {
				t.Fatalf("Form: %v", err)
			}
			if form.Signed() != tt.signed {
				t.Errorf("Signed() = %v, want %v", form.Signed(), tt.signed)
			}
		})
	}
}

func TestFormNotFound(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name        string
		status      int
		body        []byte
		wantMessage string
	}{
		{"404 with an OperationOutcome", http.StatusNotFound, fixture(t, "operation-outcome-404.json"), "Resource DocumentReference/blankett-saknas is not known"},
		{"410 for a deleted form", http.StatusGone, nil, "Gone"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, s := setup(t, reply(tt.status, tt.body))

			_, err := c.Form(t.Context(), "blankett-saknas")
			if !errors.Is(err, lockworker.ErrFormNotFound) {
				t.Fatalf("Form: %v, want an error wrapping ErrFormNotFound", err)
			}
			var se *cosmic.StatusError
			if !errors.As(err, &se) || se.StatusCode != tt.status || se.Message != tt.wantMessage {
				t.Errorf("Form: %#v, want a StatusError %d %q", se, tt.status, tt.wantMessage)
			}
			if n := len(s.Requests()); n != 1 {
				t.Errorf("%d requests, want 1: a missing form is an answer, not a failure", n)
			}
		})
	}
}

func TestFormErrors(t *testing.T) {
	t.Parallel()
	signed := string(fixture(t, "lock-form-signed.json"))
	tests := []struct {
		name       string
		status     int
		body       string
		wantStatus int    // of the StatusError, 0 for none
		wantText   string // in the error
	}{
		{"a wrong token", http.StatusUnauthorized, `{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"login","diagnostics":"Invalid bearer token"}]}`, 401, "form service answered 401: Invalid bearer token"},
		{"a forbidden form", http.StatusForbidden, "", 403, "form service answered 403: Forbidden"},
		{"a bad request", http.StatusBadRequest, `<html><body>Bad Request</body></html>`, 400, "form service answered 400: Bad Request"},
		{"another resource than a DocumentReference", http.StatusOK, string(fixture(t, "operation-outcome-404.json")), 0, `the answer is a "OperationOutcome"`},
		{"another document than the one asked for", http.StatusOK, strings.Replace(signed, `"id": "blankett-7f3a9c"`, `"id": "blankett-annan"`, 1), 0, `the answer is document "blankett-annan"`},
		{"no resource type", http.StatusOK, `{"id":"blankett-7f3a9c","status":"current"}`, 0, `the answer is a ""`},
		{"HTML instead of JSON", http.StatusOK, `<html><body>Logga in</body></html>`, 0, "invalid character"},
		{"an empty answer", http.StatusOK, "", 0, "no JSON value"},
		{"an element of the wrong type", http.StatusOK, `{"resourceType":"DocumentReference","id":"blankett-7f3a9c","type":[]}`, 0, "cannot unmarshal array"},
		{"status given twice", http.StatusOK, `{"resourceType":"DocumentReference","id":"blankett-7f3a9c","status":"entered-in-error","status":"current"}`, 0, `member "status" given twice`},
		{"status given twice in two cases", http.StatusOK, `{"resourceType":"DocumentReference","id":"blankett-7f3a9c","status":"entered-in-error","Status":"current"}`, 0, `member "Status" given twice`},
		{"status in another case", http.StatusOK, `{"resourceType":"DocumentReference","id":"blankett-7f3a9c","STATUS":"current"}`, 0, `member "STATUS" is not FHIR's "status"`},
		{"status with a long s", http.StatusOK, `{"resourceType":"DocumentReference","id":"blankett-7f3a9c","ſtatus":"current"}`, 0, `member "ſtatus" is not FHIR's "status"`},
		{"a nested member given twice", http.StatusOK, `{"resourceType":"DocumentReference","id":"blankett-7f3a9c","subject":{"identifier":{"system":"x","system":"urn:oid:1.2.752.129.2.1.3.1"}}}`, 0, `member "system" given twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, s := setup(t, reply(tt.status, []byte(tt.body)))

			form, err := c.Form(t.Context(), "blankett-7f3a9c")
			if err == nil {
				t.Fatalf("Form = %+v, want an error", form)
			}
			if errors.Is(err, lockworker.ErrFormNotFound) {
				t.Errorf("Form: %v wraps ErrFormNotFound; the form may exist", err)
			}
			if !strings.HasPrefix(err.Error(), `read form "blankett-7f3a9c": `) || !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("Form: %q, want the operation and %q", err, tt.wantText)
			}
			var se *cosmic.StatusError
			if errors.As(err, &se) != (tt.wantStatus != 0) || (se != nil && se.StatusCode != tt.wantStatus) {
				t.Errorf("Form: %v, want StatusError %d", err, tt.wantStatus)
			}
			if n := len(s.Requests()); n != 1 {
				t.Errorf("%d requests, want 1: this answer will not change", n)
			}
		})
	}
}

func TestFormRetries(t *testing.T) {
	t.Parallel()
	form := reply(http.StatusOK, fixture(t, "lock-form-signed.json"))
	tests := []struct {
		name     string
		answer   func(http.ResponseWriter, *http.Request, int)
		wantErr  bool
		observed []string
	}{
		{"a 503 is retried", inTurn(reply(503, nil), form), false, []string{"form 503", "form 200"}},
		{"a 429 is retried", inTurn(reply(429, nil), form), false, []string{"form 429", "form 200"}},
		{"several 5xx are retried", inTurn(reply(500, nil), reply(502, nil), reply(504, nil), form), false, []string{"form 500", "form 502", "form 504", "form 200"}},
		{"a network error is retried", inTurn(drop, form), false, []string{"form 0", "form 200"}},
		{"a 400 is not retried", inTurn(reply(400, nil), form), true, []string{"form 400"}},
		{"a 401 is not retried", inTurn(reply(401, nil), form), true, []string{"form 401"}},
		{"a 404 is not retried", inTurn(reply(404, nil), form), true, []string{"form 404"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var o observed
			c, s := setup(t, tt.answer, cosmic.WithObserver(o.observe))

			got, err := c.Form(t.Context(), "blankett-7f3a9c")
			if (err != nil) != tt.wantErr {
				t.Fatalf("Form: %v, want error %v", err, tt.wantErr)
			}
			if !tt.wantErr && got.Patient != "199908072391" {
				t.Errorf("Form = %+v, want the form of the last answer", got)
			}
			if !reflect.DeepEqual(o.Calls(), tt.observed) {
				t.Errorf("observed %q, want %q", o.Calls(), tt.observed)
			}
			if n := len(s.Requests()); n != len(tt.observed) {
				t.Errorf("%d requests, want %d", n, len(tt.observed))
			}
		})
	}
}

// roundTripper lets a test be the network, inside a synctest bubble whose
// clock moves only when every goroutine waits.
type roundTripper func(*http.Request) (*http.Response, error)

func (f roundTripper) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func answer(r *http.Request, status int, body []byte) *http.Response {
	return &http.Response{StatusCode: status, Header: http.Header{}, Body: io.NopCloser(bytes.NewReader(body)), Request: r}
}

// hang waits for the request to be given up.
func hang(r *http.Request) (*http.Response, error) {
	<-r.Context().Done()
	return nil, r.Context().Err()
}

func TestFormTimeBounds(t *testing.T) {
	t.Parallel()
	signed := fixture(t, "lock-form-signed.json")
	tests := []struct {
		name        string
		opts        []cosmic.Option
		ctxTimeout  time.Duration // of the caller's context, 0 for none
		network     func(r *http.Request, attempt int) (*http.Response, error)
		wantElapsed time.Duration
		wantErr     string // "" for success
		wantStatus  int    // of the StatusError, 0 for none
		minAttempts int
	}{
		{
			name:        "a service that keeps failing is given up after the default read budget of 10s",
			network:     func(r *http.Request, _ int) (*http.Response, error) { return answer(r, 503, nil), nil },
			wantElapsed: 10 * time.Second,
			wantErr:     "gave up after the read budget of 10s: form service answered 503",
			wantStatus:  503,
			minAttempts: 5,
		},
		{
			name:        "the read budget can be set",
			opts:        []cosmic.Option{cosmic.WithReadBudget(3 * time.Second)},
			network:     func(r *http.Request, _ int) (*http.Response, error) { return answer(r, 429, nil), nil },
			wantElapsed: 3 * time.Second,
			wantErr:     "gave up after the read budget of 3s: form service answered 429",
			wantStatus:  429,
			minAttempts: 3,
		},
		{
			name: "the last answer is told when the budget runs out during a retry",
			network: func(r *http.Request, attempt int) (*http.Response, error) {
				if attempt == 1 {
					return answer(r, 502, nil), nil
				}
				return hang(r)
			},
			wantElapsed: 10 * time.Second,
			wantErr:     "gave up after the read budget of 10s: form service answered 502: Bad Gateway",
			wantStatus:  502,
			minAttempts: 2,
		},
		{
			name:        "a hanging service is given up after the read budget too",
			opts:        []cosmic.Option{cosmic.WithTimeout(time.Minute)},
			network:     func(r *http.Request, _ int) (*http.Response, error) { return hang(r) },
			wantElapsed: 10 * time.Second,
			wantErr:     "gave up after the read budget of 10s",
			minAttempts: 1,
		},
		{
			name: "an attempt is cut at the request timeout and tried again",
			opts: []cosmic.Option{cosmic.WithTimeout(2 * time.Second), cosmic.WithRetryWait(time.Second, time.Second)},
			network: func(r *http.Request, attempt int) (*http.Response, error) {
				if attempt == 1 {
					return hang(r)
				}
				return answer(r, 200, signed), nil
			},
			wantElapsed: 3 * time.Second,
			minAttempts: 2,
		},
		{
			name:        "the caller's deadline ends a read before its budget",
			ctxTimeout:  4 * time.Second,
			network:     func(r *http.Request, _ int) (*http.Response, error) { return hang(r) },
			wantElapsed: 4 * time.Second,
			wantErr:     "context deadline exceeded",
			minAttempts: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			synctest.Test(t, func(t *testing.T) {
				attempts := 0
				network := roundTripper(func(r *http.Request) (*http.Response, error) {
					attempts++ // the client makes one attempt at a time
					return tt.network(r, attempts)
				})
				opts := append([]cosmic.Option{cosmic.WithHTTPClient(&http.Client{Transport: network})}, tt.opts...)
				c := cosmic.NewClient("http://forms.invalid/fhir", token, opts...)
				ctx := t.Context()
				if tt.ctxTimeout > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, tt.ctxTimeout)
					defer cancel()
				}

				start := time.Now()
				_, err := c.Form(ctx, "blankett-7f3a9c")
				elapsed := time.Since(start)

				if elapsed != tt.wantElapsed {
					t.Errorf("gave an answer after %v, want %v", elapsed, tt.wantElapsed)
				}
				if tt.wantErr == "" && err != nil {
					t.Errorf("Form: %v", err)
				}
				if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
					t.Errorf("Form: %v, want an error with %q", err, tt.wantErr)
				}
				var se *cosmic.StatusError
				if errors.As(err, &se) != (tt.wantStatus != 0) {
					t.Errorf("Form: %v, want StatusError %d", err, tt.wantStatus)
				}
				if attempts < tt.minAttempts {
					t.Errorf("%d attempts, want at least %d", attempts, tt.minAttempts)
				}
			})
		})
	}
}

func TestFormRefusesReferenceThatIsNotAFHIRId(t *testing.T) {
	t.Parallel()
	refs := []string{
		"",
		".",
		"..",
		"../metadata",
		"a/b",
		"blankett?_format=xml",
		"blankett#x",
		"blankett%2F..",
		"blankett 1",
		"blankett\n1",
		"blankettåäö",
		strings.Repeat("a", 65),
	}
	for _, ref := range refs {
		t.Run(fmt.Sprintf("%q", ref), func(t *testing.T) {
			t.Parallel()
			c, s := setup(t, reply(http.StatusOK, fixture(t, "lock-form-signed.json")))

			_, err := c.Form(t.Context(), ref)
			if !errors.Is(err, cosmic.ErrInvalidReference) {
				t.Errorf("Form: %v, want ErrInvalidReference", err)
			}
			if len(ref) > 2 && err != nil && strings.Contains(err.Error(), ref) { // "." is in any sentence
				t.Errorf("Form: %q repeats the reference; it may be anything an agent typed", err)
			}
			if n := len(s.Requests()); n != 0 {
				t.Errorf("%d requests, want none", n)
			}
		})
	}
}

func TestFormTakesEveryFHIRId(t *testing.T) {
	t.Parallel()
	refs := []string{"a", "A-z.0-9", "...", strings.Repeat("x", 64)}
	for _, ref := range refs {
		t.Run(ref, func(t *testing.T) {
			t.Parallel()
			c, s := setup(t, reply(http.StatusNotFound, nil))

			_, err := c.Form(t.Context(), ref)
			if !errors.Is(err, lockworker.ErrFormNotFound) {
				t.Errorf("Form: %v, want the service's answer", err)
			}
			if r := s.Requests(); len(r) != 1 || r[0].Path != "/fhir/DocumentReference/"+ref {
				t.Errorf("requests = %+v, want one for the reference as it is", r)
			}
		})
	}
}

func TestTokenNeverInErrors(t *testing.T) {
	t.Parallel()
	// echo is a service that repeats the request's Authorization header in
	// its diagnostics, as some debugging gateways do.
	echo := func(status int) func(http.ResponseWriter, *http.Request, int) {
		return func(w http.ResponseWriter, r *http.Request, n int) {
			reply(status, fmt.Appendf(nil, `{"resourceType":"OperationOutcome","issue":[{"diagnostics":"rejected %s"}]}`, r.Header.Get("Authorization")))(w, r, n)
		}
	}
	tests := []struct {
		name   string
		answer func(http.ResponseWriter, *http.Request, int)
	}{
		{"a 401 echoing the header", echo(401)},
		{"a 500 echoing the header, retried to the end of the budget", echo(500)},
		{"a 404 echoing the header", echo(404)},
		{"a network error", drop},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, _ := setup(t, tt.answer, cosmic.WithReadBudget(50*time.Millisecond))

			_, formErr := c.Form(t.Context(), "blankett-7f3a9c")
			metaErr := c.Metadata(t.Context())
			for _, err := range []error{formErr, metaErr} {
				if err == nil {
					t.Fatal("no error")
				}
				if strings.Contains(err.Error(), token) {
					t.Errorf("the error shows the token: %v", err)
				}
			}
			if printed := fmt.Sprintf("%v %+v %#v", c, c, c); strings.Contains(printed, token) {
				t.Errorf("printing the client shows the token: %s", printed)
			}
		})
	}
}

func TestMetadata(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name     string
		answer   func(http.ResponseWriter, *http.Request, int)
		wantErr  string // "" for none
		observed []string
	}{
		{"a CapabilityStatement", reply(200, fixture(t, "metadata.json")), "", []string{"metadata 200"}},
		{"after a 503", inTurn(reply(503, nil), reply(200, fixture(t, "metadata.json"))), "", []string{"metadata 503", "metadata 200"}},
		{"another resource", reply(200, fixture(t, "lock-form-signed.json")), `read capability statement: decode CapabilityStatement: the answer is a "DocumentReference"`, []string{"metadata 200"}},
		{"not JSON", reply(200, []byte("Pong!")), "read capability statement: decode CapabilityStatement: invalid character", []string{"metadata 200"}},
		{"a wrong token", reply(401, nil), "read capability statement: form service answered 401: Unauthorized", []string{"metadata 401"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var o observed
			c, s := setup(t, tt.answer, cosmic.WithObserver(o.observe))

			err := c.Metadata(t.Context())
			if (tt.wantErr == "") != (err == nil) || (err != nil && !strings.HasPrefix(err.Error(), tt.wantErr)) {
				t.Errorf("Metadata: %v, want %q", err, tt.wantErr)
			}
			for _, r := range s.Requests() {
				if want := (request{"GET", "/fhir/metadata", "application/fhir+json", "Bearer " + token}); r != want {
					t.Errorf("request %+v, want %+v", r, want)
				}
			}
			if !reflect.DeepEqual(o.Calls(), tt.observed) {
				t.Errorf("observed %q, want %q", o.Calls(), tt.observed)
			}
		})
	}
}

func TestNewClientRefusesUnusableBaseURL(t *testing.T) {
	t.Parallel()
	tests := []struct{ url, wantErr string }{
		{"", `form service URL: scheme "" is not http or https`},
		{"forms.region.example/fhir", `form service URL: scheme "" is not http or https`},
		{"ftp://forms.region.example/fhir", `form service URL: scheme "ftp" is not http or https`},
		{"http:///fhir", "form service URL has no host"},
		{"http://user:hemligt@forms.region.example:port/fhir", "form service URL does not parse"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			t.Parallel()
			requests := 0
			network := roundTripper(func(r *http.Request) (*http.Response, error) {
				requests++
				return answer(r, 200, nil), nil
			})
			c := cosmic.NewClient(tt.url, token, cosmic.WithHTTPClient(&http.Client{Transport: network}))

			_, formErr := c.Form(t.Context(), "blankett-7f3a9c")
			for _, err := range []error{formErr, c.Metadata(t.Context())} {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %v, want %q", err, tt.wantErr)
				}
				if err != nil && strings.Contains(err.Error(), "hemligt") {
					t.Errorf("error %v shows the URL's password", err)
				}
			}
			if requests != 0 {
				t.Errorf("%d requests, want none", requests)
			}
		})
	}
}

func TestWithHTTPClientLeavesTheGivenClientAlone(t *testing.T) {
	t.Parallel()
	requests := 0
	network := roundTripper(func(r *http.Request) (*http.Response, error) {
		requests++
		return answer(r, 200, fixture(t, "lock-form-signed.json")), nil
	})
	hc := &http.Client{Transport: network}
	c := cosmic.NewClient("https://forms.region.example/fhir/", token, cosmic.WithHTTPClient(hc), cosmic.WithTimeout(time.Second))

	if _, err := c.Form(t.Context(), "blankett-7f3a9c"); err != nil {
		t.Fatalf("Form: %v", err)
	}
	if requests != 1 {
		t.Errorf("%d requests through the given transport, want 1", requests)
	}
	if hc.Timeout != 0 || reflect.ValueOf(hc.Transport).Pointer() != reflect.ValueOf(network).Pointer() {
		t.Errorf("the given client was changed: %+v", hc)
	}
}

func TestFormRefusesAnOversizedAnswer(t *testing.T) {
	t.Parallel()
	huge := append([]byte(`{"resourceType":"DocumentReference","id":"blankett-7f3a9c","content":[{"attachment":{"data":"`),
		bytes.Repeat([]byte("QUFB"), 17<<20/4)...)
	huge = append(huge, `"}}]}`...)
	c, s := setup(t, reply(http.StatusOK, huge))

	_, err := c.Form(t.Context(), "blankett-7f3a9c")
	if err == nil || !strings.Contains(err.Error(), "too large") {
		t.Errorf("Form: %v, want an answer too large", err)
	}
	if n := len(s.Requests()); n != 1 {
		t.Errorf("%d requests, want 1: the answer will not shrink", n)
	}
}

func TestStatusErrorMessageIsOneShortLine(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("Blanketten är spärrad för läsning. ", 20)
	body := fmt.Appendf(nil, `{"resourceType":"OperationOutcome","issue":[{"diagnostics":"Åtkomst nekad\nrad två"},{"details":{"text":%q}}]}`, long)
	c, _ := setup(t, reply(http.StatusForbidden, body))

	_, err := c.Form(t.Context(), "blankett-7f3a9c")
	var se *cosmic.StatusError
	if !errors.As(err, &se) {
		t.Fatalf("Form: %v, want a StatusError", err)
	}
	if !strings.HasPrefix(se.Message, "Åtkomst nekad rad två; Blanketten är spärrad") {
		t.Errorf("Message %q, want the issues on one line", se.Message)
	}
	if len(se.Message) > 210 || !utf8.ValidString(se.Message) || !strings.HasSuffix(se.Message, "…") {
		t.Errorf("Message %q (%d bytes), want it clipped to about 200 bytes of whole characters", se.Message, len(se.Message))
	}
}

// WithFailFast ends a read at the first attempt when the form service cannot
// be reached at all; without it, the read is tried again within its budget.
func TestAFailFastReadIsNotRetriedWhenTheServiceCannotBeReached(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	refused := srv.URL + "/fhir"
	srv.Close() // nothing listens any more: the connection is refused
	tests := []struct {
		name, url string
		failFast  bool
		want      string
	}{
		{"a refused connection", refused, true, "connection refused"},
		{"a name that does not resolve", "http://fhir.lockworker.invalid/fhir", true, "lookup fhir.lockworker.invalid"},
		{"a refused connection, retried without WithFailFast", refused, false, "read budget"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var o observed
			opts := []cosmic.Option{cosmic.WithObserver(o.observe), cosmic.WithRetryWait(time.Millisecond, time.Millisecond), cosmic.WithReadBudget(time.Second)}
			if tt.failFast {
				opts = append(opts, cosmic.WithFailFast())
			}
			c := cosmic.NewClient(tt.url, token, opts...)

			err := c.Metadata(t.Context())

			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Metadata = %v, want an error that says %q", err, tt.want)
			}
			switch attempts := len(o.Calls()); {
			case tt.failFast && attempts != 1:
				t.Errorf("%d attempts, want 1: %q", attempts, o.Calls())
			case !tt.failFast && attempts < 2:
				t.Errorf("%d attempts, want the read tried again within its budget", attempts)
			}
		})
	}
}
