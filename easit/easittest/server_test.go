package easittest_test

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lockworker/lockworker/easit"
	"github.com/lockworker/lockworker/easit/easittest"
)

const key = "test-key-07"

// setup starts a fake Easit for one test and returns it with a client that
// holds its key and retries quickly.
func setup(t *testing.T, cfg easittest.Config) (*easittest.Server, *easit.Client) {
	t.Helper()
	cfg.APIKey = key
	srv := easittest.NewServer(cfg)
	t.Cleanup(srv.Close)
	return srv, newClient(srv, key)
}

func newClient(srv *easittest.Server, apiKey string, opts ...easit.Option) *easit.Client {
	opts = append([]easit.Option{easit.WithRetryWait(time.Millisecond, 2*time.Millisecond)}, opts...)
	return easit.NewClient(srv.URL(), apiKey, opts...)
}

func lockUpdate(uid, ticket string) easit.ImportRequest {
	return easit.ImportRequest{Handler: "VIS-1177-uppdatera", Items: []easit.ImportItem{{UID: uid, Properties: []easit.ImportProperty{
		{Name: "ID", Content: ticket},
		{Name: "Status", Content: "Löst"},
		{Name: "Message", Content: "Inloggningen till 1177 är låst."},
	}}}}
}

func TestAuth(t *testing.T) {
	t.Parallel()
	srv, _ := setup(t, easittest.Config{})
	wrong := newClient(srv, "wrong-key")

	if err := wrong.Ping(t.Context()); err != nil {
		t.Errorf("Ping with a wrong key: %v; want /ping open to all", err)
	}
	_, err := wrong.ListItems(t.Context(), easit.ListOptions{View: "VIS-1177-las", Page: 1})
	var e *easit.Error
	if !errors.As(err, &e) || e.StatusCode != http.StatusUnauthorized {
		t.Errorf("ListItems with a wrong key = %v, want 401", err)
	}
	_, err = wrong.Import(t.Context(), lockUpdate("u1", "55"))
	if !errors.As(err, &e) || e.StatusCode != http.StatusUnauthorized {
		t.Errorf("Import with a wrong key = %v, want 401", err)
	}
}

func TestPagesAreSortedByTicketNumber(t *testing.T) {
	t.Parallel()
	srv, client := setup(t, easittest.Config{PageSize: 2})
	for _, id := range []string{"X-1", "100", "9", "55", "7", "13"} {
		srv.AddOrder(easittest.Order{Ticket: id, Status: "Registrerad"})
	}

	page, err := client.ListItems(t.Context(), easit.ListOptions{View: "VIS-1177-las", Page: 2, PageSize: 100})
	if err != nil {
		t.Fatal(err)
	}
	counts := []int{page.RequestedPage, page.Page, page.PageSize, page.TotalNumberOfPages, page.TotalNumberOfItems}
	if want := []int{2, 2, 2, 3, 6}; !reflect.DeepEqual(counts, want) {
		t.Errorf("requestedPage, page, pageSize, totalNumberOfPages, totalNumberOfItems = %v, want %v (page size capped at 2)", counts, want)
	}
	if len(page.Columns) != 8 || page.Columns[2].Name != "Ärendetyp" {
		t.Errorf("columns = %+v, want the 8 default columns", page.Columns)
	}

	view, err := client.ListAllItems(t.Context(), easit.ListOptions{View: "VIS-1177-las"})

	items := view.Items
	if err != nil {
		t.Fatal(err)
	}
	var numbers []string
	for _, it := range items {
		numbers = append(numbers, *it.Properties[0].Content)
	}
	if want := []string{"7", "9", "13", "55", "100", "X-1"}; !reflect.DeepEqual(numbers, want) {
		t.Errorf("tickets = %v, want %v: by number, the one that is none last", numbers, want)
	}
	var pages []int
	for _, c := range srv.Calls() {
		if c.Op == easit.OpList {
			pages = append(pages, c.Page)
		}
	}
	if want := []int{2, 1, 2, 3}; !reflect.DeepEqual(pages, want) {
		t.Errorf("pages asked for = %v, want %v", pages, want)
	}
}

