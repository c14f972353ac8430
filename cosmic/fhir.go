package cosmic

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/lockworker/lockworker"
)

// The identifier systems a form is read with (docs/FORMS.md). A personnummer or an
// HSA-id given under another system is not taken as one.
const (
	systemPersonnummer    = "http://electronichealth.se/identifier/personnummer"
	systemPersonnummerOID = "urn:oid:1.2.752.129.2.1.3.1"
	systemHSAID           = "urn:oid:1.2.752.29.4.19"
	systemHSAIDOID        = "urn:oid:1.2.752.129.2.1.4.1"
)

// documentReference holds the elements of a FHIR R4 DocumentReference that
// the rules check. The decoder skips everything else, content included, so
// that the form's content is never kept.
type documentReference struct {
	ResourceType string `json:"resourceType"`
	ID           string `json:"id"`
	Status       string `json:"status"`
	DocStatus    string `json:"docStatus"`
	Type         struct {
		Coding []struct {
			System string `json:"system"`
			Code   string `json:"code"`
		} `json:"coding"`
	} `json:"type"`
	Subject       reference `json:"subject"`
	Authenticator reference `json:"authenticator"`
	Custodian     reference `json:"custodian"`
	Date          string    `json:"date"`
}

// reference is a FHIR Reference by its logical identifier.
type reference struct {
	Identifier struct {
		System string `json:"system"`
		Value  string `json:"value"`
	} `json:"identifier"`
}

// decodeForm translates the DocumentReference in body, read by ref, into the
// evidence it gives. What the document leaves out, or gives under another
// system or in another form than docs/FORMS.md names, stays zero in the Form, for
// the rules to judge; only an answer that is not the DocumentReference asked
// for, or that cannot be read one way only, is an error.
func decodeForm(ref string, body []byte) (lockworker.Form, error) {
	if err := checkMembers(body); err != nil {
		return lockworker.Form{}, fmt.Errorf("decode DocumentReference: %w", err)
	}
	var doc documentReference
	if err := json.Unmarshal(body, &doc); err != nil {
		return lockworker.Form{}, fmt.Errorf("decode DocumentReference: %w", err)
	}
	if doc.ResourceType != "DocumentReference" {
		return lockworker.Form{}, fmt.Errorf("decode DocumentReference: the answer is a %q", clip(doc.ResourceType))
	}
	if doc.ID != ref {
		return lockworker.Form{}, fmt.Errorf("decode DocumentReference: the answer is document %q", clip(doc.ID))
	}

	form := lockworker.Form{
		ID:      doc.ID,
		Current: doc.Status == "current",
		Final:   doc.DocStatus == "final" || doc.DocStatus == "amended",
	}
	for _, c := range doc.Type.Coding {
		form.Types = append(form.Types, lockworker.Code{System: c.System, Code: c.Code})
	}
	if s := doc.Subject.Identifier.System; s == systemPersonnummer || s == systemPersonnummerOID {
		form.Patient = doc.Subject.Identifier.Value
	}
	if s := doc.Authenticator.Identifier.System; s == systemHSAID || s == systemHSAIDOID {
		form.Signer, _ = lockworker.ParseHSAID(doc.Authenticator.Identifier.Value) // zero if not an HSA-id
	}
	form.Custodian, _ = lockworker.ParseHSAID(doc.Custodian.Identifier.Value) // zero if not an HSA-id
	// A FHIR instant is RFC 3339 with a zone; time.RFC3339 takes the optional
	// fraction of a second as well.
	if t, err := time.Parse(time.RFC3339, doc.Date); err == nil {
		form.Date = t
	}
	return form, nil
}

// checkCapabilityStatement checks that body is a CapabilityStatement.
func checkCapabilityStatement(body []byte) error {
	var cs struct {
		ResourceType string `json:"resourceType"`
	}
	if err := json.Unmarshal(body, &cs); err != nil {
		return fmt.Errorf("decode CapabilityStatement: %w", err)
	}
	if cs.ResourceType != "CapabilityStatement" {
		return fmt.Errorf("decode CapabilityStatement: the answer is a %q", clip(cs.ResourceType))
	}
	return nil
}

