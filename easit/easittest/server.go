// Package easittest runs an in-memory Easit GO integration API on loopback,
// as net/http/httptest runs an HTTP server: for tests, and for the demo
// command, which is why it does not depend on package testing.
//
// The server follows docs/EASIT.md: Basic auth with the API key (none for /ping),
// GET /items with a JSON body, answered in 1-based pages sorted by Id, and
// POST /items through one import handler that sets a ticket's status and
// appends its Message to the ticket's log. Tests add tickets (AddOrder, or
// AddItem for any property list), script failures (SetFault), and inspect
// what the client did (Ticket, Comments, Log, Updates, Calls).
package easittest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/lockworker/lockworker"
	"github.com/lockworker/lockworker/easit"
)

// Config configures a Server. Every field but APIKey has a default.
type Config struct {
	APIKey        string           // the key that Basic auth must give as user name
	View          string           // the order view's identifier; default "VIS-1177-las"
	ImportHandler string           // the import handler's identifier; default "VIS-1177-uppdatera"
	Fields        easit.Fields     // the view's column labels; empty ones take their defaults
	PageSize      int              // the largest page served, and the size when none is asked; default 100
	User          string           // the user named in log entries; default "lockworker"
	Now           func() time.Time // the clock of log entries; default time.Now
	// ByteOrderMark puts a UTF-8 byte-order mark before every JSON answer,
	// as some Easit installations do.
	ByteOrderMark bool
	// OnlyStatuses, when set, has the view list only the tickets in one of
	// these statuses (a view of the open and waiting orders).
	OnlyStatuses []string
}

// Order is a ticket of the order view, given as its fields. An empty field
// (a zero Created) is given by the view as null, as Easit gives an empty field.
type Order struct {
	Ticket        string // the ticket number, such as "55"
	Status        string
	Kind          string
	Personnummer  string
	Reporter      string
	ReporterHSAID string
	FormRef       string
	Created       time.Time
}

// Call is one request the server received.
type Call struct {
	N       int      // 1 for the first request, and so on
	Op      string   // easit.OpPing, easit.OpList or easit.OpImport
	Page    int      // the page asked for (list)
	Tickets []string // the ID property of each item (import)
}

// Fault is how the server fails a call instead of answering it normally.
type Fault struct {
	Delay time.Duration // wait this long first (or until the client gives up)

	Status int    // answer with this status and Body
	Body   string // the answer's text; with ItemResult, each item's message
	Drop   bool   // close the connection without an answer

	// AfterApply carries out an import before failing it with Status or
	// Drop, so that the client cannot know whether it took effect.
	AfterApply bool
	// ItemResult answers 200 with this result ("Exception", "Skipped") for
	// every item of an import, carrying none of them out.
	ItemResult string
	// ItemResults, by ticket number, answers 200 with that result for the
	// ticket's item alone, carrying it out not; the other items are
	// carried out.
	ItemResults map[string]string
}

// Server is an in-memory Easit GO. Its methods are safe for concurrent use.
type Server struct {
	cfg    Config
	fields easit.Fields
	srv    *httptest.Server

	mu       sync.Mutex
	extra    []column // columns added after the view's own
	tickets  []*ticket
	statuses map[string]string // status name → its rawValue
	calls    []Call
	fault    func(Call) *Fault
}

type ticket struct {
	item     easit.Item
	seq      int // the order in which it was added
	log      []string
	comments []string
	updates  int
}

