package main

import (
	"context"
	"fmt"
	gosync "sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/lockworker/lockworker/config"
	"github.com/lockworker/lockworker/cosmic"
	"github.com/lockworker/lockworker/easit"
	"github.com/lockworker/lockworker/internal/safetext"
	"github.com/lockworker/lockworker/lockstore"
)

// checkTimeout bounds each check, its retries included.
const checkTimeout = 15 * time.Second

func (a *app) checkCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "check",
		Short: "Validate the configuration and reach every region's Easit and form service",
		Long: `Validate the configuration, check the lock store (reachable, writable with a
write it rolls back, at this lockworker's schema version, opened by its data
key), then reach each region's Easit GO (GET /ping; the order view read with
the API key, which must have every configured column, each on one column only;
the import handler run with no item, which touches no ticket) and form service
(GET /metadata with the token), printing one line per region and check. The
regions are checked at the same time; a name that does not resolve or a
refused connection fails its check at once. The exit status is 1 if any check
fails, 2 if the configuration itself is invalid.`,
		Args: args(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			groups := make([]checkGroup, len(cfg.Regions))
			for i, r := range cfg.Regions {
				checks, err := regionChecks(cfg.Limits, r)
				if err != nil {
					return err
				}
				groups[i] = checkGroup{label: r.Code + " " + r.Name, checks: checks}
			}
			results := runChecks(cmd.Context(), groups)

			tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintf(tw, "configuration\t\tok\t%d regions\n", len(cfg.Regions))
			failed, total := 0, 1
			if err := a.checkStore(cmd.Context(), cfg.LockStore, cfg.Audit); err != nil {
				failed++
				fmt.Fprintf(tw, "lock store\t%s\tFAILED: %s\n", cfg.LockStore.Driver, err)
			} else {
				fmt.Fprintf(tw, "lock store\t%s\tok\treachable, writable, schema version %d\n", cfg.LockStore.Driver, lockstore.SchemaVersion)
			}
			for i, g := range groups {
				for j, c := range g.checks {
					total++
					result := "ok"
					if err := results[i][j]; err != nil {
						failed++
						// The error may quote what a peer answered.
						result = "FAILED: " + safetext.Escape(err.Error())
					}
					fmt.Fprintf(tw, "%s\t%s\t%s\n", g.label, c.name, result)
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
func (a *app) checkStore(ctx context.Context, cfg config.LockStore, au config.Audit) error {
	opts, err := a.storeOptions(cfg, au, false)
	if err != nil {
		return err
	}
	return lockstore.Check(ctx, cfg.Driver, cfg.DSN.Reveal(), opts)
}

// check is one check that `check` makes, named as its line names it.
type check struct {
	name string
	run  func(context.Context) error
}

// checkGroup is the checks of one region, made one after another, in order.
type checkGroup struct {
	label  string // how the group's lines begin: the region's code and name
	checks []check
}

// runChecks makes the checks of every group, the groups at the same time, so
// that a region that is slow to answer holds up no other. It returns the
// result of each check by group and check, in their order.
func runChecks(ctx context.Context, groups []checkGroup) [][]error {
	results := make([][]error, len(groups))
	var wg gosync.WaitGroup
	for i, g := range groups {
		results[i] = make([]error, len(g.checks))
		wg.Go(func() {
			for j, c := range g.checks {
				ctx, cancel := context.WithTimeout(ctx, checkTimeout)
				results[i][j] = c.run(ctx)
				cancel()
			}
		})
	}
	wg.Wait()
	return results
}

// regionChecks are the checks of one region, with the clients a pass uses
// (the same TLS and limits), but that report a server that cannot be reached
// at all at once.
func regionChecks(limits config.Limits, r config.Region) ([]check, error) {
	desk, forms, err := regionClients(limits, r, []easit.Option{easit.WithFailFast()}, []cosmic.Option{cosmic.WithFailFast()})
	if err != nil {
		return nil, err
	}
	return []check{
		{"easit ping", desk.Ping},
		{"easit view " + r.Easit.View, desk.CheckView},
		{"easit import handler " + r.Easit.ImportHandler, desk.CheckImportHandler},
		{"form service metadata", forms.Metadata},
	}, nil
}
