package main

import (
	"context"

	"github.com/lockworker/lockworker"
	"github.com/lockworker/lockworker/lockstore"
	"github.com/lockworker/lockworker/opspage"
)

// pageAccessLog enters the ops page's looks at people's data in the audit
// trail's access log, as every command that shows a personnummer does.
type pageAccessLog struct{ store *lockstore.Store }

// RecordAccess enters a: who looked, at whose data, when and why.
func (l pageAccessLog) RecordAccess(ctx context.Context, a opspage.Access) error {
	return l.store.LogAccess(ctx, lockworker.Access{
		At: a.At, Category: lockworker.AuditAccess, Actor: a.Who, Purpose: a.Why,
		Command: "ops page: " + a.What, People: []lockworker.Personnummer{a.Personnummer},
	})
}
