package sync

import (
	"time"

	"github.com/lockworker/lockworker"
)

// Summary is what a pass did.
type Summary struct {
	Pass      string          `json:"pass"`
	StartedAt time.Time       `json:"started_at"`
	Duration  time.Duration   `json:"duration_ns"`
	DryRun    bool            `json:"dry_run,omitempty"`
	Regions   []RegionSummary `json:"regions"`
	// MissingTicket is the ticket asked for (Options.Ticket) when no region
	// read holds it in its view.
	MissingTicket string `json:"missing_ticket,omitempty"`
}

// RegionSummary is what a pass did in one region.
type RegionSummary struct {
	Code string `json:"code"`
	Name string `json:"name"`
	// Error says why the region's view could not be read, or not whole;
	// empty when it was. The orders of the pages read before are in Orders
	// all the same.
	Error    string        `json:"error,omitempty"`
	Duration time.Duration `json:"duration_ns"`
	Orders   []Result      `json:"orders"`
}

// Result is what became of one order.
type Result struct {
	Ticket  string             `json:"ticket"`
	Kind    lockworker.Kind    `json:"kind,omitempty"`
	Outcome lockworker.Outcome `json:"outcome"`
	Reason  lockworker.Reason  `json:"reason,omitempty"`
	// Personnummer is the order's number, zero when it had no valid one. It
	// marshals as its pseudonym.
	Personnummer   lockworker.Personnummer `json:"person,omitzero"`
	ProxySuspended bool                    `json:"proxy_suspended,omitempty"`
	// Status and Comment are the ticket update (sent, or in a dry run, that
	// would be sent).
	Status  string `json:"status,omitempty"`
	Comment string `json:"comment,omitempty"`
	Action  Action `json:"action"`
	// Why says why a ticket was deferred (ActionDeferred) or needed nothing
	// of this pass.
	Why string `json:"why,omitempty"`
	// Error says what failed, for the error outcome.
	Error string `json:"error,omitempty"`
}

// Counts returns how many orders got each outcome; deferred orders, and
// tickets asked for that needed nothing, got none.
func (s Summary) Counts() map[lockworker.Outcome]int {
	counts := map[lockworker.Outcome]int{}
	for _, r := range s.Regions {
		for _, o := range r.Orders {
			if o.Outcome != "" && o.Action != ActionDeferred {
				counts[o.Outcome]++
			}
		}
	}
	return counts
}

// Deferred returns how many orders were left for a later pass.
func (s Summary) Deferred() int {
	n := 0
	for _, r := range s.Regions {
		for _, o := range r.Orders {
			if o.Action == ActionDeferred {
				n++
			}
		}
	}
	return n
}

// FailedRegions returns the codes of the regions that could not be read.
func (s Summary) FailedRegions() []string {
	var codes []string
	for _, r := range s.Regions {
		if r.Error != "" {
			codes = append(codes, r.Code)
		}
	}
	return codes
}

// OK reports whether every region was read, the ticket asked for was found,
// and every order got an outcome other than error in this pass.
func (s Summary) OK() bool {
	return len(s.FailedRegions()) == 0 && s.MissingTicket == "" && s.Deferred() == 0 && s.Counts()[lockworker.OutcomeError] == 0
}
