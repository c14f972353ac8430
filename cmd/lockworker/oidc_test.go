package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	gosync "sync"
	"testing"
	"time"

	"github.com/go-jose/go-jose/v4"
)

// issuer is an OpenID Connect provider for the tests: it signs in, at once
// and without asking, whoever the test named last (signInAs), and checks what
// a provider checks of the client: its id, secret, redirect URL, and the
// PKCE verifier of the code.
type issuer struct {
	t      *testing.T
	srv    *httptest.Server
	key    *rsa.PrivateKey
	client struct{ id, secret, redirect string }

	mu    gosync.Mutex
	next  idUser
	codes map[string]grant
}

// idUser is who signs in.
type idUser struct {
	name   string
	groups []string
}

type grant struct {
	user      idUser
	nonce     string
	challenge string
}

func newIssuer(t *testing.T, clientID, secret, redirect string) *issuer {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	is := &issuer{t: t, key: key, codes: map[string]grant{}}
	is.client.id, is.client.secret, is.client.redirect = clientID, secret, redirect
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-configuration", is.discovery)
	mux.HandleFunc("GET /authorize", is.authorize)
	mux.HandleFunc("POST /token", is.token)
	mux.HandleFunc("GET /jwks", is.jwks)
	is.srv = httptest.NewServer(mux)
	t.Cleanup(is.srv.Close)
	return is
}

func (is *issuer) URL() string { return is.srv.URL }

// signInAs makes name, of groups, the next to sign in.
func (is *issuer) signInAs(name string, groups ...string) {
	is.mu.Lock()
	defer is.mu.Unlock()
	is.next = idUser{name: name, groups: groups}
}

func (is *issuer) discovery(w http.ResponseWriter, _ *http.Request) {
	writeJSONTest(w, map[string]any{
		"issuer":                                is.srv.URL,
		"authorization_endpoint":                is.srv.URL + "/authorize",
		"token_endpoint":                        is.srv.URL + "/token",
		"jwks_uri":                              is.srv.URL + "/jwks",
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{"RS256"},
		"code_challenge_methods_supported":      []string{"S256"},
	})
}

func (is *issuer) authorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("client_id") != is.client.id || q.Get("redirect_uri") != is.client.redirect || q.Get("response_type") != "code" ||
		q.Get("code_challenge_method") != "S256" || q.Get("code_challenge") == "" || q.Get("nonce") == "" || q.Get("state") == "" {
		is.t.Errorf("the provider was asked to sign in with %v", q)
		http.Error(w, "bad request", http.StatusBadRequest)
		return
	}
	code := rand.Text()
	is.mu.Lock()
	is.codes[code] = grant{user: is.next, nonce: q.Get("nonce"), challenge: q.Get("code_challenge")}
	is.mu.Unlock()
	http.Redirect(w, r, is.client.redirect+"?"+url.Values{"code": {code}, "state": {q.Get("state")}}.Encode(), http.StatusFound)
}

func (is *issuer) token(w http.ResponseWriter, r *http.Request) {
	// RFC 6749 2.3.1: the client's id and secret are form-encoded before
	// they go in the Basic header.
	id, secret, ok := r.BasicAuth()
	if ok {
		id, _ = url.QueryUnescape(id)
		secret, _ = url.QueryUnescape(secret)
	} else {
		id, secret = r.PostFormValue("client_id"), r.PostFormValue("client_secret")
	}
	if id != is.client.id || secret != is.client.secret {
		http.Error(w, `{"error":"invalid_client"}`, http.StatusUnauthorized)
		return
	}
	is.mu.Lock()
	g, found := is.codes[r.PostFormValue("code")]
	delete(is.codes, r.PostFormValue("code"))
	is.mu.Unlock()
	sum := sha256.Sum256([]byte(r.PostFormValue("code_verifier")))
	if !found || r.PostFormValue("redirect_uri") != is.client.redirect || base64.RawURLEncoding.EncodeToString(sum[:]) != g.challenge {
		http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
		return
	}
	signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: is.key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "key-1"))
	if err != nil {
		is.t.Fatal(err)
	}
	now := time.Now()
	claims, _ := json.Marshal(map[string]any{
		"iss": is.srv.URL, "sub": "sub-" + g.user.name, "aud": is.client.id, "iat": now.Unix(), "exp": now.Add(5 * time.Minute).Unix(),
		"nonce": g.nonce, "preferred_username": g.user.name, "groups": g.user.groups,
	})
	jws, err := signer.Sign(claims)
	if err != nil {
		is.t.Fatal(err)
	}
	idToken, err := jws.CompactSerialize()
	if err != nil {
		is.t.Fatal(err)
	}
	writeJSONTest(w, map[string]any{"access_token": rand.Text(), "token_type": "Bearer", "expires_in": 300, "id_token": idToken})
}

func (is *issuer) jwks(w http.ResponseWriter, _ *http.Request) {
	writeJSONTest(w, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &is.key.PublicKey, KeyID: "key-1", Algorithm: "RS256", Use: "sig"}}})
}

func writeJSONTest(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}
