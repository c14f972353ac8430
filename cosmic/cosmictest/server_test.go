package cosmictest_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lockworker/lockworker"
	"github.com/lockworker/lockworker/cosmic"
	"github.com/lockworker/lockworker/cosmic/cosmictest"
)

const token = "demo-token-3c9Tq"

var (
	lockForm   = lockworker.Code{System: "https://fhir.region.example/CodeSystem/blankett", Code: "1177-LAS"}
	unlockForm = lockworker.Code{System: "https://fhir.region.example/CodeSystem/blankett", Code: "1177-HAV"}
	signedAt   = time.Date(2025, 3, 14, 9, 12, 31, 0, lockworker.Stockholm)
)

// setup starts a server and returns it with a client of it whose retries are
// quick; opts may override them.
func setup(t *testing.T, opts ...cosmic.Option) (*cosmictest.Server, *cosmic.Client) {
	t.Helper()
	s := cosmictest.NewServer(cosmictest.Config{Token: token})
	t.Cleanup(s.Close)
	opts = append([]cosmic.Option{cosmic.WithRetryWait(time.Millisecond, 5*time.Millisecond)}, opts...)
	return s, cosmic.NewClient(s.URL(), token, opts...)
}

func mustHSAID(t *testing.T, s string) lockworker.HSAID {
	t.Helper()
	h, err := lockworker.ParseHSAID(s)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// get makes a raw request, to see what the client would not show.
func get(t *testing.T, method, url string, header map[string]string) (*http.Response, map[string]any) {
	t.Helper()
	resp, body := fetch(t, method, url, header)
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("the answer %d is not JSON: %v: %s", resp.StatusCode, err, body)
	}
	return resp, doc
}

// fetch makes a raw request and returns the answer and its body as sent.
func fetch(t *testing.T, method, url string, header map[string]string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, body
}

var fhirHeaders = map[string]string{"Authorization": "Bearer " + token, "Accept": "application/fhir+json"}

func TestPutFormsReadThroughTheClient(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		doc  cosmictest.Document
		want lockworker.Form
	}{
		{
			name: "a signed lock form",
			doc: cosmictest.Document{
				ID: "blankett-1", DocStatus: "final", Type: lockForm, Patient: "199908072391",
				Signer: "SE2321000065-1003", Custodian: "SE2321000065-E000000000001", Date: signedAt,
			},
			want: lockworker.Form{
				ID: "blankett-1", Current: true, Final: true, Types: []lockworker.Code{lockForm}, Patient: "199908072391",
				Signer: mustHSAID(t, "SE2321000065-1003"), Custodian: mustHSAID(t, "SE2321000065-E000000000001"), Date: signedAt,
			},
		},
		{
			name: "an unlock form not signed yet",
			doc:  cosmictest.Document{ID: "blankett-2", Type: unlockForm, Patient: "200001012384", Custodian: "SE2321000065-E000000000001", Date: signedAt},
			want: lockworker.Form{
				ID: "blankett-2", Current: true, Types: []lockworker.Code{unlockForm}, Patient: "200001012384",
				Custodian: mustHSAID(t, "SE2321000065-E000000000001"), Date: signedAt,
			},
		},
		{
			name: "a form entered in error",
			doc:  cosmictest.Document{ID: "blankett-3", Status: "entered-in-error", DocStatus: "amended", Signer: "SE2321000065-1003"},
			want: lockworker.Form{ID: "blankett-3", Final: true, Signer: mustHSAID(t, "SE2321000065-1003")},
		},
		{
			name: "a patient under the OID system",
			doc:  cosmictest.Document{ID: "blankett-4", Patient: "196408233234", PatientSystem: "urn:oid:1.2.752.129.2.1.3.1"},
			want: lockworker.Form{ID: "blankett-4", Current: true, Patient: "196408233234"},
		},
		{
			name: "a patient under another system",
			doc:  cosmictest.Document{ID: "blankett-5", Patient: "196408233234", PatientSystem: "urn:oid:1.2.752.97.3.1.3"},
			want: lockworker.Form{ID: "blankett-5", Current: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, c := setup(t)
			s.Put(tt.doc)

			got, err := c.Form(t.Context(), tt.doc.ID)
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
		})
	}
}

