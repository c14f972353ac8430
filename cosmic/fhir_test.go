package cosmic

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/lockworker/lockworker"
)

// fuzzBase is the base URL of the form service in FuzzDecodeForm.
const fuzzBase = "https://fhir.region.example/r4"

// FuzzDecodeForm checks decodeForm on any answer: it must not panic, must
// refuse what is not JSON, and what it reads must be what a plain, exact
// reading of the document says, so that no spelling of a member makes it read
// more than FHIR means: the evidence, and the resources still to read. Seeds:
// the recorded answers of testdata and the corpus in
// testdata/fuzz/FuzzDecodeForm.
func FuzzDecodeForm(f *testing.F) {
	seeds := []struct{ fixture, ref string }{
		{"lock-form-signed.json", "blankett-7f3a9c"},
		{"form-preliminary.json", "blankett-prel-0042"},
		{"form-entered-in-error.json", "blankett-fel-0007"},
		{"form-oid-systems.json", "BL.2025.0314-0019"},
		{"form-wrong-systems.json", "blankett-fel-system"},
		{"form-contained-signer.json", "blankett-inera-0001"},
		{"form-fhir-example.json", "example"},
		{"operation-outcome-404.json", "blankett-saknas"},
		{"metadata.json", "metadata"},
	}
	for _, s := range seeds {
		body, err := os.ReadFile(filepath.Join("testdata", s.fixture))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(s.ref, body)
	}

	f.Fuzz(func(t *testing.T, ref string, body []byte) {
		d, err := formReader{base: fuzzBase}.decodeForm(ref, body)
		if err != nil {
			if !reflect.DeepEqual(d, draft{}) {
				t.Errorf("decodeForm gave %+v with its error %v", d, err)
			}
			return
		}
		if !json.Valid(body) {
			t.Fatalf("decodeForm took an answer that is not JSON")
		}
		form := d.form
		for _, h := range []lockworker.HSAID{form.Signer, form.Custodian} {
			if _, err := lockworker.ParseHSAID(h.String()); !h.IsZero() && err != nil {
				t.Errorf("decodeForm gave the HSA-id %q: %v", h, err)
			}
		}
		want, wantReads, ok := readExactly(t, body)
		if !ok {
			t.Fatalf("decodeForm took a document whose references cannot be followed: %+v", d)
		}
		if !form.Date.Equal(want.Date) {
			t.Errorf("decodeForm gave the date %v, an exact reading %v", form.Date, want.Date)
		}
		form.Date = want.Date // compared above, as an instant
		if !reflect.DeepEqual(form, want) {
			t.Errorf("decodeForm =\n%+v\nan exact reading gives\n%+v", form, want)
		}
		var reads []string
		for _, r := range d.reads {
			reads = append(reads, r.party.element+" "+r.resourceType+" "+r.id+" "+r.path)
		}
		if !reflect.DeepEqual(reads, wantReads) {
			t.Errorf("decodeForm would read %q, an exact reading %q", reads, wantReads)
		}
		if form.ID != ref {
			t.Errorf("decodeForm gave form %q for the reference %q", form.ID, ref)
		}
	})
}

