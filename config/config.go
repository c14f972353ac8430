// Package config reads lockworker's configuration file: YAML with ${VAR}
// values taken from the environment, secrets given inline or as files,
// documented defaults, and a validation that names the bad field.
package config

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/rs/zerolog"
	"golang.org/x/text/unicode/norm"
	"gopkg.in/yaml.v3"

	"github.com/lockworker/lockworker"
	"github.com/lockworker/lockworker/easit"
)

// Config is the whole configuration file.
type Config struct {
	LockStore LockStore `yaml:"lockstore"`
	// Schedule is when `lockworker serve` runs a pass, in robfig/cron syntax
	// with descriptors such as "@every 2m". Default "@every 2m".
	Schedule string   `yaml:"schedule"`
	Policy   Policy   `yaml:"policy"`
	Limits   Limits   `yaml:"limits"`
	Regions  []Region `yaml:"regions"`
	Admin    Admin    `yaml:"admin"`
	Log      Log      `yaml:"log"`
}

// LockStore says which database holds the lock store.
type LockStore struct {
	// Driver is "sqlite" (default) or "postgres".
	Driver string `yaml:"driver"`
	// DSN is a file for sqlite (default "lockworker.db"), a URL for postgres.
	DSN     Secret `yaml:"dsn"`
	DSNFile string `yaml:"dsn_file"`
	// ClaimLease is how long a claim on a ticket's update outlives the last
	// sign of life of the process holding it, which renews it every third
	// of the lease while it sends: a dead process's claim is taken over
	// once it has run out. At least 1s. Default 15s.
	ClaimLease time.Duration `yaml:"claim_lease"`
	// ConnectTimeout bounds connecting to the database. Default 5s.
	ConnectTimeout time.Duration `yaml:"connect_timeout"`
	// StatementTimeout bounds each statement, so that a database that does
	// not answer is an error within seconds. Default 10s.
	StatementTimeout time.Duration `yaml:"statement_timeout"`
}

// Policy holds the rules' settings.
type Policy struct {
	// ChildrenUnder13 is "lock" (default: lock, and suspend the guardians'
	// proxy) or "manual" (route such orders to manual handling).
	ChildrenUnder13 string `yaml:"children_under_13"`
	// FormMaxAge is how long ago a form may have been signed. Default 2160h.
	FormMaxAge time.Duration `yaml:"form_max_age"`
	// FormWait is how long after a ticket was created its form is waited
	// for before the order goes to manual handling. Default 72h.
	FormWait time.Duration `yaml:"form_wait"`
}

// Limits bound what lockworker asks of the regions' systems.
type Limits struct {
	// ConcurrentOrders is how many orders of one region read and write at
	// once (an order waiting for its ticket update's batch counts not).
	// Default 32.
	ConcurrentOrders int `yaml:"concurrent_orders"`
	// FormConcurrency is how many forms of one region are read at once.
	// Default 16.
	FormConcurrency int `yaml:"form_concurrency"`
	// ImportBatch is how many ticket updates go to a region's Easit in one
	// import. Default 100.
	ImportBatch int `yaml:"import_batch"`
	// EasitRequestsPerSecond bounds the requests to each region's Easit,
	// retries included. Default 10.
	EasitRequestsPerSecond float64 `yaml:"easit_requests_per_second"`
	// EasitTimeout is how long one request to Easit may take. Default 30s.
	EasitTimeout time.Duration `yaml:"easit_timeout"`
	// RegionTimeout bounds one region's part of a pass: a region whose
	// systems hang ends on its own while the others go on. Default (0): one
	// schedule interval, see RegionDeadline.
	RegionTimeout time.Duration `yaml:"region_timeout"`
}

// RegionDeadline is limits.region_timeout, or when it is not set the time
// between two passes of the schedule (the schedule must be valid).
func (c *Config) RegionDeadline(now time.Time) time.Duration {
	if c.Limits.RegionTimeout > 0 {
		return c.Limits.RegionTimeout
	}
	schedule, err := cron.ParseStandard(c.Schedule)
	if err != nil {
		return 0
	}
	next := schedule.Next(now)
	return schedule.Next(next).Sub(next)
}

