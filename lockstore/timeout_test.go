package lockstore_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/lockworker/lockworker"
	"github.com/lockworker/lockworker/lockstore"
	"github.com/lockworker/lockworker/lockstore/lockstoretest"
)

// within is far more than any timeout of these tests, and far less than for
// ever: the bound a store that does not answer must be an error within.
const within = 30 * time.Second

// A PostgreSQL that accepts connections and never answers is an error of
// Open and OpenReadOnly within the connect timeout.
func TestAStoreThatAcceptsAndNeverAnswersIsAnError(t *testing.T) {
	t.Parallel()
	silent := lockstoretest.NewProxy(t, "")
	dsn := "postgres://lockworker@" + silent.Addr() + "/lockworker?sslmode=disable"
	opts := lockstore.Options{ConnectTimeout: 500 * time.Millisecond}
	for name, open := range map[string]func() (*lockstore.Store, error){
		"Open":         func() (*lockstore.Store, error) { return lockstore.Open(t.Context(), "postgres", dsn, opts) },
		"OpenReadOnly": func() (*lockstore.Store, error) { return lockstore.OpenReadOnly(t.Context(), "postgres", dsn, opts) },
	} {
		start := time.Now()
		s, err := open()
		took := time.Since(start)
		if err == nil {
			s.Close()
			t.Errorf("%s of a PostgreSQL that never answers: no error", name)
		}
		if took > within {
			t.Errorf("%s of a PostgreSQL that never answers took %s", name, took)
		}
		t.Logf("%s: %v after %s", name, err, took.Round(time.Millisecond))
	}
}

// A store that stops answering once open fails each call within the
// statement timeout.
func TestAStoreThatStopsAnsweringFailsEachCall(t *testing.T) {
	t.Parallel()
	dsn := lockstoretest.PostgresDSN(t)
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	proxy := lockstoretest.NewProxy(t, u.Host)
	s, err := lockstore.Open(t.Context(), "postgres", proxy.DSN(t, dsn), lockstore.Options{StatementTimeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	proxy.Freeze()
	start := time.Now()
	if _, _, err := s.Ledger(t.Context(), "07", "55"); err == nil {
		t.Error("Ledger on a store that stopped answering: no error")
	}
	if err := s.Record(t.Context(), lockOrder("55", anna, start)); err == nil {
		t.Error("Record on a store that stopped answering: no error")
	}
	if _, err := s.ClaimUpdate(t.Context(), "07", "55", 1, lockworker.Mark(0)); err == nil {
		t.Error("ClaimUpdate on a store that stopped answering: no error")
	}
	if took := time.Since(start); took > within {
		t.Errorf("three calls took %s", took)
	} else {
		t.Logf("three calls failed in %s", took.Round(time.Millisecond))
	}
}
