package opspage

import (
	"bytes"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/lockworker/lockworker"
)

// view is what every template gets.
type view struct {
	Lang string
	User user
	// Nav is the page's place in the menu.
	Nav     string
	Message string
	// OIDC reports whether people can sign in.
	OIDC bool
	// Refresh is how often the overview updates itself, in milliseconds.
	Refresh int64
	Data    any
}

func (v view) T(key string) string { return translate(v.Lang, key) }

// Tf is T with a value put into the message.
func (v view) Tf(key string, arg any) string { return fmt.Sprintf(translate(v.Lang, key), arg) }

// pages are the page templates; each is rendered inside the layout.
var pages = []string{"signin", "signedin", "error", "overview", "overview_fragment", "decisions", "ticket", "person", "resync"}

func parseTemplates() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"when": func(t time.Time) string {
			if t.IsZero() {
				return "–"
			}
			return lockworker.DisplayTime(t)
		},
		"iso": func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
		"dash": func(s any) string {
			if v := fmt.Sprint(s); v != "" {
				return v
			}
			return "–"
		},
		"join": strings.Join,
		// args gives a part of a page the view and its rows.
		"args": func(v view, rows any) map[string]any { return map[string]any{"V": v, "Rows": rows} },
		// pseudonym shows a person by the pseudonym the logs use.
		"pseudonym": func(p lockworker.Personnummer) string {
			if p.IsZero() {
				return "–"
			}
			return p.Pseudonym()
		},
	}
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil || len(names) == 0 {
		return nil, fmt.Errorf("ops page templates: %v", err)
	}
	out := map[string]*template.Template{}
	for _, name := range pages {
		files := []string{"templates/layout.html", "templates/parts.html", "templates/" + name + ".html"}
		t, err := template.New(path.Base(files[0])).Funcs(funcs).ParseFS(templateFiles, files...)
		if err != nil {
			return nil, fmt.Errorf("ops page template %s: %w", name, err)
		}
		out[name] = t
	}
	return out, nil
}

// render writes the page name with data, whole or (for a fragment) alone.
func (p *Page) render(w http.ResponseWriter, r *http.Request, u user, status int, name string, data any) {
	p.renderView(w, status, name, view{Lang: lang(r), User: u, Data: data, OIDC: p.signIn != nil, Nav: name, Refresh: p.cfg.Refresh.Milliseconds()})
}

func (p *Page) renderView(w http.ResponseWriter, status int, name string, v view) {
	entry := "layout"
	if strings.HasSuffix(name, "_fragment") {
		entry = "content"
	}
	var buf bytes.Buffer
	if err := p.tmpl[name].ExecuteTemplate(&buf, entry, v); err != nil {
		p.cfg.Log.Error().Err(err).Str("page", name).Msg("ops page: render")
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Language", v.Lang)
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// renderSignIn shows the sign-in, and nothing else, with message (a key of
// signin.… or empty).
func (p *Page) renderSignIn(w http.ResponseWriter, r *http.Request, status int, message string) {
	if status == http.StatusUnauthorized && p.signIn == nil {
		w.Header().Set("WWW-Authenticate", `Bearer realm="lockworker"`)
	}
	p.renderView(w, status, "signin", view{Lang: lang(r), Message: message, OIDC: p.signIn != nil, Nav: "signin"})
}

// renderError shows what went wrong: message is a key of error.….
func (p *Page) renderError(w http.ResponseWriter, r *http.Request, u user, status int, message string) {
	p.renderView(w, status, "error", view{Lang: lang(r), User: u, Message: message, OIDC: p.signIn != nil, Nav: "error"})
}
