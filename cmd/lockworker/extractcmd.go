package main

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/lockworker/lockworker"
)

func (a *app) auditExtractCommand() *cobra.Command {
	var (
		asJSON   bool
		htmlFile string
		reason   string
	)
	cmd := &cobra.Command{
		Use:   "extract PERSONNUMMER [--json] [--html FILE]",
		Short: "A resident's extract of the audit trail, in Swedish",
		Long: `Print, in Swedish, every decision lockworker made about the person (date,
region, order, outcome, reason, the form and its signer) and every access to
their data (who, when, why): as text, as JSON (--json) or as a printable HTML
page (--html FILE). The extract is itself entered in the audit trail as an
access to the person's data, before it is shown.`,
		Args: args(1),
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
			entries, err := store.PersonTrail(ctx, pnr)
			if err != nil {
				return err
			}
			if err := a.logAccess(ctx, cfg.LockStore, cfg.Audit, "audit extract", reason, []lockworker.Personnummer{pnr}); err != nil {
				return err
			}
			ex := newExtract(pnr, entries, cfg.Regions, a.now())
			switch {
			case htmlFile != "":
				return writeFileWith(htmlFile, func(w io.Writer) error { return extractPage.Execute(w, ex) })
			case asJSON:
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(ex)
			default:
				return writeExtract(a.stdout, ex)
			}
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the extract as JSON")
	cmd.Flags().StringVar(&htmlFile, "html", "", "write the extract as a printable HTML page to FILE")
	cmd.Flags().StringVar(&reason, "reason", "invånarens begäran om loggutdrag", "why the extract is made, for the audit trail")
	return cmd
}

// extract is a resident's extract, in the words it is printed with.
type extract struct {
	Personnummer string            `json:"personnummer"`
	Made         string            `json:"upprättat"`
	Decisions    []extractDecision `json:"beslut"`
	Accesses     []extractAccess   `json:"åtkomster"`
}

type extractDecision struct {
	Date     string `json:"datum"`
	Region   string `json:"region"`
	Order    string `json:"ärende"`
	Kind     string `json:"beställning"`
	Outcome  string `json:"utfall"`
	Reason   string `json:"orsak,omitempty"`
	Form     string `json:"blankett,omitempty"`
	Signer   string `json:"signerad_av,omitempty"`
	SignedAt string `json:"signerad,omitempty"`
}

type extractAccess struct {
	When    string `json:"när"`
	Who     string `json:"vem"`
	Why     string `json:"varför"`
	Command string `json:"hur"`
}

// extractTime is how the extract gives a time: Swedish local time.
func extractTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(lockworker.Stockholm).Format("2006-01-02 15:04")
}

func newExtract(pn lockworker.Personnummer, entries []lockworker.AuditEntry, regions map[string]string, now time.Time) extract {
	ex := extract{Personnummer: pn.Reveal(), Made: extractTime(now), Decisions: []extractDecision{}, Accesses: []extractAccess{}}
	for _, e := range entries {
		if e.Category != lockworker.AuditDecision {
			ex.Accesses = append(ex.Accesses, extractAccess{
				When: extractTime(e.At), Who: printable(e.Actor), Why: printable(e.Purpose), Command: "lockworker " + string(e.Kind),
			})
			continue
		}
		region := e.Region
		if name, ok := regions[e.Region]; ok {
			region = name + " (" + e.Region + ")"
		}
		ex.Decisions = append(ex.Decisions, extractDecision{
			Date: extractTime(e.At), Region: region, Order: printable(e.Ticket),
			Kind: swedishKind[e.Kind], Outcome: swedishOutcome[e.Outcome], Reason: swedishReason(e.Reason),
			Form: printable(e.Evidence.Form), Signer: printable(e.Evidence.Signer), SignedAt: extractTime(e.Evidence.SignedAt),
		})
	}
	return ex
}

var swedishKind = map[lockworker.Kind]string{
	lockworker.KindLock:   "låsning av inloggningen",
	lockworker.KindUnlock: "hävning av låsningen",
	"":                    "okänd",
}

var swedishOutcome = map[lockworker.Outcome]string{
	lockworker.OutcomeResolved: "genomförd",
	lockworker.OutcomeNoop:     "ingen ändring behövdes",
	lockworker.OutcomeWaiting:  "väntar på signerad blankett",
	lockworker.OutcomeManual:   "lämnad till manuell handläggning",
}

