package easit

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"

	"github.com/lockworker/lockworker"
	"golang.org/x/text/unicode/norm"
)

// Fields are the column labels of a region's order view, by the order field
// each holds.
type Fields struct {
	Ticket        string // the ticket number people see
	Status        string
	Kind          string
	Personnummer  string
	Reporter      string
	ReporterHSAID string
	FormRef       string
	Created       string // its rawValue is the creation time, UTC ISO 8601
}

// WithDefaults returns f with every empty label set to its default (docs/EASIT.md).
func (f Fields) WithDefaults() Fields {
	def := func(s *string, d string) {
		if *s == "" {
			*s = d
		}
	}
	def(&f.Ticket, "Id")
	def(&f.Status, "Status")
	def(&f.Kind, "Ärendetyp")
	def(&f.Personnummer, "Personnummer")
	def(&f.Reporter, "Anmälare")
	def(&f.ReporterHSAID, "Anmälarens HSA-id")
	def(&f.FormRef, "Blankettreferens")
	def(&f.Created, "Skapad")
	return f
}

// normalized returns f with every label in Unicode NFC, the form in which
// Desk compares labels: "Ärendetyp" typed on one system and sent by another
// may otherwise differ in how its Ä is encoded.
func (f Fields) normalized() Fields {
	for _, s := range []*string{&f.Ticket, &f.Status, &f.Kind, &f.Personnummer, &f.Reporter, &f.ReporterHSAID, &f.FormRef, &f.Created} {
		*s = norm.NFC.String(*s)
	}
	return f
}

// The property names that the import handler takes (docs/EASIT.md).
const (
	importID      = "ID"
	importStatus  = "Status"
	importMessage = "Message"
)

// Desk is a region's order view in Easit, read as lockworker.Ticket values,
// and the import handler that updates its tickets.
type Desk struct {
	client        *Client
	view          string
	importHandler string
	fields        Fields

	mu sync.Mutex
	// listed holds the statuses the view was seen to list: a ticket updated
	// to one of them stays in the view.
	listed map[string]bool
	// sent counts the tickets updated to each status, as the updates are
	// sent: whatever Easit answers, it may have carried them out.
	sent map[string]int64
}

// NewDesk returns the desk of view, updated through importHandler, whose
// columns are named by fields (empty ones taking their defaults).
func NewDesk(c *Client, view, importHandler string, fields Fields) *Desk {
	return &Desk{client: c, view: view, importHandler: importHandler, fields: fields.WithDefaults().normalized(),
		listed: map[string]bool{}, sent: map[string]int64{}}
}

// ReadView reads the whole view, page after page, and hands each page's
// items to each as tickets, in the view's order, as the page is read. It
// fails, before handing any ticket, when the view holds a configured label on
// more than one column (see CheckView).
//
// A view that lacks a configured column is an error wrapping a
// MissingColumnError, so that no order is judged without it (a misspelt
// column would send every order to manual handling).
//
// A ticket's ID is the first non-empty content of the ticket column, else its
// first non-empty rawValue (or, when that is no valid ticket number,
// lockworker.TicketKey of it, with the number in GivenID); its Status the first non-null content of the
// status column, in Unicode NFC as the kinds are. Kind, Personnummer, FormRef, Reporter and ReporterHSAID hold every
// non-null content of their columns, and Created every non-null rawValue, in
// the item's order: repeats and empty strings are kept, for the rules to judge.
func (d *Desk) ReadView(ctx context.Context, each func(page []lockworker.Ticket) error) error {
	checked := false
	// The view is read while its tickets are updated: those updated to a
	// status it does not list may leave it (see EachPage).
	opts := ListOptions{View: d.view, SortBy: d.fields.Ticket, MayHaveLeft: d.mayHaveLeftSince(d.sentSoFar()), Observe: d.observe}
	err := d.client.EachPage(ctx, opts, func(columns []Column, items []Item) error {
		// A view that lists no columns and holds no items gives nothing to
		// check, and nothing to act on.
		if !checked && (len(columns) > 0 || len(items) > 0) {
			if err := d.checkColumns(columns); err != nil {
				return err
			}
			checked = true
		}
		if len(items) == 0 {
			return nil
		}
		// Only the order fields of an item are kept, never the rest of a
		// page.
		page := make([]lockworker.Ticket, len(items))
		for i, it := range items {
			page[i] = d.ticket(it)
		}
		return each(page)
	})
	if err != nil {
		return fmt.Errorf("read the tickets of view %q: %w", d.view, err)
	}
	return nil
}

