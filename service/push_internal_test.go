package service

import (
	"fmt"
	"testing"
)

// The tickets waiting for a region's push pass are bounded: past
// maxPendingTickets the pass reads all the region's orders instead, and
// holds no list of them.
func TestThePendingTicketsOfARegionAreBounded(t *testing.T) {
	t.Parallel()
	p := &pendingPush{tickets: map[string]bool{}}
	var full []string
	for i := range maxPendingTickets {
		full = append(full, fmt.Sprint(i))
	}
	p.add(full)
	p.add([]string{"0", "1"}) // pushed again: still the same tickets
	if p.all || len(p.tickets) != maxPendingTickets {
		t.Fatalf("%d tickets waiting, all %v; want %d, and not all", len(p.tickets), p.all, maxPendingTickets)
	}
	p.add([]string{"one more"})
	if !p.all || p.tickets != nil {
		t.Fatalf("one past the bound: all %v, %d tickets kept; want all and none kept", p.all, len(p.tickets))
	}
	p.add([]string{"yet another"})
	if !p.all || p.tickets != nil {
		t.Errorf("after all: all %v, %d tickets kept", p.all, len(p.tickets))
	}
}
