package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"strings"
	gosync "sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/lockworker/lockworker"
	"github.com/lockworker/lockworker/easit"
	"github.com/lockworker/lockworker/easit/easittest"
	"github.com/lockworker/lockworker/lockstore"
	"github.com/lockworker/lockworker/lockstore/lockstoretest"
)

// The timing of the tests that kill the built binary or run several at once.
const (
	// crashEasitTimeout and crashClaimLease are the configured
	// limits.easit_timeout and lockstore.claim_lease: short, so that a
	// claim left by a dead process runs out within the test.
	crashEasitTimeout = 2 * time.Second
	crashClaimLease   = 2 * time.Second
)

// crashStores are the lock stores the tests run on; PostgreSQL is skipped
// without a test PostgreSQL, unless CI=true.
var crashStores = []struct {
	driver string
	dsn    func(testing.TB) string
}{
	{"sqlite", lockstoretest.SQLiteDSN},
	{"postgres", lockstoretest.PostgresDSN},
}

// A process killed after its decision was committed and before the ticket
// update reached Easit leaves the lock applied and the ticket open. The very
// next pass waits for the dead process's claim to run out (it may still be
// sending, for all the pass knows; it no longer renews the claim), takes it
// over, and sends the update, once, and never applies the change again.
func TestCrashBeforeTheUpdateReachedEasit(t *testing.T) {
	bin := builtBinary(t)
	t.Parallel()
	for _, store := range crashStores {
		t.Run(store.driver, func(t *testing.T) {
			t.Parallel()
			e := crashSetup(t, store.driver, store.dsn(t))
			e.accounts(adult)
			e.order("07", "55", lockKind, adult)
			kronoberg := e.region("07").easit

			// Easit holds the import: when it arrives, the decision is
			// committed, since a pass records before it tells Easit.
			arrived := make(chan struct{})
			var once gosync.Once
			kronoberg.SetFault(func(c easittest.Call) *easittest.Fault {
				if c.Op != easit.OpImport {
					return nil
				}
				once.Do(func() { close(arrived) })
				return &easittest.Fault{Delay: time.Minute}
			})
			crashStart(t, e, bin, "sync").killWhen(arrived)
			kronoberg.SetFault(nil)
			crashExpect(t, e, "after the kill", "07", "55", adult, crashTicket{
				Status: open, Audit: 1, Locks: 1, Locked: true,
			})

			// The very next pass waits for the dead process's claim to run
			// out, takes it over, reads the ticket again and sends the
			// update, once.
			res := crashRun(t, e, bin, "sync", "--json")
			if res.code != exitOK {
				t.Fatalf("lockworker sync right after the kill = %d, want 0; stderr:\n%s", res.code, res.stderr)
			}
			if got := crashActions(t, res.stdout)["07/55"]; got != "resent" {
				t.Errorf("the pass right after the kill: action %q on 07/55, want resent", got)
			}
			want := crashTicket{Status: resolved, Updates: 1, Comments: 1, Audit: 1, Locks: 1, Locked: true, Confirmed: true}
			crashExpect(t, e, "after the pass right after the kill", "07", "55", adult, want)
			entry := crashLedger(t, crashStore(t, e), "07", "55")
			if waited := entry.ConfirmedAt.Sub(entry.DecidedAt); waited < crashClaimLease {
				t.Errorf("the update was confirmed %s after the decision, before the dead process's claim of %s ran out", waited, crashClaimLease)
			} else {
				t.Logf("%s: the update was sent by the first pass after the kill, %s after the decision", store.driver, waited.Round(time.Millisecond))
			}

			if res := crashRun(t, e, bin, "sync"); res.code != exitOK {
				t.Errorf("a further lockworker sync = %d, want 0; stderr:\n%s", res.code, res.stderr)
			}
			crashExpect(t, e, "after a further pass", "07", "55", adult, want)
		})
	}
}

