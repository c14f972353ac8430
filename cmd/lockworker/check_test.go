package main

import (
	"cmp"
	"errors"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/lockworker/lockworker/easit"
)

// checkNames are the checks that `check` makes of a region whose order view
// is view and import handler handler, by the names its lines give them.
func checkNames(view, handler string) []string {
	return []string{"easit ping", "easit view " + view, "easit import handler " + handler, "form service metadata"}
}

// checkLines reads what `check` prints: the result of each check by region
// and check ("12 Region Skåne/easit ping"). Columns are two spaces or more
// apart, since region names and checks hold single spaces.
func checkLines(t *testing.T, stdout string) map[string]string {
	t.Helper()
	results := map[string]string{}
	for line := range strings.Lines(stdout) {
		cols := checkColumns.Split(strings.TrimSpace(line), -1)
		if len(cols) < 3 {
			t.Errorf("check printed %q, want a region, a check and a result", line)
			continue
		}
		if cols[0] == "configuration" || cols[0] == "lock store" {
			continue
		}
		results[cols[0]+"/"+cols[1]] = strings.Join(cols[2:], "  ")
	}
	return results
}

var checkColumns = regexp.MustCompile(`\s{2,}`)

// check reaches every region's Easit and form service and says what it
// found, one line per region and check; one that fails is exit status 1 and
// names the region and what failed, and leaves the other region's checks ok.
func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		breaks func(e *env)
		// view12 and handler12 are region 12's order view and import
		// handler when not VIS-1177-las and VIS-1177-uppdatera.
		view12, handler12 string
		// slow marks a case that waits out the 10-second read budget of
		// SPEC §2, once per failing read.
		slow bool
		// failed is the failing checks of region 12, each with what its
		// line says.
		failed map[string]string
	}{
		{name: "every region healthy", breaks: func(*env) {}},
		{
			name:   "a wrong Easit API key",
			breaks: func(e *env) { e.vars["EASIT_12_KEY"] = "a revoked key" },
			failed: map[string]string{"easit view VIS-1177-las": "HTTP 401", "easit import handler VIS-1177-uppdatera": "HTTP 401"},
		},
		{
			name: "an import handler that is misspelt",
			breaks: func(e *env) {
				section := "view: VIS-1177-las\n      import_handler: VIS-1177-uppdatera\n    forms:\n      url: " + e.region("12").forms.URL()
				e.editConfig(section, strings.Replace(section, "VIS-1177-uppdatera", "VIS-1177-uppdatra", 1))
			},
			handler12: "VIS-1177-uppdatra",
			failed:    map[string]string{"easit import handler VIS-1177-uppdatra": `No import handler with identifier "VIS-1177-uppdatra"`},
		},
		{
			name: "a column name the view does not have",
			breaks: func(e *env) {
				section := "import_handler: VIS-1177-uppdatera\n    forms:\n      url: " + e.region("12").forms.URL()
				e.editConfig(section, strings.Replace(section, "\n    forms:", "\n      fields: {personnummer: Personnr}\n    forms:", 1))
			},
			failed: map[string]string{"easit view VIS-1177-las": `view "VIS-1177-las" has no column "Personnr"`},
		},
		{
			name: "a configured label on two columns of the view",
			breaks: func(e *env) {
				e.region("12").easit.AddColumn(easit.Column{Name: "Blankettreferens", DataType: "STRING"})
			},
			failed: map[string]string{"easit view VIS-1177-las": `view "VIS-1177-las" has 2 columns labelled "Blankettreferens"`},
		},
		{
			name:   "a wrong form service token",
			breaks: func(e *env) { e.write("forms-12.token", "a revoked token\n") },
			failed: map[string]string{"form service metadata": "answered 401"},
		},
		{
			name: "an Easit view that is unknown",
			breaks: func(e *env) {
				section := "url: " + e.region("12").easit.URL() + "\n      api_key: ${EASIT_12_KEY}\n      view: VIS-1177-las"
				e.editConfig(section, strings.Replace(section, "VIS-1177-las", "VIS-1177-last", 1))
			},
			view12: "VIS-1177-last",
			slow:   true,
			failed: map[string]string{"easit view VIS-1177-last": `No item view with identifier "VIS-1177-last"`},
		},
		{
			name:   "an Easit that is down",
			breaks: func(e *env) { e.region("12").easit.Close() },
			slow:   true,
			// The client keeps the last answer, not the last network
			// error, so the line says only that the budget was spent.
			failed: map[string]string{"easit ping": "read budget of 10s spent", "easit view VIS-1177-las": "read budget of 10s spent",
				"easit import handler VIS-1177-uppdatera": "connection refused"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if tt.slow && testing.Short() {
				t.Skip("waits out the read budget of 10 seconds")
			}
			e := setup(t)
			if res := e.run("migrate"); res.code != exitOK {
				t.Fatalf("migrate = %d; stderr:\n%s", res.code, res.stderr)
			}
			tt.breaks(e)

			res := e.run("check")
			wantCode := exitOK
			if len(tt.failed) > 0 {
				wantCode = exitFailed
			}
			if res.code != wantCode || !strings.HasPrefix(res.stdout, "configuration") {
				t.Errorf("lockworker check = %d, want %d and the configuration's line first; stdout:\n%s\nstderr:\n%s", res.code, wantCode, res.stdout, res.stderr)
			}
			results := checkLines(t, res.stdout)
			view12 := cmp.Or(tt.view12, "VIS-1177-las")
			want := map[string]string{} // by region and check: ok, or what its failure says
			for _, name := range checkNames("VIS-1177-las", "VIS-1177-uppdatera") {
				want["07 Region Kronoberg/"+name] = "ok"
			}
			for _, name := range checkNames(view12, cmp.Or(tt.handler12, "VIS-1177-uppdatera")) {
				want["12 Region Skåne/"+name] = cmp.Or(tt.failed[name], "ok")
			}
			for check, w := range want {
				got, ok := results[check]
				switch {
				case !ok:
					t.Errorf("check printed no line for %s", check)
				case w == "ok" && got != "ok":
					t.Errorf("%s: %q, want ok", check, got)
				case w != "ok" && (!strings.HasPrefix(got, "FAILED: ") || !strings.Contains(got, w)):
					t.Errorf("%s: %q, want FAILED and %q", check, got, w)
				}
			}
			if !regexp.MustCompile(`lock store\s+sqlite\s+ok\s+reachable, writable, schema version`).MatchString(res.stdout) {
				t.Errorf("check does not say the lock store is ok:\n%s", res.stdout)
			}
			if len(results) != len(want) {
				t.Errorf("check printed %d lines of checks, want %d:\n%s", len(results), len(want), res.stdout)
			}
			if n := len(tt.failed); n > 0 && !strings.Contains(res.stderr, "lockworker: "+strconv.Itoa(n)+" of 9 checks failed") {
				t.Errorf("check's standard error %q, want it to say %d checks failed", res.stderr, n)
			}
		})
	}
}

