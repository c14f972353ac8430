// Package easit speaks to Easit GO, the ticket system in which a region's
// support desk registers lock and unlock orders, through its integration API
// (docs/EASIT.md).
//
// Client makes the API's calls, one method per call, with the retry rules the
// API needs: reads are retried on 5xx, 429 and network errors within a time
// budget, and a write is never retried, because Easit appends a ticket's
// Message on every import it receives. Errors say whether a call may be made
// again (Retryable) and whether a failed write may have taken effect anyway
// (Uncertain). Desk maps a region's order view to lockworker.Ticket values and
// sends ticket updates.
package easit

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/go-resty/resty/v2"
	"golang.org/x/time/rate"

	"github.com/lockworker/lockworker/internal/httpedge"
	"github.com/lockworker/lockworker/internal/safetext"
	"github.com/lockworker/lockworker/internal/unreachable"
)

// The operations that Client reports to its observer and names in its errors.
const (
	OpPing   = "ping"   // GET /ping
	OpList   = "list"   // GET /items
	OpImport = "import" // POST /items
)

// Defaults of the client's options.
const (
	DefaultTimeout      = 30 * time.Second
	DefaultReadBudget   = 10 * time.Second // each read is retried for at most 10 seconds
	DefaultRetryWaitMin = 200 * time.Millisecond
	DefaultRetryWaitMax = 2 * time.Second
	// DefaultResponseLimit bounds an answer's body. A page of 100 orders is
	// a few hundred kilobytes.
	DefaultResponseLimit = 8 << 20
)

// maxReadRetries only backstops the read budget, which is what ends the
// retries of a read: with the default waits, 10 seconds hold about ten retries.
const maxReadRetries = 20

// Client is a client of one region's Easit GO integration API. It is safe for
// concurrent use.
type Client struct {
	rc         *resty.Client
	apiKey     string
	readBudget time.Duration
	hider      *safetext.Hider // hides the API key from what Easit says
	// viewLimit bounds the bodies of all the pages of one view read whole.
	viewLimit int64
}

// Option configures a Client.
type Option func(*settings)

type settings struct {
	timeout          time.Duration
	readBudget       time.Duration
	waitMin, waitMax time.Duration
	httpClient       *http.Client
	observer         func(op string, status int)
	limiter          *rate.Limiter
	failFast         bool
	responseLimit    int64
	tls              *tls.Config
}

// WithTimeout sets how long one HTTP attempt may take (default 30s).
func WithTimeout(d time.Duration) Option { return func(s *settings) { s.timeout = d } }

// WithReadBudget sets how long a read may take in all, its retries included
// (default 10s).
func WithReadBudget(d time.Duration) Option { return func(s *settings) { s.readBudget = d } }

// WithRetryWait sets the shortest and the longest wait between two attempts of
// a read (default 200ms and 2s); the waits grow exponentially between the two,
// with jitter.
func WithRetryWait(minWait, maxWait time.Duration) Option {
	return func(s *settings) { s.waitMin, s.waitMax = minWait, maxWait }
}

// WithHTTPClient makes the client send its requests through a copy of hc, with
// hc's transport and cookie jar. The copy's timeout is the one of WithTimeout,
// it follows no redirects and sends nothing to another origin than the base
// URL's; hc itself is left unchanged.
func WithHTTPClient(hc *http.Client) Option { return func(s *settings) { s.httpClient = hc } }

// WithResponseLimit bounds the body of each answer, read as it arrives
// (default DefaultResponseLimit); a longer one fails the call, and is not
// retried. A view read whole (ListAllItems) may take four times as much in
// all. Non-positive values keep the default.
func WithResponseLimit(n int64) Option {
	return func(s *settings) {
		if n > 0 {
			s.responseLimit = n
		}
	}
}

// WithTLS makes the client use cfg for HTTPS: its root CAs (a region's own
// CA) and its client certificate (mutual TLS). The client's transport must
// be an *http.Transport (or none).
func WithTLS(cfg *tls.Config) Option { return func(s *settings) { s.tls = cfg } }

// WithObserver has observe called once per HTTP attempt, retries included,
// with the operation (OpPing, OpList, OpImport) and the answer's status code,
// 0 when no answer came. It lets metrics count requests by status.
func WithObserver(observe func(op string, status int)) Option {
	return func(s *settings) { s.observer = observe }
}

// WithFailFast ends a read at once, without retries, when Easit cannot be
// reached at all: its name does not resolve, or it refuses the connection.
// It is for a check of the configuration, which should say so at once; a
// pass retries them, since a server that restarts refuses connections for a
// moment.
func WithFailFast() Option { return func(s *settings) { s.failFast = true } }

