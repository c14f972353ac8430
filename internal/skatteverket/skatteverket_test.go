package skatteverket_test

import (
	"strings"
	"testing"

	"github.com/lockworker/lockworker/internal/skatteverket"
)

// The lists are whole and every entry is twelve ASCII digits.
func TestListsAreWhole(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name    string
		numbers []string
		want    int
	}{
		{"personnummer", skatteverket.Personnummer(), 21728},
		{"samordningsnummer", skatteverket.Samordningsnummer(), 2240},
	} {
		if len(tc.numbers) != tc.want {
			t.Errorf("%s: %d numbers, want %d", tc.name, len(tc.numbers), tc.want)
		}
		for i, n := range tc.numbers {
			if len(n) != 12 || strings.Trim(n, "0123456789") != "" {
				t.Errorf("%s line %d is not twelve digits", tc.name, i+1)
			}
		}
	}
}
