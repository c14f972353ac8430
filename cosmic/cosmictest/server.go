// Package cosmictest provides an in-memory FHIR R4 form service on loopback,
// like net/http/httptest: the region's endpoint in front of Cambio Cosmic, as
// package cosmic reads it. Tests use it to play a form service, faults
// included, and the `lockworker demo` command uses it to run without one.
//
// It serves GET {URL}/DocumentReference/{id}, the Patient, Practitioner,
// PractitionerRole and Organization resources that forms refer to (GET
// {URL}/{type}/{id}, and {URL}/{type}/{id}/_history/{version}), and GET
// {URL}/metadata, and checks the bearer token and the Accept header as a
// strict gateway would.
package cosmictest

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lockworker/lockworker"
)

// The identifier systems of the documents the server builds. They are spelt
// out here rather than taken from package cosmic, so that a slip in the
// client's is not repeated by its fake.
const (
	PersonnummerSystem = "http://electronichealth.se/identifier/personnummer"
	HSAIDSystem        = "urn:oid:1.2.752.29.4.19"
)

// basePath is where the FHIR endpoint lives on the server, as on an
// integration platform that serves more than FHIR.
const basePath = "/fhir"

// Config configures a Server.
type Config struct {
	// Token is the bearer token every request must carry; "" lets requests
	// without one through.
	Token string
	// ByteOrderMark puts a UTF-8 byte-order mark before every answer's
	// JSON, as some integration platforms do.
	ByteOrderMark bool
}

// Document is a signed request form, as the server serves it: Put builds a
// realistic DocumentReference from it.
type Document struct {
	ID string
	// Status is the document's status; "" stands for "current".
	Status string
	// DocStatus is "final", "amended" or "preliminary"; "" leaves docStatus
	// out, as for a form not yet signed.
	DocStatus string
	// Type is the form's type; the zero Code leaves type out.
	Type lockworker.Code
	// Patient is the 12-digit personnummer of the subject; "" leaves the
	// subject out.
	Patient string
	// PatientSystem is the identifier system of Patient; "" stands for
	// PersonnummerSystem.
	PatientSystem string
	// Signer is the HSA-id of the authenticator; "" leaves it out.
	Signer string
	// Custodian is the HSA-id of the organisation that keeps the form; ""
	// leaves it out.
	Custodian string
	// Date is when the form was signed, and stands for when it was last
	// updated too; the zero time leaves both out.
	Date time.Time
}

// Resource is a resource that forms refer to for their patient, signer or
// custodian: a Patient, Practitioner, PractitionerRole or Organization.
type Resource struct {
	Type        string // "Patient", "Practitioner", "PractitionerRole" or "Organization"
	ID          string
	Identifiers []Identifier
	// Name is the person's or the organisation's name; "" leaves it out.
	Name string
}

// Identifier is a FHIR Identifier.
type Identifier struct {
	Use    string `json:"use,omitempty"`
	System string `json:"system"`
	Value  string `json:"value"`
}

// Call is one request the server received.
type Call struct {
	N      int // the request's number, from 1
	Method string
	Path   string // the URL path, such as "/fhir/DocumentReference/blankett-1"
	// Ref is the id of the DocumentReference read, "" for other paths.
	Ref string
	// Resource is the resource read, such as "Organization/vg-1" or
	// "DocumentReference/blankett-1", "" for other paths.
	Resource string
}

// Fault is what the server does instead of, or before, answering a call.
type Fault struct {
	// Delay holds the answer back this long (or until the client gives up).
	Delay time.Duration
	// Drop closes the connection without an answer, after Delay.
	Drop bool
	// Status, when not 0, is the status of the answer, after Delay; Body is
	// its body, an OperationOutcome when nil. With neither Drop nor Status,
	// the call is answered as usual after Delay.
	Status int
	Body   []byte
}

