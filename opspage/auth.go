package opspage

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	gosync "sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"
)

// Role is what a signed-in user may do.
type Role int

// The roles: a viewer sees; an operator may also look persons up, reveal
// their numbers and re-sync.
const (
	RoleNone Role = iota
	RoleViewer
	RoleOperator
)

// TokenUser is the name under which a holder of the admin token is known.
const TokenUser = "admin-token"

// user is who asks: a signed-in person, or the holder of the admin token.
type user struct {
	Name string
	Role Role
	// CSRF is the session's token that every form it sends must carry;
	// empty for the admin token, which no browser sends on its own.
	CSRF string
}

// Operator reports whether the user may look up, reveal and re-sync.
func (u user) Operator() bool { return u.Role == RoleOperator }

type ctxKey struct{}

func userOf(r *http.Request) user {
	u, _ := r.Context().Value(ctxKey{}).(user)
	return u
}

// sessionCookie names the cookie of a signed-in browser; loginCookie binds a
// sign-in under way to the browser that began it.
const (
	sessionCookie = "lockworker_session"
	loginCookie   = "lockworker_login"
)

// authenticate returns the user of r: the admin token's holder, or the
// signed-in person of the session cookie.
func (p *Page) authenticate(r *http.Request) (user, bool) {
	if got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		if p.cfg.Token != "" && subtle.ConstantTimeCompare([]byte(got), []byte(p.cfg.Token)) == 1 {
			return user{Name: TokenUser, Role: RoleOperator}, true
		}
		return user{}, false
	}
	if p.signIn == nil {
		return user{}, false
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return user{}, false
	}
	return p.sessions.get(c.Value)
}

// viewer lets through anyone signed in; others get the sign-in and 401.
func (p *Page) viewer(h http.HandlerFunc) http.HandlerFunc { return p.require(RoleViewer, h) }

// operator lets through operators; viewers get 403.
func (p *Page) operator(h http.HandlerFunc) http.HandlerFunc { return p.require(RoleOperator, h) }

func (p *Page) require(role Role, h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		u, ok := p.authenticate(r)
		if !ok {
			p.renderSignIn(w, r, http.StatusUnauthorized, "")
			return
		}
		if u.Role < role {
			p.renderError(w, r, u, http.StatusForbidden, "forbidden")
			return
		}
		if r.Method == http.MethodPost && u.CSRF != "" {
			if err := r.ParseForm(); err != nil || subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf")), []byte(u.CSRF)) != 1 {
				p.renderError(w, r, u, http.StatusForbidden, "csrf")
				return
			}
		}
		h(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, u)))
	}
}

// sessions are the signed-in browsers, kept in memory: a restart signs
// everyone out.
type sessions struct {
	now func() time.Time
	mu  gosync.Mutex
	m   map[string]session
}

type session struct {
	user    user
	expires time.Time
}

func newSessions(now func() time.Time) *sessions {
	return &sessions{now: now, m: map[string]session{}}
}

// add starts a session for u until expires and returns its id.
func (s *sessions) add(u user, expires time.Time) string {
	id := rand.Text() + rand.Text()
	u.CSRF = rand.Text()
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for k, v := range s.m {
		if !now.Before(v.expires) {
			delete(s.m, k)
		}
	}
	s.m[id] = session{user: u, expires: expires}
	return id
}

func (s *sessions) get(id string) (user, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.m[id]
	if !ok || !s.now().Before(v.expires) {
		delete(s.m, id)
		return user{}, false
	}
	return v.user, true
}

func (s *sessions) remove(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, id)
}

// OIDC configures the sign-in of people with OpenID Connect.
type OIDC struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	// RedirectURL is this page's /callback as the identity provider knows it.
	RedirectURL string
	// ViewerGroup and OperatorGroup are the values of the ID token's
	// "groups" claim that make a person a viewer or an operator.
	ViewerGroup   string
	OperatorGroup string
}

func (o OIDC) validate() error {
	switch {
	case o.Issuer == "", o.ClientID == "", o.RedirectURL == "":
		return errors.New("admin.oidc: issuer, client_id and redirect_url are required")
	case o.ViewerGroup == "" && o.OperatorGroup == "":
		return errors.New("admin.oidc: viewer_group or operator_group is required")
	}
	return nil
}

// signIn runs the authorization code flow with PKCE against the identity
// provider, which it discovers at the first sign-in.
type signIn struct {
	cfg OIDC
	now func() time.Time

	mu       gosync.Mutex
	provider *oidc.Provider
	pending  map[string]pendingLogin // by state
}

type pendingLogin struct {
	nonce, verifier string
	expires         time.Time
}

// loginTTL is how long a sign-in under way may take at the provider, and
// maxPendingLogins how many may be under way at once.
const (
	loginTTL         = 10 * time.Minute
	maxPendingLogins = 10000
)

func newSignIn(cfg OIDC, now func() time.Time) *signIn {
	return &signIn{cfg: cfg, now: now, pending: map[string]pendingLogin{}}
}

func (s *signIn) discover(ctx context.Context) (*oidc.Provider, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.provider != nil {
		return s.provider, nil
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	p, err := oidc.NewProvider(ctx, s.cfg.Issuer)
	if err != nil {
		return nil, fmt.Errorf("discover the identity provider %s: %w", s.cfg.Issuer, err)
	}
	s.provider = p
	return p, nil
}

func (s *signIn) oauth2(p *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{
		ClientID: s.cfg.ClientID, ClientSecret: s.cfg.ClientSecret, RedirectURL: s.cfg.RedirectURL,
		Endpoint: p.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "profile", "email", "groups"},
	}
}

