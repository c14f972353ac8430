// Package config reads lockworker's configuration file: YAML with ${VAR}
// values taken from the environment, secrets given inline or as files,
// documented defaults, and a validation that names the bad field.
package config

import (
	"bytes"
	"cmp"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"reflect"
	"regexp"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/robfig/cron/v3"
	"github.com/rs/zerolog"
	"golang.org/x/text/unicode/norm"
	"gopkg.in/yaml.v3"

	"github.com/lockworker/lockworker"
	"github.com/lockworker/lockworker/easit"
	"github.com/lockworker/lockworker/internal/httpedge"
)

// Config is the whole configuration file.
type Config struct {
	LockStore LockStore `yaml:"lockstore"`
	// Schedule is when `lockworker serve` runs a pass, in robfig/cron syntax
	// with descriptors such as "@every 2m". Default "@every 2m".
	Schedule  string    `yaml:"schedule"`
	Policy    Policy    `yaml:"policy"`
	Limits    Limits    `yaml:"limits"`
	Regions   []Region  `yaml:"regions"`
	Admin     Admin     `yaml:"admin"`
	Log       Log       `yaml:"log"`
	Audit     Audit     `yaml:"audit"`
	Retention Retention `yaml:"retention"`

	// Warnings are what Load found unsafe but not wrong: a configuration
	// or secret file that others can read. The program logs them at start.
	Warnings []string `yaml:"-"`
}

// Audit holds the audit trail's settings.
type Audit struct {
	// KeyFile holds the key of the audit trail's hash chain (HMAC-SHA256):
	// the file's bytes, at least 32, a trailing newline ignored. Required
	// with postgres; with sqlite, when not given, a key is made on first use
	// in a file beside the database.
	KeyFile string `yaml:"key_file"`
	// Key is the key read from KeyFile.
	Key Secret `yaml:"-"`
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
	// DataKeyFile holds the key that seals the personnummer in the store
	// and keys their lookup hashes: the file's bytes, at least 32, a
	// trailing newline ignored. Required with postgres; with sqlite, when
	// not given, a key is made on first use in a file beside the database.
	DataKeyFile string `yaml:"data_key_file"`
	// DataKey is the key read from DataKeyFile.
	DataKey Secret `yaml:"-"`
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
	// ClockTolerance is how far ahead of lockworker's clock a signed form's
	// signing time may be and still be taken, since the form service's
	// clock may run a little fast. Default 5m.
	ClockTolerance time.Duration `yaml:"clock_tolerance"`
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
	// MaxResponseBytes bounds the body of each answer of Easit and of the
	// form services; an Easit view read whole may take four times as much.
	// Default 8388608 (8 MiB), far above a page of open orders or a form.
	MaxResponseBytes int64 `yaml:"max_response_bytes"`
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
	// AllowInsecureHTTP lets the region's Easit and form service be
	// reached over plain http:// on another host than loopback, where the
	// API key and the token travel in clear. Default false.
	AllowInsecureHTTP bool `yaml:"allow_insecure_http"`
}

