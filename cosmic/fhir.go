package cosmic

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
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
	Subject       reference   `json:"subject"`
	Authenticator reference   `json:"authenticator"`
	Custodian     reference   `json:"custodian"`
	Date          string      `json:"date"`
	Extension     []extension `json:"extension"`
	// Contained are read only when a party refers to one of them, so that
	// a contained resource of another shape does not make the form
	// unreadable.
	Contained []json.RawMessage `json:"contained"`
}

// reference is a FHIR Reference: a literal reference (to a contained
// resource, "#id", or to a resource of the same service, "Patient/id"), a
// logical identifier, or both.
type reference struct {
	Reference  string      `json:"reference"`
	Identifier *identifier `json:"identifier"`
}

// identifier is a FHIR Identifier.
type identifier struct {
	Use    string `json:"use"`
	System string `json:"system"`
	Value  string `json:"value"`
}

// resource is the part of a Patient, Practitioner, PractitionerRole or
// Organization that identifies it.
type resource struct {
	ResourceType string       `json:"resourceType"`
	ID           string       `json:"id"`
	Identifier   []identifier `json:"identifier"`
}

// extension is a FHIR extension that may carry the signing time.
type extension struct {
	URL           string `json:"url"`
	ValueDateTime string `json:"valueDateTime"`
	ValueInstant  string `json:"valueInstant"`
}

// party is one of the three parties a form names: the patient it is about,
// who signed it and the organisation that keeps it.
type party struct {
	element string
	// types are the resource types a reference to the party may name.
	types []string
	// identify returns the identity an identifier gives of the party, or
	// false when it gives none: another system, or no value of the kind.
	identify func(identifier) (string, bool)
	// set puts the identity found into the form.
	set func(*lockworker.Form, string)
}

var (
	subjectParty = party{
		element: "subject",
		types:   []string{"Patient"},
		identify: func(id identifier) (string, bool) {
			v := strings.TrimSpace(id.Value)
			return v, (id.System == systemPersonnummer || id.System == systemPersonnummerOID) && v != ""
		},
		// The personnummer stays as written: the rules compare it in its
		// 12-digit form, on the processing date.
		set: func(f *lockworker.Form, v string) { f.Patient = v },
	}
	authenticatorParty = party{
		element: "authenticator",
		types:   []string{"Practitioner", "PractitionerRole", "Organization"},
		// An identifier under an HSA-id system is taken as it is written,
		// so that the rules can say why one that is no HSA-id was refused.
		identify: func(id identifier) (string, bool) {
			v := strings.TrimSpace(id.Value)
			return v, (id.System == systemHSAID || id.System == systemHSAIDOID) && v != ""
		},
		set: func(f *lockworker.Form, v string) { f.Signer, f.SignerInvalid = parseHSAID(v) },
	}
	// An organisation's HSA-id is taken under any system: organisations
	// carry it under several, and its syntax alone tells it from an
	// organisation number. Under an HSA-id system it is taken as written,
	// so that the rules can say why one that is no HSA-id was refused.
	custodianParty = party{
		element: "custodian",
		types:   []string{"Organization"},
		identify: func(id identifier) (string, bool) {
			if v := strings.TrimSpace(id.Value); (id.System == systemHSAID || id.System == systemHSAIDOID) && v != "" {
				return v, true
			}
			return hsaID(id)
		},
		set: func(f *lockworker.Form, v string) { f.Custodian, f.CustodianInvalid = parseHSAID(v) },
	}
	parties = []party{subjectParty, authenticatorParty, custodianParty}
)

// parseHSAID reads the HSA-id a party gives, and why it was refused: none
// given is no refusal.
func parseHSAID(v string) (lockworker.HSAID, error) {
	if v == "" {
		return lockworker.HSAID{}, nil
	}
	return lockworker.ParseHSAID(v)
}

func hsaID(id identifier) (string, bool) {
	h, err := lockworker.ParseHSAID(id.Value)
	return h.String(), err == nil
}

// identityIn returns the one identity that the identifiers give of p, or ""
// when they give none, or several that differ: a resource that names two
// patients names none. An identifier in use "old" is no longer the party's.
func (p party) identityIn(ids []identifier) string {
	found := ""
	for _, id := range ids {
		v, ok := p.identify(id)
		switch {
		case !ok || id.Use == "old":
		case found != "" && withoutCenturyHyphen(v) != withoutCenturyHyphen(found):
			return ""
		case found == "":
			found = v
		}
	}
	return found
}

