package lockstore

import (
	"context"
	"errors"
	"fmt"
	gosync "sync"

	"github.com/lockworker/lockworker"
	"gorm.io/gorm"
)

// maxGroup bounds the decisions committed in one transaction.
const maxGroup = 64

// commitGroup commits the decisions recorded at the same time in one
// transaction, each within a savepoint of its own: SQLite has one writer,
// and on PostgreSQL every decision takes the store's clock until its commit
// (see lockClock), and a commit's wait for the disk is the most of a
// decision's cost, so that a group of decisions costs hardly more than one. A decision that fails
// (a conflict) is rolled back to its savepoint and fails alone; every other
// is durable when its Record returns, as before.
//
// The first decision to come while no group is being committed commits the
// group, and the groups that gather meanwhile after it; the others wait for
// their result.
type commitGroup struct {
	store *Store

	mu         gosync.Mutex
	waiting    []*grouped
	committing bool
}

type grouped struct {
	d    lockworker.Decision
	done chan error
}

// record commits d in a group, and returns its own result.
func (g *commitGroup) record(ctx context.Context, d lockworker.Decision) error {
	me := &grouped{d: d, done: make(chan error, 1)}
	g.mu.Lock()
	g.waiting = append(g.waiting, me)
	if g.committing {
		g.mu.Unlock()
		// The group's transaction is bounded by the statement timeout, and
		// the decision may be in it: its result is waited for.
		return <-me.done
	}
	g.committing = true
	g.mu.Unlock()

	// The committer's own caller may go away; the others' decisions are
	// committed all the same.
	commitCtx := context.WithoutCancel(ctx)
	for {
		g.mu.Lock()
		batch := g.waiting[:min(len(g.waiting), maxGroup)]
		g.waiting = g.waiting[len(batch):]
		if len(batch) == 0 {
			g.committing = false
			g.mu.Unlock()
			break
		}
		g.mu.Unlock()
		g.commit(commitCtx, batch)
	}
	return <-me.done
}

// commit commits a group of decisions in one transaction and gives each its
// result.
func (g *commitGroup) commit(ctx context.Context, batch []*grouped) {
	ctx, cancel := g.store.bound(ctx)
	defer cancel()
	results := make([]error, len(batch))
	err := g.store.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for i, r := range batch {
			name := fmt.Sprintf("decision%d", i)
			if err := tx.SavePoint(name).Error; err != nil {
				return err
			}
			if err := g.store.recordIn(tx, r.d); err != nil {
				results[i] = err
				if rerr := tx.RollbackTo(name).Error; rerr != nil {
					return errors.Join(err, rerr)
				}
			}
		}
		return nil
	})
	for i, r := range batch {
		if err != nil {
			// Nothing of the group was committed.
			results[i] = err
		}
		r.done <- results[i]
	}
}
