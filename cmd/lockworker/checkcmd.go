package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/lockworker/lockworker/config"
	"github.com/lockworker/lockworker/cosmic"
	"github.com/lockworker/lockworker/easit"
	"github.com/lockworker/lockworker/lockstore"
)

func (a *app) checkCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "check",
		Short: "Validate the configuration and reach every region's Easit and form service",
		Long: `Validate the configuration, check the lock store (reachable, writable with a
write it rolls back, at this lockworker's schema version), then reach each
region's Easit GO (GET /ping; the order view read with the API key, which must
have every configured column; the import handler run with no item, which
touches no ticket) and form service (GET /metadata with the token), printing
one line per region and check. The exit status is 1 if any
check fails, 2 if the configuration itself is invalid.`,
		Args: args(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintf(tw, "configuration\t\tok\t%d regions\n", len(cfg.Regions))
			failed, total := 0, 1
			if err := a.checkStore(cmd.Context(), cfg.LockStore); err != nil {
				failed++
				fmt.Fprintf(tw, "lock store\t%s\tFAILED: %s\n", cfg.LockStore.Driver, err)
			} else {
				fmt.Fprintf(tw, "lock store\t%s\tok\treachable, writable, schema version %d\n", cfg.LockStore.Driver, lockstore.SchemaVersion)
			}
			for _, r := range cfg.Regions {
				for _, c := range regionChecks(r) {
					total++
					ctx, cancel := context.WithTimeout(cmd.Context(), 15*time.Second)
					err := c.run(ctx)
					cancel()
					result := "ok"
					if err != nil {
						failed++
						result = "FAILED: " + err.Error()
					}
					fmt.Fprintf(tw, "%s %s\t%s\t%s\n", r.Code, r.Name, c.name, result)
				}
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			if failed > 0 {
				fmt.Fprintf(a.stderr, "lockworker: %d of %d checks failed\n", failed, total)
				return errFailed
			}
			return nil
		},
	}
}

// checkStore checks the lock store (lockstore.Check), creating nothing.
func (a *app) checkStore(ctx context.Context, cfg config.LockStore) error {
	return lockstore.Check(ctx, cfg.Driver, cfg.DSN.Reveal(), a.storeOptions(cfg))
}

type check struct {
	name string
	run  func(context.Context) error
}

// regionChecks are the checks of one region, with the clients a pass uses.
func regionChecks(r config.Region) []check {
	desk := easit.NewDesk(easit.NewClient(r.Easit.URL, r.Easit.APIKey.Reveal()),
		r.Easit.View, r.Easit.ImportHandler, easit.Fields(r.Easit.Fields))
	forms := cosmic.NewClient(r.Forms.URL, r.Forms.Token.Reveal())
	return []check{
		{"easit ping", desk.Ping},
		{"easit view " + r.Easit.View, desk.CheckView},
		{"easit import handler " + r.Easit.ImportHandler, desk.CheckImportHandler},
		{"form service metadata", forms.Metadata},
	}
}
