package sync_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/lockworker/lockworker"
	"github.com/lockworker/lockworker/cosmic"
	"github.com/lockworker/lockworker/cosmic/cosmictest"
	"github.com/lockworker/lockworker/easit"
	"github.com/lockworker/lockworker/internal/safetext"
	"github.com/lockworker/lockworker/sync"
)

// Hostile input through the real pass: tickets and forms that no sane
// system would send. Nothing may panic, and each order gets an outcome
// with its reason.

// val is a non-null Easit value.
func val(s string) *string { return &s }

// props is an Easit item's property list, built up by a test.
type props []easit.Property

// itemOf gives the properties of the order's ticket as AddOrder makes them,
// for a test to change.
func itemOf(o order) props {
	created := o.Created.UTC().Format(time.RFC3339)
	return props{
		{Name: "Id", Content: val(o.Ticket), RawValue: val(o.Ticket)},
		{Name: "Status", Content: val(o.Status), RawValue: val("73:1")},
		{Name: "Ärendetyp", Content: val(o.Kind), RawValue: val(o.Kind)},
		{Name: "Personnummer", Content: val(o.Personnummer), RawValue: val(o.Personnummer)},
		{Name: "Anmälare", Content: val(o.Reporter), RawValue: val(o.Reporter)},
		{Name: "Anmälarens HSA-id", Content: val(o.ReporterHSAID), RawValue: val(o.ReporterHSAID)},
		{Name: "Blankettreferens", Content: val(o.FormRef), RawValue: val(o.FormRef)},
		{Name: "Skapad", Content: val(o.Created.Format("2006-01-02 15:04")), RawValue: val(created)},
	}
}

// set gives every property called name the content and rawValue given.
func (p props) set(name string, content, raw *string) props {
	out := make(props, 0, len(p))
	for _, q := range p {
		if q.Name == name {
			q.Content, q.RawValue = content, raw
		}
		out = append(out, q)
	}
	return out
}

// setContent gives the property called name the content given, its rawValue
// the same.
func (p props) setContent(name, content string) props { return p.set(name, val(content), val(content)) }

// plus adds a further property.
func (p props) plus(name string, content, raw *string) props {
	return append(p[:len(p):len(p)], easit.Property{Name: name, Content: content, RawValue: raw})
}

// without leaves out the properties called name.
func (p props) without(name string) props {
	var out props
	for _, q := range p {
		if q.Name != name {
			out = append(out, q)
		}
	}
	return out
}

// nulls makes every property null.
func (p props) nulls() props {
	out := make(props, len(p))
	for i, q := range p {
		out[i] = easit.Property{Name: q.Name}
	}
	return out
}

// noPanic checks that no order's handling panicked.
func (w *world) noPanic(sum sync.Summary) {
	w.t.Helper()
	if strings.Contains(w.logs.String(), "order handling panicked") {
		w.t.Error("an order's handling panicked")
	}
	for _, r := range sum.Regions {
		for _, o := range r.Orders {
			if o.Error == "internal error" {
				w.t.Errorf("ticket %s/%s: the internal error of a panic", r.Code, o.Ticket)
			}
		}
	}
}

