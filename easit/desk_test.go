package easit_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lockworker/lockworker"
	"github.com/lockworker/lockworker/easit"
	"github.com/lockworker/lockworker/easit/easittest"
)

// now is the time of the fake Easit in these tests: 12:00 in Stockholm.
var now = time.Date(2026, 11, 23, 11, 0, 0, 0, time.UTC)

// setupDesk starts a fake Easit with the tests' key and returns a desk of
// its order view, with the given column labels, and the fake.
func setupDesk(t *testing.T, fields easit.Fields, opts ...easit.Option) (*easit.Desk, *easittest.Server) {
	t.Helper()
	srv := easittest.NewServer(easittest.Config{APIKey: testKey, Fields: fields, Now: func() time.Time { return now }})
	t.Cleanup(srv.Close)
	opts = append([]easit.Option{easit.WithRetryWait(time.Millisecond, 2*time.Millisecond)}, opts...)
	client := easit.NewClient(srv.URL(), testKey, opts...)
	return easit.NewDesk(client, "VIS-1177-las", "VIS-1177-uppdatera", fields), srv
}

func prop(name string, content, raw *string) easit.Property {
	return easit.Property{Name: name, Content: content, RawValue: raw}
}

func TestDeskTickets(t *testing.T) {
	t.Parallel()
	desk, srv := setupDesk(t, easit.Fields{})
	srv.AddOrder(easittest.Order{
		Ticket: "55", Status: "Registrerad", Kind: "Låsa inloggning", Personnummer: "199908072391",
		Reporter: "Karin Lindström", ReporterHSAID: "SE2321000065-a1b2", FormRef: "blankett-55",
		Created: time.Date(2026, 11, 20, 8, 15, 0, 0, time.UTC),
	})
	// A ticket as a careless agent and an odd Easit can leave it.
	srv.AddItem(easit.Item{Properties: []easit.Property{
		prop("Id", nil, ptr("56")), // number only as rawValue
		prop("Status", ptr("Registrerad"), ptr("73:1")),
		prop("Ärendetyp", ptr("Låsa inloggning"), ptr("81:1")),
		prop("A\u0308rendetyp", ptr("Häva låsning"), ptr("81:2")), // the same label, Ä decomposed
		prop("Personnummer", ptr(""), ptr("")),                    // empty, kept
		prop("Personnummer", nil, nil),                            // null, dropped
		prop("Blankettreferens", ptr("<script>x</script>"), nil),  // markup, kept as text
		prop("Skapad", ptr("igår"), nil),                          // no rawValue, dropped
		prop("Skapad", ptr("2026-11-21 11:00"), ptr("2026-11-21T10:00:00Z")),
		prop("Okänd kolumn", ptr("ignored"), nil), // not a field
	}})
	srv.AddOrder(easittest.Order{Ticket: "57", Status: "Registrerad"}) // every other field null

	tickets, err := allTickets(t.Context(), desk)
	if err != nil {
		t.Fatal(err)
	}

	want := []lockworker.Ticket{
		{
			ID: "55", Status: "Registrerad", Kind: []string{"Låsa inloggning"}, Personnummer: []string{"199908072391"},
			FormRef: []string{"blankett-55"}, Created: []string{"2026-11-20T08:15:00Z"},
			Reporter: []string{"Karin Lindström"}, ReporterHSAID: []string{"SE2321000065-a1b2"},
		},
		{
			ID: "56", Status: "Registrerad", Kind: []string{"Låsa inloggning", "Häva låsning"}, Personnummer: []string{""},
			FormRef: []string{"<script>x</script>"}, Created: []string{"2026-11-21T10:00:00Z"},
		},
		{ID: "57", Status: "Registrerad"},
	}
	if !reflect.DeepEqual(tickets, want) {
		t.Errorf("tickets =\n%s\nwant\n%s", dump(tickets), dump(want))
	}
}

