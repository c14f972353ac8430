package service

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/lockworker/lockworker/sync"
)

// Handler returns the admin HTTP API:
//
//	POST /sync[?region=CODE][&ticket=ID]  a pass now (bearer token): 200 and its summary,
//	                                      404 and the summary when no region read holds
//	                                      the ticket, 409 naming the running pass
//	GET  /tickets/{region}/{ticket}       the ticket's record and history (bearer token)
//	GET  /healthz                         200 while the process serves
//	GET  /readyz                          200, or 503 naming what is not ready
//	GET  /metrics                         Prometheus metrics
func (s *Service) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /sync", s.handleSync)
	if s.cfg.Tickets != nil {
		mux.HandleFunc("GET /tickets/{region}/{ticket}", s.handleTicket)
	}
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	})
	mux.HandleFunc("GET /readyz", s.handleReady)
	if s.metrics != nil {
		mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.registry, promhttp.HandlerOpts{}))
	}
	return mux
}

func (s *Service) handleSync(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="lockworker"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "a valid bearer token is required"})
		return
	}
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
