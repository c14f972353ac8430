package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/user"

	"github.com/lockworker/lockworker"
	"github.com/lockworker/lockworker/config"
	"github.com/lockworker/lockworker/lockstore"
)

// logAccess enters in the audit trail, before anything is shown, that the
// person running command read the data of people: who is the OS user, why
// the reason given with --reason, else what the command is for (in Swedish,
// as the resident's extract shows it). When it
// cannot be entered, nothing is shown.
func (a *app) logAccess(ctx context.Context, ls config.LockStore, au config.Audit, command, reason string, people []lockworker.Personnummer) error {
	store, err := a.openStore(ctx, ls, au)
	if err != nil {
		return fmt.Errorf("enter the access in the audit trail: %w", err)
	}
	err = store.LogAccess(ctx, lockworker.Access{
		At: a.now(), Category: lockworker.AuditAccess, Actor: osUser(), Purpose: reason, Command: command, People: people,
	})
	return errors.Join(err, store.Close())
}

// osUser names the user running lockworker, as the operating system knows
// them.
func osUser() string {
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username
	}
	if name := os.Getenv("USER"); name != "" {
		return name
	}
	return fmt.Sprintf("uid %d", os.Getuid())
}

// logAdmin enters an act of administration in the audit trail of store:
// who ran command, and what it did.
func (a *app) logAdmin(ctx context.Context, store *lockstore.Store, command, what string, people []lockworker.Personnummer) error {
	err := store.LogAccess(ctx, lockworker.Access{
		At: a.now(), Category: lockworker.AuditAdmin, Actor: osUser(), Purpose: what, Command: command, People: people,
	})
	if err != nil {
		return fmt.Errorf("enter %s in the audit trail: %w", command, err)
	}
	return nil
}
