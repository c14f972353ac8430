// Package service runs lockworker unattended: a pass on a robfig/cron
// schedule, the admin HTTP listener (a manual re-sync, the tickets Easit
// pushes, health, readiness and metrics), and a graceful stop. Two passes
// never work on a region at once, whether the schedule, an operator or a
// push started them.
package service

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log"
	"net"
	"net/http"
	"runtime/debug"
	"slices"
	"strings"
	gosync "sync"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/rs/zerolog"
	"golang.org/x/net/netutil"

	"github.com/lockworker/lockworker/sync"
)

// Syncer runs a pass.
type Syncer interface {
	RunOnce(ctx context.Context, opts sync.Options) (sync.Summary, error)
}

// Store is what the service asks of the lock store.
type Store interface {
	Ping(ctx context.Context) error
	// CheckWrite makes a write and rolls it back: a store that answers
	// but cannot write (read-only, full) fails it.
	CheckWrite(ctx context.Context) error
}

// Region names a configured region.
type Region struct{ Code, Name string }

// Config configures a Service.
type Config struct {
	// Schedule is when passes run, in robfig/cron syntax with descriptors.
	Schedule string
	// Regions are the configured regions, for readiness.
	Regions []Region
	// Listen is the admin HTTP address; empty for none.
	Listen string
	// Token is the bearer token of POST /sync.
	Token string
	// StopGrace is how long a running pass may finish its orders under way
	// after a stop is asked for, before they are cancelled; default 3s.
	StopGrace time.Duration
	// ProtectProbes puts /readyz and /metrics behind the token too.
	ProtectProbes bool
	// TLSCertFile and TLSKeyFile, when given, make the listener serve HTTPS.
	TLSCertFile, TLSKeyFile string
	// Limits bound the admin listener's connections; zero fields take
	// their defaults.
	Limits ListenerLimits
	// Listening, when not nil, is told the admin listener's address once it
	// listens: the port, when Listen asks for any (":0").
	Listening func(addr net.Addr)
	// Tickets reads tickets' records for GET /tickets; nil for no such
	// endpoint.
	Tickets TicketReader
	// Exports are the regions whose Easit pushes the tickets it saves
	// (POST /easit/{code}), by region code.
	Exports map[string]Export
	// Page, when not nil, makes the handler of the admin listener's other
	// paths (the ops page) from the service, which it reads and asks for
	// passes.
	Page func(*Service) http.Handler
}

// ListenerLimits bound what a client of the admin listener may hold.
type ListenerLimits struct {
	// MaxConns is how many connections are served at once; more wait in
	// the kernel's queue, holding no file of the process. Default 256.
	MaxConns int
	// ReadHeader bounds the reading of a request's headers (default 5s),
	// Read the whole request, its body included (default 30s), Write the
	// answer (default 30s; a manual pass's answer waits for the pass), and
	// Idle a kept-alive connection between requests (default 60s).
	ReadHeader, Read, Write, Idle time.Duration
}

// WithDefaults returns l with its zero fields set to their defaults.
func (l ListenerLimits) WithDefaults() ListenerLimits {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	if l.MaxConns <= 0 {
		l.MaxConns = 256
	}
	def(&l.ReadHeader, 5*time.Second)
	def(&l.Read, 30*time.Second)
	def(&l.Write, 30*time.Second)
	def(&l.Idle, 60*time.Second)
	return l
}

// passAnswerTimeout bounds how long the answer of POST /sync may wait for
// its pass.
const passAnswerTimeout = 15 * time.Minute

// ErrBusy is returned by Sync when a pass is running.
type ErrBusy struct{ Pass string }

func (e *ErrBusy) Error() string { return fmt.Sprintf("pass %s is running", e.Pass) }

