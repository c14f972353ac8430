package sync_test

import (
	"strings"
	"testing"
	"time"

	"github.com/lockworker/lockworker"
	"github.com/lockworker/lockworker/easit"
	"github.com/lockworker/lockworker/sync"
)

// Skatteverket test numbers used below.
const (
	adult        = "199908072391"
	otherAdult   = "200001012384"
	luhnExample  = "196408233234"
	child        = "201801012392" // 8 years old in 2026
	thirteen     = "201301012397" // turns 13 on 1 January 2026
	leapling     = "200002292399"
	samordning   = "191711602399"
	centenarian  = "189001019802"
	mistypedPnr  = "19990807-2392" // adult with a wrong check digit
	noSuchPerson = "200802292383"  // never given an account below
)

func TestALockOrderIsCarriedOut(t *testing.T) {
	t.Parallel()
	w := setup(t)
	w.accounts(adult)
	w.add("07", w.lockOrder("07", "55", adult))

	sum := w.pass()

	comment := w.expect(sum, "07", "55", lockworker.OutcomeResolved, lockworker.ReasonNone)
	if !strings.Contains(comment, "är låst") || !strings.Contains(comment, "F-07-55") {
		t.Errorf("comment %q does not say the login is locked on form F-07-55", comment)
	}
	// The form was signed at 08:30 UTC, which the desk reads in Swedish
	// time with its zone.
	if want := "signerad 2026-11-23 09:30 CET av SE2321000065-L55"; !strings.Contains(comment, want) {
		t.Errorf("comment %q does not say %q", comment, want)
	}
	lock, locked := w.lock(adult)
	if !locked {
		t.Fatal("the person is not locked")
	}
	if lock.Region != "07" || lock.Ticket != "55" || lock.Form != "F-07-55" || lock.ProxySuspended || !lock.LockedAt.Equal(start) {
		t.Errorf("lock = %+v, want region 07, ticket 55, form F-07-55, no proxy suspension, at %s", lock, start)
	}
	entry := w.audit(lockworker.AuditFilter{Ticket: "55"})[0]
	if entry.Kind != lockworker.KindLock || entry.Personnummer.Reveal() != adult || entry.Region != "07" {
		t.Errorf("audit entry = %+v", entry)
	}
	if entry.Evidence.Form != "F-07-55" || entry.Evidence.Signer != "SE2321000065-L55" || !entry.Evidence.SignedAt.Equal(start.Add(-90*time.Minute)) {
		t.Errorf("audit evidence = %+v, want the form, its signer and its signing time", entry.Evidence)
	}
	if entry.Reporter != "Doktor Testsson" || entry.ReporterHSAID != "SE2321000065-D55" {
		t.Errorf("audit reporter = %q %q", entry.Reporter, entry.ReporterHSAID)
	}
}

func TestAnUnlockLiftsTheLockAndKeepsItsHistory(t *testing.T) {
	t.Parallel()
	w := setup(t)
	w.accounts(adult)
	w.add("07", w.lockOrder("07", "55", adult))
	w.pass()
	w.clock.Advance(24 * time.Hour)
	w.add("07", w.unlockOrder("07", "56", adult))

	sum := w.pass()

	comment := w.expect(sum, "07", "56", lockworker.OutcomeResolved, lockworker.ReasonNone)
	if !strings.Contains(comment, "hävd") {
		t.Errorf("comment %q does not say the lock is lifted", comment)
	}
	if _, locked := w.lock(adult); locked {
		t.Error("the person is still locked")
	}
	history := w.history(adult)
	if len(history) != 1 {
		t.Fatalf("%d locks in the history, want the one lifted", len(history))
	}
	l := history[0]
	if l.Ticket != "55" || l.LiftedTicket != "56" || l.LiftedRegion != "07" || l.LiftedForm != "F-07-56" || !l.LiftedAt.Equal(start.Add(24*time.Hour)) {
		t.Errorf("lifted lock = %+v, want locked by 55 and lifted by 56 a day later", l)
	}

	// A later lock is a new row; the lifted one stays as it was.
	w.clock.Advance(24 * time.Hour)
	w.add("07", w.lockOrder("07", "57", adult))
	w.expect(w.pass(), "07", "57", lockworker.OutcomeResolved, lockworker.ReasonNone)
	if history := w.history(adult); len(history) != 2 || history[0].LiftedTicket != "56" || history[1].Ticket != "57" || !history[1].Active() {
		t.Errorf("history = %+v, want the lifted lock and a new active one", history)
	}
}