func TestHostileTicketsGetTheirReason(t *testing.T) {
	t.Parallel()
	const (
		script = `<script>alert("1177")</script>`
		bold   = `<b>x</b>`
	)
	tests := []struct {
		name string
		item func(o order) props
		// outcome is "" for a ticket the pass must not act on.
		outcome lockworker.Outcome
		reason  lockworker.Reason
		// echo is what the comment must not repeat.
		echo string
	}{
		// Duplicate, conflicting and null fields.
		{"two Ärendetyp values: missing_field",
			func(o order) props { return itemOf(o).plus("Ärendetyp", val("Häva låsning"), nil) },
			lockworker.OutcomeManual, lockworker.ReasonMissingField, ""},
		{"two Ärendetyp values, the same: the one value",
			func(o order) props { return itemOf(o).plus("Ärendetyp", val(o.Kind), nil) },
			lockworker.OutcomeResolved, lockworker.ReasonNone, ""},
		{"two Blankettreferens values: missing_field",
			func(o order) props { return itemOf(o).plus("Blankettreferens", val("F-07-56"), nil) },
			lockworker.OutcomeManual, lockworker.ReasonMissingField, ""},
		{"Blankettreferens null with a rawValue: missing_field, for the content is what counts",
			func(o order) props { return itemOf(o).set("Blankettreferens", nil, val(o.FormRef)) },
			lockworker.OutcomeManual, lockworker.ReasonMissingField, ""},
		{"Personnummer null with a rawValue: missing_field",
			func(o order) props { return itemOf(o).set("Personnummer", nil, val(o.Personnummer)) },
			lockworker.OutcomeManual, lockworker.ReasonMissingField, ""},
		{"Skapad with a content but a null rawValue: missing_field, for the rawValue is what counts",
			func(o order) props { return itemOf(o).set("Skapad", val("2026-11-23 10:00"), nil) },
			lockworker.OutcomeManual, lockworker.ReasonMissingField, ""},
		{"every order field null: missing_field",
			func(o order) props {
				return append(itemOf(o)[:2:2], itemOf(o)[2:].nulls()...)
			},
			lockworker.OutcomeManual, lockworker.ReasonMissingField, ""},
		{"two Status values: the first counts",
			func(o order) props { return itemOf(o).plus("Status", val(statuses.Resolved), nil) },
			lockworker.OutcomeResolved, lockworker.ReasonNone, ""},
		{"a ticket number only as rawValue: the ticket is found by it",
			func(o order) props { return itemOf(o).set("Id", nil, val(o.Ticket)) },
			lockworker.OutcomeResolved, lockworker.ReasonNone, ""},
		{"every property null: not acted on, for it has no status",
			func(o order) props { return itemOf(o).nulls() },
			"", "", ""},
		{"no Status: not acted on",
			func(o order) props { return itemOf(o).without("Status") },
			"", "", ""},

		// Characters that look like the right ones.
		{"full-width digits in the personnummer: invalid_personnummer",
			func(o order) props {
				return itemOf(o).setContent("Personnummer", "１９９９０８０７２３９１")
			},
			lockworker.OutcomeManual, lockworker.ReasonInvalidPersonnummer, "１９９９０８０７２３９１"},
		{"Arabic-Indic digits in the personnummer: invalid_personnummer",
			func(o order) props { return itemOf(o).setContent("Personnummer", "١٩٩٩٠٨٠٧٢٣٩١") },
			lockworker.OutcomeManual, lockworker.ReasonInvalidPersonnummer, "١٩٩٩٠٨٠٧٢٣٩١"},
		{"a no-break space within the personnummer: invalid_personnummer",
			func(o order) props { return itemOf(o).setContent("Personnummer", "19990807\u00a02391") },
			lockworker.OutcomeManual, lockworker.ReasonInvalidPersonnummer, ""},
		{"no-break spaces around the personnummer: trimmed, resolved",
			func(o order) props { return itemOf(o).setContent("Personnummer", "\u00a0"+adult+"\u00a0") },
			lockworker.OutcomeResolved, lockworker.ReasonNone, ""},
		{"a combining mark added to the kind: unknown_kind",
			func(o order) props { return itemOf(o).setContent("Ärendetyp", o.Kind+"\u0301") },
			lockworker.OutcomeManual, lockworker.ReasonUnknownKind, ""},
		{"a zero-width space in the kind: unknown_kind",
			func(o order) props { return itemOf(o).setContent("Ärendetyp", "Låsa\u200b inloggning") },
			lockworker.OutcomeManual, lockworker.ReasonUnknownKind, ""},
		{"the kind in capitals: the kind, resolved",
			func(o order) props { return itemOf(o).setContent("Ärendetyp", strings.ToUpper(o.Kind)) },
			lockworker.OutcomeResolved, lockworker.ReasonNone, ""},
		{"a newline within the form reference: invalid_form_reference",
			func(o order) props { return itemOf(o).setContent("Blankettreferens", "F-07\n-55") },
			lockworker.OutcomeManual, lockworker.ReasonInvalidFormReference, ""},

		// Markup, which the comment must not carry into Easit's web pages.
		{"a script as the kind: unknown_kind, not echoed",
			func(o order) props { return itemOf(o).setContent("Ärendetyp", script) },
			lockworker.OutcomeManual, lockworker.ReasonUnknownKind, script},
		{"markup as the form reference: invalid_form_reference, not echoed",
			func(o order) props { return itemOf(o).setContent("Blankettreferens", bold) },
			lockworker.OutcomeManual, lockworker.ReasonInvalidFormReference, bold},
		{"markup around the personnummer: invalid_personnummer, not echoed",
			func(o order) props { return itemOf(o).setContent("Personnummer", "<b>"+adult+"</b>") },
			lockworker.OutcomeManual, lockworker.ReasonInvalidPersonnummer, "<b>"},
		{"markup as the reporter: resolved, not echoed",
			func(o order) props { return itemOf(o).setContent("Anmälare", script) },
			lockworker.OutcomeResolved, lockworker.ReasonNone, script},
		{"a kind of a megabyte: unknown_kind, not echoed",
			func(o order) props { return itemOf(o).setContent("Ärendetyp", strings.Repeat("Låsa ", 200_000)) },
			lockworker.OutcomeManual, lockworker.ReasonUnknownKind, "Låsa Låsa"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := setupVariant(t, ampleTime) // a page with a kind of a megabyte takes its time
			w.accounts(adult)
			o := w.lockOrder("07", "55", adult)
			w.regions["07"].forms.Put(*o.form)
			w.regions["07"].easit.AddItem(easit.Item{Properties: tt.item(o)})

			sum := w.pass()

			w.noPanic(sum)
			if tt.outcome == "" {
				if n := len(sum.Regions[0].Orders); n != 0 {
					t.Errorf("the pass acted on %d orders: %+v", n, sum.Regions[0].Orders)
				}
				if n := len(w.regions["07"].easit.Calls()); n != 1 {
					t.Errorf("%d calls to Easit, want only the read", n)
				}
				return
			}
			comment := w.expect(sum, "07", "55", tt.outcome, tt.reason)
			if strings.ContainsAny(comment, "<>") {
				t.Errorf("the comment %q holds markup", comment)
			}
			if tt.echo != "" && strings.Contains(comment, tt.echo) {
				t.Errorf("the comment %q repeats the ticket's %q", comment, tt.echo)
			}
		})
	}
}

