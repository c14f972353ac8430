package lockworker

import (
	"errors"
	"time"
)

// ErrConflict means that a decision could not be recorded because what it was
// based on changed meanwhile: another process decided the same ticket, or the
// person's lock changed. Decide again from fresh state.
var ErrConflict = errors.New("conflict with a concurrent change")

// ErrStaleView means that a view of a ticket was read before a step that the
// lock store recorded on it (a decision, a confirmation, the end of an update
// attempt), so it may not show that step: read the ticket again.
var ErrStaleView = errors.New("the view was read before the ticket's last recorded step")

// Mark is a reading of the lock store's clock: a counter that every recorded
// step on a ticket advances, in the one order in which the database
// committed them. A view read after the store gave the mark m shows every
// step marked m or less; a step marked after m may be missing from it. Marks
// need no wall clock, so no margin for clocks that differ.
type Mark int64

// Claim is what a claim on a ticket's pending update came to.
type Claim int

// The results of a claim.
const (
	// ClaimTaken: the caller holds the claim and may send the update.
	ClaimTaken Claim = iota
	// ClaimBusy: a live process holds it; wait for it.
	ClaimBusy
	// ClaimStale: no one holds it, but the caller's view was read before
	// the decision or the end of the last attempt (or of a holder that
	// died): read the ticket again.
	ClaimStale
	// ClaimDone: the update is confirmed, or the ledger entry has moved on
	// to another round: there is nothing to send.
	ClaimDone
)

// Lock is a lock of one person's 1177 login. A lifted lock is kept, with who
// lifted it, when and on which ticket and form; a later lock is a new Lock.
type Lock struct {
	ID             int64
	Personnummer   Personnummer
	Region         string // the code of the region at whose request it was made
	Ticket         string
	Form           string
	LockedAt       time.Time
	ProxySuspended bool

	LiftedAt     time.Time // zero while the lock is active
	LiftedRegion string
	LiftedTicket string
	LiftedForm   string
}

// Active reports whether the lock is in force.
func (l Lock) Active() bool { return l.LiftedAt.IsZero() }

// Change is what a decision does to the lock store.
type Change int

// The changes a decision can make.
const (
	ChangeNone Change = iota
	ChangeLock
	ChangeUnlock
)

// Evidence is what lockworker keeps of the form it checked: its reference and
// who signed it when, never its content.
type Evidence struct {
	Form     string
	Signer   string
	SignedAt time.Time
}

// Decision is one decision on one ticket, to be recorded with the change it
// makes in one transaction.
type Decision struct {
	Pass   string
	At     time.Time
	Region string
	Ticket string
	// Round is the ledger round the decision was based on: 0 for a ticket
	// never decided before, else the round of its confirmed ledger entry.
	Round int
	// ActiveLock is the ID of the person's active lock when the decision was
	// made, 0 for none: recording fails with ErrConflict if it has changed.
	ActiveLock int64

	Kind          Kind
	Outcome       Outcome
	Reason        Reason
	Personnummer  Personnummer // zero when the order gave no valid one
	Reporter      string
	ReporterHSAID string
	Evidence      Evidence

	Change         Change
	ProxySuspended bool

	// Status and Comment are the ticket update that tells the ticket system.
	Status  string
	Comment string
}

// LedgerEntry is the ledger's record of the latest decision on a ticket and
// whether the ticket system has been told.
type LedgerEntry struct {
	Region      string
	Ticket      string
	Round       int
	Kind        Kind
	Outcome     Outcome
	Reason      Reason
	Status      string
	Comment     string
	DecidedAt   time.Time
	AppliedAt   time.Time // when the lock change was made; zero if none
	ConfirmedAt time.Time // when the ticket update was confirmed; zero until then
	// Decided and ConfirmedMark are the store's marks of the decision and
	// of its confirmation (0 until then, and for steps recorded before the
	// store kept marks).
	Decided       Mark
	ConfirmedMark Mark
	Reporter      string
	ReporterHSAID string
}

// TicketEvent is one step in a ticket's history: a decision, an attempt to
// send its update, a confirmation, a claim taken over from a holder that died.
type TicketEvent struct {
	At    time.Time
	Pass  string // the pass that took the step, when one did
	Round int
	Event string // one of the Event… constants
	// The decision's, for EventDecided.
	Kind          Kind
	Outcome       Outcome
	Reason        Reason
	Status        string
	Comment       string
	Reporter      string
	ReporterHSAID string
	Form          string
	// Detail says how an update was confirmed, or why an attempt failed.
	Detail string
}

// The steps of a ticket's history.
const (
	EventDecided    = "decided"
	EventSendFailed = "send_failed"
	EventConfirmed  = "confirmed"
	EventTakenOver  = "claim_expired"
)

// Confirmed reports whether the ticket system has confirmed the update.
func (e LedgerEntry) Confirmed() bool { return !e.ConfirmedAt.IsZero() }

// AuditEntry is one decision in the append-only audit trail.
type AuditEntry struct {
	ID            int64
	At            time.Time
	Pass          string
	Region        string
	Ticket        string
	Kind          Kind
	Outcome       Outcome
	Reason        Reason
	Personnummer  Personnummer
	Reporter      string
	ReporterHSAID string
	Evidence      Evidence
}

// AuditFilter selects audit entries; zero fields select all.
type AuditFilter struct {
	Since   time.Time
	Region  string
	Ticket  string
	Outcome Outcome
}

// PassRecord records one pass: when it ran, over which regions, and how many
// orders got each outcome.
type PassRecord struct {
	ID            string
	StartedAt     time.Time
	FinishedAt    time.Time
	Regions       []string
	Outcomes      map[Outcome]int
	FailedRegions []string
}