// A process killed after the ticket update reached Easit and before it was
// confirmed in the lock store leaves a ticket that is resolved and a ledger
// entry that is not confirmed. The next pass reads the ticket back and
// confirms the update: it sends nothing, so the ticket keeps one comment.
func TestCrashAfterTheUpdateReachedEasit(t *testing.T) {
	bin := builtBinary(t)
	t.Parallel()
	for _, store := range crashStores {
		t.Run(store.driver, func(t *testing.T) {
			t.Parallel()
			e := crashSetup(t, store.driver, store.dsn(t))
			e.accounts(adult)
			e.order("07", "55", lockKind, adult)

			// The fake Easit carries out an import before a fault takes
			// effect only when the fault has no delay, so it cannot hold an
			// applied import; a proxy in front of it does.
			proxy := crashHoldAfterImport(t, e.region("07").easit.URL())
			e.editConfig(e.region("07").easit.URL(), proxy.URL)
			crashStart(t, e, bin, "sync").killWhen(proxy.applied)
			proxy.holding.Store(false)
			crashExpect(t, e, "after the kill", "07", "55", adult, crashTicket{
				Status: resolved, Updates: 1, Comments: 1, Audit: 1, Locks: 1, Locked: true,
			})

			// No need to wait for the lease: the ticket shows the update.
			res := crashRun(t, e, bin, "sync", "--json")
			if res.code != exitOK {
				t.Errorf("lockworker sync after the kill = %d, want 0; stderr:\n%s", res.code, res.stderr)
			}
			if got := crashActions(t, res.stdout)["07/55"]; got != "confirmed" {
				t.Errorf("the pass after the kill did %q with ticket 07/55, want confirmed", got)
			}
			want := crashTicket{Status: resolved, Updates: 1, Comments: 1, Audit: 1, Locks: 1, Locked: true, Confirmed: true}
			crashExpect(t, e, "after the pass that confirmed", "07", "55", adult, want)

			if res := crashRun(t, e, bin, "sync"); res.code != exitOK {
				t.Errorf("a further lockworker sync = %d, want 0; stderr:\n%s", res.code, res.stderr)
			}
			crashExpect(t, e, "after a further pass", "07", "55", adult, want)
		})
	}
}

// crashSetup returns an env whose configuration has a short Easit timeout
// and claim lease.
func crashSetup(t *testing.T, driver, dsn string) *env {
	t.Helper()
	e := setupStore(t, driver, dsn)
	e.editConfig("lockstore:\n", "lockstore:\n  claim_lease: "+crashClaimLease.String()+"\n")
	e.editConfig("\nschedule:", "\nlimits:\n  easit_timeout: "+crashEasitTimeout.String()+"\nschedule:")
	return e
}

// crashProcess is the built lockworker running as a process of its own.
type crashProcess struct {
	t              *testing.T
	cmd            *exec.Cmd
	stdout, stderr bytes.Buffer
	exited         chan struct{} // closed when the process has exited and its output is read
}

// crashStart starts the binary with args and the env's configuration and
// environment. The test's end kills it if it still runs.
func crashStart(t *testing.T, e *env, bin string, args ...string) *crashProcess {
	t.Helper()
	p := &crashProcess{t: t, exited: make(chan struct{})}
	p.cmd = exec.Command(bin, append(args, "--config", e.config)...)
	// LOCKWORKER_CONFIG of the one running the tests must not leak in.
	p.cmd.Env = append(os.Environ(), "LOCKWORKER_CONFIG=")
	for k, v := range e.vars {
		p.cmd.Env = append(p.cmd.Env, k+"="+v)
	}
	p.cmd.Stdout, p.cmd.Stderr = &p.stdout, &p.stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start lockworker %s: %v", strings.Join(args, " "), err)
	}
	go func() {
		_ = p.cmd.Wait() // the exit status is read from ProcessState
		close(p.exited)
	}()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill() // an error means it has exited already
		<-p.exited
	})
	return p
}

// crashRun runs the binary to its end.
func crashRun(t *testing.T, e *env, bin string, args ...string) result {
	t.Helper()
	return crashStart(t, e, bin, args...).wait(time.Minute)
}

// wait waits for the process to exit and returns what it gave. Its output
// must hold no personnummer in clear.
func (p *crashProcess) wait(timeout time.Duration) result {
	p.t.Helper()
	select {
	case <-p.exited:
	case <-time.After(timeout):
		// Its output can be read only once it has exited.
		_ = p.cmd.Process.Kill()
		<-p.exited
		p.t.Fatalf("lockworker %s still ran after %s; stderr:\n%s", strings.Join(p.cmd.Args[1:], " "), timeout, p.stderr.String())
	}
	res := result{code: p.cmd.ProcessState.ExitCode(), stdout: p.stdout.String(), stderr: p.stderr.String()}
	assertNoPersonnummer(p.t, "standard error of "+strings.Join(p.cmd.Args, " "), res.stderr)
	assertNoPersonnummer(p.t, "standard output of "+strings.Join(p.cmd.Args, " "), res.stdout)
	return res
}

