package sync_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lockworker/lockworker"
	"github.com/lockworker/lockworker/cosmic"
	"github.com/lockworker/lockworker/cosmic/cosmictest"
)

// The forms in testdata/forms are written in the shapes that form services
// send: the parties as identifiers, logical references, contained resources
// and resources of the service, and the dates as FHIR and Inera write them.
// Each is proved here through a real pass.

// putForm serves testdata/forms/name in the region's form service as the
// form of ticket's order, with FORM-ID made its id and each old, new pair
// of replace replaced.
func (w *world) putForm(code, ticket, name string, replace ...string) {
	w.t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", "forms", name))
	if err != nil {
		w.t.Fatal(err)
	}
	replace = append([]string{`"FORM-ID"`, `"F-` + code + `-` + ticket + `"`}, replace...)
	w.regions[code].forms.PutRaw("F-"+code+"-"+ticket, []byte(strings.NewReplacer(replace...).Replace(string(body))))
}

// placeOrder registers a lock order of ticket for the person in the region's
// Easit, without its form.
func (w *world) placeOrder(code, ticket, pnr string) {
	o := w.lockOrder(code, ticket, pnr)
	o.form = nil
	w.add(code, o)
}

// hsaIdentifier is the HSA-id value as a resource's identifier.
func hsaIdentifier(value string) []cosmictest.Identifier {
	return []cosmictest.Identifier{{System: cosmictest.HSAIDSystem, Value: value}}
}

// kronobergOrganization is Region Kronoberg as an Organization resource.
var kronobergOrganization = cosmictest.Resource{
	Type: "Organization", ID: "vg-kronoberg", Name: "Region Kronoberg",
	Identifiers: []cosmictest.Identifier{
		{System: "urn:oid:2.5.4.97", Value: "2321000065"},
		{System: cosmictest.HSAIDSystem, Value: "SE2321000065-1000"},
	},
}

// formReads returns the paths the region's form service was asked for.
func (w *world) formReads(code string) []string {
	var paths []string
	for _, c := range w.regions[code].forms.Calls() {
		paths = append(paths, c.Resource)
	}
	return paths
}

func TestAContainedSignerSigns(t *testing.T) {
	t.Parallel()
	w := setup(t)
	w.accounts(adult)
	w.placeOrder("07", "70", adult)
	w.putForm("07", "70", "contained-signer.json")

	sum := w.pass()

	w.expect(sum, "07", "70", lockworker.OutcomeResolved, lockworker.ReasonNone)
	if a := w.audit(lockworker.AuditFilter{Ticket: "70"})[0]; a.Evidence.Signer != "SE2321000065-L70" {
		t.Errorf("the evidence names the signer %q, want the contained PractitionerRole's HSA-id", a.Evidence.Signer)
	}
	if got := w.formReads("07"); !slices.Equal(got, []string{"DocumentReference/F-07-70"}) {
		t.Errorf("the form service was asked for %q, want the form alone", got)
	}
}

func TestAReferencedCustodianIsReadFromTheFormService(t *testing.T) {
	t.Parallel()
	skane := kronobergOrganization
	skane.Identifiers = hsaIdentifier("SE2321000255-1000")
	tests := []struct {
		name         string
		organization *cosmictest.Resource // nil: the service does not have it
		outcome      lockworker.Outcome
		reason       lockworker.Reason
	}{
		{"the ordering region's: resolved", &kronobergOrganization, lockworker.OutcomeResolved, lockworker.ReasonNone},
		{"another region's: manual form_region_mismatch", &skane, lockworker.OutcomeManual, lockworker.ReasonFormRegionMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := setup(t)
			w.accounts(adult)
			w.placeOrder("07", "71", adult)
			w.putForm("07", "71", "referenced-custodian.json")
			w.regions["07"].forms.PutResource(*tt.organization)

			w.expect(w.pass(), "07", "71", tt.outcome, tt.reason)
			want := []string{"DocumentReference/F-07-71", "Organization/vg-kronoberg"}
			if got := w.formReads("07"); !slices.Equal(got, want) {
				t.Errorf("the form service was asked for %q, want %q", got, want)
			}
		})
	}
}

func TestACustodianThatCannotBeReadIsRetriedNotAMismatch(t *testing.T) {
	t.Parallel()
	w := setup(t)
	w.accounts(adult)
	w.placeOrder("07", "71", adult)
	w.putForm("07", "71", "referenced-custodian.json")

	res := result(t, w.pass(), "07", "71")

	if res.Outcome != lockworker.OutcomeError || res.Reason != lockworker.ReasonFormsError {
		t.Fatalf("with the custodian missing: %s %s, want error forms_error", res.Outcome, res.Reason)
	}
	e := w.regions["07"].easit
	if e.Status("71") != statuses.Open || len(e.Comments("71")) != 0 || len(w.audit(lockworker.AuditFilter{Ticket: "71"})) != 0 {
		t.Fatalf("an error changed the ticket or the audit trail: %q %q", e.Status("71"), e.Comments("71"))
	}

	w.regions["07"].forms.PutResource(kronobergOrganization)
	w.clock.Advance(2 * time.Minute)
	w.expect(w.pass(), "07", "71", lockworker.OutcomeResolved, lockworker.ReasonNone)
}

