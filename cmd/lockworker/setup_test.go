package main

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"text/template"
	"time"

	"github.com/lockworker/lockworker"
	"github.com/lockworker/lockworker/config"
	"github.com/lockworker/lockworker/cosmic/cosmictest"
	"github.com/lockworker/lockworker/easit/easittest"
	"github.com/lockworker/lockworker/lockstore"
	"github.com/lockworker/lockworker/lockstore/lockstoretest"
)

// Skatteverket's test numbers, in their 12-digit form.
const (
	adult      = "199908072391"
	otherAdult = "196408233234"
	child      = "202312312388" // under 13 until 2036
	noAccount  = "200802292383" // never given an account in these tests
)

// The default order kinds and statuses of Easit (docs/EASIT.md).
var (
	lockKind   = config.DefaultKinds.Lock
	unlockKind = config.DefaultKinds.Unlock
	open       = config.DefaultStatuses.Open
	resolved   = config.DefaultStatuses.Resolved
	manual     = config.DefaultStatuses.Manual
)

// The form types that the configuration of the tests names.
var (
	lockForm   = lockworker.Code{System: "https://fhir.region.example/CodeSystem/blankett", Code: "1177-LAS"}
	unlockForm = lockworker.Code{System: "https://fhir.region.example/CodeSystem/blankett", Code: "1177-HAV"}
)

// env is a lockworker installation of one test: two regions, each with its
// fake Easit GO and form service, a configuration file that points at them,
// and a lock store of its own.
type env struct {
	t       *testing.T
	dir     string
	regions []*region
	driver  string
	dsn     string
	// config is the configuration file that run passes with --config; ""
	// leaves --config out.
	config string
	// vars is the environment lockworker sees: the regions' Easit API keys,
	// which the configuration file takes from ${EASIT_07_KEY} and
	// ${EASIT_12_KEY}.
	vars map[string]string
}

// region is one region of an env and its fake outside systems.
type region struct {
	Code, Name, Org string
	easit           *easittest.Server
	forms           *cosmictest.Server
	tokenFile       string
}

// setup returns an env whose lock store is a fresh SQLite file.
func setup(t *testing.T) *env {
	t.Helper()
	return setupStore(t, "sqlite", lockstoretest.SQLiteDSN(t))
}

// setupStore returns an env whose lock store is the database dsn of driver.
func setupStore(t *testing.T, driver, dsn string) *env {
	t.Helper()
	e := &env{t: t, dir: t.TempDir(), driver: driver, dsn: dsn, vars: map[string]string{}}
	e.regions = []*region{
		{Code: "07", Name: "Region Kronoberg", Org: "2321000065"},
		{Code: "12", Name: "Region Skåne", Org: "2321000255"},
	}
	for _, r := range e.regions {
		apiKey, token := "easit-key-"+r.Code, "forms-token-"+r.Code
		r.easit = easittest.NewServer(easittest.Config{APIKey: apiKey})
		t.Cleanup(r.easit.Close)
		r.forms = cosmictest.NewServer(cosmictest.Config{Token: token})
		t.Cleanup(r.forms.Close)
		e.vars["EASIT_"+r.Code+"_KEY"] = apiKey
		r.tokenFile = e.write("forms-"+r.Code+".token", token+"\n")
	}
	e.config = e.write("lockworker.yaml", e.configYAML())
	return e
}

