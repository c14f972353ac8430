package opspage

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/lockworker/lockworker"
	"github.com/lockworker/lockworker/service"
	"github.com/lockworker/lockworker/sync"
)

// overviewData is the overview: the health of the store and each region,
// the decisions of the last 24 hours by outcome, the waiting and manual
// tickets, and the recent passes, newest first.
type overviewData struct {
	Health  service.Health
	Counts  []outcomeCount
	Waiting []lockworker.LedgerEntry
	Manual  []lockworker.LedgerEntry
	Passes  []lockworker.PassRecord
}

type outcomeCount struct {
	Outcome lockworker.Outcome
	N       int
}

// overviewRows is how many waiting and manual tickets, and passes, the
// overview shows.
const overviewRows = 20

func (p *Page) overview(ctx context.Context) (overviewData, error) {
	d := overviewData{Health: p.svc.Health(ctx)}
	counts, err := p.store.AuditCounts(ctx, lockworker.AuditFilter{Since: p.cfg.Now().Add(-24 * time.Hour)})
	if err != nil {
		return d, err
	}
	for _, o := range lockworker.Outcomes {
		d.Counts = append(d.Counts, outcomeCount{o, counts[o]})
	}
	if d.Waiting, err = p.store.TicketsWithOutcome(ctx, lockworker.OutcomeWaiting, overviewRows); err != nil {
		return d, err
	}
	if d.Manual, err = p.store.TicketsWithOutcome(ctx, lockworker.OutcomeManual, overviewRows); err != nil {
		return d, err
	}
	if d.Passes, err = p.store.Passes(ctx, overviewRows); err != nil {
		return d, err
	}
	slices.Reverse(d.Passes)
	return d, nil
}

func (p *Page) handleOverview(w http.ResponseWriter, r *http.Request) {
	p.showOverview(w, r, "overview")
}

// handleOverviewFragment is the overview's content alone, which the page's
// script fetches to update itself.
func (p *Page) handleOverviewFragment(w http.ResponseWriter, r *http.Request) {
	p.showOverview(w, r, "overview_fragment")
}

func (p *Page) showOverview(w http.ResponseWriter, r *http.Request, name string) {
	d, err := p.overview(r.Context())
	if err != nil {
		p.storeFailed(w, r, err)
		return
	}
	p.render(w, r, userOf(r), http.StatusOK, name, d)
}

func (p *Page) storeFailed(w http.ResponseWriter, r *http.Request, err error) {
	p.cfg.Log.Error().Err(err).Str("path", r.URL.Path).Msg("ops page: read the lock store")
	p.renderError(w, r, userOf(r), http.StatusServiceUnavailable, "store")
}

func (p *Page) handleNotFound(w http.ResponseWriter, r *http.Request) {
	p.renderError(w, r, userOf(r), http.StatusNotFound, "not_found")
}

// decisionsData is a page of the audit trail and the filter that chose it.
type decisionsData struct {
	Region, Outcome, Reason, Ticket, From, To string
	Page                                      int
	Entries                                   []lockworker.AuditEntry
	Newer, Older                              string // the links to the next pages; "" for none
	Regions                                   []service.Region
	Outcomes                                  []lockworker.Outcome
	Reasons                                   []lockworker.Reason
	Invalid                                   bool
}

// reasons are the reason codes a decision can have, for the filter.
var reasons = []lockworker.Reason{
	lockworker.ReasonInvalidTicketID, lockworker.ReasonMissingField, lockworker.ReasonUnknownKind,
	lockworker.ReasonInvalidFormReference, lockworker.ReasonInvalidPersonnummer, lockworker.ReasonSamordningsnummer,
	lockworker.ReasonNoAccount, lockworker.ReasonChildPolicy, lockworker.ReasonFormMissing, lockworker.ReasonFormWithdrawn,
	lockworker.ReasonFormTypeMismatch, lockworker.ReasonFormPatientMismatch, lockworker.ReasonFormRegionMismatch,
	lockworker.ReasonFormDateInvalid, lockworker.ReasonFormTooOld, lockworker.ReasonFormUnsigned, lockworker.ReasonUnlockWrongRegion,
}

// stockholm is the zone of the dates in the filter.
var stockholm = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Stockholm")
	if err != nil {
		panic(err) // the binary embeds the zone database (time/tzdata)
	}
	return loc
}()

