package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/lockworker/lockworker/internal/httpedge/httpedgetest"
)

// serve with admin.tls and admin.protect_probes: the admin API speaks HTTPS
// only, and /readyz and /metrics answer only the token's holder.
func TestServeProtectsItsProbesOverTLS(t *testing.T) {
	t.Parallel()
	e := setup(t)
	listen := e.serviceConfig()
	cert, key := httpedgetest.NewServerCert(t)
	e.editConfig("  token: ${LOCKWORKER_ADMIN_TOKEN}\n",
		fmt.Sprintf("  token: ${LOCKWORKER_ADMIN_TOKEN}\n  protect_probes: true\n  tls: {cert_file: %q, key_file: %q}\n", cert, key))
	s := e.startServe()

	pem, err := os.ReadFile(cert)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	get := func(scheme, path, token string) int {
		req, _ := http.NewRequestWithContext(t.Context(), http.MethodGet, scheme+"://"+listen+path, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	e.eventually(10*time.Second, "the admin API answers over HTTPS", func() (bool, string) {
		code := get("https", "/healthz", "")
		return code == http.StatusOK, fmt.Sprintf("GET /healthz = %d; stderr:\n%s", code, s.stderr.String())
	})
	token := e.vars["LOCKWORKER_ADMIN_TOKEN"]
	for _, path := range []string{"/readyz", "/metrics"} {
		if code := get("https", path, ""); code != http.StatusUnauthorized {
			t.Errorf("GET %s without the token: %d, want 401", path, code)
		}
		if code := get("https", path, token); code == http.StatusUnauthorized || code == 0 {
			t.Errorf("GET %s with the token: %d", path, code)
		}
	}
	if code := get("http", "/healthz", ""); code == http.StatusOK {
		t.Error("the admin API answered plain HTTP")
	}
}
