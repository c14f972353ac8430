package sync_test

import (
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/lockworker/lockworker"
	"github.com/lockworker/lockworker/config"
	"github.com/lockworker/lockworker/cosmic"
	"github.com/lockworker/lockworker/cosmic/cosmictest"
	"github.com/lockworker/lockworker/easit"
	"github.com/lockworker/lockworker/easit/easittest"
	"github.com/lockworker/lockworker/sync"
)

// Secrets: the Easit API keys, their Basic credentials, the form service's
// tokens and the pseudonym key must reach no log line, no summary and no
// ticket, however a region fails.

// basicCredentials is what the Authorization header carries for an Easit
// API key: the key as user name, no password.
func basicCredentials(key string) string {
	return base64.StdEncoding.EncodeToString([]byte(key + ":"))
}

// leaks reports whether text holds any 8 characters in a row of secret, so
// that a secret cut short in a message counts too.
func leaks(text, secret string) bool {
	const window = 8
	for i := 0; i+window <= len(secret); i++ {
		if strings.Contains(text, secret[i:i+window]) {
			return true
		}
	}
	return false
}

// written collects everything passes wrote: their summaries, as a whole and
// the error and comment of each order, and the tickets' comments.
type written []string

func (wr *written) summary(sum sync.Summary) {
	data, _ := json.Marshal(sum) // strings and numbers only
	*wr = append(*wr, string(data))
	for _, r := range sum.Regions {
		*wr = append(*wr, r.Error)
		for _, o := range r.Orders {
			*wr = append(*wr, o.Error, o.Comment)
		}
	}
}

// easitEcho is an error page of a proxy in front of Easit that shows the
// request's credentials, as a debugging one might.
func easitEcho(key string) string {
	return "Request rejected. Headers: Authorization: Basic " + basicCredentials(key) + "; user=" + key
}

// formsEcho is an OperationOutcome that shows the request's token.
func formsEcho(t *testing.T, token string) []byte {
	return []byte(marshal(t, map[string]any{
		"resourceType": "OperationOutcome",
		"issue": []map[string]string{{
			"severity": "error", "code": "login",
			"diagnostics": "Invalid token in header Authorization: Bearer " + token,
		}},
	}))
}

