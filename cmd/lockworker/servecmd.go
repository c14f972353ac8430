package main

import (
	"context"
	"net"
	"net/http"
	"runtime"
	"time"

	"github.com/rs/zerolog"
	"github.com/spf13/cobra"

	"github.com/lockworker/lockworker/config"
	"github.com/lockworker/lockworker/easit"
	"github.com/lockworker/lockworker/lockstore"
	"github.com/lockworker/lockworker/opspage"
	"github.com/lockworker/lockworker/service"
)

func (a *app) serveCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run unattended: passes on the schedule, and the admin HTTP listener",
		Long: `Run a pass at once and then on the configured schedule, and serve the admin
HTTP API (POST /sync, POST /easit/{region}, GET /healthz, /readyz, /metrics)
on admin.listen.
SIGTERM or SIGINT stops it: no new pass starts, the pass under way finishes the
orders it has begun, and lockworker exits with status 0 within 5 seconds.`,
		Args: args(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			store, err := a.openStore(ctx, cfg.LockStore, cfg.Audit)
			if err != nil {
				return err
			}
			defer closeSoon(store, 250*time.Millisecond)
			log, err := a.newLogger(cfg)
			if err != nil {
				return err
			}
			return a.serve(ctx, cfg, store, log, nil)
		},
	}
}

// serve runs the service of cfg on store until ctx is done; listening, when
// not nil, is told the admin listener's address once it listens.
func (a *app) serve(ctx context.Context, cfg *config.Config, store *lockstore.Store, log zerolog.Logger, listening func(net.Addr)) error {
	log.Info().Str("version", buildVersion()).Str("go", runtime.Version()).Msg("lockworker serve starting")
	metrics := service.NewMetrics(store.CountActiveLocks)
	metrics.WatchAuditChain(auditHead(store), verifyAtStart(ctx, store, log))
	purgeCtx, stopPurge := context.WithCancel(ctx)
	purged := make(chan struct{})
	go func() {
		defer close(purged)
		a.purgeDaily(purgeCtx, store, cfg.Retention, log)
	}()
	defer func() { stopPurge(); <-purged }()
	svcCfg := service.Config{
		Schedule: cfg.Schedule, Listen: cfg.Admin.Listen, Token: cfg.Admin.Token.Reveal(),
		ProtectProbes: cfg.Admin.ProtectProbes,
		TLSCertFile:   cfg.Admin.TLS.CertFile, TLSKeyFile: cfg.Admin.TLS.KeyFile,
		Listening: listening,
		Tickets:   store,
	}
	for _, r := range cfg.Regions {
		svcCfg.Regions = append(svcCfg.Regions, service.Region{Code: r.Code, Name: r.Name})
		if r.Easit.ExportSecret != "" {
			if svcCfg.Exports == nil {
				svcCfg.Exports = map[string]service.Export{}
			}
			// Easit's export names the ticket by the view's label for it.
			svcCfg.Exports[r.Code] = service.Export{Secret: r.Easit.ExportSecret.Reveal(), Tickets: easit.Fields(r.Easit.Fields)}
		}
	}
	if svcCfg.Listen == "" {
		log.Warn().Msg("no admin.listen configured: no manual re-sync, health, readiness or metrics over HTTP")
	}
	page, err := newOpsPage(cfg, store, log, a.now)
	if err != nil {
		return usageError{err}
	}
	svcCfg.Page = func(svc *service.Service) http.Handler { return page.For(svc) }
	syncer, err := a.newSyncer(cfg, store, log, metrics)
	if err != nil {
		return err
	}
	svc, err := service.New(svcCfg, syncer, store, metrics, log, a.now)
	if err != nil {
		return usageError{err}
	}
	return svc.Run(ctx)
}

// newOpsPage makes the ops page of cfg's admin listener.
func newOpsPage(cfg *config.Config, store *lockstore.Store, log zerolog.Logger, now func() time.Time) (*opspage.Page, error) {
	pc := opspage.Config{Token: cfg.Admin.Token.Reveal(), Now: now, Log: log, AccessLog: pageAccessLog{store}}
	for _, r := range cfg.Regions {
		pc.Regions = append(pc.Regions, service.Region{Code: r.Code, Name: r.Name})
	}
	if o := cfg.Admin.OIDC; o != nil {
		pc.OIDC = &opspage.OIDC{
			Issuer: o.Issuer, ClientID: o.ClientID, ClientSecret: o.ClientSecret.Reveal(), RedirectURL: o.RedirectURL,
			ViewerGroup: o.ViewerGroup, OperatorGroup: o.OperatorGroup,
		}
	}
	return opspage.New(pc, store)
}

// auditCheckedAtStart is how many of the audit trail's newest entries serve
// checks at start.
const auditCheckedAtStart = 10000

// verifyAtStart checks the newest entries of the audit trail's chain and
// logs what it found. A broken chain is logged as an error and shown on
// /metrics, but does not stop the service: locks must still be carried out
// while the breach is looked into.
func verifyAtStart(ctx context.Context, store *lockstore.Store, log zerolog.Logger) bool {
	r, err := store.VerifyAudit(ctx, auditCheckedAtStart)
	if err != nil {
		log.Error().Err(err).Msg("the audit trail's hash chain does not verify: run lockworker audit verify")
		return false
	}
	log.Info().Int64("entries", r.Entries).Int64("head_seq", r.Last).Str("head", r.Fingerprint()).
		Msg("the newest entries of the audit trail's hash chain verify")
	return true
}

// auditHead reads the chain's head for /metrics.
func auditHead(store *lockstore.Store) func(context.Context) (int64, string, error) {
	return func(ctx context.Context) (int64, string, error) {
		seq, hash, err := store.AuditHead(ctx)
		return seq, lockstore.Fingerprint(hash), err
	}
}

// closeSoon closes the store, waiting no longer than d: a statement stuck on
// a store that does not answer must not hold the exit that SIGTERM asked for.
func closeSoon(store *lockstore.Store, d time.Duration) {
	done := make(chan struct{})
	go func() {
		_ = store.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(d):
	}
}