func TestDeskTicketsFailsWithTheView(t *testing.T) {
	t.Parallel()
	srv := easittest.NewServer(easittest.Config{APIKey: testKey})
	defer srv.Close()
	desk := easit.NewDesk(easit.NewClient(srv.URL(), "old-key"), "VIS-1177-las", "VIS-1177-uppdatera", easit.Fields{})

	tickets, err := allTickets(t.Context(), desk)

	var e *easit.Error
	if !errors.As(err, &e) || e.StatusCode != http.StatusUnauthorized || !strings.Contains(err.Error(), `read the tickets of view "VIS-1177-las"`) {
		t.Fatalf("Tickets = %v, %v; want a 401 naming the view", tickets, err)
	}
}

// Easit can give two columns of a view one label, and an item names its
// values by label alone: a configured label on two columns fails the read,
// naming it, rather than merge the two columns' values.
func TestDeskTicketsRefusesAConfiguredLabelOnTwoColumns(t *testing.T) {
	t.Parallel()
	desk, srv := setupDesk(t, easit.Fields{FormRef: "Lösning"})
	connection := "CONNECTION"
	srv.AddColumn(easit.Column{Name: "Lösning", DataType: "STRING"})
	srv.AddColumn(easit.Column{Name: "Lösning", DataType: "STRING", ConnectionType: &connection})
	srv.AddOrder(easittest.Order{Ticket: "55", Status: "Registrerad", FormRef: "blankett-55"})

	tickets, err := allTickets(t.Context(), desk)

	if err == nil || !strings.Contains(err.Error(), `view "VIS-1177-las" has 3 columns labelled "Lösning"`) {
		t.Fatalf("Tickets = %v, %v; want an error naming the label", tickets, err)
	}
}

func TestDeskReadsTheRegionsColumnLabels(t *testing.T) {
	t.Parallel()
	fields := easit.Fields{Ticket: "Ärendenummer", Kind: "Typ av beställning", Personnummer: "Patientens personnummer"}
	desk, srv := setupDesk(t, fields)
	srv.AddOrder(easittest.Order{Ticket: "7", Status: "Registrerad", Kind: "Häva låsning", Personnummer: "200001012384"})

	tickets, err := allTickets(t.Context(), desk)
	if err != nil {
		t.Fatal(err)
	}
	want := []lockworker.Ticket{{ID: "7", Status: "Registrerad", Kind: []string{"Häva låsning"}, Personnummer: []string{"200001012384"}}}
	if !reflect.DeepEqual(tickets, want) {
		t.Errorf("tickets = %s, want %s", dump(tickets), dump(want))
	}
}

func TestDeskGivesKindsAndStatusesInNFC(t *testing.T) {
	t.Parallel()
	desk, srv := setupDesk(t, easit.Fields{})
	// "Häva låsning" and "Väntar på blankett" with ä and å decomposed, as
	// some systems send them.
	srv.AddOrder(easittest.Order{Ticket: "7", Status: "Va\u0308ntar pa\u030a blankett", Kind: "Ha\u0308va la\u030asning"})

	tickets, err := allTickets(t.Context(), desk)
	if err != nil {
		t.Fatal(err)
	}
	if len(tickets) != 1 || tickets[0].Status != "Väntar på blankett" || len(tickets[0].Kind) != 1 || tickets[0].Kind[0] != "Häva låsning" {
		t.Errorf("tickets = %s, want the kind and status in NFC", dump(tickets))
	}
}

