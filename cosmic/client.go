// Package cosmic reads the signed request forms that clinicians fill in in the
// region's health record system (Cambio Cosmic), through the region's FHIR R4
// endpoint, and translates them into lockworker.Form: the evidence the rules
// check, never the form's content.
//
// A form may name its patient, signer and custodian by reference: the Client
// reads each referenced Patient, Practitioner, PractitionerRole or
// Organization from the same endpoint, through the same requests as the form
// itself, and never from another host (docs/FORMS.md).
//
// The Client only reads and translates; whether a form proves an order is for
// package sync to decide. Its reads are retried on 5xx, 429 and network errors
// within a time budget, so that one slow or flapping integration platform
// delays a pass by a bounded time.
package cosmic

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-resty/resty/v2"

	"github.com/lockworker/lockworker"
	"github.com/lockworker/lockworker/internal/httpedge"
	"github.com/lockworker/lockworker/internal/safetext"
	"github.com/lockworker/lockworker/internal/unreachable"
)

// The operations a Client reports to its observer.
const (
	OpForm      = "form"      // GET DocumentReference/{ref}
	OpReference = "reference" // GET {type}/{id}: a party a form refers to
	OpMetadata  = "metadata"  // GET metadata
)

// Defaults of a Client's options.
const (
	DefaultTimeout      = 30 * time.Second
	DefaultReadBudget   = 10 * time.Second
	DefaultRetryWaitMin = 200 * time.Millisecond
	DefaultRetryWaitMax = 2 * time.Second
	// DefaultResponseLimit bounds what a Client reads of an answer. A form
	// whose attachment is inline can be a few megabytes; an answer beyond
	// this is not a form.
	DefaultResponseLimit = 8 << 20
)

// retriesUnbounded is the retry count handed to resty: the read budget, not a
// count, ends the retries of a read.
const retriesUnbounded = 1 << 20

// ErrInvalidReference means that a form reference is not a FHIR id, or is
// "." or "..", which a proxy could take as a step up the path, so that it was
// refused without a request.
var ErrInvalidReference = errors.New(`form reference is not a FHIR id (1 to 64 of A-Z a-z 0-9 - ., other than "." and "..")`)

// StatusError is an answer of the form service other than success.
type StatusError struct {
	StatusCode int
	// Message is what the service's OperationOutcome says, or else the
	// status text; the client's token is never in it.
	Message string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("form service answered %d: %s", e.StatusCode, e.Message)
}

// Client reads forms from one region's FHIR endpoint. It is safe for
// concurrent use.
type Client struct {
	rest       *resty.Client // holds the token, behind a pointer so that printing a Client does not show it
	readBudget time.Duration
	failFast   bool            // whether an unreachable service ends a read at once
	urlErr     error           // why the base URL or the options are unusable, checked before every request
	hider      *safetext.Hider // hides the token from what the service says
	reader     formReader
}

// Option configures a Client.
type Option func(*options)

type options struct {
	timeout    time.Duration
	readBudget time.Duration
	waitMin    time.Duration
	waitMax    time.Duration
	httpClient *http.Client
	observe    func(op string, status int)
	signingExt string
	failFast   bool
	limit      int64
	tls        *tls.Config
}

// WithTimeout bounds each HTTP attempt (default 30s). Non-positive values
// keep the default.
func WithTimeout(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.timeout = d
		}
	}
}

// WithReadBudget bounds the time a read may take with all its retries
// (default 10s, as for every read of Easit and the form service). Non-positive values keep the
// default.
func WithReadBudget(d time.Duration) Option {
	return func(o *options) {
		if d > 0 {
			o.readBudget = d
		}
	}
}

// WithRetryWait sets the least and the most time to wait before a retry
// (default 200ms and 2s); the waits grow exponentially between them, with
// jitter. Non-positive values keep the defaults.
func WithRetryWait(minWait, maxWait time.Duration) Option {
	return func(o *options) {
		if minWait > 0 {
			o.waitMin = minWait
		}
		if maxWait > 0 {
			o.waitMax = maxWait
		}
	}
}

