package lockworker

import (
	"crypto/sha256"
	"encoding/hex"
	"unicode/utf8"

	"github.com/lockworker/lockworker/internal/safetext"
)

// Ticket is one item of a region's order view as its ticket system gave it,
// before any rule has been applied. Each order field holds every value the
// item gave it, in the order given, a null left out: a field may be missing,
// empty or given more than once, and the rules decide what that means.
type Ticket struct {
	// ID is the ticket number people see, by which lockworker knows the
	// ticket: as the ticket system gave it when it is a valid ticket number
	// (ValidTicketID), else TicketKey of it.
	ID string
	// GivenID is the ticket number as the ticket system gave it when that is
	// not a valid one, and empty otherwise. The ticket is updated by it.
	GivenID string
	Status  string

	Kind          []string
	Personnummer  []string
	FormRef       []string
	Created       []string // UTC ISO 8601
	Reporter      []string
	ReporterHSAID []string
}

// UpdateID is the number by which the ticket system knows the ticket.
func (t Ticket) UpdateID() string {
	if t.GivenID != "" {
		return t.GivenID
	}
	return t.ID
}

// MaxTicketIDLength bounds a ticket number, in bytes. Easit's are integers;
// anything longer is not a ticket number.
const MaxTicketIDLength = 64

// ValidTicketID reports whether id can be taken as a ticket number as it is:
// 1 to MaxTicketIDLength bytes of UTF-8 without control characters, so that
// it can be stored and printed safely.
func ValidTicketID(id string) bool {
	return id != "" && len(id) <= MaxTicketIDLength && safetext.Clean(id)
}

// TicketKey is the ID lockworker gives a ticket whose number given is not a
// valid one: its beginning, escaped, and a hash of the whole, so that two
// such tickets never share a key. A key is longer than MaxTicketIDLength, so
// that it can never be the number of another, valid, ticket either. A valid
// number is its own key.
func TicketKey(given string) string {
	if ValidTicketID(given) {
		return given
	}
	head := given
	for n, i := 0, 0; i < len(given); n++ {
		if n == 16 {
			head = given[:i] + "…"
			break
		}
		_, size := utf8.DecodeRuneInString(given[i:])
		i += size
	}
	sum := sha256.Sum256([]byte(given))
	return safetext.Escape(head) + "#" + hex.EncodeToString(sum[:])
}

// TicketUpdate sets a ticket's status and appends one comment to its log.
type TicketUpdate struct {
	Ticket  string
	Status  string
	Comment string
	// Key names the update in the ticket system's log (Easit's uid of an
	// imported item): the same for every attempt to send one decision, so
	// that each attempt can be traced.
	Key string
}

// UpdateRef names the ticket update of a ticket's decision at a round.
type UpdateRef struct {
	Ticket string
	Round  int
}
