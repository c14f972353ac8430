package main

import (
	"context"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/lockworker/lockworker/internal/safetext"

	"github.com/lockworker/lockworker/config"
)

func (a *app) checkCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "check",
		Short: "Validate the configuration and reach every region's Easit and form service",
		Long: `Validate the configuration, then reach each region's Easit GO (GET /ping, and
the order view read with the API key) and form service (GET /metadata with the
token), printing one line per region and check. The exit status is 1 if any
check fails, 2 if the configuration itself is invalid.`,
		Args: args(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
			fmt.Fprintf(tw, "configuration\t\tok\t%d regions\n", len(cfg.Regions))
			failed, total := 0, 0
			for _, r := range cfg.Regions {
				checks, err := regionChecks(cfg.Limits, r)
				if err != nil {
					return err
				}
				for _, c := range checks {
					total++
					ctx, cancel := context.WithTimeout(cmd.Context(), 15*time.Second)
					err := c.run(ctx)
					cancel()
					result := "ok"
					if err != nil {
						failed++
						// The error may quote what a peer answered.
						result = "FAILED: " + safetext.Escape(err.Error())
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

type check struct {
	name string
	run  func(context.Context) error
}

// regionChecks are the checks of one region, with the clients a pass uses.
func regionChecks(limits config.Limits, r config.Region) ([]check, error) {
	desk, forms, err := regionClients(limits, r, nil, nil)
	if err != nil {
		return nil, err
	}
	return []check{
		{"easit ping", desk.Ping},
		{"easit view " + r.Easit.View, desk.CheckView},
		{"form service metadata", forms.Metadata},
	}, nil
}
