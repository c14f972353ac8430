package service_test

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	gosync "sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/lockworker/lockworker/internal/httpedge/httpedgetest"
	"github.com/lockworker/lockworker/service"
	"github.com/lockworker/lockworker/sync"
)

// The admin listener against hostile clients on a real socket.

// admin is a running service's admin listener.
type admin struct {
	addr string
	logs *syncBuffer
}

// startAdmin runs a service with cfg on a free loopback port until the test
// ends.
func startAdmin(t *testing.T, cfg service.Config) admin {
	t.Helper()
	return startAdminWith(t, cfg, &fakeSyncer{})
}

// startAdminWith is startAdmin with a syncer of the test's.
func startAdminWith(t *testing.T, cfg service.Config, syncer *fakeSyncer) admin {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	a := admin{addr: ln.Addr().String(), logs: &syncBuffer{}}
	ln.Close()
	cfg.Schedule, cfg.Regions, cfg.Listen = "@every 1h", regions, a.addr
	if cfg.Token == "" {
		cfg.Token = adminToken
	}
	svc, err := service.New(cfg, syncer, &fakeStore{}, nil, zerolog.New(a.logs), nil)
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	t.Cleanup(func() {
		stop()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
	})
	for deadline := time.Now().Add(10 * time.Second); ; {
		c, err := net.Dial("tcp", a.addr)
		if err == nil {
			c.Close()
			return a
		}
		if time.Now().After(deadline) {
			t.Fatalf("the admin listener did not start: %v", err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// operator asks for a manual pass, as an operator would, and says how long
// the answer took.
func (a admin) operator(t *testing.T, client *http.Client, scheme string) (int, time.Duration) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, scheme+"://"+a.addr+"/sync", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("the operator's POST /sync: %v", err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, time.Since(start)
}

// openConns opens n connections that send nothing.
func openConns(t *testing.T, addr string, n int) []net.Conn {
	t.Helper()
	conns := make([]net.Conn, 0, n)
	for range n {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("connection %d: %v", len(conns)+1, err)
		}
		conns = append(conns, c)
	}
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	return conns
}

func TestTheOperatorIsAnsweredBesideTwoHundredIdleConnections(t *testing.T) {
	t.Parallel()
	a := startAdmin(t, service.Config{})
	openConns(t, a.addr, 200)
	status, took := a.operator(t, &http.Client{Timeout: 10 * time.Second}, "http")
	if status != http.StatusOK || took > 2*time.Second {
		t.Errorf("POST /sync beside 200 idle connections: %d after %s, want 200 within 2s", status, took)
	}
}

// Not parallel: it counts the process's open files, which other tests'
// connections would change.
func TestAFloodOfConnectionsIsBoundedAndDropped(t *testing.T) {
	limits := service.ListenerLimits{MaxConns: 16, ReadHeader: time.Second, Read: time.Second, Idle: time.Second}
	a := startAdmin(t, service.Config{Limits: limits})
	before := openFiles(t)

	// 100 connections, each trickling a request's headers a byte at a time.
	conns := openConns(t, a.addr, 100)
	for range 5 {
		for _, c := range conns {
			_, _ = c.Write([]byte("G"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	// The test's own ends of the connections are files of this process too.
	if during := openFiles(t); during > before+len(conns)+limits.MaxConns+8 {
		t.Errorf("%d files open during the flood of %d connections, %d before: the server's are not bounded to %d",
			during, len(conns), before, limits.MaxConns)
	}

	// Those served are dropped once their headers are late; the rest get a
	// slot in turn, and are dropped too, and the operator is answered.
	status, _ := a.operator(t, &http.Client{Timeout: 30 * time.Second}, "http")
	if status != http.StatusOK {
		t.Errorf("the operator's POST /sync after the flood: %d", status)
	}
	for _, line := range strings.Split(strings.TrimSpace(a.logs.String()), "\n") {
		if !json.Valid([]byte(line)) {
			t.Errorf("a log line is not JSON: %q", line)
		}
		if strings.Contains(line, "too many open files") {
			t.Errorf("the flood exhausted the files: %s", line)
		}
	}
}

func TestARequestWhoseBodyDoesNotArriveIsDropped(t *testing.T) {
	t.Parallel()
	if d := (service.ListenerLimits{}).WithDefaults(); d.Read > 60*time.Second || d.ReadHeader > d.Read || d.Idle > 60*time.Second || d.Write <= 0 {
		t.Errorf("default limits %+v: a request must be read within 60 s", d)
	}
	a := startAdmin(t, service.Config{Limits: service.ListenerLimits{Read: time.Second}})
	c := openConns(t, a.addr, 1)[0]
	fmt.Fprintf(c, "POST /sync HTTP/1.1\r\nHost: %s\r\nAuthorization: Bearer %s\r\nContent-Length: 1000\r\n\r\nabc", a.addr, adminToken)
	start := time.Now()
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	_, err := io.Copy(io.Discard, c)
	var timeout net.Error
	if errors.As(err, &timeout) && timeout.Timeout() {
		t.Fatalf("the connection was still open after %s", time.Since(start))
	}
}

// A manual pass that outlasts the read and the write timeouts still runs to
// its end and is answered.
func TestAManualPassOutlastsTheListenersTimeouts(t *testing.T) {
	t.Parallel()
	var passes atomic.Int32
	syncer := &fakeSyncer{run: func(ctx context.Context, opts sync.Options) (sync.Summary, error) {
		if passes.Add(1) == 1 {
			return summary(opts, nil), nil // the pass at start
		}
		select {
		case <-time.After(2500 * time.Millisecond):
		case <-ctx.Done():
			return sync.Summary{}, ctx.Err()
		}
		return summary(opts, nil), nil
	}}
	a := startAdminWith(t, service.Config{Limits: service.ListenerLimits{Read: time.Second, Write: time.Second}}, syncer)
	client := &http.Client{Timeout: 30 * time.Second}
	status, took := a.operator(t, client, "http")
	for deadline := time.Now().Add(10 * time.Second); status == http.StatusConflict && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond) // the pass at start is still running
		status, took = a.operator(t, client, "http")
	}
	if status != http.StatusOK || passes.Load() < 2 {
		t.Errorf("POST /sync of a pass of 2.5 s with timeouts of 1 s: %d after %s, want 200", status, took)
	}
}

func TestTheAdminListenerServesTLSAndLogsItsErrorsAsJSON(t *testing.T) {
	t.Parallel()
	certFile, keyFile := httpedgetest.NewServerCert(t)
	a := startAdmin(t, service.Config{TLSCertFile: certFile, TLSKeyFile: keyFile})
	pem, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	roots.AppendCertsFromPEM(pem)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	if status, _ := a.operator(t, client, "https"); status != http.StatusOK {
		t.Errorf("POST /sync over TLS: %d", status)
	}

	// Plain HTTP to the TLS listener: the server's own complaint is a JSON
	// log line, not a line of text in the log.
	c := openConns(t, a.addr, 1)[0]
	fmt.Fprintf(c, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
	_, _ = bufio.NewReader(c).ReadString('\n')
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(a.logs.String(), "TLS handshake error"); {
		if time.Now().After(deadline) {
			t.Fatalf("no log of the failed handshake:\n%s", a.logs.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
	for _, line := range strings.Split(strings.TrimSpace(a.logs.String()), "\n") {
		var ev map[string]any
		if err := json.Unmarshal([]byte(line), &ev); err != nil {
			t.Errorf("a log line is not JSON: %q", line)
		}
		if strings.Contains(line, "TLS handshake error") && ev["source"] != "admin listener" {
			t.Errorf("the handshake error is not the admin listener's event: %s", line)
		}
	}
}

func TestProtectedProbesNeedTheToken(t *testing.T) {
	t.Parallel()
	metrics := service.NewMetrics(func(context.Context) (int64, error) { return 0, nil })
	for _, protect := range []bool{false, true} {
		svc, err := service.New(service.Config{Schedule: "@every 2m", Regions: regions, Token: adminToken, ProtectProbes: protect},
			&fakeSyncer{}, &fakeStore{}, metrics, zerolog.Nop(), nil)
		if err != nil {
			t.Fatal(err)
		}
		h := svc.Handler()
		for _, path := range []string{"/readyz", "/metrics", "/healthz"} {
			for _, token := range []string{"", "wrong", adminToken} {
				req, _ := http.NewRequest(http.MethodGet, path, nil)
				if token != "" {
					req.Header.Set("Authorization", "Bearer "+token)
				}
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				refused := rec.Code == http.StatusUnauthorized
				want := protect && path != "/healthz" && token != adminToken
				if refused != want {
					t.Errorf("protect_probes %v, GET %s with token %q: %d, want refused %v", protect, path, token, rec.Code, want)
				}
			}
		}
	}
}

// openFiles counts the process's open files.
func openFiles(t *testing.T) int {
	t.Helper()
	entries, err := os.ReadDir("/proc/self/fd")
	if err != nil {
		t.Skipf("cannot count open files: %v", err)
	}
	return len(entries)
}

// syncBuffer is a buffer that the logger and the test share.
type syncBuffer struct {
	mu  gosync.Mutex
	buf strings.Builder
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