func TestATicketWithoutANumberIsAnErrorThatHarmsNoOther(t *testing.T) {
	t.Parallel()
	w := setup(t)
	w.accounts(adult, otherAdult)
	e := w.regions["07"].easit
	for _, pnr := range []string{adult, otherAdult} {
		o := w.lockOrder("07", "", pnr)
		o.FormRef = "F-07-" + pnr[:4]
		o.form.ID = o.FormRef
		w.regions["07"].forms.Put(*o.form)
		e.AddItem(easit.Item{Properties: itemOf(o).without("Id")})
	}
	w.add("07", w.lockOrder("07", "55", luhnExample))
	w.accounts(luhnExample)

	// The first pass resolves 55; the next does not act on it again.
	for _, want := range []int{3, 2} {
		sum := w.pass()

		w.noPanic(sum)
		orders := sum.Regions[0].Orders
		if len(orders) != want {
			t.Fatalf("the pass reports %d orders, want %d: %+v", len(orders), want, orders)
		}
		// A ticket without a number cannot be updated, not even to manual
		// handling: it is an error every pass, for operations to see.
		unnumbered := 0
		for _, res := range orders {
			switch {
			case res.Ticket == "55" && res.Outcome != lockworker.OutcomeResolved:
				t.Errorf("ticket 55: %+v, want resolved", res)
			case res.Ticket == "55":
			case res.Ticket != "" || res.Outcome != lockworker.OutcomeError || res.Reason != lockworker.ReasonEasitError:
				t.Errorf("a ticket without a number: %+v, want error easit_error", res)
			default:
				unnumbered++
			}
		}
		if unnumbered != 2 {
			t.Errorf("%d errors of tickets without a number, want 2", unnumbered)
		}
		if _, locked := w.lock(adult); locked {
			t.Error("the order of a ticket without a number was carried out")
		}
		if _, found, _ := w.store.Ledger(context.Background(), "07", ""); found {
			t.Error("the ledger holds a ticket without a number")
		}
		if n := len(w.audit(lockworker.AuditFilter{Region: "07"})); n != 1 {
			t.Errorf("%d audit entries, want ticket 55's only", n)
		}
		for _, c := range e.Calls() {
			if c.Op == easit.OpImport && (len(c.Tickets) != 1 || c.Tickets[0] != "55") {
				t.Errorf("an update of tickets %q, want only 55's", c.Tickets)
			}
		}
		w.clock.Advance(2 * time.Minute)
	}
}