func TestAnOrderAlreadyDoneChangesNothing(t *testing.T) {
	t.Parallel()
	w := setup(t)
	w.accounts(adult, otherAdult)
	w.add("07", w.lockOrder("07", "55", adult))
	w.pass()
	w.add("07", w.lockOrder("07", "56", adult))        // already locked
	w.add("07", w.unlockOrder("07", "57", otherAdult)) // not locked

	sum := w.pass()

	if c := w.expect(sum, "07", "56", lockworker.OutcomeNoop, lockworker.ReasonNone); !strings.Contains(c, "redan låst") {
		t.Errorf("comment %q does not say the login was already locked", c)
	}
	if c := w.expect(sum, "07", "57", lockworker.OutcomeNoop, lockworker.ReasonNone); !strings.Contains(c, "inte låst") {
		t.Errorf("comment %q does not say the login was not locked", c)
	}
	if history := w.history(adult); len(history) != 1 || history[0].Ticket != "55" {
		t.Errorf("history = %+v, want only the first lock", history)
	}
	if history := w.history(otherAdult); len(history) != 0 {
		t.Errorf("history = %+v, want none", history)
	}
}

func TestAChildUnder13IsLockedWithTheGuardiansProxySuspended(t *testing.T) {
	t.Parallel()
	w := setup(t)
	w.accounts(child)
	w.add("07", w.lockOrder("07", "55", child))

	comment := w.expect(w.pass(), "07", "55", lockworker.OutcomeResolved, lockworker.ReasonNone)

	if !strings.Contains(comment, "under 13 år") || !strings.Contains(comment, "ombud") {
		t.Errorf("comment %q does not say the guardians can no longer act as proxy", comment)
	}
	if lock, _ := w.lock(child); !lock.ProxySuspended {
		t.Errorf("lock = %+v, want proxy_suspended", lock)
	}

	// Lifting the lock says that the proxy is back.
	w.add("07", w.unlockOrder("07", "56", child))
	if c := w.expect(w.pass(), "07", "56", lockworker.OutcomeResolved, lockworker.ReasonNone); !strings.Contains(c, "åter agera ombud") {
		t.Errorf("comment %q does not say the guardians may act as proxy again", c)
	}
}

func TestTheChildPolicyManualRoutesChildrenToManualHandling(t *testing.T) {
	t.Parallel()
	w := setup(t)
	w.syncer.Policy.ChildrenUnder13 = sync.ChildManual
	w.accounts(child)
	w.add("07", w.lockOrder("07", "55", child))
	w.add("07", w.unlockOrder("07", "56", child)) // the policy is for lock orders only

	sum := w.pass()

	w.expect(sum, "07", "55", lockworker.OutcomeManual, lockworker.ReasonChildPolicy)
	w.expect(sum, "07", "56", lockworker.OutcomeNoop, lockworker.ReasonNone)
	if _, locked := w.lock(child); locked {
		t.Error("the child was locked")
	}
}

func TestAgeIsACalendarComparisonInStockholm(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		pnr   string
		now   time.Time
		child bool
	}{
		// 201301012397 turns 13 at midnight in Stockholm, 23:00 UTC.
		{"the last second of being 12", thirteen, time.Date(2025, 12, 31, 22, 59, 59, 0, time.UTC), true},
		{"the first second of being 13", thirteen, time.Date(2025, 12, 31, 23, 0, 0, 0, time.UTC), false},
		// 200002292399 ... is long past 13; a leapling born 29 February 2016
		// is not among the test numbers, so the 29 February rule is proven
		// in the root package.
		{"an adult", leapling, start, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := setup(t)
			w.clock.Set(tt.now)
			w.accounts(tt.pnr)
			w.add("07", w.lockOrder("07", "55", tt.pnr))

			w.expect(w.pass(), "07", "55", lockworker.OutcomeResolved, lockworker.ReasonNone)

			if lock, _ := w.lock(tt.pnr); lock.ProxySuspended != tt.child {
				t.Errorf("proxy_suspended = %v, want %v", lock.ProxySuspended, tt.child)
			}
		})
	}
}