// WithRateLimit makes every HTTP attempt, retries included, wait for limiter,
// so that one region's Easit gets no more requests a second than it allows.
func WithRateLimit(limiter *rate.Limiter) Option { return func(s *settings) { s.limiter = limiter } }

// NewClient returns a client of the Easit GO at baseURL, whose API lives under
// baseURL + "/integration-api", authenticating with apiKey. It follows no
// redirect and sends nothing, the API key least of all, to any origin but
// baseURL's. Options that cannot be applied together make every call fail.
func NewClient(baseURL, apiKey string, opts ...Option) *Client {
	s := settings{
		timeout:       DefaultTimeout,
		readBudget:    DefaultReadBudget,
		waitMin:       DefaultRetryWaitMin,
		waitMax:       DefaultRetryWaitMax,
		responseLimit: DefaultResponseLimit,
	}
	for _, opt := range opts {
		opt(&s)
	}
	baseURL = strings.TrimRight(baseURL, "/")
	// A redirect is answered as a failure, not followed: it would take the
	// API key to wherever it points, and a GET that follows one loses its
	// body.
	hc, err := httpedge.Client(s.httpClient, baseURL, s.tls)
	if err != nil {
		hc = &http.Client{Transport: refused{err}}
	}
	hc.Timeout = s.timeout

	rc := resty.NewWithClient(hc)
	rc.SetBaseURL(baseURL + "/integration-api")
	rc.SetResponseBodyLimit(int(s.responseLimit))
	rc.SetAllowGetMethodPayload(true) // GET /items takes a JSON body
	rc.SetLogger(quietLogger{})       // errors are returned, not logged
	rc.SetRetryCount(maxReadRetries)
	rc.SetRetryWaitTime(s.waitMin)
	rc.SetRetryMaxWaitTime(s.waitMax)
	rc.AddRetryCondition(func(resp *resty.Response, err error) bool {
		return retryRead(resp, err) && !(s.failFast && unreachable.Is(err))
	})
	rc.AddRetryHook(keepLastAnswer)
	if s.observer != nil {
		hc.Transport = observedTransport{next: hc.Transport, observe: s.observer}
	}
	if s.limiter != nil {
		hc.Transport = limitedTransport{next: hc.Transport, limiter: s.limiter}
	}
	return &Client{
		rc: rc, apiKey: apiKey, readBudget: s.readBudget,
		hider:     safetext.NewHider("<api key>", apiKey),
		viewLimit: 4 * s.responseLimit,
	}
}

// refused is the transport of a client whose options could not be applied:
// it sends nothing.
type refused struct{ err error }

func (t refused) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body != nil {
		_ = r.Body.Close()
	}
	return nil, &notSentError{err: fmt.Errorf("the client is misconfigured: %w", t.err)}
}

// retryRead is the client's only retry condition, so that it alone decides
// (but for WithFailFast):
// resty's own default, to retry every network error, would otherwise retry a
// POST whose connection broke after Easit had appended its Message.
func retryRead(resp *resty.Response, err error) bool {
	if resp == nil || resp.Request == nil || resp.Request.Method != http.MethodGet {
		return false
	}
	var untrusted *tls.CertificateVerificationError
	if err != nil {
		// An answer over the size limit will not shrink, and a server whose
		// certificate is not trusted will not be.
		return !errors.Is(err, resty.ErrResponseBodyTooLarge) && !errors.As(err, &untrusted)
	}
	return resp.StatusCode() == http.StatusTooManyRequests || resp.StatusCode() >= 500
}

// read makes a GET call, retried within the read budget.
func (c *Client) read(ctx context.Context, op, path string, body any, auth bool) ([]byte, error) {
	spent := fmt.Errorf("read budget of %s spent", c.readBudget)
	ctx, cancel := context.WithTimeoutCause(ctx, c.readBudget, spent)
	defer cancel()
	return c.send(ctx, op, http.MethodGet, path, body, auth)
}