// Server is an in-memory FHIR form service. Its methods are safe for
// concurrent use.
type Server struct {
	http      *httptest.Server
	token     string
	bom       bool
	closed    chan struct{} // closed by Close, to end delays early
	closeOnce sync.Once

	mu sync.Mutex
	// docs holds the resources by their type and id, such as
	// "DocumentReference/blankett-1".
	docs  map[string]stored
	calls []Call
	fault func(Call) *Fault
}

// stored is a document as the server holds it.
type stored struct {
	body    []byte // nil once deleted
	version int
}

// NewServer starts a server on 127.0.0.1; Close stops it.
func NewServer(cfg Config) *Server {
	s := &Server{token: cfg.Token, bom: cfg.ByteOrderMark, closed: make(chan struct{}), docs: make(map[string]stored)}
	s.http = httptest.NewServer(http.HandlerFunc(s.serve))
	return s
}

// URL returns the base URL of the FHIR endpoint, such as
// "http://127.0.0.1:41234/fhir".
func (s *Server) URL() string { return s.http.URL + basePath }

// Close stops the server, ending delayed answers at once, and waits for the
// calls in progress to end.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.closed) })
	s.http.Close()
}

// Put stores the form, or a new version of it, built from doc.
func (s *Server) Put(doc Document) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := documentType + "/" + doc.ID
	version := s.docs[key].version + 1
	s.docs[key] = stored{body: build(doc, version), version: version}
}

// PutRaw stores body as the answer to a read of the form id, as it is: a
// hostile or malformed document, say.
func (s *Server) PutRaw(id string, body []byte) { s.PutRawResource(documentType, id, body) }

// PutResource stores a resource that forms refer to, or a new version of
// it, built from r.
func (s *Server) PutResource(r Resource) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := r.Type + "/" + r.ID
	version := s.docs[key].version + 1
	s.docs[key] = stored{body: buildResource(r, version), version: version}
}

// PutRawResource stores body as the answer to a read of resourceType/id, as
// it is.
func (s *Server) PutRawResource(resourceType, id string, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := resourceType + "/" + id
	s.docs[key] = stored{body: append([]byte{}, body...), version: s.docs[key].version + 1}
}

// Delete deletes the form: reads of it are answered 410 Gone from now on.
func (s *Server) Delete(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := documentType + "/" + id
	s.docs[key] = stored{version: s.docs[key].version + 1}
}

// SetFault has fault consulted on every call from now on; a nil *Fault
// answers the call as usual. SetFault(nil) ends the faults.
func (s *Server) SetFault(fault func(Call) *Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault = fault
}

// Calls returns the calls received so far, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Call(nil), s.calls...)
}

// documentType is the resource type of a form.
const documentType = "DocumentReference"

func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	rest, inBase := strings.CutPrefix(r.URL.Path, basePath+"/")
	resource, version, isResource := resourcePath(rest)
	isResource = inBase && isResource
	call := Call{Method: r.Method, Path: r.URL.Path}
	if isResource {
		call.Resource = resource
		if ref, isDoc := strings.CutPrefix(resource, documentType+"/"); isDoc {
			call.Ref = ref
		}
	}

	s.mu.Lock()
	call.N = len(s.calls) + 1
	s.calls = append(s.calls, call)
	fault := s.fault
	s.mu.Unlock()

	if fault != nil {
		if f := fault(call); f != nil && s.injure(w, r, f) {
			return
		}
	}

	switch {
	case s.token != "" && r.Header.Get("Authorization") != "Bearer "+s.token:
		w.Header().Set("WWW-Authenticate", `Bearer realm="cosmictest"`)
		s.writeOutcome(w, http.StatusUnauthorized, "login", "Missing or invalid bearer token")
	case r.Method != http.MethodGet:
		w.Header().Set("Allow", http.MethodGet)
		s.writeOutcome(w, http.StatusMethodNotAllowed, "not-supported", "Only reads are supported")
	case !strings.Contains(r.Header.Get("Accept"), "application/fhir+json"):
		s.writeOutcome(w, http.StatusNotAcceptable, "not-supported", "Accept must include application/fhir+json")
	case inBase && rest == "metadata":
		s.writeFHIR(w, http.StatusOK, []byte(capabilityStatement))
	case isResource:
		s.serveResource(w, resource, version)
	default:
		s.writeOutcome(w, http.StatusNotFound, "not-found", "Unknown path "+r.URL.Path)
	}
}

