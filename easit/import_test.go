package easit_test

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/lockworker/lockworker/easit"
)

// update is an import request like the ones Desk sends.
func update(uids ...string) easit.ImportRequest {
	req := easit.ImportRequest{Handler: "VIS-1177-uppdatera"}
	for i, uid := range uids {
		req.Items = append(req.Items, easit.ImportItem{UID: uid, Properties: []easit.ImportProperty{
			{Name: "ID", Content: []string{"55", "99"}[i%2]},
			{Name: "Status", Content: "Löst"},
			{Name: "Message", Content: "Inloggningen till 1177 är låst."},
		}})
	}
	return req
}

func TestImportSendsTheItems(t *testing.T) {
	t.Parallel()
	client, mux := setup(t)
	mux.HandleFunc("/integration-api/items", func(w http.ResponseWriter, r *http.Request) {
		got := checkRequest(t, r, http.MethodPost, true)
		assertJSON(t, got, `{"importHandlerIdentifier":"VIS-1177-uppdatera","itemToImport":[
			{"id":"1","uid":"uid-1","property":[{"name":"ID","content":"55"},{"name":"Status","content":"Löst"},
				{"name":"Message","content":"Inloggningen till 1177 är låst."}]}]}`)
		body(testdata(t, "import_ok.json"))(w, r)
	})
	resp, err := client.Import(t.Context(), update("uid-1"))
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Results) != 1 || resp.Results[0].UID != "uid-1" || resp.Results[0].Result != "OK" {
		t.Errorf("results = %+v, want uid-1 OK", resp.Results)
	}
	if got := string(resp.Results[0].ReturnValues); got != `{"id":"13:2"}` {
		t.Errorf("returnValues = %s, want them as Easit gave them", got)
	}
}

func TestImportChecksEveryItem(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		answer    string
		uids      []string
		want      easit.ItemError
		uncertain bool
	}{
		{
			name:   "an Exception in a 200",
			answer: "import_exception.json",
			uids:   []string{"uid-1", "uid-2"},
			want:   easit.ItemError{UID: "uid-2", Result: "Exception", Message: "Inget ärende med ID 99 hittades"},
		},
		{
			name:   "a Skipped in a 200",
			answer: "import_skipped.json",
			uids:   []string{"uid-1"},
			want:   easit.ItemError{UID: "uid-1", Result: "Skipped", Message: "Ingen ändring"},
		},
		{
			// Nothing says whether Easit carried out uid-2.
			name:      "an item left out of the answer",
			answer:    "import_ok.json",
			uids:      []string{"uid-1", "uid-2"},
			want:      easit.ItemError{UID: "uid-2"},
			uncertain: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			client, mux := setup(t)
			mux.HandleFunc("/integration-api/items", body(testdata(t, tt.answer)))

			resp, err := client.Import(t.Context(), update(tt.uids...))

			var ie *easit.ItemError
			if !errors.As(err, &ie) || *ie != tt.want {
				t.Fatalf("Import = %v, want an *easit.ItemError %+v", err, tt.want)
			}
			if resp == nil {
				t.Error("no answer returned with the item error")
			}
			if easit.Uncertain(err) != tt.uncertain || easit.Retryable(err) {
				t.Errorf("Uncertain, Retryable = %v, %v; want %v, false", easit.Uncertain(err), easit.Retryable(err), tt.uncertain)
			}
		})
	}
}

func TestImportRefusesUIDsItCannotCheck(t *testing.T) {
	t.Parallel()
	client, mux := setup(t)
	handler, requests := script(body(testdata(t, "import_ok.json")))
	mux.HandleFunc("/integration-api/items", handler)
	for _, uids := range [][]string{{""}, {"uid-1", "uid-1"}} {
		if _, err := client.Import(t.Context(), update(uids...)); err == nil {
			t.Errorf("Import with uids %q: no error", uids)
		}
	}
	if requests.Load() != 0 {
		t.Errorf("%d requests sent, want none", requests.Load())
	}
}

// TestImportIsNeverRetried proves that resty's retries, which read the
// client's retry condition, leave a POST alone whatever happens to it, and
// that the error tells a write that may have taken effect from one that
// surely did not.
func TestImportIsNeverRetried(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		answer        step
		wantStatus    int
		wantUncertain bool
		wantRetryable bool
		timeout       time.Duration // of the client; 0 for the default
	}{
		{"a 5xx after sending", status(503, "Service Unavailable"), 503, true, false, 0},
		{"a 500 of an unknown handler", status(500, "No import handler VIS-x"), 500, true, false, 0},
		{"a 429, turned away unread", status(429, "Too Many Requests"), 429, false, true, 0},
		{"a dropped connection", drop, 0, true, false, 0},
		{"a timeout", slow(5*time.Second, body([]byte(`{}`))), 0, true, false, 100 * time.Millisecond},
		{"a bad key", status(401, "Unauthorized"), 401, false, false, 0},
		{"a 200 that is not JSON", body([]byte(`<html>OK</html>`)), 200, true, false, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var obs observed
			opts := []easit.Option{easit.WithObserver(obs.observe)}
			if tt.timeout != 0 {
				opts = append(opts, easit.WithTimeout(tt.timeout))
			}
			client, mux := setup(t, opts...)
			handler, requests := script(tt.answer)
			mux.HandleFunc("/integration-api/items", handler)

			_, err := client.Import(t.Context(), update("uid-1"))

			var e *easit.Error
			if !errors.As(err, &e) || e.StatusCode != tt.wantStatus || e.Op != easit.OpImport {
				t.Fatalf("Import = %v, want an *easit.Error of op import with status %d", err, tt.wantStatus)
			}
			if n := requests.Load(); n != 1 {
				t.Errorf("%d requests, want exactly 1", n)
			}
			if n := len(obs.get()); n != 1 {
				t.Errorf("observer saw %v, want exactly 1 attempt", obs.get())
			}
			if easit.Uncertain(err) != tt.wantUncertain || easit.Retryable(err) != tt.wantRetryable {
				t.Errorf("Uncertain, Retryable = %v, %v; want %v, %v",
					easit.Uncertain(err), easit.Retryable(err), tt.wantUncertain, tt.wantRetryable)
			}
		})
	}
}

