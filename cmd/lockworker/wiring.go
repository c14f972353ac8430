package main

import (
	"context"
	"fmt"
	"io"
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

// loadConfig reads the configuration named by --config or LOCKWORKER_CONFIG,
// and sets the key of personnummer pseudonyms from it, so that every command
// shows a person by the pseudonym the logs use. Every failure is a usage
// error: the configuration is wrong, not the run.
func (a *app) loadConfig() (*config.Config, error) {
	path := a.configPath
	if path == "" {
		path, _ = a.getenv("LOCKWORKER_CONFIG")
	}
	if path == "" {
		return nil, usagef("no configuration: give --config FILE or set LOCKWORKER_CONFIG")
	}
	cfg, err := config.Load(path, a.getenv)
	if err != nil {
		return nil, usageError{err}
	}
	if cfg.Log.PseudonymKey != "" {
		if err := lockworker.SetPseudonymKey([]byte(cfg.Log.PseudonymKey.Reveal())); err != nil {
			return nil, usagef("log.pseudonym_key_file: %v", err)
		}
	}
	return cfg, nil
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

// openConfigured reads the configuration and opens its lock store, which
// the caller closes.
func (a *app) openConfigured(ctx context.Context) (*config.Config, *lockstore.Store, error) {
	cfg, err := a.loadConfig()
	if err != nil {
		return nil, nil, err
	}
	store, err := lockstore.Open(ctx, cfg.LockStore.Driver, cfg.LockStore.DSN.Reveal(),
		lockstore.Options{Now: a.now, ClaimLease: cfg.LockStore.ClaimLease})
	if err != nil {
		return nil, nil, fmt.Errorf("open the lock store: %w", err)
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
		Log:         log,
		Now:         a.now,
		Concurrency: cfg.Limits.ConcurrentOrders,
	}
	for _, r := range cfg.Regions {
		// Each region's Easit has a limit of its own.
		limiter := rate.NewLimiter(rate.Limit(cfg.Limits.EasitRequestsPerSecond), 1)
		easitOpts := []easit.Option{easit.WithRateLimit(limiter), easit.WithTimeout(cfg.Limits.EasitTimeout)}
		var formOpts []cosmic.Option
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