// Region is one region: its Easit GO and its form service.
type Region struct {
	// Code is the two-digit county code that 1177 uses, e.g. "07".
	Code string `yaml:"code"`
	// Name is how comments and reports name the region.
	Name string `yaml:"name"`
	// OrgNumber is the region's 10-digit organisation number; a form's
	// custodian must belong to it.
	OrgNumber string `yaml:"org_number"`
	Easit     Easit  `yaml:"easit"`
	Forms     Forms  `yaml:"forms"`
}

// Easit is how to reach a region's Easit GO and what its view calls things.
type Easit struct {
	URL           string   `yaml:"url"`
	APIKey        Secret   `yaml:"api_key"`
	APIKeyFile    string   `yaml:"api_key_file"`
	View          string   `yaml:"view"`
	ImportHandler string   `yaml:"import_handler"`
	Fields        Fields   `yaml:"fields"`
	Kinds         Kinds    `yaml:"kinds"`
	Statuses      Statuses `yaml:"statuses"`
}

// Fields are the column names of the order view.
type Fields struct {
	Ticket        string `yaml:"ticket"`
	Status        string `yaml:"status"`
	Kind          string `yaml:"kind"`
	Personnummer  string `yaml:"personnummer"`
	Reporter      string `yaml:"reporter"`
	ReporterHSAID string `yaml:"reporter_hsa_id"`
	FormRef       string `yaml:"form_ref"`
	Created       string `yaml:"created"`
}

// Kinds are the values of the kind field that mean lock and unlock.
type Kinds struct {
	Lock   string `yaml:"lock"`
	Unlock string `yaml:"unlock"`
}

// Statuses are the ticket statuses lockworker reads and sets.
type Statuses struct {
	Open     string `yaml:"open"`
	Waiting  string `yaml:"waiting"`
	Resolved string `yaml:"resolved"`
	Manual   string `yaml:"manual"`
}

// Forms is how to reach a region's FHIR form service and which form types
// are the lock and the unlock forms.
type Forms struct {
	URL        string          `yaml:"url"`
	Token      Secret          `yaml:"token"`
	TokenFile  string          `yaml:"token_file"`
	LockForm   lockworker.Code `yaml:"lock_form"`
	UnlockForm lockworker.Code `yaml:"unlock_form"`
	// SigningTimeExtension, when set, is the URL of the DocumentReference
	// extension that carries the signing time, read instead of its date.
	SigningTimeExtension string `yaml:"signing_time_extension"`
}

// Admin is the admin HTTP listener of `lockworker serve`.
type Admin struct {
	// Listen is the address, e.g. "127.0.0.1:8080"; empty turns it off.
	Listen    string `yaml:"listen"`
	Token     Secret `yaml:"token"`
	TokenFile string `yaml:"token_file"`
}

// Log configures the logs.
type Log struct {
	// Level is a zerolog level: debug, info (default), warn, error.
	Level string `yaml:"level"`
	// PseudonymKeyFile holds the HMAC key of personnummer pseudonyms, at
	// least 16 bytes. Without it, the key is random for each process.
	PseudonymKeyFile string `yaml:"pseudonym_key_file"`
	// PseudonymKey is the key read from PseudonymKeyFile.
	PseudonymKey Secret `yaml:"-"`
}

// The defaults of SPEC §2 and §5; the column names are easit's.
var (
	DefaultFields   = Fields(easit.Fields{}.WithDefaults())
	DefaultKinds    = Kinds{Lock: "Låsa inloggning", Unlock: "Häva låsning"}
	DefaultStatuses = Statuses{Open: "Registrerad", Waiting: "Väntar på blankett", Resolved: "Löst", Manual: "Manuell hantering"}
)

