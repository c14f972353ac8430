package sync

import "testing"

// An update's key is the same for every attempt at one decision of a ticket,
// and differs between regions, tickets and rounds.
func TestUpdateKeyIsStablePerRegionTicketAndRound(t *testing.T) {
	t.Parallel()
	key := updateKey("07", "55", 2)
	if key != updateKey("07", "55", 2) || key != "lockworker-07-55-2" {
		t.Errorf("updateKey(07, 55, 2) = %q, want lockworker-07-55-2 every time", key)
	}
	for _, other := range []string{updateKey("12", "55", 2), updateKey("07", "56", 2), updateKey("07", "55", 3)} {
		if other == key {
			t.Errorf("another region, ticket or round gives the key %q too", key)
		}
	}
}
