package main

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/lockworker/lockworker"
)

func (a *app) statusCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status PERSONNUMMER [--json]",
		Short: "Show whether a person's login is locked",
		Args:  args(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pnr, err := lockworker.ParsePersonnummer(args[0], a.now())
			if err != nil {
				return usageError{err}
			}
			ctx := cmd.Context()
			cfg, store, err := a.openStoreOnly(ctx, a.openReader)
			if err != nil {
				return err
			}
			defer store.Close()

			lock, locked, err := store.ActiveLock(ctx, pnr)
			if err != nil {
				return fmt.Errorf("look up the lock: %w", err)
			}
			if asJSON {
				return writeStatusJSON(a, lock, locked)
			}
			if !locked {
				fmt.Fprintln(a.stdout, "not locked")
				return nil
			}
			name := lock.Region
			if n, ok := cfg.Regions[lock.Region]; ok {
				name = fmt.Sprintf("%s (%s)", n, lock.Region)
			}
			fmt.Fprintf(a.stdout, "locked since %s at the request of %s, ticket %s, form %s\n",
				lock.LockedAt.Format(time.RFC3339), name, lock.Ticket, lock.Form)
			if lock.ProxySuspended {
				fmt.Fprintln(a.stdout, "the guardians' proxy is suspended while the lock lasts")
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the state as JSON")
	return cmd
}

// writeStatusJSON prints the lock state in the shape of SPEC §5: only
// "locked":false when there is no lock.
func writeStatusJSON(a *app, lock lockworker.Lock, locked bool) error {
	var v any = struct {
		Locked bool `json:"locked"`
	}{false}
	if locked {
		v = struct {
			Locked         bool      `json:"locked"`
			Region         string    `json:"region"`
			Since          time.Time `json:"since"`
			Ticket         string    `json:"ticket"`
			ProxySuspended bool      `json:"proxy_suspended"`
		}{true, lock.Region, lock.LockedAt.UTC(), lock.Ticket, lock.ProxySuspended}
	}
	return json.NewEncoder(a.stdout).Encode(v)
}