// NewServer starts a server on 127.0.0.1, on a free port. Close it when done.
func NewServer(cfg Config) *Server {
	if cfg.View == "" {
		cfg.View = "VIS-1177-las"
	}
	if cfg.ImportHandler == "" {
		cfg.ImportHandler = "VIS-1177-uppdatera"
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = 100
	}
	if cfg.User == "" {
		cfg.User = "lockworker"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	s := &Server{cfg: cfg, fields: cfg.Fields.WithDefaults(), statuses: make(map[string]string)}
	s.srv = httptest.NewServer(http.HandlerFunc(s.handle))
	return s
}

// URL is the base URL of the server, to give to easit.NewClient.
func (s *Server) URL() string { return s.srv.URL }

// Close shuts the server down, waiting for the requests under way.
func (s *Server) Close() { s.srv.Close() }

// AddOrder adds a ticket to the order view, with its database id, status and
// rawValues made up as Easit would.
func (s *Server) AddOrder(o Order) {
	created := ""
	if !o.Created.IsZero() {
		created = o.Created.UTC().Format(time.RFC3339)
	}
	s.mu.Lock()
	statusRaw := s.statusRaw(o.Status)
	s.mu.Unlock()
	f := s.fields
	s.AddItem(easit.Item{Properties: []easit.Property{
		property(f.Ticket, o.Ticket, o.Ticket),
		property(f.Status, o.Status, statusRaw),
		property(f.Kind, o.Kind, o.Kind),
		property(f.Personnummer, o.Personnummer, o.Personnummer),
		property(f.Reporter, o.Reporter, o.Reporter),
		property(f.ReporterHSAID, o.ReporterHSAID, o.ReporterHSAID),
		property(f.FormRef, o.FormRef, o.FormRef),
		property(f.Created, localTime(o.Created), created),
	}})
}

// localTime is a time as Easit shows it to people, in Swedish time.
func localTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(lockworker.Stockholm).Format("2006-01-02 15:04")
}

// property is a property whose content and rawValue are null when empty.
func property(name, content, raw string) easit.Property {
	p := easit.Property{Name: name}
	if content != "" {
		p.Content = &content
	}
	if raw != "" {
		p.RawValue = &raw
	}
	return p
}

// AddItem adds an item to the view exactly as given, for tests of data that
// AddOrder cannot make: repeated or conflicting properties, nulls, markup. An
// item without an ID gets a database id such as "13:3". The view lists it by
// its ticket number (the Id column) when that is a number, else after those.
func (s *Server) AddItem(it easit.Item) {
	s.mu.Lock()
	defer s.mu.Unlock()
	seq := len(s.tickets) + 1
	if it.ID == "" {
		it.ID = fmt.Sprintf("13:%d", seq+1)
	}
	s.tickets = append(s.tickets, &ticket{item: copyItem(it), seq: seq})
}

// statusRaw is the rawValue of a status: a database id, as Easit's statuses
// are entries of a list. It is called with s.mu held.
func (s *Server) statusRaw(name string) string {
	if name == "" {
		return ""
	}
	if _, ok := s.statuses[name]; !ok {
		s.statuses[name] = fmt.Sprintf("73:%d", len(s.statuses)+1)
	}
	return s.statuses[name]
}

// Ticket returns the item of the ticket numbered id, as it is now.
func (s *Server) Ticket(id string) (easit.Item, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.find(id)
	if t == nil {
		return easit.Item{}, false
	}
	return copyItem(t.item), true
}

// Status returns the status of the ticket numbered id, "" if it has none.
func (s *Server) Status(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.find(id); t != nil {
		return t.content(s.fields.Status)
	}
	return ""
}

// Comments returns the Messages imported to the ticket numbered id, as sent.
func (s *Server) Comments(id string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.find(id); t != nil {
		return slices.Clone(t.comments)
	}
	return nil
}

// Log returns the log entries of the ticket numbered id, as Easit shows them:
// each Message after a "[ 2026-11-23 12:00, lockworker ] " prefix.
func (s *Server) Log(id string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.find(id); t != nil {
		return slices.Clone(t.log)
	}
	return nil
}

// Updates returns how many imported items were carried out on the ticket
// numbered id.
func (s *Server) Updates(id string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t := s.find(id); t != nil {
		return t.updates
	}
	return 0
}

// Calls returns the requests received so far, in order.
func (s *Server) Calls() []Call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.calls)
}

// SetFault has fault called with each call before it is answered; when it
// returns a Fault, the call fails that way. nil removes it.
func (s *Server) SetFault(fault func(Call) *Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fault = fault
}

// find returns the first ticket whose ticket number is id. It is called with
// s.mu held.
func (s *Server) find(id string) *ticket {
	for _, t := range s.tickets {
		if s.number(t) == id {
			return t
		}
	}
	return nil
}