// Default returns the configuration that an empty file gives.
func Default() Config {
	return Config{
		LockStore: LockStore{Driver: "sqlite", DSN: "lockworker.db", ClaimLease: 15 * time.Second, ConnectTimeout: 5 * time.Second, StatementTimeout: 10 * time.Second},
		Schedule:  "@every 2m",
		Policy:    Policy{ChildrenUnder13: "lock", FormMaxAge: 2160 * time.Hour, FormWait: 72 * time.Hour},
		Limits:    Limits{ConcurrentOrders: 32, FormConcurrency: 16, ImportBatch: 100, EasitRequestsPerSecond: 10, EasitTimeout: 30 * time.Second},
		Log:       Log{Level: "info"},
	}
}

// Load reads, expands and validates the configuration file at path. getenv
// looks up ${VAR} values (os.LookupEnv in production).
func Load(path string, getenv func(string) (string, bool)) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read configuration: %w", err)
	}
	cfg, err := Parse(data, getenv)
	if err != nil {
		return nil, fmt.Errorf("configuration %s: %w", path, err)
	}
	return cfg, nil
}

// Parse reads a configuration from YAML: it expands ${VAR} in values, reads
// the *_file secrets, fills in the defaults and validates the result.
func Parse(data []byte, getenv func(string) (string, bool)) (*Config, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse YAML: %w", err)
	}
	if err := expandEnv(&doc, getenv); err != nil {
		return nil, err
	}
	cfg := Default()
	if len(doc.Content) > 0 {
		if err := decodeStrict(&doc, &cfg); err != nil {
			return nil, err
		}
	}
	if err := cfg.readSecretFiles(); err != nil {
		return nil, err
	}
	cfg.fillRegionDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &cfg, nil
}

