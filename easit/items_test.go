package easit_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lockworker/lockworker/easit"
)

func TestPing(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		answer  step
		wantErr string
	}{
		{"Pong! is the answer", body(testdata(t, "ping.json")), ""},
		{"another message is an error", body([]byte(`{"message":"Maintenance"}`)), "not Pong!"},
		{"a page that is not JSON is an error", body([]byte(`<html>Login</html>`)), "not Pong!"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			client, mux := setup(t)
			mux.HandleFunc("/integration-api/ping", func(w http.ResponseWriter, r *http.Request) {
				checkRequest(t, r, http.MethodGet, false)
				tt.answer(w, r)
			})
			err := client.Ping(t.Context())
			if tt.wantErr == "" && err != nil {
				t.Fatalf("Ping: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Ping = %v, want an error containing %q", err, tt.wantErr)
			}
		})
	}
}

func TestListItemsSendsTheViewInAJSONBody(t *testing.T) {
	t.Parallel()
	client, mux := setup(t)
	mux.HandleFunc("/integration-api/items", func(w http.ResponseWriter, r *http.Request) {
		got := checkRequest(t, r, http.MethodGet, true)
		assertJSON(t, got, `{"itemViewIdentifier":"VIS-1177-las","page":2,"pageSize":100,
			"sortColumn":{"content":"Id","order":"Ascending"}}`)
		body(testdata(t, "items_page2.json"))(w, r)
	})
	if _, err := client.ListItems(t.Context(), easit.ListOptions{View: "VIS-1177-las", Page: 2, PageSize: 100}); err != nil {
		t.Fatal(err)
	}
}

func ptr(s string) *string { return &s }

func TestListItemsDecodesAPage(t *testing.T) {
	t.Parallel()
	client, mux := setup(t)
	mux.HandleFunc("/integration-api/items", body(testdata(t, "items_page1.json")))
	page, err := client.ListItems(t.Context(), easit.ListOptions{View: "VIS-1177-las", Page: 1})
	if err != nil {
		t.Fatal(err)
	}

	counts := []int{page.RequestedPage, page.Page, page.PageSize, page.TotalNumberOfPages, page.TotalNumberOfItems}
	if want := []int{1, 1, 2, 3, 5}; !reflect.DeepEqual(counts, want) {
		t.Errorf("requestedPage, page, pageSize, totalNumberOfPages, totalNumberOfItems = %v, want %v", counts, want)
	}
	if len(page.Columns) != 8 || page.Columns[2].Name != "Ärendetyp" || page.Columns[7].DataType != "DATE" {
		t.Errorf("columns = %+v, want the view's 8 columns with their JSON-escaped names decoded", page.Columns)
	}
	if page.Columns[0].ConnectionType != nil || page.Columns[1].ConnectionType == nil {
		t.Errorf("connectiontype of Id and Status = %v, %v; want null and \"STATUS\"", page.Columns[0].ConnectionType, page.Columns[1].ConnectionType)
	}
	if len(page.Items) != 2 || page.Items[0].ID != "13:2" || page.Items[1].ID != "13:3" {
		t.Fatalf("items = %+v, want 13:2 and 13:3", page.Items)
	}
	want := []easit.Property{
		{Name: "Id", Content: ptr("56"), RawValue: ptr("56")},
		{Name: "Status", Content: ptr("Väntar på blankett"), RawValue: ptr("73:2")},
		{Name: "Ärendetyp", Content: ptr("Låsa inloggning"), RawValue: ptr("81:1")},
		{Name: "Personnummer", Content: ptr("200001012384"), RawValue: ptr("200001012384")},
		{Name: "Personnummer", Content: ptr("196408233234"), RawValue: ptr("196408233234")},
		{Name: "Anmälare"}, // null content and rawValue
		{Name: "Blankettreferens", Content: ptr(""), RawValue: ptr("")},
		{Name: "Skapad", Content: ptr("2026-11-21 14:02")},
	}
	if got := page.Items[1].Properties; !reflect.DeepEqual(got, want) {
		t.Errorf("properties of 13:3 =\n%s\nwant (repeats kept, null distinct from \"\")\n%s", dump(got), dump(want))
	}
}