// readExactly reads body as docs/FORMS.md says, independently of decodeForm: into
// plain maps, whose member names match exactly, taking what is not a string
// where one is due as absent. It is the reference decodeForm is held to. It
// returns the evidence the document itself gives, the reads still to make
// (party, type, id and path of each), and false if a party's reference
// cannot be followed.
func readExactly(t *testing.T, body []byte) (lockworker.Form, []string, bool) {
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("decodeForm took an answer that is no JSON object: %v", err)
	}
	str := func(m map[string]any, name string) string { s, _ := m[name].(string); return s }
	obj := func(m map[string]any, name string) map[string]any { o, _ := m[name].(map[string]any); return o }

	if str(doc, "resourceType") != "DocumentReference" {
		t.Errorf("decodeForm took a %q", str(doc, "resourceType"))
	}
	form := lockworker.Form{
		ID:      str(doc, "id"),
		Current: str(doc, "status") == "current",
		Final:   str(doc, "docStatus") == "final" || str(doc, "docStatus") == "amended",
	}
	codings, _ := obj(doc, "type")["coding"].([]any)
	for _, c := range codings {
		c, _ := c.(map[string]any)
		form.Types = append(form.Types, lockworker.Code{System: str(c, "system"), Code: str(c, "code")})
	}

	pnr := func(id map[string]any) string {
		switch str(id, "system") {
		case "http://electronichealth.se/identifier/personnummer", "urn:oid:1.2.752.129.2.1.3.1":
			return strings.TrimSpace(str(id, "value"))
		}
		return ""
	}
	hsa := func(id map[string]any) string {
		h, _ := lockworker.ParseHSAID(str(id, "value"))
		return h.String()
	}
	// Under an HSA-id system an identifier is taken as written, valid or
	// not; the custodian's HSA-id is also taken, when valid, under any other.
	hsaSystem := func(id map[string]any) string {
		switch str(id, "system") {
		case "urn:oid:1.2.752.29.4.19", "urn:oid:1.2.752.129.2.1.4.1":
			return strings.TrimSpace(str(id, "value"))
		}
		return ""
	}
	custodian := func(id map[string]any) string {
		if v := hsaSystem(id); v != "" {
			return v
		}
		return hsa(id)
	}
	parse := func(v string) (lockworker.HSAID, error) {
		if v == "" {
			return lockworker.HSAID{}, nil
		}
		return lockworker.ParseHSAID(v)
	}
	type partyModel struct {
		element  string
		types    string // separated by spaces
		identify func(map[string]any) string
	}
	var reads []string
	identities := make([]string, 3)
	for i, p := range []partyModel{
		{"subject", "Patient", pnr},
		{"authenticator", "Practitioner PractitionerRole Organization", hsaSystem},
		{"custodian", "Organization", custodian},
	} {
		element := obj(doc, p.element)
		if v := p.identify(obj(element, "identifier")); v != "" {
			identities[i] = v
			continue
		}
		literal := str(element, "reference")
		if literal == "" {
			continue
		}
		if id, ok := strings.CutPrefix(literal, "#"); ok {
			var found []map[string]any
			contained, _ := doc["contained"].([]any)
			for _, c := range contained {
				if c, _ := c.(map[string]any); id != "" && str(c, "id") == id {
					found = append(found, c)
				}
			}
			if len(found) != 1 {
				return lockworker.Form{}, nil, false
			}
			if !slices.Contains(strings.Fields(p.types), str(found[0], "resourceType")) {
				continue
			}
			ids, _ := found[0]["identifier"].([]any)
			var values []string // the first of each identity
			seen := map[string]bool{}
			for _, id := range ids {
				id, _ := id.(map[string]any)
				v := p.identify(id)
				// YYYYMMDD-NNNC and YYYYMMDDNNNC are one number.
				key := v
				if len(v) == 13 && v[8] == '-' {
					key = strings.Replace(v, "-", "", 1)
				}
				if v != "" && str(id, "use") != "old" && !seen[key] {
					seen[key] = true
					values = append(values, v)
				}
			}
			if len(values) == 1 {
				identities[i] = values[0]
			}
			continue
		}
		path := strings.TrimPrefix(literal, fuzzBase+"/")
		segments := strings.Split(path, "/")
		isID := func(s string) bool {
			return lockworker.ValidFormReference(s)
		}
		isType := func(s string) bool {
			if len(s) < 2 || len(s) > 64 || s[0] < 'A' || s[0] > 'Z' {
				return false
			}
			return strings.Trim(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz") == ""
		}
		switch {
		case len(segments) == 2 && isType(segments[0]) && isID(segments[1]):
		case len(segments) == 4 && isType(segments[0]) && isID(segments[1]) && segments[2] == "_history" && isID(segments[3]):
		default:
			return lockworker.Form{}, nil, false
		}
		if slices.Contains(strings.Fields(p.types), segments[0]) {
			reads = append(reads, p.element+" "+segments[0]+" "+segments[1]+" "+path)
		}
	}
	form.Patient = identities[0]
	form.Signer, form.SignerInvalid = parse(identities[1])
	form.Custodian, form.CustodianInvalid = parse(identities[2])
	form.Date = exactDateTime(str(doc, "date"))
	return form, reads, true
}

