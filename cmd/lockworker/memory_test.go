package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// maxPassMemory is what a pass may take, whatever the outside systems send.
const maxPassMemory = 200 << 20

// A pass of the built binary against an Easit whose view is pages of tiny
// properties up to the size limit, page after page, and a form service
// whose answers never end, stays under maxPassMemory: every answer is read
// through a limit, a view in all through four times that, and nothing of an
// item but its properties is kept.
func TestAPassStaysWithinItsMemoryWhateverThePeersSend(t *testing.T) {
	t.Parallel()
	// Properties no order field reads, and properties all named after one
	// that a ticket keeps every value of.
	for _, name := range []string{"x", "Personnummer"} {
		t.Run(name, func(t *testing.T) { passWithinMemory(t, name) })
	}
}

func passWithinMemory(t *testing.T, property string) {
	if runtime.GOOS != "linux" {
		t.Skip("reads the peak memory of a process from /proc")
	}
	bin := builtBinary(t)
	e := setup(t)
	e.accounts(adult, otherAdult)
	e.order("12", "101", lockKind, adult)
	e.order("12", "102", lockKind, otherAdult)

	// The view has every column an order needs, so that it is read on.
	var cols []string
	for _, name := range []string{"Id", "Status", "Ärendetyp", "Personnummer", "Anmälare", "Anmälarens HSA-id", "Blankettreferens", "Skapad"} {
		cols = append(cols, fmt.Sprintf(`{"content":%q,"datatype":"STRING","collection":false}`, name))
	}
	columns := `"columns":{"column":[` + strings.Join(cols, ",") + `]}`
	// Easit 07: every page just under the default limit of 8 MiB, dense
	// with properties, each with an attachment, of a view of 100 pages.
	const limit = 8 << 20
	page := func(n int) []byte {
		var b bytes.Buffer
		fmt.Fprintf(&b, `{"items":{"item":[`)
		for i := 0; b.Len() < limit-64<<10; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			fmt.Fprintf(&b, `{"id":"13:%d-%d","property":[`, n, i)
			for j := range 100 {
				if j > 0 {
					b.WriteByte(',')
				}
				fmt.Fprintf(&b, `{"name":%q,"content":"y"}`, property)
			}
			b.WriteString(`],"attachment":[{"name":"a.pdf","data":"QUFB"}]}`)
		}
		fmt.Fprintf(&b, `]},%s,"page":%d,"totalNumberOfPages":100}`, columns, n)
		return b.Bytes()
	}
	pages := map[int][]byte{}
	for n := 1; n <= 5; n++ {
		pages[n] = page(n)
	}
	easit := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req struct{ Page int }
		_ = decodeBody(r, &req)
		if p, ok := pages[req.Page]; ok {
			_, _ = w.Write(p)
		}
	}))
	t.Cleanup(easit.Close)
	e.editConfig("url: "+e.region("07").easit.URL(), "url: "+easit.URL)

	// The form service of 12: each answer a DocumentReference whose
	// attachment never ends.
	forms := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"resourceType":"DocumentReference","content":[{"attachment":{"data":"`)
		chunk := strings.Repeat("QUFB", 16<<10)
		for r.Context().Err() == nil {
			if _, err := fmt.Fprint(w, chunk); err != nil {
				return
			}
		}
	}))
	t.Cleanup(forms.Close)
	e.editConfig("url: "+e.region("12").forms.URL(), "url: "+forms.URL+"/fhir")

	var stdout, stderr bytes.Buffer
	cmd := exec.CommandContext(t.Context(), bin, "sync", "--config", e.config)
	cmd.Env = append(cmd.Environ(), "EASIT_07_KEY=easit-key-07", "EASIT_12_KEY=easit-key-12", "LOCKWORKER_CONFIG=")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	peak := peakMemory(cmd.Process.Pid)
	_ = cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != exitFailed {
		t.Fatalf("sync exited %d, want %d; stdout:\n%s\nstderr:\n%s", code, exitFailed, stdout.String(), lastLine(stderr.String()))
	}
	if !strings.Contains(stdout.String(), "more than 33554432 bytes") || strings.Count(stderr.String(), "response body too large") < 2 {
		t.Errorf("sync did not meet the limits it was meant to:\n%s", stdout.String())
	}
	t.Logf("peak memory of the pass: %d MiB", peak()>>20)
	if peak() == 0 {
		t.Fatal("the pass's memory could not be read from /proc")
	}
	if p := peak(); p > maxPassMemory {
		t.Errorf("the pass took %d MiB at its peak, more than %d MiB", p>>20, maxPassMemory>>20)
	}
}

// decodeBody reads a request's JSON body into v.
func decodeBody(r *http.Request, v any) error { return json.NewDecoder(r.Body).Decode(v) }

// peakMemory follows the process's peak resident set size (VmHWM, which the
// kernel keeps for the program since it was exec'd, unlike the rusage of a
// child, which counts the parent it was forked from) until it exits, and
// returns a function that gives the last reading.
func peakMemory(pid int) func() int64 {
	var peak int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
			kib, found := int64(0), false
			for line := range strings.Lines(string(data)) {
				if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
					kib, _ = strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
					found = true
				}
			}
			if err != nil || !found {
				return // exited: its memory is gone, and with it VmHWM
			}
			peak = max(peak, kib<<10)
			time.Sleep(5 * time.Millisecond)
		}
	}()
	return func() int64 {
		<-done
		return peak
	}
}
