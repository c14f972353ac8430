package main

import (
	"database/sql"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/glebarez/go-sqlite"  // the "sqlite" database/sql driver
	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// tamper runs stmts on the env's database behind lockworker's back, as
// someone with rights on the database could, the append-only triggers
// dropped first.
func (e *env) tamper(stmts ...string) {
	e.t.Helper()
	driver, drop := "sqlite", []string{"DROP TRIGGER audit_entries_no_update", "DROP TRIGGER audit_entries_no_delete"}
	if e.driver == "postgres" {
		driver, drop = "pgx", []string{"DROP TRIGGER audit_entries_append_only ON audit_entries"}
	}
	db, err := sql.Open(driver, e.dsn)
	if err != nil {
		e.t.Fatal(err)
	}
	defer db.Close()
	for _, stmt := range append(drop, stmts...) {
		if _, err := db.ExecContext(e.t.Context(), stmt); err != nil {
			e.t.Fatalf("%s: %v", stmt, err)
		}
	}
}

// audit verify passes a whole chain and names the first entry changed,
// removed or inserted; on both databases.
func TestAuditVerify(t *testing.T) {
	t.Parallel()
	for _, store := range privacyStores {
		t.Run(store.driver, func(t *testing.T) {
			t.Parallel()
			for _, tt := range []struct {
				name, stmt, want string
			}{
				{"changed", "UPDATE audit_entries SET outcome = 'noop' WHERE seq = 2", "entry 2 was changed"},
				{"removed", "DELETE FROM audit_entries WHERE seq = 3", "entry 3 is missing"},
				{"inserted", `INSERT INTO audit_entries (at, pass, region, ticket, kind, outcome, reason, person_hash, person_sealed,
					reporter, reporter_hsa_id, form, signer, seq, category, actor, purpose, prev_hash, hash)
					SELECT at, pass, region, ticket, kind, outcome, reason, person_hash, person_sealed, reporter, reporter_hsa_id, form, signer,
					seq + 1, category, actor, purpose, hash, hash FROM audit_entries WHERE seq = (SELECT MAX(seq) FROM audit_entries)`,
					"was changed or inserted"},
			} {
				t.Run(tt.name, func(t *testing.T) {
					e := setupStore(t, store.driver, store.dsn(t))
					privacyPass(e)
					e.status(adult)
					res := e.run("audit", "verify")
					if res.code != exitOK || !strings.Contains(res.stdout, "chain is whole") || !strings.Contains(res.stdout, "fingerprint") {
						t.Fatalf("audit verify of a whole chain = %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
					}
					e.tamper(tt.stmt)
					res = e.run("audit", "verify")
					if res.code != exitFailed || !strings.Contains(res.stderr, tt.want) {
						t.Errorf("audit verify after an entry was %s = %d, stderr %q; want 1 and %q", tt.name, res.code, res.stderr, tt.want)
					}
				})
			}
		})
	}
}

// status, audit --reveal and extract are accesses in the audit trail, with
// the OS user and the reason; an extract lists one person's entries alone.
func TestAccessesAreLoggedAndExtracted(t *testing.T) {
	t.Parallel()
	for _, store := range privacyStores {
		t.Run(store.driver, func(t *testing.T) {
			t.Parallel()
			e := setupStore(t, store.driver, store.dsn(t))
			privacyPass(e)
			if res := e.run("status", otherAdult, "--reason", "samtal från invånaren"); res.code != exitOK {
				t.Fatalf("status = %d: %s", res.code, res.stderr)
			}
			if res := e.run("audit", "--reveal", "--ticket", "55"); res.code != exitOK {
				t.Fatalf("audit --reveal = %d: %s", res.code, res.stderr)
			}

			res := e.run("audit", "extract", otherAdult, "--json")
			var ex extract
			if err := json.Unmarshal([]byte(res.stdout), &ex); res.code != exitOK || err != nil {
				t.Fatalf("audit extract --json = %d, %v; stdout %q, stderr %q", res.code, err, res.stdout, res.stderr)
			}
			if ex.Personnummer != otherAdult || len(ex.Decisions) != 2 ||
				ex.Decisions[0].Order != "102" || ex.Decisions[0].Outcome != "genomförd" || ex.Decisions[0].Region != "Region Skåne (12)" ||
				ex.Decisions[1].Order != "103" || ex.Decisions[1].Kind != "hävning av låsningen" || ex.Decisions[0].Signer == "" {
				t.Errorf("the extract's decisions = %+v, want the lock of 102 and the unlock of 103", ex.Decisions)
			}
			if len(ex.Accesses) != 1 || ex.Accesses[0].Why != "samtal från invånaren" || ex.Accesses[0].Who != osUser() || ex.Accesses[0].Command != "lockworker status" {
				t.Errorf("the extract's accesses = %+v, want the one status, by %s, with its reason", ex.Accesses, osUser())
			}

			// The adult's extract: their own decision, the audit --reveal
			// that showed them, and none of the other adult's.
			html := e.dir + "/extract.html"
			if res := e.run("audit", "extract", adult, "--html", html); res.code != exitOK {
				t.Fatalf("audit extract --html = %d: %s", res.code, res.stderr)
			}
			page, err := os.ReadFile(html)
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"<html lang=\"sv\">", "Loggutdrag", adult, "<td>55</td>", "lockworker audit --reveal"} {
				if !strings.Contains(string(page), want) {
					t.Errorf("the HTML extract holds no %q:\n%s", want, page)
				}
			}
			if strings.Contains(string(page), otherAdult) || strings.Contains(string(page), "<td>102</td>") {
				t.Errorf("the adult's extract shows the other adult's entries:\n%s", page)
			}

			// The extracts were accesses too: a text extract now lists the
			// status and the JSON extract.
			res = e.run("audit", "extract", otherAdult)
			if res.code != exitOK || !strings.Contains(res.stdout, "Åtkomster till uppgifterna (2)") || !strings.Contains(res.stdout, "lockworker audit extract") {
				t.Errorf("audit extract = %d, stdout:\n%s\nwant the status and the earlier extract among the accesses", res.code, res.stdout)
			}
			t.Logf("the extract:\n%s", res.stdout)
			if res := e.run("audit", "verify"); res.code != exitOK {
				t.Errorf("audit verify after the accesses = %d: %s", res.code, res.stderr)
			}
		})
	}
}

// purge removes what is older than the retention, keeps active locks and
// their history, and leaves a chain that verifies from its checkpoint.
func TestPurge(t *testing.T) {
	t.Parallel()
	for _, store := range privacyStores {
		t.Run(store.driver, func(t *testing.T) {
			t.Parallel()
			e := setupStore(t, store.driver, store.dsn(t))
			privacyPass(e)
			e.write("lockworker.yaml", e.configYAML()+"retention: {audit: 1s, passes: 1s}\n")
			time.Sleep(1100 * time.Millisecond) // let the pass age past the retention
			res := e.run("purge")
			if res.code != exitOK || !strings.Contains(res.stdout, "passes") {
				t.Fatalf("purge = %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
			}
			if res := e.run("audit", "verify"); res.code != exitOK {
				t.Errorf("audit verify after the purge = %d, stderr %q", res.code, res.stderr)
			}
			if state := e.status(adult); state["locked"] != true {
				t.Errorf("status of the adult after the purge = %v, want locked", state)
			}
			res = e.run("audit", "extract", adult, "--json")
			var ex extract
			if err := json.Unmarshal([]byte(res.stdout), &ex); err != nil || len(ex.Decisions) != 1 || ex.Decisions[0].Order != "55" {
				t.Errorf("the adult's extract after the purge = %+v, %v; want the lock of 55 kept", ex.Decisions, err)
			}
			st := e.openStore()
			defer st.Close()
			passes, err := st.Passes(t.Context(), 0)
			if err != nil || len(passes) != 0 {
				t.Errorf("passes after the purge = %d, %v; want none", len(passes), err)
			}
		})
	}
}

// accounts import --replace makes the accounts the file's but for a locked
// person's; count and remove work; each run is an audit entry.
func TestAccountsReplaceCountRemove(t *testing.T) {
	t.Parallel()
	e := setup(t)
	e.accounts(adult, otherAdult, child)
	e.order("07", "55", lockKind, adult)
	e.sync()

	bad := e.write("bad.txt", otherAdult+"\n19990807\n")
	if res := e.run("accounts", "import", "--replace", bad); res.code != exitFailed || !strings.Contains(res.stderr, "nothing replaced") {
		t.Errorf("accounts import --replace with an invalid line = %d, stderr %q; want 1 and nothing replaced", res.code, res.stderr)
	}
	file := e.write("replace.txt", otherAdult+"\n"+noAccount+"\n")
	res := e.run("accounts", "import", "--replace", file)
	if res.code != exitOK || !strings.Contains(res.stdout, "1 added, 1 removed, 1 kept because the person is locked") || !strings.Contains(res.stdout, "kept, locked: pn-") {
		t.Errorf("accounts import --replace = %d, stdout %q, stderr %q; want the child removed, the locked adult kept and reported", res.code, res.stdout, res.stderr)
	}
	if res := e.run("accounts", "count"); res.code != exitOK || res.stdout != "3 accounts\n" {
		t.Errorf("accounts count = %d, %q; want 3 accounts", res.code, res.stdout)
	}
	if res := e.run("accounts", "remove", adult); res.code != exitFailed || !strings.Contains(res.stdout, "locked") {
		t.Errorf("accounts remove of the locked adult = %d, %q; want 1 and the account kept", res.code, res.stdout)
	}
	if res := e.run("accounts", "remove", otherAdult); res.code != exitOK || res.stdout != "account removed\n" {
		t.Errorf("accounts remove = %d, %q; want the account removed", res.code, res.stdout)
	}
	// The child has no account now: a lock order for them goes to manual
	// handling.
	e.order("07", "56", lockKind, child)
	if rows := summaryRows(t, e.sync().stdout); rows["07/56"][3] != "no_account" {
		t.Errorf("the child's order after the replace = %q, want no_account", rows["07/56"])
	}
	// Each run is in the chain: the replace, the count, two removals
	// (one naming the other adult, whose extract shows it).
	ex := e.run("audit", "extract", otherAdult)
	if !strings.Contains(ex.stdout, "lockworker accounts remove: account removed") {
		t.Errorf("the other adult's extract does not show the removal:\n%s", ex.stdout)
	}
	if res := e.run("audit", "verify"); res.code != exitOK {
		t.Errorf("audit verify = %d: %s", res.code, res.stderr)
	}
}