// How long a stop waits, after StopGrace, for the cancelled passes and then
// for the admin listener: with the default grace of 3s, a stop takes at
// most 4.25s whatever the lock store or Easit do, within the 5s promised.
const (
	stopAfterCancel = 750 * time.Millisecond
	adminShutdown   = 500 * time.Millisecond
)

// ErrStopping is returned by Sync when the service is stopping.
var ErrStopping = errors.New("the service is stopping")

// Service is lockworker's unattended service.
type Service struct {
	cfg      Config
	schedule cron.Schedule
	syncer   Syncer
	store    Store
	metrics  *Metrics
	log      zerolog.Logger
	now      func() time.Time

	stopping chan struct{} // closed when the service starts to stop
	// cancelled is done when a stop has waited StopGrace for the passes:
	// then every pass, scheduled or manual, is cancelled.
	cancelled    context.Context
	cancelPasses context.CancelFunc
	passes       gosync.WaitGroup

	mu gosync.Mutex
	// running holds, by region code, the pass at work on the region: each
	// region runs one pass at a time, whatever the others do.
	running  map[string]runningPass
	lastGood map[string]time.Time     // by region code: when its orders were last read
	lastFail map[string]regionFailure // by region code: when and why they last could not be
	// pending holds, by region code, the tickets Easit pushed that no pass
	// has started on yet; pushed wakes handlePushes.
	pending map[string]*pendingPush
	pushed  chan struct{}
}

// runningPass is a pass at work on a region.
type runningPass struct {
	id      string
	started time.Time
}

// regionFailure is a region's last failed read.
type regionFailure struct {
	at  time.Time
	why string
}

// New returns a service; now is its clock (time.Now when nil).
func New(cfg Config, syncer Syncer, store Store, metrics *Metrics, log zerolog.Logger, now func() time.Time) (*Service, error) {
	schedule, err := cron.ParseStandard(cfg.Schedule)
	if err != nil {
		return nil, fmt.Errorf("schedule %q: %w", cfg.Schedule, err)
	}
	if cfg.StopGrace <= 0 {
		cfg.StopGrace = 3 * time.Second
	}
	cfg.Limits = cfg.Limits.WithDefaults()
	if now == nil {
		now = time.Now
	}
	cancelled, cancelPasses := context.WithCancel(context.Background())
	return &Service{
		cfg: cfg, schedule: schedule, syncer: syncer, store: store, metrics: metrics, log: log, now: now,
		stopping:  make(chan struct{}),
		cancelled: cancelled, cancelPasses: cancelPasses,
		running:  map[string]runningPass{},
		lastGood: map[string]time.Time{},
		lastFail: map[string]regionFailure{},
		pending:  map[string]*pendingPush{},
		pushed:   make(chan struct{}, 1),
	}, nil
}

