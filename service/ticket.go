package service

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/lockworker/lockworker"
)

// TicketReader reads what the lock store holds of one ticket.
type TicketReader interface {
	Ledger(ctx context.Context, region, ticket string) (lockworker.LedgerEntry, bool, error)
	History(ctx context.Context, region, ticket string) ([]lockworker.TicketEvent, error)
}

// TicketReport is one ticket's whole record in the lock store: where its
// latest decision stands, and every step of its history. `lockworker ticket
// --json` prints it, and GET /tickets/{region}/{ticket} answers with it.
type TicketReport struct {
	Region string `json:"region"`
	Ticket string `json:"ticket"`
	// Round counts the decisions made on the ticket.
	Round   int                `json:"round"`
	Kind    lockworker.Kind    `json:"kind,omitempty"`
	Outcome lockworker.Outcome `json:"outcome,omitempty"`
	Reason  lockworker.Reason  `json:"reason,omitempty"`
	// Status and Comment are the latest decision's ticket update.
	Status        string     `json:"status,omitempty"`
	Comment       string     `json:"comment,omitempty"`
	Reporter      string     `json:"reporter,omitempty"`
	ReporterHSAID string     `json:"reporter_hsa_id,omitempty"`
	DecidedAt     *time.Time `json:"decided_at,omitempty"`
	// ConfirmedAt is when the update was confirmed; nil while it is pending.
	ConfirmedAt *time.Time   `json:"confirmed_at,omitempty"`
	Pending     bool         `json:"pending"`
	History     []TicketStep `json:"history"`
}

// TicketStep is one step of a ticket's history.
type TicketStep struct {
	At            time.Time          `json:"at"`
	Pass          string             `json:"pass,omitempty"`
	Round         int                `json:"round,omitempty"`
	Event         string             `json:"event"`
	Kind          lockworker.Kind    `json:"kind,omitempty"`
	Outcome       lockworker.Outcome `json:"outcome,omitempty"`
	Reason        lockworker.Reason  `json:"reason,omitempty"`
	Status        string             `json:"status,omitempty"`
	Comment       string             `json:"comment,omitempty"`
	Reporter      string             `json:"reporter,omitempty"`
	ReporterHSAID string             `json:"reporter_hsa_id,omitempty"`
	Form          string             `json:"form,omitempty"`
	Detail        string             `json:"detail,omitempty"`
}

// ErrNoTicket is returned by ReadTicket for a ticket the lock store holds
// nothing of.
var ErrNoTicket = errors.New("the lock store holds nothing of the ticket")

// ReadTicket returns the report of a region's ticket.
func ReadTicket(ctx context.Context, r TicketReader, region, ticket string) (TicketReport, error) {
	entry, found, err := r.Ledger(ctx, region, ticket)
	if err != nil {
		return TicketReport{}, err
	}
	history, err := r.History(ctx, region, ticket)
	if err != nil {
		return TicketReport{}, err
	}
	if !found && len(history) == 0 {
		return TicketReport{}, fmt.Errorf("ticket %s of region %s: %w", ticket, region, ErrNoTicket)
	}
	rep := TicketReport{Region: region, Ticket: ticket, History: []TicketStep{}}
	if found {
		rep.Round, rep.Kind, rep.Outcome, rep.Reason = entry.Round, entry.Kind, entry.Outcome, entry.Reason
		rep.Status, rep.Comment = entry.Status, entry.Comment
		rep.Reporter, rep.ReporterHSAID = entry.Reporter, entry.ReporterHSAID
		rep.DecidedAt, rep.Pending = &entry.DecidedAt, !entry.Confirmed()
		if entry.Confirmed() {
			rep.ConfirmedAt = &entry.ConfirmedAt
		}
	}
	for _, e := range history {
		rep.History = append(rep.History, TicketStep(e))
	}
	return rep, nil
}

// handleTicket answers GET /tickets/{region}/{ticket} with the ticket's
// report, for the bearer of the admin token.
func (s *Service) handleTicket(w http.ResponseWriter, r *http.Request) {
	if !s.authorized(r) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="lockworker"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "a valid bearer token is required"})
		return
	}
	region, ticket := r.PathValue("region"), r.PathValue("ticket")
	if !s.knows(region) {
		writeJSON(w, http.StatusNotFound, map[string]string{"error": fmt.Sprintf("no region %q is configured", region)})
		return
	}
	rep, err := ReadTicket(r.Context(), s.cfg.Tickets, region, ticket)
	switch {
	case errors.Is(err, ErrNoTicket):
		writeJSON(w, http.StatusNotFound, map[string]string{"error": err.Error()})
	case err != nil:
		s.log.Error().Err(err).Str("region", region).Str("ticket", ticket).Msg("read a ticket's record")
		writeJSON(w, http.StatusInternalServerError, map[string]string{"error": "the lock store could not be read"})
	default:
		writeJSON(w, http.StatusOK, rep)
	}
}
