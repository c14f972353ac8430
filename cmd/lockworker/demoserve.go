package main

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	gosync "sync"
	"time"

	"github.com/lockworker/lockworker"
	"github.com/lockworker/lockworker/config"
	"github.com/lockworker/lockworker/internal/skatteverket"
)

// demoServe is how `demo --serve` runs.
type demoServe struct {
	listen   string        // the admin listener's address
	schedule string        // when passes run
	every    time.Duration // how often a new sample order arrives
	logLevel string
}

// serveDemo runs the service against the sample regions until ctx is done:
// it writes a configuration of the sample regions, prints the admin API's
// URLs and a fresh admin token once the listener listens, and adds a new
// sample order every so often so that the passes have work.
func (a *app) serveDemo(ctx context.Context, opts demoServe) error {
	d, err := a.newDemo(ctx)
	if err != nil {
		return err
	}
	defer d.close()

	token := randomSecret()
	path, err := d.writeConfig(opts, token)
	if err != nil {
		return err
	}
	a.configPath = path
	cfg, err := a.loadConfig()
	if err != nil {
		return fmt.Errorf("the demo's configuration: %w", err)
	}
	log, err := a.newLogger(cfg)
	if err != nil {
		return err
	}

	ctx, stop := context.WithCancel(ctx)
	var feeding gosync.WaitGroup
	defer feeding.Wait()
	defer stop()
	feed := &demoFeed{demo: d, now: a.now, people: demoPeople(a.now()), next: map[string]int{}}
	listening := func(addr net.Addr) {
		writeDemoServe(a.stdout, d, opts, path, "http://"+addr.String(), token)
		feeding.Go(func() { feed.run(ctx, opts.every, a.stdout) })
	}
	if err := a.serve(ctx, cfg, d.store, log, listening); err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, "Stopped.")
	return nil
}

// randomSecret returns 32 random bytes in base64url: 43 characters.
func randomSecret() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // crypto/rand.Read never fails
	return base64.RawURLEncoding.EncodeToString(b)
}

// writeConfig writes the configuration of the sample regions, with the admin
// token and a fresh pseudonym key in files beside it, and returns its path.
// Other lockworker commands can use it while the demo runs.
func (d *demo) writeConfig(opts demoServe, token string) (string, error) {
	tokenFile := filepath.Join(d.dir, "admin-token")
	keyFile := filepath.Join(d.dir, "pseudonym-key")
	if err := os.WriteFile(tokenFile, []byte(token+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write the admin token: %w", err)
	}
	if err := os.WriteFile(keyFile, []byte(randomSecret()+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write the pseudonym key: %w", err)
	}

	var b strings.Builder
	fmt.Fprintf(&b, "# lockworker demo --serve: the built-in sample regions on loopback.\n")
	fmt.Fprintf(&b, "lockstore:\n  driver: sqlite\n  dsn: %q\n  data_key_file: %q\n", filepath.Join(d.dir, "lockworker.db"), d.dataKeyFile)
	fmt.Fprintf(&b, "schedule: %q\n", opts.schedule)
	fmt.Fprintf(&b, "regions:\n")
	for _, r := range d.regions {
		fmt.Fprintf(&b, "  - code: %q\n    name: %s\n    org_number: %q\n", r.code, r.name, r.org)
		fmt.Fprintf(&b, "    easit:\n      url: %s\n      api_key: %s\n      view: %s\n      import_handler: %s\n",
			r.easit.URL(), demoAPIKey, demoView, demoImportHandler)
		fmt.Fprintf(&b, "    forms:\n      url: %s\n      token: %s\n", r.forms.URL(), demoToken)
		fmt.Fprintf(&b, "      lock_form: {system: %q, code: %q}\n", demoLockForm.System, demoLockForm.Code)
		fmt.Fprintf(&b, "      unlock_form: {system: %q, code: %q}\n", demoUnlockForm.System, demoUnlockForm.Code)
	}
	fmt.Fprintf(&b, "admin:\n  listen: %q\n  token_file: %q\n", opts.listen, tokenFile)
	fmt.Fprintf(&b, "log:\n  level: %s\n  pseudonym_key_file: %q\n", opts.logLevel, keyFile)
	fmt.Fprintf(&b, "audit:\n  key_file: %q\n", d.auditKeyFile)

	path := filepath.Join(d.dir, "lockworker.yaml")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		return "", fmt.Errorf("write the demo's configuration: %w", err)
	}
	return path, nil
}

// writeDemoServe prints where the service and the sample regions answer,
// and how to try them.
func writeDemoServe(w io.Writer, d *demo, opts demoServe, config, admin, token string) {
	fmt.Fprintf(w, "lockworker demo --serve: the service runs against two sample regions on loopback.\n\n")
	fmt.Fprintf(w, "The admin API:\n")
	fmt.Fprintf(w, "  %s/healthz\n  %s/readyz\n  %s/metrics\n  %s/sync (POST, with the admin token)\n", admin, admin, admin, admin)
	fmt.Fprintf(w, "The ops page (for the admin token: it has no sign-in for people here):\n  %s/\n", admin)
	fmt.Fprintf(w, "Admin token: %s\n\n", token)
	fmt.Fprintf(w, "Try:\n")
	fmt.Fprintf(w, "  curl -X POST -H 'Authorization: Bearer %s' %s/sync\n", token, admin)
	fmt.Fprintf(w, "  curl -H 'Authorization: Bearer %s' %s/\n", token, admin)
	fmt.Fprintf(w, "  lockworker audit --config %s\n", config)
	fmt.Fprintf(w, "  lockworker check --config %s\n\n", config)
	fmt.Fprintf(w, "The sample regions, as the configuration above gives them:\n")
	for _, r := range d.regions {
		fmt.Fprintf(w, "  %s %s: easit.url %s (key %s, view %s, import handler %s), forms.url %s (token %s)\n",
			r.code, r.name, r.easit.URL(), demoAPIKey, demoView, demoImportHandler, r.forms.URL(), demoToken)
	}
	fmt.Fprintf(w, "\nA pass runs at once and then %s; a new sample order arrives every %s. Ctrl-C stops.\n\n",
		opts.schedule, opts.every)
}

// demoFeed adds new sample orders to the sample regions, in turn: a lock, an
// unlock of that lock, and a lock whose form is signed only after the order
// has waited for it.
type demoFeed struct {
	*demo
	now    func() time.Time
	people []string       // sample people not yet used
	next   map[string]int // by region code: the number of its next order
	// locked are the people each region has had locked and not yet
	// unlocked, oldest first, by region code.
	locked map[string][]string
	// unsigned is the order whose form is to be signed next.
	unsigned *demoPending
	n        int
}

// demoPending is a sample order whose form waits for its signature.
type demoPending struct {
	region *demoRegion
	order  demoOrder
}

// run adds an order every so often until ctx is done.
func (f *demoFeed) run(ctx context.Context, every time.Duration, w io.Writer) {
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			line, err := f.add(ctx)
			if err != nil {
				fmt.Fprintf(w, "%s  could not add a sample order: %v\n", lockworker.DisplayTime(f.now()), err)
				continue
			}
			fmt.Fprintf(w, "%s  %s\n", lockworker.DisplayTime(f.now()), line)
		}
	}
}

