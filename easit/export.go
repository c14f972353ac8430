package easit

import (
	"encoding/json"
	"errors"
	"fmt"

	"golang.org/x/text/unicode/norm"
)

// The errors of ExportedTickets: each says what is wrong with a body, never
// what it holds.
var (
	ErrExportNotJSON   = errors.New("the body is not JSON")
	ErrExportShape     = errors.New(`the body is not an Easit export: it needs "itemToImport", a list of items, each with its "property" list`)
	ErrExportNoTickets = errors.New("no item of the export has a ticket number")
)

// exportJSON is the body of Easit GO's "Export item", in the shape of an
// import (docs/EASIT.md): the item's id, uid and attachments, and anything
// else Easit adds, are not read.
type exportJSON struct {
	Items *[]struct {
		Properties []exportProperty `json:"property"`
	} `json:"itemToImport"`
}

// exportProperty is a property of an exported item. Its values may be a
// string, a number or null; any other value is taken as null, for a
// property lockworker does not read must not fail the export.
type exportProperty struct {
	Name     string      `json:"name"`
	Content  exportValue `json:"content"`
	RawValue exportValue `json:"rawValue"`
}

// exportValue is a property's value as text; nil when it is none.
type exportValue struct{ text *string }

func (v *exportValue) UnmarshalJSON(data []byte) error {
	var s string
	switch {
	case json.Unmarshal(data, &s) == nil:
	case len(data) > 0 && (data[0] == '-' || data[0] >= '0' && data[0] <= '9'):
		s = string(data) // a number, as it was written
	default:
		return nil
	}
	v.text = &s
	return nil
}

// ExportedTickets reads the body of Easit GO's "Export item" (docs/EASIT.md)
// and returns the ticket number of each item, once each, in the order
// given: the property labelled as f's ticket column (its default when
// empty), taken as Desk.Tickets takes it from the view (an invalid number as
// its lockworker.TicketKey). An item without one is passed over; an export
// where none has one fails with ErrExportNoTickets. Nothing else of an item
// is read: what the view says of the ticket is what counts.
func (f Fields) ExportedTickets(body []byte) ([]string, error) {
	f = f.WithDefaults().normalized()
	body = withoutBOM(body)
	if !json.Valid(body) {
		return nil, ErrExportNotJSON
	}
	var export exportJSON
	if err := json.Unmarshal(body, &export); err != nil || export.Items == nil {
		return nil, ErrExportShape
	}
	var tickets []string
	seen := map[string]bool{}
	for _, it := range *export.Items {
		var ps []Property
		for _, p := range it.Properties {
			if norm.NFC.String(p.Name) == f.Ticket {
				ps = append(ps, Property{Name: p.Name, Content: p.Content.text, RawValue: p.RawValue.text})
			}
		}
		if id, _ := ticketNumber(ps); id != "" && !seen[id] {
			seen[id] = true
			tickets = append(tickets, id)
		}
	}
	if len(tickets) == 0 {
		return nil, fmt.Errorf("%w: each lacks the property %q, or has it empty", ErrExportNoTickets, f.Ticket)
	}
	return tickets, nil
}
