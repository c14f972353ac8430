package lockworker

// Ticket is one item of a region's order view as its ticket system gave it,
// before any rule has been applied. Each order field holds every value the
// item gave it, in the order given, a null left out: a field may be missing,
// empty or given more than once, and the rules decide what that means.
type Ticket struct {
	// ID is the ticket number people see, by which the ticket is updated.
	ID     string
	Status string

	Kind          []string
	Personnummer  []string
	FormRef       []string
	Created       []string // UTC ISO 8601
	Reporter      []string
	ReporterHSAID []string
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
