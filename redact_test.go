package lockworker_test

import (
	"testing"

	"github.com/lockworker/lockworker"
)

func TestRedactHidesEveryFormOfANumber(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"patient 196408233234 not found", "patient <personnummer> not found"},
		{"19640823-3234", "<personnummer>"},
		{"640823-3234 and 900101+9802", "<personnummer> and <personnummer>"},
		{"id=6408233234;", "id=<personnummer>;"},
		{"196408233234,199908072391", "<personnummer>,<personnummer>"},
		// Not personnummer: a wrong check digit, other lengths, times.
		{"196408233235", "196408233235"},
		{"12345", "12345"},
		{"1964082332345", "1964082332345"},
		{"2026-11-23T10:00:00Z took 1234567890ns", "2026-11-23T10:00:00Z took 1234567890ns"},
	}
	for _, tt := range tests {
		if got := lockworker.Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%d characters) = %q, want %q", len(tt.in), got, tt.want)
		}
	}
}