// Run runs the service until ctx is done: a pass at once and then on the
// schedule, and the admin listener. When ctx is done no new pass starts, the
// running pass finishes its orders under way (cancelled after StopGrace),
// and Run returns nil. It returns an error only when it cannot start.
func (s *Service) Run(ctx context.Context) error {
	var admin *http.Server
	if s.cfg.Listen != "" {
		ln, err := net.Listen("tcp", s.cfg.Listen)
		if err != nil {
			return fmt.Errorf("admin listener: %w", err)
		}
		// Connections beyond the limit wait in the kernel's queue: a flood
		// uses no file of the process, and the operator's request is served
		// as soon as a slot frees.
		ln = netutil.LimitListener(ln, s.cfg.Limits.MaxConns)
		admin = s.adminServer()
		go func() {
			var err error
			if s.cfg.TLSCertFile != "" {
				err = admin.ServeTLS(ln, s.cfg.TLSCertFile, s.cfg.TLSKeyFile)
			} else {
				err = admin.Serve(ln)
			}
			if err != nil && !errors.Is(err, http.ErrServerClosed) {
				s.log.Error().Err(err).Msg("admin listener stopped")
			}
		}()
		s.log.Info().Str("listen", ln.Addr().String()).Bool("tls", s.cfg.TLSCertFile != "").Msg("admin listener started")
		if s.cfg.Listening != nil {
			s.cfg.Listening(ln.Addr())
		}
	}

	// Scheduled passes run on the service's own context, cancelled only once
	// a stop has waited StopGrace for them.
	defer s.cancelPasses()
	passCtx := s.cancelled
	scheduled := cron.FuncJob(func() { s.scheduledPass(passCtx) })
	// No cron chain skips a tick while the last pass runs: each tick starts
	// a pass of the regions that are free (Sync), so that a region still at
	// work holds back only itself.
	c := cron.New(cron.WithLogger(cronLogger{s.log}))
	c.Schedule(s.schedule, scheduled)
	c.Start()
	s.passes.Add(2)
	go func() {
		defer s.passes.Done()
		s.scheduledPass(passCtx) // the first pass does not wait for the schedule
	}()
	go func() {
		defer s.passes.Done()
		s.handlePushes(passCtx)
	}()
	s.log.Info().Str("schedule", s.cfg.Schedule).Msg("service started")

	<-ctx.Done()
	s.log.Info().Msg("stopping: no new pass starts")
	s.mu.Lock() // so that Sync either sees the stop or is waited for
	close(s.stopping)
	s.mu.Unlock()
	cronStopped := c.Stop()
	done := make(chan struct{})
	go func() {
		<-cronStopped.Done()
		s.passes.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(s.cfg.StopGrace):
		s.log.Warn().Dur("grace", s.cfg.StopGrace).Msg("stopping: cancelling the orders still under way")
		s.cancelPasses()
		select {
		case <-done:
		case <-time.After(stopAfterCancel):
			// A pass stuck on an outside system that does not answer, even
			// to be told to stop: what it recorded stands, and a claim it
			// holds runs out and is taken over by the next start's pass.
			s.log.Warn().Dur("waited", stopAfterCancel).Msg("stopping: a pass did not end when cancelled; it is left to the next start")
		}
	}
	if admin != nil {
		shutdownCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), adminShutdown)
		defer cancel()
		if err := admin.Shutdown(shutdownCtx); err != nil {
			s.log.Warn().Err(err).Msg("admin listener did not stop in time")
			_ = admin.Close()
		}
	}
	s.log.Info().Msg("service stopped")
	return nil
}

// adminServer is the admin listener's server: every phase of a connection
// bounded in time, and its own errors (a refused TLS handshake, an accept
// that failed) logged through zerolog as JSON like every other line.
func (s *Service) adminServer() *http.Server {
	l := s.cfg.Limits
	return &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: l.ReadHeader,
		ReadTimeout:       l.Read,
		WriteTimeout:      l.Write,
		IdleTimeout:       l.Idle,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          log.New(serverLog{s.log}, "", 0),
		TLSConfig:         &tls.Config{MinVersion: tls.VersionTLS12},
	}
}

// serverLog gives the lines of http.Server's own log to zerolog.
type serverLog struct{ log zerolog.Logger }

func (l serverLog) Write(p []byte) (int, error) {
	l.log.Warn().Str("source", "admin listener").Msg(strings.TrimSpace(string(p)))
	return len(p), nil
}

// scheduledPass runs a pass for the schedule, of every region whose
// previous pass has finished: a region still at work is skipped, and the
// others start on time.
func (s *Service) scheduledPass(ctx context.Context) {
	_, err := s.Sync(ctx, sync.Options{}, "schedule")
	var busy *ErrBusy
	switch {
	case errors.As(err, &busy):
		s.log.Info().Str("running", busy.Pass).Msg("scheduled pass skipped: every region's pass is still running")
	case errors.Is(err, ErrStopping):
	case err != nil:
		s.log.Error().Err(err).Msg("scheduled pass")
	}
}

