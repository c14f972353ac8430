package sync

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"slices"
	gosync "sync"
	"sync/atomic"
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
	regions, err := s.chosenRegions(opts)
	if err != nil {
		return Summary{}, err
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

	// Every region on its own: at once, each within its own deadline, so
	// that a region whose systems hang or fail holds no other.
	done := make([]*RegionSummary, len(regions))
	var g errgroup.Group
	for i, r := range regions {
		g.Go(func() error {
			if stopping(opts.Stopping) {
				return nil // the regions not read are read by the next pass
			}
			regionCtx, cancel := context.WithTimeoutCause(ctx, s.regionTimeout(),
				fmt.Errorf("the region's pass took longer than its deadline of %s", s.regionTimeout()))
			defer cancel()
			rs := s.runRegion(regionCtx, log, sum.Pass, r, opts)
			done[i] = &rs
			if opts.RegionDone != nil {
				opts.RegionDone(rs)
			}
			return nil
		})
	}
	_ = g.Wait() // runRegion never fails: a region's failure is in its summary.
	for _, rs := range done {
		if rs != nil {
			sum.Regions = append(sum.Regions, *rs)
		}
	}
	sum.Duration = s.now().Sub(started)
	if opts.Ticket != "" && !stopping(opts.Stopping) && !holds(sum, opts.Ticket) {
		sum.MissingTicket = opts.Ticket
		log.Warn().Str("ticket", opts.Ticket).Msg("no region read holds the ticket asked for in its view")
	}

	counts := sum.Counts()
	ev := log.Info()
	for _, o := range lockworker.Outcomes {
		ev = ev.Int(string(o), counts[o])
	}
	ev.Int("deferred", sum.Deferred()).Strs("failed_regions", sum.FailedRegions()).Float64("duration_seconds", sum.Duration.Seconds()).Msg("pass finished")

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

// chosenRegions returns the regions opts asks for, in the configured order:
// all of them, the one of opts.Region, or those of opts.Regions.
func (s *Syncer) chosenRegions(opts Options) ([]Region, error) {
	if opts.Region == "" && opts.Regions == nil {
		return s.Regions, nil
	}
	want := slices.Clone(opts.Regions)
	if opts.Region != "" {
		want = append(want, opts.Region)
	}
	var regions []Region
	for _, r := range s.Regions {
		if slices.Contains(want, r.Code) {
			regions = append(regions, r)
		}
	}
	for _, code := range want {
		if !slices.ContainsFunc(regions, func(r Region) bool { return r.Code == code }) {
			return nil, fmt.Errorf("run pass: %w %q", ErrUnknownRegion, code)
		}
	}
	return regions, nil
}

func (s *Syncer) concurrency() int {
	if s.Concurrency > 0 {
		return s.Concurrency
	}
	return defaultConcurrency
}

func (s *Syncer) formConcurrency() int {
	if s.FormConcurrency > 0 {
		return s.FormConcurrency
	}
	return defaultFormConcurrency
}

func (s *Syncer) importBatch() int {
	if s.ImportBatch > 0 {
		return s.ImportBatch
	}
	return defaultImportBatch
}

func (s *Syncer) regionTimeout() time.Duration {
	if s.RegionTimeout > 0 {
		return s.RegionTimeout
	}
	return defaultRegionTimeout
}

// holds reports whether a region of the pass had the ticket in its view (a
// ticket asked for always has a result), or could not be read at all (and
// so may have it).
func holds(sum Summary, ticket string) bool {
	for _, r := range sum.Regions {
		if r.Error != "" || slices.ContainsFunc(r.Orders, func(o Result) bool { return o.Ticket == ticket }) {
			return true
		}
	}
	return false
}

// runRegion reads one region's view and handles its orders as the view's
// pages come, a bounded number at a time. An order whose view proves to be
// older than a step the store recorded on it (another process decided, sent
// or confirmed it meanwhile) is handled again from the view read once more,
// after the others. A view whose read fails part way fails the region, and
// the orders of the pages read before are handled all the same: each is
// judged on its own ticket as the ticket system gave it.
func (s *Syncer) runRegion(ctx context.Context, log zerolog.Logger, pass string, r Region, opts Options) RegionSummary {
	started := s.now()
	log = log.With().Str("region", r.Code).Logger()
	rs := RegionSummary{Code: r.Code, Name: r.Name}
	r.Forms = boundedForms{forms: r.Forms, turns: make(chan struct{}, s.formConcurrency())}
	v := view{region: r, slots: make(chan struct{}, s.concurrency()), reading: new(atomic.Bool)}
	v.updates = newBatcher(ctx, r, s.Store, s.importBatch(), v.underway)

	var orders []*viewOrder
	err := s.handleView(ctx, log, pass, v, func(t lockworker.Ticket) *viewOrder {
		if !opts.wants(t.ID) {
			return nil
		}
		o := &viewOrder{id: t.ID, status: t.Status}
		orders = append(orders, o)
		return o
	}, opts)
	if err != nil {
		// What Easit said is not lockworker's text: it may hold anything.
		rs.Error = lockworker.Redact(err.Error())
		log.Error().Str("error", rs.Error).Msg("read the region's orders")
	}
	var stale []*viewOrder
	for _, o := range orders {
		if o.stale {
			stale = append(stale, o)
		}
	}
	switch {
	case len(stale) == 0 || stopping(opts.Stopping):
	case err != nil:
		for _, o := range stale {
			o.res = deferredResult(o.id, "the view was older than the ticket's last recorded step, and could not be read whole to read it again")
		}
	default:
		s.handleAgain(ctx, log, pass, v, stale, opts)
	}
	v.updates.close()

	for _, o := range orders {
		res := o.res
		if res == nil && o.started && opts.Ticket != "" && !stopping(opts.Stopping) {
			// The ticket asked for is in the view, but not for the pass to
			// act on: say so rather than nothing.
			res = &Result{Ticket: o.id, Action: ActionNone,
				Why: fmt.Sprintf("nothing to do: the ticket's status is %q", lockworker.Redact(o.status))}
		}
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

// viewOrder is a ticket of the view as the pass handles it: whether its
// handling started, and what became of it, or that its view was stale.
type viewOrder struct {
	id, status string
	started    bool
	res        *Result
	stale      bool
}

// handleAgain reads the region's view again and handles the stale orders
// from it. An order whose view is stale again, or that could not be started
// again (the read failed or was cut short), is deferred; one gone from the
// view is no longer the pass's to handle.
func (s *Syncer) handleAgain(ctx context.Context, log zerolog.Logger, pass string, v view, stale []*viewOrder, opts Options) {
	waiting := make(map[string][]*viewOrder, len(stale))
	for _, o := range stale {
		waiting[o.id] = append(waiting[o.id], o)
		o.stale, o.started = false, false
	}
	err := s.handleView(ctx, log, pass, v, func(t lockworker.Ticket) *viewOrder {
		q := waiting[t.ID]
		if len(q) == 0 {
			return nil
		}
		waiting[t.ID] = q[1:]
		return q[0]
	}, opts)
	for _, o := range stale {
		switch {
		case o.stale:
			o.res = deferredResult(o.id, "the view, read twice, was older than the ticket's last recorded step: another process is at work on it")
		case !o.started && err != nil:
			o.res = deferredResult(o.id, "the view was older than the ticket's last recorded step, and reading it again failed: "+lockworker.Redact(err.Error()))
		}
		if o.res != nil && o.res.Action == ActionDeferred {
			log.Info().Str("ticket", o.id).Str("why", o.res.Why).Msg("order left for a later pass")
		}
	}
}

// errStopped ends a view's read when the pass is asked to stop.
var errStopped = errors.New("the pass is stopping")

// handleView reads the lock store's clock and then the region's view (which
// so shows every step the store had marked by then), and handles each of its
// tickets for which take gives an order, as its page comes. At most
// Concurrency orders at a time read and write (each holds one of v.slots),
// the view's read waiting for a free one; an order waiting for its update's
// batch holds none, so that the next batch fills while one is in flight. It
// returns once every order started is done, with the error that ended the
// read early, if any; an order that take gave but that did not start then is
// left with started false.
func (s *Syncer) handleView(ctx context.Context, log zerolog.Logger, pass string, v view, take func(lockworker.Ticket) *viewOrder, opts Options) error {
	seen, err := s.Store.Mark(ctx)
	if err != nil {
		return fmt.Errorf("read the lock store's clock: %w", err)
	}
	v.seen = seen
	var g errgroup.Group
	g.SetLimit(s.concurrency() + 2*s.importBatch())
	v.reading.Store(true)
	err = v.region.Tickets.ReadView(ctx, func(page []lockworker.Ticket) error {
		for _, t := range page {
			o := take(t)
			if o == nil {
				continue
			}
			// The orders take their turns in the view's order.
			select {
			case v.slots <- struct{}{}:
			case <-opts.Stopping:
				return errStopped
			case <-ctx.Done():
				return context.Cause(ctx)
			}
			if stopping(opts.Stopping) {
				<-v.slots
				return errStopped // the orders not started are left for the next pass
			}
			o.started = true
			release := gosync.OnceFunc(func() { <-v.slots })
			g.Go(func() error {
				defer release()
				o.res, o.stale = s.handleSafely(ctx, log, pass, v, t, release, opts)
				return nil
			})
		}
		return nil
	})
	v.reading.Store(false)
	_ = g.Wait() // handleSafely never returns an error: each order's failure is its own.
	if errors.Is(err, errStopped) {
		err = nil
	}
	return err
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
// a panic becomes the order's error rather than the end of the pass. It
// reports stale, and logs nothing, for an order whose view was older than a
// step the store recorded on it.
func (s *Syncer) handleSafely(ctx context.Context, log zerolog.Logger, pass string, v view, t lockworker.Ticket, release func(), opts Options) (res *Result, stale bool) {
	log = log.With().Str("ticket", t.ID).Logger()
	defer func() {
		if p := recover(); p != nil {
			log.Error().Str("panic", lockworker.Redact(fmt.Sprint(p))).Str("stack", string(debug.Stack())).Msg("order handling panicked")
			res, stale = &Result{Ticket: t.ID, Outcome: lockworker.OutcomeError, Error: "internal error"}, false
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, orderTimeout)
	defer cancel()
	res, stale = s.handle(ctx, pass, v, t, release, opts)
	if stale || res == nil {
		return res, stale
	}
	if res.Action == ActionDeferred {
		log.Info().Str("why", res.Why).Msg("order left for a later pass")
		return res, false
	}
	ev := log.Info()
	if res.Outcome == lockworker.OutcomeError {
		ev = log.Error().Str("error", res.Error)
	}
	if res.Why != "" {
		ev = ev.Str("why", res.Why)
	}
	ev.Str("kind", string(res.Kind)).
		Str("outcome", string(res.Outcome)).
		Str("reason", string(res.Reason)).
		Str("person", res.Personnummer.Pseudonym()).
		Str("action", string(res.Action)).
		Msg("order")
	return res, false
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
	// ActionNone: nothing was written (a dry run, an error, or an update
	// another process sent meanwhile).
	ActionNone Action = "none"
	// ActionDeferred: the ticket is left for a later pass, for the reason in
	// Result.Why; it got no outcome in this pass.
	ActionDeferred Action = "deferred"
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
	// seen is the lock store's mark read just before the view: the view
	// shows every step marked by then.
	seen lockworker.Mark
	// updates sends the region's ticket updates in batches.
	updates *batcher
	// slots bounds the orders that read and write at once.
	slots chan struct{}
	// reading is true while the view is read.
	reading *atomic.Bool
}

// underway reports whether an order of the view may yet send an update: one
// holds a slot, or the view is still being read.
func (v view) underway() bool {
	return len(v.slots) > 0 || v.reading.Load()
}

// errStale means that the order's view is older than a step the store
// recorded on the ticket: it must be read again.
var errStale = errors.New("stale view")

// handle carries one ticket through a pass. It returns nil for a ticket the
// pass does not act on, and stale when the view must be read again.
func (s *Syncer) handle(ctx context.Context, pass string, v view, t lockworker.Ticket, release func(), opts Options) (*Result, bool) {
	for attempt := 1; ; attempt++ {
		res, err := s.handleOnce(ctx, pass, v, t, release, opts)
		switch {
		case errors.Is(err, lockworker.ErrConflict) && attempt < maxConflicts:
			continue
		case errors.Is(err, lockworker.ErrConflict):
			return errorResult(t, failure(lockworker.ReasonLockStoreError, fmt.Errorf("decide the order: %w", err))), false
		case errors.Is(err, errStale) || errors.Is(err, lockworker.ErrStaleView):
			return nil, true
		case err != nil:
			return errorResult(t, err), false
		}
		return res, false
	}
}

// handleOnce decides the order, or finishes an earlier decision; release
// gives the order's slot back, once it waits for its update's batch.
func (s *Syncer) handleOnce(ctx context.Context, pass string, v view, t lockworker.Ticket, release func(), opts Options) (*Result, error) {
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
		return s.finishPending(ctx, v, t, entry, release, opts)
	}
	if t.Status != st.Open && t.Status != st.Waiting {
		return nil, nil
	}
	if found && entry.ConfirmedMark > v.seen {
		// The view may predate the update: an open status in it is no
		// re-submission (yet). The view is read again.
		return nil, errStale
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
	if opts.DryRun {
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
	if err := s.sendUpdate(ctx, v, release, t, d.Round+1, d.Status, d.Comment); err != nil {
		return nil, err
	}
	res.Action = ActionDecided
	return res, nil
}

// finishPending completes a decision recorded earlier whose ticket update
// was not confirmed: if the ticket shows the update, it is confirmed;
// otherwise the same update is sent again, under a claim that no other
// process holds. The decision is never made again.
func (s *Syncer) finishPending(ctx context.Context, v view, t lockworker.Ticket, e lockworker.LedgerEntry, release func(), opts Options) (*Result, error) {
	r := v.region
	res := &Result{Ticket: t.ID, Kind: e.Kind, Outcome: e.Outcome, Reason: e.Reason, Status: e.Status, Comment: e.Comment, Action: ActionNone}
	switch {
	case opts.DryRun:
		return res, nil
	case t.Status == e.Status:
		if err := s.Store.ConfirmSeen(ctx, r.Code, t.ID, e.Round, v.seen); err != nil {
			if errors.Is(err, lockworker.ErrStaleView) || errors.Is(err, lockworker.ErrConflict) {
				return nil, err
			}
			return nil, failure(lockworker.ReasonLockStoreError, fmt.Errorf("confirm the update: %w", err))
		}
		res.Action = ActionConfirmed
		return res, nil
	case t.Status != r.Statuses.Open && t.Status != r.Statuses.Waiting:
		// Someone else has moved the ticket on; there is nothing to send.
		return nil, nil
	}

	claimed, err := s.awaitClaim(ctx, r.Code, t.ID, e.Round, v.seen, opts.Stopping)
	if err != nil {
		return nil, err
	}
	switch claimed {
	case lockworker.ClaimStale:
		return nil, errStale
	case lockworker.ClaimDone:
		res.Why = "another process sent the update meanwhile"
		return res, nil
	case lockworker.ClaimBusy:
		res.Action, res.Why = ActionDeferred, "another process is sending the update, for longer than this pass waits"
		return res, nil
	}
	if err := s.sendUpdate(ctx, v, release, t, e.Round, e.Status, e.Comment); err != nil {
		return nil, err
	}
	res.Action = ActionResent
	return res, nil
}

// claimPoll is how often a pass asks again for a claim that a live process
// holds.
const claimPoll = 100 * time.Millisecond

func (s *Syncer) claimLease() time.Duration {
	if s.ClaimLease > 0 {
		return s.ClaimLease
	}
	return defaultClaimLease
}

// awaitClaim claims a ticket's pending update, waiting while a live process
// holds it: until it lets go (its update then confirmed, or its attempt
// failed) or dies (its claim runs out within the lease), and for no longer
// than one and a half leases, nor once the pass is asked to stop. It
// returns ClaimBusy when the holder still has it.
func (s *Syncer) awaitClaim(ctx context.Context, region, ticket string, round int, seen lockworker.Mark, stop <-chan struct{}) (lockworker.Claim, error) {
	giveUp := time.NewTimer(3 * s.claimLease())
	defer giveUp.Stop()
	for {
		claim, err := s.Store.ClaimUpdate(ctx, region, ticket, round, seen)
		if err != nil {
			return 0, failure(lockworker.ReasonLockStoreError, fmt.Errorf("claim the update: %w", err))
		}
		if claim != lockworker.ClaimBusy {
			return claim, nil
		}
		select {
		case <-time.After(claimPoll):
		case <-giveUp.C:
			return lockworker.ClaimBusy, nil
		case <-stop:
			return lockworker.ClaimBusy, nil
		case <-ctx.Done():
			return 0, failure(lockworker.ReasonLockStoreError, fmt.Errorf("wait for the claim on the update: %w", ctx.Err()))
		}
	}
}

// sendUpdate tells the ticket system of a recorded decision, holding the
// claim on its update and renewing it while it waits, and confirms it in the
// ledger. Should the claim be lost (the store unreachable for most of a
// lease), the send is cancelled, so that it does not arrive after another
// process has taken the claim over. The update goes in the region's next
// batch; release gives the order's slot back while it waits. The ticket
// system gets the ticket's number as it gave it; the store knows the ticket
// by its ID.
func (s *Syncer) sendUpdate(ctx context.Context, v view, release func(), t lockworker.Ticket, round int, status, comment string) error {
	r := v.region
	ticket := t.ID
	sendCtx, cancel := context.WithCancelCause(ctx)
	stopRenewing := s.keepClaim(sendCtx, cancel, r.Code, ticket, round)
	sent := v.updates.send(sendCtx, ticket, lockworker.TicketUpdate{Ticket: t.UpdateID(), Status: status, Comment: comment, Key: updateKey(r.Code, ticket, round)}, round, release)
	err := sent.sent
	stopRenewing()
	if cause := context.Cause(sendCtx); err != nil && cause != nil && ctx.Err() == nil {
		err = fmt.Errorf("%w (%w)", err, cause)
	}
	cancel(nil)
	storeCtx, cancelStore := bookkeeping(ctx)
	defer cancelStore()
	if err != nil {
		// The next pass reads the ticket back: if the update did arrive it
		// is confirmed, otherwise sent again.
		why := lockworker.Redact(err.Error())
		if rerr := s.Store.ReleaseUpdate(storeCtx, r.Code, ticket, round, why); rerr != nil {
			err = errors.Join(err, fmt.Errorf("release the update: %w", rerr))
		}
		return failure(lockworker.ReasonEasitError, fmt.Errorf("update the ticket: %w", err))
	}
	if err := sent.confirmed; err != nil {
		// The ticket is updated; the next pass sees it and confirms it.
		return failure(lockworker.ReasonLockStoreError, fmt.Errorf("confirm the update: %w", err))
	}
	return nil
}

// errClaimLost cancels an update whose claim could not be kept.
var errClaimLost = errors.New("the claim on the update was lost")

// keepClaim renews the claim on a ticket's update every third of the lease
// until the returned function is called. When the claim is lost, or not
// renewed for two thirds of the lease, it cancels the send with
// errClaimLost.
func (s *Syncer) keepClaim(ctx context.Context, cancel context.CancelCauseFunc, region, ticket string, round int) func() {
	lease := s.claimLease()
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(lease / 3)
		defer tick.Stop()
		renewed := time.Now()
		for {
			select {
			case <-done:
				return
			case <-ctx.Done():
				return
			case <-tick.C:
			}
			renewCtx, cancelRenew := context.WithTimeout(ctx, lease/3)
			ok, err := s.Store.RenewUpdate(renewCtx, region, ticket, round)
			cancelRenew()
			if err == nil && ok {
				renewed = time.Now()
			}
			if (err == nil && !ok) || time.Since(renewed) >= lease*2/3 {
				cancel(errClaimLost)
				return
			}
		}
	}()
	return func() {
		close(done)
		<-finished
	}
}

func deferredResult(ticket, why string) *Result {
	return &Result{Ticket: ticket, Action: ActionDeferred, Why: why}
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