func TestALogicalSubjectIsComparedInItsTwelveDigitForm(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		order   string // the personnummer in the ticket
		outcome lockworker.Outcome
		reason  lockworker.Reason
	}{
		{"the same person written 12 digits with a hyphen: resolved", "196101182803", lockworker.OutcomeResolved, lockworker.ReasonNone},
		{"the same person written 10 digits in the ticket: resolved", "610118-2803", lockworker.OutcomeResolved, lockworker.ReasonNone},
		{"another person: manual form_patient_mismatch", adult, lockworker.OutcomeManual, lockworker.ReasonFormPatientMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := setup(t)
			w.accounts(tt.order)
			w.placeOrder("07", "72", tt.order)
			w.putForm("07", "72", "logical-subject.json")

			w.expect(w.pass(), "07", "72", tt.outcome, tt.reason)
		})
	}
}

func TestAFormWhosePartiesAreAllReferencedIsReadInAFewReads(t *testing.T) {
	t.Parallel()
	w := setup(t)
	w.accounts("196101182803")
	w.placeOrder("07", "73", "196101182803")
	w.putForm("07", "73", "all-referenced.json", `"DATE"`, `"2026-11-23T09:30:00+01:00"`)
	forms := w.regions["07"].forms
	forms.PutResource(cosmictest.Resource{Type: "Patient", ID: "pat-1", Name: "Tolvan Tolvansson", Identifiers: []cosmictest.Identifier{
		{Use: "old", System: cosmictest.PersonnummerSystem, Value: "200001012384"},
		{Use: "official", System: "urn:oid:1.2.752.129.2.1.3.1", Value: "19610118-2803"},
		{System: cosmictest.PersonnummerSystem, Value: "196101182803"}, // the same number, written otherwise
	}})
	forms.PutResource(cosmictest.Resource{Type: "PractitionerRole", ID: "role-1", Identifiers: hsaIdentifier("SE2321000065-L73")})
	forms.PutResource(kronobergOrganization)

	w.expect(w.pass(), "07", "73", lockworker.OutcomeResolved, lockworker.ReasonNone)
	want := []string{"DocumentReference/F-07-73", "Patient/pat-1", "PractitionerRole/role-1", "Organization/vg-kronoberg"}
	if got := w.formReads("07"); !slices.Equal(got, want) {
		t.Errorf("the form service was asked for %q, want %q", got, want)
	}
}

func TestTheDateFormsOfAForm(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		date    string
		outcome lockworker.Outcome
		reason  lockworker.Reason
		signed  time.Time
	}{
		{"to the minute without a zone, as Inera writes it: Swedish time, resolved", "2026-11-23T09:30", lockworker.OutcomeResolved, lockworker.ReasonNone,
			time.Date(2026, 11, 23, 8, 30, 0, 0, time.UTC)},
		{"to the second without a zone: Swedish time, resolved", "2026-11-23T09:30:15", lockworker.OutcomeResolved, lockworker.ReasonNone,
			time.Date(2026, 11, 23, 8, 30, 15, 0, time.UTC)},
		{"to the minute in UTC: resolved", "2026-11-23T08:30Z", lockworker.OutcomeResolved, lockworker.ReasonNone,
			time.Date(2026, 11, 23, 8, 30, 0, 0, time.UTC)},
		{"to the second with a fraction and an offset: resolved", "2026-11-23T09:30:15.250+01:00", lockworker.OutcomeResolved, lockworker.ReasonNone,
			time.Date(2026, 11, 23, 8, 30, 15, 25e7, time.UTC)},
		{"without a zone, later today in Swedish time: manual form_date_invalid", "2026-11-23T12:00", lockworker.OutcomeManual, lockworker.ReasonFormDateInvalid, time.Time{}},
		{"a date without a time: manual form_date_invalid", "2026-11-23", lockworker.OutcomeManual, lockworker.ReasonFormDateInvalid, time.Time{}},
		{"a year and a month: manual form_date_invalid", "2026-11", lockworker.OutcomeManual, lockworker.ReasonFormDateInvalid, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := setup(t)
			w.accounts("196101182803")
			w.placeOrder("07", "74", "196101182803")
			w.putForm("07", "74", "all-referenced.json", `"DATE"`, `"`+tt.date+`"`)
			forms := w.regions["07"].forms
			forms.PutResource(cosmictest.Resource{Type: "Patient", ID: "pat-1", Identifiers: []cosmictest.Identifier{{System: cosmictest.PersonnummerSystem, Value: "196101182803"}}})
			forms.PutResource(cosmictest.Resource{Type: "PractitionerRole", ID: "role-1", Identifiers: hsaIdentifier("SE2321000065-L74")})
			forms.PutResource(kronobergOrganization)

			w.expect(w.pass(), "07", "74", tt.outcome, tt.reason)
			if a := w.audit(lockworker.AuditFilter{Ticket: "74"})[0]; !tt.signed.IsZero() && !a.Evidence.SignedAt.Equal(tt.signed) {
				t.Errorf("the evidence says signed at %v, want %v", a.Evidence.SignedAt, tt.signed)
			}
		})
	}
}

