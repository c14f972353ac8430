package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/time/rate"

	"github.com/lockworker/lockworker"
	"github.com/lockworker/lockworker/config"
	"github.com/lockworker/lockworker/cosmic"
	"github.com/lockworker/lockworker/easit"
	"github.com/lockworker/lockworker/lockstore"
	"github.com/lockworker/lockworker/service"
	"github.com/lockworker/lockworker/sync"
)

// configFile is the configuration file named by --config or
// LOCKWORKER_CONFIG.
func (a *app) configFile() (string, error) {
	path := a.configPath
	if path == "" {
		path, _ = a.getenv("LOCKWORKER_CONFIG")
	}
	if path == "" {
		return "", usagef("no configuration: give --config FILE or set LOCKWORKER_CONFIG")
	}
	return path, nil
}

// loadConfig reads the whole configuration, and sets the key of personnummer
// pseudonyms from it, so that every command shows a person by the pseudonym
// the logs use. A relative SQLite path is taken relative to the file. Every
// failure is a usage error: the configuration is wrong, not the run.
func (a *app) loadConfig() (*config.Config, error) {
	path, err := a.configFile()
	if err != nil {
		return nil, err
	}
	cfg, err := config.Load(path, a.getenv)
	if err != nil {
		return nil, usageError{err}
	}
	warn := newJSONLogger(a.stderr, zerolog.WarnLevel)
	for _, w := range cfg.Warnings {
		warn.Warn().Str("config", path).Msg(w)
	}
	cfg.LockStore.DSN = cfg.LockStore.SQLitePathFrom(filepath.Dir(path))
	if err := setPseudonymKey(cfg.Log); err != nil {
		return nil, err
	}
	return cfg, nil
}

// knownRegion checks the code given to --region against the configured
// codes: one that names no configured region is a usage error, in every
// command that takes one.
func knownRegion(codes []string, code string) error {
	if code != "" && !slices.Contains(codes, code) {
		slices.Sort(codes)
		return usagef("--region %q: no such region in the configuration (it has %s)", code, strings.Join(codes, ", "))
	}
	return nil
}

// loadStoreConfig reads only what a command that reads the lock store needs
// (config.LoadStoreOnly): no region's secret has to be at hand.
func (a *app) loadStoreConfig() (*config.StoreOnly, error) {
	path, err := a.configFile()
	if err != nil {
		return nil, err
	}
	cfg, err := config.LoadStoreOnly(path, a.getenv)
	if err != nil {
		return nil, usageError{err}
	}
	cfg.LockStore.DSN = cfg.LockStore.SQLitePathFrom(filepath.Dir(path))
	if err := setPseudonymKey(cfg.Log); err != nil {
		return nil, err
	}
	return cfg, nil
}

func setPseudonymKey(l config.Log) error {
	if l.PseudonymKey != "" {
		if err := lockworker.SetPseudonymKey([]byte(l.PseudonymKey.Reveal())); err != nil {
			return usagef("log.pseudonym_key_file: %v", err)
		}
	}
	return nil
}

// newLogger returns the JSON logger on standard error at the configured
// level; it warns when pseudonyms use a random key.
func (a *app) newLogger(cfg *config.Config) (zerolog.Logger, error) {
	level, err := zerolog.ParseLevel(cfg.Log.Level)
	if err != nil {
		return zerolog.Nop(), usagef("log.level: %v", err)
	}
	log := newJSONLogger(a.stderr, level)
	if cfg.Log.PseudonymKey == "" {
		log.Warn().Msg("no log.pseudonym_key_file configured: personnummer pseudonyms use a random key and change with every start")
	}
	return log, nil
}

// newJSONLogger returns a JSON logger on w at level, each event stamped
// with its time in UTC.
func newJSONLogger(w io.Writer, level zerolog.Level) zerolog.Logger {
	return zerolog.New(zerolog.SyncWriter(w)).Level(level).Hook(utcTimestamp{})
}

// utcTimestamp stamps an event with the time in UTC, RFC 3339: zerolog's own
// Timestamp gives the host's zone, and logs gathered from hosts in different
// zones must compare.
type utcTimestamp struct{}

func (utcTimestamp) Run(e *zerolog.Event, _ zerolog.Level, _ string) {
	e.Time(zerolog.TimestampFieldName, time.Now().UTC())
}

// storeOptions are the lock store's settings in cfg, with its keys; a writer
// (create) makes the keys it keeps beside an SQLite store on first use.
func (a *app) storeOptions(cfg config.LockStore, au config.Audit, create bool) (lockstore.Options, error) {
	data, err := a.storeKey(cfg, dataKey, cfg.DataKey, create)
	if err != nil {
		return lockstore.Options{}, err
	}
	audit, err := a.storeKey(cfg, auditKey, au.Key, create)
	if err != nil {
		return lockstore.Options{}, err
	}
	return lockstore.Options{
		Now: a.now, ClaimLease: cfg.ClaimLease,
		ConnectTimeout: cfg.ConnectTimeout, StatementTimeout: cfg.StatementTimeout,
		DataKey: data, AuditKey: audit,
	}, nil
}

// openStore opens the lock store to write to it, creating it or migrating
// its schema if need be; the caller closes it.
func (a *app) openStore(ctx context.Context, cfg config.LockStore, au config.Audit) (*lockstore.Store, error) {
	opts, err := a.storeOptions(cfg, au, true)
	if err != nil {
		return nil, err
	}
	store, err := lockstore.Open(ctx, cfg.Driver, cfg.DSN.Reveal(), opts)
	if err != nil {
		return nil, fmt.Errorf("open the lock store: %w", err)
	}
	return store, nil
}