func TestPutBuildsARealisticDocumentReference(t *testing.T) {
	t.Parallel()
	s, _ := setup(t)
	doc := cosmictest.Document{ID: "blankett-1", DocStatus: "final", Type: lockForm, Patient: "199908072391",
		Signer: "SE2321000065-1003", Custodian: "SE2321000065-E000000000001", Date: signedAt}
	s.Put(doc)
	s.Put(doc) // a second version

	resp, got := get(t, http.MethodGet, s.URL()+"/DocumentReference/blankett-1", fhirHeaders)

	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/fhir+json") {
		t.Errorf("Content-Type %q", ct)
	}
	var want map[string]any
	if err := json.Unmarshal([]byte(`{
		"resourceType": "DocumentReference",
		"id": "blankett-1",
		"meta": {"versionId": "2", "lastUpdated": "2025-03-14T09:12:31+01:00"},
		"status": "current",
		"docStatus": "final",
		"type": {"coding": [{"system": "https://fhir.region.example/CodeSystem/blankett", "code": "1177-LAS"}]},
		"subject": {"identifier": {"system": "http://electronichealth.se/identifier/personnummer", "value": "199908072391"}},
		"date": "2025-03-14T09:12:31+01:00",
		"authenticator": {"identifier": {"system": "urn:oid:1.2.752.29.4.19", "value": "SE2321000065-1003"}},
		"custodian": {"identifier": {"system": "urn:oid:1.2.752.29.4.19", "value": "SE2321000065-E000000000001"}},
		"content": [{"attachment": {"contentType": "application/pdf", "url": "Binary/blankett-1-pdf", "title": "Blankett 1177-LAS"}}]
	}`), &want); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("document =\n%v\nwant\n%v", got, want)
	}
}

func TestMissingAndDeletedForms(t *testing.T) {
	t.Parallel()
	s, c := setup(t)
	s.Put(cosmictest.Document{ID: "blankett-borttagen", DocStatus: "final"})
	s.Delete("blankett-borttagen")

	tests := []struct {
		ref    string
		status int
	}{
		{"blankett-okand", http.StatusNotFound},
		{"blankett-borttagen", http.StatusGone},
	}
	for _, tt := range tests {
		t.Run(tt.ref, func(t *testing.T) {
			_, err := c.Form(t.Context(), tt.ref)
			var se *cosmic.StatusError
			if !errors.Is(err, lockworker.ErrFormNotFound) || !errors.As(err, &se) || se.StatusCode != tt.status {
				t.Errorf("Form: %v, want ErrFormNotFound by a %d", err, tt.status)
			}
			if se != nil && !strings.Contains(se.Message, "DocumentReference/"+tt.ref) {
				t.Errorf("message %q, want the OperationOutcome's", se.Message)
			}
		})
	}
}

