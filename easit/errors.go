package easit

import (
	"errors"
	"fmt"
	"net"
	"net/http"
)

// Error is a failed call to Easit: an answer with a status other than 2xx, or
// no answer at all. Its text never holds the API key.
type Error struct {
	Op         string // OpPing, OpList or OpImport
	StatusCode int    // the status of the (last) answer; 0 if none came
	Message    string // the answer's text, on one line and shortened
	Err        error  // why no answer came, nil if one did

	// Retryable reports that the same call may be made again without harm:
	// a read that failed on a 5xx, a 429 or the network, or a write that
	// Easit is known not to have received (the connection could not be made)
	// or turned away (429).
	Retryable bool
	// Uncertain reports that a write failed after it may have reached Easit (a
	// timeout, a broken connection, a 5xx): it may have taken effect. Do not
	// send it again; read the ticket back instead, since Easit appends the
	// Message of every import it receives.
	Uncertain bool
}

func (e *Error) Error() string {
	answer := ""
	if e.StatusCode != 0 {
		answer = fmt.Sprintf("HTTP %d %s", e.StatusCode, http.StatusText(e.StatusCode))
		if e.Message != "" {
			answer += ": " + e.Message
		}
	}
	switch {
	case e.Err == nil:
		return answer
	case answer == "":
		return e.Err.Error()
	default:
		return fmt.Sprintf("%v (last answer %s)", e.Err, answer)
	}
}

func (e *Error) Unwrap() error { return e.Err }

// ItemError is an item of an import that Easit did not carry out, although
// the import as a whole was answered with 200.
type ItemError struct {
	UID string
	// Result is Easit's result for the item, "Exception" or "Skipped", or ""
	// when the answer had no result for the item at all.
	Result  string
	Message string // Easit's skippedOrExceptionMessage
}

func (e *ItemError) Error() string {
	if e.Result == "" {
		return fmt.Sprintf("item %s: no result in Easit's answer", e.UID)
	}
	if e.Message == "" {
		return fmt.Sprintf("item %s: %s", e.UID, e.Result)
	}
	return fmt.Sprintf("item %s: %s: %s", e.UID, e.Result, e.Message)
}

// Retryable reports whether err comes from a call that may safely be made
// again (see Error.Retryable).
func Retryable(err error) bool {
	var e *Error
	return errors.As(err, &e) && e.Retryable
}

// Uncertain reports whether err comes from a write that may have taken effect
// although it failed (see Error.Uncertain), or from an import whose answer
// left an item out.
func Uncertain(err error) bool {
	var e *Error
	if errors.As(err, &e) {
		return e.Uncertain
	}
	var ie *ItemError
	return errors.As(err, &ie) && ie.Result == ""
}

// notSent reports whether err shows that the request never left: the
// connection to Easit could not be made, or the rate limit held it back.
func notSent(err error) bool {
	var op *net.OpError
	var held *notSentError
	return errors.As(err, &held) || (errors.As(err, &op) && op.Op == "dial")
}

// notSentError is a request that was held back and never sent.
type notSentError struct{ err error }

func (e *notSentError) Error() string { return e.err.Error() }
func (e *notSentError) Unwrap() error { return e.err }