// withoutCenturyHyphen writes a personnummer given as YYYYMMDD-NNNC as
// YYYYMMDDNNNC, so that a resource that gives one number both ways names one
// person. A ten-digit form is left as it is: its century hangs on the
// processing date, which the rules know. An HSA-id never has a hyphen
// there, so that the parties' other identities compare as they are.
func withoutCenturyHyphen(v string) string {
	if len(v) == 13 && v[8] == '-' {
		return v[:8] + v[9:]
	}
	return v
}

func (p party) refers(resourceType string) bool { return slices.Contains(p.types, resourceType) }

// formReader reads the answers of one form service.
type formReader struct {
	// base is the service's base URL: an absolute reference under it is
	// read as the relative reference it stands for.
	base string
	// signingTimeExtension is the URL of the extension that carries the
	// signing time, "" to take it from date.
	signingTimeExtension string
}

// draft is a form as its document gives it, and the resources to read
// before it is complete.
type draft struct {
	form  lockworker.Form
	reads []pendingRead
}

// pendingRead is a party's identity held in a resource of the service.
type pendingRead struct {
	party        party
	resourceType string
	id           string
	path         string // relative to the base URL
}

// decodeForm translates the DocumentReference in body, read by ref, into the
// evidence it gives, and the references to other resources still to read.
// What the document leaves out, or gives under another system or in another
// form than docs/FORMS.md names, stays zero in the Form, for the rules to judge;
// only an answer that is not the DocumentReference asked for, that cannot be
// read one way only, or whose references cannot be followed, is an error.
func (fr formReader) decodeForm(ref string, body []byte) (draft, error) {
	if err := checkMembers(body); err != nil {
		return draft{}, fmt.Errorf("decode DocumentReference: %w", err)
	}
	var doc documentReference
	if err := json.Unmarshal(body, &doc); err != nil {
		return draft{}, fmt.Errorf("decode DocumentReference: %w", err)
	}
	if doc.ResourceType != "DocumentReference" {
		return draft{}, fmt.Errorf("decode DocumentReference: the answer is a %q", clip(doc.ResourceType))
	}
	if doc.ID != ref {
		return draft{}, fmt.Errorf("decode DocumentReference: the answer is document %q", clip(doc.ID))
	}

	d := draft{form: lockworker.Form{
		ID:      doc.ID,
		Current: doc.Status == "current",
		Final:   doc.DocStatus == "final" || doc.DocStatus == "amended",
	}}
	for _, c := range doc.Type.Coding {
		d.form.Types = append(d.form.Types, lockworker.Code{System: c.System, Code: c.Code})
	}
	for i, r := range []reference{doc.Subject, doc.Authenticator, doc.Custodian} {
		p := parties[i]
		value, read, err := fr.locate(p, r, doc.Contained)
		if err != nil {
			return draft{}, fmt.Errorf("decode DocumentReference: %s: %w", p.element, err)
		}
		if read != nil {
			d.reads = append(d.reads, *read)
		}
		p.set(&d.form, value)
	}
	d.form.Date = fr.signingTime(doc)
	return d, nil
}

// locate finds the identity of party p that ref gives: in its logical
// identifier, in the contained resource it refers to, or else as a resource
// of the service still to read. A reference to a resource of a type the
// party cannot be gives no identity; one that cannot be followed is an
// error.
func (fr formReader) locate(p party, ref reference, contained []json.RawMessage) (string, *pendingRead, error) {
	if ref.Identifier != nil {
		if v, ok := p.identify(*ref.Identifier); ok {
			return v, nil, nil
		}
	}
	switch {
	case ref.Reference == "":
		return "", nil, nil
	case strings.HasPrefix(ref.Reference, "#"):
		res, err := containedResource(contained, ref.Reference[1:])
		if err != nil {
			return "", nil, err
		}
		if !p.refers(res.ResourceType) {
			return "", nil, nil
		}
		return p.identityIn(res.Identifier), nil, nil
	}
	read, err := fr.relative(ref.Reference)
	if err != nil {
		return "", nil, err
	}
	if !p.refers(read.resourceType) {
		return "", nil, nil
	}
	read.party = p
	return "", &read, nil
}