func TestAViewOfAThousandOrdersIsHandledWholeAndOnce(t *testing.T) {
	t.Parallel()
	n := 1000
	if raceDetector {
		n = 300 // still three pages, in a fraction of the time
	}
	w := setupVariant(t, ampleTime) // ten pages take their time on a busy machine
	people := testNumbers(t, n)
	w.accounts(people...)
	for i, pnr := range people {
		w.add("07", w.lockOrder("07", strconv.Itoa(1000+i), pnr))
	}

	sum := w.pass()

	if counts := sum.Counts(); counts[lockworker.OutcomeResolved] != n || len(sum.Regions[0].Orders) != n {
		t.Fatalf("outcomes = %v over %d orders, want %d resolved", counts, len(sum.Regions[0].Orders), n)
	}
	e := w.regions["07"].easit
	pages := 0
	for _, c := range e.Calls() {
		if c.Op == easit.OpList {
			pages++
		}
	}
	// The pass's own updates, sent while the view was read, may have taken
	// tickets out of it: its first page is read once more, which shows them
	// still there, resolved.
	if pages < n/100 || pages > n/100+1 {
		t.Errorf("%d pages read, want the %d pages of 100 and at most the first once more", pages, n/100)
	}
	for i := range n {
		ticket := strconv.Itoa(1000 + i)
		if u, c := e.Updates(ticket), len(e.Comments(ticket)); u != 1 || c != 1 {
			t.Fatalf("ticket %s: %d updates and %d comments, want 1 and 1", ticket, u, c)
		}
	}
	if locks, err := w.store.CountActiveLocks(context.Background()); err != nil || locks != int64(n) {
		t.Errorf("%d active locks (%v), want %d", locks, err, n)
	}
	entries := w.audit(lockworker.AuditFilter{})
	tickets := map[string]bool{}
	for _, a := range entries {
		tickets[a.Ticket] = true
	}
	if len(entries) != n || len(tickets) != n {
		t.Errorf("%d audit entries of %d tickets, want one entry for each of %d", len(entries), len(tickets), n)
	}

	// A further pass reads the view whole again and acts on none.
	w.clock.Advance(2 * time.Minute)
	if sum := w.pass(); len(sum.Regions[0].Orders) != 0 {
		t.Errorf("a further pass acted on %d orders", len(sum.Regions[0].Orders))
	}
	// The updates went in batches of at most 100 items, each ticket's in
	// one item only.
	imports, items := 0, 0
	for _, c := range e.Calls() {
		if c.Op == easit.OpImport {
			imports++
			items += len(c.Tickets)
			if len(c.Tickets) > 100 {
				t.Errorf("an import of %d items, want at most 100", len(c.Tickets))
			}
		}
	}
	if items != n || imports >= n {
		t.Errorf("%d imports of %d items in all, want %d items in batches", imports, items, n)
	}
}

