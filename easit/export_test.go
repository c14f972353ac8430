package easit_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/lockworker/lockworker"
	"github.com/lockworker/lockworker/easit"
)

// An export of Easit GO gives each saved item's ticket number, once, by the
// view's ticket label; the other properties are not read.
func TestExportedTicketsAreTheItemsTicketNumbers(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("9", lockworker.MaxTicketIDLength+1)
	tests := []struct {
		name   string
		fields easit.Fields
		body   string
		want   []string
	}{
		{"an item saved", easit.Fields{},
			`{"itemToImport":[{"id":"1","uid":"a1","property":[{"name":"Status","content":"Registrerad"},{"name":"Id","content":"55"}]}]}`,
			[]string{"55"}},
		{"items, one repeated, one without a number", easit.Fields{},
			`{"importHandlerIdentifier":"x","itemToImport":[{"property":[{"name":"Id","content":"55"}]},{"property":[{"name":"Status","content":"Löst"}]},
			{"property":[{"name":"Id","content":"56"}]},{"property":[{"name":"Id","content":"55"}]}]}`,
			[]string{"55", "56"}},
		{"the region's own label, its Ä written another way", easit.Fields{Ticket: "Ärendenr"},
			`{"itemToImport":[{"property":[{"name":"Id","content":"1"},{"name":"A\u0308rendenr","content":"77"}]}]}`,
			[]string{"77"}},
		{"a number, a null content and a rawValue, an attachment", easit.Fields{},
			`{"itemToImport":[{"property":[{"name":"Id","content":101}],"attachment":[{"name":"a.pdf","content":"JVBERi0="}]},
			{"property":[{"name":"Id","content":null,"rawValue":"102"}]},{"property":[{"name":"Id","content":{"x":1},"rawValue":"103"}]}]}`,
			[]string{"101", "102", "103"}},
		{"a byte-order mark", easit.Fields{}, "\ufeff" + `{"itemToImport":[{"property":[{"name":"Id","content":"55"}]}]}`, []string{"55"}},
		{"a number that is no valid one, as the view gives it", easit.Fields{},
			`{"itemToImport":[{"property":[{"name":"Id","content":"` + long + `"},{"name":"Id","content":"5\u00075"}]}]}`,
			[]string{lockworker.TicketKey(long)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.fields.ExportedTickets([]byte(tt.body))
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("ExportedTickets = %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

// A body that is no export says so, in words of its own: it never quotes
// what was sent.
func TestABodyThatIsNoExportIsAnError(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		name, body string
		want       error
	}{
		{"not JSON", `<html>199908072391</html>`, easit.ErrExportNotJSON},
		{"JSON cut short", `{"itemToImport":[{"property":[{"name":"Id","content":"199908072391"`, easit.ErrExportNotJSON},
		{"empty", ``, easit.ErrExportNotJSON},
		{"a list", `[{"property":[]}]`, easit.ErrExportShape},
		{"null", `null`, easit.ErrExportShape},
		{"no itemToImport", `{"items":{"item":[{"property":[{"name":"Id","content":"55"}]}]}}`, easit.ErrExportShape},
		{"itemToImport not a list", `{"itemToImport":{"property":[]}}`, easit.ErrExportShape},
		{"property not a list", `{"itemToImport":[{"property":{"name":"Id","content":"55"}}]}`, easit.ErrExportShape},
		{"a name that is not text", `{"itemToImport":[{"property":[{"name":1,"content":"55"}]}]}`, easit.ErrExportShape},
		{"no items", `{"itemToImport":[]}`, easit.ErrExportNoTickets},
		{"no ticket number", `{"itemToImport":[{"property":[{"name":"Personnummer","content":"199908072391"},{"name":"Id","content":""}]}]}`, easit.ErrExportNoTickets},
	} {
		_, err := easit.Fields{}.ExportedTickets([]byte(tt.body))
		if !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "199908072391") {
			t.Errorf("%s: the error quotes the body: %v", tt.name, err)
		}
	}
}
