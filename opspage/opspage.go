// Package opspage is the ops page: the pages on the admin listener where a
// region's operations team reviews what lockworker did and asks for a
// re-sync. They are rendered on the server with html/template from templates
// and assets embedded in the binary, in Swedish, or in English when the
// browser asks for it. People sign in with OpenID Connect; scripts send the
// admin token. Every page is Cache-Control: no-store, and no personnummer is
// ever part of a URL, a page title or a log line.
package opspage

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"github.com/lockworker/lockworker"
	"github.com/lockworker/lockworker/service"
	"github.com/lockworker/lockworker/sync"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed assets
var assetFiles embed.FS

// Service is what the page asks of the running service.
type Service interface {
	Health(ctx context.Context) service.Health
	Sync(ctx context.Context, opts sync.Options, trigger string) (sync.Summary, error)
}

// Store is what the page reads of the lock store.
type Store interface {
	service.TicketReader
	AuditPage(ctx context.Context, f lockworker.AuditFilter, offset, limit int) ([]lockworker.AuditEntry, bool, error)
	AuditCounts(ctx context.Context, f lockworker.AuditFilter) (map[lockworker.Outcome]int, error)
	TicketsWithOutcome(ctx context.Context, outcome lockworker.Outcome, limit int) ([]lockworker.LedgerEntry, error)
	Passes(ctx context.Context, limit int) ([]lockworker.PassRecord, error)
	Locks(ctx context.Context, pn lockworker.Personnummer) ([]lockworker.Lock, error)
	// PersonTrail is every entry of the audit trail about pn, oldest first:
	// the decisions on their orders and each look at their data.
	PersonTrail(ctx context.Context, pn lockworker.Personnummer) ([]lockworker.AuditEntry, error)
}

// Access is one look at a person's data: who looked, at whose, when and why.
type Access struct {
	At           time.Time
	Who          string // the signed-in person, or "admin-token"
	Personnummer lockworker.Personnummer
	What         string // "lookup" or "reveal", and where
	Why          string // the reason the person gave
}

// AccessLog records each look at a person's data, before it is shown.
type AccessLog interface {
	RecordAccess(ctx context.Context, a Access) error
}

// Config configures the page.
type Config struct {
	// Token is the admin token: a request that carries it as a bearer token
	// is an operator named "admin-token".
	Token string
	// OIDC is the sign-in of people; nil for none, when only token holders
	// see the page.
	OIDC *OIDC
	// Regions are the configured regions.
	Regions []service.Region
	// AccessLog records who looked at whose personnummer. Without it the
	// page refuses to look a person up or to show a number.
	AccessLog AccessLog
	// Refresh is how often an open overview updates itself; default 10s.
	Refresh time.Duration
	// SessionTTL is how long a sign-in lasts; default 8h.
	SessionTTL time.Duration
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	Log zerolog.Logger
}

// Page serves the ops page.
type Page struct {
	cfg      Config
	svc      Service
	store    Store
	tmpl     map[string]*template.Template
	sessions *sessions
	signIn   *signIn
	mux      *http.ServeMux
}

// pageSize is how many audit entries a page of the decisions shows.
const pageSize = 50

// New returns the ops page of store; For gives it the service.
func New(cfg Config, store Store) (*Page, error) {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = 10 * time.Second
	}
	if cfg.SessionTTL <= 0 {
		cfg.SessionTTL = 8 * time.Hour
	}
	tmpl, err := parseTemplates()
	if err != nil {
		return nil, err
	}
	p := &Page{cfg: cfg, store: store, tmpl: tmpl, sessions: newSessions(cfg.Now)}
	if cfg.OIDC != nil {
		if err := cfg.OIDC.validate(); err != nil {
			return nil, err
		}
		p.signIn = newSignIn(*cfg.OIDC, cfg.Now)
	}
	assets, err := fs.Sub(assetFiles, "assets")
	if err != nil {
		return nil, fmt.Errorf("ops page assets: %w", err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /assets/", http.StripPrefix("/assets/", http.FileServerFS(assets)))
	mux.HandleFunc("GET /login", p.handleLogin)
	mux.HandleFunc("GET /callback", p.handleCallback)
	mux.HandleFunc("POST /logout", p.viewer(p.handleLogout))
	mux.HandleFunc("GET /{$}", p.viewer(p.handleOverview))
	mux.HandleFunc("GET /fragment/overview", p.viewer(p.handleOverviewFragment))
	mux.HandleFunc("GET /decisions", p.viewer(p.handleDecisions))
	mux.HandleFunc("GET /ticket", p.viewer(p.handleTicket))
	mux.HandleFunc("POST /ticket/reveal", p.operator(p.handleTicketReveal))
	mux.HandleFunc("GET /person", p.operator(p.handlePersonForm))
	mux.HandleFunc("POST /person", p.operator(p.handlePerson))
	mux.HandleFunc("GET /resync", p.operator(p.handleResyncForm))
	mux.HandleFunc("POST /resync", p.operator(p.handleResync))
	mux.HandleFunc("/", p.viewer(p.handleNotFound))
	p.mux = mux
	return p, nil
}

// For returns the page of svc, the running service, whose health it shows
// and which it asks for passes. It is called once, before the page serves.
func (p *Page) For(svc Service) http.Handler {
	p.svc = svc
	return p
}

// ServeHTTP serves the page; every answer is Cache-Control: no-store.
func (p *Page) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
	// No form of the page is larger.
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	p.mux.ServeHTTP(w, r)
}

// errNoAccessLog refuses to show a person's data that could not be logged.
var errNoAccessLog = errors.New("no access log: lookups of persons are not available")
