// Package lockworker holds the domain of lockworker: the values its rules are
// written in (personnummer, HSA-id, the order as read from a ticket, the signed
// form), the vocabulary of its decisions (kinds, outcomes and reason codes) and
// the records it keeps (locks, the ticket ledger and the audit trail), and the
// one way a time is shown to people (DisplayTime).
//
// The packages that speak to outside systems (easit, cosmic, lockstore) translate
// to and from these types; package sync makes the decisions with them; only
// cmd/lockworker wires the parts together.
package lockworker