// WithHTTPClient makes requests through a copy of hc (its transport, TLS
// settings and proxy); hc itself is not changed. Whatever hc's redirect
// policy, the client follows no redirect and sends nothing to another origin
// than its base URL's.
func WithHTTPClient(hc *http.Client) Option {
	return func(o *options) {
		if hc != nil {
			o.httpClient = hc
		}
	}
}

// WithResponseLimit bounds the body of each answer, read as it arrives
// (default DefaultResponseLimit); a longer one fails the read, and is not
// retried. Non-positive values keep the default.
func WithResponseLimit(n int64) Option {
	return func(o *options) {
		if n > 0 {
			o.limit = n
		}
	}
}

// WithTLS makes the client use cfg for HTTPS: its root CAs (a region's own
// CA) and its client certificate (mutual TLS, such as a SITHS function
// certificate). The client's transport must be an *http.Transport (or none).
func WithTLS(cfg *tls.Config) Option { return func(o *options) { o.tls = cfg } }

// WithObserver has observe called once per HTTP attempt, retries included,
// with the operation (OpForm or OpMetadata) and the status of the answer, 0
// when there was none (a network error or a timeout). It is meant for metrics
// and must not block.
func WithObserver(observe func(op string, status int)) Option {
	return func(o *options) {
		if observe != nil {
			o.observe = observe
		}
	}
}

// WithSigningTimeExtension takes a form's signing time from the extension
// of the DocumentReference with this URL (its valueDateTime or valueInstant)
// instead of from its date, for a form service that keeps them apart.
func WithSigningTimeExtension(url string) Option {
	return func(o *options) { o.signingExt = url }
}

// WithFailFast ends a read at once, without retries, when the form service
// cannot be reached at all: its name does not resolve, or it refuses the
// connection. It is for a check of the configuration, which should say so at
// once; a pass retries them, since a server that restarts refuses
// connections for a moment.
func WithFailFast() Option { return func(o *options) { o.failFast = true } }

// NewClient returns a client of the FHIR endpoint at baseURL (such as
// "http://127.0.0.1:9101/fhir") that authenticates with the bearer token. It
// follows no redirect and sends nothing, the token least of all, to any
// origin but baseURL's. A baseURL that is not an absolute http or https URL,
// or options that cannot be applied together, make every call fail without a
// request.
func NewClient(baseURL, token string, opts ...Option) *Client {
	o := options{
		timeout:    DefaultTimeout,
		readBudget: DefaultReadBudget,
		waitMin:    DefaultRetryWaitMin,
		waitMax:    DefaultRetryWaitMax,
		observe:    func(string, int) {},
		limit:      DefaultResponseLimit,
	}
	for _, opt := range opts {
		opt(&o)
	}

	// A copy, so that neither the timeout nor the observing transport is
	// imposed on a client the caller shares with others. A redirect is an
	// answer, not followed: it would take the token wherever it points.
	baseURL = strings.TrimRight(baseURL, "/")
	urlErr := checkBaseURL(baseURL)
	hc, err := httpedge.Client(o.httpClient, baseURL, o.tls)
	if err != nil {
		hc, urlErr = &http.Client{}, fmt.Errorf("form service client: %w", err)
	}
	hc.Transport = observingTransport{next: hc.Transport, observe: o.observe}

	rest := resty.NewWithClient(hc).
		SetBaseURL(baseURL).
		SetAuthToken(token).
		SetHeader("Accept", "application/fhir+json").
		SetTimeout(o.timeout).
		SetResponseBodyLimit(int(o.limit)).
		SetRetryCount(retriesUnbounded).
		SetRetryWaitTime(o.waitMin).
		SetRetryMaxWaitTime(max(o.waitMin, o.waitMax)).
		SetLogger(discardLogger{})
	return &Client{
		rest:       rest,
		readBudget: o.readBudget,
		failFast:   o.failFast,
		urlErr:     urlErr,
		hider:      safetext.NewHider("<token>", token),
		reader:     formReader{base: baseURL, signingTimeExtension: o.signingExt},
	}
}

