package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// accounts import reads one personnummer a line in any of its written forms,
// skipping blank lines and comments; importing again adds nothing.
func TestAccountsImport(t *testing.T) {
	t.Parallel()
	e := setup(t)
	file := e.write("accounts.txt", `# Existing 1177 accounts, exported from the login service.
199908072391

19640823-3234
   201801012392   
# born 1890, written with the century sign
900101+9802
`)

	res := e.run("accounts", "import", file)
	if want := "4 accounts read, 4 added, 0 already present, 0 lines skipped\n"; res.code != exitOK || res.stdout != want {
		t.Errorf("first import = %d, %q; want 0 and %q; stderr:\n%s", res.code, res.stdout, want, res.stderr)
	}
	res = e.run("accounts", "import", file)
	if want := "4 accounts read, 0 added, 4 already present, 0 lines skipped\n"; res.code != exitOK || res.stdout != want {
		t.Errorf("second import = %d, %q; want 0 and %q; stderr:\n%s", res.code, res.stdout, want, res.stderr)
	}

	// The accounts are stored by their 12-digit number: an order that gives
	// the number in another form finds the account.
	e.order("07", "55", lockKind, otherAdult)
	e.sync()
	if status := e.region("07").easit.Status("55"); status != resolved {
		t.Errorf("a lock order for an imported account: ticket status %q, want %q", status, resolved)
	}
}

// A line that is not a valid personnummer is reported by its line number,
// never its text, and skipped; the valid lines are imported all the same,
// and the exit status is 1.
func TestAccountsImportInvalidLines(t *testing.T) {
	t.Parallel()
	e := setup(t)
	file := e.write("accounts.txt", strings.Join([]string{
		"# line 1: a comment",
		adult,
		"19990807-2392", // line 3: a wrong check digit
		"",
		"Anna Andersson", // line 5: a name typed in the wrong place
		otherAdult,
	}, "\n"))

	res := e.run("accounts", "import", file)
	if want := "2 accounts read, 2 added, 0 already present, 2 lines skipped\n"; res.code != exitFailed || res.stdout != want {
		t.Errorf("import = %d, %q; want %d and %q", res.code, res.stdout, exitFailed, want)
	}
	for _, want := range []string{"accounts.txt:3: skipped: invalid personnummer", "accounts.txt:5: skipped: invalid personnummer"} {
		if !strings.Contains(res.stderr, want) {
			t.Errorf("stderr %q lacks %q", res.stderr, want)
		}
	}
	if n := strings.Count(res.stderr, "skipped"); n != 2 {
		t.Errorf("stderr reports %d skipped lines, want 2:\n%s", n, res.stderr)
	}
	for _, text := range []string{"19990807-2392", "Anna", "Andersson"} {
		if strings.Contains(res.stderr, text) {
			t.Errorf("stderr repeats the invalid line's %q:\n%s", text, res.stderr)
		}
	}

	// The valid lines were imported: importing them again adds nothing.
	again := e.write("again.txt", adult+"\n"+otherAdult+"\n")
	if res := e.run("accounts", "import", again); res.code != exitOK || !strings.Contains(res.stdout, "0 added, 2 already present") {
		t.Errorf("importing the valid lines again = %d, %q; want them already present", res.code, res.stdout)
	}
}

// An account file that cannot be read is a usage error.
func TestAccountsImportMissingFile(t *testing.T) {
	t.Parallel()
	e := setup(t)
	res := e.run("accounts", "import", filepath.Join(e.dir, "missing.txt"))
	if res.code != exitUsage || !strings.Contains(res.stderr, "missing.txt: no such file") {
		t.Errorf("import of a missing file = %d, %q; want %d and the file named", res.code, res.stderr, exitUsage)
	}
}
