package main

import (
	"bufio"
	"fmt"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lockworker/lockworker"
)

func (a *app) accountsCommand() *cobra.Command {
	accounts := group(&cobra.Command{
		Use:   "accounts",
		Short: "Manage the existing 1177 accounts that locks apply to",
	})
	var replace bool
	imp := &cobra.Command{
		Use:   "import [--replace] FILE",
		Short: "Add existing accounts, one personnummer a line",
		Long: `Add existing accounts from FILE, one personnummer a line; blank lines and
lines starting with # are skipped. Importing the same account twice changes
nothing. A line that is not a valid personnummer is reported with its line
number and skipped, and the exit status is then 1.

With --replace the accounts become exactly the file's: accounts not in it are
removed, but a person whose login is locked keeps their account, and is
reported. A file with an invalid line replaces nothing. Each import is an
entry of the audit trail.`,
		Args: args(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			numbers, invalid, err := a.readAccounts(args[0])
			if err != nil {
				return err
			}
			if replace && invalid > 0 {
				fmt.Fprintf(a.stderr, "lockworker: %d invalid lines: nothing replaced\n", invalid)
				return errFailed
			}
			ctx := cmd.Context()
			_, store, err := a.openStoreOnly(ctx, a.openStore)
			if err != nil {
				return err
			}
			defer store.Close()
			var what string
			if replace {
				added, removed, kept, err := store.ReplaceAccounts(ctx, numbers)
				if err != nil {
					return err
				}
				what = fmt.Sprintf("%d accounts read, %d added, %d removed, %d kept because the person is locked", len(numbers), added, removed, len(kept))
				for _, pn := range kept {
					fmt.Fprintf(a.stdout, "kept, locked: %v\n", pn)
				}
			} else {
				added, err := store.AddAccounts(ctx, numbers)
				if err != nil {
					return fmt.Errorf("add accounts: %w", err)
				}
				what = fmt.Sprintf("%d accounts read, %d added, %d already present, %d lines skipped", len(numbers), added, len(numbers)-added, invalid)
			}
			command := "accounts import"
			if replace {
				command += " --replace"
			}
			if err := a.logAdmin(ctx, store, command, what, nil); err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, what)
			if invalid > 0 {
				return errFailed
			}
			return nil
		},
	}
	imp.Flags().BoolVar(&replace, "replace", false, "make the accounts exactly the file's")
	accounts.AddCommand(imp, &cobra.Command{
		Use:   "count",
		Short: "Print how many existing accounts the lock store knows",
		Args:  args(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			_, store, err := a.openStoreOnly(ctx, a.openStore)
			if err != nil {
				return err
			}
			defer store.Close()
			n, err := store.CountAccounts(ctx)
			if err != nil {
				return err
			}
			if err := a.logAdmin(ctx, store, "accounts count", fmt.Sprintf("%d accounts", n), nil); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "%d accounts\n", n)
			return nil
		},
	}, &cobra.Command{
		Use:   "remove PERSONNUMMER",
		Short: "Remove a person's existing account, unless they are locked",
		Long: `Remove the person's existing account, so that a lock order for them goes to
manual handling. The account of a person whose login is locked stays (exit 1).
Each removal is an entry of the audit trail.`,
		Args: args(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			pn, err := lockworker.ParsePersonnummer(args[0], a.now())
			if err != nil {
				return usageError{err}
			}
			ctx := cmd.Context()
			_, store, err := a.openStoreOnly(ctx, a.openStore)
			if err != nil {
				return err
			}
			defer store.Close()
			removed, locked, err := store.RemoveAccount(ctx, pn)
			if err != nil {
				return err
			}
			what := "account removed"
			switch {
			case locked:
				what = "account kept: the person's login is locked"
			case !removed:
				what = "no such account"
			}
			if err := a.logAdmin(ctx, store, "accounts remove", what, []lockworker.Personnummer{pn}); err != nil {
				return err
			}
			fmt.Fprintln(a.stdout, what)
			if locked {
				return errFailed
			}
			return nil
		},
	})
	return accounts
}

// readAccounts reads an account file. Each invalid line is reported on
// standard error by its number only: the line may be a real person's number
// with a typo, and is not repeated.
func (a *app) readAccounts(path string) (numbers []lockworker.Personnummer, invalid int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, 0, usageError{err}
	}
	defer f.Close()
	now := a.now()
	sc := bufio.NewScanner(f)
	for line := 1; sc.Scan(); line++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		p, err := lockworker.ParsePersonnummer(text, now)
		if err != nil {
			invalid++
			fmt.Fprintf(a.stderr, "%s:%d: skipped: %v\n", path, line, err)
			continue
		}
		numbers = append(numbers, p)
	}
	if err := sc.Err(); err != nil {
		return nil, 0, fmt.Errorf("read %s: %w", path, err)
	}
	return numbers, invalid, nil
}