// Not parallel: it sets the process's pseudonym key, on which the
// pseudonyms in every other test's logs depend. Go runs the tests that are
// not parallel before the parallel ones, so no other test is under way when
// the key changes.
func TestNoSecretReachesTheLogsTheSummaryOrATicket(t *testing.T) {
	pseudonymKey := []byte("pseudonym-key-3Hq7Lw2Zt9Xc4Vb8")
	if err := lockworker.SetPseudonymKey(pseudonymKey); err != nil {
		t.Fatal(err)
	}
	const (
		wrongKey   = "wrong-easit-key-Pd83Kq"
		wrongToken = "wrong-forms-token-Zm41Rt"
	)
	secrets := map[string]string{
		"the Easit API key":                  apiKey,
		"the Basic credentials of the key":   basicCredentials(apiKey),
		"a wrong Easit API key":              wrongKey,
		"the Basic credentials of the wrong": basicCredentials(wrongKey),
		"the form token":                     token,
		"a wrong form token":                 wrongToken,
		"the pseudonym key":                  string(pseudonymKey),
		"the pseudonym key in hex":           hex.EncodeToString(pseudonymKey),
		"the pseudonym key in base64":        base64.StdEncoding.EncodeToString(pseudonymKey),
	}

	w := setup(t)
	w.accounts(adult, otherAdult)
	w.add("07", w.lockOrder("07", "55", adult))
	w.add("12", w.lockOrder("12", "101", otherAdult))
	kronoberg, skane := &w.syncer.Regions[0], &w.syncer.Regions[1]
	var wr written

	// Configured with credentials the services refuse: 401 from both.
	desk, forms := kronoberg.Tickets, skane.Forms
	kronoberg.Tickets = easit.NewDesk(easit.NewClient(w.regions["07"].easit.URL(), wrongKey,
		easit.WithRetryWait(time.Millisecond, 5*time.Millisecond), easit.WithReadBudget(time.Second)),
		"VIS-1177-las", "VIS-1177-uppdatera", easit.Fields(config.DefaultFields))
	skane.Forms = cosmic.NewClient(w.regions["12"].forms.URL(), wrongToken,
		cosmic.WithRetryWait(time.Millisecond, 5*time.Millisecond), cosmic.WithReadBudget(time.Second))
	sum := w.pass()
	wr.summary(sum)
	if r := sum.Regions[0]; !strings.Contains(r.Error, "401") {
		t.Errorf("region 07's error = %q, want Easit's 401", r.Error)
	}
	if res := result(t, sum, "12", "101"); res.Reason != lockworker.ReasonFormsError || !strings.Contains(res.Error, "401") {
		t.Errorf("ticket 12/101: %s %s (%s), want the form service's 401", res.Outcome, res.Reason, res.Error)
	}
	kronoberg.Tickets, skane.Forms = desk, forms

	// Refused by services that echo the credentials in their answers.
	w.regions["07"].easit.SetFault(func(c easittest.Call) *easittest.Fault {
		return &easittest.Fault{Status: http.StatusUnauthorized, Body: easitEcho(apiKey)}
	})
	w.regions["12"].forms.SetFault(func(cosmictest.Call) *cosmictest.Fault {
		return &cosmictest.Fault{Status: http.StatusUnauthorized, Body: formsEcho(t, token)}
	})
	w.clock.Advance(2 * time.Minute)
	sum = w.pass()
	wr.summary(sum)
	if r := sum.Regions[0]; !strings.Contains(r.Error, "<api key>") {
		t.Errorf("region 07's error = %q, want the echo with the key blanked out", r.Error)
	}
	if res := result(t, sum, "12", "101"); !strings.Contains(res.Error, "<token>") {
		t.Errorf("ticket 12/101's error = %q, want the echo with the token blanked out", res.Error)
	}
	w.regions["12"].forms.SetFault(nil)

	// An update refused with an echo.
	w.regions["07"].easit.SetFault(failImports(easittest.Fault{Status: http.StatusBadGateway, Body: easitEcho(apiKey)}))
	w.clock.Advance(2 * time.Minute)
	sum = w.pass()
	wr.summary(sum)
	if res := result(t, sum, "07", "55"); res.Reason != lockworker.ReasonEasitError || !strings.Contains(res.Error, "<api key>") {
		t.Errorf("ticket 07/55: %s %s (%s), want the echo with the key blanked out", res.Outcome, res.Reason, res.Error)
	}
	w.expect(sum, "12", "101", lockworker.OutcomeResolved, lockworker.ReasonNone)
	for _, r := range w.regions {
		for _, ticket := range []string{"55", "101"} {
			wr = append(wr, r.easit.Comments(ticket)...)
		}
	}

	everything := strings.Join(append(wr, w.logs.String()), "\n")
	for what, secret := range secrets {
		if leaks(everything, secret) {
			t.Errorf("%s is in what the passes wrote", what)
		}
	}
}

// A service that echoes credentials near the end of a long answer, where an
// error message is cut (200 bytes), leaves no part of them in the message.
func TestASecretCutShortInAnErrorMessageDoesNotLeak(t *testing.T) {
	t.Parallel()
	w := setup(t)
	w.accounts(adult, otherAdult)
	w.add("07", w.lockOrder("07", "55", adult))
	w.add("12", w.lockOrder("12", "101", otherAdult))
	w.regions["07"].easit.SetFault(func(c easittest.Call) *easittest.Fault {
		// The Basic credentials begin at byte 190 of the answer.
		return &easittest.Fault{Status: http.StatusUnauthorized, Body: strings.Repeat("x", 141) + " " + easitEcho(apiKey)}
	})
	w.regions["12"].forms.SetFault(func(cosmictest.Call) *cosmictest.Fault {
		// The token begins at byte 188 of the diagnostics.
		return &cosmictest.Fault{Status: http.StatusUnauthorized, Body: formsEcho(t, strings.Repeat("x", 141)+" "+token)}
	})

	sum := w.pass()

	var wr written
	wr.summary(sum)
	everything := strings.Join(append(wr, w.logs.String()), "\n")
	for what, secret := range map[string]string{"the Basic credentials of the key": basicCredentials(apiKey), "the form token": token} {
		if leaks(everything, secret) {
			t.Errorf("the start of %s is in what the pass wrote", what)
		}
	}
}
