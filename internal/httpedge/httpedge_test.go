package httpedge_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	gosync "sync"
	"sync/atomic"
	"testing"

	"github.com/lockworker/lockworker/internal/httpedge"
)

// Requests made side by side reuse the connections of those made side by
// side before: the client keeps them for its one host, not just two.
func TestTheClientKeepsItsConnectionsToItsHost(t *testing.T) {
	t.Parallel()
	const atOnce = 20
	var opened atomic.Int32
	arrived := make(chan struct{}, atOnce)
	release := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
	}))
	srv.Config.ConnState = func(_ net.Conn, state http.ConnState) {
		if state == http.StateNew {
			opened.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	client, err := httpedge.Client(nil, srv.URL, nil)
	if err != nil {
		t.Fatal(err)
	}

	// Each round holds every request in the handler until all have
	// arrived, so that they are truly at once.
	round := func() {
		var wg gosync.WaitGroup
		for range atOnce {
			wg.Go(func() {
				resp, err := client.Get(srv.URL + "/")
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
			})
		}
		for range atOnce {
			<-arrived
		}
		for range atOnce {
			release <- struct{}{}
		}
		wg.Wait()
	}
	round()
	first := opened.Load()
	round()

	if first != atOnce {
		t.Fatalf("the first round opened %d connections, want %d", first, atOnce)
	}
	if again := opened.Load() - first; again != 0 {
		t.Errorf("the second round opened %d new connections, want none: the first round's were kept", again)
	}
}
