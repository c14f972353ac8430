package cosmic_test

import (
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lockworker/lockworker"
	"github.com/lockworker/lockworker/cosmic"
)

// route answers each path under /fhir with its body, 200, and every other
// path with 404.
func route(bodies map[string][]byte) func(http.ResponseWriter, *http.Request, int) {
	return func(w http.ResponseWriter, r *http.Request, n int) {
		body, ok := bodies[strings.TrimPrefix(r.URL.Path, "/fhir/")]
		if !ok {
			reply(http.StatusNotFound, []byte(`{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"not-found"}]}`))(w, r, n)
			return
		}
		reply(http.StatusOK, body)(w, r, n)
	}
}

func paths(s *server) []string {
	var out []string
	for _, r := range s.Requests() {
		out = append(out, r.Path)
	}
	return out
}

func TestFormFollowsReferencesToTheParties(t *testing.T) {
	t.Parallel()
	patient := func(id, pnr string) []byte {
		return []byte(`{"resourceType":"Patient","id":"` + id + `","identifier":[{"system":"urn:oid:1.2.752.129.2.1.3.1","value":"` + pnr + `"}]}`)
	}
	f001 := []byte(`{"resourceType":"Organization","id":"f001","identifier":[{"use":"official","system":"urn:oid:1.2.752.29.4.19","value":"SE2321000065-E000000000001"}],"name":"Region Kronoberg"}`)
	kronoberg := mustHSAID(t, "SE2321000065-E000000000001")
	tests := []struct {
		name      string
		ref       string
		bodies    map[string][]byte
		want      lockworker.Form
		wantPaths []string
	}{
		{
			name: "a contained signer, a logical subject written with a hyphen, a referenced custodian and a date to the minute without a zone",
			ref:  "blankett-inera-0001",
			bodies: map[string][]byte{
				"DocumentReference/blankett-inera-0001": fixture(t, "form-contained-signer.json"),
				"Organization/vg-2321000065":            fixture(t, "organization-region.json"),
			},
			want: lockworker.Form{
				ID: "blankett-inera-0001", Current: true, Final: true,
				Types:     []lockworker.Code{{System: "https://fhir.region.example/CodeSystem/blankett", Code: "1177-LAS"}},
				Patient:   "19610118-2803",
				Signer:    mustHSAID(t, "SE2321000065-1003"),
				Custodian: kronoberg,
				Date:      time.Date(2025, 3, 14, 9, 12, 0, 0, lockworker.Stockholm),
			},
			wantPaths: []string{"/fhir/DocumentReference/blankett-inera-0001", "/fhir/Organization/vg-2321000065"},
		},
		{
			name: "the FHIR specification's example: an organisation both parties refer to is read once",
			ref:  "example",
			bodies: map[string][]byte{
				"DocumentReference/example": fixture(t, "form-fhir-example.json"),
				"Patient/xcda":              patient("xcda", "196101182803"),
				"Organization/f001":         f001,
			},
			want: lockworker.Form{
				ID: "example", Current: true, Final: false,
				Types:     []lockworker.Code{{System: "http://loinc.org", Code: "34108-1"}},
				Patient:   "196101182803",
				Signer:    kronoberg,
				Custodian: kronoberg,
				Date:      time.Date(2005, 12, 24, 9, 43, 41, 0, time.FixedZone("", 11*3600)),
			},
			wantPaths: []string{"/fhir/DocumentReference/example", "/fhir/Patient/xcda", "/fhir/Organization/f001"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			c, s := setup(t, route(tt.bodies))
			got, err := c.Form(t.Context(), tt.ref)
			if err != nil {
				t.Fatalf("Form: %v", err)
			}
			if !got.Date.Equal(tt.want.Date) {
				t.Errorf("Date = %v, want %v", got.Date, tt.want.Date)
			}
			got.Date = tt.want.Date
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Form =\n%+v\nwant\n%+v", got, tt.want)
			}
			if got := paths(s); !reflect.DeepEqual(got, tt.wantPaths) {
				t.Errorf("requests = %q, want %q", got, tt.wantPaths)
			}
			for _, r := range s.Requests() {
				if r.Authorization != "Bearer "+token || r.Accept != "application/fhir+json" {
					t.Errorf("request %s went with %q, %q; want the form's token and Accept", r.Path, r.Authorization, r.Accept)
				}
			}
		})
	}
}