func (p *Page) handleDecisions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d := decisionsData{
		Region: q.Get("region"), Outcome: q.Get("outcome"), Reason: q.Get("reason"), Ticket: q.Get("ticket"),
		From: q.Get("from"), To: q.Get("to"), Page: 1,
		Regions: p.cfg.Regions, Outcomes: lockworker.Outcomes, Reasons: reasons,
	}
	f := lockworker.AuditFilter{Region: d.Region, Outcome: lockworker.Outcome(d.Outcome), Reason: lockworker.Reason(d.Reason), Ticket: d.Ticket}
	bad := len(d.Ticket) > 64 || !utf8.ValidString(d.Ticket)
	if n, err := strconv.Atoi(q.Get("page")); err == nil && n >= 1 && n <= 100000 {
		d.Page = n
	} else if q.Get("page") != "" {
		bad = true
	}
	if d.From != "" {
		t, err := time.ParseInLocation(time.DateOnly, d.From, stockholm)
		bad = bad || err != nil
		f.Since = t
	}
	if d.To != "" {
		t, err := time.ParseInLocation(time.DateOnly, d.To, stockholm)
		bad = bad || err != nil
		f.Until = t.AddDate(0, 0, 1)
	}
	if bad {
		d.Invalid = true
		p.render(w, r, userOf(r), http.StatusBadRequest, "decisions", d)
		return
	}
	entries, more, err := p.store.AuditPage(r.Context(), f, (d.Page-1)*pageSize, pageSize)
	if err != nil {
		p.storeFailed(w, r, err)
		return
	}
	d.Entries = entries
	link := func(page int) string {
		v := url.Values{}
		for k, val := range map[string]string{"region": d.Region, "outcome": d.Outcome, "reason": d.Reason, "ticket": d.Ticket, "from": d.From, "to": d.To} {
			if val != "" {
				v.Set(k, val)
			}
		}
		v.Set("page", strconv.Itoa(page))
		return "/decisions?" + v.Encode()
	}
	if d.Page > 1 {
		d.Newer = link(d.Page - 1)
	}
	if more {
		d.Older = link(d.Page + 1)
	}
	p.render(w, r, userOf(r), http.StatusOK, "decisions", d)
}

// ticketData is one ticket's whole history, and its personnummer when an
// operator asked to see it.
type ticketData struct {
	Region, Ticket string
	Regions        []service.Region
	Report         *service.TicketReport
	// Decisions are the ticket's entries in the audit trail, newest first,
	// with the evidence each rested on.
	Decisions []lockworker.AuditEntry
	NotFound  bool
	Revealed  string
}

func (p *Page) readTicket(w http.ResponseWriter, r *http.Request, region, ticket string) (ticketData, bool) {
	d := ticketData{Region: region, Ticket: ticket, Regions: p.cfg.Regions}
	if region == "" || ticket == "" {
		return d, true
	}
	if !p.knows(region) || len(ticket) > 64 || !utf8.ValidString(ticket) {
		d.NotFound = true
		return d, true
	}
	rep, err := service.ReadTicket(r.Context(), p.store, region, ticket)
	switch {
	case errors.Is(err, service.ErrNoTicket):
		d.NotFound = true
	case err != nil:
		p.storeFailed(w, r, err)
		return d, false
	default:
		d.Report = &rep
		if d.Decisions, _, err = p.store.AuditPage(r.Context(), lockworker.AuditFilter{Region: region, Ticket: ticket}, 0, pageSize); err != nil {
			p.storeFailed(w, r, err)
			return d, false
		}
	}
	return d, true
}

func (p *Page) handleTicket(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	d, ok := p.readTicket(w, r, q.Get("region"), q.Get("ticket"))
	if !ok {
		return
	}
	status := http.StatusOK
	if d.NotFound {
		status = http.StatusNotFound
	}
	p.render(w, r, userOf(r), status, "ticket", d)
}

// handleTicketReveal shows the ticket with its person's number, once the
// reveal is in the access log.
func (p *Page) handleTicketReveal(w http.ResponseWriter, r *http.Request) {
	region, ticket, why := r.PostFormValue("region"), r.PostFormValue("ticket"), reason(r)
	d, ok := p.readTicket(w, r, region, ticket)
	if !ok {
		return
	}
	if d.Report == nil || why == "" {
		p.renderError(w, r, userOf(r), http.StatusBadRequest, "bad_input")
		return
	}
	if len(d.Decisions) == 0 || d.Decisions[0].Personnummer.IsZero() {
		p.render(w, r, userOf(r), http.StatusOK, "ticket", d)
		return
	}
	pn := d.Decisions[0].Personnummer
	if !p.logAccess(w, r, pn, "reveal: ticket "+region+"/"+ticket, why) {
		return
	}
	d.Revealed = pn.Reveal()
	p.render(w, r, userOf(r), http.StatusOK, "ticket", d)
}

// reason is the free-text reason of a lookup or reveal, trimmed; "" when
// missing or unreasonably long.
func reason(r *http.Request) string {
	why := strings.TrimSpace(r.PostFormValue("why"))
	if len(why) > 500 || !utf8.ValidString(why) {
		return ""
	}
	return why
}