func TestServerChecksTheRequest(t *testing.T) {
	t.Parallel()
	s, _ := setup(t)
	s.Put(cosmictest.Document{ID: "blankett-1"})
	tests := []struct {
		name   string
		method string
		path   string
		header map[string]string
		status int
	}{
		{"a proper read", "GET", "/DocumentReference/blankett-1", fhirHeaders, 200},
		{"the capability statement", "GET", "/metadata", fhirHeaders, 200},
		{"no token", "GET", "/DocumentReference/blankett-1", map[string]string{"Accept": "application/fhir+json"}, 401},
		{"a wrong token", "GET", "/metadata", map[string]string{"Authorization": "Bearer fel", "Accept": "application/fhir+json"}, 401},
		{"the token without its scheme", "GET", "/metadata", map[string]string{"Authorization": token, "Accept": "application/fhir+json"}, 401},
		{"no Accept", "GET", "/DocumentReference/blankett-1", map[string]string{"Authorization": "Bearer " + token}, 406},
		{"XML accepted only", "GET", "/DocumentReference/blankett-1", map[string]string{"Authorization": "Bearer " + token, "Accept": "application/fhir+xml"}, 406},
		{"a write", "PUT", "/DocumentReference/blankett-1", fhirHeaders, 405},
		{"another resource", "GET", "/Patient/1", fhirHeaders, 404},
		{"outside the base path", "GET", "/../DocumentReference/blankett-1", fhirHeaders, 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			resp, doc := get(t, tt.method, s.URL()+tt.path, tt.header)
			if resp.StatusCode != tt.status {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.status)
			}
			if tt.status != 200 && doc["resourceType"] != "OperationOutcome" {
				t.Errorf("answer %v, want an OperationOutcome", doc)
			}
			if tt.status == 401 && resp.Header.Get("WWW-Authenticate") == "" {
				t.Error("a 401 without WWW-Authenticate")
			}
		})
	}
}

func TestServerWithoutTokenTakesAnyCaller(t *testing.T) {
	t.Parallel()
	s := cosmictest.NewServer(cosmictest.Config{})
	t.Cleanup(s.Close)

	if err := cosmic.NewClient(s.URL(), "").Metadata(t.Context()); err != nil {
		t.Errorf("Metadata: %v", err)
	}
}