func TestDeskUpdate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name         string
		update       lockworker.TicketUpdate
		wantStatus   string
		wantComments []string
		wantLog      []string
	}{
		{
			name:         "status and comment",
			update:       lockworker.TicketUpdate{Ticket: "55", Status: "Löst", Comment: "Inloggningen till 1177 är låst."},
			wantStatus:   "Löst",
			wantComments: []string{"Inloggningen till 1177 är låst."},
			wantLog:      []string{"[ 2026-11-23 12:00, lockworker ] Inloggningen till 1177 är låst."},
		},
		{
			name:       "no comment appends nothing",
			update:     lockworker.TicketUpdate{Ticket: "55", Status: "Manuell hantering"},
			wantStatus: "Manuell hantering",
		},
		{
			name:         "no status leaves the status alone",
			update:       lockworker.TicketUpdate{Ticket: "55", Comment: "Väntar på blanketten."},
			wantStatus:   "Registrerad",
			wantComments: []string{"Väntar på blanketten."},
			wantLog:      []string{"[ 2026-11-23 12:00, lockworker ] Väntar på blanketten."},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			desk, srv := setupDesk(t, easit.Fields{})
			srv.AddOrder(easittest.Order{Ticket: "55", Status: "Registrerad"})

			if err := desk.Update(t.Context(), []lockworker.TicketUpdate{tt.update})[0]; err != nil {
				t.Fatal(err)
			}

			if got := srv.Status("55"); got != tt.wantStatus {
				t.Errorf("status = %q, want %q", got, tt.wantStatus)
			}
			if got := srv.Comments("55"); !reflect.DeepEqual(got, tt.wantComments) {
				t.Errorf("comments = %q, want %q", got, tt.wantComments)
			}
			if got := srv.Log("55"); !reflect.DeepEqual(got, tt.wantLog) {
				t.Errorf("log = %q, want %q", got, tt.wantLog)
			}
			if n := srv.Updates("55"); n != 1 {
				t.Errorf("%d updates, want 1", n)
			}
		})
	}
}

// Each item's uid traces the update in Easit's import log: an update that
// names its key (lockworker's region, ticket and round) is sent under it on
// every attempt; one without a key gets a fresh uid each time.
func TestDeskUpdateUIDs(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name string
		key  string
		same bool // whether both attempts carry one uid
	}{
		{"without a key, a fresh uid each time", "", false},
		{"with a key, the key each time", "lockworker-07-55-2", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			client, mux := setup(t)
			var mu sync.Mutex
			var uids []string
			mux.HandleFunc("/integration-api/items", func(w http.ResponseWriter, r *http.Request) {
				var req struct {
					Items []struct{ UID string } `json:"itemToImport"`
				}
				if err := json.Unmarshal(checkRequest(t, r, http.MethodPost, true), &req); err != nil || len(req.Items) != 1 {
					t.Errorf("import request: %v, %d items; want 1 item", err, len(req.Items))
					return
				}
				uid := req.Items[0].UID
				mu.Lock()
				uids = append(uids, uid)
				mu.Unlock()
				_ = json.NewEncoder(w).Encode(map[string]any{"importItemResult": []map[string]string{{"uid": uid, "result": "OK"}}})
			})
			desk := easit.NewDesk(client, "VIS-1177-las", "VIS-1177-uppdatera", easit.Fields{})
			for range 2 {
				if err := desk.Update(t.Context(), []lockworker.TicketUpdate{{Ticket: "55", Status: "Löst", Comment: "Klart.", Key: tt.key}})[0]; err != nil {
					t.Fatal(err)
				}
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case len(uids) != 2 || uids[0] == "":
				t.Errorf("uids = %q, want two", uids)
			case tt.same && (uids[0] != tt.key || uids[1] != tt.key):
				t.Errorf("uids = %q, want %q both times", uids, tt.key)
			case !tt.same && uids[0] == uids[1]:
				t.Errorf("uids = %q, want two different ones", uids)
			}
		})
	}
}

func TestDeskUpdateErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name          string
		ticket        string
		fault         *easittest.Fault
		wantResult    string // of the *easit.ItemError, if one is wanted
		wantUncertain bool
		wantComments  int // on the ticket afterwards
	}{
		{name: "an unknown ticket", ticket: "99", wantResult: "Exception"},
		{
			name: "an item skipped", ticket: "55",
			fault:      &easittest.Fault{ItemResult: "Skipped", Body: "Ingen ändring"},
			wantResult: "Skipped",
		},
		{
			name: "a 502 after Easit carried it out", ticket: "55",
			fault:         &easittest.Fault{AfterApply: true, Status: http.StatusBadGateway, Body: "Bad Gateway"},
			wantUncertain: true, wantComments: 1,
		},
		{
			// The client cannot tell this from the case above.
			name: "a connection dropped before Easit read it", ticket: "55",
			fault:         &easittest.Fault{Drop: true},
			wantUncertain: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			desk, srv := setupDesk(t, easit.Fields{})
			srv.AddOrder(easittest.Order{Ticket: "55", Status: "Registrerad"})
			srv.SetFault(func(easittest.Call) *easittest.Fault { return tt.fault })

			err := desk.Update(t.Context(), []lockworker.TicketUpdate{{Ticket: tt.ticket, Status: "Löst", Comment: "Klart."}})[0]

			if err == nil || !strings.Contains(err.Error(), "update ticket "+tt.ticket) {
				t.Fatalf("Update = %v, want an error naming the ticket", err)
			}
			var ie *easit.ItemError
			if tt.wantResult != "" && (!errors.As(err, &ie) || ie.Result != tt.wantResult || !strings.Contains(err.Error(), tt.ticket)) {
				t.Errorf("Update = %v, want an item error %s naming the ticket", err, tt.wantResult)
			}
			if easit.Uncertain(err) != tt.wantUncertain || easit.Retryable(err) {
				t.Errorf("Uncertain, Retryable = %v, %v; want %v, false", easit.Uncertain(err), easit.Retryable(err), tt.wantUncertain)
			}
			if said := strings.Contains(err.Error(), "it may have reached Easit"); said != tt.wantUncertain {
				t.Errorf("Update = %v; saying it may have reached Easit: %v, want %v", err, said, tt.wantUncertain)
			}
			if n := len(srv.Comments("55")); n != tt.wantComments {
				t.Errorf("%d comments on 55, want %d", n, tt.wantComments)
			}
		})
	}
}

func TestDeskPingAndCheckView(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		key     string // the desk's API key, if not the right one
		view    string // the desk's view, if not the right one
		fields  easit.Fields
		fault   *easittest.Fault // on /ping
		extra   *easit.Column    // added to the view, after its own columns
		wantErr string           // a regular expression
	}{
		{name: "all is well"},
		{name: "Easit is down", fault: &easittest.Fault{Status: 503, Body: "Service Unavailable"}, wantErr: `easit: ping: .*HTTP 503`},
		{name: "a wrong key", key: "old-key", wantErr: `read view "VIS-1177-las" with the API key: easit: list items of view "VIS-1177-las", page 1: HTTP 401`},
		{name: "an unknown view", view: "VIS-1177-gammal", wantErr: `No item view with identifier "VIS-1177-gammal"`},
		{name: "a misnamed column", fields: easit.Fields{Kind: "Typ"}, wantErr: `view "VIS-1177-las" has no column "Typ"`},
		{name: "a configured label on two columns", extra: &easit.Column{Name: "Blankettreferens", DataType: "CONNECTION"},
			wantErr: `view "VIS-1177-las" has 2 columns labelled "Blankettreferens"`},
		{name: "a configured label on two columns, one in NFD", extra: &easit.Column{Name: "Anma\u0308lare", DataType: "CONNECTION"},
			wantErr: `view "VIS-1177-las" has 2 columns labelled "Anmälare"`},
		{name: "another label on two columns", extra: &easit.Column{Name: "Status", DataType: "STRING"}, fields: easit.Fields{Status: "Ärendestatus"},
			wantErr: `view "VIS-1177-las" has no column "Ärendestatus"`},
		{name: "a label that is no field on two columns", extra: &easit.Column{Name: "Lösning", DataType: "STRING"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := easittest.NewServer(easittest.Config{APIKey: testKey})
			defer srv.Close()
			srv.SetFault(func(c easittest.Call) *easittest.Fault {
				if c.Op == easit.OpPing {
					return tt.fault
				}
				return nil
			})
			srv.AddColumn(easit.Column{Name: "Lösning", DataType: "STRING"})
			if tt.extra != nil {
				srv.AddColumn(*tt.extra)
			}
			key, view := testKey, "VIS-1177-las"
			if tt.key != "" {
				key = tt.key
			}
			if tt.view != "" {
				view = tt.view
			}
			client := easit.NewClient(srv.URL(), key, easit.WithRetryWait(time.Millisecond, 2*time.Millisecond))
			desk := easit.NewDesk(client, view, "VIS-1177-uppdatera", tt.fields)

			err := desk.Ping(t.Context())
			if err == nil {
				err = desk.CheckView(t.Context())
			}

			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Ping, CheckView: %v", err)
			case tt.wantErr != "" && (err == nil || !regexp.MustCompile(tt.wantErr).MatchString(err.Error())):
				t.Fatalf("Ping, CheckView = %v, want an error matching %q", err, tt.wantErr)
			}
		})
	}
}