func TestAnEmptyView(t *testing.T) {
	t.Parallel()
	_, client := setup(t, easittest.Config{})
	page, err := client.ListItems(t.Context(), easit.ListOptions{View: "VIS-1177-las"})
	if err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 0 || page.TotalNumberOfPages != 0 || page.RequestedPage != 0 || page.Page != 1 {
		t.Errorf("page = %+v, want no items, page 1 of none, and requestedPage 0 as none was sent", page)
	}
}

func TestOrdersAndItems(t *testing.T) {
	t.Parallel()
	srv, client := setup(t, easittest.Config{})
	srv.AddOrder(easittest.Order{
		Ticket: "55", Status: "Registrerad", Kind: "Låsa inloggning", Personnummer: "196408233234",
		FormRef: "blankett-55", Created: time.Date(2026, 11, 20, 8, 15, 0, 0, time.UTC),
	})
	html := "<img src=x onerror=alert(1)>"
	srv.AddItem(easit.Item{Properties: []easit.Property{
		{Name: "Id", Content: &html},
		{Name: "Personnummer"},
		{Name: "Personnummer"},
	}})

	view, err := client.ListAllItems(t.Context(), easit.ListOptions{View: "VIS-1177-las"})

	items := view.Items
	if err != nil {
		t.Fatal(err)
	}
	if len(items) != 2 {
		t.Fatalf("%d items, want 2", len(items))
	}
	order := map[string]easit.Property{}
	for _, p := range items[0].Properties {
		order[p.Name] = p
	}
	if p := order["Skapad"]; p.Content == nil || *p.Content != "2026-11-20 09:15" || p.RawValue == nil || *p.RawValue != "2026-11-20T08:15:00Z" {
		t.Errorf("Skapad = %s, want the Swedish time shown and the UTC time as rawValue", show(p))
	}
	if p := order["Status"]; p.RawValue == nil || !strings.HasPrefix(*p.RawValue, "73:") {
		t.Errorf("Status = %s, want a database id as rawValue", show(p))
	}
	if p := order["Anmälare"]; p.Content != nil || p.RawValue != nil {
		t.Errorf("Anmälare = %s, want null for a field the order left empty", show(p))
	}
	if items[0].ID != "13:2" || items[1].ID != "13:3" {
		t.Errorf("item ids = %s, %s; want database ids 13:2 and 13:3", items[0].ID, items[1].ID)
	}
	raw := items[1].Properties
	if len(raw) != 3 || *raw[0].Content != html || raw[1].Content != nil || raw[2].Name != "Personnummer" {
		t.Errorf("raw item = %+v, want it exactly as added", raw)
	}
}

func show(p easit.Property) string {
	s := func(v *string) string {
		if v == nil {
			return "null"
		}
		return "\"" + *v + "\""
	}
	return "{content " + s(p.Content) + ", rawValue " + s(p.RawValue) + "}"
}

