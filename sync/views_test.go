package sync_test

import (
	"strings"
	"testing"

	"github.com/lockworker/lockworker"
	"github.com/lockworker/lockworker/easit"
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