// openReader opens an existing lock store read-only: it creates and migrates
// nothing; the caller closes it.
func (a *app) openReader(ctx context.Context, cfg config.LockStore, au config.Audit) (*lockstore.Store, error) {
	if cfg.Driver == "sqlite" {
		// No store is an error of its own, before a missing key is.
		if _, err := os.Stat(sqliteFile(cfg.DSN.Reveal())); errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("open the lock store to read it: %w: %s does not exist", lockstore.ErrNoStore, sqliteFile(cfg.DSN.Reveal()))
		}
	}
	opts, err := a.storeOptions(cfg, au, false)
	if err != nil {
		return nil, err
	}
	store, err := lockstore.OpenReadOnly(ctx, cfg.Driver, cfg.DSN.Reveal(), opts)
	if err != nil {
		return nil, fmt.Errorf("open the lock store to read it: %w", err)
	}
	return store, nil
}

// openStoreOnly reads the lockstore part of the configuration and opens the
// store with open (openStore or openReader); the caller closes it.
func (a *app) openStoreOnly(ctx context.Context, open func(context.Context, config.LockStore, config.Audit) (*lockstore.Store, error)) (*config.StoreOnly, *lockstore.Store, error) {
	cfg, err := a.loadStoreConfig()
	if err != nil {
		return nil, nil, err
	}
	store, err := open(ctx, cfg.LockStore, cfg.Audit)
	if err != nil {
		return nil, nil, err
	}
	return cfg, store, nil
}

// regionClients returns the clients of a region's Easit and form service,
// with the configured limits and TLS settings, and opts.
func regionClients(limits config.Limits, r config.Region, easitOpts []easit.Option, formOpts []cosmic.Option) (*easit.Desk, *cosmic.Client, error) {
	easitTLS, err := r.Easit.TLS.ClientConfig()
	if err != nil {
		return nil, nil, usagef("regions %s: easit.tls: %v", r.Code, err)
	}
	formsTLS, err := r.Forms.TLS.ClientConfig()
	if err != nil {
		return nil, nil, usagef("regions %s: forms.tls: %v", r.Code, err)
	}
	easitOpts = append([]easit.Option{easit.WithTLS(easitTLS), easit.WithResponseLimit(limits.MaxResponseBytes)}, easitOpts...)
	formOpts = append([]cosmic.Option{cosmic.WithTLS(formsTLS), cosmic.WithResponseLimit(limits.MaxResponseBytes)}, formOpts...)
	client := easit.NewClient(r.Easit.URL, r.Easit.APIKey.Reveal(), easitOpts...)
	desk := easit.NewDesk(client, r.Easit.View, r.Easit.ImportHandler, easit.Fields(r.Easit.Fields))
	return desk, cosmic.NewClient(r.Forms.URL, r.Forms.Token.Reveal(), formOpts...), nil
}

// newSyncer wires the configured regions' Easit and form service to the
// lock store; metrics, when not nil, count their requests.
func (a *app) newSyncer(cfg *config.Config, store sync.Store, log zerolog.Logger, metrics *service.Metrics) (*sync.Syncer, error) {
	s := &sync.Syncer{
		Store: store,
		Policy: sync.Policy{
			ChildrenUnder13: sync.ChildPolicy(cfg.Policy.ChildrenUnder13),
			FormMaxAge:      cfg.Policy.FormMaxAge,
			FormWait:        cfg.Policy.FormWait,
			ClockTolerance:  cfg.Policy.ClockTolerance,
		},
		Log:             log,
		Now:             a.now,
		Concurrency:     cfg.Limits.ConcurrentOrders,
		RegionTimeout:   cfg.RegionDeadline(a.now()),
		FormConcurrency: cfg.Limits.FormConcurrency,
		ImportBatch:     cfg.Limits.ImportBatch,
		ClaimLease:      cfg.LockStore.ClaimLease,
	}
	for _, r := range cfg.Regions {
		// Each region's Easit has a limit of its own.
		limiter := rate.NewLimiter(rate.Limit(cfg.Limits.EasitRequestsPerSecond), 1)
		easitOpts := []easit.Option{easit.WithRateLimit(limiter), easit.WithTimeout(cfg.Limits.EasitTimeout)}
		formOpts := []cosmic.Option{cosmic.WithSigningTimeExtension(r.Forms.SigningTimeExtension)}
		if metrics != nil {
			easitOpts = append(easitOpts, easit.WithObserver(metrics.EasitObserver(r.Code)))
			formOpts = append(formOpts, cosmic.WithObserver(metrics.FormObserver(r.Code)))
		}
		desk, forms, err := regionClients(cfg.Limits, r, easitOpts, formOpts)
		if err != nil {
			return nil, err
		}
		s.Regions = append(s.Regions, sync.Region{
			Code:       r.Code,
			Name:       r.Name,
			OrgNumber:  r.OrgNumber,
			Kinds:      sync.Kinds(r.Easit.Kinds),
			Statuses:   sync.Statuses(r.Easit.Statuses),
			LockForm:   r.Forms.LockForm,
			UnlockForm: r.Forms.UnlockForm,
			Tickets:    desk,
			Forms:      forms,
		})
	}
	return s, nil
}