// decodeStrict decodes n into cfg strictly, so that a misspelt key is an
// error rather than a setting silently left at its default.
func decodeStrict(n *yaml.Node, cfg *Config) error {
	expanded, err := yaml.Marshal(n)
	if err != nil {
		return fmt.Errorf("re-encode YAML: %w", err)
	}
	dec := yaml.NewDecoder(bytes.NewReader(expanded))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil {
		return fmt.Errorf("parse YAML: %w", err)
	}
	return nil
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// expandEnv replaces ${VAR} in every scalar value of the document. A variable
// that is not set is an error that names it, never an empty secret.
func expandEnv(n *yaml.Node, getenv func(string) (string, bool)) error {
	if n.Kind == yaml.ScalarNode && strings.Contains(n.Value, "${") {
		var missing []string
		n.Value = envRef.ReplaceAllStringFunc(n.Value, func(ref string) string {
			name := envRef.FindStringSubmatch(ref)[1]
			v, ok := getenv(name)
			if !ok {
				missing = append(missing, name)
			}
			return v
		})
		if len(missing) > 0 {
			return fmt.Errorf("line %d: environment variable %s is not set", n.Line, strings.Join(missing, ", "))
		}
		// The value came from the environment: keep it a string, whatever
		// it looks like.
		n.Tag = "!!str"
		n.Style = yaml.DoubleQuotedStyle
	}
	for _, c := range n.Content {
		if err := expandEnv(c, getenv); err != nil {
			return err
		}
	}
	return nil
}

// readSecretFiles fills each secret given as a file.
func (c *Config) readSecretFiles() error {
	read := func(field string, secret *Secret, file string) error {
		if file == "" {
			return nil
		}
		if *secret != "" {
			return fmt.Errorf("%s: give the secret or its file, not both", field)
		}
		data, err := os.ReadFile(file)
		if err != nil {
			return fmt.Errorf("%s_file: %w", field, err)
		}
		*secret = Secret(strings.TrimSpace(string(data)))
		return nil
	}
	if c.LockStore.DSNFile != "" && c.LockStore.DSN == Default().LockStore.DSN {
		c.LockStore.DSN = "" // the default gives way to the file
	}
	if err := read("lockstore.dsn", &c.LockStore.DSN, c.LockStore.DSNFile); err != nil {
		return err
	}
	if err := read("log.pseudonym_key", &c.Log.PseudonymKey, c.Log.PseudonymKeyFile); err != nil {
		return err
	}
	for i := range c.Regions {
		r := &c.Regions[i]
		if err := read(fmt.Sprintf("regions[%d].easit.api_key", i), &r.Easit.APIKey, r.Easit.APIKeyFile); err != nil {
			return err
		}
		if err := read(fmt.Sprintf("regions[%d].forms.token", i), &r.Forms.Token, r.Forms.TokenFile); err != nil {
			return err
		}
	}
	return read("admin.token", &c.Admin.Token, c.Admin.TokenFile)
}

// fillRegionDefaults gives each region the default column names, kinds and
// statuses where the file names none. Kinds and statuses are put in Unicode
// NFC, the form in which the tickets' values are compared with them.
func (c *Config) fillRegionDefaults() {
	for i := range c.Regions {
		e := &c.Regions[i].Easit
		e.Fields = Fields(easit.Fields(e.Fields).WithDefaults())
		for _, v := range []struct {
			value *string
			def   string
		}{
			{&e.Kinds.Lock, DefaultKinds.Lock},
			{&e.Kinds.Unlock, DefaultKinds.Unlock},
			{&e.Statuses.Open, DefaultStatuses.Open},
			{&e.Statuses.Waiting, DefaultStatuses.Waiting},
			{&e.Statuses.Resolved, DefaultStatuses.Resolved},
			{&e.Statuses.Manual, DefaultStatuses.Manual},
		} {
			*v.value = norm.NFC.String(cmp.Or(*v.value, v.def))
		}
	}
}

var regionCode = regexp.MustCompile(`^[0-9]{2}$`)

// Validate checks the configuration and returns every problem found, each
// naming its field.
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", field, fmt.Sprintf(format, args...)))
	}

	c.validateStoreAndLog(bad)
	if _, err := cron.ParseStandard(c.Schedule); err != nil {
		bad("schedule", "%v", err)
	}
	switch c.Policy.ChildrenUnder13 {
	case "lock", "manual":
	default:
		bad("policy.children_under_13", "must be lock or manual, not %q", c.Policy.ChildrenUnder13)
	}
	if c.Policy.FormMaxAge <= 0 {
		bad("policy.form_max_age", "must be positive")
	}
	if c.Policy.FormWait < 0 {
		bad("policy.form_wait", "must not be negative")
	}
	if c.Limits.ConcurrentOrders < 1 || c.Limits.ConcurrentOrders > 64 {
		bad("limits.concurrent_orders", "must be from 1 to 64, not %d", c.Limits.ConcurrentOrders)
	}
	if c.Limits.EasitRequestsPerSecond <= 0 {
		bad("limits.easit_requests_per_second", "must be positive")
	}
	if c.Limits.EasitTimeout <= 0 {
		bad("limits.easit_timeout", "must be positive")
	}
	if c.Limits.FormConcurrency < 1 || c.Limits.FormConcurrency > 256 {
		bad("limits.form_concurrency", "must be from 1 to 256, not %d", c.Limits.FormConcurrency)
	}
	if c.Limits.ImportBatch < 1 || c.Limits.ImportBatch > 1000 {
		bad("limits.import_batch", "must be from 1 to 1000, not %d", c.Limits.ImportBatch)
	}
	if c.Limits.RegionTimeout < 0 {
		bad("limits.region_timeout", "must not be negative")
	}
	if c.LockStore.ClaimLease < time.Second {
		// The holder renews its claim every third of the lease: a shorter
		// lease would run out between two renewals of a live holder.
		bad("lockstore.claim_lease", "must be at least 1s, not %s", c.LockStore.ClaimLease)
	}

	if len(c.Regions) == 0 {
		bad("regions", "at least one region is required")
	}
	codes := map[string]bool{}
	for i, r := range c.Regions {
		field := fmt.Sprintf("regions[%d]", i)
		switch {
		case !regionCode.MatchString(r.Code):
			bad(field+".code", "must be a two-digit county code, not %q", r.Code)
		case codes[r.Code]:
			bad(field+".code", "%q is configured twice", r.Code)
		}
		codes[r.Code] = true
		if strings.TrimSpace(r.Name) == "" {
			bad(field+".name", "is required")
		}
		if !lockworker.ValidOrgNumber(r.OrgNumber) {
			bad(field+".org_number", "must be a 10-digit organisation number with a valid check digit, not %q", r.OrgNumber)
		}
		checkURL(bad, field+".easit.url", r.Easit.URL)
		if r.Easit.APIKey == "" {
			bad(field+".easit.api_key", "is required (or api_key_file)")
		}
		if r.Easit.View == "" {
			bad(field+".easit.view", "is required")
		}
		if r.Easit.ImportHandler == "" {
			bad(field+".easit.import_handler", "is required")
		}
		if r.Easit.Kinds.Lock == r.Easit.Kinds.Unlock {
			bad(field+".easit.kinds", "lock and unlock must differ")
		}
		s := r.Easit.Statuses
		if distinct := map[string]bool{s.Open: true, s.Waiting: true, s.Resolved: true, s.Manual: true}; len(distinct) != 4 {
			bad(field+".easit.statuses", "open, waiting, resolved and manual must all differ")
		}
		checkURL(bad, field+".forms.url", r.Forms.URL)
		if r.Forms.Token == "" {
			bad(field+".forms.token", "is required (or token_file)")
		}
		if r.Forms.LockForm.System == "" || r.Forms.LockForm.Code == "" {
			bad(field+".forms.lock_form", "system and code are required")
		}
		if r.Forms.UnlockForm.System == "" || r.Forms.UnlockForm.Code == "" {
			bad(field+".forms.unlock_form", "system and code are required")
		}
		if r.Forms.LockForm == r.Forms.UnlockForm {
			bad(field+".forms", "lock_form and unlock_form must differ")
		}
		if ext := r.Forms.SigningTimeExtension; ext != "" {
			if u, err := url.Parse(ext); err != nil || !u.IsAbs() {
				bad(field+".forms.signing_time_extension", "must be an absolute URL, not %q", ext)
			}
		}
	}

	if c.Admin.Listen != "" && c.Admin.Token == "" {
		bad("admin.token", "is required when admin.listen is set")
	}
	return errors.Join(errs...)
}