// resourcePath reads a path below the base as a read of a resource,
// "Type/id", or of one of its versions, "Type/id/_history/version".
func resourcePath(path string) (resource, version string, ok bool) {
	parts := strings.Split(path, "/")
	switch {
	case len(parts) == 2 && parts[0] != "" && parts[1] != "":
	case len(parts) == 4 && parts[0] != "" && parts[1] != "" && parts[2] == "_history" && parts[3] != "":
		version = parts[3]
	default:
		return "", "", false
	}
	return parts[0] + "/" + parts[1], version, true
}

// injure applies the fault f and reports whether it answered the call.
func (s *Server) injure(w http.ResponseWriter, r *http.Request, f *Fault) bool {
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done(): // the client gave up
			return true
		case <-s.closed:
			dropConnection(w) // a closed server does not answer
			return true
		}
	}
	switch {
	case f.Drop:
		dropConnection(w)
		return true
	case f.Status != 0 && f.Body == nil:
		s.writeOutcome(w, f.Status, "transient", "Injected fault")
		return true
	case f.Status != 0:
		s.writeFHIR(w, f.Status, f.Body)
		return true
	}
	return false
}

// dropConnection closes the connection of w without an answer.
func dropConnection(w http.ResponseWriter) {
	if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
		_ = conn.Close()
	}
}

// serveResource answers a read of resource, or of its version when version
// is not "".
func (s *Server) serveResource(w http.ResponseWriter, resource, version string) {
	s.mu.Lock()
	doc, ok := s.docs[resource]
	s.mu.Unlock()
	switch {
	case !ok || (version != "" && version != strconv.Itoa(doc.version)):
		s.writeOutcome(w, http.StatusNotFound, "not-found", fmt.Sprintf("Resource %s is not known", resource))
	case doc.body == nil:
		s.writeOutcome(w, http.StatusGone, "deleted", fmt.Sprintf("Resource %s has been deleted", resource))
	default:
		s.writeFHIR(w, http.StatusOK, doc.body)
	}
}

func (s *Server) writeFHIR(w http.ResponseWriter, status int, body []byte) {
	w.Header().Set("Content-Type", "application/fhir+json; charset=utf-8")
	w.WriteHeader(status)
	if s.bom {
		_, _ = w.Write([]byte("\ufeff"))
	}
	_, _ = w.Write(body)
}

func (s *Server) writeOutcome(w http.ResponseWriter, status int, code, text string) {
	type issue struct {
		Severity    string `json:"severity"`
		Code        string `json:"code"`
		Diagnostics string `json:"diagnostics"`
	}
	body, _ := json.Marshal(struct { // cannot fail: strings only
		ResourceType string  `json:"resourceType"`
		Issue        []issue `json:"issue"`
	}{"OperationOutcome", []issue{{"error", code, text}}})
	s.writeFHIR(w, status, body)
}

// capabilityStatement is what the server says of itself at /metadata.
const capabilityStatement = `{"resourceType":"CapabilityStatement","status":"active","date":"2025-01-01",` +
	`"publisher":"cosmictest","kind":"instance","software":{"name":"cosmictest"},"fhirVersion":"4.0.1",` +
	`"format":["application/fhir+json"],"rest":[{"mode":"server","resource":[{"type":"DocumentReference",` +
	`"interaction":[{"code":"read"}]}]}]}`

