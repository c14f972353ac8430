package main

import (
	"encoding/json"
	"errors"
	"io"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	gosync "sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/lockworker/lockworker/sync"
)

// demo --serve, run as the built binary, as the README shows it: it prints
// the admin API's URLs, a fresh admin token and a configuration; the URLs
// answer, the passes carry out the sample orders it keeps adding, the
// configuration serves the other commands meanwhile, and Ctrl-C stops it with
// exit status 0, leaving nothing behind. Its logs give its version at start,
// and times in UTC even on a host in Swedish time.
func TestDemoServeBinary(t *testing.T) {
	bin := builtBinary(t)
	t.Parallel()
	cmd := exec.Command(bin, "demo", "--serve", "--listen", "127.0.0.1:0",
		"--schedule", "@every 1s", "--every", "300ms", "--log-level", "info")
	cmd.Env = append(os.Environ(), "LOCKWORKER_CONFIG=", "TZ=Europe/Stockholm")
	p := startBinary(t, cmd)
	stdout, stderr := &p.stdout, &p.stderr

	waitFor(t, 30*time.Second, "the demo prints how to reach it", func() (bool, string) {
		return strings.Contains(stdout.String(), "Ctrl-C stops."), "stdout:\n" + stdout.String() + "\nstderr:\n" + stderr.String()
	})
	printed := stdout.String()
	admin := demoPrinted(t, printed, `(?m)^  (http://127\.0\.0\.1:\d+)/healthz$`)
	token := demoPrinted(t, printed, `(?m)^Admin token: (\S+)$`)
	configPath := demoPrinted(t, printed, `(?m)^  lockworker audit --config (\S+)$`)
	if len(token) < 32 {
		t.Errorf("the admin token %q has %d characters, want at least 32", token, len(token))
	}
	for _, url := range []string{admin + "/readyz", admin + "/metrics", admin + "/sync (POST"} {
		if !strings.Contains(printed, "  "+url) {
			t.Errorf("the demo does not print %s:\n%s", url, printed)
		}
	}
	for _, region := range []string{"07 Region Kronoberg: easit.url http://127.0.0.1:", "12 Region Skåne: easit.url http://127.0.0.1:"} {
		if !strings.Contains(printed, region) {
			t.Errorf("the demo does not print the sample region %q:\n%s", region, printed)
		}
	}

	s := &serving{t: t, admin: admin, token: token}
	if code, body := s.get("/healthz"); code != http.StatusOK {
		t.Errorf("GET /healthz = %d %q, want 200", code, body)
	}
	if code, _ := s.post("/sync", ""); code != http.StatusUnauthorized {
		t.Errorf("POST /sync without the token = %d, want 401", code)
	}
	if page := demoPrinted(t, printed, `(?m)^The ops page .*:\n  (http://\S+)$`); page != admin+"/" {
		t.Errorf("the demo prints the ops page at %q, want %q", page, admin+"/")
	}
	if code, body := s.do(http.MethodGet, "/", "Bearer "+token); code != http.StatusOK || !strings.Contains(body, "Region Kronoberg") {
		t.Errorf("GET / with the token = %d, want 200 and the overview:\n%s", code, body)
	}
	if sum := s.sync(""); !sum.OK || len(sum.Regions) != 2 {
		t.Errorf("POST /sync with the printed token: ok %v, %d regions; want a good pass over the 2 sample regions", sum.OK, len(sum.Regions))
	}
	waitFor(t, 30*time.Second, "GET /readyz answers 200", func() (bool, string) {
		code, body := s.get("/readyz")
		return code == http.StatusOK, "GET /readyz = " + http.StatusText(code) + " " + body
	})
	if fams := s.metrics(); metricValue(fams, "lockworker_passes_total", map[string]string{"trigger": "manual"}) < 1 {
		t.Errorf("GET /metrics counts no manual pass")
	}

	// The orders the demo adds get carried out; the printed configuration
	// reads the demo's lock store meanwhile.
	waitFor(t, 60*time.Second, "a pass resolves the added orders 07/1001 and 12/2001", func() (bool, string) {
		out, err := exec.Command(bin, "audit", "--json", "--config", configPath).Output()
		if err != nil {
			return false, "lockworker audit --json: " + err.Error()
		}
		resolved := map[string]bool{}
		for line := range strings.Lines(string(out)) {
			var entry struct{ Region, Ticket, Outcome string }
			if err := json.Unmarshal([]byte(line), &entry); err != nil {
				return false, "lockworker audit --json printed " + line
			}
			resolved[entry.Region+"/"+entry.Ticket] = entry.Outcome == "resolved"
		}
		return resolved["07/1001"] && resolved["12/2001"], "audit trail:\n" + string(out)
	})
	if out, err := exec.Command(bin, "check", "--config", configPath).CombinedOutput(); err != nil {
		t.Errorf("lockworker check with the printed configuration: %v\n%s", err, out)
	}
	if !regexp.MustCompile(`(?m)^\d{4}-\d\d-\d\d \d\d:\d\d CES?T  new order in Region Kronoberg \(07\), ticket 1001: Låsa inloggning`).MatchString(stdout.String()) {
		t.Errorf("the demo does not say when it added order 07/1001:\n%s", stdout.String())
	}

	if took, err := p.stop(t, os.Interrupt); err != nil {
		t.Errorf("%s after Ctrl-C the demo exited with %v, want status 0; stderr:\n%s", took.Round(time.Millisecond), err, stderr.String())
	}
	if !strings.HasSuffix(stdout.String(), "Stopped.\n") {
		t.Errorf("the demo's output ends %q, want Stopped.", lastLine(stdout.String()))
	}
	if _, err := os.Stat(filepath.Dir(configPath)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the demo left its directory %s behind (%v)", filepath.Dir(configPath), err)
	}

	events := logEvents(t, stderr.String())
	if len(events) == 0 || events[0]["message"] != "lockworker serve starting" || events[0]["version"] != "v1.2.3-test" {
		t.Errorf("the first log event is %v, want the start with the version v1.2.3-test", events[:min(1, len(events))])
	}
	for _, ev := range events {
		at, _ := ev["time"].(string)
		if _, err := time.Parse(time.RFC3339, at); err != nil || !strings.HasSuffix(at, "Z") {
			t.Errorf("log event %v: time %q, want RFC 3339 in UTC", ev, at)
			break
		}
	}
	assertNoPersonnummer(t, "the demo's logs", stderr.String())
}