func TestIdentityNumbers(t *testing.T) {
	t.Parallel()
	const invalid = lockworker.ReasonInvalidPersonnummer
	tests := []struct {
		name    string
		pnr     string
		outcome lockworker.Outcome
		reason  lockworker.Reason
		// says is what the comment of a refused number says of the rule
		// it breaks.
		says string
	}{
		{"12 digits", adult, lockworker.OutcomeResolved, "", ""},
		{"12 digits with a dash", "19990807-2391", lockworker.OutcomeResolved, "", ""},
		{"10 digits with a dash", "990807-2391", lockworker.OutcomeResolved, "", ""},
		{"10 digits", "9908072391", lockworker.OutcomeResolved, "", ""},
		{"surrounded by space", "  199908072391 ", lockworker.OutcomeResolved, "", ""},
		{"100 or over, with a plus", "900101+9802", lockworker.OutcomeResolved, "", ""},
		{"a wrong check digit", mistypedPnr, lockworker.OutcomeManual, invalid, "kontrollsiffran stämmer inte"},
		{"two digits swapped", "199908073291", lockworker.OutcomeManual, invalid, "kontrollsiffran stämmer inte"},
		{"a plus in a 12-digit number", "19990807+2391", lockworker.OutcomeManual, invalid, "inte skrivet i någon av formerna"},
		{"letters", "19990807-23X1", lockworker.OutcomeManual, invalid, "inte skrivet i någon av formerna"},
		{"11 digits", "19990807239", lockworker.OutcomeManual, invalid, "inte skrivet i någon av formerna"},
		// 19990230239 with its check digit: 30 February.
		{"a date that does not exist", "199902302390", lockworker.OutcomeManual, invalid, "datumet i numret finns inte"},
		{"birth number 000", "199908070002", lockworker.OutcomeManual, invalid, "födelsenumret 000"},
		// Born in 2027: its check digit is right, its birth date is ahead.
		{"a birth date in the future", "202701012383", lockworker.OutcomeManual, invalid, "födelsedatumet ligger i framtiden"},
		{"a samordningsnummer", samordning, lockworker.OutcomeManual, lockworker.ReasonSamordningsnummer, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := setup(t)
			w.accounts(adult, centenarian)
			o := w.lockOrder("07", "55", tt.pnr)
			w.add("07", o)

			comment := w.expect(w.pass(), "07", "55", tt.outcome, tt.reason)

			entry := w.audit(lockworker.AuditFilter{Ticket: "55"})[0]
			if tt.outcome == lockworker.OutcomeResolved {
				// The store holds and compares the 12-digit form only.
				if want := o.form.Patient; entry.Personnummer.Reveal() != want {
					t.Errorf("audit holds %d digits, want the 12-digit form", len(entry.Personnummer.Reveal()))
				}
				return
			}
			if strings.Contains(comment, strings.TrimSpace(tt.pnr)) {
				t.Error("the comment repeats the number")
			}
			if !strings.Contains(comment, tt.says) {
				t.Errorf("comment %q does not say %q", comment, tt.says)
			}
			if _, locked := w.lock(adult); locked {
				t.Error("someone was locked")
			}
		})
	}
}

func TestOnlyExistingAccountsAreLocked(t *testing.T) {
	t.Parallel()
	w := setup(t)
	w.add("12", w.lockOrder("12", "101", noSuchPerson))

	comment := w.expect(w.pass(), "12", "101", lockworker.OutcomeManual, lockworker.ReasonNoAccount)

	if !strings.Contains(comment, "inget konto") {
		t.Errorf("comment %q does not say there is no account", comment)
	}
	if _, locked := w.lock(noSuchPerson); locked {
		t.Error("the person was locked")
	}
}

func TestOnlyTheLockingRegionUnlocks(t *testing.T) {
	t.Parallel()
	w := setup(t)
	w.accounts(adult)
	w.add("07", w.lockOrder("07", "55", adult))
	w.pass()
	w.add("12", w.unlockOrder("12", "102", adult))

	comment := w.expect(w.pass(), "12", "102", lockworker.OutcomeManual, lockworker.ReasonUnlockWrongRegion)

	if !strings.Contains(comment, "Region Kronoberg") {
		t.Errorf("comment %q does not name the locking region", comment)
	}
	if lock, locked := w.lock(adult); !locked || lock.Region != "07" {
		t.Errorf("lock = %+v, %v; want still locked by 07", lock, locked)
	}
}

