package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime/debug"
	"time"

	"github.com/spf13/cobra"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = ""

// Exit statuses.
const (
	exitOK     = 0
	exitFailed = 1 // the command ran and something failed
	exitUsage  = 2 // the command line or the configuration is wrong
)

// usageError is a mistake in the command line or the configuration.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// errFailed means the command ran but did not succeed in full; it has said
// why already.
var errFailed = errors.New("failed")

// app is the lockworker program: what it reads and writes, and its clock.
type app struct {
	stdout, stderr io.Writer
	getenv         func(string) (string, bool)
	now            func() time.Time
	configPath     string
}

// run runs the lockworker command line and returns its exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) (string, bool)) int {
	a := &app{stdout: stdout, stderr: stderr, getenv: getenv, now: time.Now}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := root.ExecuteContext(ctx)
	var usage usageError
	switch {
	case err == nil:
		return exitOK
	case errors.Is(err, errFailed):
		return exitFailed
	case errors.As(err, &usage):
		fmt.Fprintf(stderr, "lockworker: %v\n", err)
		return exitUsage
	default:
		fmt.Fprintf(stderr, "lockworker: %v\n", err)
		return exitFailed
	}
}

func (a *app) rootCommand() *cobra.Command {
	root := group(&cobra.Command{
		Use:   "lockworker",
		Short: "Locks and unlocks 1177 logins on the orders of regions' support desks",
		Long: `lockworker carries out orders to lock or unlock a resident's login to the 1177
Vårdguiden e-services: it reads each region's Easit GO, checks the signed form in
the region's form service, applies the change in the lock store and resolves the
ticket. Orders it must not carry out go to manual handling with a reason.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	})
	root.CompletionOptions.DisableDefaultCmd = true
	root.PersistentFlags().StringVar(&a.configPath, "config", "", "the configuration file (default: $LOCKWORKER_CONFIG)")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.AddCommand(
		a.demoCommand(),
		a.syncCommand(),
		a.serveCommand(),
		a.statusCommand(),
		a.auditCommand(),
		a.ticketCommand(),
		a.accountsCommand(),
		a.checkCommand(),
		a.migrateCommand(),
		a.versionCommand(),
	)
	return root
}

// group makes cmd, a command that only groups others, print its help when
// called alone and refuse an unknown subcommand as a usage error. Left to
// cobra, a mistyped subcommand ("accounts improt") would print the help and
// exit 0 having done nothing, or at the root exit 1.
func group(cmd *cobra.Command) *cobra.Command {
	cmd.Args = func(cmd *cobra.Command, args []string) error {
		if len(args) > 0 {
			return usagef("unknown command %q for %q (see --help)", args[0], cmd.CommandPath())
		}
		return nil
	}
	cmd.RunE = func(cmd *cobra.Command, _ []string) error { return cmd.Help() }
	return cmd
}

// args checks the number of positional arguments, as a usage error.
func args(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usagef("%s takes %d argument(s), got %d (see --help)", cmd.CommandPath(), n, len(args))
		}
		return nil
	}
}

func (a *app) versionCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  args(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintf(a.stdout, "lockworker %s\n", buildVersion())
			return nil
		},
	}
}

// buildVersion is the version set at build time, else the module version
// the binary was built from.
func buildVersion() string {
	if version != "" {
		return version
	}
	if info, ok := debug.ReadBuildInfo(); ok && info.Main.Version != "" {
		return info.Main.Version
	}
	return "(devel)"
}
