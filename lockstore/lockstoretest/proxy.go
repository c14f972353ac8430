package lockstoretest

import (
	"net"
	"net/url"
	gosync "sync"
	"testing"
)

// Proxy is a TCP proxy in front of a database that a test can freeze: from
// then on it passes nothing either way and holds every connection open, as a
// database that has stopped answering (or a network that drops everything)
// would. A Proxy with no target accepts connections and never answers at all.
type Proxy struct {
	ln     net.Listener
	target string

	mu     gosync.Mutex
	frozen bool
	conns  []net.Conn
}

// NewProxy listens on a loopback port and forwards to target ("host:port"),
// or, with target "", accepts and says nothing. It closes when the test ends.
func NewProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("proxy: %v", err)
	}
	p := &Proxy{ln: ln, target: target}
	go p.serve()
	t.Cleanup(p.close)
	return p
}

// Addr is the proxy's address, "127.0.0.1:port".
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// DSN returns the PostgreSQL URL dsn pointed at the proxy.
func (p *Proxy) DSN(t testing.TB, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatalf("proxy: %v", err)
	}
	u.Host = p.Addr()
	return u.String()
}

// Freeze stops the proxy passing anything, for good.
func (p *Proxy) Freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.frozen = true
}

func (p *Proxy) isFrozen() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.frozen
}

func (p *Proxy) serve() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		p.conns = append(p.conns, c)
		p.mu.Unlock()
		if p.target == "" || p.isFrozen() {
			continue // held open, never answered
		}
		upstream, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, upstream)
		p.mu.Unlock()
		go p.pipe(upstream, c)
		go p.pipe(c, upstream)
	}
}

// pipe copies from src to dst until the proxy is frozen, and then drops
// what it reads, keeping both connections open.
func (p *Proxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !p.isFrozen() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *Proxy) close() {
	p.ln.Close()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range p.conns {
		c.Close()
	}
}
