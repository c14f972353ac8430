package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/lockworker/lockworker"
)

func (a *app) auditCommand() *cobra.Command {
	var (
		since          string
		filter         lockworker.AuditFilter
		outcome        string
		asJSON, reveal bool
	)
	cmd := &cobra.Command{
		Use:   "audit [--since DURATION] [--region CODE] [--ticket ID] [--outcome O] [--json]",
		Short: "Show the audit trail of decisions, newest last",
		Long: `Show the audit trail: every decision lockworker made, newest last, with the
form evidence it rested on. People appear by the pseudonym the logs use, or in
clear with --reveal. --since takes a Go duration (90m, 24h) or days (7d).`,
		Args: args(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if since != "" {
				d, err := parseSince(since)
				if err != nil {
					return usagef("--since: %v", err)
				}
				filter.Since = a.now().Add(-d)
			}
			if outcome != "" {
				filter.Outcome = lockworker.Outcome(outcome)
				// Errors are not decisions: the audit trail has none.
				if !slices.Contains(lockworker.Outcomes, filter.Outcome) || filter.Outcome == lockworker.OutcomeError {
					return usagef("--outcome %q: want one of resolved, noop, waiting, manual", outcome)
				}
			}
			ctx := cmd.Context()
			_, store, err := a.openStoreOnly(ctx, a.openReader)
			if err != nil {
				return err
			}
			defer store.Close()
			entries, err := store.Audit(ctx, filter)
			if err != nil {
				return fmt.Errorf("read the audit trail: %w", err)
			}
			if asJSON {
				return writeAuditJSON(a.stdout, entries, reveal)
			}
			return writeAudit(a.stdout, entries, reveal)
		},
	}
	f := cmd.Flags()
	f.StringVar(&since, "since", "", "only decisions made within this long (e.g. 24h, 7d)")
	f.StringVar(&filter.Region, "region", "", "only this region's decisions")
	f.StringVar(&filter.Ticket, "ticket", "", "only this ticket's decisions")
	f.StringVar(&outcome, "outcome", "", "only decisions with this outcome")
	f.BoolVar(&asJSON, "json", false, "print one JSON object a line")
	f.BoolVar(&reveal, "reveal", false, "print personnummer in clear")
	return cmd
}

// parseSince reads a Go duration, or a whole number of days ("7d").
func parseSince(s string) (time.Duration, error) {
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 {
			return 0, fmt.Errorf("%q is not a number of days", s)
		}
		return time.Duration(n) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, fmt.Errorf("%q is not a duration such as 24h or 7d", s)
	}
	return d, nil
}

func person(p lockworker.Personnummer, reveal bool) string {
	if reveal {
		return p.Reveal()
	}
	return p.Pseudonym()
}

// writeAudit prints the audit trail as a table, times in Swedish time.
func writeAudit(w io.Writer, entries []lockworker.AuditEntry, reveal bool) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "AT\tPASS\tREGION\tTICKET\tKIND\tOUTCOME\tREASON\tPERSON\tFORM\tSIGNER")
	for _, e := range entries {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			e.At.In(lockworker.Stockholm).Format(time.RFC3339), e.Pass, e.Region, e.Ticket,
			dash(string(e.Kind)), e.Outcome, dash(string(e.Reason)),
			dash(person(e.Personnummer, reveal)), dash(e.Evidence.Form), dash(e.Evidence.Signer))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	_, err := fmt.Fprintf(w, "%d decisions\n", len(entries))
	return err
}

// auditLine is one decision as `audit --json` prints it.
type auditLine struct {
	At           time.Time          `json:"at"`
	Pass         string             `json:"pass"`
	Region       string             `json:"region"`
	Ticket       string             `json:"ticket"`
	Kind         lockworker.Kind    `json:"kind"`
	Outcome      lockworker.Outcome `json:"outcome"`
	Reason       lockworker.Reason  `json:"reason"`
	Person       string             `json:"person,omitempty"`
	Personnummer string             `json:"personnummer,omitempty"`
	Form         string             `json:"form,omitempty"`
	Signer       string             `json:"signer,omitempty"`
	SignedAt     *time.Time         `json:"signed_at,omitempty"`
}

// writeAuditJSON prints one JSON object a line.
func writeAuditJSON(w io.Writer, entries []lockworker.AuditEntry, reveal bool) error {
	enc := json.NewEncoder(w)
	for _, e := range entries {
		line := auditLine{
			At: e.At.UTC(), Pass: e.Pass, Region: e.Region, Ticket: e.Ticket,
			Kind: e.Kind, Outcome: e.Outcome, Reason: e.Reason,
			Person: e.Personnummer.Pseudonym(), Form: e.Evidence.Form, Signer: e.Evidence.Signer,
		}
		if reveal {
			line.Personnummer = e.Personnummer.Reveal()
		}
		if !e.Evidence.SignedAt.IsZero() {
			signed := e.Evidence.SignedAt.UTC()
			line.SignedAt = &signed
		}
		if err := enc.Encode(line); err != nil {
			return fmt.Errorf("write the audit trail: %w", err)
		}
	}
	return nil
}
