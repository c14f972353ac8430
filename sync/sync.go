// Package sync makes lockworker's decisions. A pass reads every configured
// region's open orders, applies the rules of the domain to each, records the
// decision and its lock change in the lock store, and then tells the ticket
// system. It knows none of the wire formats: it sees the ticket system, the
// form service and the lock store through the small interfaces below.
package sync

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"slices"
	"time"

	"github.com/rs/zerolog"

	"github.com/lockworker/lockworker"
)

// Tickets is a region's ticket system (Easit GO).
type Tickets interface {
	// ReadView reads the region's order view whole and hands each page's
	// tickets to each, in the view's order, as the page comes; an error
	// from each ends the read with that error.
	ReadView(ctx context.Context, each func(page []lockworker.Ticket) error) error
	// Update sets the status of some tickets and appends one comment to
	// each, in one request (Easit: one import of many items). It returns one
	// error for each update, nil for those carried out: one that fails never
	// fails the others.
	Update(ctx context.Context, us []lockworker.TicketUpdate) []error
}

// Forms is a region's form service.
type Forms interface {
	// Form returns the form with the reference ref, or an error wrapping
	// lockworker.ErrFormNotFound.
	Form(ctx context.Context, ref string) (lockworker.Form, error)
}

// Store is the lock store.
type Store interface {
	HasAccount(ctx context.Context, p lockworker.Personnummer) (bool, error)
	ActiveLock(ctx context.Context, p lockworker.Personnummer) (lockworker.Lock, bool, error)
	Ledger(ctx context.Context, region, ticket string) (lockworker.LedgerEntry, bool, error)
	// Mark reads the store's clock: a view read after it shows every step
	// the store marked with it or earlier.
	Mark(ctx context.Context) (lockworker.Mark, error)
	// Record writes a decision, its lock change, its ledger entry and its
	// audit entry in one transaction, and gives the caller the claim on its
	// ticket update. It fails with lockworker.ErrConflict when what the
	// decision was based on has changed.
	Record(ctx context.Context, d lockworker.Decision) error
	// ClaimUpdate tries to take the claim on a recorded decision's ticket
	// update, for a view read after seen that lacks it.
	ClaimUpdate(ctx context.Context, region, ticket string, round int, seen lockworker.Mark) (lockworker.Claim, error)
	// RenewUpdate keeps the caller's claim alive; false when it is lost.
	RenewUpdate(ctx context.Context, region, ticket string, round int) (bool, error)
	// ReleaseUpdate gives the claim back after a failed attempt, why.
	ReleaseUpdate(ctx context.Context, region, ticket string, round int, why string) error
	// ConfirmSentAll confirms updates of a region's tickets that the ticket
	// system accepted, in one transaction, with one error per update.
	ConfirmSentAll(ctx context.Context, region string, updates []lockworker.UpdateRef) []error
	// ConfirmSeen confirms an update that a view read after seen shows; it
	// fails with lockworker.ErrStaleView for a view read before the decision.
	ConfirmSeen(ctx context.Context, region, ticket string, round int, seen lockworker.Mark) error
	RecordPass(ctx context.Context, p lockworker.PassRecord) error
}

// Region is one region as the pass needs it.
type Region struct {
	Code      string
	Name      string
	OrgNumber string
	Kinds     Kinds
	Statuses  Statuses
	// LockForm and UnlockForm are the form types of the two kinds of order.
	LockForm   lockworker.Code
	UnlockForm lockworker.Code
	Tickets    Tickets
	Forms      Forms
}

// Kinds are the ticket's kind values that mean lock and unlock.
type Kinds struct{ Lock, Unlock string }

// Statuses are the ticket statuses the pass reads and sets.
type Statuses struct{ Open, Waiting, Resolved, Manual string }

// ChildPolicy says what to do with a lock order for a child under 13.
type ChildPolicy string

// The child policies.
const (
	// ChildLock locks, and records that the guardians' proxy is suspended.
	ChildLock ChildPolicy = "lock"
	// ChildManual routes the order to manual handling.
	ChildManual ChildPolicy = "manual"
)

// Policy holds the settings of the rules.
type Policy struct {
	ChildrenUnder13 ChildPolicy
	// FormMaxAge is how long ago a form may have been signed.
	FormMaxAge time.Duration
	// FormWait is how long after a ticket was created its form is waited for.
	FormWait time.Duration
	// ClockTolerance is how far ahead of lockworker's clock a form's signing
	// time may be, for the form service's clock may run a little fast.
	ClockTolerance time.Duration
}

// Syncer runs passes. Its fields are set once, before the first pass.
type Syncer struct {
	Regions []Region
	Store   Store
	Policy  Policy
	Log     zerolog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Concurrency bounds how many orders of one region read and write at
	// once (an order waiting for its update's batch holds no turn);
	// defaultConcurrency when zero.
	Concurrency int
	// ClaimLease is the lock store's claim lease: the pass renews a claim
	// it holds every third of it while it sends an update, and waits for a
	// claim another process holds up to three times it, long enough for a
	// dead holder's claim to run out. defaultClaimLease when zero.
	ClaimLease time.Duration
	// RegionTimeout bounds one region's part of a pass, so that a region
	// whose systems hang ends on its own while the others go on;
	// defaultRegionTimeout when zero.
	RegionTimeout time.Duration
	// ImportBatch bounds how many ticket updates of one region go to its
	// ticket system in one request; defaultImportBatch when zero.
	ImportBatch int
	// FormConcurrency bounds how many forms of one region are read at once;
	// defaultFormConcurrency when zero.
	FormConcurrency int
}

const (
	defaultConcurrency     = 32
	defaultClaimLease      = 15 * time.Second
	defaultRegionTimeout   = 2 * time.Minute
	defaultImportBatch     = 100
	defaultFormConcurrency = 16
)

// Options narrow a pass.
type Options struct {
	// Pass is the pass's identifier; NewPassID makes one when empty.
	Pass string
	// Stopping, when closed, stops the pass from starting more orders: those
	// not yet started are left for the next pass, those under way finish.
	Stopping <-chan struct{}
	// RegionDone, when set, is called as each region is done; the regions
	// run at once, so it may be called from several goroutines at a time.
	RegionDone func(RegionSummary)
	// Region, when set, is the code of the only region to read.
	Region string
	// Regions, when not nil, are the codes of the only regions to read
	// (with Region, if set).
	Regions []string
	// Ticket, when set, is the only ticket to handle; the summary says so
	// when no region read holds it (Summary.MissingTicket), and says why
	// when one does but it needs nothing.
	Ticket string
	// Tickets, when not nil, are the only tickets to handle (those the
	// ticket system pushed): one that no view holds, or that needs nothing,
	// is passed over in silence.
	Tickets []string
	// DryRun decides and reports but changes nothing anywhere.
	DryRun bool
}

// wants reports whether the pass handles the ticket with the ID id.
func (o Options) wants(id string) bool {
	switch {
	case o.Ticket != "":
		return id == o.Ticket
	case o.Tickets != nil:
		return slices.Contains(o.Tickets, id)
	default:
		return true
	}
}

func (s *Syncer) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// NewPassID returns an identifier of a pass started at t that sorts by time
// and is unique across processes.
func NewPassID(t time.Time) string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return t.UTC().Format("20060102T150405") + "-" + hex.EncodeToString(b)
}