// swedishReasons say in Swedish why an order went to manual handling.
var swedishReasons = map[lockworker.Reason]string{
	lockworker.ReasonMissingField:         "beställningen saknade en uppgift",
	lockworker.ReasonUnknownKind:          "okänd typ av beställning",
	lockworker.ReasonInvalidFormReference: "ogiltig blankettreferens",
	lockworker.ReasonInvalidPersonnummer:  "ogiltigt personnummer",
	lockworker.ReasonSamordningsnummer:    "samordningsnummer",
	lockworker.ReasonNoAccount:            "inget konto i 1177",
	lockworker.ReasonChildPolicy:          "barn under 13 år",
	lockworker.ReasonFormMissing:          "blanketten fanns inte",
	lockworker.ReasonFormWithdrawn:        "blanketten var återkallad",
	lockworker.ReasonFormTypeMismatch:     "fel sorts blankett",
	lockworker.ReasonFormPatientMismatch:  "blanketten gällde en annan person",
	lockworker.ReasonFormRegionMismatch:   "blanketten var från en annan region",
	lockworker.ReasonFormDateInvalid:      "blankettens datum var ogiltigt",
	lockworker.ReasonFormTooOld:           "blanketten var för gammal",
	lockworker.ReasonFormUnsigned:         "blanketten var inte signerad",
	lockworker.ReasonUnlockWrongRegion:    "låsningen gjordes av en annan region",
}

func swedishReason(r lockworker.Reason) string {
	if s, ok := swedishReasons[r]; ok {
		return s
	}
	return string(r)
}

// writeExtract prints the extract as text.
func writeExtract(w io.Writer, ex extract) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Loggutdrag ur lockworker för personnummer %s, upprättat %s\n\n", ex.Personnummer, ex.Made)
	fmt.Fprintf(&b, "Beslut om låsning av inloggningen till 1177 (%d)\n", len(ex.Decisions))
	for _, d := range ex.Decisions {
		fmt.Fprintf(&b, "- %s  %s, ärende %s: %s, %s", d.Date, d.Region, d.Order, d.Kind, d.Outcome)
		if d.Reason != "" {
			fmt.Fprintf(&b, " (%s)", d.Reason)
		}
		if d.Form != "" {
			fmt.Fprintf(&b, "; blankett %s", d.Form)
		}
		if d.Signer != "" {
			fmt.Fprintf(&b, ", signerad av %s %s", d.Signer, d.SignedAt)
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "\nÅtkomster till uppgifterna (%d)\n", len(ex.Accesses))
	for _, x := range ex.Accesses {
		fmt.Fprintf(&b, "- %s  %s, %s: %s\n", x.When, x.Who, x.Command, x.Why)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// writeFileWith writes a new file, readable by its owner alone (it holds a
// personnummer), with write.
func writeFileWith(path string, write func(io.Writer) error) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// extractPage is the printable HTML extract.
var extractPage = template.Must(template.New("extract").Parse(`<!DOCTYPE html>
<html lang="sv">
<head>
<meta charset="utf-8">
<title>Loggutdrag för {{.Personnummer}}</title>
<style>
body { font-family: sans-serif; margin: 2em; }
table { border-collapse: collapse; width: 100%; margin-bottom: 2em; }
th, td { border: 1px solid #888; padding: 0.3em 0.5em; text-align: left; vertical-align: top; }
@media print { body { margin: 0; } }
</style>
</head>
<body>
<h1>Loggutdrag ur lockworker</h1>
<p>Personnummer {{.Personnummer}}. Upprättat {{.Made}}.</p>
<h2>Beslut om låsning av inloggningen till 1177</h2>
{{if .Decisions}}<table>
<tr><th>Datum</th><th>Region</th><th>Ärende</th><th>Beställning</th><th>Utfall</th><th>Orsak</th><th>Blankett</th><th>Signerad av</th><th>Signerad</th></tr>
{{range .Decisions}}<tr><td>{{.Date}}</td><td>{{.Region}}</td><td>{{.Order}}</td><td>{{.Kind}}</td><td>{{.Outcome}}</td><td>{{.Reason}}</td><td>{{.Form}}</td><td>{{.Signer}}</td><td>{{.SignedAt}}</td></tr>
{{end}}</table>{{else}}<p>Inga beslut.</p>{{end}}
<h2>Åtkomster till uppgifterna</h2>
{{if .Accesses}}<table>
<tr><th>När</th><th>Vem</th><th>Hur</th><th>Varför</th></tr>
{{range .Accesses}}<tr><td>{{.When}}</td><td>{{.Who}}</td><td>{{.Command}}</td><td>{{.Why}}</td></tr>
{{end}}</table>{{else}}<p>Inga åtkomster.</p>{{end}}
</body>
</html>
`))
