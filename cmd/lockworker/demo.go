package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"text/tabwriter"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/lockworker/lockworker"
	"github.com/lockworker/lockworker/config"
	"github.com/lockworker/lockworker/cosmic"
	"github.com/lockworker/lockworker/cosmic/cosmictest"
	"github.com/lockworker/lockworker/easit"
	"github.com/lockworker/lockworker/easit/easittest"
	"github.com/lockworker/lockworker/lockstore"
	"github.com/lockworker/lockworker/sync"
)

func (a *app) demoCommand() *cobra.Command {
	var logLevel string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run one pass against built-in sample regions and show what happened",
		Long: `Start a built-in Easit GO and form service for two sample regions on loopback,
run one pass on a fresh embedded lock store, and print what became of each
sample order. The sample personnummer are Skatteverket's test numbers.`,
		Args: args(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			level, err := zerolog.ParseLevel(logLevel)
			if err != nil {
				return usagef("--log-level: %v", err)
			}
			return a.runDemo(cmd.Context(), newJSONLogger(a.stderr, level))
		},
	}
	cmd.Flags().StringVar(&logLevel, "log-level", "warn", "the level of the JSON logs on standard error")
	return cmd
}

// The sample regions' form types and secrets.
var (
	demoLockForm   = lockworker.Code{System: "https://fhir.region.example/CodeSystem/blankett", Code: "1177-LAS"}
	demoUnlockForm = lockworker.Code{System: "https://fhir.region.example/CodeSystem/blankett", Code: "1177-HAV"}
)

const (
	demoAPIKey = "demo-easit-key"
	demoToken  = "demo-forms-token"
)

// demoOrder is a sample order and the form that goes with it.
type demoOrder struct {
	ticket, kind, number string
	// form says what the form service holds: "signed", "missing", or
	// "other-patient" (a signed form about someone else).
	form string
	// story says what the order shows.
	story string
}

// demoRegion is a sample region with its built-in Easit and form service.
type demoRegion struct {
	code, name, org string
	orders          []demoOrder
	easit           *easittest.Server
	forms           *cosmictest.Server
}

func demoRegions() []*demoRegion {
	return []*demoRegion{
		{code: "07", name: "Region Kronoberg", org: "2321000065", orders: []demoOrder{
			{"55", "Låsa inloggning", "199908072391", "signed", "an adult's login is locked"},
			{"56", "Häva låsning", "196408233234", "signed", "a lock made by this region is lifted"},
			{"57", "Låsa inloggning", "20000101-2384", "signed", "already locked: nothing to change"},
			{"58", "Låsa inloggning", "202312312388", "signed", "a child under 13: locked, guardians' proxy suspended"},
			{"59", "Låsa inloggning", "198802292394", "missing", "the signed form is not there yet: the order waits"},
			{"60", "Låsa inloggning", "19990807-2392", "signed", "a mistyped personnummer (wrong check digit)"},
			{"61", "Låsa inloggning", "191711602399", "signed", "a samordningsnummer cannot log in to 1177"},
		}},
		{code: "12", name: "Region Skåne", org: "2321000255", orders: []demoOrder{
			{"101", "Låsa inloggning", "200802292383", "signed", "no 1177 account: a lock would not apply"},
			{"102", "Häva låsning", "200001012384", "signed", "locked at Region Kronoberg's request: only it may unlock"},
			{"103", "Låsa inloggning", "192001011564", "other-patient", "the form is about another patient"},
			{"104", "Häva låsning", "900101+9802", "signed", "not locked: nothing to change"},
		}},
	}
}

// demoHistory are the lock orders an earlier pass carried out.
var demoHistory = []struct{ ticket, number string }{
	{"41", "196408233234"},
	{"42", "200001012384"},
}

// demoAccounts are the sample people who have a 1177 account.
var demoAccounts = []string{"199908072391", "196408233234", "200001012384", "202312312388", "198802292394", "192001011564", "189001019802"}

// runDemo sets the sample regions up, runs an earlier pass for their
// history, then the sample pass, and prints what became of each order.
func (a *app) runDemo(ctx context.Context, log zerolog.Logger) error {
	dir, err := os.MkdirTemp("", "lockworker-demo-")
	if err != nil {
		return fmt.Errorf("make the demo's directory: %w", err)
	}
	defer os.RemoveAll(dir)
	store, err := lockstore.Open(ctx, "sqlite", filepath.Join(dir, "lockworker.db"), lockstore.Options{Now: a.now})
	if err != nil {
		return fmt.Errorf("open the demo's lock store: %w", err)
	}
	defer store.Close()

	now := a.now()
	var accounts []lockworker.Personnummer
	for _, n := range demoAccounts {
		p, err := lockworker.ParsePersonnummer(n, now)
		if err != nil {
			return fmt.Errorf("sample account: %w", err)
		}
		accounts = append(accounts, p)
	}
	if _, err := store.AddAccounts(ctx, accounts); err != nil {
		return fmt.Errorf("add the sample accounts: %w", err)
	}

	regions := demoRegions()
	syncer := &sync.Syncer{
		Store:  store,
		Policy: sync.Policy{ChildrenUnder13: sync.ChildLock, FormMaxAge: 2160 * time.Hour, FormWait: 72 * time.Hour},
		Log:    log,
		Now:    a.now,
	}
	for _, r := range regions {
		r.easit = easittest.NewServer(easittest.Config{APIKey: demoAPIKey, Now: a.now})
		defer r.easit.Close()
		r.forms = cosmictest.NewServer(cosmictest.Config{Token: demoToken})
		defer r.forms.Close()
		syncer.Regions = append(syncer.Regions, r.syncRegion())
	}

	if err := seedHistory(ctx, store, now); err != nil {
		return err
	}
	for _, r := range regions {
		for _, o := range r.orders {
			r.add(o, now.Add(-time.Hour))
		}
	}
	sum, err := syncer.RunOnce(ctx, sync.Options{})
	if err != nil {
		return err
	}
	return writeDemo(a.stdout, regions, sum)
}

