package config

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/lockworker/lockworker"
)

// The secrets of the two-region example, which no printing may show.
const (
	dsnSecret     = "postgres://lockworker:pg-pass-4711@db.example/lockworker"
	easit07Secret = "easit-07-key-9f3a"
	forms07Secret = "forms-07-token-b21c"
	easit12Secret = "easit-12-key-77de"
	forms12Secret = "forms-12-token-e0e0"
	adminSecret   = "admin-token-5a5a"
)

// setup writes the secret files of the example and returns an environment
// that resolves its ${VAR}s.
func setup(t *testing.T) func(string) (string, bool) {
	t.Helper()
	dir := t.TempDir()
	for name, value := range map[string]string{"easit-12-key": easit12Secret + "\n", "forms-12-token": forms12Secret} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(value), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{
		"LOCKSTORE_DSN": dsnSecret, "EASIT_07_KEY": easit07Secret, "FORMS_07_TOKEN": forms07Secret,
		"SECRETS": dir, "LOCKWORKER_ADMIN_TOKEN": adminSecret,
	}
	return func(name string) (string, bool) { v, ok := env[name]; return v, ok }
}

func TestLoadReadsTheExample(t *testing.T) {
	t.Parallel()
	cfg, err := Load("testdata/two-regions.yaml", setup(t))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.LockStore.Driver != "postgres" || cfg.LockStore.DSN.Reveal() != dsnSecret {
		t.Errorf("lockstore = %s %q", cfg.LockStore.Driver, cfg.LockStore.DSN.Reveal())
	}
	if cfg.Policy != (Policy{ChildrenUnder13: "manual", FormMaxAge: 720 * time.Hour, FormWait: 48 * time.Hour}) {
		t.Errorf("policy = %+v", cfg.Policy)
	}
	if len(cfg.Regions) != 2 {
		t.Fatalf("%d regions, want 2", len(cfg.Regions))
	}
	kron, skane := cfg.Regions[0], cfg.Regions[1]
	if kron.Easit.APIKey.Reveal() != easit07Secret || kron.Forms.Token.Reveal() != forms07Secret {
		t.Error("region 07's secrets were not read from the environment")
	}
	if skane.Easit.APIKey.Reveal() != easit12Secret || skane.Forms.Token.Reveal() != forms12Secret {
		t.Errorf("region 12's secrets were not read from their files (trailing newline trimmed)")
	}
	if kron.Easit.Fields != DefaultFields || kron.Easit.Kinds != DefaultKinds || kron.Easit.Statuses != DefaultStatuses {
		t.Errorf("region 07 did not get the default names: %+v %+v %+v", kron.Easit.Fields, kron.Easit.Kinds, kron.Easit.Statuses)
	}
	wantFields := DefaultFields
	wantFields.Personnummer, wantFields.Created = "Patientens personnummer", "Registrerad tid"
	if skane.Easit.Fields != wantFields {
		t.Errorf("region 12 fields = %+v, want the overrides over the defaults", skane.Easit.Fields)
	}
	if skane.Easit.Kinds != (Kinds{Lock: "Spärra 1177", Unlock: "Häva låsning"}) {
		t.Errorf("region 12 kinds = %+v", skane.Easit.Kinds)
	}
	if skane.Easit.Statuses.Resolved != "Avslutad" || skane.Easit.Statuses.Open != "Registrerad" {
		t.Errorf("region 12 statuses = %+v", skane.Easit.Statuses)
	}
	if skane.Forms.LockForm != (lockworker.Code{System: "urn:oid:1.2.752.74.9.1", Code: "L"}) {
		t.Errorf("region 12 lock form = %+v", skane.Forms.LockForm)
	}
	if kron.Forms.SigningTimeExtension != "" || skane.Forms.SigningTimeExtension != "https://fhir.skane.example/StructureDefinition/signeringstid" {
		t.Errorf("signing time extensions = %q, %q; want none for 07, Skåne's for 12", kron.Forms.SigningTimeExtension, skane.Forms.SigningTimeExtension)
	}
	if cfg.Admin.Token.Reveal() != adminSecret || cfg.Log.Level != "debug" {
		t.Errorf("admin/log = %+v %+v", cfg.Admin, cfg.Log)
	}
}