// send makes one call and returns the body of its 2xx answer, or an *Error.
func (c *Client) send(ctx context.Context, op, method, path string, body any, auth bool) ([]byte, error) {
	info := &callInfo{op: op}
	req := c.rc.R().
		SetContext(context.WithValue(ctx, callKey{}, info)).
		SetHeader("Accept", "application/json")
	if auth {
		// Easit takes the API key as the user name and ignores the password.
		req.SetBasicAuth(c.apiKey, "")
	}
	if body != nil {
		data, err := marshalASCII(body)
		if err != nil {
			return nil, fmt.Errorf("encode %s request: %w", op, err)
		}
		req.SetHeader("Content-Type", "application/json").SetBody(data)
	}
	resp, err := req.Execute(method, path)
	if err == nil && resp.IsSuccess() {
		return withoutBOM(resp.Body()), nil
	}
	answer := resp
	if answer == nil || answer.RawResponse == nil {
		answer = info.lastAnswer
	}
	if answer == nil && info.lastErr != nil && err != nil && !errors.Is(err, info.lastErr) {
		err = fmt.Errorf("%w (the attempt before: %w)", err, info.lastErr)
	}
	e := c.newError(op, method, answer, err)
	// Say why the call ended when its context did: the read budget was spent,
	// or the caller gave up.
	if cause := context.Cause(ctx); cause != nil && !errors.Is(e.Err, cause) {
		if e.Err == nil {
			e.Err = cause
		} else {
			e.Err = fmt.Errorf("%w: %w", cause, e.Err)
		}
	}
	return nil, e
}

// newError describes a failed call, with the last answer it got if any, and
// decides whether it may be made again.
func (c *Client) newError(op, method string, answer *resty.Response, err error) *Error {
	e := &Error{Op: op, Err: err}
	if answer != nil && answer.RawResponse != nil {
		e.StatusCode = answer.StatusCode()
		// The key goes before the text is cut, so that no part of it can
		// survive the cut.
		e.Message = shorten([]byte(c.hider.Hide(string(withoutBOM(answer.Body())))))
	}
	write := method != http.MethodGet
	switch {
	case err != nil && notSent(err):
		e.Retryable = true
	case errors.Is(err, resty.ErrResponseBodyTooLarge):
		// Easit did all it was asked; only its answer is too long.
		e.Uncertain = write
	case err != nil:
		// The request may have reached Easit: a write may have taken effect.
		e.Retryable, e.Uncertain = !write, write
	case e.StatusCode == http.StatusTooManyRequests:
		// Easit turned the request away before doing anything.
		e.Retryable = true
	case e.StatusCode >= 500:
		e.Retryable, e.Uncertain = !write, write
	}
	return e
}

// shorten makes a response body fit in an error message: one line, at most
// maxMessage bytes.
func shorten(body []byte) string {
	const maxMessage = 200
	s := strings.Join(strings.Fields(string(bytes.ToValidUTF8(body, []byte("?")))), " ")
	if len(s) <= maxMessage {
		return s
	}
	cut := maxMessage
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// callInfo is what a call shares, through its context, with the transport
// and the retry hook.
type callInfo struct {
	op string
	// lastAnswer is the last failed answer before a retry, so that a read
	// that ends without an answer (its budget spent during an attempt) can
	// still say what Easit last answered; lastErr is the last attempt's
	// network error, for a read that never got an answer at all.
	lastAnswer *resty.Response
	lastErr    error
}

type callKey struct{}

// keepLastAnswer is a retry hook; resty calls it in the call's goroutine.
func keepLastAnswer(resp *resty.Response, err error) {
	if resp == nil || resp.Request == nil {
		return
	}
	info, ok := resp.Request.Context().Value(callKey{}).(*callInfo)
	switch {
	case !ok:
	case resp.RawResponse != nil:
		info.lastAnswer = resp
	case err != nil:
		info.lastErr = err
	}
}

// limitedTransport holds each HTTP attempt back until its rate limiter allows
// it. An attempt whose context ends while it waits is not sent at all.
type limitedTransport struct {
	next    http.RoundTripper
	limiter *rate.Limiter
}

func (t limitedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	if err := t.limiter.Wait(r.Context()); err != nil {
		return nil, &notSentError{err: fmt.Errorf("wait for the rate limit: %w", err)}
	}
	return t.next.RoundTrip(r)
}

// observedTransport reports every HTTP attempt to the client's observer.
type observedTransport struct {
	next    http.RoundTripper
	observe func(op string, status int)
}

func (t observedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(r)
	status := 0
	if err == nil {
		status = resp.StatusCode
	}
	op := ""
	if info, ok := r.Context().Value(callKey{}).(*callInfo); ok {
		op = info.op
	}
	t.observe(op, status)
	return resp, err
}

// quietLogger silences resty, which would otherwise write every failed attempt
// and a warning about Basic auth on plain HTTP to standard error.
type quietLogger struct{}

func (quietLogger) Errorf(string, ...any) {}
func (quietLogger) Warnf(string, ...any)  {}
func (quietLogger) Debugf(string, ...any) {}
