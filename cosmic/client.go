// Package cosmic reads the signed request forms that clinicians fill in in the
// region's health record system (Cambio Cosmic), through the region's FHIR R4
// endpoint, and translates them into lockworker.Form: the evidence the rules
// check, never the form's content.
//
// The Client only reads and translates; whether a form proves an order is for
// package sync to decide. Its reads are retried on 5xx, 429 and network errors
// within a time budget, so that one slow or flapping integration platform
// delays a pass by a bounded time.
package cosmic

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-resty/resty/v2"

	"github.com/lockworker/lockworker"
)

// The operations a Client reports to its observer.
const (
	OpForm     = "form"     // GET DocumentReference/{ref}
	OpMetadata = "metadata" // GET metadata
)

// Defaults of a Client's options.
const (
	DefaultTimeout      = 30 * time.Second
	DefaultReadBudget   = 10 * time.Second
	DefaultRetryWaitMin = 200 * time.Millisecond
	DefaultRetryWaitMax = 2 * time.Second
)

// maxBody bounds what a Client reads of an answer. A form whose attachment is
// inline can be a few megabytes; an answer beyond this is not a form.
const maxBody = 16 << 20

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
	urlErr     error // why the base URL is unusable, checked before every request
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
// settings, proxy and redirect policy); hc itself is not changed.
func WithHTTPClient(hc *http.Client) Option {
	return func(o *options) {
		if hc != nil {
			o.httpClient = hc
		}
	}
}

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

// NewClient returns a client of the FHIR endpoint at baseURL (such as
// "http://127.0.0.1:9101/fhir") that authenticates with the bearer token. A
// baseURL that is not an absolute http or https URL makes every call fail
// without a request.
func NewClient(baseURL, token string, opts ...Option) *Client {
	o := options{
		timeout:    DefaultTimeout,
		readBudget: DefaultReadBudget,
		waitMin:    DefaultRetryWaitMin,
		waitMax:    DefaultRetryWaitMax,
		httpClient: http.DefaultClient,
		observe:    func(string, int) {},
	}
	for _, opt := range opts {
		opt(&o)
	}

	// A copy, so that neither the timeout nor the observing transport is
	// imposed on a client the caller shares with others.
	hc := *o.httpClient
	next := hc.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	hc.Transport = observingTransport{next: next, observe: o.observe}

	baseURL = strings.TrimRight(baseURL, "/")
	rest := resty.NewWithClient(&hc).
		SetBaseURL(baseURL).
		SetAuthToken(token).
		SetHeader("Accept", "application/fhir+json").
		SetTimeout(o.timeout).
		SetResponseBodyLimit(maxBody).
		SetRetryCount(retriesUnbounded).
		SetRetryWaitTime(o.waitMin).
		SetRetryMaxWaitTime(max(o.waitMin, o.waitMax)).
		SetLogger(discardLogger{})
	return &Client{rest: rest, readBudget: o.readBudget, urlErr: checkBaseURL(baseURL)}
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

// Form reads the form by its reference: GET {url}/DocumentReference/{ref}.
// Its error wraps lockworker.ErrFormNotFound when the service has no such form
// (404 or 410), ErrInvalidReference when ref is not a FHIR id (and no request
// was made), and a *StatusError whenever the service answered other than
// success.
func (c *Client) Form(ctx context.Context, ref string) (lockworker.Form, error) {
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
	form, err := decodeForm(ref, body)
	if err != nil {
		return lockworker.Form{}, fmt.Errorf("read form %q: %w", ref, err)
	}
	return form, nil
}

// Metadata reads the service's CapabilityStatement (GET {url}/metadata) with
// the token, to prove that the service is reachable and accepts the token.
func (c *Client) Metadata(ctx context.Context) error {
	body, err := c.get(ctx, OpMetadata, "metadata")
	if err != nil {
		return fmt.Errorf("read capability statement: %w", err)
	}
	if err := checkCapabilityStatement(body); err != nil {
		return fmt.Errorf("read capability statement: %w", err)
	}
	return nil
}

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
			return retryable(resp, err)
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
	return resp.Body(), nil
}

// message returns what an error answer says, shortened, without the token: a
// service that echoes the request in its diagnostics must not make the token
// reach the logs. The token goes before the text is cut, so that no part of
// it can survive the cut.
func (c *Client) message(resp *resty.Response) string {
	msg := operationOutcomeText(resp.Body())
	if msg == "" {
		msg = http.StatusText(resp.StatusCode())
	}
	if c.rest.Token != "" {
		msg = strings.ReplaceAll(msg, c.rest.Token, "<token>")
	}
	return clip(msg)
}

// retryable reports whether a read should be tried again: after a network
// error, a 5xx or a 429, which may pass. An answer over the size limit will
// not shrink.
func retryable(resp *resty.Response, err error) bool {
	if err != nil {
		return !errors.Is(err, resty.ErrResponseBodyTooLarge)
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
