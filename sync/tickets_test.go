package sync_test

import (
	"slices"
	"testing"

	"github.com/lockworker/lockworker/sync"
)

// A pass narrowed to the tickets Easit pushed handles those alone; a ticket
// that no view holds, or that needs nothing, is passed over in silence.
func TestAPassCanBeNarrowedToSomeTickets(t *testing.T) {
	t.Parallel()
	w := setup(t)
	w.accounts(adult, otherAdult, luhnExample)
	w.add("07", w.lockOrder("07", "55", adult))
	w.add("07", w.lockOrder("07", "56", otherAdult))
	done := w.lockOrder("07", "57", luhnExample)
	done.Status = statuses.Resolved
	w.add("07", done)
	w.add("12", w.lockOrder("12", "101", luhnExample))

	sum := w.pass(sync.Options{Region: "07", Tickets: []string{"56", "57", "999"}})

	var handled []string
	for _, o := range sum.Regions[0].Orders {
		handled = append(handled, o.Ticket)
	}
	if len(sum.Regions) != 1 || !slices.Equal(handled, []string{"56"}) {
		t.Fatalf("summary = %+v, want ticket 56 of region 07 alone", sum.Regions)
	}
	if sum.MissingTicket != "" || !sum.OK() {
		t.Errorf("missing ticket %q, ok %v; want none missing and ok: the unknown ticket is no failure", sum.MissingTicket, sum.OK())
	}
	if w.updates("07", "55") != 0 || w.updates("07", "57") != 0 || w.updates("12", "101") != 0 || w.updates("07", "56") != 1 {
		t.Error("the pass touched other tickets than 56")
	}

	// No ticket at all is a pass that handles none, not one of every order.
	if sum := w.pass(sync.Options{Tickets: []string{}}); len(sum.Regions) != 2 || len(sum.Regions[0].Orders)+len(sum.Regions[1].Orders) != 0 {
		t.Errorf("a pass of no tickets = %+v, want both regions read and no order handled", sum.Regions)
	}
}