func TestImportUpdatesTheTicket(t *testing.T) {
	t.Parallel()
	srv, client := setup(t, easittest.Config{
		Now:  func() time.Time { return time.Date(2026, 11, 23, 11, 0, 0, 0, time.UTC) },
		User: "Integration 1177",
	})
	srv.AddOrder(easittest.Order{Ticket: "55", Status: "Registrerad"})
	srv.AddOrder(easittest.Order{Ticket: "56", Status: "Registrerad"})

	resp, err := client.Import(t.Context(), lockUpdate("u1", "55"))
	if err != nil {
		t.Fatal(err)
	}

	if len(resp.Results) != 1 || resp.Results[0].UID != "u1" || resp.Results[0].Result != "OK" {
		t.Errorf("results = %+v, want u1 OK", resp.Results)
	}
	if got := srv.Status("55"); got != "Löst" {
		t.Errorf("status = %q, want Löst", got)
	}
	item, _ := srv.Ticket("55")
	for _, p := range item.Properties {
		if p.Name == "Status" && (p.RawValue == nil || *p.RawValue == "73:1") {
			t.Errorf("status rawValue = %v, want Löst's own id", p.RawValue)
		}
	}
	if got, want := srv.Comments("55"), []string{"Inloggningen till 1177 är låst."}; !reflect.DeepEqual(got, want) {
		t.Errorf("comments = %q, want %q", got, want)
	}
	if got, want := srv.Log("55"), []string{"[ 2026-11-23 12:00, Integration 1177 ] Inloggningen till 1177 är låst."}; !reflect.DeepEqual(got, want) {
		t.Errorf("log = %q, want %q", got, want)
	}
	if srv.Updates("55") != 1 || srv.Updates("56") != 0 || srv.Status("56") != "Registrerad" {
		t.Errorf("updates of 55 and 56 = %d, %d; want only 55 updated", srv.Updates("55"), srv.Updates("56"))
	}
	calls := srv.Calls()
	if want := []string{"55"}; len(calls) != 1 || calls[0].Op != easit.OpImport || !reflect.DeepEqual(calls[0].Tickets, want) {
		t.Errorf("calls = %+v, want one import of ticket 55", calls)
	}
}

func TestImportErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		req     easit.ImportRequest
		wantErr string
	}{
		{"an unknown ticket is an Exception", lockUpdate("u1", "99"), `item u1: Exception: Inget ärende med ID "99" hittades`},
		{"an unknown handler is a 500", easit.ImportRequest{Handler: "VIS-x", Items: lockUpdate("u1", "55").Items},
			`HTTP 500 Internal Server Error: No import handler with identifier "VIS-x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv, client := setup(t, easittest.Config{})
			srv.AddOrder(easittest.Order{Ticket: "55", Status: "Registrerad"})
			_, err := client.Import(t.Context(), tt.req)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Import = %v, want an error containing %q", err, tt.wantErr)
			}
			if srv.Updates("55") != 0 || srv.Comments("55") != nil {
				t.Errorf("ticket 55 was updated")
			}
		})
	}
}

func TestUnknownView(t *testing.T) {
	t.Parallel()
	_, client := setup(t, easittest.Config{})
	_, err := client.ListItems(t.Context(), easit.ListOptions{View: "VIS-x", Page: 1})
	var e *easit.Error
	if !errors.As(err, &e) || e.StatusCode != 500 || !strings.Contains(e.Message, `No item view with identifier "VIS-x"`) {
		t.Fatalf("ListItems = %v, want a 500 naming the view", err)
	}
}

func TestRequestsTheFakeDoesNotKnow(t *testing.T) {
	t.Parallel()
	srv, _ := setup(t, easittest.Config{})
	tests := []struct {
		method, path, body string
		want               int
	}{
		{http.MethodGet, "/integration-api/nothing", "", http.StatusNotFound},
		{http.MethodDelete, "/integration-api/items", "", http.StatusNotFound},
		{http.MethodGet, "/integration-api/items", `{"itemViewIdentifier":"VIS-1177-las","columnFilter":[]}`, http.StatusBadRequest},
		{http.MethodPost, "/integration-api/items", `not json`, http.StatusBadRequest},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path+" "+tt.body, func(t *testing.T) {
			t.Parallel()
			req, err := http.NewRequestWithContext(t.Context(), tt.method, srv.URL()+tt.path, strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			req.SetBasicAuth(key, "")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
}

func TestFaults(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		fault         easittest.Fault
		wantUncertain bool
		wantUpdates   int
		wantResult    string        // of the *easit.ItemError, if one is wanted
		timeout       time.Duration // of the client; 0 for the default
	}{
		{name: "a 503 before the import", fault: easittest.Fault{Status: 503, Body: "Service Unavailable"}, wantUncertain: true},
		{
			name:          "a 503 after the import",
			fault:         easittest.Fault{Status: 503, Body: "Service Unavailable", AfterApply: true},
			wantUncertain: true, wantUpdates: 1,
		},
		{
			name:          "a dropped connection after the import",
			fault:         easittest.Fault{Drop: true, AfterApply: true},
			wantUncertain: true, wantUpdates: 1,
		},
		{
			name:          "a delay past the client's timeout",
			fault:         easittest.Fault{Delay: time.Minute},
			wantUncertain: true, timeout: 100 * time.Millisecond,
		},
		{name: "an item skipped", fault: easittest.Fault{ItemResult: "Skipped", Body: "Ingen ändring"}, wantResult: "Skipped"},
		{name: "an item Exception", fault: easittest.Fault{ItemResult: "Exception", Body: "NullPointerException"}, wantResult: "Exception"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := easittest.NewServer(easittest.Config{APIKey: key})
			defer srv.Close()
			var opts []easit.Option
			if tt.timeout != 0 {
				opts = append(opts, easit.WithTimeout(tt.timeout))
			}
			client := newClient(srv, key, opts...)
			srv.AddOrder(easittest.Order{Ticket: "55", Status: "Registrerad"})
			srv.SetFault(func(c easittest.Call) *easittest.Fault {
				if c.Op == easit.OpImport && c.N == 1 {
					return &tt.fault
				}
				return nil
			})

			_, err := client.Import(t.Context(), lockUpdate("u1", "55"))

			if err == nil {
				t.Fatal("Import: no error")
			}
			if easit.Uncertain(err) != tt.wantUncertain {
				t.Errorf("Uncertain(%v) = %v, want %v", err, !tt.wantUncertain, tt.wantUncertain)
			}
			var ie *easit.ItemError
			if tt.wantResult != "" && (!errors.As(err, &ie) || ie.Result != tt.wantResult || ie.Message != tt.fault.Body) {
				t.Errorf("Import = %v, want a %s with the fault's message", err, tt.wantResult)
			}
			if n := srv.Updates("55"); n != tt.wantUpdates {
				t.Errorf("%d updates, want %d", n, tt.wantUpdates)
			}
			if n := len(srv.Comments("55")); n != tt.wantUpdates {
				t.Errorf("%d comments, want %d", n, tt.wantUpdates)
			}
		})
	}
}

func TestAFaultOnOnePageIsRetried(t *testing.T) {
	t.Parallel()
	srv, client := setup(t, easittest.Config{PageSize: 1})
	srv.AddOrder(easittest.Order{Ticket: "55", Status: "Registrerad"})
	srv.AddOrder(easittest.Order{Ticket: "56", Status: "Registrerad"})
	srv.SetFault(func(c easittest.Call) *easittest.Fault {
		if c.Op == easit.OpList && c.Page == 2 && c.N == 2 {
			return &easittest.Fault{Drop: true}
		}
		return nil
	})

	view, err := client.ListAllItems(t.Context(), easit.ListOptions{View: "VIS-1177-las"})

	items := view.Items

	if err != nil || len(items) != 2 {
		t.Fatalf("ListAllItems = %d items, %v; want both tickets read after a retry", len(items), err)
	}
	var pages []int
	for _, c := range srv.Calls() {
		pages = append(pages, c.Page)
	}
	if want := []int{1, 2, 2}; !reflect.DeepEqual(pages, want) {
		t.Errorf("pages asked for = %v, want %v", pages, want)
	}
}

func TestADelayEndsWithTheClient(t *testing.T) {
	t.Parallel()
	srv, client := setup(t, easittest.Config{})
	srv.SetFault(func(easittest.Call) *easittest.Fault { return &easittest.Fault{Delay: time.Minute} })
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()

	start := time.Now()
	err := client.Ping(ctx)

	if err == nil {
		t.Fatal("Ping: no error")
	}
	srv.Close() // waits for the delayed request, which must end with the client
	if elapsed := time.Since(start); elapsed > 5*time.Second {
		t.Errorf("took %s, want the delay cut short when the client gave up", elapsed)
	}
}
