package safetext

import (
	"encoding/base64"
	"encoding/json"
	"net/url"
	"regexp"
	"strings"
)

// MinPrefix is how many characters of a secret's beginning a Hider takes as
// the secret: a message cut in the middle of an echoed secret still shows
// none of it, once this much of it shows. A secret shorter than this is
// hidden only whole.
const MinPrefix = 6

// A Hider takes secrets out of text that came from outside. A peer may echo
// a credential as it was sent (the API key, the Basic credentials in base64,
// the bearer token), JSON-escaped, URL-encoded, in another case, or cut
// short; a Hider replaces each of these, and any beginning of one at least
// MinPrefix characters long, by the secret's label. The zero Hider hides
// nothing. It is safe for concurrent use.
type Hider struct {
	res    []*regexp.Regexp
	labels []string
}

// NewHider returns a Hider of secret, which Hide replaces by label (such as
// "<api key>"). Further secrets are added with With.
func NewHider(label, secret string) *Hider {
	return (&Hider{}).With(label, secret)
}

// With returns a Hider that also hides secret, by label. An empty secret
// adds nothing.
func (h *Hider) With(label, secret string) *Hider {
	out := &Hider{}
	if h != nil {
		out.res = append(out.res, h.res...)
		out.labels = append(out.labels, h.labels...)
	}
	if secret == "" {
		return out
	}
	for _, form := range forms(secret) {
		out.res = append(out.res, prefixPattern(form))
		out.labels = append(out.labels, label)
	}
	return out
}

// Hide returns s with every form of the Hider's secrets replaced by its label.
func (h *Hider) Hide(s string) string {
	if h == nil {
		return s
	}
	for i, re := range h.res {
		s = re.ReplaceAllLiteralString(s, h.labels[i])
	}
	return s
}

// forms are the ways a peer may write secret back.
func forms(secret string) []string {
	quoted, _ := json.Marshal(secret)
	all := []string{
		secret,
		strings.Trim(string(quoted), `"`),
		url.QueryEscape(secret),
		url.PathEscape(secret),
		base64.StdEncoding.EncodeToString([]byte(secret)),
		base64.StdEncoding.EncodeToString([]byte(secret + ":")), // HTTP Basic, the secret as user name
		base64.RawURLEncoding.EncodeToString([]byte(secret)),
	}
	seen := map[string]bool{}
	var out []string
	for _, f := range all {
		if f != "" && !seen[f] {
			seen[f] = true
			out = append(out, f)
		}
	}
	return out
}

// prefixPattern matches form, in any case, and every beginning of it at
// least MinPrefix characters long: a(?:b(?:c)?)? for the characters after
// the first MinPrefix, counted in runes so that no character is cut in two.
func prefixPattern(form string) *regexp.Regexp {
	runes := []rune(form)
	head := len(runes)
	if head > MinPrefix {
		head = MinPrefix
	}
	var b strings.Builder
	b.WriteString("(?i)")
	b.WriteString(regexp.QuoteMeta(string(runes[:head])))
	tail := runes[head:]
	for _, r := range tail {
		b.WriteString("(?:")
		b.WriteString(regexp.QuoteMeta(string(r)))
	}
	for range tail {
		b.WriteString(")?")
	}
	return regexp.MustCompile(b.String())
}