// exactDateTime reads YYYY-MM-DDThh:mm[:ss[.fraction]][Z|±hh:mm], in
// Swedish time without a zone, character by character; the zero time for
// anything else.
func exactDateTime(s string) time.Time {
	num := func(from, to int) (int, bool) {
		if to > len(s) {
			return 0, false
		}
		n := 0
		for _, c := range s[from:to] {
			if c < '0' || c > '9' {
				return 0, false
			}
			n = 10*n + int(c-'0')
		}
		return n, true
	}
	at := func(i int, c byte) bool { return i < len(s) && s[i] == c }
	year, ok1 := num(0, 4)
	month, ok2 := num(5, 7)
	day, ok3 := num(8, 10)
	hour, ok4 := num(11, 13)
	minute, ok5 := num(14, 16)
	if !ok1 || !ok2 || !ok3 || !ok4 || !ok5 || !at(4, '-') || !at(7, '-') || !at(10, 'T') || !at(13, ':') {
		return time.Time{}
	}
	i, second, nsec := 16, 0, 0
	if at(i, ':') {
		var ok bool
		if second, ok = num(i+1, i+3); !ok {
			return time.Time{}
		}
		i += 3
		if at(i, '.') {
			j := i + 1
			for j < len(s) && s[j] >= '0' && s[j] <= '9' {
				j++
			}
			if j == i+1 || j-i-1 > 9 {
				return time.Time{}
			}
			frac, _ := num(i+1, j)
			for range 9 - (j - i - 1) {
				frac *= 10
			}
			nsec, i = frac, j
		}
	}
	loc := lockworker.Stockholm
	switch zone := s[i:]; {
	case zone == "":
	case zone == "Z":
		loc = time.UTC
	case len(zone) == 6 && (zone[0] == '+' || zone[0] == '-') && zone[3] == ':':
		hh, okH := num(i+1, i+3)
		mm, okM := num(i+4, i+6)
		if !okH || !okM || hh > 14 || mm > 59 {
			return time.Time{}
		}
		offset := hh*3600 + mm*60
		if zone[0] == '-' {
			offset = -offset
		}
		loc = time.FixedZone("", offset)
	default:
		return time.Time{}
	}
	if hour > 23 || minute > 59 || second > 59 {
		return time.Time{}
	}
	if d := time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC); d.Year() != year || int(d.Month()) != month || d.Day() != day {
		return time.Time{}
	}
	return time.Date(year, time.Month(month), day, hour, minute, second, nsec, loc)
}

func TestCheckMembersBoundsNesting(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		depth   int
		wantErr bool
	}{
		{"as deep as a form may be", maxDepth, false},
		{"deeper", maxDepth + 1, true},
		{"deep enough to exhaust a recursive reader", 1 << 20, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			body := strings.Repeat(`{"a":`, tt.depth) + "1" + strings.Repeat("}", tt.depth)
			if err := checkMembers([]byte(body)); (err != nil) != tt.wantErr {
				t.Errorf("checkMembers: %v, want an error: %v", err, tt.wantErr)
			}
		})
	}
}

func TestParseDateTime(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want time.Time
	}{
		{"2023-06-01T12:00", time.Date(2023, 6, 1, 12, 0, 0, 0, lockworker.Stockholm)},
		{"2023-06-01T12:00:30", time.Date(2023, 6, 1, 12, 0, 30, 0, lockworker.Stockholm)},
		{"2023-12-01T12:00:30.5", time.Date(2023, 12, 1, 12, 0, 30, 5e8, lockworker.Stockholm)},
		{"2023-06-01T12:00Z", time.Date(2023, 6, 1, 12, 0, 0, 0, time.UTC)},
		{"2023-06-01T12:00+02:00", time.Date(2023, 6, 1, 10, 0, 0, 0, time.UTC)},
		{"2023-06-01T12:00:30.123456789-05:30", time.Date(2023, 6, 1, 17, 30, 30, 123456789, time.UTC)},
		{"2023-06-01T12:00:00+14:00", time.Date(2023, 5, 31, 22, 0, 0, 0, time.UTC)},
		// No time of day, no signing time.
		{"2023-06-01", time.Time{}},
		{"2023-06", time.Time{}},
		{"2023", time.Time{}},
		// Not a dateTime.
		{"", time.Time{}},
		{"2023-06-01 12:00:00", time.Time{}},
		{"2023-06-01T12", time.Time{}},
		{"2023-06-01T9:00", time.Time{}},
		{"2023-06-01t12:00:00z", time.Time{}},
		{"2023-06-01T24:00:00Z", time.Time{}},
		{"2023-06-01T12:00:60Z", time.Time{}},
		{"2023-02-29T12:00:00Z", time.Time{}},
		{"2023-06-01T12:00:00+15:00", time.Time{}},
		{"2023-06-01T12:00:00+0200", time.Time{}},
		{"2023-06-01T12:00:00.Z", time.Time{}},
		{"2023-06-01T12:00:00.1234567890Z", time.Time{}},
		{"２０２３-06-01T12:00:00Z", time.Time{}},
	}
	for _, tt := range tests {
		if got := parseDateTime(tt.in); !got.Equal(tt.want) || got.IsZero() != tt.want.IsZero() {
			t.Errorf("parseDateTime(%q) = %v, want %v", tt.in, got, tt.want)
		}
		if got := exactDateTime(tt.in); !got.Equal(tt.want) || got.IsZero() != tt.want.IsZero() {
			t.Errorf("exactDateTime(%q) = %v, want %v: the fuzz test's model is wrong", tt.in, got, tt.want)
		}
	}
}