func TestTheRegionIsWhereTheOrderWasRead(t *testing.T) {
	t.Parallel()
	w := setup(t)
	w.accounts(adult)
	o := w.lockOrder("12", "101", adult)
	o.Reporter = "Region Kronoberg, vårdcentral 07" // text in the ticket does not count
	w.add("12", o)

	w.expect(w.pass(), "12", "101", lockworker.OutcomeResolved, lockworker.ReasonNone)

	if lock, _ := w.lock(adult); lock.Region != "12" {
		t.Errorf("lock region = %q, want 12, where the order was read", lock.Region)
	}
}

func TestTheSignedForm(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(o *order)
		reason lockworker.Reason
	}{
		{"withdrawn", func(o *order) { o.form.Status = "entered-in-error" }, lockworker.ReasonFormWithdrawn},
		{"superseded", func(o *order) { o.form.Status = "superseded" }, lockworker.ReasonFormWithdrawn},
		{"an unlock form for a lock order", func(o *order) { o.form.Type = unlockForm }, lockworker.ReasonFormTypeMismatch},
		{"another form type", func(o *order) { o.form.Type.Code = "1177-ANNAN" }, lockworker.ReasonFormTypeMismatch},
		{"about another patient", func(o *order) { o.form.Patient = otherAdult }, lockworker.ReasonFormPatientMismatch},
		{"a patient by another identifier system", func(o *order) { o.form.PatientSystem = "urn:oid:1.2.752.129.2.1.3.3" }, lockworker.ReasonFormPatientMismatch},
		{"kept by another region", func(o *order) { o.form.Custodian = "SE2321000255-1000" }, lockworker.ReasonFormRegionMismatch},
		{"kept by no one", func(o *order) { o.form.Custodian = "" }, lockworker.ReasonFormRegionMismatch},
		{"signed an hour ahead of the clock", func(o *order) { o.form.Date = start.Add(time.Hour) }, lockworker.ReasonFormDateInvalid},
		{"signed just beyond the clock tolerance", func(o *order) { o.form.Date = start.Add(5*time.Minute + time.Second) }, lockworker.ReasonFormDateInvalid},
		{"signed without a date", func(o *order) { o.form.Date = time.Time{} }, lockworker.ReasonFormDateInvalid},
		{"signed too long ago", func(o *order) { o.form.Date = start.Add(-2161 * time.Hour) }, lockworker.ReasonFormTooOld},
		// The order of the checks: the first that fails gives the reason.
		{"withdrawn and about another patient", func(o *order) { o.form.Status = "entered-in-error"; o.form.Patient = otherAdult }, lockworker.ReasonFormWithdrawn},
		{"of another type and patient", func(o *order) { o.form.Type = unlockForm; o.form.Patient = otherAdult }, lockworker.ReasonFormTypeMismatch},
		{"contradicting and unsigned", func(o *order) { o.form.Patient = otherAdult; o.form.DocStatus = "" }, lockworker.ReasonFormPatientMismatch},
		{"kept by another region and without a date", func(o *order) { o.form.Custodian = "SE2321000255-1000"; o.form.Date = time.Time{} }, lockworker.ReasonFormRegionMismatch},
		{"an hour ahead and withdrawn", func(o *order) { o.form.Date = start.Add(time.Hour); o.form.Status = "superseded" }, lockworker.ReasonFormWithdrawn},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := setup(t)
			w.accounts(adult)
			o := w.lockOrder("07", "55", adult)
			tt.change(&o)
			w.add("07", o)

			// A form that contradicts the order is never waited for.
			w.expect(w.pass(), "07", "55", lockworker.OutcomeManual, tt.reason)

			if _, locked := w.lock(adult); locked {
				t.Error("the person was locked")
			}
		})
	}

	// The form service's clock may run a little ahead of lockworker's: a
	// form signed within policy.clock_tolerance of now is no contradiction.
	for name, ahead := range map[string]time.Duration{"a minute": time.Minute, "just the clock tolerance": 5 * time.Minute} {
		t.Run("signed "+name+" ahead of the clock", func(t *testing.T) {
			t.Parallel()
			w := setup(t)
			w.accounts(adult)
			o := w.lockOrder("07", "55", adult)
			o.form.Date = start.Add(ahead)
			w.add("07", o)
			w.expect(w.pass(), "07", "55", lockworker.OutcomeResolved, lockworker.ReasonNone)
			if entry := w.audit(lockworker.AuditFilter{Ticket: "55"})[0]; !entry.Evidence.SignedAt.Equal(start.Add(ahead)) {
				t.Errorf("audit evidence signed at %s, want the form's date %s", entry.Evidence.SignedAt, start.Add(ahead))
			}
		})
	}
	t.Run("signed just within form_max_age", func(t *testing.T) {
		t.Parallel()
		w := setup(t)
		w.accounts(adult)
		o := w.lockOrder("07", "55", adult)
		o.form.Date = start.Add(-2160 * time.Hour)
		w.add("07", o)
		w.expect(w.pass(), "07", "55", lockworker.OutcomeResolved, lockworker.ReasonNone)
	})
	t.Run("amended", func(t *testing.T) {
		t.Parallel()
		w := setup(t)
		w.accounts(adult)
		o := w.lockOrder("07", "55", adult)
		o.form.DocStatus = "amended"
		o.form.PatientSystem = "urn:oid:1.2.752.129.2.1.3.1"
		w.add("07", o)
		w.expect(w.pass(), "07", "55", lockworker.OutcomeResolved, lockworker.ReasonNone)
	})
}