// logAccess writes a look at pn's data to the access log; when it cannot, it
// answers with the failure and returns false, and nothing is shown.
func (p *Page) logAccess(w http.ResponseWriter, r *http.Request, pn lockworker.Personnummer, what, why string) bool {
	u := userOf(r)
	if p.cfg.AccessLog == nil {
		p.renderError(w, r, u, http.StatusServiceUnavailable, "no_access_log")
		return false
	}
	err := p.cfg.AccessLog.RecordAccess(r.Context(), Access{At: p.cfg.Now(), Who: u.Name, Personnummer: pn, What: what, Why: why})
	if err != nil {
		p.storeFailed(w, r, err)
		return false
	}
	p.cfg.Log.Info().Str("user", u.Name).Str("person", pn.Pseudonym()).Str("what", what).Msg("ops page: a person's data shown")
	return true
}

// personData is a person's lock status and history, looked up by number.
type personData struct {
	Number  string
	Why     string
	Looked  bool
	Invalid bool
	Locked  bool
	Locks   []lockworker.Lock
	// Trail is the person's audit trail, newest first.
	Trail []lockworker.AuditEntry
}

func (p *Page) handlePersonForm(w http.ResponseWriter, r *http.Request) {
	if p.cfg.AccessLog == nil {
		p.renderError(w, r, userOf(r), http.StatusServiceUnavailable, "no_access_log")
		return
	}
	p.render(w, r, userOf(r), http.StatusOK, "person", personData{})
}

func (p *Page) handlePerson(w http.ResponseWriter, r *http.Request) {
	raw := r.PostFormValue("personnummer")
	d := personData{Why: reason(r)}
	pn, err := lockworker.ParsePersonnummer(raw, p.cfg.Now())
	if err != nil || d.Why == "" {
		// The number given is not repeated: it may be someone's, mistyped.
		d.Invalid = err != nil
		p.render(w, r, userOf(r), http.StatusBadRequest, "person", d)
		return
	}
	if !p.logAccess(w, r, pn, "lookup", d.Why) {
		return
	}
	locks, err := p.store.Locks(r.Context(), pn)
	if err != nil {
		p.storeFailed(w, r, err)
		return
	}
	trail, err := p.store.PersonTrail(r.Context(), pn)
	if err != nil {
		p.storeFailed(w, r, err)
		return
	}
	slices.Reverse(locks)
	slices.Reverse(trail)
	d.Number, d.Looked, d.Locks, d.Trail = pn.Reveal(), true, locks, trail
	d.Locked = len(locks) > 0 && locks[0].Active()
	p.render(w, r, userOf(r), http.StatusOK, "person", d)
}

// resyncData is the re-sync form, and a preview's or a pass's result.
type resyncData struct {
	Region, Ticket string
	Regions        []service.Region
	Summary        *sync.Summary
	OK             bool
	Problem        string // a message key, with Arg
	Arg            string
}

func (p *Page) handleResyncForm(w http.ResponseWriter, r *http.Request) {
	p.render(w, r, userOf(r), http.StatusOK, "resync", resyncData{Regions: p.cfg.Regions})
}

// handleResync previews a pass (a dry run) or runs it: all regions, one, or
// one ticket.
func (p *Page) handleResync(w http.ResponseWriter, r *http.Request) {
	d := resyncData{Region: r.PostFormValue("region"), Ticket: strings.TrimSpace(r.PostFormValue("ticket")), Regions: p.cfg.Regions}
	if (d.Region != "" && !p.knows(d.Region)) || len(d.Ticket) > 64 || !utf8.ValidString(d.Ticket) {
		p.renderError(w, r, userOf(r), http.StatusBadRequest, "bad_input")
		return
	}
	dryRun := r.PostFormValue("run") != "now"
	u := userOf(r)
	p.cfg.Log.Info().Str("user", u.Name).Str("region", d.Region).Str("ticket", d.Ticket).Bool("dry_run", dryRun).Msg("ops page: re-sync asked for")
	// The pass runs on: a browser that goes away does not cancel the orders
	// under way.
	sum, err := p.svc.Sync(context.WithoutCancel(r.Context()), sync.Options{Region: d.Region, Ticket: d.Ticket, DryRun: dryRun}, "manual")
	var busy *service.ErrBusy
	status := http.StatusOK
	switch {
	case errors.As(err, &busy):
		d.Problem, d.Arg, status = "resync.busy", busy.Pass, http.StatusConflict
	case errors.Is(err, service.ErrStopping):
		d.Problem, status = "resync.stopping", http.StatusServiceUnavailable
	case err != nil:
		p.cfg.Log.Error().Err(err).Msg("ops page: re-sync")
		d.Problem, status = "resync.failed", http.StatusInternalServerError
	default:
		d.Summary, d.OK = &sum, sum.OK()
		if sum.MissingTicket != "" {
			d.Problem, d.Arg = "resync.missing", sum.MissingTicket
		}
	}
	p.render(w, r, u, status, "resync", d)
}

func (p *Page) knows(code string) bool {
	return slices.ContainsFunc(p.cfg.Regions, func(r service.Region) bool { return r.Code == code })
}
