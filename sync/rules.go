package sync

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/lockworker/lockworker"
	"github.com/lockworker/lockworker/internal/safetext"
)

// decide applies the rules of the domain to one ticket, in the order the
// specification gives them; the first rule that fails gives the reason. It
// returns an error only for a transient failure of the form service or the
// lock store.
func (s *Syncer) decide(ctx context.Context, r Region, t lockworker.Ticket, now time.Time) (lockworker.Decision, error) {
	o := order{region: r}
	d := lockworker.Decision{Region: r.Code, Ticket: t.ID}
	// The reporter is recorded as text to show, not to act on: escaped, so
	// that it can be printed and stored (PostgreSQL refuses a NUL), and
	// bounded.
	reporter, _ := single(t.Reporter)
	reporterHSAID, _ := single(t.ReporterHSAID)
	d.Reporter, d.ReporterHSAID = recordable(reporter), recordable(reporterHSAID)

	// The ticket number, which the store, the logs and the terminal show.
	if t.GivenID != "" {
		return o.manual(d, lockworker.ReasonInvalidTicketID, ""), nil
	}

	// The ticket's fields and kind.
	kindText, okKind := single(t.Kind)
	pnrText, okPnr := single(t.Personnummer)
	ref, okRef := single(t.FormRef)
	createdText, okCreated := single(t.Created)
	created, errCreated := parseCreated(createdText)
	switch {
	case !okKind:
		return o.manual(d, lockworker.ReasonMissingField, "ärendetyp"), nil
	case !okPnr:
		return o.manual(d, lockworker.ReasonMissingField, "personnummer"), nil
	case !okRef:
		return o.manual(d, lockworker.ReasonMissingField, "blankettreferens"), nil
	case !okCreated || errCreated != nil:
		return o.manual(d, lockworker.ReasonMissingField, "skapad"), nil
	}
	switch {
	case strings.EqualFold(kindText, r.Kinds.Lock):
		d.Kind = lockworker.KindLock
	case strings.EqualFold(kindText, r.Kinds.Unlock):
		d.Kind = lockworker.KindUnlock
	default:
		return o.manual(d, lockworker.ReasonUnknownKind, ""), nil
	}

	// The form reference's syntax. One that holds a personnummer (typed
	// into the wrong field, say) is no reference either, and must not reach
	// a comment or a log line.
	if err := lockworker.CheckFormReference(ref); err != nil {
		return o.manual(d, lockworker.ReasonInvalidFormReference, formReferenceRule(err)), nil
	}
	d.Evidence.Form = ref

	// The identity number.
	pnr, err := lockworker.ParsePersonnummer(pnrText, now)
	if err != nil {
		return o.manual(d, lockworker.ReasonInvalidPersonnummer, personnummerRule(err)), nil
	}
	d.Personnummer = pnr
	// The lock's state is checked last, but read now: every decision about
	// a person is recorded against the lock it saw, so that a concurrent
	// change makes it decide again.
	lock, locked, err := s.Store.ActiveLock(ctx, pnr)
	if err != nil {
		return d, failure(lockworker.ReasonLockStoreError, fmt.Errorf("look up the lock: %w", err))
	}
	if locked {
		d.ActiveLock = lock.ID
	}
	if pnr.IsSamordningsnummer() {
		return o.manual(d, lockworker.ReasonSamordningsnummer, ""), nil
	}

	// The account.
	exists, err := s.Store.HasAccount(ctx, pnr)
	if err != nil {
		return d, failure(lockworker.ReasonLockStoreError, fmt.Errorf("look up the account: %w", err))
	}
	if !exists {
		return o.manual(d, lockworker.ReasonNoAccount, ""), nil
	}

	// The child policy, for lock orders only.
	if d.Kind == lockworker.KindLock && pnr.AgeOn(now) < 13 {
		if s.Policy.ChildrenUnder13 == ChildManual {
			return o.manual(d, lockworker.ReasonChildPolicy, ""), nil
		}
		d.ProxySuspended = true
	}

	// The form.
	form, err := r.Forms.Form(ctx, ref)
	switch {
	case errors.Is(err, lockworker.ErrFormNotFound):
		return o.wait(d, lockworker.ReasonFormMissing, "", created.Add(s.Policy.FormWait), now), nil
	case err != nil:
		return d, failure(lockworker.ReasonFormsError, fmt.Errorf("read the form: %w", err))
	}
	if reason, detail := contradiction(r, d, form, now); reason != lockworker.ReasonNone {
		return o.manual(d, reason, detail), nil
	}
	// A form not yet signed has no signing time to check: it is waited for
	// whatever its date says.
	if !form.Signed() {
		return o.wait(d, lockworker.ReasonFormUnsigned, unsigned(form), created.Add(s.Policy.FormWait), now), nil
	}
	switch {
	case form.Date.IsZero():
		return o.manual(d, lockworker.ReasonFormDateInvalid, ""), nil
	case form.Date.After(now.Add(s.Policy.ClockTolerance)):
		return o.manual(d, lockworker.ReasonFormDateInvalid, lockworker.DisplayTime(form.Date)), nil
	case form.Date.Before(now.Add(-s.Policy.FormMaxAge)):
		return o.manual(d, lockworker.ReasonFormTooOld, ""), nil
	}
	d.Evidence.Signer = form.Signer.String()
	d.Evidence.SignedAt = form.Date.UTC()

	// The lock's state.
	switch {
	case d.Kind == lockworker.KindLock && locked:
		return o.noop(d), nil
	case d.Kind == lockworker.KindLock:
		d.Change = lockworker.ChangeLock
		return o.resolved(d), nil
	case !locked:
		d.ProxySuspended = false
		return o.noop(d), nil
	case lock.Region != r.Code:
		d.ProxySuspended = false
		return o.manual(d, lockworker.ReasonUnlockWrongRegion, s.regionName(lock.Region)), nil
	default:
		d.Change = lockworker.ChangeUnlock
		d.ProxySuspended = lock.ProxySuspended
		return o.resolved(d), nil
	}
}

