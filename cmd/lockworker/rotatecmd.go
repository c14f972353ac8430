package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/lockworker/lockworker/lockstore"
)

func (a *app) rotateKeyCommand() *cobra.Command {
	var newKeyFile string
	cmd := &cobra.Command{
		Use:   "rotate-key --new-key-file FILE",
		Short: "Seal every personnummer in the lock store under a new data key",
		Long: `Seal every personnummer in the lock store under the key in FILE (make one with
head -c 32 /dev/urandom | base64 > FILE), and give each its lookup hash under
it, in one transaction. Stop the running lockworker processes first: from the
commit on, the store opens only with the new key. Then point
lockstore.data_key_file at FILE on every host; when the key is the one
lockworker made beside an SQLite store, it is replaced there.`,
		Args: args(0),
		RunE: func(cmd *cobra.Command, _ []string) error {
			if newKeyFile == "" {
				return usagef("--new-key-file: required")
			}
			newKey, err := readKeyFile(newKeyFile)
			if err != nil {
				return usagef("--new-key-file: %v", err)
			}
			ctx := cmd.Context()
			cfg, store, err := a.openStoreOnly(ctx, a.openStore)
			if err != nil {
				return err
			}
			defer store.Close()
			n, err := store.RotateDataKey(ctx, newKey)
			if err != nil {
				return err
			}
			// The entry names nobody, so the old key, which this store
			// holds, seals nothing in it.
			what := fmt.Sprintf("%d personnummer sealed under the key with id %s", n, lockstore.KeyID(newKey))
			if err := a.logAdmin(ctx, store, "rotate-key", what, nil); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "%d personnummer sealed under the new key (id %s)\n", n, lockstore.KeyID(newKey))
			if cfg.LockStore.DataKeyFile != "" {
				fmt.Fprintf(a.stdout, "the store now opens only with it: point lockstore.data_key_file at %s\n", newKeyFile)
				return nil
			}
			beside := sqliteFile(cfg.LockStore.DSN.Reveal()) + dataKey.suffix
			if err := replaceKeyFile(beside, newKey); err != nil {
				return fmt.Errorf("the store is sealed under the key in %s, but the key beside it was not replaced: copy that file to %s: %w", newKeyFile, beside, err)
			}
			fmt.Fprintf(a.stdout, "the key beside the store, %s, is the new key\n", beside)
			return nil
		},
	}
	cmd.Flags().StringVar(&newKeyFile, "new-key-file", "", "the file of the new data key")
	return cmd
}

// replaceKeyFile puts key in path, 0600, in one rename.
func replaceKeyFile(path string, key []byte) error {
	tmp := filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".new")
	_ = os.Remove(tmp)
	if _, err := makeKeyFileWith(tmp, key); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return errors.Join(err, os.Remove(tmp))
	}
	return nil
}
