package service

import (
	"context"
	"crypto/subtle"
	"errors"
	"io"
	"maps"
	"net/http"
	"slices"
	"time"

	"github.com/lockworker/lockworker/sync"
)

// Export is a region's endpoint for Easit GO's "Export item": Easit calls
// POST /easit/{code} with the tickets just saved, and a pass of the region
// handles them.
type Export struct {
	// Secret is the password of the call's HTTP Basic authentication; its
	// user name is not read.
	Secret string
	// Tickets reads the call's body.
	Tickets ExportReader
}

// ExportReader reads the body of Easit's "Export item".
type ExportReader interface {
	// ExportedTickets returns the ticket numbers of the exported items, or
	// an error that says, in words fit for the caller, why the body is not
	// an export that names a ticket.
	ExportedTickets(body []byte) ([]string, error)
}

const (
	// maxExportBytes bounds the body of an export: one item is a few
	// kilobytes, and Easit sends one item per save.
	maxExportBytes = 1 << 20
	// pushWait is how long the tickets pushed for a free region wait for
	// more before their pass starts: pushes that come close together are
	// handled in one pass.
	pushWait = 200 * time.Millisecond
	// maxPendingTickets bounds the tickets pushed for one region and not yet
	// handled; past it, the region's next push pass reads all its orders.
	maxPendingTickets = 10000
)

// pendingPush is what was pushed for a region and not yet handled.
type pendingPush struct {
	tickets map[string]bool
	// all is set when more than maxPendingTickets were pushed: the pass
	// reads every order of the region.
	all bool
	// since is when the first of them came, by the wall clock that
	// handlePushes' timer runs on (not the service's clock, which tests may
	// hold still).
	since time.Time
}

func (p *pendingPush) add(tickets []string) {
	for _, t := range tickets {
		if p.all {
			return
		}
		if len(p.tickets) >= maxPendingTickets && !p.tickets[t] {
			p.all, p.tickets = true, nil
			return
		}
		p.tickets[t] = true
	}
}

// handleExport takes Easit's "Export item" for a region: it queues the
// tickets the body names for a pass of the region and answers 202 at once.
// Only the ticket numbers are read: the pass reads each ticket back from the
// region's view, so that what the body says of a ticket decides nothing.
func (s *Service) handleExport(w http.ResponseWriter, r *http.Request) {
	code := r.PathValue("region")
	export, ok := s.cfg.Exports[code]
	if !ok || export.Secret == "" || !s.knows(code) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": "no region takes Easit's export at this address"})
		return
	}
	log := s.log.With().Str("region", code).Str("remote", r.RemoteAddr).Logger()
	_, password, ok := r.BasicAuth()
	if !ok || subtle.ConstantTimeCompare([]byte(password), []byte(export.Secret)) != 1 {
		log.Warn().Bool("credentials_given", ok).Msg("Easit push refused: not the region's export secret")
		w.Header().Set("WWW-Authenticate", `Basic realm="lockworker"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "HTTP Basic authentication with the region's export secret as password is required"})
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxExportBytes))
	var tooLarge *http.MaxBytesError
	var tickets []string
	switch {
	case errors.As(err, &tooLarge):
		err = errors.New("the body is over 1 MB")
	case err != nil:
		err = errors.New("the body could not be read")
	default:
		tickets, err = export.Tickets.ExportedTickets(body)
	}
	if err != nil {
		log.Warn().Str("why", err.Error()).Msg("Easit push refused")
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": err.Error()})
		return
	}
	if err := s.push(code, tickets); err != nil {
		log.Info().Int("tickets", len(tickets)).Msg("Easit push refused: the service is stopping; the next pass reads the tickets")
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": err.Error()})
		return
	}
	log.Info().Int("tickets", len(tickets)).Msg("Easit pushed tickets")
	writeJSON(w, http.StatusAccepted, map[string]int{"queued": len(tickets)})
}

// push queues tickets for a pass of the region, unless the service is
// stopping (ErrStopping).
func (s *Service) push(code string, tickets []string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.stopping:
		return ErrStopping
	default:
	}
	p := s.pending[code]
	if p == nil {
		p = &pendingPush{tickets: map[string]bool{}, since: time.Now()}
		s.pending[code] = p
	}
	p.add(tickets)
	s.wakePushes()
	return nil
}

// wakePushes has handlePushes look at the pushed tickets again: some came,
// or a region was freed.
func (s *Service) wakePushes() {
	select {
	case s.pushed <- struct{}{}:
	default: // it is woken already
	}
}

// handlePushes starts a pass of each region with pushed tickets, once they
// have waited pushWait for more and no other pass is at work on the region,
// until the service stops; the tickets not yet handled then are left to the
// next start's passes.
func (s *Service) handlePushes(ctx context.Context) {
	timer := time.NewTimer(pushWait)
	timer.Stop()
	for {
		select {
		case <-s.stopping:
			s.dropPushes()
			return
		case <-s.pushed:
		case <-timer.C:
		}
		if wait := s.startPushes(ctx); wait > 0 {
			timer.Reset(wait)
		}
	}
}

// startPushes starts the passes of the pushed tickets that are due, and
// returns how long until the next are (0 for none).
func (s *Service) startPushes(ctx context.Context) (wait time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	select {
	case <-s.stopping:
		return 0
	default:
	}
	for code, p := range s.pending {
		if _, busy := s.running[code]; busy {
			continue // the end of its pass wakes handlePushes
		}
		if left := pushWait - time.Since(p.since); left > 0 {
			if wait == 0 || left < wait {
				wait = left
			}
			continue
		}
		delete(s.pending, code)
		// handlePushes is counted in s.passes, so that the count is above
		// zero here, whatever Run waits for.
		s.passes.Add(1)
		go s.pushPass(ctx, code, p)
	}
	return wait
}

// pushPass runs the pass of a region's pushed tickets.
func (s *Service) pushPass(ctx context.Context, code string, p *pendingPush) {
	defer s.passes.Done()
	opts := sync.Options{Region: code}
	if !p.all {
		opts.Tickets = slices.Sorted(maps.Keys(p.tickets))
	}
	_, err := s.Sync(ctx, opts, "push")
	var busy *ErrBusy
	switch {
	case errors.As(err, &busy):
		// Another pass took the region first: the tickets wait for its end.
		s.requeue(code, p)
	case errors.Is(err, ErrStopping):
		s.log.Info().Str("region", code).Int("tickets", len(opts.Tickets)).Msg("stopping: the pushed tickets are left for the next pass")
	case err != nil:
		s.log.Error().Err(err).Str("region", code).Msg("pass of pushed tickets")
	}
}

// requeue puts back the pushed tickets of a pass that could not start.
func (s *Service) requeue(code string, p *pendingPush) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if q := s.pending[code]; q != nil {
		if q.all {
			p.all, p.tickets = true, nil
		}
		p.add(slices.Collect(maps.Keys(q.tickets)))
	}
	s.pending[code] = p
	s.wakePushes()
}

// dropPushes forgets the pushed tickets not yet handled, when the service
// stops: the next start's first pass reads every order.
func (s *Service) dropPushes() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for code, p := range s.pending {
		s.log.Info().Str("region", code).Int("tickets", len(p.tickets)).Bool("all", p.all).Msg("stopping: the pushed tickets are left for the next pass")
	}
	clear(s.pending)
}
