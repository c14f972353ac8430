package lockstore

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
)

// createPrivate creates the SQLite database file of dsn, if it does not
// exist yet, readable and writable by its owner only (0600), whatever the
// umask: it holds personnummer. SQLite gives its -wal and -shm files the
// database file's mode. An in-memory database has no file.
func createPrivate(dsn string) error {
	path, _, _ := strings.Cut(dsn, "?")
	path = strings.TrimPrefix(path, "file:")
	if path == "" || path == ":memory:" || strings.Contains(dsn, "mode=memory") {
		return nil
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case errors.Is(err, fs.ErrExist), errors.Is(err, fs.ErrNotExist):
		// A file that exists keeps its mode; a directory that does not is
		// for SQLite to report, as it reports every path it cannot open.
		return nil
	case err != nil:
		return fmt.Errorf("create the database file: %w", err)
	}
	// The umask may have taken bits from 0600 that SQLite needs; give them
	// back, and no more.
	err = errors.Join(f.Chmod(0o600), f.Close())
	if err != nil {
		return fmt.Errorf("create the database file: %w", err)
	}
	return nil
}