// killWhen sends SIGKILL to the process when ready is closed, and fails the
// test if the process exits first.
func (p *crashProcess) killWhen(ready <-chan struct{}) {
	p.t.Helper()
	select {
	case <-ready:
	case <-p.exited:
		p.t.Fatalf("lockworker exited with %s before it was to be killed; stderr:\n%s", p.cmd.ProcessState, p.stderr.String())
	case <-time.After(30 * time.Second):
		p.t.Fatal("lockworker did not reach the point where it was to be killed within 30s")
	}
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		p.t.Fatalf("send SIGKILL: %v", err)
	}
	p.wait(10 * time.Second)
	if ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus); !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		p.t.Fatalf("lockworker ended with %s, not by SIGKILL: it was not killed in the act; stderr:\n%s", p.cmd.ProcessState, p.stderr.String())
	}
}

// crashHolder is a proxy in front of a fake Easit. While holding, it
// passes an import on, lets Easit carry it out, and then keeps Easit's
// answer back until the client goes away.
type crashHolder struct {
	*httptest.Server
	holding atomic.Bool
	// applied is closed when Easit has carried out the first import held.
	applied chan struct{}
	once    gosync.Once
}

// crashHoldAfterImport starts a crashHolder, holding, in front of the fake
// Easit at easitURL.
func crashHoldAfterImport(t *testing.T, easitURL string) *crashHolder {
	t.Helper()
	target, err := url.Parse(easitURL)
	if err != nil {
		t.Fatal(err)
	}
	h := &crashHolder{applied: make(chan struct{})}
	h.holding.Store(true)
	proxy := httputil.NewSingleHostReverseProxy(target)
	proxy.ModifyResponse = func(resp *http.Response) error {
		if resp.Request.Method != http.MethodPost || !h.holding.Load() {
			return nil
		}
		h.once.Do(func() { close(h.applied) })
		<-resp.Request.Context().Done()
		return context.Cause(resp.Request.Context())
	}
	// The client that a held answer was for is gone: there is no one to
	// tell, and nothing to log.
	proxy.ErrorHandler = func(w http.ResponseWriter, _ *http.Request, _ error) { w.WriteHeader(http.StatusBadGateway) }
	h.Server = httptest.NewServer(proxy)
	t.Cleanup(h.Close)
	return h
}

// crashTicket is what became of one order: its ticket in Easit, its
// decisions in the lock store, and its person's locks.
type crashTicket struct {
	Status    string // the ticket's status in Easit
	Updates   int    // the imports Easit carried out on the ticket
	Comments  int    // the comments in the ticket's log
	Audit     int    // the decisions on the ticket in the audit trail
	Locks     int    // the person's locks, active and lifted
	Locked    bool   // what `lockworker status` says of the person
	Confirmed bool   // whether the ledger holds the ticket's update as confirmed
}

// crashExpect checks what became of the order on ticket code/id for number.
func crashExpect(t *testing.T, e *env, when, code, id, number string, want crashTicket) {
	t.Helper()
	fake := e.region(code).easit
	store := crashStore(t, e)
	pn, err := lockworker.ParsePersonnummer(number, time.Now())
	if err != nil {
		t.Fatalf("a test number does not parse: %v", err)
	}
	audit, err := store.Audit(t.Context(), lockworker.AuditFilter{Region: code, Ticket: id})
	if err != nil {
		t.Fatalf("read the audit trail: %v", err)
	}
	locks, err := store.Locks(t.Context(), pn)
	if err != nil {
		t.Fatalf("read the locks: %v", err)
	}
	got := crashTicket{
		Status:    fake.Status(id),
		Updates:   fake.Updates(id),
		Comments:  len(fake.Comments(id)),
		Audit:     len(audit),
		Locks:     len(locks),
		Locked:    e.status(number)["locked"] == true,
		Confirmed: crashLedger(t, store, code, id).Confirmed(),
	}
	if got != want {
		t.Errorf("%s, ticket %s/%s is\n\t%+v\nwant\n\t%+v", when, code, id, got, want)
	}
}

// crashLedger returns the ledger entry of a ticket that was decided.
func crashLedger(t *testing.T, store *lockstore.Store, code, id string) lockworker.LedgerEntry {
	t.Helper()
	entry, found, err := store.Ledger(t.Context(), code, id)
	if err != nil || !found {
		t.Fatalf("the ledger entry of ticket %s/%s: found %v, %v; want one", code, id, found, err)
	}
	return entry
}

// crashStore opens the env's lock store until the test ends.
func crashStore(t *testing.T, e *env) *lockstore.Store {
	t.Helper()
	return lockstoretest.Open(t, e.driver, e.dsn, lockstore.Options{})
}

// crashActions returns what a pass printed with --json did with each order,
// by region and ticket ("07/55").
func crashActions(t *testing.T, stdout string) map[string]string {
	t.Helper()
	actions := map[string]string{}
	for _, r := range parseSummary(t, stdout).Regions {
		for _, o := range r.Orders {
			actions[r.Code+"/"+o.Ticket] = o.Action
		}
	}
	return actions
}
