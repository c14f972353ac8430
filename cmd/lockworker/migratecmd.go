package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func (a *app) migrateCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "migrate",
		Short: "Create the lock store, or bring its schema up to this lockworker's version",
		Long: `Create the lock store if there is none, or migrate an older one in place to the
schema version of this lockworker, keeping everything it holds. serve and sync
do the same at start; status, audit, ticket and sync --dry-run never do, and
refuse a store that is not at this version. It needs only the lockstore
section of the configuration.`,
		Args: args(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			_, store, err := a.openStoreOnly(ctx, a.openStore)
			if err != nil {
				return err
			}
			defer store.Close()
			version, err := store.SchemaVersion(ctx)
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "the lock store is at schema version %d\n", version)
			return nil
		},
	}
}
