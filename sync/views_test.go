package sync_test

import (
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/lockworker/lockworker"
	"github.com/lockworker/lockworker/easit"
	"github.com/lockworker/lockworker/easit/easittest"
	"github.com/lockworker/lockworker/sync"
)

// In a real Easit view two columns can carry one label (a text and a
// connection column both called "Lösning"). A configured label that the view
// holds twice fails the region, naming the label, rather than sending every
// order to manual handling as missing_field.
func TestAConfiguredLabelOnTwoColumnsFailsTheRegion(t *testing.T) {
	t.Parallel()
	w := setup(t)
	w.accounts(adult, otherAdult)
	w.add("07", w.lockOrder("07", "55", adult))
	w.add("12", w.lockOrder("12", "101", otherAdult))
	connection := "CONNECTION"
	w.regions["12"].easit.AddColumn(easit.Column{Name: "Blankettreferens", DataType: "STRING", ConnectionType: &connection})

	sum := w.pass()

	if failed := sum.FailedRegions(); len(failed) != 1 || failed[0] != "12" {
		t.Fatalf("failed regions = %v, want [12]", failed)
	}
	const says = `has 2 columns labelled "Blankettreferens"`
	if e := sum.Regions[1].Error; !strings.Contains(e, says) {
		t.Errorf("region 12's error = %q, want it to say it %s", e, says)
	}
	if len(sum.Regions[1].Orders) != 0 || w.updates("12", "101") != 0 || len(w.audit(lockworker.AuditFilter{Region: "12"})) != 0 {
		t.Error("an order of region 12 was decided")
	}
	if !strings.Contains(w.logs.String(), strings.ReplaceAll(says, `"`, `\"`)) {
		t.Errorf("no log line names the label:\n%s", w.logs.String())
	}
	w.expect(sum, "07", "55", lockworker.OutcomeResolved, lockworker.ReasonNone)
}

// Answers that start with a byte-order mark, from Easit and from the form
// service, are read as the answers they are.
func TestAnswersWithAByteOrderMarkAreRead(t *testing.T) {
	t.Parallel()
	w := setupVariant(t, variant{byteOrderMark: true})
	w.accounts(adult)
	w.placeOrder("07", "71", adult)
	w.putForm("07", "71", "referenced-custodian.json")
	w.regions["07"].forms.PutResource(kronobergOrganization)
	w.add("07", w.lockOrder("07", "72", "196101182803"))
	w.accounts("196101182803")

	sum := w.pass()

	// The import's answer was read: the updates are confirmed, not left
	// uncertain.
	w.expect(sum, "07", "71", lockworker.OutcomeResolved, lockworker.ReasonNone)
	w.expect(sum, "07", "72", lockworker.OutcomeResolved, lockworker.ReasonNone)
	for _, ticket := range []string{"71", "72"} {
		if e, ok, err := w.store.Ledger(t.Context(), "07", ticket); err != nil || !ok || !e.Confirmed() {
			t.Errorf("ticket %s's ledger entry = %+v, %v, %v; want confirmed", ticket, e, ok, err)
		}
	}
}

// A view of only the open and waiting orders, read in pages while the pass
// itself resolves the orders of the pages it has read (so that they leave
// the view) and an agent registers a new order: no order that stayed in the
// view is passed over, although the view's number of items stays the same.
func TestAViewOfOpenOrdersLosesNoOrderToThePassesOwnUpdates(t *testing.T) {
	t.Parallel()
	w := setupVariant(t, variant{easitPageSize: 10, openView: true})
	people := testNumbers(t, 31)
	var orders []placed
	for i, pnr := range people[:30] {
		ticket := strconv.Itoa(100 + i)
		if i >= 9 {
			orders = append(orders, w.place("07", ticket, pnr))
			continue
		}
		// Orders whose form is not signed yet: they wait, and stay in the
		// view.
		w.accounts(pnr)
		o := w.lockOrder("07", ticket, pnr)
		o.form = nil
		w.add("07", o)
		orders = append(orders, placed{code: "07", ticket: ticket, pnr: pnr})
	}
	e := w.regions["07"].easit
	var registered atomic.Bool
	e.SetFault(func(c easittest.Call) *easittest.Fault {
		if c.Op == easit.OpList && c.Page == 2 && registered.CompareAndSwap(false, true) {
			// The new order comes while page 1's own order is resolved.
			w.place("07", "500", people[30])
			return &easittest.Fault{Delay: 500 * time.Millisecond}
		}
		return nil
	})

	sum := w.pass(sync.Options{Region: "07"})

	handled := map[string]bool{}
	for _, o := range sum.Regions[0].Orders {
		handled[o.Ticket] = true
	}
	for _, o := range orders {
		if !handled[o.ticket] {
			t.Errorf("ticket %s stayed in the view (%s) and the pass did not handle it", o.ticket, e.Status(o.ticket))
		}
	}
}
