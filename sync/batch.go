package sync

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/lockworker/lockworker"
)

// batcher sends one region's ticket updates to its ticket system in
// batches: each batch is one request (in Easit, one import of many items),
// so that a backlog costs a request per batch rather than per order. A batch
// goes when it is full, when no order under way can add to it, or
// batchLinger after its first update came, and while it is in flight the next
// fills up: an update waits for no more than batchLinger and one request.
type batcher struct {
	region  string
	tickets Tickets
	store   Store
	size    int
	queue   chan *queued
	done    chan struct{}
	// underway reports whether an order may yet add an update.
	underway func() bool
}

// batchLinger is the longest a batch waits for more updates after its
// first, and underwayPoll how often it asks whether any may still come.
const (
	batchLinger  = 250 * time.Millisecond
	underwayPoll = 2 * time.Millisecond
)

// queued is an update waiting to be sent.
type queued struct {
	// ctx is the sender's: an update whose sender has given up (its claim
	// on the update lost, say) before its batch goes is not sent.
	ctx context.Context
	// ticket is the ticket's ID in the store, which may differ from the
	// number the update gives the ticket system (lockworker.Ticket.UpdateID).
	ticket string
	update lockworker.TicketUpdate
	round  int
	result chan sendResult
}

// sendResult is what became of an update: sent is nil when the ticket
// system carried it out, and then confirmed nil when the ledger records it.
type sendResult struct{ sent, confirmed error }

// newBatcher starts a batcher that sends updates of region's tickets in
// batches of at most size, each within ctx, and confirms those carried out
// in store, a batch in one transaction; underway reports whether an order
// may yet add an update.
func newBatcher(ctx context.Context, region Region, store Store, size int, underway func() bool) *batcher {
	b := &batcher{region: region.Code, tickets: region.Tickets, store: store, size: size, queue: make(chan *queued, size), done: make(chan struct{}), underway: underway}
	go b.run(ctx)
	return b
}

// send has u, the update of ticket's decision at round, sent in a batch and
// confirmed, and returns its own result; waiting is called once the update
// waits for its batch (or is given up). Every update handed over gets a
// result.
func (b *batcher) send(ctx context.Context, ticket string, u lockworker.TicketUpdate, round int, waiting func()) sendResult {
	q := &queued{ctx: ctx, ticket: ticket, update: u, round: round, result: make(chan sendResult, 1)}
	select {
	case b.queue <- q:
		waiting()
	case <-ctx.Done():
		waiting()
		return sendResult{sent: fmt.Errorf("the update was not sent: %w", context.Cause(ctx))}
	}
	return <-q.result
}

// close waits for the batches under way and stops the batcher. Call it once
// no send can start any more.
func (b *batcher) close() {
	close(b.queue)
	<-b.done
}

func (b *batcher) run(ctx context.Context) {
	defer close(b.done)
	var next *queued // an update held over to the next batch
	for {
		first := next
		next = nil
		if first == nil {
			q, ok := <-b.queue
			if !ok {
				return
			}
			first = q
		}
		batch := []*queued{first}
		// One batch holds one update of a ticket at most: the ticket
		// system names each item by its key, which must be unique.
		keys := map[string]bool{first.update.Key: true}
		linger := time.NewTimer(batchLinger)
		poll := time.NewTicker(underwayPoll)
	gather:
		for len(batch) < b.size {
			select {
			case <-linger.C:
				break gather
			case <-poll.C:
				// An order queues its update before it lets its slot go:
				// asked in this order, none is between the two.
				if !b.underway() && len(b.queue) == 0 {
					break gather
				}
			case q, ok := <-b.queue:
				if !ok {
					break gather
				}
				if keys[q.update.Key] {
					next = q
					break gather
				}
				keys[q.update.Key] = true
				batch = append(batch, q)
			}
		}
		linger.Stop()
		poll.Stop()
		b.sendBatch(ctx, batch)
	}
}

// sendBatch sends the batch's updates whose senders still wait, in one
// request, and gives each its own result.
func (b *batcher) sendBatch(ctx context.Context, batch []*queued) {
	var live []*queued
	var updates []lockworker.TicketUpdate
	for _, q := range batch {
		if q.ctx.Err() != nil {
			q.result <- sendResult{sent: fmt.Errorf("the update was not sent: %w", context.Cause(q.ctx))}
			continue
		}
		live = append(live, q)
		updates = append(updates, q.update)
	}
	if len(live) == 0 {
		return
	}
	// A sender that gives up while its update is in flight (its claim lost)
	// must not have it arrive after another process took the claim over:
	// the whole request is cancelled, and the other updates of the batch,
	// whether or not they arrived, are read back by the next pass like any
	// update whose answer was lost.
	sendCtx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	for _, q := range live {
		stop := context.AfterFunc(q.ctx, func() {
			cancel(fmt.Errorf("the update of ticket %s in the same request was given up: %w", q.update.Ticket, context.Cause(q.ctx)))
		})
		defer stop()
	}
	errs := b.tickets.Update(sendCtx, updates)
	results := make([]sendResult, len(live))
	var carried []lockworker.UpdateRef
	var slots []int
	for i, q := range live {
		switch {
		case i >= len(errs):
			results[i].sent = errors.New("the ticket system gave no result for the update: it may have been carried out")
		case errs[i] != nil:
			results[i].sent = errs[i]
		default:
			carried = append(carried, lockworker.UpdateRef{Ticket: q.ticket, Round: q.round})
			slots = append(slots, i)
		}
	}
	if len(carried) > 0 {
		// The updates were carried out: they are confirmed even when the
		// pass has ended meanwhile.
		storeCtx, cancelStore := bookkeeping(ctx)
		defer cancelStore()
		confirmed := b.store.ConfirmSentAll(storeCtx, b.region, carried)
		for k, i := range slots {
			if k < len(confirmed) {
				results[i].confirmed = confirmed[k]
			}
		}
	}
	for i, q := range live {
		q.result <- results[i]
	}
}

// updateKey names the update of a ticket's decision at round: the same for
// every attempt to send it, and no other's.
func updateKey(region, ticket string, round int) string {
	return fmt.Sprintf("lockworker-%s-%s-%d", region, ticket, round)
}

// boundedForms reads a region's forms, at most cap(turns) at a time.
type boundedForms struct {
	forms Forms
	turns chan struct{}
}

func (b boundedForms) Form(ctx context.Context, ref string) (lockworker.Form, error) {
	select {
	case b.turns <- struct{}{}:
	case <-ctx.Done():
		return lockworker.Form{}, fmt.Errorf("wait for a turn to read form %q: %w", ref, context.Cause(ctx))
	}
	defer func() { <-b.turns }()
	return b.forms.Form(ctx, ref)
}