func TestMetadataThroughTheClient(t *testing.T) {
	t.Parallel()
	s, c := setup(t)
	if err := c.Metadata(t.Context()); err != nil {
		t.Errorf("Metadata: %v", err)
	}
	wrong := cosmic.NewClient(s.URL(), "fel-token")
	var se *cosmic.StatusError
	if err := wrong.Metadata(t.Context()); !errors.As(err, &se) || se.StatusCode != http.StatusUnauthorized {
		t.Errorf("Metadata with a wrong token: %v, want a 401", err)
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	onFirst := func(f cosmictest.Fault) func(cosmictest.Call) *cosmictest.Fault {
		return func(c cosmictest.Call) *cosmictest.Fault {
			if c.N == 1 {
				return &f
			}
			return nil
		}
	}
	always := func(f cosmictest.Fault) func(cosmictest.Call) *cosmictest.Fault {
		return func(cosmictest.Call) *cosmictest.Fault { return &f }
	}
	tests := []struct {
		name     string
		fault    func(cosmictest.Call) *cosmictest.Fault
		observed []int // statuses the client observed
		wantErr  string
	}{
		{"a 503 once", onFirst(cosmictest.Fault{Status: 503}), []int{503, 200}, ""},
		{"a dropped connection once", onFirst(cosmictest.Fault{Drop: true}), []int{0, 200}, ""},
		{"an answer later than the client waits", onFirst(cosmictest.Fault{Delay: time.Minute}), []int{0, 200}, ""},
		{"a slow answer within the client's timeout", onFirst(cosmictest.Fault{Delay: 10 * time.Millisecond}), []int{200}, ""},
		{"a given status and body", onFirst(cosmictest.Fault{Status: 400, Body: []byte(`{"resourceType":"OperationOutcome","issue":[{"diagnostics":"Ogiltig begäran"}]}`)}), []int{400}, "form service answered 400: Ogiltig begäran"},
		{"a fault on every call", always(cosmictest.Fault{Status: 429}), nil, "form service answered 429"},
		{"a fault on another form", func(c cosmictest.Call) *cosmictest.Fault {
			if c.Ref != "blankett-1" {
				return &cosmictest.Fault{Status: 500}
			}
			return nil
		}, []int{200}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			var observed []int
			// A request gets a second: time enough on a busy machine, and
			// the delay of a minute outlasts it. The read budget leaves
			// the retry after it as long again, except where every call
			// fails and the budget is to run out.
			budget := 5 * time.Second
			if tt.observed == nil {
				budget = 300 * time.Millisecond
			}
			s, c := setup(t, cosmic.WithTimeout(time.Second), cosmic.WithReadBudget(budget),
				cosmic.WithObserver(func(_ string, status int) { mu.Lock(); observed = append(observed, status); mu.Unlock() }))
			s.Put(cosmictest.Document{ID: "blankett-1", DocStatus: "final", Signer: "SE2321000065-1003"})
			s.SetFault(tt.fault)

			form, err := c.Form(t.Context(), "blankett-1")
			if tt.wantErr == "" && (err != nil || !form.Signed()) {
				t.Errorf("Form = %+v, %v; want the signed form", form, err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("Form: %v, want %q", err, tt.wantErr)
			}
			mu.Lock()
			defer mu.Unlock()
			if tt.observed == nil { // retried until the budget ran out, maybe during an attempt
				if len(observed) < 2 {
					t.Errorf("the client observed %v, want retries", observed)
				}
				return
			}
			if !reflect.DeepEqual(observed, tt.observed) {
				t.Errorf("the client observed %v, want %v", observed, tt.observed)
			}
			if n := len(s.Calls()); n != len(observed) {
				t.Errorf("the server saw %d calls, the client made %d", n, len(observed))
			}
		})
	}
}

func TestSetFaultNilEndsFaults(t *testing.T) {
	t.Parallel()
	s, c := setup(t, cosmic.WithReadBudget(50*time.Millisecond))
	s.Put(cosmictest.Document{ID: "blankett-1"})
	s.SetFault(func(cosmictest.Call) *cosmictest.Fault { return &cosmictest.Fault{Status: 500} })
	if _, err := c.Form(t.Context(), "blankett-1"); err == nil {
		t.Fatal("Form succeeded during a fault")
	}
	s.SetFault(nil)
	if _, err := c.Form(t.Context(), "blankett-1"); err != nil {
		t.Errorf("Form: %v after the fault ended", err)
	}
}

func TestCallsAreLogged(t *testing.T) {
	t.Parallel()
	s, c := setup(t)
	s.Put(cosmictest.Document{ID: "blankett-1"})

	_, _ = c.Form(t.Context(), "blankett-1")
	_ = c.Metadata(t.Context())
	_, _ = c.Form(t.Context(), "blankett-okand")

	want := []cosmictest.Call{
		{N: 1, Method: "GET", Path: "/fhir/DocumentReference/blankett-1", Ref: "blankett-1", Resource: "DocumentReference/blankett-1"},
		{N: 2, Method: "GET", Path: "/fhir/metadata"},
		{N: 3, Method: "GET", Path: "/fhir/DocumentReference/blankett-okand", Ref: "blankett-okand", Resource: "DocumentReference/blankett-okand"},
	}
	if got := s.Calls(); !reflect.DeepEqual(got, want) {
		t.Errorf("Calls() =\n%+v\nwant\n%+v", got, want)
	}
}

func TestPutRawServesHostileDocumentsAsTheyAre(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, body, wantErr string
	}{
		{"status given twice", `{"resourceType":"DocumentReference","id":"blankett-1","status":"entered-in-error","status":"current"}`, "given twice"},
		{"another document's id", `{"resourceType":"DocumentReference","id":"blankett-2","status":"current"}`, `the answer is document "blankett-2"`},
		{"not JSON", `<html>`, "invalid character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, c := setup(t)
			s.PutRaw("blankett-1", []byte(tt.body))

			_, err := c.Form(t.Context(), "blankett-1")
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("Form: %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestCloseEndsDelayedAnswers(t *testing.T) {
	t.Parallel()
	s := cosmictest.NewServer(cosmictest.Config{Token: token})
	delayed := make(chan struct{})
	var once sync.Once
	s.SetFault(func(cosmictest.Call) *cosmictest.Fault {
		once.Do(func() { close(delayed) })
		return &cosmictest.Fault{Delay: time.Hour}
	})
	c := cosmic.NewClient(s.URL(), token, cosmic.WithReadBudget(time.Second), cosmic.WithRetryWait(time.Millisecond, 5*time.Millisecond))
	read := make(chan error)
	go func() { read <- c.Metadata(t.Context()) }()
	<-delayed

	closed := make(chan struct{})
	go func() { s.Close(); close(closed) }()
	select {
	case <-closed:
	case <-time.After(10 * time.Second):
		t.Fatal("Close waits for a delayed answer")
	}
	select {
	case err := <-read:
		if err == nil {
			t.Error("a read answered by a closed server")
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the client still waits on a closed server")
	}
}

func TestPutResourceServesWhatFormsReferTo(t *testing.T) {
	t.Parallel()
	s, _ := setup(t)
	s.PutResource(cosmictest.Resource{
		Type: "Organization", ID: "vg-07", Name: "Region Kronoberg",
		Identifiers: []cosmictest.Identifier{{System: cosmictest.HSAIDSystem, Value: "SE2321000065-1000"}},
	})
	s.PutResource(cosmictest.Resource{Type: "Patient", ID: "p-1", Name: "Tolvan Tolvansson"})
	s.PutResource(cosmictest.Resource{Type: "Patient", ID: "p-1", Name: "Tolvan Tolvansson"}) // version 2
	s.PutRawResource("Practitioner", "raw", []byte(`{"resourceType":"Practitioner","id":"raw","name":"not a list"}`))

	tests := []struct {
		path       string
		wantStatus int
		want       map[string]any // members the answer must hold
	}{
		{"/Organization/vg-07", http.StatusOK, map[string]any{
			"resourceType": "Organization", "id": "vg-07", "name": "Region Kronoberg",
			"identifier": []any{map[string]any{"system": cosmictest.HSAIDSystem, "value": "SE2321000065-1000"}},
		}},
		{"/Patient/p-1", http.StatusOK, map[string]any{
			"resourceType": "Patient", "name": []any{map[string]any{"text": "Tolvan Tolvansson"}},
			"meta": map[string]any{"versionId": "2"},
		}},
		{"/Patient/p-1/_history/2", http.StatusOK, map[string]any{"id": "p-1"}},
		{"/Patient/p-1/_history/1", http.StatusNotFound, map[string]any{"resourceType": "OperationOutcome"}},
		{"/Practitioner/raw", http.StatusOK, map[string]any{"name": "not a list"}},
		{"/Organization/okand", http.StatusNotFound, map[string]any{"resourceType": "OperationOutcome"}},
		{"/Organization/vg-07/extra", http.StatusNotFound, map[string]any{"resourceType": "OperationOutcome"}},
	}
	for _, tt := range tests {
		resp, doc := get(t, http.MethodGet, s.URL()+tt.path, fhirHeaders)
		if resp.StatusCode != tt.wantStatus {
			t.Errorf("GET %s: %d, want %d", tt.path, resp.StatusCode, tt.wantStatus)
		}
		for k, v := range tt.want {
			if !reflect.DeepEqual(doc[k], v) {
				t.Errorf("GET %s: %s = %v, want %v", tt.path, k, doc[k], v)
			}
		}
	}
	if got := s.Calls()[0]; got.Resource != "Organization/vg-07" || got.Ref != "" {
		t.Errorf("the first call = %+v, want Resource Organization/vg-07 and no form Ref", got)
	}
}

func TestAByteOrderMarkPrecedesEveryAnswer(t *testing.T) {
	t.Parallel()
	s := cosmictest.NewServer(cosmictest.Config{Token: token, ByteOrderMark: true})
	t.Cleanup(s.Close)
	s.Put(cosmictest.Document{ID: "blankett-1"})
	for _, path := range []string{"/DocumentReference/blankett-1", "/metadata", "/DocumentReference/okand"} {
		_, body := fetch(t, http.MethodGet, s.URL()+path, fhirHeaders)
		if !strings.HasPrefix(string(body), "\ufeff{") {
			t.Errorf("GET %s: the answer starts %q, want a byte-order mark and then JSON", path, body[:min(len(body), 8)])
		}
	}
}