// configTemplate is the configuration file of an env, in the shape the README
// gives.
var configTemplate = template.Must(template.New("lockworker.yaml").Parse(`# lockworker's configuration for a test: two regions on loopback.
lockstore:
  driver: {{.Driver}}
  dsn: {{printf "%q" .DSN}}
  data_key_file: {{printf "%q" .DataKeyFile}}
schedule: "@every 2m"
policy:
  children_under_13: lock
  form_max_age: 2160h
  form_wait: 72h
regions:
{{- range .Regions}}
  - code: "{{.Code}}"
    name: {{.Name}}
    org_number: "{{.Org}}"
    easit:
      url: {{.EasitURL}}
      api_key: ${EASIT_{{.Code}}_KEY}
      view: VIS-1177-las
      import_handler: VIS-1177-uppdatera
    forms:
      url: {{.FormsURL}}
      token_file: {{printf "%q" .TokenFile}}
      lock_form: {system: "https://fhir.region.example/CodeSystem/blankett", code: "1177-LAS"}
      unlock_form: {system: "https://fhir.region.example/CodeSystem/blankett", code: "1177-HAV"}
{{- end}}
log:
  level: debug
  pseudonym_key_file: {{printf "%q" .KeyFile}}
audit:
  key_file: {{printf "%q" .AuditKeyFile}}
`))

func (e *env) configYAML() string {
	e.t.Helper()
	type regionData struct {
		*region
		EasitURL, FormsURL, TokenFile string
	}
	data := struct {
		Driver, DSN, KeyFile, DataKeyFile, AuditKeyFile string
		Regions                                         []regionData
	}{
		Driver: e.driver, DSN: e.dsn,
		KeyFile:      e.write("pseudonym.key", "the pseudonym key of the tests of cmd/lockworker\n"),
		DataKeyFile:  e.write("data.key", string(testDataKey)+"\n"),
		AuditKeyFile: e.write("audit.key", string(lockstoretest.AuditKey)+"\n"),
	}
	for _, r := range e.regions {
		data.Regions = append(data.Regions, regionData{region: r, EasitURL: r.easit.URL(), FormsURL: r.forms.URL(), TokenFile: r.tokenFile})
	}
	var b strings.Builder
	if err := configTemplate.Execute(&b, data); err != nil {
		e.t.Fatalf("write the configuration: %v", err)
	}
	return b.String()
}

// editConfig replaces old by new in the configuration file.
func (e *env) editConfig(old, new string) {
	e.t.Helper()
	data, err := os.ReadFile(e.config)
	if err != nil {
		e.t.Fatal(err)
	}
	if !strings.Contains(string(data), old) {
		e.t.Fatalf("the configuration holds no %q", old)
	}
	e.write(filepath.Base(e.config), strings.Replace(string(data), old, new, 1))
}

// write writes a file in the env's directory and returns its path.
func (e *env) write(name, content string) string {
	e.t.Helper()
	path := filepath.Join(e.dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		e.t.Fatal(err)
	}
	return path
}

func (e *env) getenv(name string) (string, bool) {
	v, ok := e.vars[name]
	return v, ok
}

// run runs lockworker with args and the env's configuration.
func (e *env) run(args ...string) result {
	e.t.Helper()
	if e.config != "" {
		args = append(args, "--config", e.config)
	}
	return runCLI(e.t, e.getenv, args...)
}

// region returns the env's region with the code.
func (e *env) region(code string) *region {
	e.t.Helper()
	for _, r := range e.regions {
		if r.Code == code {
			return r
		}
	}
	e.t.Fatalf("no region %s", code)
	return nil
}

// order registers an order in a region's Easit, created an hour ago, and
// puts its form, signed half an hour before, in the region's form service.
func (e *env) order(code, ticket, kind, number string) {
	r := e.region(code)
	created := time.Now().Add(-time.Hour)
	ref := "blankett-" + code + "-" + ticket
	r.easit.AddOrder(easittest.Order{
		Ticket: ticket, Status: open, Kind: kind, Personnummer: number,
		Reporter: "Dr. Test Testsson", ReporterHSAID: "SE" + r.Org + "-T" + ticket,
		FormRef: ref, Created: created,
	})
	typ := lockForm
	if kind == unlockKind {
		typ = unlockForm
	}
	r.forms.Put(cosmictest.Document{
		ID: ref, DocStatus: "final", Type: typ, Patient: number,
		Signer: "SE" + r.Org + "-L" + ticket, Custodian: "SE" + r.Org + "-1000",
		Date: created.Add(-30 * time.Minute),
	})
}