// number is a ticket's number as Desk reads it: the first non-empty content
// of its ticket column, else the first non-empty rawValue.
func (s *Server) number(t *ticket) string {
	var raw string
	for _, p := range t.item.Properties {
		switch {
		case p.Name != s.fields.Ticket:
		case p.Content != nil && *p.Content != "":
			return *p.Content
		case raw == "" && p.RawValue != nil:
			raw = *p.RawValue
		}
	}
	return raw
}

// content is the first non-null content of the property named name.
func (t *ticket) content(name string) string {
	for _, p := range t.item.Properties {
		if p.Name == name && p.Content != nil {
			return *p.Content
		}
	}
	return ""
}

// wireItem is an item as Easit sends it: with its attachments, none here.
type wireItem struct {
	easit.Item
	Attachments []json.RawMessage `json:"attachment"`
}

func copyItem(it easit.Item) easit.Item {
	out := easit.Item{ID: it.ID}
	for _, p := range it.Properties {
		q := easit.Property{Name: p.Name}
		if p.Content != nil {
			c := *p.Content
			q.Content = &c
		}
		if p.RawValue != nil {
			r := *p.RawValue
			q.RawValue = &r
		}
		out.Properties = append(out.Properties, q)
	}
	return out
}

// listRequest is the body of GET /items. Fields that the server does not know
// (columnFilter among them) are refused, so that a client's typo shows.
type listRequest struct {
	View       string `json:"itemViewIdentifier"`
	Page       int    `json:"page"`
	PageSize   int    `json:"pageSize"`
	SortColumn struct {
		Content string `json:"content"`
		Order   string `json:"order"`
	} `json:"sortColumn"`
}

// importRequest is the body of POST /items.
type importRequest struct {
	Handler string `json:"importHandlerIdentifier"`
	Items   []struct {
		ID         string `json:"id"`
		UID        string `json:"uid"`
		Properties []struct {
			Name    string `json:"name"`
			Content string `json:"content"`
		} `json:"property"`
	} `json:"itemToImport"`
}

func (r importRequest) tickets() []string {
	var ids []string
	for _, it := range r.Items {
		for _, p := range it.Properties {
			if p.Name == "ID" {
				ids = append(ids, p.Content)
			}
		}
	}
	return ids
}

func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	var op string
	switch path := strings.TrimPrefix(r.URL.Path, "/integration-api"); {
	case path == "/ping" && r.Method == http.MethodGet:
		op = easit.OpPing
	case path == "/items" && r.Method == http.MethodGet:
		op = easit.OpList
	case path == "/items" && r.Method == http.MethodPost:
		op = easit.OpImport
	default:
		http.Error(w, "No such resource", http.StatusNotFound)
		return
	}
	var list listRequest
	var imp importRequest
	switch op {
	case easit.OpList:
		if !decode(w, r, &list) {
			return
		}
	case easit.OpImport:
		if !decode(w, r, &imp) {
			return
		}
	}

	s.mu.Lock()
	call := Call{N: len(s.calls) + 1, Op: op, Page: list.Page, Tickets: imp.tickets()}
	s.calls = append(s.calls, call)
	faultFunc := s.fault
	s.mu.Unlock()
	var fault *Fault
	if faultFunc != nil {
		fault = faultFunc(call)
	}
	if fault == nil {
		fault = &Fault{}
	}
	if fault.Delay > 0 {
		timer := time.NewTimer(fault.Delay)
		defer timer.Stop()
		select {
		case <-timer.C:
		case <-r.Context().Done():
			return
		}
	}
	if !fault.AfterApply && fails(w, fault) {
		return
	}

	if op != easit.OpPing {
		if key, _, ok := r.BasicAuth(); !ok || key != s.cfg.APIKey {
			w.Header().Set("WWW-Authenticate", `Basic realm="Easit GO"`)
			http.Error(w, "Unauthorized", http.StatusUnauthorized)
			return
		}
	}
	switch op {
	case easit.OpPing:
		s.writeJSON(w, map[string]string{"message": "Pong!"})
	case easit.OpList:
		s.list(w, list)
	case easit.OpImport:
		s.importItems(w, imp, fault)
	}
}