// formDocument returns the DocumentReference the form service serves for
// ref, as JSON members for a test to change.
func (w *world) formDocument(code, ref string) map[string]any {
	w.t.Helper()
	req, err := http.NewRequestWithContext(w.t.Context(), http.MethodGet, w.regions[code].forms.URL()+"/DocumentReference/"+ref, nil)
	if err != nil {
		w.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/fhir+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	var doc map[string]any
	if err := json.NewDecoder(resp.Body).Decode(&doc); err != nil {
		w.t.Fatalf("read form %s: %v", ref, err)
	}
	return doc
}

// marshal is json.Marshal for documents that cannot fail to marshal.
func marshal(t *testing.T, v any) string {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

func TestHostileFormDocumentsGetADefinedOutcome(t *testing.T) {
	t.Parallel()
	type doc = map[string]any
	// with sets a member of the document and marshals it.
	with := func(name string, v any) func(*testing.T, doc) string {
		return func(t *testing.T, d doc) string {
			d[name] = v
			return marshal(t, d)
		}
	}
	// raw gives a body whatever the document.
	raw := func(body string) func(*testing.T, doc) string {
		return func(*testing.T, doc) string { return body }
	}
	// replace replaces old in the marshalled document; it must be there.
	replace := func(old, new string) func(*testing.T, doc) string {
		return func(t *testing.T, d doc) string {
			body := marshal(t, d)
			if !strings.Contains(body, old) {
				t.Fatalf("the document holds no %s: %s", old, body)
			}
			return strings.Replace(body, old, new, 1)
		}
	}
	// nested gives the document an extension nested depth deep, which
	// json.Marshal would refuse to write beyond 10,000.
	nested := func(depth int) func(*testing.T, doc) string {
		return func(t *testing.T, d doc) string {
			return `{"extension":` + strings.Repeat("[", depth) + strings.Repeat("]", depth) + "," + marshal(t, d)[1:]
		}
	}
	identifier := func(pnr string) doc {
		return doc{"system": "http://electronichealth.se/identifier/personnummer", "value": pnr}
	}
	huge := strings.Repeat("x", 4<<20)

	tests := []struct {
		name    string
		body    func(*testing.T, doc) string
		outcome lockworker.Outcome
		reason  lockworker.Reason
	}{
		// What cannot be read as the form asked for is the form service's
		// failure, retried next pass: error.
		{"not JSON: error", raw(`<html><body><h1>502 Bad Gateway</h1></body></html>`), lockworker.OutcomeError, lockworker.ReasonFormsError},
		{"an empty body: error", raw(""), lockworker.OutcomeError, lockworker.ReasonFormsError},
		{"JSON null: error", raw(`null`), lockworker.OutcomeError, lockworker.ReasonFormsError},
		{"a JSON array holding the document: error", func(t *testing.T, d doc) string { return marshal(t, []doc{d}) }, lockworker.OutcomeError, lockworker.ReasonFormsError},
		{"a Patient: error, the wrong resourceType", with("resourceType", "Patient"), lockworker.OutcomeError, lockworker.ReasonFormsError},
		{"an OperationOutcome answered 200: error", raw(`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"exception"}]}`), lockworker.OutcomeError, lockworker.ReasonFormsError},
		{"another document's id: error", with("id", "F-07-56"), lockworker.OutcomeError, lockworker.ReasonFormsError},
		{"no id: error", func(t *testing.T, d doc) string { delete(d, "id"); return marshal(t, d) }, lockworker.OutcomeError, lockworker.ReasonFormsError},
		{"docStatus a number: error", with("docStatus", 1), lockworker.OutcomeError, lockworker.ReasonFormsError},
		{"docStatus an object: error", with("docStatus", doc{"code": "final"}), lockworker.OutcomeError, lockworker.ReasonFormsError},
		{"status a boolean: error", with("status", true), lockworker.OutcomeError, lockworker.ReasonFormsError},
		{"a subject with a list of two identifiers: error, FHIR allows one",
			with("subject", doc{"identifier": []doc{identifier(adult), identifier(otherAdult)}}), lockworker.OutcomeError, lockworker.ReasonFormsError},
		{"a subject naming its identifier twice: error, not the last one read",
			replace(`"subject":{`, `"subject":{"identifier":{"system":"http://electronichealth.se/identifier/personnummer","value":"`+otherAdult+`"},`),
			lockworker.OutcomeError, lockworker.ReasonFormsError},
		{`"status" twice, withdrawn and then current: error, not the last one read`,
			replace(`"status":"current"`, `"status":"entered-in-error","status":"current"`), lockworker.OutcomeError, lockworker.ReasonFormsError},
		{`"Status" beside "status": error`,
			replace(`"status":"current"`, `"status":"entered-in-error","Status":"current"`), lockworker.OutcomeError, lockworker.ReasonFormsError},
		{`"STATUS" for "status": error`, replace(`"status":"current"`, `"STATUS":"current"`), lockworker.OutcomeError, lockworker.ReasonFormsError},
		{"a resourceType of 4 MB: error", with("resourceType", huge), lockworker.OutcomeError, lockworker.ReasonFormsError},
		{"an answer over 16 MB: error", with("text", doc{"div": strings.Repeat(huge, 5)}), lockworker.OutcomeError, lockworker.ReasonFormsError},
		{"an extension nested 100 deep: error", nested(100), lockworker.OutcomeError, lockworker.ReasonFormsError},
		{"an extension nested 100,000 deep: error", nested(100_000), lockworker.OutcomeError, lockworker.ReasonFormsError},
		{"a patient the form service does not have: error, not a mismatch",
			with("subject", doc{"reference": "Patient/4711"}), lockworker.OutcomeError, lockworker.ReasonFormsError},
		{"a signer at another host: error, not read",
			with("authenticator", doc{"reference": "https://fhir.elsewhere.example/Practitioner/1"}), lockworker.OutcomeError, lockworker.ReasonFormsError},

		// A readable form that does not prove the order: manual at once.
		{"a date without a zone an hour ahead in Swedish time: manual form_date_invalid", with("date", "2026-11-23T12:00:00"), lockworker.OutcomeManual, lockworker.ReasonFormDateInvalid},
		{"a date without a time: manual form_date_invalid", with("date", "2026-11-23"), lockworker.OutcomeManual, lockworker.ReasonFormDateInvalid},
		{"a date in the year 9999: manual form_date_invalid", with("date", "9999-12-31T23:59:59Z"), lockworker.OutcomeManual, lockworker.ReasonFormDateInvalid},
		{"a date in 1900: manual form_too_old", with("date", "1900-01-01T00:00:00+01:00"), lockworker.OutcomeManual, lockworker.ReasonFormTooOld},
		{"a date in the year 1, which is no date to Go: manual form_date_invalid", with("date", "0001-01-01T00:00:00Z"), lockworker.OutcomeManual, lockworker.ReasonFormDateInvalid},
		{"another patient written in the 10-digit form: manual form_patient_mismatch",
			with("subject", doc{"identifier": identifier(otherAdult[2:])}), lockworker.OutcomeManual, lockworker.ReasonFormPatientMismatch},
		{"a patient identifier that is no personnummer: manual form_patient_mismatch",
			with("subject", doc{"identifier": identifier("19990807-239")}), lockworker.OutcomeManual, lockworker.ReasonFormPatientMismatch},

		// A form that does not say it is signed: waiting for the signature.
		{`docStatus "FINAL": waiting form_unsigned, FHIR's codes are case-sensitive`, with("docStatus", "FINAL"), lockworker.OutcomeWaiting, lockworker.ReasonFormUnsigned},
		{"a docStatus of 4 MB: waiting form_unsigned", with("docStatus", huge), lockworker.OutcomeWaiting, lockworker.ReasonFormUnsigned},
		{"an authenticator that is no HSA-id: waiting form_unsigned",
			with("authenticator", doc{"identifier": doc{"system": "urn:oid:1.2.752.29.4.19", "value": "<b>Doktor</b>"}}), lockworker.OutcomeWaiting, lockworker.ReasonFormUnsigned},

		// A date written as FHIR allows, or as forms are written.
		{"a date without a zone, in Swedish time: resolved", with("date", "2026-11-23T10:30"), lockworker.OutcomeResolved, lockworker.ReasonNone},
		{"the patient in the 10-digit form: resolved", with("subject", doc{"identifier": identifier(adult[2:])}), lockworker.OutcomeResolved, lockworker.ReasonNone},

		// What the rules do not read does not matter.
		{"an attachment title of 4 MB: resolved", with("content", []doc{{"attachment": doc{"title": huge}}}), lockworker.OutcomeResolved, lockworker.ReasonNone},
		{"unknown members and markup in the narrative: resolved",
			func(t *testing.T, d doc) string {
				d["text"] = doc{"status": "generated", "div": `<div><script>alert(1)</script></div>`}
				d["extension"] = []doc{{"url": "https://fhir.region.example/x", "valueString": "y"}}
				d["implicitRules"] = "https://example.org/rules"
				return marshal(t, d)
			}, lockworker.OutcomeResolved, lockworker.ReasonNone},
	}
	// The subtests read documents of up to 20 MB, or nested 100,000 deep,
	// all at once: on a busy machine that can take longer than the world's
	// read budget of 1s. The budget here is ample, so that each outcome
	// comes from what the form service said and never from the clock.
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := setupVariant(t, ampleTime)
			o := w.place("07", "55", adult)
			forms := w.regions["07"].forms
			body := []byte(tt.body(t, w.formDocument("07", "F-07-55")))
			if len(body) == 0 {
				// PutRaw takes an empty body for a deleted form: a fault
				// answers 200 with nothing instead.
				forms.SetFault(func(cosmictest.Call) *cosmictest.Fault {
					return &cosmictest.Fault{Status: http.StatusOK, Body: body}
				})
			}
			forms.PutRaw("F-07-55", body)

			sum := w.pass()

			w.noPanic(sum)
			if len(w.logs.String()) > 64<<10 {
				t.Errorf("the pass logged %d bytes: what the form service said is not cut short", len(w.logs.String()))
			}
			if tt.outcome != lockworker.OutcomeError {
				w.expect(sum, "07", "55", tt.outcome, tt.reason)
				return
			}
			expectResults(t, sum, lockworker.OutcomeError, lockworker.ReasonFormsError, sync.ActionNone, o)
			w.expectState(untouched, o)
			if strings.Contains(w.logs.String(), "read budget") {
				t.Errorf("the form read ran out of time, so the error does not come from the document")
			}
		})
	}
}

