// Package httpedge builds the HTTP clients through which lockworker speaks
// to outside systems: each follows no redirect, sends no request to any
// origin (scheme, host and port) but its configured one, so that no
// credential reaches another host or leaves TLS, bounds the headers of an
// answer, and can trust a CA of its own and present a client certificate.
package httpedge

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"time"
)

// MaxHeaderBytes bounds the headers of an answer.
const MaxHeaderBytes = 1 << 20

// ErrOtherOrigin is the error of a request to an origin other than the
// client's own: it is not sent.
var ErrOtherOrigin = errors.New("request to another origin refused")

// Client returns a copy of hc (a new client when nil) whose requests go to
// baseURL's origin only and whose redirects are answers, not followed. When
// tlsConfig is not nil the client uses it, on a transport of its own; hc's
// transport must then be an *http.Transport or none.
func Client(hc *http.Client, baseURL string, tlsConfig *tls.Config) (*http.Client, error) {
	out := &http.Client{}
	if hc != nil {
		copied := *hc
		out = &copied
	}
	next := out.Transport
	if next == nil || tlsConfig != nil {
		var base *http.Transport
		switch t := next.(type) {
		case nil:
			base = http.DefaultTransport.(*http.Transport).Clone()
			base.MaxResponseHeaderBytes = MaxHeaderBytes
			base.ResponseHeaderTimeout = time.Minute
			// The client talks to one host: it keeps as many connections to
			// it for reuse as the transport keeps at all, so that requests
			// made at once (forms read side by side) need no new connection
			// (nor TLS handshake) each.
			base.MaxIdleConnsPerHost = base.MaxIdleConns
		case *http.Transport:
			base = t.Clone()
		default:
			return nil, fmt.Errorf("a TLS configuration needs an *http.Transport, not a %T", next)
		}
		if tlsConfig != nil {
			base.TLSClientConfig = tlsConfig.Clone()
		}
		next = base
	}
	// ErrUseLastResponse makes the redirect the answer, which the caller
	// takes as the failure it is.
	out.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	origin, err := url.Parse(baseURL)
	if err != nil {
		origin = &url.URL{} // matches no request: every one is refused
	}
	out.Transport = sameOrigin{next: next, scheme: origin.Scheme, host: origin.Host}
	return out, nil
}

// sameOrigin sends only the requests to one origin.
type sameOrigin struct {
	next         http.RoundTripper
	scheme, host string
}

func (t sameOrigin) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.URL.Scheme != t.scheme || r.URL.Host != t.host || t.host == "" {
		if r.Body != nil {
			_ = r.Body.Close()
		}
		return nil, fmt.Errorf("%w: %s://%s is not the configured %s://%s", ErrOtherOrigin, r.URL.Scheme, r.URL.Host, t.scheme, t.host)
	}
	return t.next.RoundTrip(r)
}

// LoadTLS reads the TLS settings of a client of an outside system: caFile,
// when given, holds the PEM certificates of the only CAs trusted for the
// system's server (a region's own CA, instead of the system's roots);
// certFile and keyFile, given together, the client certificate and its key
// (mutual TLS). With no file it returns nil: the system's roots, no client
// certificate.
func LoadTLS(caFile, certFile, keyFile string) (*tls.Config, error) {
	if caFile == "" && certFile == "" && keyFile == "" {
		return nil, nil
	}
	cfg := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("ca_file: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("ca_file: %s holds no PEM certificate", caFile)
		}
		cfg.RootCAs = pool
	}
	switch {
	case certFile == "" && keyFile == "":
	case certFile == "" || keyFile == "":
		return nil, errors.New("cert_file and key_file go together")
	default:
		cert, err := tls.LoadX509KeyPair(certFile, keyFile)
		if err != nil {
			// The error names the files, never the key's bytes.
			return nil, fmt.Errorf("cert_file and key_file: %w", err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}
