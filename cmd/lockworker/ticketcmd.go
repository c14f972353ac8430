package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/spf13/cobra"

	"github.com/lockworker/lockworker/service"
)

func (a *app) ticketCommand() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "ticket REGION TICKET [--json]",
		Short: "Show one ticket's whole history from the lock store",
		Long: `Show what the lock store holds of one ticket of a region: where its latest
decision stands (pending until the ticket system has confirmed its update), and
each step of its history: every decision with its comment, reporter and
HSA-id, every failed attempt to send its update and why, a claim taken over
from a process that died, and when the update was confirmed. It reads the store
only, and needs only the lockstore section of the configuration.`,
		Args: args(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			_, store, err := a.openStoreOnly(ctx, a.openReader)
			if err != nil {
				return err
			}
			defer store.Close()
			rep, err := service.ReadTicket(ctx, store, args[0], args[1])
			if errors.Is(err, service.ErrNoTicket) {
				fmt.Fprintf(a.stderr, "lockworker: %v\n", err)
				return errFailed
			}
			if err != nil {
				return fmt.Errorf("read the ticket's record: %w", err)
			}
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(rep)
			}
			return writeTicket(a.stdout, rep)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the record as JSON")
	return cmd
}

// writeTicket prints a ticket's record for a person to read. Text that came
// from outside (the reporter, the form, why Easit failed) is shown with its
// control characters escaped.
func writeTicket(w io.Writer, rep service.TicketReport) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintf(tw, "ticket %s of region %s\n", printable(rep.Ticket), rep.Region)
	if rep.Round > 0 {
		state := "confirmed " + rep.ConfirmedAt.UTC().Format(time.RFC3339)
		if rep.Pending {
			state = "PENDING: the ticket's update is not confirmed"
		}
		fmt.Fprintf(tw, "latest decision\t%s %s (round %d), %s\n", rep.Outcome, dash(string(rep.Reason)), rep.Round, state)
	}
	fmt.Fprintln(tw, "\nWHEN (UTC)\tSTEP\tWHAT")
	for _, s := range rep.History {
		at := s.At.UTC().Format(time.RFC3339)
		switch s.Event {
		case "decided":
			fmt.Fprintf(tw, "%s\tdecided\t%s %s %s, pass %s\n", at, dash(string(s.Kind)), s.Outcome, dash(string(s.Reason)), dash(s.Pass))
			fmt.Fprintf(tw, "\t\treporter %s, HSA-id %s, form %s\n", dash(printable(s.Reporter)), dash(printable(s.ReporterHSAID)), dash(printable(s.Form)))
			if s.Status != "" || s.Comment != "" {
				fmt.Fprintf(tw, "\t\tupdate: status %s, comment %s\n", printable(s.Status), strconv.Quote(s.Comment))
			}
			if s.Detail != "" {
				fmt.Fprintf(tw, "\t\t(%s)\n", s.Detail)
			}
		default:
			fmt.Fprintf(tw, "%s\t%s\t%s\n", at, s.Event, printable(s.Detail))
		}
	}
	return tw.Flush()
}

// printable is s, or s quoted with its control characters escaped when it
// holds any.
func printable(s string) string {
	if strings.ContainsFunc(s, unicode.IsControl) {
		return strconv.Quote(s)
	}
	return s
}
