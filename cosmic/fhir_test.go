package cosmic

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/lockworker/lockworker"
)

// FuzzDecodeForm checks decodeForm on any answer: it must not panic, must
// refuse what is not JSON, and what it reads must be what a plain, exact
// reading of the document says, so that no spelling of a member makes it read
// more than FHIR means. Seeds: the recorded answers of testdata and the corpus
// in testdata/fuzz/FuzzDecodeForm.
func FuzzDecodeForm(f *testing.F) {
	seeds := []struct{ fixture, ref string }{
		{"lock-form-signed.json", "blankett-7f3a9c"},
		{"form-preliminary.json", "blankett-prel-0042"},
		{"form-entered-in-error.json", "blankett-fel-0007"},
		{"form-oid-systems.json", "BL.2025.0314-0019"},
		{"form-wrong-systems.json", "blankett-fel-system"},
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
		form, err := decodeForm(ref, body)
		if err != nil {
			if !reflect.DeepEqual(form, lockworker.Form{}) {
				t.Errorf("decodeForm gave %+v with its error %v", form, err)
			}
			return
		}
		if !json.Valid(body) {
			t.Fatalf("decodeForm took an answer that is not JSON")
		}
		for _, h := range []lockworker.HSAID{form.Signer, form.Custodian} {
			if _, err := lockworker.ParseHSAID(h.String()); !h.IsZero() && err != nil {
				t.Errorf("decodeForm gave the HSA-id %q: %v", h, err)
			}
		}
		want := readExactly(t, body)
		if !form.Date.Equal(want.Date) {
			t.Errorf("decodeForm gave the date %v, an exact reading %v", form.Date, want.Date)
		}
		form.Date = want.Date // compared above, as an instant
		if !reflect.DeepEqual(form, want) {
			t.Errorf("decodeForm =\n%+v\nan exact reading gives\n%+v", form, want)
		}
		if form.ID != ref {
			t.Errorf("decodeForm gave form %q for the reference %q", form.ID, ref)
		}
	})
}

// readExactly reads body as docs/FORMS.md says, independently of decodeForm: into
// plain maps, whose member names match exactly, taking what is not a string
// where one is due as absent. It is the reference decodeForm is held to.
func readExactly(t *testing.T, body []byte) lockworker.Form {
	var doc map[string]any
	if err := json.Unmarshal(body, &doc); err != nil {
		t.Fatalf("decodeForm took an answer that is no JSON object: %v", err)
	}
	str := func(m map[string]any, name string) string { s, _ := m[name].(string); return s }
	obj := func(m map[string]any, name string) map[string]any { o, _ := m[name].(map[string]any); return o }
	identifier := func(name string) (system, value string) {
		id := obj(obj(doc, name), "identifier")
		return str(id, "system"), str(id, "value")
	}

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
	switch system, value := identifier("subject"); system {
	case "http://electronichealth.se/identifier/personnummer", "urn:oid:1.2.752.129.2.1.3.1":
		form.Patient = value
	}
	switch system, value := identifier("authenticator"); system {
	case "urn:oid:1.2.752.29.4.19", "urn:oid:1.2.752.129.2.1.4.1":
		form.Signer, _ = lockworker.ParseHSAID(value)
	}
	_, custodian := identifier("custodian")
	form.Custodian, _ = lockworker.ParseHSAID(custodian)
	form.Date, _ = time.Parse(time.RFC3339Nano, str(doc, "date")) // zero if absent or unreadable
	return form
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
