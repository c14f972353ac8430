package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

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
	cfg.LockStore.DSN = cfg.LockStore.SQLitePathFrom(filepath.Dir(path))
	if err := setPseudonymKey(cfg.Log); err != nil {
		return nil, err
	}
	return cfg, nil
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

func newJSONLogger(w io.Writer, level zerolog.Level) zerolog.Logger {
	return zerolog.New(zerolog.SyncWriter(w)).Level(level).With().Timestamp().Logger()
}

// storeOptions are the lock store's settings in cfg.
func (a *app) storeOptions(cfg config.LockStore) lockstore.Options {
	return lockstore.Options{
		Now: a.now, ClaimLease: cfg.ClaimLease,
		ConnectTimeout: cfg.ConnectTimeout, StatementTimeout: cfg.StatementTimeout,
	}
}

// openStore opens the lock store to write to it, creating it or migrating
// its schema if need be; the caller closes it.
func (a *app) openStore(ctx context.Context, cfg config.LockStore) (*lockstore.Store, error) {
	store, err := lockstore.Open(ctx, cfg.Driver, cfg.DSN.Reveal(), a.storeOptions(cfg))
	if err != nil {
		return nil, fmt.Errorf("open the lock store: %w", err)
	}
	return store, nil
}

// openReader opens an existing lock store read-only: it creates and migrates
// nothing; the caller closes it.
func (a *app) openReader(ctx context.Context, cfg config.LockStore) (*lockstore.Store, error) {
	store, err := lockstore.OpenReadOnly(ctx, cfg.Driver, cfg.DSN.Reveal(), a.storeOptions(cfg))
	if err != nil {
		return nil, fmt.Errorf("open the lock store to read it: %w", err)
	}
	return store, nil
}

// openStoreOnly reads the lockstore part of the configuration and opens the
// store with open (openStore or openReader); the caller closes it.
func (a *app) openStoreOnly(ctx context.Context, open func(context.Context, config.LockStore) (*lockstore.Store, error)) (*config.StoreOnly, *lockstore.Store, error) {
	cfg, err := a.loadStoreConfig()
	if err != nil {
		return nil, nil, err
	}
	store, err := open(ctx, cfg.LockStore)
	if err != nil {
		return nil, nil, err
	}
	return cfg, store, nil
}

// newSyncer wires the configured regions' Easit and form service to the
// lock store; metrics, when not nil, count their requests.
func (a *app) newSyncer(cfg *config.Config, store sync.Store, log zerolog.Logger, metrics *service.Metrics) *sync.Syncer {
	s := &sync.Syncer{
		Store: store,
		Policy: sync.Policy{
			ChildrenUnder13: sync.ChildPolicy(cfg.Policy.ChildrenUnder13),
			FormMaxAge:      cfg.Policy.FormMaxAge,
			FormWait:        cfg.Policy.FormWait,
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
		client := easit.NewClient(r.Easit.URL, r.Easit.APIKey.Reveal(), easitOpts...)
		s.Regions = append(s.Regions, sync.Region{
			Code:       r.Code,
			Name:       r.Name,
			OrgNumber:  r.OrgNumber,
			Kinds:      sync.Kinds(r.Easit.Kinds),
			Statuses:   sync.Statuses(r.Easit.Statuses),
			LockForm:   r.Forms.LockForm,
			UnlockForm: r.Forms.UnlockForm,
			Tickets:    easit.NewDesk(client, r.Easit.View, r.Easit.ImportHandler, easit.Fields(r.Easit.Fields)),
			Forms:      cosmic.NewClient(r.Forms.URL, r.Forms.Token.Reveal(), formOpts...),
		})
	}
	return s
}
