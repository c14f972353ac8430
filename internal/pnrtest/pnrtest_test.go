package pnrtest_test

import (
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/lockworker/lockworker/internal/pnrtest"
)

// The scan that every test relies on finds what it must and nothing else.
func TestFind(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 23, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name, text string
		want       []string
	}{
		{"12 digits in a JSON log", `{"level":"info","personnummer":"199908072391"}`, []string{"199908072391"}},
		{"12 digits with a hyphen", "patient 19990807-2391.", []string{"19990807-2391"}},
		{"10 digits with a hyphen", "patient 990807-2391", []string{"990807-2391"}},
		{"10 digits with a plus", "born 1890: 900101+9802", []string{"900101+9802"}},
		{"10 digits bare", "pnr=9908072391", []string{"9908072391"}},
		{"glued to letters", "pnr199908072391x", []string{"199908072391"}},
		{"followed by a hyphen and digits", "199908072391-12", []string{"199908072391"}},
		{"two in one line", "196408233234 and 200001012384", []string{"196408233234", "200001012384"}},
		{"a samordningsnummer", "191711602399", []string{"191711602399"}},
		{"a wrong check digit", "19990807-2392", nil},
		{"13 digits", "1199908072391", nil},
		{"a separator inside the date", "1999-08072391", nil},
		{"an organisation number", "SE2321000065-L55", nil},
		{"a pseudonym", `"person":"pn-0123456789abcdef"`, nil},
		{"a pseudonym whose digits make a valid number", `{"person":"pn-0607213295caf219"}`, nil},
		{"a number beside such a pseudonym", `{"person":"pn-0607213295caf219","pnr":"199908072391"}`, []string{"199908072391"}},
		{"12 digits after pn- are no pseudonym", `{"person":"pn-199908072391"}`, []string{"199908072391"}},
		{"a timestamp", `"time":"2026-11-23T12:45:12+01:00"`, nil},
		{"a pass id", `"pass":"20261123T100512-8301ab"`, nil},
		{"a duration", `"duration_ns":1234567890`, nil},
		{"a log line without any", `{"time":"2026-11-23T10:00:00Z","pass":"20261123T100000-58d3a9","duration":1234567890}`, nil},
		{"a temporary directory", filepath.Join(os.TempDir(), "TestX9908072391", "001", "lockworker.yaml"), nil},
		{"a path that holds one", "/srv/9908072391/lockworker.yaml", []string{"9908072391"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := pnrtest.Find(tt.text, now); !slices.Equal(got, tt.want) {
				t.Errorf("Find(%q) = %q, want %q", tt.text, got, tt.want)
			}
		})
	}
}