// Each read of the view checks its columns: a view that lacks a configured
// column gives no tickets at all, so that none is judged without it.
func TestTicketsOfAViewLackingAColumnAreAnError(t *testing.T) {
	t.Parallel()
	srv := easittest.NewServer(easittest.Config{APIKey: testKey})
	defer srv.Close()
	srv.AddOrder(easittest.Order{Ticket: "55", Status: "Registrerad", Kind: "Låsa inloggning", Personnummer: "199908072391", FormRef: "F-55", Created: time.Now()})
	desk := easit.NewDesk(easit.NewClient(srv.URL(), testKey), "VIS-1177-las", "VIS-1177-uppdatera", easit.Fields{Personnummer: "Personnr"})
	tickets, err := allTickets(t.Context(), desk)
	var missing *easit.MissingColumnError
	if !errors.As(err, &missing) || missing.Column != "Personnr" || tickets != nil {
		t.Errorf("Tickets = %d tickets, %v; want none and a MissingColumnError naming Personnr", len(tickets), err)
	}
}

// The import handler is checked with an import of nothing: a handler Easit
// does not know is an error, and no ticket is touched either way.
func TestCheckImportHandlerTouchesNoTicket(t *testing.T) {
	t.Parallel()
	srv := easittest.NewServer(easittest.Config{APIKey: testKey})
	defer srv.Close()
	srv.AddOrder(easittest.Order{Ticket: "55", Status: "Registrerad", Kind: "Låsa inloggning", FormRef: "F-55", Created: time.Now()})
	for handler, wantErr := range map[string]string{"VIS-1177-uppdatera": "", "VIS-1177-uppdatra": `No import handler with identifier "VIS-1177-uppdatra"`} {
		desk := easit.NewDesk(easit.NewClient(srv.URL(), testKey), "VIS-1177-las", handler, easit.Fields{})
		err := desk.CheckImportHandler(t.Context())
		if (wantErr == "" && err != nil) || (wantErr != "" && (err == nil || !strings.Contains(err.Error(), wantErr))) {
			t.Errorf("CheckImportHandler of %s = %v, want %q", handler, err, wantErr)
		}
	}
	if n := srv.Updates("55"); n != 0 || srv.Status("55") != "Registrerad" || len(srv.Comments("55")) != 0 {
		t.Errorf("the checks touched ticket 55: %d updates, status %s", n, srv.Status("55"))
	}
}

// allTickets reads desk's whole view.
func allTickets(ctx context.Context, desk *easit.Desk) ([]lockworker.Ticket, error) {
	var all []lockworker.Ticket
	err := desk.ReadView(ctx, func(page []lockworker.Ticket) error {
		all = append(all, page...)
		return nil
	})
	return all, err
}