// observe notes the statuses that a page of the view lists.
func (d *Desk) observe(page []Item) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, it := range page {
		for _, p := range it.Properties {
			if p.Content != nil && norm.NFC.String(p.Name) == d.fields.Status {
				d.listed[norm.NFC.String(*p.Content)] = true
			}
		}
	}
}

// sending counts updates about to be sent.
func (d *Desk) sending(us []lockworker.TicketUpdate) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, u := range us {
		if u.Status != "" {
			d.sent[u.Status]++
		}
	}
}

// sentSoFar returns a copy of the counts of the updates sent.
func (d *Desk) sentSoFar() map[string]int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return maps.Clone(d.sent)
}

// mayHaveLeftSince returns a count of the tickets that the updates sent
// since the counts were base may have taken out of the view: those to a
// status the view was not seen to list.
func (d *Desk) mayHaveLeftSince(base map[string]int64) func() int64 {
	return func() int64 {
		d.mu.Lock()
		defer d.mu.Unlock()
		var n int64
		for status, count := range d.sent {
			if !d.listed[status] {
				n += count - base[status]
			}
		}
		return n
	}
}

func (d *Desk) ticket(it Item) lockworker.Ticket {
	byName := make(map[string][]Property, len(it.Properties))
	for _, p := range it.Properties {
		name := norm.NFC.String(p.Name)
		byName[name] = append(byName[name], p)
	}
	f := d.fields
	id, given := ticketNumber(byName[f.Ticket])
	return lockworker.Ticket{
		ID:            id,
		GivenID:       given,
		Status:        norm.NFC.String(first(contents(byName[f.Status]))),
		Kind:          normalizedAll(contents(byName[f.Kind])),
		Personnummer:  contents(byName[f.Personnummer]),
		FormRef:       contents(byName[f.FormRef]),
		Created:       rawValues(byName[f.Created]),
		Reporter:      contents(byName[f.Reporter]),
		ReporterHSAID: contents(byName[f.ReporterHSAID]),
	}
}

// ticketNumber returns the ticket number that the properties of the ticket
// column give: the first non-empty content, else the first non-empty
// rawValue; "" when there is none. A number that is no valid one is given as
// its lockworker.TicketKey, with the number itself in given.
func ticketNumber(ps []Property) (id, given string) {
	id = firstNonEmpty(append(contents(ps), rawValues(ps)...))
	if id != "" && !lockworker.ValidTicketID(id) {
		// Kept for the update only: the ticket goes to manual handling.
		id, given = lockworker.TicketKey(id), id
	}
	return id, given
}

func contents(ps []Property) []string {
	var out []string
	for _, p := range ps {
		if p.Content != nil {
			out = append(out, *p.Content)
		}
	}
	return out
}

func rawValues(ps []Property) []string {
	var out []string
	for _, p := range ps {
		if p.RawValue != nil {
			out = append(out, *p.RawValue)
		}
	}
	return out
}