// seedHistory records the locks that an earlier pass made two days ago at
// Region Kronoberg's request, as that pass recorded them, so that the sample
// pass has locks to lift and to find.
func seedHistory(ctx context.Context, store *lockstore.Store, now time.Time) error {
	at := now.Add(-48 * time.Hour)
	for _, o := range demoHistory {
		p, err := lockworker.ParsePersonnummer(o.number, now)
		if err != nil {
			return fmt.Errorf("sample history: %w", err)
		}
		d := lockworker.Decision{
			Pass: "earlier", At: at, Region: "07", Ticket: o.ticket,
			Kind: lockworker.KindLock, Outcome: lockworker.OutcomeResolved, Personnummer: p,
			Evidence: lockworker.Evidence{Form: "blankett-07-" + o.ticket, Signer: "SE2321000065-L" + o.ticket, SignedAt: at.Add(-time.Hour)},
			Change:   lockworker.ChangeLock,
			Status:   config.DefaultStatuses.Resolved, Comment: "Klart: inloggningen är låst.",
		}
		if err := store.Record(ctx, d); err != nil {
			return fmt.Errorf("record the sample history: %w", err)
		}
		if err := store.ConfirmSent(ctx, d.Region, d.Ticket, 1); err != nil {
			return fmt.Errorf("record the sample history: %w", err)
		}
	}
	return nil
}

// syncRegion wires a sample region's built-in servers through the real
// clients, as a configured region is wired.
func (r *demoRegion) syncRegion() sync.Region {
	client := easit.NewClient(r.easit.URL(), demoAPIKey)
	return sync.Region{
		Code: r.code, Name: r.name, OrgNumber: r.org,
		Kinds:      sync.Kinds(config.DefaultKinds),
		Statuses:   sync.Statuses(config.DefaultStatuses),
		LockForm:   demoLockForm,
		UnlockForm: demoUnlockForm,
		Tickets:    easit.NewDesk(client, "VIS-1177-las", "VIS-1177-uppdatera", easit.Fields(config.DefaultFields)),
		Forms:      cosmic.NewClient(r.forms.URL(), demoToken),
	}
}

// add registers a sample order in the region's Easit, and its form.
func (r *demoRegion) add(o demoOrder, created time.Time) {
	ref := "blankett-" + r.code + "-" + o.ticket
	r.easit.AddOrder(easittest.Order{
		Ticket: o.ticket, Status: config.DefaultStatuses.Open, Kind: o.kind, Personnummer: o.number,
		Reporter: "Dr. Demo Demosson", ReporterHSAID: "SE" + r.org + "-D" + o.ticket,
		FormRef: ref, Created: created,
	})
	if o.form == "missing" {
		return
	}
	// The form names its patient by the 12-digit number; a sample with an
	// invalid number gets a form all the same, to show which rule stops it.
	patient := o.number
	if p, err := lockworker.ParsePersonnummer(o.number, created); err == nil {
		patient = p.Reveal()
	}
	if o.form == "other-patient" {
		patient = "199908072391"
	}
	typ := demoLockForm
	if o.kind == "Häva låsning" {
		typ = demoUnlockForm
	}
	r.forms.Put(cosmictest.Document{
		ID: ref, DocStatus: "final", Type: typ, Patient: patient,
		Signer: "SE" + r.org + "-L" + o.ticket, Custodian: "SE" + r.org + "-1000",
		Date: created.Add(-30 * time.Minute),
	})
}

// writeDemo prints each sample order, what became of it, and the comment its
// ticket got.
func writeDemo(w io.Writer, regions []*demoRegion, sum sync.Summary) error {
	results := map[string]sync.Result{}
	for _, rs := range sum.Regions {
		for _, o := range rs.Orders {
			results[rs.Code+"/"+o.Ticket] = o
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "lockworker demo: two sample regions on loopback, one pass on a fresh embedded lock store.")
	fmt.Fprintln(tw, "An earlier pass locked Region Kronoberg's tickets 41 (196408233234) and 42 (200001012384).")
	for _, r := range regions {
		fmt.Fprintf(tw, "\n%s (%s)\n", r.name, r.code)
		fmt.Fprintln(tw, "  TICKET\tORDER\tPERSONNUMMER\tOUTCOME\tREASON\tSTATUS IN EASIT\tWHAT IT SHOWS")
		for _, o := range r.orders {
			res := results[r.code+"/"+o.ticket]
			fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%s\t%s\t%s\n", o.ticket, o.kind, o.number,
				dash(string(res.Outcome)), dash(string(res.Reason)), r.easit.Status(o.ticket), o.story)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w, "\nThe comments lockworker wrote on the tickets:")
	for _, r := range regions {
		for _, o := range r.orders {
			for _, c := range r.easit.Comments(o.ticket) {
				fmt.Fprintf(w, "  %s #%s: %s\n", r.code, o.ticket, c)
			}
		}
	}
	counts := sum.Counts()
	_, err := fmt.Fprintf(w, "\n%d resolved, %d noop, %d waiting, %d manual, %d error\n",
		counts[lockworker.OutcomeResolved], counts[lockworker.OutcomeNoop], counts[lockworker.OutcomeWaiting],
		counts[lockworker.OutcomeManual], counts[lockworker.OutcomeError])
	return err
}