// decode reads a request's JSON body into v, answering 400 if it cannot.
func decode(w http.ResponseWriter, r *http.Request, v any) bool {
	data, err := io.ReadAll(r.Body)
	if err == nil {
		dec := json.NewDecoder(bytes.NewReader(data))
		dec.DisallowUnknownFields()
		err = dec.Decode(v)
	}
	if err != nil {
		http.Error(w, "Bad request: "+err.Error(), http.StatusBadRequest)
		return false
	}
	return true
}

// fails answers a call as fault says, and reports whether it did.
func fails(w http.ResponseWriter, fault *Fault) bool {
	switch {
	case fault.Drop:
		if conn, _, err := http.NewResponseController(w).Hijack(); err == nil {
			conn.Close()
		}
		return true
	case fault.Status != 0:
		http.Error(w, fault.Body, fault.Status)
		return true
	}
	return false
}

func (s *Server) writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	if s.cfg.ByteOrderMark {
		_, _ = w.Write([]byte("\ufeff"))
	}
	_ = json.NewEncoder(w).Encode(v) // the client going away is not the server's concern
}

// column is a column of the view on the wire.
type column struct {
	Content        string  `json:"content"`
	Datatype       string  `json:"datatype"`
	Collection     bool    `json:"collection"`
	ConnectionType *string `json:"connectiontype"`
}

// itemPage is an answer to GET /items on the wire. Items is {} when the page
// is empty, one of the forms Easit gives.
type itemPage struct {
	Columns struct {
		Column []column `json:"column"`
	} `json:"columns"`
	Items struct {
		Item []wireItem `json:"item,omitempty"`
	} `json:"items"`
	RequestedPage      int `json:"requestedPage"`
	Page               int `json:"page"`
	PageSize           int `json:"pageSize"`
	TotalNumberOfPages int `json:"totalNumberOfPages"`
	TotalNumberOfItems int `json:"totalNumberOfItems"`
}

func (s *Server) list(w http.ResponseWriter, req listRequest) {
	if req.View != s.cfg.View {
		http.Error(w, fmt.Sprintf("No item view with identifier %q", req.View), http.StatusInternalServerError)
		return
	}
	size := req.PageSize
	if size <= 0 || size > s.cfg.PageSize {
		size = s.cfg.PageSize
	}
	page := max(req.Page, 1)

	s.mu.Lock()
	all := slices.Clone(s.tickets)
	if len(s.cfg.OnlyStatuses) > 0 {
		all = slices.DeleteFunc(all, func(t *ticket) bool { return !slices.Contains(s.cfg.OnlyStatuses, t.content(s.fields.Status)) })
	}
	slices.SortStableFunc(all, s.byTicketNumber)
	var answer itemPage
	answer.Columns.Column = s.columns()
	for i := (page - 1) * size; i < min(page*size, len(all)); i++ {
		answer.Items.Item = append(answer.Items.Item, wireItem{Item: copyItem(all[i].item), Attachments: []json.RawMessage{}})
	}
	s.mu.Unlock()

	answer.RequestedPage = req.Page
	answer.Page = page
	answer.PageSize = size
	answer.TotalNumberOfPages = (len(all) + size - 1) / size
	answer.TotalNumberOfItems = len(all)
	s.writeJSON(w, answer)
}

// byTicketNumber orders tickets as sorting on Id ascending does: by number,
// and those without a numeric Id after, in the order added.
func (s *Server) byTicketNumber(a, b *ticket) int {
	na, errA := strconv.Atoi(s.number(a))
	nb, errB := strconv.Atoi(s.number(b))
	switch {
	case errA == nil && errB == nil && na != nb:
		return na - nb
	case errA == nil && errB != nil:
		return -1
	case errA != nil && errB == nil:
		return 1
	}
	return a.seq - b.seq
}