// form is a signed form whose parties the test gives as JSON members.
func form(id, subject, authenticator, custodian string, more ...string) []byte {
	members := []string{
		`"resourceType":"DocumentReference"`, `"id":"` + id + `"`, `"status":"current"`, `"docStatus":"final"`,
		`"date":"2025-03-14T09:12:31+01:00"`,
		`"subject":` + subject, `"authenticator":` + authenticator, `"custodian":` + custodian,
	}
	return []byte("{" + strings.Join(append(members, more...), ",") + "}")
}

const (
	subjectInline   = `{"identifier":{"system":"http://electronichealth.se/identifier/personnummer","value":"199908072391"}}`
	signerInline    = `{"identifier":{"system":"urn:oid:1.2.752.29.4.19","value":"SE2321000065-1003"}}`
	custodianInline = `{"identifier":{"system":"urn:oid:1.2.752.29.4.19","value":"SE2321000065-E000000000001"}}`
)

func TestFormReadsEachShapeOfAParty(t *testing.T) {
	t.Parallel()
	org := func(id string, ids string) []byte {
		return []byte(`{"resourceType":"Organization","id":"` + id + `","identifier":` + ids + `}`)
	}
	hsa := func(v string) string { return `{"system":"urn:oid:1.2.752.29.4.19","value":"` + v + `"}` }
	tests := []struct {
		name          string
		custodian     string
		contained     string
		bodies        map[string][]byte
		wantCustodian string // "" for none
		wantPaths     int    // reads beyond the form's
	}{
		{"an identifier", custodianInline, "", nil, "SE2321000065-E000000000001", 0},
		{"a logical reference with a type", `{"type":"Organization","identifier":` + hsa("SE2321000065-E000000000001") + `}`, "", nil, "SE2321000065-E000000000001", 0},
		{"an identifier that gives no HSA-id, beside a reference that does",
			`{"reference":"Organization/o1","identifier":{"system":"urn:oid:2.5.4.97","value":"2321000065"}}`, "",
			map[string][]byte{"Organization/o1": org("o1", "["+hsa("SE2321000065-E000000000001")+"]")}, "SE2321000065-E000000000001", 1},
		{"a contained organisation", `{"reference":"#org"}`,
			`"contained":[{"resourceType":"Organization","id":"org","identifier":[` + hsa("SE2321000065-E000000000001") + `]}]`, nil, "SE2321000065-E000000000001", 0},
		{"a contained resource of a type the party cannot be", `{"reference":"#org"}`,
			`"contained":[{"resourceType":"Patient","id":"org","identifier":[` + hsa("SE2321000065-E000000000001") + `]}]`, nil, "", 0},
		{"a reference to a type the party cannot be, not read", `{"reference":"Patient/p1"}`, "", nil, "", 0},
		{"a version of a resource", `{"reference":"Organization/o1/_history/3"}`, "",
			map[string][]byte{"Organization/o1/_history/3": org("o1", "["+hsa("SE2321000065-E000000000001")+"]")}, "SE2321000065-E000000000001", 1},
		{"an absolute URL under the service's base", `{"reference":"BASE/Organization/o1"}`, "",
			map[string][]byte{"Organization/o1": org("o1", "["+hsa("SE2321000065-E000000000001")+"]")}, "SE2321000065-E000000000001", 1},
		{"an organisation with two HSA-ids that differ names none", `{"reference":"Organization/o1"}`, "",
			map[string][]byte{"Organization/o1": org("o1", "["+hsa("SE2321000065-E000000000001")+","+hsa("SE2321000255-E000000000001")+"]")}, "", 1},
		{"one HSA-id given twice", `{"reference":"Organization/o1"}`, "",
			map[string][]byte{"Organization/o1": org("o1", "["+hsa("SE2321000065-E000000000001")+`,{"system":"urn:oid:2.5.4.97","value":"SE2321000065-E000000000001"}]`)},
			"SE2321000065-E000000000001", 1},
		{"an old HSA-id beside the current one is no longer its", `{"reference":"Organization/o1"}`, "",
			map[string][]byte{"Organization/o1": org("o1", `[{"use":"old","system":"urn:oid:1.2.752.29.4.19","value":"SE2321000255-E000000000001"},`+hsa("SE2321000065-E000000000001")+"]")},
			"SE2321000065-E000000000001", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bodies := map[string][]byte{}
			c, s := setup(t, route(bodies))
			var more []string
			if tt.contained != "" {
				more = append(more, tt.contained)
			}
			bodies["DocumentReference/f1"] = form("f1", subjectInline, signerInline, strings.ReplaceAll(tt.custodian, "BASE", s.base), more...)
			for k, v := range tt.bodies {
				bodies[k] = v
			}
			before := len(s.Requests())

			got, err := c.Form(t.Context(), "f1")
			if err != nil {
				t.Fatalf("Form: %v", err)
			}
			if got.Custodian.String() != tt.wantCustodian {
				t.Errorf("Custodian = %q, want %q", got.Custodian, tt.wantCustodian)
			}
			if n := len(s.Requests()) - before - 1; n != tt.wantPaths {
				t.Errorf("%d reads beyond the form's (%q), want %d", n, paths(s), tt.wantPaths)
			}
		})
	}
}

