package main

import (
	"time"

	"github.com/spf13/cobra"

	"github.com/lockworker/lockworker/lockstore"
	"github.com/lockworker/lockworker/service"
)

func (a *app) serveCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "serve",
		Short: "Run unattended: passes on the schedule, and the admin HTTP listener",
		Long: `Run a pass at once and then on the configured schedule, and serve the admin
HTTP API (POST /sync, GET /healthz, /readyz, /metrics) on admin.listen.
SIGTERM or SIGINT stops it: no new pass starts, the pass under way finishes the
orders it has begun, and lockworker exits with status 0 within 5 seconds.`,
		Args: args(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			cfg, err := a.loadConfig()
			if err != nil {
				return err
			}
			store, err := a.openStore(ctx, cfg.LockStore)
			if err != nil {
				return err
			}
			defer closeSoon(store, 250*time.Millisecond)
			log, err := a.newLogger(cfg)
			if err != nil {
				return err
			}

			metrics := service.NewMetrics(store.CountActiveLocks)
			svcCfg := service.Config{Schedule: cfg.Schedule, Listen: cfg.Admin.Listen, Token: cfg.Admin.Token.Reveal(), Tickets: store}
			for _, r := range cfg.Regions {
				svcCfg.Regions = append(svcCfg.Regions, service.Region{Code: r.Code, Name: r.Name})
			}
			if svcCfg.Listen == "" {
				log.Warn().Msg("no admin.listen configured: no manual re-sync, health, readiness or metrics over HTTP")
			}
			svc, err := service.New(svcCfg, a.newSyncer(cfg, store, log, metrics), store, metrics, log, a.now)
			if err != nil {
				return usageError{err}
			}
			return svc.Run(ctx)
		},
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