func TestImportToAnUnreachableEasitIsSafeToRetry(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	srv.Close() // nothing listens any more: the connection is refused
	var obs observed
	client := easit.NewClient(srv.URL, testKey, easit.WithObserver(obs.observe))

	_, err := client.Import(t.Context(), update("uid-1"))

	if err == nil || !easit.Retryable(err) || easit.Uncertain(err) {
		t.Fatalf("Import = %v, want an error that is Retryable and not Uncertain", err)
	}
	if want := []string{"import 0"}; !reflect.DeepEqual(obs.get(), want) {
		t.Errorf("observer saw %v, want %v", obs.get(), want)
	}
}

func TestTheAPIKeyIsNeverInAnError(t *testing.T) {
	t.Parallel()
	// A proxy that echoes the request's credentials in its error page.
	echo := func(code int) step {
		return func(w http.ResponseWriter, r *http.Request) {
			user, _, _ := r.BasicAuth()
			http.Error(w, "Denied: "+r.Header.Get("Authorization")+" user="+user, code)
		}
	}
	credentials := base64.StdEncoding.EncodeToString([]byte(testKey + ":"))
	tests := []struct {
		name string
		call func(*easit.Client) error
	}{
		{"list, 401", func(c *easit.Client) error {
			_, err := c.ListItems(t.Context(), easit.ListOptions{View: "V", Page: 1})
			return err
		}},
		{"import, 500", func(c *easit.Client) error {
			_, err := c.Import(t.Context(), update("uid-1"))
			return err
		}},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			client, mux := setup(t)
			mux.HandleFunc("/integration-api/items", echo([]int{401, 500}[i]))
			err := tt.call(client)
			if err == nil {
				t.Fatal("no error")
			}
			if msg := err.Error(); strings.Contains(msg, testKey) || strings.Contains(msg, credentials) {
				t.Errorf("error %q shows the API key", msg)
			}
			if !strings.Contains(err.Error(), "Denied: Basic <api key>") {
				t.Errorf("error %q lost the rest of the server's text", err)
			}
		})
	}
}

// countingTransport counts the requests that go through it.
type countingTransport struct{ n int }

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n++
	return http.DefaultTransport.RoundTrip(r)
}

func TestWithHTTPClientUsesItsTransportAndLeavesItAlone(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body([]byte(`{"message":"Pong!"}`))(w, r)
	}))
	defer srv.Close()
	transport := &countingTransport{}
	hc := &http.Client{Transport: transport, Timeout: time.Hour}

	client := easit.NewClient(srv.URL, testKey, easit.WithHTTPClient(hc), easit.WithTimeout(time.Second))
	if err := client.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
	if transport.n != 1 {
		t.Errorf("%d requests through the given transport, want 1", transport.n)
	}
	if hc.Timeout != time.Hour || hc.Transport != transport {
		t.Errorf("the given client was changed: timeout %s, transport %T", hc.Timeout, hc.Transport)
	}
}

func TestErrorText(t *testing.T) {
	t.Parallel()
	tests := []struct {
		err  error
		want string
	}{
		{&easit.Error{Op: easit.OpList, StatusCode: 500, Message: "No item view VIS-x"}, "HTTP 500 Internal Server Error: No item view VIS-x"},
		{&easit.Error{Op: easit.OpList, StatusCode: 401}, "HTTP 401 Unauthorized"},
		{&easit.Error{Op: easit.OpImport, Err: errors.New("EOF")}, "EOF"},
		{&easit.Error{Op: easit.OpList, StatusCode: 503, Message: "busy", Err: errors.New("read budget of 10s spent")},
			"read budget of 10s spent (last answer HTTP 503 Service Unavailable: busy)"},
		{&easit.ItemError{UID: "u", Result: "Exception", Message: "no ticket"}, "item u: Exception: no ticket"},
		{&easit.ItemError{UID: "u", Result: "Skipped"}, "item u: Skipped"},
		{&easit.ItemError{UID: "u"}, "item u: no result in Easit's answer"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
}

func TestErrorMessagesAreShortAndOnOneLine(t *testing.T) {
	t.Parallel()
	client, mux := setup(t)
	page := "<html>\n<body>\n" + strings.Repeat("Ärendet kunde inte sparas. ", 40) + "\n</body>\n</html>"
	mux.HandleFunc("/integration-api/items", status(500, page))

	_, err := client.Import(t.Context(), update("uid-1"))

	var e *easit.Error
	if !errors.As(err, &e) {
		t.Fatalf("Import = %v, want an *easit.Error", err)
	}
	if len(e.Message) > 210 || strings.ContainsAny(e.Message, "\n\r") || !strings.HasSuffix(e.Message, "…") || !utf8.ValidString(e.Message) {
		t.Errorf("message = %q (%d bytes), want one line of about 200 bytes of valid UTF-8, marked as cut", e.Message, len(e.Message))
	}
	if !strings.HasPrefix(e.Message, "<html> <body> Ärendet kunde inte sparas.") {
		t.Errorf("message = %q, want the start of the answer", e.Message)
	}
}
