package easit

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"golang.org/x/text/unicode/norm"
)

// ListOptions selects a page of a view.
type ListOptions struct {
	View     string // the view's identifier in Easit (itemViewIdentifier)
	Page     int    // 1-based; 0 sends no page, and Easit answers with its first
	PageSize int    // 0 sends no size, and Easit uses its own
	// SortBy is the column the items are sorted by, ascending; "Id" when
	// empty. A stable order keeps the pages of a view from overlapping.
	SortBy string
	// MayHaveLeft, when set, is the caller's count of the items that its
	// own changes, sent since the read of a whole view began, may have taken
	// out of it; it may fall as the caller learns that some did not (see
	// EachPage), from the pages it sees: Observe, when set, is given every
	// page read, whether or not its items were handed over before.
	MayHaveLeft func() int64
	Observe     func(page []Item)
}

// ItemPage is one page of a view, as Easit gave it.
type ItemPage struct {
	Columns            []Column
	Items              []Item
	RequestedPage      int // the page asked for; 0 when none was
	Page               int
	PageSize           int
	TotalNumberOfPages int
	TotalNumberOfItems int
}

// Column is a column of a view.
type Column struct {
	Name           string  `json:"content"` // the column's label, as items name their properties
	DataType       string  `json:"datatype"`
	Collection     bool    `json:"collection"`
	ConnectionType *string `json:"connectiontype"`
}

// Item is an item of a view: a ticket, for the order view.
type Item struct {
	// ID is Easit's database id of the item, such as "13:2"; the ticket number
	// that people see is a property (Id).
	ID string `json:"id"`
	// Properties are the item's values, in Easit's order. A name can repeat
	// (a collection), and Content and RawValue can be null.
	Properties []Property `json:"property"`
	// An item's attachments are not kept: lockworker never reads them, and
	// they are what makes an item large. The decoder skips them.
}

// Property is one value of an item. Content is the value as Easit shows it;
// RawValue is the value as stored (a database id for a choice, an ISO 8601 UTC
// time for a date). Either is nil when Easit gave null, which is not "".
type Property struct {
	Name     string  `json:"name"`
	Content  *string `json:"content"`
	RawValue *string `json:"rawValue"`
}

// itemPageJSON is an ItemPage on the wire, where the lists are wrapped in
// objects and the items can be {}, {"item":[]} or null for an empty view.
type itemPageJSON struct {
	Columns *struct {
		Column []Column `json:"column"`
	} `json:"columns"`
	Items *struct {
		Item []Item `json:"item"`
	} `json:"items"`
	RequestedPage      int `json:"requestedPage"`
	Page               int `json:"page"`
	PageSize           int `json:"pageSize"`
	TotalNumberOfPages int `json:"totalNumberOfPages"`
	TotalNumberOfItems int `json:"totalNumberOfItems"`
}

// decodeItemPage reads Easit's answer to GET /items, skipping attachments. Its errors never quote
// the answer, which holds personnummer.
func decodeItemPage(data []byte) (*ItemPage, error) {
	var w itemPageJSON
	if err := json.Unmarshal(data, &w); err != nil {
		return nil, fmt.Errorf("decode item page: %w", err)
	}
	if w.RequestedPage < 0 || w.Page < 0 || w.PageSize < 0 || w.TotalNumberOfPages < 0 || w.TotalNumberOfItems < 0 {
		return nil, errors.New("decode item page: a negative page number or count")
	}
	p := &ItemPage{
		RequestedPage:      w.RequestedPage,
		Page:               w.Page,
		PageSize:           w.PageSize,
		TotalNumberOfPages: w.TotalNumberOfPages,
		TotalNumberOfItems: w.TotalNumberOfItems,
	}
	if w.Columns != nil {
		p.Columns = w.Columns.Column
	}
	if w.Items != nil {
		p.Items = w.Items.Item
	}
	return p, nil
}

// listRequest is the JSON body of GET /items.
type listRequest struct {
	View       string     `json:"itemViewIdentifier"`
	Page       int        `json:"page,omitempty"`
	PageSize   int        `json:"pageSize,omitempty"`
	SortColumn sortColumn `json:"sortColumn"`
}

type sortColumn struct {
	Content string `json:"content"`
	Order   string `json:"order"`
}

// Ping calls GET /ping, which needs no API key, and checks Easit's "Pong!".
func (c *Client) Ping(ctx context.Context) error {
	data, err := c.read(ctx, OpPing, "/ping", nil, false)
	if err != nil {
		return fmt.Errorf("easit: ping: %w", err)
	}
	var pong struct {
		Message string `json:"message"`
	}
	if err := json.Unmarshal(data, &pong); err != nil || pong.Message != "Pong!" {
		return fmt.Errorf("easit: ping: the answer is not Pong!: %q", shorten([]byte(c.hider.Hide(string(data)))))
	}
	return nil
}