func checkBaseURL(s string) error {
	u, err := url.Parse(s)
	switch {
	case err != nil:
		// The parse error repeats the URL, which may hold a password.
		return errors.New("form service URL does not parse")
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("form service URL: scheme %q is not http or https", u.Scheme)
	case u.Host == "":
		return errors.New("form service URL has no host")
	}
	return nil
}

// Form reads the form by its reference: GET {url}/DocumentReference/{ref},
// and then each Patient, Practitioner, PractitionerRole or Organization the
// form refers to for its patient, signer or custodian (GET {url}/{type}/{id},
// at most one read per party). Its error wraps lockworker.ErrFormNotFound when
// the service has no such form (404 or 410), ErrInvalidReference when ref is
// not a FHIR id (and no request was made), and a *StatusError whenever the
// service answered other than success, to the form's read or a referenced
// resource's.
func (c *Client) Form(ctx context.Context, ref string) (lockworker.Form, error) {
	form, err := c.form(ctx, ref)
	return form, c.hide(err)
}

func (c *Client) form(ctx context.Context, ref string) (lockworker.Form, error) {
	if !lockworker.ValidFormReference(ref) {
		// The reference is not repeated: it may be anything an agent typed.
		return lockworker.Form{}, fmt.Errorf("read form: %w", ErrInvalidReference)
	}
	body, err := c.get(ctx, OpForm, "DocumentReference/"+ref)
	var se *StatusError
	if errors.As(err, &se) && (se.StatusCode == http.StatusNotFound || se.StatusCode == http.StatusGone) {
		return lockworker.Form{}, fmt.Errorf("read form %q: %w: %w", ref, lockworker.ErrFormNotFound, err)
	}
	if err != nil {
		return lockworker.Form{}, fmt.Errorf("read form %q: %w", ref, err)
	}
	d, err := c.reader.decodeForm(ref, body)
	if err != nil {
		return lockworker.Form{}, fmt.Errorf("read form %q: %w", ref, err)
	}
	read := make(map[string][]byte, len(d.reads)) // a resource two parties refer to is read once
	for _, r := range d.reads {
		body, ok := read[r.path]
		if !ok {
			// A referenced resource that is missing is not a missing form:
			// the form cannot be judged until it can be read.
			if body, err = c.get(ctx, OpReference, r.path); err != nil {
				return lockworker.Form{}, fmt.Errorf("read form %q: read its %s %s: %w", ref, r.party.element, r.path, err)
			}
			read[r.path] = body
		}
		identity, err := decodeResource(r, body)
		if err != nil {
			return lockworker.Form{}, fmt.Errorf("read form %q: read its %s %s: %w", ref, r.party.element, r.path, err)
		}
		r.party.set(&d.form, identity)
	}
	return d.form, nil
}

// Metadata reads the service's CapabilityStatement (GET {url}/metadata) with
// the token, to prove that the service is reachable and accepts the token.
func (c *Client) Metadata(ctx context.Context) error {
	body, err := c.get(ctx, OpMetadata, "metadata")
	if err != nil {
		return c.hide(fmt.Errorf("read capability statement: %w", err))
	}
	if err := checkCapabilityStatement(body); err != nil {
		return c.hide(fmt.Errorf("read capability statement: %w", err))
	}
	return nil
}

// hide gives err a text without the token, in whatever form the service
// may have echoed it into a quoted value; errors.Is and As still see err.
func (c *Client) hide(err error) error {
	if err == nil {
		return nil
	}
	return hiddenError{err: err, text: c.hider.Hide(err.Error())}
}