func TestAnOrderWaitsForItsForm(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		change func(o *order)
		reason lockworker.Reason
	}{
		{"not there yet", func(o *order) { o.form = nil }, lockworker.ReasonFormMissing},
		{"preliminary", func(o *order) { o.form.DocStatus = "preliminary" }, lockworker.ReasonFormUnsigned},
		{"without docStatus", func(o *order) { o.form.DocStatus = "" }, lockworker.ReasonFormUnsigned},
		{"final without a signer", func(o *order) { o.form.Signer = "" }, lockworker.ReasonFormUnsigned},
		// A form not yet signed has no signing time: its date, or the
		// lack of one, does not matter until it is signed.
		{"preliminary without a date", func(o *order) { o.form.DocStatus = "preliminary"; o.form.Date = time.Time{} }, lockworker.ReasonFormUnsigned},
		{"preliminary, dated a day ahead", func(o *order) { o.form.DocStatus = "preliminary"; o.form.Date = start.Add(24 * time.Hour) }, lockworker.ReasonFormUnsigned},
		{"preliminary, dated long ago", func(o *order) { o.form.DocStatus = "preliminary"; o.form.Date = start.Add(-3000 * time.Hour) }, lockworker.ReasonFormUnsigned},
		{"final with a signer that is no HSA-id", func(o *order) { o.form.Signer = "SE2321000066-L55" }, lockworker.ReasonFormUnsigned},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := setup(t)
			w.accounts(adult)
			o := w.lockOrder("07", "55", adult)
			complete := *o.form
			tt.change(&o)
			w.add("07", o)

			comment := w.expect(w.pass(), "07", "55", lockworker.OutcomeWaiting, tt.reason)
			if !strings.Contains(comment, "Väntar på blankett F-07-55") {
				t.Errorf("comment %q does not say which form is waited for", comment)
			}

			// Each pass checks again, and writes nothing while it waits.
			w.clock.Advance(2 * time.Hour)
			res := result(t, w.pass(), "07", "55")
			if res.Outcome != lockworker.OutcomeWaiting || res.Action != sync.ActionRechecked {
				t.Errorf("second pass: %s %s, want waiting, rechecked", res.Outcome, res.Action)
			}
			if n := len(w.regions["07"].easit.Comments("55")); n != 1 {
				t.Errorf("%d comments after a re-check, want 1", n)
			}
			if n := len(w.audit(lockworker.AuditFilter{Ticket: "55"})); n != 1 {
				t.Errorf("%d audit entries after a re-check, want 1 (the wait began once)", n)
			}

			// When the signed form comes, the order is carried out.
			w.regions["07"].forms.Put(complete)
			res = result(t, w.pass(), "07", "55")
			if res.Outcome != lockworker.OutcomeResolved {
				t.Fatalf("after the form came: %s %s", res.Outcome, res.Reason)
			}
			if got := w.regions["07"].easit.Status("55"); got != statuses.Resolved {
				t.Errorf("status = %q, want %q", got, statuses.Resolved)
			}
			if n := len(w.regions["07"].easit.Comments("55")); n != 2 {
				t.Errorf("%d comments, want 2: the wait and the resolution", n)
			}
			if _, locked := w.lock(adult); !locked {
				t.Error("the person is not locked")
			}
		})

		t.Run(tt.name+", until form_wait is over", func(t *testing.T) {
			t.Parallel()
			w := setup(t)
			w.accounts(adult)
			o := w.lockOrder("07", "55", adult)
			tt.change(&o)
			w.add("07", o)
			w.pass()

			// The ticket was created an hour before start; form_wait is 72h.
			w.clock.Set(start.Add(71 * time.Hour))
			if res := result(t, w.pass(), "07", "55"); res.Outcome != lockworker.OutcomeWaiting {
				t.Errorf("within form_wait: %s, want waiting", res.Outcome)
			}
			w.clock.Set(start.Add(71*time.Hour + time.Second))
			res := result(t, w.pass(), "07", "55")
			if res.Outcome != lockworker.OutcomeManual || res.Reason != tt.reason {
				t.Fatalf("after form_wait: %s %s, want manual %s", res.Outcome, res.Reason, tt.reason)
			}
			e := w.regions["07"].easit
			if got := e.Status("55"); got != statuses.Manual {
				t.Errorf("status = %q, want %q", got, statuses.Manual)
			}
			if comments := e.Comments("55"); len(comments) != 2 || !strings.Contains(comments[1], string(tt.reason)) {
				t.Errorf("comments = %q, want the wait and then the manual handling with its reason", comments)
			}
			if entries := w.audit(lockworker.AuditFilter{Ticket: "55"}); len(entries) != 2 || entries[1].Outcome != lockworker.OutcomeManual {
				t.Errorf("audit = %+v, want waiting then manual", entries)
			}
		})
	}
}