// The shape of the DocumentReference the server builds, its elements in the
// order of the FHIR R4 specification.
type (
	fhirDocument struct {
		ResourceType  string         `json:"resourceType"`
		ID            string         `json:"id"`
		Meta          fhirMeta       `json:"meta"`
		Status        string         `json:"status"`
		DocStatus     string         `json:"docStatus,omitempty"`
		Type          *fhirConcept   `json:"type,omitempty"`
		Subject       *fhirReference `json:"subject,omitempty"`
		Date          string         `json:"date,omitempty"`
		Authenticator *fhirReference `json:"authenticator,omitempty"`
		Custodian     *fhirReference `json:"custodian,omitempty"`
		Content       []fhirContent  `json:"content"`
	}
	fhirMeta struct {
		VersionID   string `json:"versionId"`
		LastUpdated string `json:"lastUpdated,omitempty"`
	}
	fhirConcept struct {
		Coding []lockworker.Code `json:"coding"`
	}
	fhirReference struct {
		Identifier fhirIdentifier `json:"identifier"`
	}
	fhirIdentifier struct {
		System string `json:"system"`
		Value  string `json:"value"`
	}
	fhirContent struct {
		Attachment fhirAttachment `json:"attachment"`
	}
	fhirAttachment struct {
		ContentType string `json:"contentType"`
		URL         string `json:"url"`
		Title       string `json:"title"`
	}
)

// build returns the DocumentReference JSON of doc at version.
func build(doc Document, version int) []byte {
	d := fhirDocument{
		ResourceType: "DocumentReference",
		ID:           doc.ID,
		Meta:         fhirMeta{VersionID: strconv.Itoa(version)},
		Status:       cmp.Or(doc.Status, "current"),
		DocStatus:    doc.DocStatus,
		// A real form holds its content as an attachment: a stub of one, so
		// that a client is tried on a document that has it.
		Content: []fhirContent{{Attachment: fhirAttachment{
			ContentType: "application/pdf",
			URL:         "Binary/" + doc.ID + "-pdf",
			Title:       "Blankett " + doc.Type.Code,
		}}},
	}
	if doc.Type != (lockworker.Code{}) {
		d.Type = &fhirConcept{Coding: []lockworker.Code{doc.Type}}
	}
	if doc.Patient != "" {
		d.Subject = &fhirReference{fhirIdentifier{cmp.Or(doc.PatientSystem, PersonnummerSystem), doc.Patient}}
	}
	if !doc.Date.IsZero() {
		d.Date = doc.Date.Format(time.RFC3339Nano)
		d.Meta.LastUpdated = d.Date
	}
	if doc.Signer != "" {
		d.Authenticator = &fhirReference{fhirIdentifier{HSAIDSystem, doc.Signer}}
	}
	if doc.Custodian != "" {
		d.Custodian = &fhirReference{fhirIdentifier{HSAIDSystem, doc.Custodian}}
	}
	body, _ := json.Marshal(d) // cannot fail: strings only
	return body
}

// The shape of the resources the server builds for forms to refer to.
type (
	fhirResource struct {
		ResourceType string           `json:"resourceType"`
		ID           string           `json:"id"`
		Meta         fhirMeta         `json:"meta"`
		Identifier   []Identifier     `json:"identifier,omitempty"`
		Active       bool             `json:"active"`
		Name         *json.RawMessage `json:"name,omitempty"`
	}
	fhirHumanName struct {
		Text string `json:"text"`
	}
)

// buildResource returns the JSON of r at version. A Patient's or a
// Practitioner's name is a list of HumanName, an Organization's a string.
func buildResource(r Resource, version int) []byte {
	res := fhirResource{ResourceType: r.Type, ID: r.ID, Meta: fhirMeta{VersionID: strconv.Itoa(version)}, Identifier: r.Identifiers, Active: true}
	if r.Name != "" {
		var name []byte
		switch r.Type {
		case "Organization":
			name, _ = json.Marshal(r.Name) // cannot fail: a string
		case "Patient", "Practitioner":
			name, _ = json.Marshal([]fhirHumanName{{Text: r.Name}}) // cannot fail: strings only
		}
		if name != nil {
			raw := json.RawMessage(name)
			res.Name = &raw
		}
	}
	body, _ := json.Marshal(res) // cannot fail: strings and raw JSON it made
	return body
}
