package sync

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sync/errgroup"

	"github.com/lockworker/lockworker"
)

// ErrUnknownRegion is returned by RunOnce for an Options.Region that is not
// configured.
var ErrUnknownRegion = errors.New("unknown region")

// RunOnce runs one pass: it reads every region (or the one asked for),
// decides each open or waiting order and carries the decision out. A failure
// of one order or one region never stops the others; the summary says what
// became of each. It returns an error only when the pass could not start.
func (s *Syncer) RunOnce(ctx context.Context, opts Options) (Summary, error) {
	regions := s.Regions
	if opts.Region != "" {
		regions = nil
		for _, r := range s.Regions {
			if r.Code == opts.Region {
				regions = []Region{r}
			}
		}
		if regions == nil {
			return Summary{}, fmt.Errorf("run pass: %w %q", ErrUnknownRegion, opts.Region)
		}
	}

	started := s.now()
	if opts.Pass == "" {
		opts.Pass = NewPassID(started)
	}
	sum := Summary{Pass: opts.Pass, StartedAt: started.UTC(), DryRun: opts.DryRun}
	log := s.Log.With().Str("pass", sum.Pass).Logger()
	codes := make([]string, len(regions))
	for i, r := range regions {
		codes[i] = r.Code
	}
	log.Info().Strs("regions", codes).Bool("dry_run", opts.DryRun).Str("ticket", opts.Ticket).Msg("pass started")

	for _, r := range regions {
		if stopping(opts.Stopping) {
			break // the regions not read are read by the next pass
		}
		rs := s.runRegion(ctx, log, sum.Pass, r, opts)
		sum.Regions = append(sum.Regions, rs)
		if opts.RegionDone != nil {
			opts.RegionDone(rs)
		}
	}
	sum.Duration = s.now().Sub(started)

	counts := sum.Counts()
	ev := log.Info()
	for _, o := range lockworker.Outcomes {
		ev = ev.Int(string(o), counts[o])
	}
	ev.Strs("failed_regions", sum.FailedRegions()).Float64("duration_seconds", sum.Duration.Seconds()).Msg("pass finished")

	if !opts.DryRun {
		rec := lockworker.PassRecord{
			ID: sum.Pass, StartedAt: started, FinishedAt: started.Add(sum.Duration),
			Regions: codes, Outcomes: counts, FailedRegions: sum.FailedRegions(),
		}
		// A pass cut short is recorded all the same.
		recordCtx, cancel := bookkeeping(ctx)
		defer cancel()
		if err := s.Store.RecordPass(recordCtx, rec); err != nil {
			log.Error().Err(err).Msg("record the pass")
		}
	}
	return sum, nil
}

// runRegion reads one region's view and handles its orders, a bounded number
// at a time.
func (s *Syncer) runRegion(ctx context.Context, log zerolog.Logger, pass string, r Region, opts Options) RegionSummary {
	started := s.now()
	log = log.With().Str("region", r.Code).Logger()
	rs := RegionSummary{Code: r.Code, Name: r.Name}

	// The view shows each ticket as it was at some time after started; seen
	// is the latest time it surely shows, whatever the clocks of other
	// processes say.
	skew := s.ClockSkew
	if skew <= 0 {
		skew = defaultClockSkew
	}
	v := view{region: r, seen: started.Add(-skew)}
	tickets, err := r.Tickets.Tickets(ctx)
	if err != nil {
		// What Easit said is not lockworker's text: it may hold anything.
		rs.Error = lockworker.Redact(err.Error())
		log.Error().Str("error", rs.Error).Msg("read the region's orders")
		rs.Duration = s.now().Sub(started)
		return rs
	}

	var chosen []lockworker.Ticket
	for _, t := range tickets {
		if opts.Ticket == "" || t.ID == opts.Ticket {
			chosen = append(chosen, t)
		}
	}
	results := make([]*Result, len(chosen))
	limit := s.Concurrency
	if limit <= 0 {
		limit = defaultConcurrency
	}
	var g errgroup.Group
	g.SetLimit(limit)
	for i, t := range chosen {
		g.Go(func() error {
			if stopping(opts.Stopping) {
				return nil // left for the next pass
			}
			results[i] = s.handleSafely(ctx, log, pass, v, t, opts.DryRun)
			return nil
		})
	}
	_ = g.Wait() // handleSafely never returns an error: each order's failure is its own.
	for _, res := range results {
		if res != nil {
			rs.Orders = append(rs.Orders, *res)
		}
	}
	if stopping(opts.Stopping) {
		log.Info().Int("handled", len(rs.Orders)).Msg("stopping: the orders not started are left for the next pass")
	}
	rs.Duration = s.now().Sub(started)
	return rs
}

// stopping reports whether stop is closed.
func stopping(stop <-chan struct{}) bool {
	select {
	case <-stop:
		return true
	default:
		return false
	}
}