func TestMalformedOrdersGoToManualHandling(t *testing.T) {
	t.Parallel()
	text := func(s string) *string { return &s }
	tests := []struct {
		name   string
		change func(o *order)
		reason lockworker.Reason
	}{
		{"an unknown kind", func(o *order) { o.Kind = "Låsa journal" }, lockworker.ReasonUnknownKind},
		{"no kind", func(o *order) { o.Kind = "" }, lockworker.ReasonMissingField},
		{"no personnummer", func(o *order) { o.Personnummer = "" }, lockworker.ReasonMissingField},
		{"no form reference", func(o *order) { o.FormRef = "" }, lockworker.ReasonMissingField},
		{"no creation time", func(o *order) { o.Created = time.Time{} }, lockworker.ReasonMissingField},
		{"a form reference with a slash", func(o *order) { o.FormRef = "../metadata" }, lockworker.ReasonInvalidFormReference},
		{"a form reference of 65 characters", func(o *order) { o.FormRef = strings.Repeat("a", 65) }, lockworker.ReasonInvalidFormReference},
		{"a form reference that is a dot-dot", func(o *order) { o.FormRef = ".." }, lockworker.ReasonInvalidFormReference},
		{"a personnummer as form reference", func(o *order) { o.FormRef = otherAdult }, lockworker.ReasonInvalidFormReference},
		{"a form reference holding a personnummer", func(o *order) { o.FormRef = "pnr-" + otherAdult }, lockworker.ReasonInvalidFormReference},
		// The order of the checks: fields and kind, then the form
		// reference, then the number.
		{"an unknown kind and an invalid number", func(o *order) { o.Kind = "?"; o.Personnummer = mistypedPnr }, lockworker.ReasonUnknownKind},
		{"an invalid reference and number", func(o *order) { o.FormRef = "a b"; o.Personnummer = mistypedPnr }, lockworker.ReasonInvalidFormReference},
		{"an invalid number and no account", func(o *order) { o.Personnummer = mistypedPnr }, lockworker.ReasonInvalidPersonnummer},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := setup(t)
			w.accounts(adult)
			o := w.lockOrder("07", "55", adult)
			tt.change(&o)
			w.add("07", o)

			w.expect(w.pass(), "07", "55", lockworker.OutcomeManual, tt.reason)
		})
	}

	// Properties given twice: the same value is one value; two different
	// values are no value at all.
	for _, tt := range []struct {
		name   string
		second string
		want   lockworker.Outcome
	}{
		{"twice the same", adult, lockworker.OutcomeResolved},
		{"twice, differently", otherAdult, lockworker.OutcomeManual},
		{"once, and once empty", "", lockworker.OutcomeManual},
	} {
		t.Run("personnummer "+tt.name, func(t *testing.T) {
			t.Parallel()
			w := setup(t)
			w.accounts(adult, otherAdult)
			o := w.lockOrder("07", "55", adult)
			w.regions["07"].forms.Put(*o.form)
			w.regions["07"].easit.AddItem(easit.Item{Properties: []easit.Property{
				{Name: "Id", Content: text("55"), RawValue: text("55")},
				{Name: "Status", Content: text(statuses.Open)},
				{Name: "Ärendetyp", Content: text(o.Kind)},
				{Name: "Personnummer", Content: text(adult)},
				{Name: "Personnummer", Content: text(tt.second)},
				{Name: "Blankettreferens", Content: text(o.FormRef)},
				{Name: "Skapad", Content: nil, RawValue: text(o.Created.Format(time.RFC3339))},
			}})

			reason := lockworker.ReasonNone
			if tt.want == lockworker.OutcomeManual {
				reason = lockworker.ReasonMissingField
			}
			w.expect(w.pass(), "07", "55", tt.want, reason)
		})
	}

	t.Run("an unreadable creation time", func(t *testing.T) {
		t.Parallel()
		w := setup(t)
		w.accounts(adult)
		o := w.lockOrder("07", "55", adult)
		w.regions["07"].forms.Put(*o.form)
		w.regions["07"].easit.AddItem(easit.Item{Properties: []easit.Property{
			{Name: "Id", Content: text("55")},
			{Name: "Status", Content: text(statuses.Open)},
			{Name: "Ärendetyp", Content: text(o.Kind)},
			{Name: "Personnummer", Content: text(adult)},
			{Name: "Blankettreferens", Content: text(o.FormRef)},
			{Name: "Skapad", Content: text("i går"), RawValue: text("i går")},
		}})
		w.expect(w.pass(), "07", "55", lockworker.OutcomeManual, lockworker.ReasonMissingField)
	})
}