// normalizedAll puts values that are compared with configured names (kinds,
// like statuses) in Unicode NFC, as the configuration's names are.
func normalizedAll(values []string) []string {
	for i, v := range values {
		values[i] = norm.NFC.String(v)
	}
	return values
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func firstNonEmpty(s []string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// Update sets the status of each update's ticket and appends its comment to
// the ticket's log, all in one import (POST /items), each as an item whose
// uid is the update's Key (a fresh one when it has none). An empty status or
// comment is left out, so that an update never blanks the status nor appends
// an empty comment.
//
// It returns one error per update: nil for an item that Easit carried out,
// Easit's result for one it did not, and the import's error for every item
// when the import as a whole failed. It is never retried; an error says
// whether the update may have reached Easit (Uncertain) or surely did not
// (Retryable).
func (d *Desk) Update(ctx context.Context, us []lockworker.TicketUpdate) []error {
	req := ImportRequest{Handler: d.importHandler}
	for _, u := range us {
		props := []ImportProperty{{Name: importID, Content: u.Ticket}}
		if u.Status != "" {
			props = append(props, ImportProperty{Name: importStatus, Content: u.Status})
		}
		if u.Comment != "" {
			props = append(props, ImportProperty{Name: importMessage, Content: u.Comment})
		}
		uid := u.Key
		if uid == "" {
			uid = rand.Text()
		}
		req.Items = append(req.Items, ImportItem{UID: uid, Properties: props})
	}
	errs := make([]error, len(us))
	d.sending(us)
	resp, err := d.client.Import(ctx, req)
	var itemErr *ItemError
	if err != nil && !errors.As(err, &itemErr) {
		for i, u := range us {
			errs[i] = updateError(u.Ticket, err)
		}
		return errs
	}
	if err == nil {
		return errs
	}
	// Some items failed: each item's own result decides its ticket.
	results := make(map[string]ImportItemResult, len(resp.Results))
	for _, r := range resp.Results {
		results[r.UID] = r
	}
	for i, it := range req.Items {
		r, ok := results[it.UID]
		switch {
		case !ok:
			errs[i] = updateError(us[i].Ticket, &ItemError{UID: it.UID})
		case !strings.EqualFold(r.Result, "OK"):
			errs[i] = updateError(us[i].Ticket, &ItemError{UID: it.UID, Result: r.Result, Message: r.Message})
		}
	}
	return errs
}

// updateError says what a failure means for the ticket, for whoever reads the
// log: the next pass reads the ticket back either way.
func updateError(ticket string, err error) error {
	// The number as Easit gave it may hold anything; the log shows its key.
	ticket = lockworker.TicketKey(ticket)
	switch {
	case Uncertain(err):
		return fmt.Errorf("update ticket %s (it may have reached Easit): %w", ticket, err)
	case Retryable(err):
		return fmt.Errorf("update ticket %s (it did not reach Easit): %w", ticket, err)
	}
	return fmt.Errorf("update ticket %s: %w", ticket, err)
}

// Ping checks that Easit answers: GET /ping, which needs no key.
func (d *Desk) Ping(ctx context.Context) error {
	if err := d.client.Ping(ctx); err != nil {
		return fmt.Errorf("check Easit: %w", err)
	}
	return nil
}

// CheckImportHandler runs the import handler with no item at all (POST
// /items with an empty itemToImport): Easit answers an error for a handler
// it does not know, and an import of nothing touches no ticket.
func (d *Desk) CheckImportHandler(ctx context.Context) error {
	if _, err := d.client.Import(ctx, ImportRequest{Handler: d.importHandler}); err != nil {
		return fmt.Errorf("check Easit: run import handler %q with no item: %w", d.importHandler, err)
	}
	return nil
}

// CheckView reads the first page of the view with the API key, as Tickets
// will, and checks that the view has every configured column, each on one
// column only.
func (d *Desk) CheckView(ctx context.Context) error {
	page, err := d.client.ListItems(ctx, ListOptions{View: d.view, Page: 1, PageSize: 1})
	if err != nil {
		return fmt.Errorf("check Easit: read view %q with the API key: %w", d.view, err)
	}
	if err := d.checkColumns(page.Columns); err != nil {
		return fmt.Errorf("check Easit: %w", err)
	}
	return nil
}

// MissingColumnError means that the view lacks a configured column.
type MissingColumnError struct{ View, Column string }

func (e *MissingColumnError) Error() string {
	return fmt.Sprintf("view %q has no column %q", e.View, e.Column)
}

// checkColumns checks that columns hold every configured column, and each
// on one column only.
func (d *Desk) checkColumns(columns []Column) error {
	if err := d.checkLabelsUnique(columns); err != nil {
		return err
	}
	have := make(map[string]bool, len(columns))
	for _, c := range columns {
		have[norm.NFC.String(c.Name)] = true
	}
	f := d.fields
	for _, name := range []string{f.Ticket, f.Status, f.Kind, f.Personnummer, f.Reporter, f.ReporterHSAID, f.FormRef, f.Created} {
		if !have[name] {
			return &MissingColumnError{View: d.view, Column: name}
		}
	}
	return nil
}

// checkLabelsUnique fails when a configured label names more than one of the
// view's columns. Easit can give two columns one label (a text and a
// connection column both called "Lösning", say), and an item names its
// properties by label alone, so that the two columns' values could not be
// told apart: every order would seem to give the field twice.
func (d *Desk) checkLabelsUnique(columns []Column) error {
	count := make(map[string]int, len(columns))
	for _, c := range columns {
		count[norm.NFC.String(c.Name)]++
	}
	f := d.fields
	for _, name := range []string{f.Ticket, f.Status, f.Kind, f.Personnummer, f.Reporter, f.ReporterHSAID, f.FormRef, f.Created} {
		if n := count[name]; n > 1 {
			return fmt.Errorf("view %q has %d columns labelled %q: give one of them another label in Easit, or configure another column", d.view, n, name)
		}
	}
	return nil
}