// add adds the next sample order, and signs the form of the one before if it
// waits for that; it says what it did.
func (f *demoFeed) add(ctx context.Context) (string, error) {
	now := f.now()
	var signed string
	if p := f.unsigned; p != nil {
		f.unsigned = nil
		p.order.form = "signed"
		p.region.forms.Put(p.region.form(p.order, now))
		signed = fmt.Sprintf("; the form of %s ticket %s is signed now", p.region.code, p.order.ticket)
	}

	i := f.n % len(f.regions)
	r := f.regions[i]
	step := (f.n / len(f.regions)) % 3
	f.n++
	if f.next[r.code] == 0 {
		f.next[r.code] = 1000 * (i + 1) // 1001, 1002, … in the first region
	}
	f.next[r.code]++
	o := demoOrder{ticket: strconv.Itoa(f.next[r.code]), kind: config.DefaultKinds.Lock, form: "signed"}
	switch {
	case step == 1 && len(f.locked[r.code]) > 0:
		o.kind, o.number = config.DefaultKinds.Unlock, f.locked[r.code][0]
		f.locked[r.code] = f.locked[r.code][1:]
	default:
		if len(f.people) == 0 {
			return "", fmt.Errorf("no sample people left")
		}
		o.number, f.people = f.people[0], f.people[1:]
		if err := addDemoAccounts(ctx, f.store, []string{o.number}, now); err != nil {
			return "", err
		}
		if f.locked == nil {
			f.locked = map[string][]string{}
		}
		f.locked[r.code] = append(f.locked[r.code], o.number)
		if step == 2 {
			o.form = "unsigned"
			f.unsigned = &demoPending{region: r, order: o}
		}
	}
	r.add(o, now)
	what := "its form signed"
	if o.form == "unsigned" {
		what = "its form not yet signed"
	}
	return fmt.Sprintf("new order in %s (%s), ticket %s: %s, %s%s", r.name, r.code, o.ticket, o.kind, what, signed), nil
}

// demoPeople are sample people for new orders: Skatteverket's test numbers,
// from the end of the list, that the built-in sample orders do not use.
func demoPeople(now time.Time) []string {
	used := slices.Clone(demoAccounts)
	for _, r := range demoRegions() {
		for _, o := range r.orders {
			if p, err := lockworker.ParsePersonnummer(o.number, now); err == nil {
				used = append(used, p.Reveal())
			}
		}
	}
	list := skatteverket.Personnummer()
	var people []string
	for i := len(list) - 1; i >= 0 && len(people) < demoPeopleMax; i-- {
		p, err := lockworker.ParsePersonnummer(list[i], now)
		if err != nil || p.IsSamordningsnummer() || slices.Contains(used, p.Reveal()) {
			continue
		}
		people = append(people, p.Reveal())
	}
	return people
}

// demoPeopleMax is how many sample people new orders may use: at one order
// every 20s, enough for well over a day.
const demoPeopleMax = 10000