func TestAPartyThatCannotBeReadFailsTheRead(t *testing.T) {
	t.Parallel()
	organization := []byte(`{"resourceType":"Organization","id":"o1","identifier":[{"system":"urn:oid:1.2.752.29.4.19","value":"SE2321000065-E000000000001"}]}`)
	tests := []struct {
		name      string
		custodian string
		bodies    map[string][]byte
		wantErr   string
		wantReads int // beyond the form's
	}{
		{"a referenced resource the service does not have", `{"reference":"Organization/o1"}`, nil, "read its custodian Organization/o1: form service answered 404", 1},
		{"an absolute URL to another host", `{"reference":"https://fhir.elsewhere.example/fhir/Organization/o1"}`, nil, "no reference to a resource of the form service", 0},
		{"a URN", `{"reference":"urn:uuid:9d3c5d0e-2c3f-4a51-8a70-1f5b2f6d1c11"}`, nil, "no reference to a resource of the form service", 0},
		{"a path that climbs", `{"reference":"Organization/../../admin"}`, nil, "no reference to a resource of the form service", 0},
		{"a search", `{"reference":"Organization?identifier=SE2321000065-E000000000001"}`, nil, "no reference to a resource of the form service", 0},
		{"a contained resource that is not there", `{"reference":"#org"}`, nil, "refers to #org, which the document does not contain", 0},
		{"an answer that is another resource", `{"reference":"Organization/o1"}`,
			map[string][]byte{"Organization/o1": []byte(`{"resourceType":"Organization","id":"o2"}`)}, `the answer is Organization "o2"`, 1},
		{"an answer naming a member twice", `{"reference":"Organization/o1"}`,
			map[string][]byte{"Organization/o1": []byte(`{"resourceType":"Organization","id":"o1","identifier":[],"identifier":[]}`)}, "given twice", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			bodies := map[string][]byte{"DocumentReference/f1": form("f1", subjectInline, signerInline, tt.custodian)}
			for k, v := range tt.bodies {
				bodies[k] = v
			}
			c, s := setup(t, route(bodies))

			_, err := c.Form(t.Context(), "f1")
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Form: %v, want an error containing %q", err, tt.wantErr)
			}
			if errors.Is(err, lockworker.ErrFormNotFound) {
				t.Errorf("Form: %v is taken for a missing form, which would make the order wait", err)
			}
			if n := len(s.Requests()) - 1; n != tt.wantReads {
				t.Errorf("%d reads beyond the form's (%q), want %d", n, paths(s), tt.wantReads)
			}
		})
	}
	t.Run("a resource read again after a failure", func(t *testing.T) {
		t.Parallel()
		bodies := map[string][]byte{"DocumentReference/f1": form("f1", subjectInline, signerInline, `{"reference":"Organization/o1"}`)}
		c, s := setup(t, inTurn(route(bodies), reply(http.StatusServiceUnavailable, nil), route(map[string][]byte{"Organization/o1": organization})))
		got, err := c.Form(t.Context(), "f1")
		if err != nil || got.Custodian.String() != "SE2321000065-E000000000001" {
			t.Fatalf("Form = %+v, %v; want the custodian read on the retry", got, err)
		}
		if n := len(s.Requests()); n != 3 {
			t.Errorf("%d requests, want 3: the form, the failed read and its retry", n)
		}
	})
}

