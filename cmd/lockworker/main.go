// Command lockworker locks and unlocks residents' logins to the 1177
// Vårdguiden e-services on the orders of Swedish regions' support desks: it
// reads each region's Easit GO, checks the signed form in the region's form
// service, applies the change in the lock store and resolves the ticket.
//
// Run `lockworker demo` to see a pass against built-in sample regions, and
// `lockworker --help` for the commands.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
)

// memoryLimit is the heap the garbage collector keeps lockworker within
// (unless GOMEMLIMIT says otherwise). What a pass holds at once is bounded by
// the response limits; without a limit, a collector starved of CPU on a busy
// host lets garbage pile up to several times that.
const memoryLimit = 128 << 20

func main() {
	if _, set := os.LookupEnv("GOMEMLIMIT"); !set {
		debug.SetMemoryLimit(memoryLimit)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.LookupEnv)
	stop()
	os.Exit(code)
}