// TLS is how lockworker speaks TLS to an outside system: CAFile holds the
// only CAs it trusts for the system's server (a region's own CA; without
// it, the host's roots), CertFile and KeyFile its client certificate for
// mutual TLS (a SITHS function certificate, say).
type TLS struct {
	CAFile   string `yaml:"ca_file"`
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// ClientConfig reads the files into the TLS configuration of a client; nil
// when no file is given.
func (t TLS) ClientConfig() (*tls.Config, error) {
	return httpedge.LoadTLS(t.CAFile, t.CertFile, t.KeyFile)
}

// Easit is how to reach a region's Easit GO and what its view calls things.
type Easit struct {
	URL        string `yaml:"url"`
	APIKey     Secret `yaml:"api_key"`
	APIKeyFile string `yaml:"api_key_file"`
	// ExportSecret is the password with which the region's Easit GO calls
	// lockworker ("Export item", POST /easit/{code} of the admin listener);
	// empty when it does not.
	ExportSecret     Secret   `yaml:"export_secret"`
	ExportSecretFile string   `yaml:"export_secret_file"`
	View             string   `yaml:"view"`
	ImportHandler    string   `yaml:"import_handler"`
	Fields           Fields   `yaml:"fields"`
	Kinds            Kinds    `yaml:"kinds"`
	Statuses         Statuses `yaml:"statuses"`
	TLS              TLS      `yaml:"tls"`
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
	TLS        TLS             `yaml:"tls"`
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
	// TLS, when its files are given, makes the listener serve HTTPS.
	TLS AdminTLS `yaml:"tls"`
	// ProtectProbes puts /readyz and /metrics behind the token too, like
	// POST /sync; /healthz stays open. Default false.
	ProtectProbes bool `yaml:"protect_probes"`
	// OIDC, when given, lets people sign in to the ops page; without it the
	// page is for holders of the token only.
	OIDC *AdminOIDC `yaml:"oidc"`
}

// AdminOIDC is the OpenID Connect sign-in of the ops page.
type AdminOIDC struct {
	// Issuer is the identity provider's issuer URL (discovery at
	// {issuer}/.well-known/openid-configuration).
	Issuer           string `yaml:"issuer"`
	ClientID         string `yaml:"client_id"`
	ClientSecret     Secret `yaml:"-"`
	ClientSecretFile string `yaml:"client_secret_file"`
	// RedirectURL is the ops page's /callback as the provider knows it.
	RedirectURL string `yaml:"redirect_url"`
	// ViewerGroup and OperatorGroup are the values of the ID token's
	// "groups" claim of those who may see the page, and of those who may
	// also look persons up, show numbers and re-sync.
	ViewerGroup   string `yaml:"viewer_group"`
	OperatorGroup string `yaml:"operator_group"`
}

// AdminTLS is the admin listener's certificate and key.
type AdminTLS struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

// MinAdminToken is the fewest characters an admin token may have.
const MinAdminToken = 32

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

// The defaults that the README's configuration and docs/EASIT.md give; the
// column names are easit's.
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
		Policy:    Policy{ChildrenUnder13: "lock", FormMaxAge: 2160 * time.Hour, FormWait: 72 * time.Hour, ClockTolerance: 5 * time.Minute},
		Limits:    Limits{ConcurrentOrders: 32, FormConcurrency: 16, ImportBatch: 100, EasitRequestsPerSecond: 10, EasitTimeout: 30 * time.Second, MaxResponseBytes: 8 << 20},
		Log:       Log{Level: "info"},
		Retention: Retention{Audit: Age(5 * 365 * 24 * time.Hour), Passes: Age(90 * 24 * time.Hour)},
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
	cfg.Warnings = cfg.readableFiles(path, data)
	return cfg, nil
}

// Parse reads a configuration from YAML: it expands ${VAR} in values, reads
// the *_file secrets, fills in the defaults and validates the result. Errors
// in the file give the line and column where it was written.
func Parse(data []byte, getenv func(string) (string, bool)) (*Config, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("parse YAML: %w", err)
	}
	cfg := Default()
	d := newDecoder()
	if len(doc.Content) > 0 {
		root := doc.Content[0]
		if err := expandEnv(root, getenv, d.written); err != nil {
			return nil, err
		}
		// Decode strictly, so that a misspelt key is an error rather than a
		// setting silently left at its default.
		d.decode(root, "", reflect.ValueOf(&cfg).Elem())
		if err := d.err(); err != nil {
			return nil, err
		}
	}
	if err := cfg.readSecretFiles(); err != nil {
		return nil, err
	}
	cfg.fillRegionDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, d.locate(err)
	}
	return &cfg, nil
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
	if err := readKey("lockstore.data_key_file", &c.LockStore.DataKey, c.LockStore.DataKeyFile); err != nil {
		return err
	}
	if err := readKey("audit.key_file", &c.Audit.Key, c.Audit.KeyFile); err != nil {
		return err
	}
	for i := range c.Regions {
		r := &c.Regions[i]
		if err := read(fmt.Sprintf("regions[%d].easit.api_key", i), &r.Easit.APIKey, r.Easit.APIKeyFile); err != nil {
			return err
		}
		if err := read(fmt.Sprintf("regions[%d].easit.export_secret", i), &r.Easit.ExportSecret, r.Easit.ExportSecretFile); err != nil {
			return err
		}
		if err := read(fmt.Sprintf("regions[%d].forms.token", i), &r.Forms.Token, r.Forms.TokenFile); err != nil {
			return err
		}
	}
	if o := c.Admin.OIDC; o != nil {
		if err := read("admin.oidc.client_secret", &o.ClientSecret, o.ClientSecretFile); err != nil {
			return err
		}
	}
	return read("admin.token", &c.Admin.Token, c.Admin.TokenFile)
}