// Sync runs one pass now, of the regions opts names (all when none), unless
// the service is stopping (ErrStopping). A manual pass (trigger "manual")
// or a push's (trigger "push") fails with ErrBusy when a region it names is
// still at work in another pass; a scheduled one leaves such regions out, and
// fails with ErrBusy only when every region is. trigger says who asked, for
// the metrics. A pass of all of a region's orders takes in the tickets pushed
// for the region before it started.
func (s *Service) Sync(ctx context.Context, opts sync.Options, trigger string) (sum sync.Summary, err error) {
	s.mu.Lock()
	select {
	case <-s.stopping:
		s.mu.Unlock()
		return sync.Summary{}, ErrStopping
	default:
	}
	opts.Pass = sync.NewPassID(s.now())
	var free []string
	var busy *ErrBusy
	for _, r := range s.cfg.Regions {
		if opts.Region != "" && r.Code != opts.Region {
			continue
		}
		if p, ok := s.running[r.Code]; ok {
			busy = &ErrBusy{Pass: p.id}
			if trigger == "schedule" {
				s.log.Warn().Str("region", r.Code).Str("running", p.id).Time("since", p.started).Msg("region skipped by the schedule: its previous pass is still running")
				if s.metrics != nil {
					s.metrics.regionSkipped(r.Code)
				}
			}
			continue
		}
		free = append(free, r.Code)
	}
	if busy != nil && (trigger != "schedule" || len(free) == 0) {
		s.mu.Unlock()
		return sync.Summary{}, busy
	}
	if opts.Region == "" && len(s.cfg.Regions) > 0 {
		opts.Regions = free
	}
	opts.Stopping = s.stopping
	if !opts.DryRun {
		// A dry run changes nothing, not even what readiness and the
		// metrics say; its regions are freed when it ends.
		opts.RegionDone = s.regionDone(opts.Pass)
	}
	for _, code := range free {
		s.running[code] = runningPass{id: opts.Pass, started: s.now()}
		if opts.Ticket == "" && opts.Tickets == nil && !opts.DryRun {
			// A pass of all the region's orders reads its view after the
			// tickets pushed so far came: it handles them.
			delete(s.pending, code)
		}
	}
	s.passes.Add(1)
	s.mu.Unlock()

	// A pass ends when ctx does, and like any pass when a stop has waited
	// StopGrace for it.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(s.cancelled, cancel)()

	defer func() {
		if v := recover(); v != nil {
			s.log.Error().Str("pass", opts.Pass).Str("panic", fmt.Sprint(v)).Str("stack", string(debug.Stack())).Msg("pass panicked")
			err = fmt.Errorf("pass %s panicked: %v", opts.Pass, v)
		}
		s.mu.Lock()
		for _, code := range free {
			if s.running[code].id == opts.Pass {
				delete(s.running, code)
			}
		}
		s.wakePushes() // the tickets pushed meanwhile are handled now
		s.mu.Unlock()
		s.passes.Done()
	}()

	sum, err = s.syncer.RunOnce(ctx, opts)
	if err != nil {
		return sum, err
	}
	if !opts.DryRun {
		s.record(sum, trigger)
	}
	return sum, nil
}

// regionDone returns what notes each region of pass as soon as it is done:
// it is free for the next pass at once, and its good pass counts, so that a
// long pass elsewhere neither holds the region nor makes it look stale.
func (s *Service) regionDone(pass string) func(sync.RegionSummary) {
	return func(r sync.RegionSummary) {
		s.mu.Lock()
		defer s.mu.Unlock()
		if s.running[r.Code].id == pass {
			delete(s.running, r.Code)
			s.wakePushes() // the tickets pushed meanwhile are handled now
		}
		if r.Error != "" {
			s.lastFail[r.Code] = regionFailure{at: s.now(), why: r.Error}
			return
		}
		s.lastGood[r.Code] = s.now()
	}
}