// ListItems calls GET /items with a JSON body: one page of a view, sorted by
// opts.SortBy ascending. It retries on 5xx, 429 and network errors within the read
// budget.
func (c *Client) ListItems(ctx context.Context, opts ListOptions) (*ItemPage, error) {
	page, _, err := c.listItems(ctx, opts)
	return page, err
}

// listItems is ListItems that also says how long the answer's body was.
func (c *Client) listItems(ctx context.Context, opts ListOptions) (*ItemPage, int, error) {
	body := listRequest{
		View:       opts.View,
		Page:       opts.Page,
		PageSize:   opts.PageSize,
		SortColumn: sortColumn{Content: cmp.Or(opts.SortBy, "Id"), Order: "Ascending"},
	}
	data, err := c.read(ctx, OpList, "/items", body, true)
	if err != nil {
		return nil, 0, fmt.Errorf("easit: list items of view %q, page %d: %w", opts.View, opts.Page, err)
	}
	page, err := decodeItemPage(data)
	if err != nil {
		return nil, 0, fmt.Errorf("easit: list items of view %q, page %d: %w", opts.View, opts.Page, err)
	}
	return page, len(data), nil
}

// Limits of ListAllItems.
const (
	// allItemsPageSize is asked for every page: Easit serves pages of at
	// most its own largest size whatever is asked, and numbers them by the
	// size it serves, so that asking for much reads a view in as few pages
	// as Easit allows.
	allItemsPageSize = 1000
	// maxPages bounds a read of a whole view: 100,000 open orders are far more
	// than any region has, and a server that never ends must not hold a pass.
	maxPages = 1000
)

// View is a whole view: its columns and its items.
type View struct {
	Columns []Column // as the first page gave them
	Items   []Item
}