func dump(v any) string {
	data, _ := json.Marshal(v)
	return string(data)
}

func TestListItemsOfAnEmptyView(t *testing.T) {
	t.Parallel()
	// Easit gives an empty view's items as {}, {"item":[]} or null.
	for _, file := range []string{"items_empty_object.json", "items_empty_list.json", "items_null.json"} {
		t.Run(file, func(t *testing.T) {
			t.Parallel()
			client, mux := setup(t)
			mux.HandleFunc("/integration-api/items", body(testdata(t, file)))
			page, err := client.ListItems(t.Context(), easit.ListOptions{View: "VIS-1177-las", Page: 1})
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Items) != 0 || page.TotalNumberOfItems != 0 {
				t.Errorf("page = %+v, want no items", page)
			}
			all, err := client.ListAllItems(t.Context(), easit.ListOptions{View: "VIS-1177-las"})
			if err != nil || len(all.Items) != 0 {
				t.Errorf("ListAllItems = %v, %v; want no items and no error", all, err)
			}
		})
	}
}

func TestListItemsRefusesAnUnreadablePage(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, answer string }{
		{"not JSON", `<html><body>Proxy error</body></html>`},
		{"items as a list", `{"items":[{"id":"13:2"}],"page":1,"totalNumberOfPages":1}`},
		{"a negative count", `{"items":null,"page":1,"totalNumberOfPages":-1}`},
		{"a number as a string", `{"items":null,"page":"1"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			client, mux := setup(t)
			mux.HandleFunc("/integration-api/items", body([]byte(tt.answer)))
			page, err := client.ListItems(t.Context(), easit.ListOptions{View: "V", Page: 1})
			if err == nil {
				t.Fatalf("ListItems = %+v, want an error", page)
			}
			if easit.Retryable(err) {
				t.Errorf("Retryable(%v) = true, want false: the same answer would come again", err)
			}
		})
	}
}

// pagedEasit serves the recorded three pages by the page asked for, and
// records which pages and sizes were asked for.
func pagedEasit(t *testing.T, mux *http.ServeMux) func() []string {
	var mu sync.Mutex
	var asked []string
	files := map[int]string{1: "items_page1.json", 2: "items_page2.json", 3: "items_page3.json"}
	mux.HandleFunc("/integration-api/items", func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Page, PageSize int }
		if err := json.Unmarshal(checkRequest(t, r, http.MethodGet, true), &req); err != nil {
			t.Error(err)
		}
		mu.Lock()
		asked = append(asked, fmt.Sprintf("page %d of %d", req.Page, req.PageSize))
		mu.Unlock()
		body(testdata(t, files[req.Page]))(w, r)
	})
	return func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), asked...)
	}
}

func TestListAllItemsReadsEveryPage(t *testing.T) {
	t.Parallel()
	client, mux := setup(t)
	asked := pagedEasit(t, mux)
	view, err := client.ListAllItems(t.Context(), easit.ListOptions{View: "VIS-1177-las"})
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, it := range view.Items {
		ids = append(ids, it.ID)
	}
	if want := []string{"13:2", "13:3", "13:7", "13:9", "13:12"}; !reflect.DeepEqual(ids, want) {
		t.Errorf("items = %v, want %v", ids, want)
	}
	// The largest page is asked for; Easit serves its own largest, here 2 items.
	if want := []string{"page 1 of 1000", "page 2 of 1000", "page 3 of 1000"}; !reflect.DeepEqual(asked(), want) {
		t.Errorf("asked for %v, want %v", asked(), want)
	}
}

func TestEachPageHandsEachPageOverBeforeAskingForTheNext(t *testing.T) {
	t.Parallel()
	client, mux := setup(t)
	asked := pagedEasit(t, mux)
	var handed [][]string
	err := client.EachPage(t.Context(), easit.ListOptions{View: "VIS-1177-las"}, func(columns []easit.Column, items []easit.Item) error {
		if len(columns) == 0 {
			t.Errorf("page %d came without the view's columns", len(handed)+1)
		}
		if n := len(asked()); n != len(handed)+1 {
			t.Errorf("page %d handed over after %d pages were asked for, want %d", len(handed)+1, n, len(handed)+1)
		}
		var ids []string
		for _, it := range items {
			ids = append(ids, it.ID)
		}
		handed = append(handed, ids)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := [][]string{{"13:2", "13:3"}, {"13:7", "13:9"}, {"13:12"}}; !reflect.DeepEqual(handed, want) {
		t.Errorf("pages handed over = %v, want %v", handed, want)
	}
}

func TestEachPageStopsAtTheCallersError(t *testing.T) {
	t.Parallel()
	client, mux := setup(t)
	asked := pagedEasit(t, mux)
	enough := errors.New("enough")
	err := client.EachPage(t.Context(), easit.ListOptions{View: "VIS-1177-las"}, func([]easit.Column, []easit.Item) error {
		return enough
	})
	if !errors.Is(err, enough) {
		t.Errorf("EachPage = %v, want the caller's error", err)
	}
	if want := []string{"page 1 of 1000"}; !reflect.DeepEqual(asked(), want) {
		t.Errorf("asked for %v, want only %v", asked(), want)
	}
}

func TestListAllItemsGuardsAgainstAWrongServer(t *testing.T) {
	t.Parallel()
	item := func(id string) string { return fmt.Sprintf(`{"id":%q,"property":[]}`, id) }
	tests := []struct {
		name string
		// answer gives the page's number, total of pages and items for the
		// page asked for.
		answer  func(asked int) (page, total int, items string)
		wantErr string
	}{
		{
			name:    "the same page again",
			answer:  func(int) (int, int, string) { return 1, 3, item("13:2") },
			wantErr: "asked for page 2, got page 1",
		},
		{
			name:    "no end in sight",
			answer:  func(asked int) (int, int, string) { return asked, 5000, item("13:2") },
			wantErr: "5000 pages, more than the 1000",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			client, mux := setup(t)
			var requests atomic.Int32
			mux.HandleFunc("/integration-api/items", func(w http.ResponseWriter, r *http.Request) {
				requests.Add(1)
				var req struct{ Page int }
				_ = json.Unmarshal(checkRequest(t, r, http.MethodGet, true), &req)
				page, total, items := tt.answer(req.Page)
				fmt.Fprintf(w, `{"items":{"item":[%s]},"requestedPage":%d,"page":%d,"pageSize":1,"totalNumberOfPages":%d,"totalNumberOfItems":%d}`,
					items, req.Page, page, total, total)
			})
			view, err := client.ListAllItems(t.Context(), easit.ListOptions{View: "V"})
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("ListAllItems = %+v, %v; want an error containing %q", view, err, tt.wantErr)
			}
			if n := requests.Load(); n > 2 && tt.name != "no end in sight" {
				t.Errorf("%d requests, want the read stopped at the first sign of trouble", n)
			}
		})
	}
}

func TestReadsAreRetried(t *testing.T) {
	t.Parallel()
	ok := body(testdata(t, "items_empty_list.json"))
	tests := []struct {
		name          string
		steps         []step
		wantAttempts  []string // as the observer saw them
		wantStatus    int      // of the error; 0 for no error
		wantRetryable bool
	}{
		{"a 5xx, then OK", []step{status(503, "Service Unavailable"), ok}, []string{"list 503", "list 200"}, 0, false},
		{"a 429, then OK", []step{status(429, "Too Many Requests"), ok}, []string{"list 429", "list 200"}, 0, false},
		{"a network error, then OK", []step{drop, ok}, []string{"list 0", "list 200"}, 0, false},
		{"a bad key is not retried", []step{status(401, "Unauthorized")}, []string{"list 401"}, 401, false},
		{"a bad request is not retried", []step{status(400, "Bad request")}, []string{"list 400"}, 400, false},
		{"a redirect is not followed", []step{redirect}, []string{"list 302"}, 302, false},
		{"a 5xx to the end of the retries", []step{status(500, "Unknown view")}, nil, 500, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var obs observed
			client, mux := setup(t, easit.WithObserver(obs.observe))
			handler, requests := script(tt.steps...)
			mux.HandleFunc("/integration-api/items", handler)

			_, err := client.ListItems(t.Context(), easit.ListOptions{View: "V", Page: 1})

			var e *easit.Error
			switch {
			case tt.wantStatus == 0 && err != nil:
				t.Fatalf("ListItems: %v", err)
			case tt.wantStatus != 0 && (!errors.As(err, &e) || e.StatusCode != tt.wantStatus || e.Op != easit.OpList):
				t.Fatalf("ListItems = %v, want an *easit.Error of op list with status %d", err, tt.wantStatus)
			}
			if easit.Retryable(err) != tt.wantRetryable {
				t.Errorf("Retryable(%v) = %v, want %v", err, !tt.wantRetryable, tt.wantRetryable)
			}
			if tt.wantAttempts != nil && !reflect.DeepEqual(obs.get(), tt.wantAttempts) {
				t.Errorf("attempts = %v, want %v", obs.get(), tt.wantAttempts)
			}
			if int(requests.Load()) != len(obs.get()) {
				t.Errorf("%d requests, but the observer saw %d", requests.Load(), len(obs.get()))
			}
		})
	}
}

func TestReadsStopAtTheReadBudget(t *testing.T) {
	t.Parallel()
	client, mux := setup(t, easit.WithReadBudget(300*time.Millisecond))
	handler, requests := script(slow(40*time.Millisecond, status(503, "Service Unavailable")))
	mux.HandleFunc("/integration-api/items", handler)

	start := time.Now()
	_, err := client.ListItems(t.Context(), easit.ListOptions{View: "V", Page: 1})
	elapsed := time.Since(start)

	if err == nil || !strings.Contains(err.Error(), "read budget of 300ms spent") || !strings.Contains(err.Error(), "HTTP 503") {
		t.Fatalf("ListItems = %v, want the read budget spent, and Easit's last answer", err)
	}
	if !easit.Retryable(err) {
		t.Errorf("Retryable(%v) = false, want true: a later read may succeed", err)
	}
	if elapsed > 2*time.Second {
		t.Errorf("the read took %s, want it ended near its budget of 300ms", elapsed)
	}
	if n := requests.Load(); n < 2 {
		t.Errorf("%d requests, want the read retried within its budget", n)
	}
}

func TestReadsStopWhenTheCallerGivesUp(t *testing.T) {
	t.Parallel()
	client, mux := setup(t)
	handler, _ := script(slow(20*time.Millisecond, status(503, "Service Unavailable")))
	mux.HandleFunc("/integration-api/items", handler)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Millisecond)
	defer cancel()

	_, err := client.ListItems(ctx, easit.ListOptions{View: "V", Page: 1})

	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ListItems = %v, want the caller's deadline", err)
	}
	if strings.Contains(err.Error(), "read budget") {
		t.Errorf("error %q blames the read budget, but the caller's deadline ended the read", err)
	}
}

func TestAReadThatNeverGotAnAnswerSaysWhy(t *testing.T) {
	t.Parallel()
	// A server that is gone: every attempt is refused.
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	// The budget runs out while the client waits to try again.
	client := easit.NewClient(url, testKey, easit.WithRetryWait(150*time.Millisecond, 150*time.Millisecond), easit.WithReadBudget(200*time.Millisecond))

	_, err := client.ListItems(t.Context(), easit.ListOptions{View: "VIS-1177-las", Page: 1, PageSize: 100})

	if err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("ListItems = %v, want an error that says the connection was refused", err)
	}
}

// WithFailFast ends a read at the first attempt when Easit cannot be reached
// at all; without it, the read is tried again within its budget.
func TestAFailFastReadIsNotRetriedWhenEasitCannotBeReached(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	refused := srv.URL
	srv.Close() // nothing listens any more: the connection is refused
	tests := []struct {
		name, url string
		failFast  bool
		want      string
	}{
		{"a refused connection", refused, true, "connection refused"},
		{"a name that does not resolve", "http://easit.lockworker.invalid:9001", true, "lookup easit.lockworker.invalid"},
		{"a refused connection, retried without WithFailFast", refused, false, "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var obs observed
			opts := []easit.Option{easit.WithObserver(obs.observe), easit.WithRetryWait(time.Millisecond, time.Millisecond), easit.WithReadBudget(time.Second)}
			if tt.failFast {
				opts = append(opts, easit.WithFailFast())
			}
			client := easit.NewClient(tt.url, testKey, opts...)

			err := client.Ping(t.Context())

			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Ping = %v, want an error that says %q", err, tt.want)
			}
			switch attempts := len(obs.get()); {
			case tt.failFast && attempts != 1:
				t.Errorf("%d attempts, want 1: %q", attempts, obs.get())
			case !tt.failFast && attempts < 2:
				t.Errorf("%d attempts, want the read tried again within its budget", attempts)
			}
		})
	}
}

// A view of open orders shrinks while it is read, as another process resolves
// tickets on its first page: no item that stayed in the view is missed, and
// none is returned twice; one that grows gives an item twice, kept once.
func TestListAllItemsOfAViewThatChangesWhileRead(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name   string
		change func(view []string) []string // made after page 1 is read
		want   []string
	}{
		{"shrinking", func(v []string) []string { return v[2:] }, []string{"1", "2", "3", "4", "5", "6", "7"}},
		{"growing", func(v []string) []string { return append([]string{"0"}, v...) }, []string{"1", "2", "3", "4", "5", "6", "7"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			client, mux := setup(t)
			changingView(t, mux, func(requests int, view []string) ([]string, int) {
				if requests == 2 {
					return tt.change(view), 0
				}
				return view, 0
			})
			got, err := client.ListAllItems(t.Context(), easit.ListOptions{View: "V"})
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, it := range got.Items {
				ids = append(ids, strings.TrimPrefix(it.ID, "13:"))
			}
			slices.Sort(ids)
			if !slices.Equal(ids, tt.want) {
				t.Errorf("items %v, want %v", ids, tt.want)
			}
		})
	}
}

// A view of open orders that the caller's own updates shrink while it reads
// it, as a pass resolves the orders of the pages it has read, while as many
// new tickets are registered: the view's number of items stays the same, so
// it is read again from its first page, for the items that moved up.
func TestAViewIsReadAgainWhenItsCallerMayHaveTakenOutItemsUnseen(t *testing.T) {
	t.Parallel()
	client, mux := setup(t)
	pages := changingView(t, mux, func(requests int, view []string) ([]string, int) {
		if requests == 2 {
			// The caller resolved tickets 1 and 2, and two tickets were
			// registered meanwhile.
			return append(view[2:], "8", "9"), 0
		}
		return view, 0
	})
	var left atomic.Int64
	var ids []string
	err := client.EachPage(t.Context(), easit.ListOptions{View: "V", MayHaveLeft: left.Load}, func(_ []easit.Column, items []easit.Item) error {
		for _, it := range items {
			ids = append(ids, strings.TrimPrefix(it.ID, "13:"))
		}
		if len(ids) == 3 {
			left.Add(2) // tickets 1 and 2 sent to a status the view does not list
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(ids)
	if want := []string{"1", "2", "3", "4", "5", "6", "7", "8", "9"}; !slices.Equal(ids, want) {
		t.Errorf("items %v, want %v (pages read: %v)", ids, want, pages())
	}
	// The view never shows the two tickets gone: it is read from its first
	// page as often as a read may be, three times.
	if want := []int{1, 2, 3, 1, 2, 3, 1, 2, 3}; !slices.Equal(pages(), want) {
		t.Errorf("pages read %v, want %v: the view read three times", pages(), want)
	}
}

// changingView serves a view of ticket numbers in pages of 3, and lets the
// test change it or fail a request as the requests come: change gets the
// requests so far (the one being answered included) and the view, and
// returns the view to answer from and, for a failed request, a status.
func changingView(t *testing.T, mux *http.ServeMux, change func(requests int, view []string) ([]string, int)) (pages func() []int) {
	view := []string{"1", "2", "3", "4", "5", "6", "7"}
	var mu sync.Mutex
	var asked []int
	mux.HandleFunc("/integration-api/items", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		var req struct{ Page int }
		_ = json.Unmarshal(checkRequest(t, r, http.MethodGet, true), &req)
		asked = append(asked, req.Page)
		var status int
		if view, status = change(len(asked), view); status != 0 {
			w.WriteHeader(status)
			return
		}
		const size = 3
		var items []string
		for i := (req.Page - 1) * size; i < min(req.Page*size, len(view)); i++ {
			items = append(items, fmt.Sprintf(`{"id":"13:%s","property":[]}`, view[i]))
		}
		fmt.Fprintf(w, `{"items":{"item":[%s]},"requestedPage":%d,"page":%d,"pageSize":%d,"totalNumberOfPages":%d,"totalNumberOfItems":%d}`,
			strings.Join(items, ","), req.Page, req.Page, size, (len(view)+size-1)/size, len(view))
	})
	return func() []int {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(asked)
	}
}

// The caller's update of tickets 1 and 2, sent after page 1, is carried out
// only after the view's last page was read: the view is read again, and its
// first page shows it 2 tickets smaller, which ends that read.
func TestAReadAgainEndsWhenTheViewShowsTheCallersChanges(t *testing.T) {
	t.Parallel()
	client, mux := setup(t)
	pages := changingView(t, mux, func(requests int, view []string) ([]string, int) {
		if requests == 4 {
			return view[2:], 0 // the import landed after the last page
		}
		return view, 0
	})
	var left atomic.Int64
	err := client.EachPage(t.Context(), easit.ListOptions{View: "V", MayHaveLeft: left.Load}, func(_ []easit.Column, items []easit.Item) error {
		if slices.ContainsFunc(items, func(it easit.Item) bool { return it.ID == "13:1" }) {
			left.Add(2) // tickets 1 and 2 sent to a status the view does not list
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{1, 2, 3, 1}; !slices.Equal(pages(), want) {
		t.Errorf("pages read %v, want %v", pages(), want)
	}
}

// A read again that fails fails nothing: the view was read whole once, and
// what a read again could not find, the next read finds.
func TestAReadAgainThatFailsLeavesTheReadWhole(t *testing.T) {
	t.Parallel()
	client, mux := setup(t)
	pages := changingView(t, mux, func(requests int, view []string) ([]string, int) {
		if requests == 4 {
			return view, http.StatusBadRequest // not retried
		}
		return view, 0
	})
	var ids []string
	err := client.EachPage(t.Context(), easit.ListOptions{View: "V", MayHaveLeft: func() int64 { return 1 }}, func(_ []easit.Column, items []easit.Item) error {
		for _, it := range items {
			ids = append(ids, it.ID)
		}
		return nil
	})
	if err != nil || len(ids) != 7 {
		t.Errorf("EachPage = %v with %d items, want none and 7 (pages read %v)", err, len(ids), pages())
	}
}
