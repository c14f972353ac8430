package main

import (
	"context"
	"fmt"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/lockworker/lockworker/config"
	"github.com/lockworker/lockworker/lockstore"
)

func (a *app) purgeCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "purge",
		Short: "Remove what is older than the configured retention",
		Long: `Remove from the lock store the audit entries older than retention.audit (and
locks lifted before then, of people not locked now) and the records of passes
older than retention.passes, as serve does once a day. Active locks and the
history of the people they lock are kept. The audit trail stays one verifiable
chain: a checkpoint holds the hash where the kept part begins. The purge is
itself an entry of the audit trail.`,
		Args: args(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			cfg, store, err := a.openStoreOnly(ctx, a.openStore)
			if err != nil {
				return err
			}
			defer store.Close()
			rep, err := store.Purge(ctx, a.purgeOf(cfg.Retention, "lockworker purge, run by hand"))
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "%d audit entries, %d passes and %d lifted locks removed; the audit trail is kept from entry %d\n",
				rep.AuditEntries, rep.Passes, rep.Locks, rep.KeptFrom)
			return nil
		},
	}
}

// purgeOf is the purge that the retention asks for now.
func (a *app) purgeOf(r config.Retention, why string) lockstore.Purge {
	now := a.now()
	return lockstore.Purge{
		AuditBefore:  now.Add(-time.Duration(r.Audit)),
		PassesBefore: now.Add(-time.Duration(r.Passes)),
		Actor:        osUser(),
		Purpose:      fmt.Sprintf("%s (retention: audit %s, passes %s)", why, r.Audit, r.Passes),
	}
}

// purgeDaily purges at start and then once a day until ctx ends; a failure
// is logged and tried again the next day.
func (a *app) purgeDaily(ctx context.Context, store *lockstore.Store, r config.Retention, log zerolog.Logger) {
	tick := time.NewTicker(24 * time.Hour)
	defer tick.Stop()
	for {
		rep, err := store.Purge(ctx, a.purgeOf(r, "the daily purge of lockworker serve"))
		if err != nil {
			if ctx.Err() == nil {
				log.Error().Err(err).Msg("purge what is older than the retention")
			}
		} else {
			log.Info().Int64("audit_entries", rep.AuditEntries).Int64("passes", rep.Passes).Int64("locks", rep.Locks).
				Int64("kept_from", rep.KeptFrom).Msg("purged what is older than the retention")
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
