package lockworker

import (
	"errors"
	"time"
)

// ErrConflict means that a decision could not be recorded because what it was
// based on changed meanwhile: another process decided the same ticket, or the
// person's lock changed. Decide again from fresh state.
var ErrConflict = errors.New("conflict with a concurrent change")

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
}

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