// minimal is a valid configuration with one region and all defaults.
const minimal = `
regions:
  - code: "07"
    name: Region Kronoberg
    org_number: "2321000065"
    easit: {url: "http://127.0.0.1:9001", api_key: k, view: V, import_handler: H}
    forms:
      url: http://127.0.0.1:9101/fhir
      token: t
      lock_form: {system: s, code: L}
      unlock_form: {system: s, code: H}
`

func noEnv(string) (string, bool) { return "", false }

func TestParseFillsTheDocumentedDefaults(t *testing.T) {
	t.Parallel()
	cfg, err := Parse([]byte(minimal), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.LockStore.Driver != "sqlite" || cfg.LockStore.DSN.Reveal() != "lockworker.db" {
		t.Errorf("lockstore = %s %q, want sqlite lockworker.db", cfg.LockStore.Driver, cfg.LockStore.DSN.Reveal())
	}
	if cfg.Schedule != "@every 2m" {
		t.Errorf("schedule = %q", cfg.Schedule)
	}
	if cfg.Policy != (Policy{ChildrenUnder13: "lock", FormMaxAge: 2160 * time.Hour, FormWait: 72 * time.Hour}) {
		t.Errorf("policy = %+v", cfg.Policy)
	}
	if cfg.Limits != (Limits{ConcurrentOrders: 32, FormConcurrency: 16, ImportBatch: 100, EasitRequestsPerSecond: 10, EasitTimeout: 30 * time.Second}) || cfg.LockStore.ClaimLease != 15*time.Second {
		t.Errorf("limits = %+v, claim lease %s", cfg.Limits, cfg.LockStore.ClaimLease)
	}
	if cfg.Log.Level != "info" || cfg.Admin.Listen != "" {
		t.Errorf("log = %+v, admin = %+v", cfg.Log, cfg.Admin)
	}
}

func TestParseRejects(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		edit   func(string) string
		wantIn string
	}{
		{"a misspelt key", func(s string) string { return s + "schedul: \"@hourly\"\n" }, "field schedul not found"},
		{"an unset variable", func(s string) string { return strings.Replace(s, "api_key: k", `api_key: "${NOPE}"`, 1) }, "environment variable NOPE is not set"},
		{"a secret and its file", func(s string) string { return strings.Replace(s, "api_key: k", "api_key: k, api_key_file: /x", 1) }, "regions[0].easit.api_key: give the secret or its file, not both"},
		{"an unreadable secret file", func(s string) string { return strings.Replace(s, "token: t", "token_file: /does/not/exist", 1) }, "regions[0].forms.token_file:"},
		{"an unknown driver", func(s string) string { return s + "lockstore: {driver: mysql}\n" }, `lockstore.driver: must be sqlite or postgres, not "mysql"`},
		{"a bad schedule", func(s string) string { return s + "schedule: \"every two minutes\"\n" }, "schedule:"},
		{"a bad child policy", func(s string) string { return s + "policy: {children_under_13: maybe}\n" }, "policy.children_under_13"},
		{"a negative wait", func(s string) string { return s + "policy: {form_wait: -1h}\n" }, "policy.form_wait"},
		{"no concurrency", func(s string) string { return s + "limits: {concurrent_orders: 0}\n" }, "limits.concurrent_orders: must be from 1 to 64, not 0"},
		{"no request rate", func(s string) string { return s + "limits: {easit_requests_per_second: -1}\n" }, "limits.easit_requests_per_second: must be positive"},
		{"a lease shorter than a second", func(s string) string { return s + "lockstore: {claim_lease: 500ms}\n" }, "lockstore.claim_lease: must be at least 1s, not 500ms"},
		{"a bad duration", func(s string) string { return s + "policy: {form_max_age: ninety days}\n" }, "line 11: cannot unmarshal !!str `ninety ...` into time.Duration"},
		{"a bad region code", func(s string) string { return strings.Replace(s, `code: "07"`, `code: "7"`, 1) }, `regions[0].code: must be a two-digit county code, not "7"`},
		{"a bad org number", func(s string) string { return strings.Replace(s, "2321000065", "2321000066", 1) }, "regions[0].org_number"},
		{"a bad Easit URL", func(s string) string { return strings.Replace(s, "http://127.0.0.1:9001", "127.0.0.1:9001", 1) }, "regions[0].easit.url"},
		{"no view", func(s string) string { return strings.Replace(s, "view: V, ", "", 1) }, "regions[0].easit.view: is required"},
		{"no forms token", func(s string) string { return strings.Replace(s, "token: t", "", 1) }, "regions[0].forms.token: is required"},
		{"the same form for both kinds", func(s string) string { return strings.Replace(s, "code: H}", "code: L}", 1) }, "regions[0].forms: lock_form and unlock_form must differ"},
		{"a signing time extension that is no URL", func(s string) string {
			return strings.Replace(s, "      token: t\n", "      token: t\n      signing_time_extension: signeringstid\n", 1)
		}, `regions[0].forms.signing_time_extension: must be an absolute URL, not "signeringstid"`},
		{"an admin listener without token", func(s string) string { return s + "admin: {listen: \"127.0.0.1:8080\"}\n" }, "admin.token: is required"},
		{"a bad log level", func(s string) string { return s + "log: {level: loud}\n" }, "log.level"},
		{"a short pseudonym key", func(s string) string { return s + "log: {pseudonym_key_file: testdata/short.key}\n" }, "log.pseudonym_key_file: the key must be at least 16 bytes"},
		{"a missing pseudonym key", func(s string) string { return s + "log: {pseudonym_key_file: /does/not/exist}\n" }, "log.pseudonym_key_file:"},
		{"a missing DSN file", func(s string) string { return s + "lockstore: {dsn_file: /does/not/exist}\n" }, "lockstore.dsn_file:"},
		{"no regions", func(string) string { return "schedule: \"@hourly\"\n" }, "regions: at least one region is required"},
		{"a region twice", func(s string) string { return s + strings.SplitN(minimal, "regions:\n", 2)[1] }, `regions[1].code: "07" is configured twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Parse([]byte(tt.edit(minimal)), noEnv)
			if err == nil || !strings.Contains(err.Error(), tt.wantIn) {
				t.Errorf("Parse error = %v, want one containing %q", err, tt.wantIn)
			}
		})
	}
}

func TestTheDSNAndThePseudonymKeyCanBeFiles(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	dsn, key := filepath.Join(dir, "dsn"), filepath.Join(dir, "key")
	if err := os.WriteFile(dsn, []byte(dsnSecret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(key, []byte("a pseudonym key of 32 bytes, ok\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	text := minimal + "lockstore: {driver: postgres, dsn_file: " + dsn + "}\nlog: {pseudonym_key_file: " + key + "}\n"
	cfg, err := Parse([]byte(text), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.LockStore.DSN.Reveal() != dsnSecret || cfg.Log.PseudonymKey.Reveal() != "a pseudonym key of 32 bytes, ok" {
		t.Errorf("dsn %d bytes, key %d bytes: want both read from their files", len(cfg.LockStore.DSN), len(cfg.Log.PseudonymKey))
	}
	if printed := fmt.Sprintf("%+v", *cfg); strings.Contains(printed, "pseudonym key of") || strings.Contains(printed, dsnSecret) {
		t.Error("a printed configuration shows the DSN or the pseudonym key")
	}
}

func TestKindsAndStatusesAreReadInNFC(t *testing.T) {
	t.Parallel()
	text := strings.Replace(minimal, "view: V,", "view: V, kinds: {unlock: \"Ha\\u0308va\"}, statuses: {waiting: \"Va\\u0308ntar\"},", 1)
	cfg, err := Parse([]byte(text), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if e := cfg.Regions[0].Easit; e.Kinds.Unlock != "Häva" || e.Statuses.Waiting != "Väntar" {
		t.Errorf("kinds %q, statuses %q: want them in NFC", e.Kinds, e.Statuses)
	}
}

func TestVariablesAreValuesNotYAML(t *testing.T) {
	t.Parallel()
	// A secret that looks like YAML must arrive as the string it is.
	env := func(name string) (string, bool) { return "{a: 1} # not a comment", true }
	cfg, err := Parse([]byte(strings.Replace(minimal, "api_key: k", `api_key: "${KEY}"`, 1)), env)
	if err != nil {
		t.Fatal(err)
	}
	if got := cfg.Regions[0].Easit.APIKey.Reveal(); got != "{a: 1} # not a comment" {
		t.Errorf("api_key = %q", got)
	}
}

// TestHideConfigSecrets proves that no way of printing a configuration shows
// a secret.
func TestHideConfigSecrets(t *testing.T) {
	t.Parallel()
	cfg, err := Load("testdata/two-regions.yaml", setup(t))
	if err != nil {
		t.Fatal(err)
	}
	var js strings.Builder
	enc := json.NewEncoder(&js)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(cfg); err != nil {
		t.Fatal(err)
	}
	ys, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	printed := map[string]string{
		"%v": fmt.Sprintf("%v", cfg), "%+v": fmt.Sprintf("%+v", *cfg), "%#v": fmt.Sprintf("%#v", *cfg),
		"%s": fmt.Sprintf("%s", cfg.Regions[0].Easit.APIKey), "%q": fmt.Sprintf("%q", cfg.Admin.Token),
		"%x": fmt.Sprintf("%x", cfg.Admin.Token), "json": js.String(), "yaml": string(ys),
	}
	for how, out := range printed {
		for _, secret := range []string{dsnSecret, easit07Secret, forms07Secret, easit12Secret, forms12Secret, adminSecret} {
			if strings.Contains(out, secret) {
				t.Errorf("%s shows the secret %q", how, secret)
			}
		}
		if !strings.Contains(out, "<secret>") {
			t.Errorf("%s does not show <secret> in place of the secrets: %s", how, out)
		}
	}
}

// TestTheDeploymentExampleIsValid loads deploy/lockworker.example.yaml as
// systemd would hand it its credentials.
func TestTheDeploymentExampleIsValid(t *testing.T) {
	t.Parallel()
	creds := t.TempDir()
	for _, name := range []string{"easit-07-key", "forms-07-token", "easit-12-key", "forms-12-token", "admin-token", "pseudonym-key", "postgres-url"} {
		if err := os.WriteFile(filepath.Join(creds, name), []byte(name+"-value\n"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{
		"CREDENTIALS_DIRECTORY":   creds,
		"LOCKWORKER_ADMIN_LISTEN": "127.0.0.1:8080",
	}
	cfg, err := Load("../deploy/lockworker.example.yaml", func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	if cfg.LockStore.Driver != "postgres" || cfg.LockStore.DSN.Reveal() != "postgres-url-value" || len(cfg.Regions) != 2 || cfg.Admin.Token.Reveal() != "admin-token-value" {
		t.Errorf("config = %+v", cfg)
	}
	if cfg.Regions[1].Easit.Fields.Personnummer != "Patientens personnummer" || cfg.Regions[1].Easit.Statuses.Resolved != "Avslutad" {
		t.Errorf("region 12's overrides were not read: %+v", cfg.Regions[1].Easit)
	}
	if cfg.Log.PseudonymKeyFile != filepath.Join(creds, "pseudonym-key") {
		t.Errorf("pseudonym_key_file = %q", cfg.Log.PseudonymKeyFile)
	}
}