// handleSafely handles one order, within orderTimeout, and logs its outcome;
// a panic becomes the order's error rather than the end of the pass.
func (s *Syncer) handleSafely(ctx context.Context, log zerolog.Logger, pass string, v view, t lockworker.Ticket, dryRun bool) (res *Result) {
	log = log.With().Str("ticket", t.ID).Logger()
	defer func() {
		if p := recover(); p != nil {
			log.Error().Str("panic", lockworker.Redact(fmt.Sprint(p))).Str("stack", string(debug.Stack())).Msg("order handling panicked")
			res = &Result{Ticket: t.ID, Outcome: lockworker.OutcomeError, Error: "internal error"}
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, orderTimeout)
	defer cancel()
	res, why := s.handle(ctx, pass, v, t, dryRun)
	if why != "" {
		log.Info().Str("why", why).Msg("order left for a later pass")
	}
	if res == nil {
		return nil
	}
	ev := log.Info()
	if res.Outcome == lockworker.OutcomeError {
		ev = log.Error().Str("error", res.Error)
	}
	ev.Str("kind", string(res.Kind)).
		Str("outcome", string(res.Outcome)).
		Str("reason", string(res.Reason)).
		Str("person", res.Personnummer.Pseudonym()).
		Str("action", string(res.Action)).
		Msg("order")
	return res
}

// Action says what the pass did with a ticket.
type Action string

// The actions on a ticket.
const (
	// ActionDecided: a new decision was recorded and the ticket updated.
	ActionDecided Action = "decided"
	// ActionResent: an earlier decision's update was sent again.
	ActionResent Action = "resent"
	// ActionConfirmed: an earlier decision's update was found in the ticket.
	ActionConfirmed Action = "confirmed"
	// ActionRechecked: the order still waits; nothing was written.
	ActionRechecked Action = "rechecked"
	// ActionNone: nothing was written (a dry run, or an error).
	ActionNone Action = "none"
)

// maxConflicts bounds how often a decision is made again after losing a
// race with a concurrent change.
const maxConflicts = 3

// orderTimeout bounds one order's handling, so that an outside system that
// hangs (the lock store has no timeout of its own) cannot hold a pass, and
// with it every pass after, for ever.
const orderTimeout = 2 * time.Minute

// bookkeepingTimeout bounds the store writes that a pass makes even when its
// context has ended: giving a claim back, confirming an update, recording
// the pass.
const bookkeepingTimeout = 5 * time.Second

// bookkeeping returns a context for such a write.
func bookkeeping(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), bookkeepingTimeout)
}

// view is a region's order view as one pass read it.
type view struct {
	region Region
	// seen is the latest time the view surely reflects.
	seen time.Time
}

// handle carries one ticket through a pass. It returns nil for a ticket the
// pass does not act on, with the reason when the ticket is left for a later
// pass.
func (s *Syncer) handle(ctx context.Context, pass string, v view, t lockworker.Ticket, dryRun bool) (*Result, string) {
	for attempt := 1; ; attempt++ {
		res, err := s.handleOnce(ctx, pass, v, t, dryRun)
		var later deferred
		switch {
		case errors.Is(err, lockworker.ErrConflict) && attempt < maxConflicts:
			continue
		case errors.Is(err, lockworker.ErrConflict):
			return errorResult(t, failure(lockworker.ReasonLockStoreError, fmt.Errorf("decide the order: %w", err))), ""
		case errors.As(err, &later):
			return nil, string(later)
		case err != nil:
			return errorResult(t, err), ""
		}
		return res, ""
	}
}

// deferred says why a ticket is left for a later pass.
type deferred string

func (d deferred) Error() string { return string(d) }

func (s *Syncer) handleOnce(ctx context.Context, pass string, v view, t lockworker.Ticket, dryRun bool) (*Result, error) {
	r := v.region
	st := r.Statuses
	if t.Status != st.Open && t.Status != st.Waiting && t.Status != st.Resolved && t.Status != st.Manual {
		return nil, nil
	}
	if t.ID == "" {
		return nil, failure(lockworker.ReasonEasitError, errors.New("the ticket has no ticket number: it cannot be updated"))
	}
	entry, found, err := s.Store.Ledger(ctx, r.Code, t.ID)
	if err != nil {
		return nil, failure(lockworker.ReasonLockStoreError, err)
	}

	if found && !entry.Confirmed() {
		return s.finishPending(ctx, v, t, entry, dryRun)
	}
	if t.Status != st.Open && t.Status != st.Waiting {
		return nil, nil
	}
	if found && !entry.ConfirmedAt.Before(v.seen) {
		// The view may predate the update: an open status in it is no
		// re-submission (yet). The next pass looks again.
		return nil, deferred("the view was read before the ticket's last update was confirmed")
	}

	now := s.now()
	d, err := s.decide(ctx, r, t, now)
	if err != nil {
		return nil, err
	}
	res := resultOf(t, d)
	if d.Outcome == lockworker.OutcomeWaiting && t.Status == st.Waiting && found && entry.Outcome == lockworker.OutcomeWaiting {
		// Still waiting: the ticket says so already, and says it once.
		res.Action = ActionRechecked
		return res, nil
	}
	if dryRun {
		return res, nil
	}

	d.Pass, d.At = pass, now
	if found {
		d.Round = entry.Round
	}
	if err := s.Store.Record(ctx, d); err != nil {
		if errors.Is(err, lockworker.ErrConflict) {
			return nil, err
		}
		return nil, failure(lockworker.ReasonLockStoreError, fmt.Errorf("record the decision: %w", err))
	}
	if err := s.sendUpdate(ctx, r, t, d.Round+1, d.Status, d.Comment); err != nil {
		return nil, err
	}
	res.Action = ActionDecided
	return res, nil
}