// accounts gives the people an existing 1177 account, through `accounts
// import`.
func (e *env) accounts(numbers ...string) {
	e.t.Helper()
	file := e.write("existing-accounts.txt", strings.Join(numbers, "\n")+"\n")
	if res := e.run("accounts", "import", file); res.code != exitOK {
		e.t.Fatalf("accounts import = %d, stderr:\n%s", res.code, res.stderr)
	}
}

// sync runs a pass that must succeed.
func (e *env) sync(args ...string) result {
	e.t.Helper()
	res := e.run(append([]string{"sync"}, args...)...)
	if res.code != exitOK {
		e.t.Fatalf("lockworker sync %s = %d, want 0; stdout:\n%s\nstderr:\n%s", strings.Join(args, " "), res.code, res.stdout, res.stderr)
	}
	return res
}

// status returns what `status --json` says of the person.
func (e *env) status(number string) map[string]any {
	e.t.Helper()
	res := e.run("status", number, "--json")
	var state map[string]any
	if err := json.Unmarshal([]byte(res.stdout), &state); res.code != exitOK || err != nil {
		e.t.Fatalf("status --json = %d, %q (%v); want 0 and a JSON object; stderr:\n%s", res.code, res.stdout, err, res.stderr)
	}
	return state
}

// audit returns the lock store's audit trail.
func (e *env) audit() []lockworker.AuditEntry {
	e.t.Helper()
	store, err := lockstore.Open(e.t.Context(), e.driver, e.dsn, e.storeOptions())
	if err != nil {
		e.t.Fatalf("open the lock store: %v", err)
	}
	defer store.Close()
	entries, err := store.Audit(e.t.Context(), lockworker.AuditFilter{})
	if err != nil {
		e.t.Fatalf("read the audit trail: %v", err)
	}
	return entries
}

// testDataKey is the data key that the tests configure.
var testDataKey = lockstoretest.DataKey

// storeOptions are the options that open the env's lock store as lockworker
// does: with the data key, or, once the test has removed it from the
// configuration, the key lockworker made beside the SQLite store.
func (e *env) storeOptions() lockstore.Options {
	e.t.Helper()
	data, err := os.ReadFile(e.config)
	if err != nil {
		e.t.Fatal(err)
	}
	if strings.Contains(string(data), "data_key_file:") {
		return lockstore.Options{DataKey: testDataKey, AuditKey: lockstoretest.AuditKey}
	}
	var keys [2][]byte
	for i, k := range []storeKey{dataKey, auditKey} {
		if keys[i], err = readKeyFile(e.dsn + k.suffix); err != nil {
			e.t.Fatalf("read the key beside the store: %v", err)
		}
	}
	return lockstore.Options{DataKey: keys[0], AuditKey: keys[1]}
}

// ticketNumber is the shape of the tickets' numbers in the tests.
var ticketNumber = regexp.MustCompile(`^[0-9]+$`)

// summaryRows reads the table that `sync` prints: the fields of each order's
// row, by region code and ticket ("07/55").
func summaryRows(t *testing.T, stdout string) map[string][]string {
	t.Helper()
	rows := map[string][]string{}
	code := ""
	sc := bufio.NewScanner(strings.NewReader(stdout))
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		switch {
		case len(fields) >= 2 && fields[0] == "region":
			code = fields[1]
		case code != "" && len(fields) > 0 && ticketNumber.MatchString(fields[0]):
			rows[code+"/"+fields[0]] = fields
		}
	}
	return rows
}

// logEvents reads JSON logs, one event a line.
func logEvents(t *testing.T, stderr string) []map[string]any {
	t.Helper()
	var events []map[string]any
	for line := range strings.Lines(stderr) {
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Fatalf("a log line is not JSON (%v): %q", err, line)
		}
		events = append(events, ev)
	}
	return events
}

// pseudonym is the shape of a personnummer's pseudonym.
var pseudonym = regexp.MustCompile(`^pn-[0-9a-f]{16}$`)