// validateStoreAndLog checks the lockstore and log sections, the whole of
// what a command that only reads the lock store needs.
func (c *Config) validateStoreAndLog(bad func(field, format string, args ...any)) {
	switch c.LockStore.Driver {
	case "sqlite", "postgres":
	default:
		bad("lockstore.driver", "must be sqlite or postgres, not %q", c.LockStore.Driver)
	}
	if c.LockStore.DSN == "" {
		bad("lockstore.dsn", "is required")
	}
	if c.LockStore.ConnectTimeout <= 0 {
		bad("lockstore.connect_timeout", "must be positive")
	}
	if c.LockStore.StatementTimeout <= 0 {
		bad("lockstore.statement_timeout", "must be positive")
	}
	if c.Log.PseudonymKeyFile != "" && len(c.Log.PseudonymKey) < 16 {
		bad("log.pseudonym_key_file", "the key must be at least 16 bytes")
	}
	if _, err := zerolog.ParseLevel(c.Log.Level); err != nil || c.Log.Level == "" {
		bad("log.level", "must be one of debug, info, warn, error, not %q", c.Log.Level)
	}
}

func checkURL(bad func(field, format string, args ...any), field, raw string) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad(field, "must be an http or https URL, not %q", raw)
	}
}

// Region returns the region with the given code.
func (c *Config) Region(code string) (Region, bool) {
	for _, r := range c.Regions {
		if r.Code == code {
			return r, true
		}
	}
	return Region{}, false
}
