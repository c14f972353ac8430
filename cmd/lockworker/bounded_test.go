package main

import (
	"bytes"
	"net/url"
	"os"
	"os/exec"
	"strings"
	gosync "sync"
	"syscall"
	"testing"
	"time"

	"github.com/lockworker/lockworker/easit"
	"github.com/lockworker/lockworker/easit/easittest"
	"github.com/lockworker/lockworker/lockstore/lockstoretest"
)

// A PostgreSQL that accepts connections and never answers is an error of
// every command within the connect timeout, not a hang.
func TestAStoreThatNeverAnswersIsAnErrorWithinSeconds(t *testing.T) {
	t.Parallel()
	bin := builtBinary(t)
	silent := lockstoretest.NewProxy(t, "")
	e := setupStore(t, "postgres", "postgres://lockworker@"+silent.Addr()+"/lockworker?sslmode=disable")
	e.editConfig("lockstore:\n", "lockstore:\n  connect_timeout: 1s\n")
	for _, args := range [][]string{{"sync"}, {"sync", "--dry-run"}, {"status", adult}, {"migrate"}} {
		var stderr bytes.Buffer
		cmd := exec.CommandContext(t.Context(), bin, append(args, "--config", e.config)...)
		cmd.Env = append(os.Environ(), "LOCKWORKER_CONFIG=", "EASIT_07_KEY=easit-key-07", "EASIT_12_KEY=easit-key-12")
		cmd.Stderr = &stderr
		start := time.Now()
		err := cmd.Run()
		took := time.Since(start)
		if code := cmd.ProcessState.ExitCode(); err == nil || code != exitFailed || !strings.Contains(stderr.String(), "lock store") {
			t.Errorf("lockworker %s against a silent PostgreSQL = %d (%v), stderr %q; want 1 naming the lock store", strings.Join(args, " "), code, err, stderr.String())
		}
		if took > 30*time.Second {
			t.Errorf("lockworker %s against a silent PostgreSQL took %s", strings.Join(args, " "), took)
		}
		t.Logf("lockworker %s: exit %d after %s", args[0], cmd.ProcessState.ExitCode(), took.Round(time.Millisecond))
	}
}

// SIGTERM stops serve with status 0 within 5 seconds even while Easit holds
// the pass's update and the lock store has stopped answering.
func TestServeStopsWithinFiveSecondsWhateverTheStoreAndEasitDo(t *testing.T) {
	t.Parallel()
	bin := builtBinary(t)
	dsn := lockstoretest.PostgresDSN(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	proxy := lockstoretest.NewProxy(t, u.Host)
	e := setupStore(t, "postgres", proxy.DSN(t, dsn))
	e.accounts(adult)
	e.order("07", "55", lockKind, adult)
	e.serviceConfig()

	// Easit takes the update in and holds it; meanwhile the store stops
	// answering.
	arrived := make(chan struct{})
	var once gosync.Once
	e.region("07").easit.SetFault(func(c easittest.Call) *easittest.Fault {
		if c.Op != easit.OpImport {
			return nil
		}
		once.Do(func() { close(arrived) })
		return &easittest.Fault{Delay: time.Minute}
	})
	var stderr lockedBuffer
	cmd := exec.Command(bin, "serve", "--config", e.config)
	cmd.Env = append(os.Environ(), "LOCKWORKER_CONFIG=")
	for k, v := range e.vars {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
	})
	select {
	case <-arrived:
	case <-time.After(30 * time.Second):
		t.Fatalf("the update did not reach Easit; stderr:\n%s", stderr.String())
	}
	proxy.Freeze()

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	select {
	case err := <-exited:
		if took := time.Since(start); err != nil || took > 5*time.Second {
			t.Errorf("after SIGTERM serve exited with %v after %s, want status 0 within 5s; stderr:\n%s", err, took.Round(time.Millisecond), stderr.String())
		} else {
			t.Logf("serve exited 0 %s after SIGTERM", took.Round(time.Millisecond))
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("serve still runs 20s after SIGTERM; stderr:\n%s", stderr.String())
	}
	assertNoPersonnummer(t, "standard error of serve", stderr.String())
}
