package service_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lockworker/lockworker"
	"github.com/lockworker/lockworker/sync"
)

// A manual pass runs on the service's context: the client that asked for it
// may go away, and the orders under way are not cancelled.
func TestAManualPassOutlivesItsClient(t *testing.T) {
	t.Parallel()
	e := setup(t)
	started, release, ended := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	e.syncer.run = func(ctx context.Context, opts sync.Options) (sync.Summary, error) {
		close(started)
		select {
		case <-ctx.Done():
			ended <- context.Cause(ctx)
		case <-release:
			ended <- nil
		}
		return summary(opts, nil), nil
	}
	ctx, cancel := context.WithCancel(t.Context())
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.http.URL+"/sync", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+adminToken)
	answered := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		answered <- err
	}()
	<-started
	cancel() // the client disconnects while the pass runs
	if err := <-answered; !errors.Is(err, context.Canceled) {
		t.Fatalf("the client's request: %v, want it cancelled", err)
	}
	// The server sees the client go within milliseconds; the pass is given
	// far longer than that to be cancelled, and must not be.
	time.Sleep(500 * time.Millisecond)
	close(release)
	if err := <-ended; err != nil {
		t.Errorf("the pass's context ended with its client: %v", err)
	}
}

// A ticket asked for that no region read holds is 404, with the summary
// that says so.
func TestSyncOfATicketNoViewHoldsIsNotFound(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.syncer.run = func(_ context.Context, opts sync.Options) (sync.Summary, error) {
		sum := summary(opts, nil)
		for i := range sum.Regions {
			sum.Regions[i].Orders = nil
		}
		sum.MissingTicket = opts.Ticket
		return sum, nil
	}
	status, body := e.do(t, http.MethodPost, "/sync?ticket=999", adminToken)
	var got struct {
		OK            bool   `json:"ok"`
		MissingTicket string `json:"missing_ticket"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil || status != http.StatusNotFound || got.OK || got.MissingTicket != "999" {
		t.Errorf("POST /sync?ticket=999 = %d %s (%v); want 404, ok false, missing_ticket 999", status, body, err)
	}
}

// fakeTickets holds the record of ticket 07/55.
type fakeTickets struct{}

var decided = time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)

func (fakeTickets) Ledger(_ context.Context, region, ticket string) (lockworker.LedgerEntry, bool, error) {
	if region != "07" || ticket != "55" {
		return lockworker.LedgerEntry{}, false, nil
	}
	return lockworker.LedgerEntry{Region: region, Ticket: ticket, Round: 1, Kind: lockworker.KindLock, Outcome: lockworker.OutcomeResolved,
		Status: "Löst", Comment: "Klart.", DecidedAt: decided, ConfirmedAt: decided.Add(time.Minute), Reporter: "Doktor Testsson", ReporterHSAID: "SE2321000065-D55"}, true, nil
}

func (fakeTickets) History(_ context.Context, region, ticket string) ([]lockworker.TicketEvent, error) {
	if region != "07" || ticket != "55" {
		return nil, nil
	}
	return []lockworker.TicketEvent{
		{At: decided, Pass: "p1", Round: 1, Event: lockworker.EventDecided, Outcome: lockworker.OutcomeResolved, Status: "Löst", Comment: "Klart.", Reporter: "Doktor Testsson", ReporterHSAID: "SE2321000065-D55"},
		{At: decided, Round: 1, Event: lockworker.EventSendFailed, Detail: "Easit answered 503"},
		{At: decided.Add(time.Minute), Round: 1, Event: lockworker.EventConfirmed, Detail: "the ticket system accepted the update"},
	}, nil
}

func TestTheTicketEndpointShowsATicketsHistory(t *testing.T) {
	t.Parallel()
	e := setupWith(t, fakeTickets{})
	if status, _ := e.do(t, http.MethodGet, "/tickets/07/55", ""); status != http.StatusUnauthorized {
		t.Errorf("without the token: %d, want 401", status)
	}
	for _, path := range []string{"/tickets/99/55", "/tickets/07/56"} {
		if status, body := e.do(t, http.MethodGet, path, adminToken); status != http.StatusNotFound || !strings.Contains(body, "error") {
			t.Errorf("GET %s = %d %s, want 404 with an error", path, status, body)
		}
	}
	status, body := e.do(t, http.MethodGet, "/tickets/07/55", adminToken)
	var got struct {
		Outcome       string `json:"outcome"`
		Pending       bool   `json:"pending"`
		ReporterHSAID string `json:"reporter_hsa_id"`
		ConfirmedAt   string `json:"confirmed_at"`
		History       []struct {
			Event, Comment, Detail string
		} `json:"history"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil || status != http.StatusOK {
		t.Fatalf("GET /tickets/07/55 = %d %s (%v)", status, body, err)
	}
	if got.Outcome != "resolved" || got.Pending || got.ReporterHSAID != "SE2321000065-D55" || got.ConfirmedAt != "2026-11-23T09:01:00Z" ||
		len(got.History) != 3 || got.History[0].Comment != "Klart." || got.History[1].Detail != "Easit answered 503" || got.History[2].Event != "confirmed" {
		t.Errorf("GET /tickets/07/55 = %s", body)
	}

	// Without a reader there is no such endpoint.
	if status, _ := setup(t).do(t, http.MethodGet, "/tickets/07/55", adminToken); status != http.StatusNotFound {
		t.Errorf("without a reader: %d, want 404", status)
	}
}