type hiddenError struct {
	err  error
	text string
}

func (e hiddenError) Error() string { return e.text }
func (e hiddenError) Unwrap() error { return e.err }

// errBudgetSpent is the cause of a read's context when its budget runs out.
var errBudgetSpent = errors.New("read budget spent")

// get reads path, retrying within the read budget, and returns the body of a
// successful answer. A read that fails ends with the last answer the service
// gave, as a *StatusError, if it gave one: when the budget runs out during the
// wait before a retry, or during a retry, that says more than the deadline.
func (c *Client) get(ctx context.Context, op, path string) ([]byte, error) {
	if c.urlErr != nil {
		return nil, c.urlErr
	}
	ctx, cancel := context.WithTimeoutCause(ctx, c.readBudget, errBudgetSpent)
	defer cancel()
	var answer *resty.Response // the last attempt that got an answer
	resp, err := c.rest.R().
		SetContext(context.WithValue(ctx, opKey{}, op)).
		AddRetryCondition(func(resp *resty.Response, err error) bool {
			if resp != nil && resp.RawResponse != nil {
				answer = resp
			}
			return retryable(resp, err) && !(c.failFast && unreachable.Is(err))
		}).
		Get(path)
	if resp != nil && resp.RawResponse != nil {
		answer = resp
	}

	if answer != nil && !answer.IsSuccess() {
		err = &StatusError{StatusCode: answer.StatusCode(), Message: c.message(answer)}
	}
	if err != nil && errors.Is(context.Cause(ctx), errBudgetSpent) {
		return nil, fmt.Errorf("gave up after the read budget of %s: %w", c.readBudget, err)
	}
	if err != nil {
		return nil, err
	}
	return answerBody(resp), nil
}

// utf8BOM is the byte-order mark that some integration platforms put before
// a UTF-8 answer; JSON does not allow it, so it is dropped.
var utf8BOM = []byte("\xef\xbb\xbf")

// answerBody returns the body of an answer without a leading byte-order mark.
func answerBody(resp *resty.Response) []byte { return bytes.TrimPrefix(resp.Body(), utf8BOM) }

// message returns what an error answer says, shortened, without the token: a
// service that echoes the request in its diagnostics must not make the token
// reach the logs. The token goes before the text is cut, so that no part of
// it can survive the cut, though a Hider would hide the part left, too.
func (c *Client) message(resp *resty.Response) string {
	msg := operationOutcomeText(answerBody(resp))
	if msg == "" {
		msg = http.StatusText(resp.StatusCode())
	}
	return clip(c.hider.Hide(msg))
}

// retryable reports whether a read should be tried again: after a network
// error, a 5xx or a 429, which may pass. An answer over the size limit will
// not shrink, and a server whose certificate is not trusted will not be.
func retryable(resp *resty.Response, err error) bool {
	var untrusted *tls.CertificateVerificationError
	if err != nil {
		return !errors.Is(err, resty.ErrResponseBodyTooLarge) && !errors.As(err, &untrusted)
	}
	return resp.StatusCode() == http.StatusTooManyRequests || resp.StatusCode() >= 500
}

// opKey carries the operation of a request to the observing transport.
type opKey struct{}

// observingTransport reports every HTTP attempt to the observer. It sits below
// resty's retries, so that each attempt is seen, even one cut short by the
// read budget.
type observingTransport struct {
	next    http.RoundTripper
	observe func(op string, status int)
}

func (t observingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	status := 0
	if err == nil {
		status = resp.StatusCode
	}
	op, _ := req.Context().Value(opKey{}).(string)
	t.observe(op, status)
	return resp, err
}

// discardLogger silences resty, which would otherwise write every failed
// attempt to standard error; errors reach the caller, who logs them once.
type discardLogger struct{}

func (discardLogger) Errorf(string, ...any) {}
func (discardLogger) Warnf(string, ...any)  {}
func (discardLogger) Debugf(string, ...any) {}
