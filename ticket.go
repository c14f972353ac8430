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
}