// finishPending completes a decision recorded earlier whose ticket update
// was not confirmed: if the ticket shows the update, it is confirmed;
// otherwise the same update is sent again. The decision is never made again.
func (s *Syncer) finishPending(ctx context.Context, v view, t lockworker.Ticket, e lockworker.LedgerEntry, dryRun bool) (*Result, error) {
	r := v.region
	res := &Result{Ticket: t.ID, Kind: e.Kind, Outcome: e.Outcome, Reason: e.Reason, Status: e.Status, Comment: e.Comment, Action: ActionNone}
	switch {
	case dryRun:
		return res, nil
	case t.Status == e.Status:
		if err := s.Store.ConfirmUpdate(ctx, r.Code, t.ID, e.Round); err != nil {
			return nil, failure(lockworker.ReasonLockStoreError, fmt.Errorf("confirm the update: %w", err))
		}
		res.Action = ActionConfirmed
		return res, nil
	case t.Status != r.Statuses.Open && t.Status != r.Statuses.Waiting:
		// Someone else has moved the ticket on; there is nothing to send.
		return nil, nil
	}
	claimed, err := s.Store.ClaimUpdate(ctx, r.Code, t.ID, e.Round, v.seen)
	if err != nil {
		return nil, failure(lockworker.ReasonLockStoreError, fmt.Errorf("claim the update: %w", err))
	}
	if !claimed {
		return nil, deferred("another process holds the update, or the view was read before its last attempt")
	}
	if err := s.sendUpdate(ctx, r, t, e.Round, e.Status, e.Comment); err != nil {
		return nil, err
	}
	res.Action = ActionResent
	return res, nil
}

// sendUpdate tells the ticket system of a recorded decision, holding the
// claim on its update, and confirms it in the ledger. The ticket system gets
// the ticket's number as it gave it; the store knows the ticket by its ID.
func (s *Syncer) sendUpdate(ctx context.Context, r Region, t lockworker.Ticket, round int, status, comment string) error {
	ticket := t.ID
	err := r.Tickets.Update(ctx, lockworker.TicketUpdate{Ticket: t.UpdateID(), Status: status, Comment: comment})
	storeCtx, cancel := bookkeeping(ctx)
	defer cancel()
	if err != nil {
		// The next pass reads the ticket back: if the update did arrive it
		// is confirmed, otherwise sent again.
		if rerr := s.Store.ReleaseUpdate(storeCtx, r.Code, ticket, round); rerr != nil {
			err = errors.Join(err, fmt.Errorf("release the update: %w", rerr))
		}
		return failure(lockworker.ReasonEasitError, fmt.Errorf("update the ticket: %w", err))
	}
	if err := s.Store.ConfirmUpdate(storeCtx, r.Code, ticket, round); err != nil {
		// The ticket is updated; the next pass sees it and confirms it.
		return failure(lockworker.ReasonLockStoreError, fmt.Errorf("confirm the update: %w", err))
	}
	return nil
}

// failed is an order's transient failure, with the reason code of the system
// that failed.
type failed struct {
	reason lockworker.Reason
	err    error
}

func (f *failed) Error() string { return f.err.Error() }
func (f *failed) Unwrap() error { return f.err }

func failure(reason lockworker.Reason, err error) error { return &failed{reason: reason, err: err} }

// errorResult is an order's transient failure. Its text may carry what an
// outside system said, so any personnummer in it is hidden.
func errorResult(t lockworker.Ticket, err error) *Result {
	res := &Result{Ticket: t.ID, Outcome: lockworker.OutcomeError, Error: lockworker.Redact(err.Error()), Action: ActionNone}
	var f *failed
	if errors.As(err, &f) {
		res.Reason = f.reason
	}
	return res
}

func resultOf(t lockworker.Ticket, d lockworker.Decision) *Result {
	return &Result{
		Ticket: t.ID, Kind: d.Kind, Outcome: d.Outcome, Reason: d.Reason,
		Personnummer: d.Personnummer, ProxySuspended: d.ProxySuspended,
		Status: d.Status, Comment: d.Comment, Action: ActionNone,
	}
}
