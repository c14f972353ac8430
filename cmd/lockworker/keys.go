package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"

	"github.com/lockworker/lockworker/config"
	"github.com/lockworker/lockworker/lockstore"
)

// A store key: the data key that seals personnummer, or the audit trail's
// chain key.
type storeKey struct {
	// field names the key in the configuration, suffix its file beside an
	// SQLite database when the configuration gives none.
	field, suffix string
}

var (
	dataKey  = storeKey{field: "lockstore.data_key_file", suffix: ".data-key"}
	auditKey = storeKey{field: "audit.key_file", suffix: ".audit-key"}
)

// storeKey returns a key of the store: the configured one or, on SQLite
// without one, the key in the file beside the database. A writer (create)
// makes that file, 0600, on first use and says so on standard error; a
// reader only reads it, and fails when it is missing.
func (a *app) storeKey(ls config.LockStore, k storeKey, configured config.Secret, create bool) ([]byte, error) {
	if configured != "" {
		return []byte(configured.Reveal()), nil
	}
	if ls.Driver != "sqlite" {
		return nil, usagef("%s: is required with the %s driver", k.field, ls.Driver)
	}
	path := sqliteFile(ls.DSN.Reveal()) + k.suffix
	key, err := readKeyFile(path)
	switch {
	case err == nil:
		return key, nil
	case !errors.Is(err, fs.ErrNotExist) || !create:
		return nil, fmt.Errorf("%s not configured, and the key beside the store: %w", k.field, err)
	}
	key, err = makeKeyFile(path)
	if errors.Is(err, fs.ErrExist) {
		// Another process made it meanwhile.
		key, err = readKeyFile(path)
	}
	if err != nil {
		return nil, fmt.Errorf("%s not configured, and the key beside the store: %w", k.field, err)
	}
	log := newJSONLogger(a.stderr, 0)
	log.Info().Str("key_file", path).Msgf("%s not configured: made a key beside the store; keep a copy of it with the store's backups", k.field)
	return key, nil
}

// sqliteFile is the database file of an SQLite DSN.
func sqliteFile(dsn string) string {
	path, _, _ := strings.Cut(dsn, "?")
	return strings.TrimPrefix(path, "file:")
}

// readKeyFile reads a key as the configuration reads a key file: its bytes
// but for a trailing newline, at least lockstore.MinKeyLen of them.
func readKeyFile(path string) ([]byte, error) {
	data, err := config.ReadKeyFile(path)
	if err != nil {
		return nil, err
	}
	if len(data) < lockstore.MinKeyLen {
		return nil, fmt.Errorf("%s: the key has %d bytes, at least %d are needed", path, len(data), lockstore.MinKeyLen)
	}
	return data, nil
}

// makeKeyFile writes a new random key to path, which must not exist,
// readable by its owner alone.
func makeKeyFile(path string) ([]byte, error) {
	random := make([]byte, lockstore.MinKeyLen)
	_, _ = rand.Read(random) // never fails
	return makeKeyFileWith(path, []byte(base64.StdEncoding.EncodeToString(random)))
}

// makeKeyFileWith writes key to path, which must not exist, readable by its
// owner alone.
func makeKeyFileWith(path string, key []byte) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	_, err = f.Write(append(key, '\n'))
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, errors.Join(fmt.Errorf("write %s: %w", path, err), os.Remove(path))
	}
	return key, nil
}
