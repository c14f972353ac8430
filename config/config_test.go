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
	adminSecret   = "admin-token-5a5a-6b6b-7c7c-8d8d-9e9e"
	export07      = "easit-07-export-secret-1a2b-3c4d-5e6f"
	export12      = "easit-12-export-secret-6f5e-4d3c-2b1a"
)

// setup writes the secret files of the example and returns an environment
// that resolves its ${VAR}s.
func setup(t *testing.T) func(string) (string, bool) {
	t.Helper()
	dir := t.TempDir()
	for name, value := range map[string]string{"easit-12-key": easit12Secret + "\n", "forms-12-token": forms12Secret, "easit-12-export-secret": export12 + "\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(value), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	env := map[string]string{
		"LOCKSTORE_DSN": dsnSecret, "EASIT_07_KEY": easit07Secret, "FORMS_07_TOKEN": forms07Secret,
		"SECRETS": dir, "LOCKWORKER_ADMIN_TOKEN": adminSecret, "EASIT_07_EXPORT_SECRET": export07,
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
	if cfg.Policy != (Policy{ChildrenUnder13: "manual", FormMaxAge: 720 * time.Hour, FormWait: 48 * time.Hour, ClockTolerance: 5 * time.Minute}) {
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
	if kron.Easit.ExportSecret.Reveal() != export07 || skane.Easit.ExportSecret.Reveal() != export12 {
		t.Errorf("the export secrets were not read, from the environment for 07 and from a file for 12 (trailing newline trimmed)")
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
	if cfg.Policy != (Policy{ChildrenUnder13: "lock", FormMaxAge: 2160 * time.Hour, FormWait: 72 * time.Hour, ClockTolerance: 5 * time.Minute}) {
		t.Errorf("policy = %+v", cfg.Policy)
	}
	if cfg.Limits != (Limits{ConcurrentOrders: 32, FormConcurrency: 16, ImportBatch: 100, EasitRequestsPerSecond: 10, EasitTimeout: 30 * time.Second, MaxResponseBytes: 8 << 20}) || cfg.LockStore.ClaimLease != 15*time.Second {
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
		{"a misspelt key", func(s string) string { return s + "schedul: \"@hourly\"\n" }, `line 12, column 1: unknown key "schedul"`},
		{"an unset variable", func(s string) string { return strings.Replace(s, "api_key: k", `api_key: "${NOPE}"`, 1) }, "environment variable NOPE is not set"},
		{"a secret and its file", func(s string) string { return strings.Replace(s, "api_key: k", "api_key: k, api_key_file: /x", 1) }, "regions[0].easit.api_key: give the secret or its file, not both"},
		{"an export secret and its file", func(s string) string {
			return strings.Replace(s, "api_key: k", "api_key: k, export_secret: "+export07+", export_secret_file: /x", 1)
		}, "regions[0].easit.export_secret: give the secret or its file, not both"},
		{"an unreadable export secret file", func(s string) string {
			return strings.Replace(s, "api_key: k", "api_key: k, export_secret_file: /does/not/exist", 1)
		}, "regions[0].easit.export_secret_file:"},
		{"a short export secret", func(s string) string {
			return strings.Replace(s, "api_key: k", "api_key: k, export_secret: sesam-open", 1)
		},
			"regions[0].easit.export_secret: must be at least 32 characters, not all the same (it has 10)"},
		{"an export secret without the admin listener", func(s string) string {
			return strings.Replace(s, "api_key: k", "api_key: k, export_secret: "+export07, 1)
		}, "regions[0].easit.export_secret: is of no use without admin.listen"},
		{"an unreadable secret file", func(s string) string { return strings.Replace(s, "token: t", "token_file: /does/not/exist", 1) }, "regions[0].forms.token_file:"},
		{"an unknown driver", func(s string) string { return s + "lockstore: {driver: mysql}\n" }, `lockstore.driver: must be sqlite or postgres, not "mysql"`},
		{"a bad schedule", func(s string) string { return s + "schedule: \"every two minutes\"\n" }, "schedule:"},
		{"a bad child policy", func(s string) string { return s + "policy: {children_under_13: maybe}\n" }, "policy.children_under_13"},
		{"a negative wait", func(s string) string { return s + "policy: {form_wait: -1h}\n" }, "policy.form_wait"},
		{"a clock tolerance of a day", func(s string) string { return s + "policy: {clock_tolerance: 24h}\n" }, "policy.clock_tolerance: must be from 0 to 1h, not 24h0m0s"},
		{"a negative clock tolerance", func(s string) string { return s + "policy: {clock_tolerance: -1s}\n" }, "policy.clock_tolerance: must be from 0 to 1h, not -1s"},
		{"no concurrency", func(s string) string { return s + "limits: {concurrent_orders: 0}\n" }, "limits.concurrent_orders: must be from 1 to 64, not 0"},
		{"no request rate", func(s string) string { return s + "limits: {easit_requests_per_second: -1}\n" }, "limits.easit_requests_per_second: must be positive"},
		{"a lease shorter than a second", func(s string) string { return s + "lockstore: {claim_lease: 500ms}\n" }, "lockstore.claim_lease: must be at least 1s, not 500ms"},
		{"a bad duration", func(s string) string { return s + "policy: {form_max_age: ninety days}\n" }, `line 12, column 24: policy.form_max_age: want a duration such as 90s, 5m or 72h, not "ninety days"`},
		{"a bad region code", func(s string) string { return strings.Replace(s, `code: "07"`, `code: "7"`, 1) }, `regions[0].code: must be a two-digit county code, not "7"`},
		{"a bad org number", func(s string) string { return strings.Replace(s, "2321000065", "2321000066", 1) }, "regions[0].org_number"},
		{"a bad Easit URL", func(s string) string { return strings.Replace(s, "http://127.0.0.1:9001", "127.0.0.1:9001", 1) }, "regions[0].easit.url"},
		{"an Easit URL of the integration API", func(s string) string {
			return strings.Replace(s, "http://127.0.0.1:9001", "http://127.0.0.1:9001/integration-api/", 1)
		}, "regions[0].easit.url: give Easit GO's address without /integration-api, which lockworker adds"},
		{"no view", func(s string) string { return strings.Replace(s, "view: V, ", "", 1) }, "regions[0].easit.view: is required"},
		{"no forms token", func(s string) string { return strings.Replace(s, "token: t", "", 1) }, "regions[0].forms.token: is required"},
		{"the same form for both kinds", func(s string) string { return strings.Replace(s, "code: H}", "code: L}", 1) }, "regions[0].forms: lock_form and unlock_form must differ"},
		{"a signing time extension that is no URL", func(s string) string {
			return strings.Replace(s, "      token: t\n", "      token: t\n      signing_time_extension: signeringstid\n", 1)
		}, `regions[0].forms.signing_time_extension: must be an absolute URL, not "signeringstid"`},
		{"an admin listener without token", func(s string) string { return s + "admin: {listen: \"127.0.0.1:8080\"}\n" }, "admin.token: is required"},
		{"plain http to another host", func(s string) string {
			return strings.Replace(s, "http://127.0.0.1:9001", "http://easit.region.example", 1)
		}, `regions[0].easit.url: http:// sends the credentials in clear`},
		{"plain http to another form service", func(s string) string { return strings.Replace(s, "http://127.0.0.1:9101", "http://10.0.0.7:9101", 1) }, `regions[0].forms.url: http:// sends the credentials in clear`},
		{"a missing CA file", func(s string) string {
			return strings.Replace(s, "token: t", "token: t\n      tls: {ca_file: /does/not/exist}", 1)
		}, "regions[0].forms.tls: ca_file:"},
		{"a CA file without a certificate", func(s string) string {
			return strings.Replace(s, "view: V,", "view: V, tls: {ca_file: testdata/short.key},", 1)
		}, "regions[0].easit.tls: ca_file: testdata/short.key holds no PEM certificate"},
		{"a client certificate without its key", func(s string) string { return strings.Replace(s, "view: V,", "view: V, tls: {cert_file: c.pem},", 1) }, "regions[0].easit.tls: cert_file and key_file go together"},
		{"a short admin token", func(s string) string {
			return s + "admin: {listen: \"127.0.0.1:8080\", token: \"0123456789abcdef0123456789abcde\"}\n"
		}, "admin.token: must be at least 32 characters, not all the same (it has 31)"},
		{"an admin token of one character", func(s string) string { return s + "admin: {token: \"" + strings.Repeat("ä", 40) + "\"}\n" }, "admin.token: must be at least 32 characters, not all the same"},
		{"an admin certificate without its key", func(s string) string { return s + "admin: {tls: {cert_file: c.pem}}\n" }, "admin.tls: cert_file and key_file go together"},
		{"a tiny response limit", func(s string) string { return s + "limits: {max_response_bytes: 1000}\n" }, "limits.max_response_bytes: must be at least 65536, not 1000"},
		{"a bad log level", func(s string) string { return s + "log: {level: loud}\n" }, "log.level"},
		{"a short pseudonym key", func(s string) string { return s + "log: {pseudonym_key_file: testdata/short.key}\n" }, "log.pseudonym_key_file: the key must be at least 16 bytes"},
		{"a missing pseudonym key", func(s string) string { return s + "log: {pseudonym_key_file: /does/not/exist}\n" }, "log.pseudonym_key_file:"},
		{"a short data key", func(s string) string { return s + "lockstore: {data_key_file: testdata/short.key}\n" }, "lockstore.data_key_file: the key has"},
		{"a short audit key", func(s string) string { return s + "audit: {key_file: testdata/short.key}\n" }, "audit.key_file: the key has"},
		{"a missing data key", func(s string) string { return s + "lockstore: {data_key_file: /does/not/exist}\n" }, "lockstore.data_key_file:"},
		{"postgres without a data key", func(s string) string {
			return s + "lockstore: {driver: postgres, dsn: postgres://db/lw}\naudit: {key_file: testdata/audit.key}\n"
		}, "lockstore.data_key_file: is required with the postgres driver"},
		{"postgres without an audit key", func(s string) string {
			return s + "lockstore: {driver: postgres, dsn: postgres://db/lw, data_key_file: testdata/data.key}\n"
		}, "audit.key_file: is required with the postgres driver"},
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
	text := minimal + "lockstore: {driver: postgres, dsn_file: " + dsn + ", data_key_file: testdata/data.key}\naudit: {key_file: testdata/audit.key}\nlog: {pseudonym_key_file: " + key + "}\n"
	cfg, err := Parse([]byte(text), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.LockStore.DSN.Reveal() != dsnSecret || cfg.Log.PseudonymKey.Reveal() != "a pseudonym key of 32 bytes, ok" {
		t.Errorf("dsn %d bytes, key %d bytes: want both read from their files", len(cfg.LockStore.DSN), len(cfg.Log.PseudonymKey))
	}
	// A key file's bytes are the key, but for its trailing newline.
	if cfg.LockStore.DataKey.Reveal() != "a test data key, never a real one: 32 bytes and more" || len(cfg.Audit.Key) != 53 {
		t.Errorf("data key %d bytes, audit key %d bytes: want each file's bytes without the newline", len(cfg.LockStore.DataKey), len(cfg.Audit.Key))
	}
	if printed := fmt.Sprintf("%+v", *cfg); strings.Contains(printed, "pseudonym key of") || strings.Contains(printed, "test data key") || strings.Contains(printed, dsnSecret) {
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
		for _, secret := range []string{dsnSecret, easit07Secret, forms07Secret, easit12Secret, forms12Secret, adminSecret, export07, export12} {
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
	for _, name := range []string{"easit-07-key", "easit-07-export", "forms-07-token", "easit-12-key", "forms-12-token", "admin-token", "pseudonym-key", "postgres-url", "data-key", "audit-key"} {
		value := name + "-value"
		switch {
		case name == "admin-token" || name == "easit-07-export":
			value += "-of-at-least-32-characters"
		case strings.HasSuffix(name, "-key"):
			value += " of at least 32 bytes"
		}
		if err := os.WriteFile(filepath.Join(creds, name), []byte(value+"\n"), 0o600); err != nil {
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
	if cfg.LockStore.Driver != "postgres" || cfg.LockStore.DSN.Reveal() != "postgres-url-value" || len(cfg.Regions) != 2 || cfg.Admin.Token.Reveal() != "admin-token-value-of-at-least-32-characters" {
		t.Errorf("config = %+v", cfg)
	}
	if cfg.Regions[1].Easit.Fields.Personnummer != "Patientens personnummer" || cfg.Regions[1].Easit.Statuses.Resolved != "Avslutad" {
		t.Errorf("region 12's overrides were not read: %+v", cfg.Regions[1].Easit)
	}
	if cfg.Regions[0].Easit.ExportSecret.Reveal() != "easit-07-export-value-of-at-least-32-characters" {
		t.Error("region 07's export secret was not read from its credential")
	}
	if cfg.Log.PseudonymKeyFile != filepath.Join(creds, "pseudonym-key") {
		t.Errorf("pseudonym_key_file = %q", cfg.Log.PseudonymKeyFile)
	}
}

func TestPlainHTTPIsAllowedToLoopbackOrWhenTheRegionSaysSo(t *testing.T) {
	t.Parallel()
	for _, url := range []string{"http://localhost:9001", "http://[::1]:9001", "http://127.0.0.2:9001"} {
		if _, err := Parse([]byte(strings.Replace(minimal, "http://127.0.0.1:9001", url, 1)), noEnv); err != nil {
			t.Errorf("%s: %v", url, err)
		}
	}
	allowed := strings.Replace(minimal, "http://127.0.0.1:9001", "http://easit.region.example", 1) + "    allow_insecure_http: true\n"
	cfg, err := Parse([]byte(allowed), noEnv)
	if err != nil || !cfg.Regions[0].AllowInsecureHTTP {
		t.Errorf("allow_insecure_http: true: %v", err)
	}
}

func TestLoadWarnsOfFilesOthersCanRead(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string, mode os.FileMode) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(path, mode); err != nil {
			t.Fatal(err)
		}
		return path
	}
	token := write("admin-token", adminSecret+"\n", 0o644)
	for _, tc := range []struct {
		name, content string
		mode          os.FileMode
		want          []string
	}{
		{"inline secrets, readable by all", strings.Replace(minimal, "api_key: k", "api_key: k-of-region-07", 1), 0o644, []string{"the configuration file, which holds a secret"}},
		{"inline secrets, the owner's only", strings.Replace(minimal, "api_key: k", "api_key: k-of-region-07", 1), 0o600, nil},
		{"a token file readable by all", minimal + "admin: {token_file: " + token + "}\n", 0o600, []string{"admin.token_file: " + token + " can be read by others than its owner (mode 0644)"}},
	} {
		cfg, err := Load(write("c.yaml", tc.content, tc.mode), noEnv)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(cfg.Warnings) != len(tc.want) {
			t.Errorf("%s: warnings %q, want %q", tc.name, cfg.Warnings, tc.want)
			continue
		}
		for i, w := range tc.want {
			if !strings.Contains(cfg.Warnings[i], w) {
				t.Errorf("%s: warning %q, want one saying %q", tc.name, cfg.Warnings[i], w)
			}
		}
	}
}

func TestRetention(t *testing.T) {
	t.Parallel()
	cfg, err := Parse([]byte(minimal), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Retention.Audit != Age(5*365*24*time.Hour) || cfg.Retention.Passes != Age(90*24*time.Hour) {
		t.Errorf("the default retention = %v, %v; want 5y (1825d) and 90d", cfg.Retention.Audit, cfg.Retention.Passes)
	}
	cfg, err = Parse([]byte(minimal+"retention: {audit: 10y, passes: 36h}\n"), noEnv)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Retention.Audit != Age(3650*24*time.Hour) || cfg.Retention.Passes != Age(36*time.Hour) {
		t.Errorf("retention = %v, %v; want 3650d and 36h", cfg.Retention.Audit, cfg.Retention.Passes)
	}
	for _, bad := range []string{"retention: {passes: soon}\n", "retention: {audit: 0d}\n", "retention: {audit: -1y}\n"} {
		if _, err := Parse([]byte(minimal+bad), noEnv); err == nil || !strings.Contains(err.Error(), "retention.") {
			t.Errorf("Parse with %q: %v, want an error naming the field", bad, err)
		}
	}
}