func TestFormReadsTheSigningTimeFromTheConfiguredExtension(t *testing.T) {
	t.Parallel()
	const url = "https://fhir.region.example/StructureDefinition/signeringstid"
	ext := func(value string) string {
		return `"extension":[{"url":"https://fhir.region.example/other","valueDateTime":"2020-01-01T00:00:00Z"},{"url":"` + url + `",` + value + `}]`
	}
	tests := []struct {
		name      string
		extension string
		want      time.Time
	}{
		{"a valueDateTime", ext(`"valueDateTime":"2025-03-14T10:30"`), time.Date(2025, 3, 14, 10, 30, 0, 0, lockworker.Stockholm)},
		{"a valueInstant", ext(`"valueInstant":"2025-03-14T09:30:00.25Z"`), time.Date(2025, 3, 14, 9, 30, 0, 25e7, time.UTC)},
		{"a date alone", ext(`"valueDateTime":"2025-03-14"`), time.Time{}},
		{"no such extension: not the date either", `"extension":[{"url":"https://fhir.region.example/other","valueDateTime":"2025-03-14T10:30:00Z"}]`, time.Time{}},
		{"the extension twice with different times",
			`"extension":[{"url":"` + url + `","valueDateTime":"2025-03-14T10:30:00Z"},{"url":"` + url + `","valueDateTime":"2025-03-14T11:30:00Z"}]`, time.Time{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := form("f1", subjectInline, signerInline, custodianInline, tt.extension)
			c, _ := setup(t, reply(http.StatusOK, body), cosmic.WithSigningTimeExtension(url))
			got, err := c.Form(t.Context(), "f1")
			if err != nil {
				t.Fatal(err)
			}
			if !got.Date.Equal(tt.want) {
				t.Errorf("Date = %v, want %v", got.Date, tt.want)
			}
		})
	}
}

func TestAByteOrderMarkBeforeAnAnswerIsIgnored(t *testing.T) {
	t.Parallel()
	bom := []byte("\xef\xbb\xbf")
	organization := []byte(`{"resourceType":"Organization","id":"o1","identifier":[{"system":"urn:oid:1.2.752.29.4.19","value":"SE2321000065-E000000000001"}]}`)
	c, _ := setup(t, route(map[string][]byte{
		"DocumentReference/f1": append(bom, form("f1", subjectInline, signerInline, `{"reference":"Organization/o1"}`)...),
		"Organization/o1":      append(bom, organization...),
		"metadata":             append(bom, fixture(t, "metadata.json")...),
	}))
	got, err := c.Form(t.Context(), "f1")
	if err != nil || got.Custodian.String() != "SE2321000065-E000000000001" || !got.Final {
		t.Errorf("Form = %+v, %v; want the form read whole", got, err)
	}
	if err := c.Metadata(t.Context()); err != nil {
		t.Errorf("Metadata: %v", err)
	}
	_, err = c.Form(t.Context(), "missing")
	var se *cosmic.StatusError
	if !errors.As(err, &se) || se.StatusCode != http.StatusNotFound {
		t.Errorf("Form of a missing form: %v, want a 404", err)
	}
}
