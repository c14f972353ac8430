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
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.LookupEnv)
	stop()
	os.Exit(code)
}
