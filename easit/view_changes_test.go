package easit_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/lockworker/lockworker"
	"github.com/lockworker/lockworker/easit"
	"github.com/lockworker/lockworker/easit/easittest"
)

// holdingProxy forwards every call to srv; an import is carried out at once
// but its answer is held until release is closed. applied gets a value once
// the import was carried out.
func holdingProxy(t *testing.T, srv *easittest.Server, applied chan<- struct{}, release <-chan struct{}) string {
	p := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		req, _ := http.NewRequestWithContext(context.WithoutCancel(r.Context()), r.Method, srv.URL()+r.URL.Path, bytes.NewReader(body))
		req.Header = r.Header.Clone()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		data, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		if r.Method == http.MethodPost {
			applied <- struct{}{}
			<-release
		}
		for k, v := range resp.Header {
			w.Header()[k] = v
		}
		w.WriteHeader(resp.StatusCode)
		_, _ = w.Write(data)
	}))
	t.Cleanup(p.Close)
	return p.URL
}

// openOrder adds ticket n to srv, in status.
func openOrder(srv *easittest.Server, n int, status string) {
	srv.AddOrder(easittest.Order{Ticket: strconv.Itoa(n), Status: status, Kind: "Spärr"})
}

// Easit carries out an import at once but answers it slowly (as it does
// under load), after the view's last page was read: the view lost tickets 1
// and 2 unseen (two new ones came), and tickets 4 and 5 moved up onto page
// 1. The desk counts an update as it sends it, so the view is read again.
func TestAnImportAnsweredLateStillCountsAsTakingTicketsOut(t *testing.T) {
	t.Parallel()
	srv := easittest.NewServer(easittest.Config{APIKey: testKey, PageSize: 3, OnlyStatuses: []string{"Ny"}, Now: func() time.Time { return now }})
	t.Cleanup(srv.Close)
	for i := 1; i <= 7; i++ {
		openOrder(srv, i, "Ny")
	}
	applied, release := make(chan struct{}, 1), make(chan struct{})
	url := holdingProxy(t, srv, applied, release)
	client := easit.NewClient(url, testKey, easit.WithRetryWait(time.Millisecond, 2*time.Millisecond))
	desk := easit.NewDesk(client, "VIS-1177-las", "VIS-1177-uppdatera", easit.Fields{})

	var got []string
	done := make(chan []error, 1)
	err := desk.ReadView(t.Context(), func(page []lockworker.Ticket) error {
		for _, tk := range page {
			got = append(got, tk.ID)
		}
		if len(got) == 3 {
			// The pass resolves tickets 1 and 2 (a batch in flight), and two
			// tickets are registered meanwhile.
			go func() {
				done <- desk.Update(context.Background(), []lockworker.TicketUpdate{{Ticket: "1", Status: "Åtgärdad"}, {Ticket: "2", Status: "Åtgärdad"}})
			}()
			<-applied
			openOrder(srv, 8, "Ny")
			openOrder(srv, 9, "Ny")
		}
		return nil
	})
	close(release)
	<-done
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"4", "5"} {
		if !slices.Contains(got, want) {
			t.Errorf("ticket %s stayed in the view and was never handed over; got %v", want, got)
		}
	}
}

// The desk lives as long as the service: the updates of an earlier read, to
// a status the view is first seen to list in this one, take nothing off the
// count of this read's own updates.
func TestTheUpdatesOfEarlierReadsHideNoneOfThisReadsOwn(t *testing.T) {
	t.Parallel()
	srv := easittest.NewServer(easittest.Config{APIKey: testKey, PageSize: 3, OnlyStatuses: []string{"Ny", "Väntar"}, Now: func() time.Time { return now }})
	t.Cleanup(srv.Close)
	for i := 1; i <= 3; i++ {
		openOrder(srv, i, "Ny")
	}
	client := easit.NewClient(srv.URL(), testKey, easit.WithRetryWait(time.Millisecond, 2*time.Millisecond))
	desk := easit.NewDesk(client, "VIS-1177-las", "VIS-1177-uppdatera", easit.Fields{})

	// Pass 1: one page; ticket 1 is set waiting (no waiting ticket seen
	// yet), ticket 2 resolved.
	err := desk.ReadView(t.Context(), func(page []lockworker.Ticket) error {
		for _, e := range desk.Update(t.Context(), []lockworker.TicketUpdate{{Ticket: "1", Status: "Väntar"}, {Ticket: "2", Status: "Åtgärdad"}}) {
			if e != nil {
				return e
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := 4; i <= 7; i++ {
		openOrder(srv, i, "Ny")
	}
	// Pass 2: the view is 1(Väntar) 3 4 | 5 6 7. Page 1's ticket 3 is
	// resolved while ticket 8 is registered.
	var got []string
	err = desk.ReadView(t.Context(), func(page []lockworker.Ticket) error {
		for _, tk := range page {
			got = append(got, tk.ID)
		}
		if len(got) == 3 {
			for _, e := range desk.Update(t.Context(), []lockworker.TicketUpdate{{Ticket: "3", Status: "Åtgärdad"}}) {
				if e != nil {
					return e
				}
			}
			openOrder(srv, 8, "Ny")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(got, "5") {
		t.Errorf("ticket 5 stayed in the view and was never handed over; got %v", got)
	}
}