// An invalid configuration is exit status 2, naming the field, and nothing
// is reached.
func TestCheckInvalidConfiguration(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		breaks  func(e *env)
		wantErr string
	}{
		{"a wrong organisation number", func(e *env) { e.editConfig(`"2321000255"`, `"2321000256"`) }, "regions[1].org_number: must be a 10-digit organisation number"},
		{"a schedule that is none", func(e *env) { e.editConfig(`"@every 2m"`, `"every other minute"`) }, "schedule: "},
		{"a form service URL that is none", func(e *env) {
			e.editConfig("url: "+e.region("07").forms.URL(), "url: fhir.region.example")
		}, `regions[0].forms.url: must be an http or https URL, not "fhir.region.example"`},
		{"an admin listener without a token", func(e *env) {
			e.write("lockworker.yaml", e.configYAML()+"admin:\n  listen: 127.0.0.1:8080\n")
		}, "admin.token: is required when admin.listen is set"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			e := setup(t)
			tt.breaks(e)
			res := e.run("check")
			if res.code != exitUsage || !strings.Contains(res.stderr, tt.wantErr) {
				t.Errorf("lockworker check = %d, stderr %q; want %d and %q", res.code, res.stderr, exitUsage, tt.wantErr)
			}
			for _, r := range e.regions {
				if n := len(r.easit.Calls()) + len(r.forms.Calls()); n != 0 {
					t.Errorf("region %s's Easit and form service got %d calls, want none", r.Code, n)
				}
			}
		})
	}
}

// check finds a lock store that is not there (never migrated), and creates
// none.
func TestCheckFindsAMissingLockStore(t *testing.T) {
	t.Parallel()
	e := setup(t)
	res := e.run("check")
	if res.code != exitFailed || !regexp.MustCompile(`lock store\s+sqlite\s+FAILED: .*no lock store`).MatchString(res.stdout) {
		t.Errorf("check with no lock store = %d; stdout:\n%s", res.code, res.stdout)
	}
	if _, err := os.Stat(e.dsn); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("check created the lock store (stat: %v)", err)
	}
}