func TestTheChecksRunInTheirOrder(t *testing.T) {
	t.Parallel()
	t.Run("the account before the child policy and the form", func(t *testing.T) {
		t.Parallel()
		w := setup(t)
		w.syncer.Policy.ChildrenUnder13 = sync.ChildManual
		o := w.lockOrder("07", "55", child)
		o.form = nil
		w.add("07", o)
		w.expect(w.pass(), "07", "55", lockworker.OutcomeManual, lockworker.ReasonNoAccount)
	})
	t.Run("the child policy before the form", func(t *testing.T) {
		t.Parallel()
		w := setup(t)
		w.syncer.Policy.ChildrenUnder13 = sync.ChildManual
		w.accounts(child)
		o := w.lockOrder("07", "55", child)
		o.form.Patient = otherAdult
		w.add("07", o)
		w.expect(w.pass(), "07", "55", lockworker.OutcomeManual, lockworker.ReasonChildPolicy)
	})
	t.Run("the form before the lock's state", func(t *testing.T) {
		t.Parallel()
		w := setup(t)
		w.accounts(adult)
		w.add("07", w.lockOrder("07", "55", adult))
		w.pass()
		o := w.unlockOrder("12", "101", adult) // wrong region, and a bad form
		o.form.Type = lockForm
		w.add("12", o)
		w.expect(w.pass(), "12", "101", lockworker.OutcomeManual, lockworker.ReasonFormTypeMismatch)
	})
	t.Run("a manual decision about someone locked", func(t *testing.T) {
		t.Parallel()
		w := setup(t)
		w.accounts(child)
		w.add("07", w.lockOrder("07", "55", child))
		w.pass()
		w.syncer.Policy.ChildrenUnder13 = sync.ChildManual
		w.add("07", w.lockOrder("07", "56", child))
		w.expect(w.pass(), "07", "56", lockworker.OutcomeManual, lockworker.ReasonChildPolicy)
	})
}

