package config

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// envOf returns a getenv that knows the variables vars.
func envOf(vars map[string]string) func(string) (string, bool) {
	return func(name string) (string, bool) { v, ok := vars[name]; return v, ok }
}

// A ${VAR} may stand for any scalar: the value is typed as if it had been
// written there, unless the file quotes it.
func TestVariablesAreTypedAsIfWritten(t *testing.T) {
	t.Parallel()
	text := minimal + `policy:
  form_wait: ${WAIT}
  clock_tolerance: ${TOLERANCE}
limits:
  concurrent_orders: ${N}
  easit_requests_per_second: ${RATE}
  easit_timeout: ${TIMEOUT}s
`
	env := envOf(map[string]string{"N": "8", "RATE": "2.5", "WAIT": "24h", "TOLERANCE": "90s", "TIMEOUT": "20"})
	cfg, err := Parse([]byte(text), env)
	if err != nil {
		t.Fatal(err)
	}
	def := Default().Limits
	want := Limits{ConcurrentOrders: 8, FormConcurrency: def.FormConcurrency, ImportBatch: def.ImportBatch, EasitRequestsPerSecond: 2.5, EasitTimeout: 20 * time.Second, MaxResponseBytes: def.MaxResponseBytes}
	if cfg.Limits != want {
		t.Errorf("limits = %+v, want %+v", cfg.Limits, want)
	}
	if cfg.Policy.FormWait != 24*time.Hour || cfg.Policy.ClockTolerance != 90*time.Second {
		t.Errorf("policy = %+v, want form_wait 24h and clock_tolerance 90s", cfg.Policy)
	}

	// A string field takes the value as it is, whatever it looks like.
	keyed := strings.Replace(minimal, "token: t", "token: ${KEY}", 1)
	for _, key := range []string{"0123", "true", "1e3", "{a: 1} # not a comment"} {
		cfg, err := Parse([]byte(keyed), envOf(map[string]string{"KEY": key}))
		if err != nil {
			t.Fatalf("token %q: %v", key, err)
		}
		if got := cfg.Regions[0].Forms.Token.Reveal(); got != key {
			t.Errorf("token = %q, want %q", got, key)
		}
	}
}

// A boolean through ${VAR} is a boolean, and a quoted ${VAR} a string.
func TestTheDecoderTypesVariablesAsScalars(t *testing.T) {
	t.Parallel()
	type settings struct {
		Flag  bool   `yaml:"flag"`
		Count int    `yaml:"count"`
		Text  string `yaml:"text"`
	}
	tests := []struct {
		name    string
		yaml    string
		env     map[string]string
		want    settings
		wantErr string
	}{
		{"a boolean", "flag: ${B}\n", map[string]string{"B": "true"}, settings{Flag: true}, ""},
		{"a number", "count: ${N}\n", map[string]string{"N": "12"}, settings{Count: 12}, ""},
		{"a number in a string", "text: ${N}\n", map[string]string{"N": "12"}, settings{Text: "12"}, ""},
		{"an empty variable leaves the default", "count: ${N}\n", map[string]string{"N": ""}, settings{}, ""},
		{"a quoted variable is a string", `flag: "${B}"` + "\n", map[string]string{"B": "true"}, settings{},
			`line 1, column 7: flag: want true or false, not "${B}" (from the environment)`},
		{"a variable that is no boolean", "flag: ${SECRET}\n", map[string]string{"SECRET": "hunter2"}, settings{},
			`line 1, column 7: flag: want true or false, not "${SECRET}" (from the environment)`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var doc yaml.Node
			if err := yaml.Unmarshal([]byte(tt.yaml), &doc); err != nil {
				t.Fatal(err)
			}
			d := newDecoder()
			if err := expandEnv(doc.Content[0], envOf(tt.env), d.written); err != nil {
				t.Fatal(err)
			}
			var got settings
			d.decode(doc.Content[0], "", reflect.ValueOf(&got).Elem())
			err := d.err()
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("decode: %v", err)
			case tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr):
				t.Fatalf("decode error = %v, want %q", err, tt.wantErr)
			case got != tt.want:
				t.Errorf("decoded %+v, want %+v", got, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), "hunter2") {
				t.Errorf("the error %q shows what the environment gave", err)
			}
		})
	}
}

// written is a configuration as an operator writes one: comments, blank
// lines, flow and block styles, and a variable whose value spans lines. A
// re-encoding of it would move every line after the first comment.
const written = `# lockworker
# (the configuration of a test)

lockstore:
  driver: sqlite          # the default

schedule: "@every 2m"
regions:
  - code: "07"
    name: ${NAME}
    org_number: "2321000065"
    easit: {url: "http://127.0.0.1:9001", api_key: k, view: V, import_handler: H}
    forms:
      url: http://127.0.0.1:9101/fhir
      token: t


      lock_form: {system: s, code: L}
      unlock_form: {system: s, code: H}
`

