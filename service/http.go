package service

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/lockworker/lockworker/sync"
)

// Handler returns the admin HTTP API:
//
//	POST /sync[?region=CODE][&ticket=ID]  a pass now (bearer token): 200 and its summary,
//	                                      404 and the summary when no region read holds
//	                                      the ticket, 409 naming the running pass
//	GET  /tickets/{region}/{ticket}       the ticket's record and history (bearer token)
//	POST /easit/{region}                  Easit's "Export item" (Basic auth, the region's
//	                                      export secret): 202, and a pass of the region
//	                                      handles the tickets within a second
//	GET  /healthz                         200 while the process serves
//	GET  /readyz                          200, or 503 naming what is not ready
//	GET  /metrics                         Prometheus metrics
//	/                                     the ops page (Config.Page), when there is one
//
// With ProtectProbes, /readyz and /metrics need the token too.
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /sync", s.handleSync)
	mux.HandleFunc("POST /easit/{region}", s.handleExport)
	if s.cfg.Tickets != nil {
		mux.HandleFunc("GET /tickets/{region}/{ticket}", s.handleTicket)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.Handle("GET /readyz", s.probe(http.HandlerFunc(s.handleReady)))
	if s.metrics != nil {
		mux.Handle("GET /metrics", s.probe(promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{})))
	}
	if s.cfg.Page != nil {
		mux.Handle("/", s.cfg.Page(s))
	}
	return mux
}

// probe puts h behind the token when the probes are protected.
func (s *Service) probe(h http.Handler) http.Handler {
	if !s.cfg.ProtectProbes {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !s.authorized(r) {
			unauthorized(w)
			return
		}
		h.ServeHTTP(w, r)
	})
}

func unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="lockworker"`)
	writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "a valid bearer token is required"})
}

func (s *Service) handleSync(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		unauthorized(w)
		return
	}
	if r.ContentLength != 0 {
		// A body would be read, after the answer, within the deadline set
		// below: a client could hold the connection that long.
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "POST /sync takes no body"})
		return
	}
	// The answer waits for the pass, which may outlast the timeouts that
	// bound every other request: past the read timeout the server would
	// cancel the request's context, and with it the pass, and past the
	// write timeout drop the answer.
	rc := http.NewResponseController(w)
	_ = rc.SetReadDeadline(time.Now().Add(passAnswerTimeout))
	_ = rc.SetWriteDeadline(time.Now().Add(passAnswerTimeout))
	opts := sync.Options{Region: r.URL.Query().Get("region"), Ticket: r.URL.Query().Get("ticket")}
	if opts.Region != "" && !s.knows(opts.Region) {
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": fmt.Sprintf("no region %q is configured", opts.Region)})
		return
	}
	s.log.Info().Str("region", opts.Region).Str("ticket", opts.Ticket).Str("remote", r.RemoteAddr).Msg("manual re-sync asked for")
	// The pass runs on the service's own context: a client that goes away
	// does not cancel the orders under way.
	sum, err := s.Sync(context.WithoutCancel(r.Context()), opts, "manual")
	var busy *ErrBusy
	switch {
	case errors.As(err, &busy):
		writeJSON(w, http.StatusConflict, map[string]string{"error": "a pass is running; try again when it has finished", "pass": busy.Pass})
	case errors.Is(err, ErrStopping):
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": err.Error()})
	case err != nil:
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": err.Error()})
	default:
		status := http.StatusOK
		if sum.MissingTicket != "" {
			status = http.StatusNotFound
		}
		writeJSON(w, status, struct {
			sync.Summary
			OK bool `json:"ok"`
		}{sum, sum.OK()})
	}
}

// authorized reports whether the request carries the admin token, compared
// in constant time.
func (s *Service) authorized(r *http.Request) bool {
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	return ok && s.cfg.Token != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.cfg.Token)) == 1
}

func (s *Service) knows(code string) bool {
	for _, r := range s.cfg.Regions {
		if r.Code == code {
			return true
		}
	}
	return false
}

func (s *Service) handleReady(w http.ResponseWriter, r *http.Request) {
	problems := s.Unready(r.Context())
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if len(problems) > 0 {
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprintln(w, "not ready:")
		for _, p := range problems {
			fmt.Fprintln(w, "- "+p)
		}
		return
	}
	fmt.Fprintln(w, "ready")
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client has gone if this fails
}