// The comment of an order refused for a form reference, an HSA-id or a
// signing time says which rule failed, without repeating what the ticket or
// the form gave.
func TestACommentSaysWhichRuleFailed(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		change  func(o *order)
		outcome lockworker.Outcome
		reason  lockworker.Reason
		says    string
		// hidden is what the comment must not repeat.
		hidden string
	}{
		{"a form reference of 65 characters", func(o *order) { o.FormRef = strings.Repeat("a", 65) },
			lockworker.OutcomeManual, lockworker.ReasonInvalidFormReference, "längre än 64 tecken", strings.Repeat("a", 65)},
		{"a form reference with a slash", func(o *order) { o.FormRef = "F/07/55" },
			lockworker.OutcomeManual, lockworker.ReasonInvalidFormReference, "andra tecken än A–Z", "F/07/55"},
		{"a form reference that is a dot-dot", func(o *order) { o.FormRef = ".." },
			lockworker.OutcomeManual, lockworker.ReasonInvalidFormReference, "bara av punkter", `".."`},
		{"a form reference holding a personnummer", func(o *order) { o.FormRef = "pnr-" + otherAdult },
			lockworker.OutcomeManual, lockworker.ReasonInvalidFormReference, "innehåller ett personnummer", otherAdult},
		{"a custodian whose organisation number has a wrong check digit", func(o *order) { o.form.Custodian = "SE2321000066-1000" },
			lockworker.OutcomeManual, lockworker.ReasonFormRegionMismatch, "förvaltarens HSA-id är ogiltigt (organisationsnumrets kontrollsiffra stämmer inte)", "SE2321000066-1000"},
		{"a custodian given as a bare organisation number", func(o *order) { o.form.Custodian = "2321000065" },
			lockworker.OutcomeManual, lockworker.ReasonFormRegionMismatch, "förvaltarens HSA-id är ogiltigt (det börjar inte med SE)", "2321000065"},
		{"a custodian of another region", func(o *order) { o.form.Custodian = "SE2321000255-1000" },
			lockworker.OutcomeManual, lockworker.ReasonFormRegionMismatch, "förvaltaren är en annan organisation", "SE2321000255-1000"},
		{"a signer whose HSA-id has no local part", func(o *order) { o.form.Signer = "SE2321000065-" },
			lockworker.OutcomeWaiting, lockworker.ReasonFormUnsigned, "signerarens HSA-id är ogiltigt (delen efter bindestrecket saknas)", "SE2321000065-"},
		{"a signed form without a date", func(o *order) { o.form.Date = time.Time{} },
			lockworker.OutcomeManual, lockworker.ReasonFormDateInvalid, "saknar signeringstid", ""},
		{"a signed form dated an hour ahead", func(o *order) { o.form.Date = start.Add(time.Hour) },
			lockworker.OutcomeManual, lockworker.ReasonFormDateInvalid, "anger signeringstiden 2026-11-23 12:00 CET, som ligger i framtiden", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			w := setup(t)
			w.accounts(adult)
			o := w.lockOrder("07", "55", adult)
			tt.change(&o)
			w.add("07", o)

			comment := w.expect(w.pass(), "07", "55", tt.outcome, tt.reason)

			if !strings.Contains(comment, tt.says) {
				t.Errorf("comment %q does not say %q", comment, tt.says)
			}
			if tt.hidden != "" && strings.Contains(comment, tt.hidden) {
				t.Errorf("comment %q repeats %q", comment, tt.hidden)
			}
		})
	}
}

// Tickets in other statuses than open and waiting are not acted on.
func TestOnlyOpenAndWaitingTicketsAreActedOn(t *testing.T) {
	t.Parallel()
	w := setup(t)
	w.accounts(adult, otherAdult, luhnExample)
	for ticket, status := range map[string]string{"55": "Pågående", "56": statuses.Resolved, "57": statuses.Manual} {
		o := w.lockOrder("07", ticket, adult)
		o.Status = status
		w.add("07", o)
	}

	sum := w.pass()

	if n := len(sum.Regions[0].Orders); n != 0 {
		t.Errorf("the pass handled %d orders, want none: %+v", n, sum.Regions[0].Orders)
	}
	if n := w.updates("07", "55", "56", "57"); n != 0 {
		t.Errorf("%d updates, want none", n)
	}
	if _, locked := w.lock(adult); locked {
		t.Error("the person was locked")
	}
}