// AddColumn adds a column to the view, after its own: one that shares a
// label with another, say, as Easit allows. Items give its values through
// AddItem.
func (s *Server) AddColumn(c easit.Column) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.extra = append(s.extra, column{Content: c.Name, Datatype: c.DataType, Collection: c.Collection, ConnectionType: c.ConnectionType})
}

// columns returns the view's columns. It is called with s.mu held.
func (s *Server) columns() []column {
	f := s.fields
	status := "STATUS"
	return append([]column{
		{Content: f.Ticket, Datatype: "INTEGER"},
		{Content: f.Status, Datatype: "STRING", ConnectionType: &status},
		{Content: f.Kind, Datatype: "STRING"},
		{Content: f.Personnummer, Datatype: "STRING"},
		{Content: f.Reporter, Datatype: "STRING"},
		{Content: f.ReporterHSAID, Datatype: "STRING"},
		{Content: f.FormRef, Datatype: "STRING"},
		{Content: f.Created, Datatype: "DATE"},
	}, s.extra...)
}

// itemResult is one item's result in an answer to POST /items.
type itemResult struct {
	UID          string            `json:"uid"`
	Result       string            `json:"result"`
	ReturnValues map[string]string `json:"returnValues"`
	Message      *string           `json:"skippedOrExceptionMessage"`
}

func (s *Server) importItems(w http.ResponseWriter, req importRequest, fault *Fault) {
	if req.Handler != s.cfg.ImportHandler {
		http.Error(w, fmt.Sprintf("No import handler with identifier %q", req.Handler), http.StatusInternalServerError)
		return
	}
	var results []itemResult
	s.mu.Lock()
	for _, in := range req.Items {
		res := itemResult{UID: in.UID, Result: "OK", ReturnValues: map[string]string{}}
		props := make(map[string][]string)
		for _, p := range in.Properties {
			props[p.Name] = append(props[p.Name], p.Content)
		}
		var t *ticket
		if ids := props["ID"]; len(ids) == 1 {
			t = s.find(ids[0])
		}
		switch {
		case fault.ItemResult != "":
			res.Result, res.Message = fault.ItemResult, &fault.Body
		case len(props["ID"]) == 1 && fault.ItemResults[props["ID"][0]] != "":
			res.Result, res.Message = fault.ItemResults[props["ID"][0]], &fault.Body
		case t == nil:
			msg := fmt.Sprintf("Inget ärende med ID %q hittades", strings.Join(props["ID"], ","))
			res.Result, res.Message = "Exception", &msg
		default:
			s.apply(t, props)
			res.ReturnValues["id"] = t.item.ID
		}
		results = append(results, res)
	}
	s.mu.Unlock()
	if fault.AfterApply && fails(w, fault) {
		return
	}
	s.writeJSON(w, map[string][]itemResult{"importItemResult": results})
}

// apply carries out an imported item on t: sets its status and appends its
// messages. It is called with s.mu held.
func (s *Server) apply(t *ticket, props map[string][]string) {
	t.updates++
	for _, status := range props["Status"] {
		raw := s.statusRaw(status)
		set := false
		for i, p := range t.item.Properties {
			if p.Name == s.fields.Status {
				t.item.Properties[i] = property(p.Name, status, raw)
				set = true
			}
		}
		if !set {
			t.item.Properties = append(t.item.Properties, property(s.fields.Status, status, raw))
		}
	}
	for _, msg := range props["Message"] {
		prefix := fmt.Sprintf("[ %s, %s ] ", localTime(s.cfg.Now()), s.cfg.User)
		t.log = append(t.log, prefix+msg)
		t.comments = append(t.comments, msg)
	}
}

// SetStatus sets the status of the ticket numbered id, as a support agent
// does in Easit (to re-submit an order, say); it writes nothing to the log.
func (s *Server) SetStatus(id, status string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	t := s.find(id)
	if t == nil {
		return false
	}
	raw := s.statusRaw(status)
	for i, p := range t.item.Properties {
		if p.Name == s.fields.Status {
			t.item.Properties[i] = property(p.Name, status, raw)
			return true
		}
	}
	t.item.Properties = append(t.item.Properties, property(s.fields.Status, status, raw))
	return true
}