// Errors in the file give the line and column where the value was written,
// not where a re-encoding of the file would have put it.
func TestErrorsGiveThePositionAsWritten(t *testing.T) {
	t.Parallel()
	env := envOf(map[string]string{"NAME": "Region\nKronoberg\n", "N": "many"})
	tests := []struct {
		name string
		edit func(string) string
		want []string
	}{
		{"a misspelt key", func(s string) string { return s + "    veiw: V\n" },
			[]string{`line 20, column 5: regions[0]: unknown key "veiw"`}},
		{"a misspelt key in a flow mapping", func(s string) string { return strings.Replace(s, "view: V", "veiw: V", 1) },
			[]string{`line 12, column 55: regions[0].easit: unknown key "veiw"`}},
		{"a key given twice", func(s string) string { return s + "schedule: \"@hourly\"\n" },
			[]string{`line 20, column 1: key "schedule" is given twice (first at line 7)`}},
		{"a value of the wrong type from the environment", func(s string) string { return s + "limits:\n  concurrent_orders: ${N}\n" },
			[]string{`line 21, column 22: limits.concurrent_orders: want a whole number, not "${N}" (from the environment)`}},
		{"a list where a mapping belongs", func(s string) string { return s + "policy: [1, 2]\n" },
			[]string{`line 20, column 9: policy: want a mapping, not a list`}},
		{"an unset variable", func(s string) string { return s + "admin:\n  token: ${ADMIN}\n" },
			[]string{`line 21, column 10: environment variable ADMIN is not set`}},
		{"a value that is not valid", func(s string) string { return strings.Replace(s, `"2321000065"`, `"2321000066"`, 1) },
			[]string{`line 11, column 17: regions[0].org_number: must be a 10-digit organisation number with a valid check digit, not "2321000066"`}},
		{"a required value left out, at the mapping that lacks it", func(s string) string { return strings.Replace(s, "view: V, ", "", 1) },
			[]string{`line 12, column 12: regions[0].easit.view: is required`}},
		{"a problem of two fields", func(s string) string { return s + "policy:\n  form_wait: -1h\nadmin: {listen: \"127.0.0.1:8080\"}\n" },
			[]string{`line 21, column 14: policy.form_wait: must not be negative`, `line 22, column 8: admin.token: is required when admin.listen is set`}},
		{"every problem at once", func(s string) string {
			return strings.Replace(s, "driver: sqlite", "drive: sqlite", 1) + "log: {level: info, lvl: debug}\n"
		}, []string{`line 5, column 3: lockstore: unknown key "drive"`, `line 20, column 20: log: unknown key "lvl"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tt.edit(written)), env)
			if err == nil {
				t.Fatal("Parse accepted the configuration")
			}
			if got := strings.Split(err.Error(), "\n"); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse error =\n%s\nwant\n%s", err, strings.Join(tt.want, "\n"))
			}
		})
	}
	if _, err := Parse([]byte(written), env); err != nil {
		t.Errorf("the configuration as written: %v", err)
	}
}

// Anchors, aliases and merge keys read as yaml.v3 reads them; an alias within
// its own anchor is an error, not a loop.
func TestAliasesAndMerges(t *testing.T) {
	t.Parallel()
	merged := `
regions:
  - &kronoberg
    code: "07"
    name: Region Kronoberg
    org_number: "2321000065"
    easit: {url: "http://127.0.0.1:9001", api_key: k, view: V, import_handler: H}
    forms: &forms {url: "http://127.0.0.1:9101/fhir", token: t, lock_form: {system: s, code: L}, unlock_form: {system: s, code: H}}
  - <<: *kronoberg
    code: "12"
    name: Region Skåne
    org_number: "2321000255"
`
	cfg, err := Parse([]byte(merged), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if r := cfg.Regions[1]; r.Code != "12" || r.Name != "Region Skåne" || r.Easit.View != "V" || r.Forms.Token.Reveal() != "t" {
		t.Errorf("region 12 = %+v, want its own code and name over Kronoberg's settings", r)
	}

	selfMerge := minimal + "policy: &p {<<: *p}\n"
	if _, err := Parse([]byte(selfMerge), noEnv); err == nil || !strings.Contains(err.Error(), "aliases followed") {
		t.Errorf("Parse error = %v, want the alias within its own anchor refused", err)
	}
}
