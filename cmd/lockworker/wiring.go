package main

import (
	"context"
	"fmt"
	"io"
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
	warn := newJSONLogger(a.stderr, zerolog.WarnLevel)
	for _, w := range cfg.Warnings {
		warn.Warn().Str("config", path).Msg(w)
	}
	if cfg.Log.PseudonymKey != "" {
		if err := lockworker.SetPseudonymKey([]byte(cfg.Log.PseudonymKey.Reveal())); err != nil {
			return nil, usagef("log.pseudonym_key_file: %v", err)
		}
	}
	return cfg, nil
}

// knownRegion checks the code given to --region: one that names no configured
// region is a usage error, in every command that takes one.
func knownRegion(cfg *config.Config, code string) error {
	if _, ok := cfg.Region(code); code != "" && !ok {
		codes := make([]string, len(cfg.Regions))
		for i, r := range cfg.Regions {
			codes[i] = r.Code
		}
		return usagef("--region %q: no such region in the configuration (it has %s)", code, strings.Join(codes, ", "))
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
		Log:         log,
		Now:         a.now,
		Concurrency: cfg.Limits.ConcurrentOrders,
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