// containedResource returns the contained resource whose id is id. Only that
// one is read whole.
func containedResource(contained []json.RawMessage, id string) (resource, error) {
	var found []json.RawMessage
	for _, raw := range contained {
		var probe struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(raw, &probe) == nil && probe.ID == id && id != "" {
			found = append(found, raw)
		}
	}
	switch len(found) {
	case 0:
		return resource{}, fmt.Errorf("refers to #%s, which the document does not contain", clip(id))
	case 1:
		var res resource
		if err := json.Unmarshal(found[0], &res); err != nil {
			return resource{}, fmt.Errorf("contained resource #%s: %w", clip(id), err)
		}
		return res, nil
	}
	return resource{}, fmt.Errorf("refers to #%s, which the document contains %d times", clip(id), len(found))
}

// resourceTypeSyntax is the syntax of a FHIR resource type's name.
var resourceTypeSyntax = regexp.MustCompile(`^[A-Z][A-Za-z]{1,63}$`)

// relative reads a literal reference that is not to a contained resource:
// "Type/id", or "Type/id/_history/version", relative to the service's base
// URL, or an absolute URL under it. Any other reference, to another host or
// path above all, is refused: lockworker never reads what the form service
// does not itself serve.
func (fr formReader) relative(ref string) (pendingRead, error) {
	rel := ref
	if after, ok := strings.CutPrefix(ref, fr.base+"/"); ok && fr.base != "" {
		rel = after
	}
	parts := strings.Split(rel, "/")
	valid := (len(parts) == 2 || (len(parts) == 4 && parts[2] == "_history" && lockworker.ValidFormReference(parts[3]))) &&
		resourceTypeSyntax.MatchString(parts[0]) && lockworker.ValidFormReference(parts[1])
	if !valid {
		return pendingRead{}, fmt.Errorf("refers to %q, which is no reference to a resource of the form service", clip(ref))
	}
	return pendingRead{resourceType: parts[0], id: parts[1], path: rel}, nil
}

// decodeResource reads the resource that read names from body, and returns
// the identity it gives of read's party.
func decodeResource(read pendingRead, body []byte) (string, error) {
	if err := checkMembers(body); err != nil {
		return "", fmt.Errorf("decode %s: %w", read.resourceType, err)
	}
	var res resource
	if err := json.Unmarshal(body, &res); err != nil {
		return "", fmt.Errorf("decode %s: %w", read.resourceType, err)
	}
	if res.ResourceType != read.resourceType || res.ID != read.id {
		return "", fmt.Errorf("decode %s: the answer is %s %q", read.resourceType, clip(res.ResourceType), clip(res.ID))
	}
	return read.party.identityIn(res.Identifier), nil
}

// signingTime returns when the document says it was signed: its date, or the
// configured extension's value; zero when it gives no time of day, or
// several.
func (fr formReader) signingTime(doc documentReference) time.Time {
	if fr.signingTimeExtension == "" {
		return parseDateTime(doc.Date)
	}
	var at time.Time
	for _, ext := range doc.Extension {
		if ext.URL != fr.signingTimeExtension {
			continue
		}
		t := parseDateTime(cmp.Or(ext.ValueDateTime, ext.ValueInstant))
		if t.IsZero() || (!at.IsZero() && !t.Equal(at)) {
			return time.Time{}
		}
		at = t
	}
	return at
}

// dateTimeSyntax is a FHIR dateTime with a time of day, to the minute or the
// second, with or without a fraction and a zone. FHIR asks for seconds and a
// zone with a time; forms are written without them too.
var dateTimeSyntax = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?(Z|[+-]([0-9]{2}):([0-9]{2}))?$`)

// parseDateTime reads a FHIR dateTime with a time of day, in Swedish time when
// it gives no zone. A date alone (or a year and month) says when, not at what
// time, it was signed: it gives the zero time, as does anything else.
func parseDateTime(s string) time.Time {
	m := dateTimeSyntax.FindStringSubmatch(s)
	if m == nil || m[4] > "14" || m[5] > "59" { // FHIR's offsets run from -14:00 to +14:00
		return time.Time{}
	}
	layout := "2006-01-02T15:04"
	if m[1] != "" {
		layout += ":05" // a fraction after the seconds is read without a layout of its own
	}
	var t time.Time
	var err error
	if m[3] != "" {
		t, err = time.Parse(layout+"Z07:00", s)
	} else {
		t, err = time.ParseInLocation(layout, s, lockworker.Stockholm)
	}
	if err != nil {
		return time.Time{}
	}
	return t
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
		"use", "reference", "contained", "extension", "url", "valueDateTime", "valueInstant",
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