// contradiction returns the reason a form contradicts the order on the
// processing date now, with the detail its comment gives, or ReasonNone. A
// form that contradicts the order is never waited for.
func contradiction(r Region, d lockworker.Decision, f lockworker.Form, now time.Time) (lockworker.Reason, string) {
	want := r.LockForm
	if d.Kind == lockworker.KindUnlock {
		want = r.UnlockForm
	}
	switch {
	case !f.Current:
		return lockworker.ReasonFormWithdrawn, ""
	case !f.HasType(want):
		return lockworker.ReasonFormTypeMismatch, ""
	case !f.IsAbout(d.Personnummer, now):
		return lockworker.ReasonFormPatientMismatch, ""
	case f.CustodianInvalid != nil:
		return lockworker.ReasonFormRegionMismatch, parenthesised("förvaltarens HSA-id är ogiltigt", hsaidRule(f.CustodianInvalid))
	case f.Custodian.IsZero():
		return lockworker.ReasonFormRegionMismatch, "blanketten anger ingen förvaltare med HSA-id"
	case f.Custodian.OrgNumber() != r.OrgNumber:
		return lockworker.ReasonFormRegionMismatch, "förvaltaren är en annan organisation"
	}
	return lockworker.ReasonNone, ""
}

// unsigned says why a form that is final is not signed all the same, or ""
// for a form that is not final.
func unsigned(f lockworker.Form) string {
	switch {
	case !f.Final:
		return ""
	case f.SignerInvalid != nil:
		return parenthesised("signerarens HSA-id är ogiltigt", hsaidRule(f.SignerInvalid))
	default:
		return "blanketten anger ingen signerare med HSA-id"
	}
}

// regionName names a region by its configured name and code, or by its code
// alone when it is not configured here.
func (s *Syncer) regionName(code string) string {
	for _, r := range s.Regions {
		if r.Code == code {
			return fmt.Sprintf("%s (%s)", r.Name, r.Code)
		}
	}
	return "region " + code
}

// maxRecordable bounds, in runes, a text of the ticket's that is recorded.
const maxRecordable = 200

// recordable returns s escaped of control characters and cut to
// maxRecordable runes.
func recordable(s string) string {
	if r := []rune(s); len(r) > maxRecordable {
		s = string(r[:maxRecordable]) + "…"
	}
	return safetext.Escape(s)
}

// single returns a field's value when the ticket gives it, not empty, and
// not twice with different values.
func single(values []string) (string, bool) {
	var v string
	for i, raw := range values {
		raw = strings.TrimSpace(raw)
		if raw == "" || (i > 0 && raw != v) {
			return "", false
		}
		v = raw
	}
	return v, v != ""
}

// parseCreated reads the ticket's creation time: ISO 8601 in UTC, with or
// without a zone designator.
func parseCreated(s string) (time.Time, error) {
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02 15:04:05"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UTC(), nil
		}
	}
	return time.Time{}, fmt.Errorf("unreadable time %q", s)
}
