// Package unreachable tells the network errors which say that a server could
// not be reached at all, as opposed to one that answered badly or too slowly:
// its name did not resolve, or it refused the connection. Whoever checks a
// configuration reports these at once; a retry a moment later would rarely
// do better.
package unreachable

import (
	"errors"
	"net"
	"syscall"
)

// Is reports whether err says that the server could not be reached: the
// lookup of its name failed (no such host, or no answer from the resolver),
// or nothing listens at its address (the connection was refused).
func Is(err error) bool {
	var dns *net.DNSError
	return errors.As(err, &dns) || errors.Is(err, syscall.ECONNREFUSED)
}