func TestTheSigningTimeFromAnExtension(t *testing.T) {
	t.Parallel()
	const url = "https://fhir.region.example/StructureDefinition/signeringstid"
	tests := []struct {
		name      string
		extension string // the region's forms.signing_time_extension
		outcome   lockworker.Outcome
		reason    lockworker.Reason
	}{
		{"configured: the extension's time, resolved", url, lockworker.OutcomeResolved, lockworker.ReasonNone},
		{"not configured: the date alone, manual form_date_invalid", "", lockworker.OutcomeManual, lockworker.ReasonFormDateInvalid},
		{"another extension configured: none, manual form_date_invalid", url + "-annan", lockworker.OutcomeManual, lockworker.ReasonFormDateInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := setupVariant(t, variant{formsOptions: []cosmic.Option{cosmic.WithSigningTimeExtension(tt.extension)}})
			w.accounts(adult)
			w.placeOrder("07", "75", adult)
			w.putForm("07", "75", "signing-time-extension.json")

			w.expect(w.pass(), "07", "75", tt.outcome, tt.reason)
			want := time.Date(2026, 11, 23, 8, 45, 0, 0, time.UTC) // 09:45 Swedish time
			if a := w.audit(lockworker.AuditFilter{Ticket: "75"})[0]; tt.outcome == lockworker.OutcomeResolved && !a.Evidence.SignedAt.Equal(want) {
				t.Errorf("the evidence says signed at %v, want %v", a.Evidence.SignedAt, want)
			}
		})
	}
}

// The FHIR R4 specification's DocumentReference example gives all three
// parties as references to resources of the service, the signer an
// Organization, and is preliminary: not signed yet, which is no reason to
// send the order to manual handling.
func TestTheFHIRSpecificationsExampleShapeWaits(t *testing.T) {
	t.Parallel()
	w := setup(t)
	w.accounts(adult)
	w.placeOrder("07", "76", adult)
	w.putForm("07", "76", "fhir-example-shape.json")
	forms := w.regions["07"].forms
	forms.PutResource(cosmictest.Resource{Type: "Patient", ID: "xcda", Name: "Henry Levin", Identifiers: []cosmictest.Identifier{{System: cosmictest.PersonnummerSystem, Value: adult}}})
	f001 := kronobergOrganization
	f001.ID = "f001"
	forms.PutResource(f001)

	w.expect(w.pass(), "07", "76", lockworker.OutcomeWaiting, lockworker.ReasonFormUnsigned)
	want := []string{"DocumentReference/F-07-76", "Patient/xcda", "Organization/f001"}
	if got := w.formReads("07"); !slices.Equal(got, want) {
		t.Errorf("the form service was asked for %q, want %q: one read of the organisation both parties refer to", got, want)
	}

	// Once signed, by a practitioner of the region, it is carried out.
	body := w.formDocument("07", "F-07-76")
	body["docStatus"] = "final"
	body["authenticator"] = map[string]any{"reference": "Practitioner/xcda1"}
	forms.PutRaw("F-07-76", []byte(marshal(t, body)))
	forms.PutResource(cosmictest.Resource{Type: "Practitioner", ID: "xcda1", Name: "Doktor Testsson", Identifiers: hsaIdentifier("SE2321000065-L76")})
	w.clock.Advance(2 * time.Minute)
	res := result(t, w.pass(), "07", "76")
	if res.Outcome != lockworker.OutcomeResolved {
		t.Errorf("once signed: %s %s (%s), want resolved", res.Outcome, res.Reason, res.Error)
	}
}

// The FHIR specification's example keeps its own date, from 2005: a form not
// yet signed has no signing time to check, so it waits rather than going to
// manual handling as too old.
func TestTheFHIRSpecificationsExampleWithItsOwnDateWaits(t *testing.T) {
	t.Parallel()
	w := setup(t)
	w.accounts(adult)
	w.placeOrder("07", "77", adult)
	w.putForm("07", "77", "fhir-example-shape.json")
	forms := w.regions["07"].forms
	body := w.formDocument("07", "F-07-77")
	body["date"] = "2005-12-24T09:43:41+11:00"
	forms.PutRaw("F-07-77", []byte(marshal(t, body)))
	forms.PutResource(cosmictest.Resource{Type: "Patient", ID: "xcda", Name: "Henry Levin", Identifiers: []cosmictest.Identifier{{System: cosmictest.PersonnummerSystem, Value: adult}}})
	f001 := kronobergOrganization
	f001.ID = "f001"
	forms.PutResource(f001)

	w.expect(w.pass(), "07", "77", lockworker.OutcomeWaiting, lockworker.ReasonFormUnsigned)
}