// readKey reads a key file (ReadKeyFile) into key.
func readKey(field string, key *Secret, file string) error {
	if file == "" {
		return nil
	}
	data, err := ReadKeyFile(file)
	if err != nil {
		return fmt.Errorf("%s: %w", field, err)
	}
	*key = Secret(data)
	return nil
}

// ReadKeyFile reads a key file: its bytes are the key, but for a trailing
// newline (a key written by `base64 > FILE` ends with one).
func ReadKeyFile(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(bytes.TrimSuffix(data, []byte("\n")), []byte("\r")), nil
}

// MinKeyLen is the least number of bytes of a key file.
const MinKeyLen = 32

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

// FieldError is a problem of one field of the configuration, which it names
// as the file does ("regions[0].org_number").
type FieldError struct {
	Field   string
	Problem string
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Problem }

var regionCode = regexp.MustCompile(`^[0-9]{2}$`)

// Validate checks the configuration and returns every problem found, each
// naming its field.
func (c *Config) Validate() error {
	var errs []error
	bad := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Problem: fmt.Sprintf(format, args...)})
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
	if c.Policy.ClockTolerance < 0 || c.Policy.ClockTolerance > time.Hour {
		// More than a few minutes is a clock to mend, not to tolerate.
		bad("policy.clock_tolerance", "must be from 0 to 1h, not %s", c.Policy.ClockTolerance)
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
	if c.Limits.MaxResponseBytes < 64<<10 {
		bad("limits.max_response_bytes", "must be at least 65536, not %d", c.Limits.MaxResponseBytes)
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
		checkURL(bad, field+".easit.url", r.Easit.URL, r.AllowInsecureHTTP)
		checkTLS(bad, field+".easit.tls", r.Easit.TLS)
		if strings.HasSuffix(strings.TrimRight(r.Easit.URL, "/"), "/integration-api") {
			// lockworker adds it: given here too, every call would miss.
			bad(field+".easit.url", "give Easit GO's address without /integration-api, which lockworker adds, not %q", r.Easit.URL)
		}
		if r.Easit.APIKey == "" {
			bad(field+".easit.api_key", "is required (or api_key_file)")
		}
		if sec := r.Easit.ExportSecret.Reveal(); sec != "" && (utf8.RuneCountInString(sec) < MinAdminToken || oneCharacter(sec)) {
			// Anyone who reaches the admin listener may try it, as the
			// admin token.
			bad(field+".easit.export_secret", "must be at least %d characters, not all the same (it has %d)", MinAdminToken, utf8.RuneCountInString(sec))
		}
		if r.Easit.ExportSecret != "" && c.Admin.Listen == "" {
			bad(field+".easit.export_secret", "is of no use without admin.listen: Easit's export calls lockworker's admin listener")
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
		checkURL(bad, field+".forms.url", r.Forms.URL, r.AllowInsecureHTTP)
		checkTLS(bad, field+".forms.tls", r.Forms.TLS)
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
	if tok := c.Admin.Token.Reveal(); tok != "" && (utf8.RuneCountInString(tok) < MinAdminToken || oneCharacter(tok)) {
		// Not the token itself: only what is wrong with it.
		bad("admin.token", "must be at least %d characters, not all the same (it has %d)", MinAdminToken, utf8.RuneCountInString(tok))
	}
	if o := c.Admin.OIDC; o != nil {
		checkOIDC(bad, *o)
	}
	switch t := c.Admin.TLS; {
	case (t.CertFile == "") != (t.KeyFile == ""):
		bad("admin.tls", "cert_file and key_file go together")
	case t.CertFile != "":
		if _, err := tls.LoadX509KeyPair(t.CertFile, t.KeyFile); err != nil {
			bad("admin.tls", "%v", err)
		}
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
	if c.Retention.Audit <= 0 {
		bad("retention.audit", "must be positive")
	}
	if c.Retention.Passes <= 0 {
		bad("retention.passes", "must be positive")
	}
	for _, k := range []struct {
		field, file string
		key         Secret
	}{
		{"lockstore.data_key_file", c.LockStore.DataKeyFile, c.LockStore.DataKey},
		{"audit.key_file", c.Audit.KeyFile, c.Audit.Key},
	} {
		switch {
		case k.file != "" && len(k.key) < MinKeyLen:
			bad(k.field, "the key has %d bytes, at least %d are needed", len(k.key), MinKeyLen)
		case k.file == "" && c.LockStore.Driver == "postgres":
			// Several hosts share a PostgreSQL store: a key made by one
			// would not be the others'.
			bad(k.field, "is required with the postgres driver")
		}
	}
	if c.Log.PseudonymKeyFile != "" && len(c.Log.PseudonymKey) < 16 {
		bad("log.pseudonym_key_file", "the key must be at least 16 bytes")
	}
	if _, err := zerolog.ParseLevel(c.Log.Level); err != nil || c.Log.Level == "" {
		bad("log.level", "must be one of debug, info, warn, error, not %q", c.Log.Level)
	}
}

// checkOIDC checks the ops page's sign-in.
func checkOIDC(bad func(field, format string, args ...any), o AdminOIDC) {
	if u, err := url.Parse(o.Issuer); err != nil || u.Scheme != "https" && !(u.Scheme == "http" && loopback(u.Hostname())) {
		bad("admin.oidc.issuer", "must be an https URL (http only to loopback), not %q", o.Issuer)
	}
	if o.ClientID == "" {
		bad("admin.oidc.client_id", "is required")
	}
	if o.ClientSecret == "" {
		bad("admin.oidc.client_secret_file", "is required")
	}
	if u, err := url.Parse(o.RedirectURL); err != nil || !u.IsAbs() || u.Path != "/callback" {
		bad("admin.oidc.redirect_url", "must be the ops page's absolute URL ending in /callback, not %q", o.RedirectURL)
	}
	if o.ViewerGroup == "" && o.OperatorGroup == "" {
		bad("admin.oidc", "viewer_group or operator_group is required")
	}
}

// oneCharacter reports whether s repeats a single character.
func oneCharacter(s string) bool {
	first, _ := utf8.DecodeRuneInString(s)
	return strings.Trim(s, string(first)) == ""
}

// checkURL checks an outside system's URL: http or https, and http only to
// a loopback address unless the region allows it, since the credentials
// would travel in clear.
func checkURL(bad func(field, format string, args ...any), field, raw string, allowInsecure bool) {
	u, err := url.Parse(raw)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		bad(field, "must be an http or https URL, not %q", raw)
	case u.Scheme == "http" && !allowInsecure && !loopback(u.Hostname()):
		bad(field, "http:// sends the credentials in clear: use https://, or set the region's allow_insecure_http: true (%q is not a loopback address)", u.Hostname())
	}
}

// loopback reports whether host is this machine's own: localhost, or a
// loopback IP address.
func loopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// checkTLS reads an outside system's TLS files, so that a missing or broken
// one is a configuration error naming its field.
func checkTLS(bad func(field, format string, args ...any), field string, t TLS) {
	if _, err := t.ClientConfig(); err != nil {
		bad(field, "%v", err)
	}
}

// RegionCodes returns the configured regions' codes, in the file's order.
func (c *Config) RegionCodes() []string {
	codes := make([]string, len(c.Regions))
	for i, r := range c.Regions {
		codes[i] = r.Code
	}
	return codes
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