// Ticket numbers that would steer a terminal, forge a row of a table, fill
// a screen or fail a PostgreSQL statement go to manual handling with their
// own reason, on both databases; the ticket is updated by the number Easit
// gave, and the store and the summary know it by a key that is safe to show.
func TestHostileTicketNumbersGoToManualHandling(t *testing.T) {
	t.Parallel()
	hostile := map[string]string{
		"escape sequences": "\x1b[2J\x1b]0;owned\x0755",
		"a forged row":     "56\n  57  lock  resolved  -  decided",
		"100 KB":           strings.Repeat("5", 100<<10),
		"a NUL byte":       "58\x00",
		"a bidi override":  "59\u202e",
	}
	for _, db := range []string{"sqlite", "postgres"} {
		t.Run(db, func(t *testing.T) {
			t.Parallel()
			w := setupVariant(t, variant{postgres: db == "postgres"})
			numbers := testNumbers(t, len(hostile)+1)
			w.accounts(numbers...)
			e := w.regions["07"].easit
			i := 0
			for _, id := range hostile {
				o := w.lockOrder("07", "x", numbers[i])
				o.FormRef = fmt.Sprintf("F-07-%d", i)
				o.form.ID = o.FormRef
				w.regions["07"].forms.Put(*o.form)
				e.AddItem(easit.Item{ID: fmt.Sprintf("13:%d", i), Properties: itemOf(o).setContent("Id", id)})
				i++
			}
			w.add("07", w.lockOrder("07", "55", numbers[i]))

			sum := w.pass()

			w.noPanic(sum)
			w.expect(sum, "07", "55", lockworker.OutcomeResolved, lockworker.ReasonNone)
			for what, id := range hostile {
				key := lockworker.TicketKey(id)
				if !safetext.Clean(key) || len(key) > 200 {
					t.Errorf("%s: key %q is not safe to show", what, key)
				}
				if res := result(t, sum, "07", key); res.Outcome != lockworker.OutcomeManual || res.Reason != lockworker.ReasonInvalidTicketID {
					t.Errorf("%s: %s %s, want manual invalid_ticket_id", what, res.Outcome, res.Reason)
				}
				if got := e.Status(id); got != statuses.Manual {
					t.Errorf("%s: the ticket's status is %q, want %q", what, got, statuses.Manual)
				}
				if c := e.Comments(id); len(c) != 1 || !strings.Contains(c[0], string(lockworker.ReasonInvalidTicketID)) {
					t.Errorf("%s: comments %q, want one naming invalid_ticket_id", what, c)
				}
				if n := len(w.audit(lockworker.AuditFilter{Ticket: key})); n != 1 {
					t.Errorf("%s: %d audit entries, want 1", what, n)
				}
			}
			for _, n := range numbers {
				if _, locked := w.lock(n); locked && n != numbers[len(numbers)-1] {
					t.Error("the order of a ticket with an invalid number was carried out")
				}
			}

			// The next pass leaves them be: they are in manual handling.
			w.clock.Advance(2 * time.Minute)
			sum = w.pass()
			for _, o := range sum.Regions[0].Orders {
				if o.Action != sync.ActionNone || o.Outcome == lockworker.OutcomeError {
					t.Errorf("the second pass: %+v", o)
				}
			}
		})
	}
}