// operationOutcomeText returns what the OperationOutcome in body says, its
// issues' diagnostics or details on one line, or "" if body is none.
func operationOutcomeText(body []byte) string {
	var oo struct {
		ResourceType string `json:"resourceType"`
		Issue        []struct {
			Diagnostics string `json:"diagnostics"`
			Details     struct {
				Text string `json:"text"`
			} `json:"details"`
		} `json:"issue"`
	}
	if json.Unmarshal(body, &oo) != nil || oo.ResourceType != "OperationOutcome" {
		return ""
	}
	var texts []string
	for _, issue := range oo.Issue {
		if t := cmp.Or(issue.Diagnostics, issue.Details.Text); t != "" {
			texts = append(texts, t)
		}
	}
	// Fields folds the lines of a multi-line diagnostic, so that the message
	// stays one line in a log.
	return strings.Join(strings.Fields(strings.Join(texts, "; ")), " ")
}

// clip shortens what a service said to a length fit for an error message.
func clip(s string) string {
	const maxLen = 200
	if len(s) <= maxLen {
		return s
	}
	cut := maxLen
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// maxDepth bounds the nesting of a document; a form nests a few levels.
const maxDepth = 64

// readNames are the member names that decodeForm reads, by their folded form.
var readNames = func() map[string]string {
	names := make(map[string]string)
	for _, name := range []string{
		"resourceType", "id", "status", "docStatus", "type", "coding", "system", "code",
		"subject", "authenticator", "custodian", "identifier", "value", "date",
	} {
		names[foldName(name)] = name
	}
	return names
}()

// checkMembers checks the member names of the JSON document in body, so that
// decodeForm reads what FHIR means by it. encoding/json matches a name to a
// field without regard to case and takes the last of repeated members, so
// that {"status":"entered-in-error","Status":"current"} would read as
// current, and so would {"STATUS":"current"}, which FHIR does not know:
// whether a form is in force must not hang on such a reading. No object may
// name a member twice, in any case, and a name that decodeForm reads must be
// spelt as FHIR spells it.
func checkMembers(body []byte) error {
	err := checkMembersOfValue(json.NewDecoder(bytes.NewReader(body)), 0)
	if errors.Is(err, io.EOF) {
		return errors.New("no JSON value in the answer")
	}
	return err
}

func checkMembersOfValue(dec *json.Decoder, depth int) error {
	if depth > maxDepth {
		return fmt.Errorf("nested deeper than %d levels", maxDepth)
	}
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch tok {
	case json.Delim('{'):
		seen := make(map[string]bool)
		for dec.More() {
			tok, err := dec.Token()
			if err != nil {
				return err
			}
			name := tok.(string) // the decoder gives an object's member names as strings
			folded := foldName(name)
			if seen[folded] {
				return fmt.Errorf("member %q given twice", clip(name))
			}
			seen[folded] = true
			if exact, ok := readNames[folded]; ok && name != exact {
				return fmt.Errorf("member %q is not FHIR's %q", clip(name), exact)
			}
			if err := checkMembersOfValue(dec, depth+1); err != nil {
				return err
			}
		}
	case json.Delim('['):
		for dec.More() {
			if err := checkMembersOfValue(dec, depth+1); err != nil {
				return err
			}
		}
	default:
		return nil
	}
	_, err = dec.Token() // the closing delimiter
	return err
}

// foldName folds s as encoding/json does when it matches a member to a field:
// each rune becomes the least of its case-folding orbit (so "Status",
// "STATUS" and "ſtatus" all fold alike).
func foldName(s string) string {
	return strings.Map(func(r rune) rune {
		least := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			least = min(least, f)
		}
		return least
	}, s)
}