// record counts a finished pass in the metrics.
func (s *Service) record(sum sync.Summary, trigger string) {
	if s.metrics != nil {
		s.metrics.observePass(sum, trigger, s.now())
	}
}

// interval is the time between two passes of the schedule, from now on.
func (s *Service) interval() time.Duration {
	next := s.schedule.Next(s.now())
	return s.schedule.Next(next).Sub(next)
}

// Health is the service's readiness, part by part, as GET /readyz judges it.
type Health struct {
	// Store says what is wrong with the lock store; empty when it answers
	// and can write.
	Store   string
	Regions []RegionHealth
	// Running names the passes under way, "" when none.
	Running string
}

// RegionHealth is one region's readiness.
type RegionHealth struct {
	Region
	// LastGood is when its orders were last read; zero before the first
	// good pass.
	LastGood time.Time
	// LastFailure is when they last could not be read, and Failure why;
	// zero and empty when they never failed.
	LastFailure time.Time
	Failure     string
	// Problem says why the region is not ready; empty when it is.
	Problem string
}

// Health returns the readiness of the lock store and of every region: a
// region is ready when it had a good pass within three schedule intervals.
func (s *Service) Health(ctx context.Context) Health {
	var h Health
	pingCtx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	// The answer names the failing part only: the store's errors name its
	// user, database and host, which are for the logs.
	if err := s.store.Ping(pingCtx); err != nil {
		s.log.Warn().Err(err).Msg("readiness: the lock store cannot be reached")
		h.Store = "unreachable"
	} else if err := s.store.CheckWrite(pingCtx); err != nil {
		s.log.Warn().Err(err).Msg("readiness: the lock store cannot write")
		h.Store = "cannot write"
	}
	interval := s.interval()
	limit := 3 * interval
	now := s.now()
	s.mu.Lock()
	defer s.mu.Unlock()
	var running []string
	for _, r := range s.cfg.Regions {
		last, ok := s.lastGood[r.Code]
		rh := RegionHealth{Region: r, LastGood: last, LastFailure: s.lastFail[r.Code].at, Failure: s.lastFail[r.Code].why}
		p, busy := s.running[r.Code]
		if busy && !slices.Contains(running, p.id) {
			running = append(running, p.id)
		}
		switch {
		case busy && now.Sub(p.started) > interval:
			// The pass that holds the region is what to look at first.
			rh.Problem = fmt.Sprintf("pass %s has been running for %s, longer than a schedule interval (%s): the schedule skips the region until it ends",
				p.id, now.Sub(p.started).Round(time.Second), interval)
		case !ok:
			rh.Problem = "no good pass yet"
		case now.Sub(last) > limit:
			rh.Problem = fmt.Sprintf("last good pass %s ago, more than three schedule intervals (%s)", now.Sub(last).Round(time.Second), limit)
		}
		h.Regions = append(h.Regions, rh)
	}
	h.Running = strings.Join(running, ", ")
	return h
}

// Unready returns why the service is not ready, nothing when it is: the lock
// store is unreachable or cannot write, or a region has had no good pass within three
// schedule intervals (or none yet).
func (s *Service) Unready(ctx context.Context) []string {
	h := s.Health(ctx)
	var problems []string
	if h.Store != "" {
		problems = append(problems, "lock store: "+h.Store)
	}
	for _, r := range h.Regions {
		if r.Problem != "" {
			problems = append(problems, fmt.Sprintf("region %s %s: %s", r.Code, r.Name, r.Problem))
		}
	}
	return problems
}

// cronLogger gives cron's messages to zerolog.
type cronLogger struct{ log zerolog.Logger }

func (l cronLogger) Info(msg string, keysAndValues ...any) {
	l.log.Debug().Fields(keysAndValues).Msg("cron: " + msg)
}

func (l cronLogger) Error(err error, msg string, keysAndValues ...any) {
	l.log.Error().Err(err).Fields(keysAndValues).Msg("cron: " + msg)
}
