package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/lockworker/lockworker"
	"github.com/lockworker/lockworker/internal/safetext"
	"github.com/lockworker/lockworker/sync"
)

func (a *app) syncCommand() *cobra.Command {
	var opts sync.Options
	var (
		asJSON, reveal bool
		reason         string
	)
	cmd := &cobra.Command{
		Use:   "sync [--region CODE] [--ticket ID] [--dry-run] [--json]",
		Short: "Run one pass now: the manual re-sync",
		Long: `Run one pass now over every configured region, or one region, or one ticket.
With --dry-run it decides and prints, but changes nothing anywhere. The exit
status is 0 when every region was read and every order got an outcome other
than error, 1 otherwise, and 2 on a usage or configuration error.`,
		Args: args(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if reveal && !opts.DryRun {
				return usagef("--reveal goes with --dry-run only")
			}
			ctx := cmd.Context()
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			// A dry run changes nothing anywhere: it reads the store as it
			// is, and does not even migrate it.
			open := a.openStore
			if opts.DryRun {
				open = a.openReader
			}
			store, err := open(ctx, cfg.LockStore, cfg.Audit)
			if err != nil {
				return err
			}
			defer store.Close()
			if err := knownRegion(cfg.RegionCodes(), opts.Region); err != nil {
				return err
			}
			log, err := a.newLogger(cfg)
			if err != nil {
				return err
			}

			syncer, err := a.newSyncer(cfg, store, log, nil)
			if err != nil {
				return err
			}
			sum, err := syncer.RunOnce(ctx, opts)
			if err != nil {
				return err
			}
			if reveal {
				var people []lockworker.Personnummer
				for _, r := range sum.Regions {
					for _, o := range r.Orders {
						if !o.Personnummer.IsZero() && !slices.Contains(people, o.Personnummer) {
							people = append(people, o.Personnummer)
						}
					}
				}
				if err := a.logAccess(ctx, cfg.LockStore, cfg.Audit, "sync --dry-run --reveal", reason, people); err != nil {
					return err
				}
			}
			if asJSON {
				err = writeSummaryJSON(a.stdout, sum, reveal)
			} else {
				err = writeSummary(a.stdout, sum, reveal)
			}
			if err != nil {
				return err
			}
			if sum.MissingTicket != "" {
				fmt.Fprintf(a.stderr, "lockworker: ticket %s is not in the view of any region read\n", safetext.Escape(sum.MissingTicket))
			}
			if !sum.OK() {
				return errFailed
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&opts.Region, "region", "", "read only the region with this county code")
	f.StringVar(&opts.Ticket, "ticket", "", "handle only the ticket with this number (in every region read)")
	f.BoolVar(&opts.DryRun, "dry-run", false, "decide and print, but change nothing anywhere")
	f.BoolVar(&asJSON, "json", false, "print the pass summary as JSON")
	f.BoolVar(&reveal, "reveal", false, "with --dry-run: print personnummer in clear")
	f.StringVar(&reason, "reason", "provkörning med personnummer i klartext", "with --reveal: why, for the audit trail")
	return cmd
}

// writeSummary prints a pass as a table a region at a time. What came from
// outside (ticket numbers, errors) is printed escaped of control characters.
func writeSummary(w io.Writer, sum sync.Summary, reveal bool) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	mode := ""
	if sum.DryRun {
		mode = " (dry run: nothing was changed)"
	}
	fmt.Fprintf(tw, "pass %s, started %s%s\n", sum.Pass, lockworker.DisplayTime(sum.StartedAt), mode)
	for _, r := range sum.Regions {
		fmt.Fprintf(tw, "\nregion %s %s\n", r.Code, safetext.Escape(r.Name))
		if r.Error != "" {
			what := "could not be read"
			if len(r.Orders) > 0 {
				what = "could not be read whole (the orders below are those of the pages read before)"
			}
			fmt.Fprintf(tw, "  %s: %s\n", what, safetext.Escape(r.Error))
			if len(r.Orders) == 0 {
				continue
			}
		} else if len(r.Orders) == 0 {
			fmt.Fprintln(tw, "  no open orders")
			continue
		}
		header := "  TICKET\tKIND\tOUTCOME\tREASON\tACTION"
		if reveal {
			header += "\tPERSONNUMMER"
		}
		fmt.Fprintln(tw, header)
		for _, o := range r.Orders {
			line := fmt.Sprintf("  %s\t%s\t%s\t%s\t%s", safetext.Escape(o.Ticket), dash(string(o.Kind)), dash(string(o.Outcome)), dash(string(o.Reason)), o.Action)
			if reveal {
				line += "\t" + dash(o.Personnummer.Reveal())
			}
			fmt.Fprintln(tw, line)
			if o.Why != "" {
				fmt.Fprintf(tw, "    why: %s\n", safetext.Escape(o.Why))
			}
		}
	}
	counts := sum.Counts()
	fmt.Fprintf(tw, "\n%d resolved, %d noop, %d waiting, %d manual, %d error",
		counts["resolved"], counts["noop"], counts["waiting"], counts["manual"], counts["error"])
	if n := sum.Deferred(); n > 0 {
		fmt.Fprintf(tw, ", %d deferred to a later pass", n)
	}
	fmt.Fprintln(tw)
	return tw.Flush()
}

// writeSummaryJSON prints a pass as one JSON object; with reveal, each order
// also carries its personnummer in clear.
func writeSummaryJSON(w io.Writer, sum sync.Summary, reveal bool) error {
	type revealed struct {
		sync.Result
		Personnummer string `json:"personnummer,omitempty"`
	}
	type region struct {
		sync.RegionSummary
		Orders []revealed `json:"orders"`
	}
	out := struct {
		sync.Summary
		OK      bool     `json:"ok"`
		Regions []region `json:"regions"`
	}{Summary: sum, OK: sum.OK()}
	for _, r := range sum.Regions {
		rr := region{RegionSummary: r, Orders: []revealed{}}
		for _, o := range r.Orders {
			ro := revealed{Result: o}
			if reveal {
				ro.Personnummer = o.Personnummer.Reveal()
			}
			rr.Orders = append(rr.Orders, ro)
		}
		out.Regions = append(out.Regions, rr)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(out); err != nil {
		return fmt.Errorf("write the summary: %w", err)
	}
	return nil
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
