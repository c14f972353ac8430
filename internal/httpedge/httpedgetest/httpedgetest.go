// Package httpedgetest starts HTTPS servers that demand a client
// certificate, and writes the PEM files a client needs to reach them, for
// the tests of the outside systems' clients and of the configuration.
package httpedgetest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/lockworker/lockworker/internal/httpedge"
)

// Files are the PEM files of a client of a Server: the CA that signed the
// server's certificate, and the client's certificate and key.
type Files struct {
	CAFile, CertFile, KeyFile string
}

// NewMutualTLSServer starts an HTTPS server of h on loopback that accepts
// only clients presenting the certificate in the files it returns. The
// server is closed when the test ends.
func NewMutualTLSServer(t testing.TB, h http.Handler) (*httptest.Server, Files) {
	t.Helper()
	dir := t.TempDir()
	clientCert, clientKey := newCert(t, "lockworker test client", x509.ExtKeyUsageClientAuth)
	files := Files{
		CAFile:   filepath.Join(dir, "ca.pem"),
		CertFile: filepath.Join(dir, "client.pem"),
		KeyFile:  filepath.Join(dir, "client-key.pem"),
	}
	write(t, files.CertFile, "CERTIFICATE", clientCert.Raw)
	write(t, files.KeyFile, "PRIVATE KEY", marshalKey(t, clientKey))

	clients := x509.NewCertPool()
	clients.AddCert(clientCert)
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes are the tests' point
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: clients, MinVersion: tls.VersionTLS12}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	write(t, files.CAFile, "CERTIFICATE", srv.Certificate().Raw)
	return srv, files
}

// newCert makes a self-signed certificate, which is its own CA.
func newCert(t testing.TB, name string, usage x509.ExtKeyUsage, ips ...net.IP) (*x509.Certificate, *ecdsa.PrivateKey) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: name},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{usage},
		IPAddresses:  ips,
		IsCA:         true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert, key
}

// NewServerCert writes a self-signed server certificate for 127.0.0.1 and
// its key, for a server of lockworker's own (the admin listener), and
// returns the paths.
func NewServerCert(t testing.TB) (certFile, keyFile string) {
	t.Helper()
	cert, key := newCert(t, "127.0.0.1", x509.ExtKeyUsageServerAuth, net.IPv4(127, 0, 0, 1))
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "admin.pem"), filepath.Join(dir, "admin-key.pem")
	write(t, certFile, "CERTIFICATE", cert.Raw)
	write(t, keyFile, "PRIVATE KEY", marshalKey(t, key))
	return certFile, keyFile
}

// CheckMutualTLS asserts what a client of a NewMutualTLSServer must do:
// connect, given the TLS settings read from files, succeeds; without the
// client certificate it fails; and trusting the system's roots alone (nil)
// it fails on the server's certificate. connect makes one call.
func CheckMutualTLS(t *testing.T, files Files, connect func(ctx context.Context, cfg *tls.Config) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	cfg, err := httpedge.LoadTLS(files.CAFile, files.CertFile, files.KeyFile)
	if err != nil {
		t.Fatal(err)
	}
	if err := connect(ctx, cfg); err != nil {
		t.Errorf("with the region's CA and the client certificate: %v", err)
	}
	caOnly, err := httpedge.LoadTLS(files.CAFile, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if err := connect(ctx, caOnly); err == nil {
		t.Error("without the client certificate: no error")
	}
	if err := connect(ctx, nil); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("trusting only the system's roots: %v, want a certificate error", err)
	}
}

func marshalKey(t testing.TB, key *ecdsa.PrivateKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

func write(t testing.TB, path, kind string, der []byte) {
	t.Helper()
	data := pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der})
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
}