// A form service that redirects to another host, which serves a form that
// would prove the order, has its redirect taken as a failure: the form is
// never read there, the token never sent there, and nothing is locked.
func TestAFormServiceThatRedirectsElsewhereLocksNobody(t *testing.T) {
	t.Parallel()
	w := setup(t)
	w.accounts(adult)
	w.add("07", w.lockOrder("07", "55", adult))
	elsewhere := w.regions["07"].forms // holds the form that proves the order
	redirect := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		http.Redirect(rw, r, elsewhere.URL()+strings.TrimPrefix(r.URL.Path, "/fhir"), http.StatusFound)
	}))
	t.Cleanup(redirect.Close)
	w.syncer.Regions[0].Forms = cosmic.NewClient(redirect.URL+"/fhir", token,
		cosmic.WithRetryWait(time.Millisecond, 5*time.Millisecond), cosmic.WithReadBudget(time.Second))

	sum := w.pass()

	if res := result(t, sum, "07", "55"); res.Outcome != lockworker.OutcomeError || res.Reason != lockworker.ReasonFormsError {
		t.Errorf("ticket 55: %s %s (%s), want error forms_error", res.Outcome, res.Reason, res.Error)
	}
	if _, locked := w.lock(adult); locked {
		t.Error("the form behind the redirect was accepted: the person is locked")
	}
	if n := len(elsewhere.Calls()); n != 0 {
		t.Errorf("the host redirected to got %d requests, want none", n)
	}
}