// demoPrinted returns the first submatch of pattern in what the demo
// printed, failing the test without it.
func demoPrinted(t *testing.T, printed, pattern string) string {
	t.Helper()
	m := regexp.MustCompile(pattern).FindStringSubmatch(printed)
	if m == nil {
		t.Fatalf("the demo printed nothing like %s:\n%s", pattern, printed)
	}
	return m[1]
}

// waitFor polls cond until it holds, failing the test with cond's last word
// if it does not within timeout.
func waitFor(t *testing.T, timeout time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		ok, why := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s: %s", what, timeout, why)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// runningBinary is the built lockworker running as a process of its own,
// its output in buffers that the test may read meanwhile.
type runningBinary struct {
	cmd            *exec.Cmd
	stdout, stderr lockedBuffer
	done           chan struct{} // closed when the process has exited
	err            error         // how it exited, once done is closed
}

// startBinary starts cmd; the test's end kills it if it still runs.
func startBinary(t *testing.T, cmd *exec.Cmd) *runningBinary {
	t.Helper()
	p := &runningBinary{cmd: cmd, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = &p.stdout, &p.stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", strings.Join(cmd.Args, " "), err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

// stop sends sig and returns how long the process took to exit and how;
// the test fails at once if it still runs 15s later.
func (p *runningBinary) stop(t *testing.T, sig os.Signal) (time.Duration, error) {
	t.Helper()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("send %s: %v", sig, err)
	}
	start := time.Now()
	select {
	case <-p.done:
		return time.Since(start), p.err
	case <-time.After(15 * time.Second):
		t.Fatalf("%s still runs 15s after %s; stderr:\n%s", strings.Join(p.cmd.Args, " "), sig, p.stderr.String())
		return 0, nil
	}
}

// The orders that demo --serve adds tell, in each region in turn, a lock, an
// unlock of that lock, and a lock whose form is signed only after a pass
// found it unsigned; each is carried out by the passes between them.
func TestDemoFeed(t *testing.T) {
	t.Parallel()
	// A minute passes between the passes, as between the demo's own; the
	// pass right after an update would leave the ticket for the next, since
	// its view may predate the update.
	var mu gosync.Mutex
	at := time.Now()
	now := func() time.Time { mu.Lock(); defer mu.Unlock(); return at }
	a := &app{stdout: io.Discard, stderr: io.Discard, getenv: noEnv, now: now}
	d, err := a.newDemo(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer d.close()
	syncer := &sync.Syncer{Store: d.store, Policy: demoPolicy, Log: zerolog.Nop(), Now: a.now}
	for _, r := range d.regions {
		syncer.Regions = append(syncer.Regions, r.syncRegion())
	}
	if _, err := syncer.RunOnce(t.Context(), sync.Options{}); err != nil { // the built-in sample orders
		t.Fatal(err)
	}
	feed := &demoFeed{demo: d, now: a.now, people: demoPeople(a.now()), next: map[string]int{}}
	region := map[string]*demoRegion{}
	for _, r := range d.regions {
		region[r.code] = r
	}

	steps := []struct {
		said []string          // what the two orders added say
		want map[string]string // what the pass after them gives each ticket ("07/1001")
	}{
		{[]string{"Region Kronoberg (07), ticket 1001: Låsa inloggning, its form signed", "Region Skåne (12), ticket 2001: Låsa inloggning, its form signed"},
			map[string]string{"07/1001": "lock resolved", "12/2001": "lock resolved"}},
		{[]string{"(07), ticket 1002: Häva låsning, its form signed", "(12), ticket 2002: Häva låsning, its form signed"},
			map[string]string{"07/1002": "unlock resolved", "12/2002": "unlock resolved"}},
		{[]string{"(07), ticket 1003: Låsa inloggning, its form not yet signed", "(12), ticket 2003: Låsa inloggning, its form not yet signed; the form of 07 ticket 1003 is signed now"},
			map[string]string{"07/1003": "lock resolved", "12/2003": "lock waiting form_unsigned"}},
		{[]string{"(07), ticket 1004: Låsa inloggning, its form signed; the form of 12 ticket 2003 is signed now", "(12), ticket 2004: Låsa inloggning, its form signed"},
			map[string]string{"07/1004": "lock resolved", "12/2003": "lock resolved", "12/2004": "lock resolved"}},
	}
	for i, step := range steps {
		mu.Lock()
		at = at.Add(time.Minute)
		mu.Unlock()
		for _, want := range step.said {
			said, err := feed.add(t.Context())
			if err != nil || !strings.Contains(said, want) {
				t.Fatalf("step %d: the feed added %q (%v), want %q", i+1, said, err, want)
			}
		}
		sum, err := syncer.RunOnce(t.Context(), sync.Options{})
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for _, rs := range sum.Regions {
			for _, o := range rs.Orders {
				id := rs.Code + "/" + o.Ticket
				if _, ok := step.want[id]; ok {
					got[id] = strings.TrimSpace(string(o.Kind) + " " + string(o.Outcome) + " " + string(o.Reason))
				}
			}
		}
		if !maps.Equal(got, step.want) {
			t.Errorf("step %d: the pass gave %v, want %v", i+1, got, step.want)
		}
		for id, want := range step.want {
			code, ticket, _ := strings.Cut(id, "/")
			comments := region[code].easit.Comments(ticket)
			prefix := "Klart: "
			if strings.Contains(want, "waiting") {
				prefix = "Väntar på blankett "
			}
			if len(comments) == 0 || !strings.HasPrefix(comments[len(comments)-1], prefix) {
				t.Errorf("step %d: ticket %s has the comments %q, want the last to begin %q", i+1, id, comments, prefix)
			}
		}
	}
}