// ListAllItems reads a whole view, page after page from the first (GET /items
// for each), and returns its columns and its items.
//
// A view that changes while it is read (another process resolving tickets
// of a view of open orders) neither fails the read nor makes it skip an item
// that stayed in the view: when the view holds fewer items than at the page
// before, the items not yet read may have moved up as many places, so the
// read steps back as many and skips the items it has already; an item that
// comes twice is kept once. What came into the view meanwhile may be missed,
// and is read by the next pass.
//
// It fails rather than return a view that may be wrong when a page is not the
// one asked for, when the view has more than 1000 pages (or needs more than
// 1000 reads), or when its pages are more than four times the response limit
// (WithResponseLimit) in all.
//
// opts names the view and its sort column; its Page and PageSize are the
// method's own.
func (c *Client) ListAllItems(ctx context.Context, opts ListOptions) (*View, error) {
	all := &View{}
	err := c.EachPage(ctx, opts, func(columns []Column, items []Item) error {
		all.Columns = columns
		all.Items = append(all.Items, items...)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return all, nil
}

// EachPage reads a whole view as ListAllItems does, but hands the items of
// each page that it has not handed before to each, with the view's columns as
// the first page gave them, as the page is read; it keeps nothing of a page
// once the next is asked for, so that a caller that keeps only what it needs
// of an item holds one page at a time, however large the view. each is called
// at least once (with no items for an empty view), and an error from it ends
// the read with that error. When the read fails, the items handed over so far
// are all that was read of the view, not all it holds.
//
// A caller that changes the view's items while it reads it (a pass resolving
// the orders of the pages it has read) says how many it may have taken out
// (ListOptions.MayHaveLeft). Items that leave and items that come may hide
// each other in the view's number of items: when, by the time a view of more
// than one page was read to its end, the caller may have taken out more items
// than the view was seen to lose, it is read again from its first page for
// the items not yet handed over, at most maxSweeps times in all, each read
// within the bounds of one. A read again stops as soon as the caller's count
// shows that its changes took out no more than the view lost, and one that
// fails ends the read without an error, the view having been read whole
// once. What one read misses of a view that keeps changing, the next reads.
func (c *Client) EachPage(ctx context.Context, opts ListOptions, each func(columns []Column, items []Item) error) error {
	r := &viewRead{client: c, opts: opts, each: each, seen: make(map[string]bool), left: opts.MayHaveLeft, last: -1}
	if r.left == nil {
		r.left = func() int64 { return 0 }
	}
	for sweep := 1; sweep <= maxSweeps; sweep++ {
		pages, leftAtEnd, err := r.sweep(ctx, sweep > 1)
		switch {
		case err != nil && (sweep == 1 || r.eachErr != nil):
			return err
		case err != nil:
			// The view was read whole once: what a read again could not
			// find, the next read of the view finds.
			return nil
		case pages <= 1 || leftAtEnd <= r.lost:
			return nil
		}
	}
	return nil
}

// maxSweeps bounds the reads of one view from its first page.
const maxSweeps = 3

// viewRead is a read of a whole view, in one sweep from its first page or
// more.
type viewRead struct {
	client *Client
	opts   ListOptions
	each   func([]Column, []Item) error
	left   func() int64

	columns []Column
	handed  bool            // whether each was called
	eachErr error           // what each returned, ending the read
	seen    map[string]bool // the keys of the items handed over
	lost    int64           // items the view was seen to lose, in all sweeps
	last    int             // the view's number of items on the last page read, in any sweep; -1 before
}

// sweep reads the view from its first page to its end, stepping back when
// it shrinks, and hands over the items not handed before; again marks a
// sweep after the first, which ends as soon as the caller's count shows that
// its changes took out no more than the view lost. It returns how many pages
// it read, and the caller's count as it was when the last page came.
func (r *viewRead) sweep(ctx context.Context, again bool) (pages int, leftAtEnd int64, err error) {
	view := r.opts.View
	var read int64
	next, size, total := 0, 0, -1 // next: where the first item not yet read lies in the view
	for {
		if pages >= maxPages {
			return pages, 0, fmt.Errorf("easit: list items of view %q: more than %d reads of its pages", view, maxPages)
		}
		n := 1
		if size > 0 {
			n = next/size + 1
		}
		page, bytes, err := r.client.listItems(ctx, ListOptions{View: view, Page: n, PageSize: allItemsPageSize, SortBy: r.opts.SortBy})
		if err != nil {
			return pages, 0, err
		}
		// Taken before the page's orders start: what they change comes after
		// the page was read.
		leftAtEnd = r.left()
		pages++
		read += int64(bytes)
		switch {
		case read > r.client.viewLimit:
			return pages, 0, fmt.Errorf("easit: list items of view %q: more than %d bytes by page %d, more than a view of open orders can be", view, r.client.viewLimit, n)
		case page.Page != n:
			return pages, 0, fmt.Errorf("easit: list items of view %q: asked for page %d, got page %d", view, n, page.Page)
		case page.TotalNumberOfPages > maxPages:
			return pages, 0, fmt.Errorf("easit: list items of view %q: %d pages, more than the %d lockworker reads", view, page.TotalNumberOfPages, maxPages)
		}
		if size == 0 {
			if !again {
				r.columns = page.Columns
			}
			size = cmp.Or(page.PageSize, len(page.Items))
		}
		if r.opts.Observe != nil {
			r.opts.Observe(page.Items)
		}
		fresh := page.Items[:0]
		for _, it := range page.Items {
			key := r.key(it)
			switch {
			case key == "" && again:
				continue // handed over by the first read, or to be by the next pass
			case key != "" && r.seen[key]:
				continue
			}
			r.seen[key] = true
			fresh = append(fresh, it)
		}
		if len(fresh) > 0 || !r.handed {
			r.handed = true
			if err := r.each(r.columns, fresh); err != nil {
				r.eachErr = err
				return pages, 0, err
			}
		}
		if r.last >= 0 && total < 0 && page.TotalNumberOfItems < r.last {
			// Lost between the end of the last sweep and this one's first page.
			r.lost += int64(r.last - page.TotalNumberOfItems)
		}
		r.last = page.TotalNumberOfItems
		if size <= 0 || (again && r.left() <= r.lost) {
			return pages, leftAtEnd, nil
		}
		if total >= 0 && page.TotalNumberOfItems < total {
			r.lost += int64(total - page.TotalNumberOfItems)
			if back := max(next-(total-page.TotalNumberOfItems), 0); back/size+1 < n {
				next, total = back, page.TotalNumberOfItems
				continue
			}
		}
		total = page.TotalNumberOfItems
		next = (n-1)*size + len(page.Items)
		// A view that gives no number of items ends by its number of pages.
		if len(page.Items) == 0 || n >= page.TotalNumberOfPages || (total > 0 && next >= total) {
			return pages, leftAtEnd, nil
		}
	}
}

// key names an item within the view: its database id or, for an item
// without one, its value in the sort column; "" when it has neither.
func (r *viewRead) key(it Item) string {
	if it.ID != "" {
		return it.ID
	}
	sortBy := norm.NFC.String(cmp.Or(r.opts.SortBy, "Id"))
	for _, p := range it.Properties {
		if norm.NFC.String(p.Name) != sortBy {
			continue
		}
		for _, v := range []*string{p.Content, p.RawValue} {
			if v != nil && *v != "" {
				return "\x00" + *v
			}
		}
	}
	return ""
}
