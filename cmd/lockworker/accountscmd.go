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
	accounts.AddCommand(&cobra.Command{
		Use:   "import FILE",
		Short: "Add existing accounts, one personnummer a line",
		Long: `Add existing accounts from FILE, one personnummer a line; blank lines and
lines starting with # are skipped. Importing the same account twice changes
nothing. A line that is not a valid personnummer is reported with its line
number and skipped, and the exit status is then 1.`,
		Args: args(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			numbers, invalid, err := a.readAccounts(args[0])
			if err != nil {
				return err
			}
			ctx := cmd.Context()
			_, store, err := a.openStoreOnly(ctx, a.openStore)
			if err != nil {
				return err
			}
			defer store.Close()
			added, err := store.AddAccounts(ctx, numbers)
			if err != nil {
				return fmt.Errorf("add accounts: %w", err)
			}
			fmt.Fprintf(a.stdout, "%d accounts read, %d added, %d already present, %d lines skipped\n",
				len(numbers), added, len(numbers)-added, invalid)
			if invalid > 0 {
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