// begin starts a sign-in: it returns its state and the provider's URL.
func (s *signIn) begin(ctx context.Context) (state, url string, err error) {
	p, err := s.discover(ctx)
	if err != nil {
		return "", "", err
	}
	state, nonce, verifier := rand.Text(), rand.Text(), oauth2.GenerateVerifier()
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for k, v := range s.pending {
		if !now.Before(v.expires) {
			delete(s.pending, k)
		}
	}
	if len(s.pending) >= maxPendingLogins {
		// Sign-ins begun and never finished must not fill the memory.
		return "", "", errors.New("too many sign-ins under way")
	}
	s.pending[state] = pendingLogin{nonce: nonce, verifier: verifier, expires: now.Add(loginTTL)}
	return state, s.oauth2(p).AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), nil
}

// claims are what lockworker reads of an ID token.
type claims struct {
	Subject           string   `json:"sub"`
	Name              string   `json:"name"`
	PreferredUsername string   `json:"preferred_username"`
	Email             string   `json:"email"`
	Groups            []string `json:"groups"`
	Nonce             string   `json:"nonce"`
}

// finish ends the sign-in of state: it exchanges code, verifies the ID token
// and returns who signed in, with the role their groups give.
func (s *signIn) finish(ctx context.Context, state, code string) (user, error) {
	s.mu.Lock()
	pl, ok := s.pending[state]
	delete(s.pending, state)
	s.mu.Unlock()
	if !ok || !s.now().Before(pl.expires) {
		return user{}, errors.New("no sign-in under way with this state")
	}
	p, err := s.discover(ctx)
	if err != nil {
		return user{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	tok, err := s.oauth2(p).Exchange(ctx, code, oauth2.VerifierOption(pl.verifier))
	if err != nil {
		return user{}, fmt.Errorf("exchange the code: %w", err)
	}
	raw, ok := tok.Extra("id_token").(string)
	if !ok {
		return user{}, errors.New("the token answer holds no id_token")
	}
	idt, err := p.Verifier(&oidc.Config{ClientID: s.cfg.ClientID, Now: s.now}).Verify(ctx, raw)
	if err != nil {
		return user{}, fmt.Errorf("verify the ID token: %w", err)
	}
	var c claims
	if err := idt.Claims(&c); err != nil {
		return user{}, fmt.Errorf("read the ID token's claims: %w", err)
	}
	if subtle.ConstantTimeCompare([]byte(c.Nonce), []byte(pl.nonce)) != 1 {
		return user{}, errors.New("the ID token's nonce is not the sign-in's")
	}
	u := user{Name: firstOf(c.PreferredUsername, c.Email, c.Name, c.Subject)}
	switch {
	case s.cfg.OperatorGroup != "" && slices.Contains(c.Groups, s.cfg.OperatorGroup):
		u.Role = RoleOperator
	case s.cfg.ViewerGroup != "" && slices.Contains(c.Groups, s.cfg.ViewerGroup):
		u.Role = RoleViewer
	}
	return u, nil
}

func firstOf(vs ...string) string {
	for _, v := range vs {
		if v != "" {
			return v
		}
	}
	return ""
}

func (p *Page) handleLogin(w http.ResponseWriter, r *http.Request) {
	if p.signIn == nil {
		p.renderSignIn(w, r, http.StatusNotFound, "")
		return
	}
	state, url, err := p.signIn.begin(r.Context())
	if err != nil {
		p.cfg.Log.Error().Err(err).Msg("ops page: sign-in")
		p.renderSignIn(w, r, http.StatusBadGateway, "idp_down")
		return
	}
	// Lax: the provider's redirect back is a navigation from another site.
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: state, Path: "/callback", MaxAge: int(loginTTL.Seconds()),
		Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, url, http.StatusFound)
}

func (p *Page) handleCallback(w http.ResponseWriter, r *http.Request) {
	if p.signIn == nil {
		p.renderSignIn(w, r, http.StatusNotFound, "")
		return
	}
	state := r.URL.Query().Get("state")
	c, err := r.Cookie(loginCookie)
	if err != nil || state == "" || subtle.ConstantTimeCompare([]byte(c.Value), []byte(state)) != 1 {
		p.renderSignIn(w, r, http.StatusBadRequest, "login_failed")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Path: "/callback", MaxAge: -1, Secure: true, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	u, err := p.signIn.finish(r.Context(), state, r.URL.Query().Get("code"))
	if err != nil {
		p.cfg.Log.Warn().Err(err).Msg("ops page: a sign-in failed")
		p.renderSignIn(w, r, http.StatusUnauthorized, "login_failed")
		return
	}
	if u.Role == RoleNone {
		p.cfg.Log.Warn().Str("user", u.Name).Msg("ops page: signed in, but in neither the viewer nor the operator group")
		p.renderSignIn(w, r, http.StatusForbidden, "no_group")
		return
	}
	expires := p.cfg.Now().Add(p.cfg.SessionTTL)
	id := p.sessions.add(u, expires)
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: id, Path: "/", Expires: expires, MaxAge: int(p.cfg.SessionTTL.Seconds()),
		Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	p.cfg.Log.Info().Str("user", u.Name).Bool("operator", u.Operator()).Msg("ops page: signed in")
	// A page of this site moves on to the overview: a redirect would still
	// count as the provider's navigation, on which a SameSite=Strict cookie
	// is not sent.
	p.render(w, r, user{}, http.StatusOK, "signedin", nil)
}

func (p *Page) handleLogout(w http.ResponseWriter, r *http.Request) {
	if c, err := r.Cookie(sessionCookie); err == nil {
		p.sessions.remove(c.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Path: "/", MaxAge: -1, Secure: true, HttpOnly: true, SameSite: http.SameSiteStrictMode})
	p.renderSignIn(w, r, http.StatusOK, "signed_out")
}
