// Package lockstore is lockworker's lock store: the existing 1177 accounts,
// the locks with their history, the ledger of every ticket handled, the
// append-only audit trail and the record of passes, in one relational
// database through gorm. SQLite (pure Go, no cgo) is the default and
// PostgreSQL the production database; both get the same schema and the same
// guarantees (docs/RELIABILITY.md).
//
// The guarantees rest on the database rather than on the process, so that
// several lockworker processes may share one: a ticket's decision, its lock
// change and its audit entry are one transaction (Record), at most one lock
// per person is active (a unique partial index), a ticket is decided afresh
// only once its previous update was confirmed (a conditional UPDATE of the
// ledger), and the right to send a ticket's pending update is a lease that
// one process holds at a time (ClaimUpdate).
package lockstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/glebarez/sqlite"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
	"gorm.io/driver/postgres"
	"gorm.io/gorm"
	"gorm.io/gorm/logger"
)

// The drivers Open accepts.
const (
	driverSQLite   = "sqlite"
	driverPostgres = "postgres"
)

// Defaults of zero Options.
const (
	DefaultClaimLease       = 15 * time.Second
	DefaultConnectTimeout   = 5 * time.Second
	DefaultStatementTimeout = 10 * time.Second
)

// ErrNoStore is returned by OpenReadOnly when there is no lock store where
// the configuration says: no SQLite file, or no lockworker schema in the
// PostgreSQL database.
var ErrNoStore = errors.New("no lock store")

// ErrSchemaVersion is returned by OpenReadOnly for a lock store whose schema
// is not the version this lockworker knows: `lockworker migrate` brings an
// older one up to date.
var ErrSchemaVersion = errors.New("the lock store's schema is not this lockworker's")

// Options tune a Store. Zero fields take their defaults.
type Options struct {
	// Now tells the time; default time.Now. It is also gorm's NowFunc.
	Now func() time.Time
	// ClaimLease is how long a claim on a ticket's pending update outlives
	// the last sign of life of its holder, which renews it every third of
	// the lease while it sends: a claim not renewed within it is taken over.
	// Default DefaultClaimLease.
	ClaimLease time.Duration
	// ConnectTimeout bounds the connection to the database, its handshake
	// included; default DefaultConnectTimeout.
	ConnectTimeout time.Duration
	// StatementTimeout bounds each statement and transaction, so that a
	// database that accepts and never answers is an error within seconds;
	// default DefaultStatementTimeout.
	StatementTimeout time.Duration
	// DataKey seals the personnummer the store keeps and keys their lookup
	// hashes: at least MinKeyLen bytes. Required; a store is readable only
	// with the key it was written with (see RotateDataKey).
	DataKey []byte
	// AuditKey keys the audit trail's hash chain (HMAC-SHA256): at least
	// MinKeyLen bytes. Required.
	AuditKey []byte
	// Connections bounds the connections open at once (on SQLite, those of
	// the read pool; writes have one), all kept open between uses so that
	// no call has to connect anew; beyond it, calls queue for a connection
	// rather than crowd the database. Default DefaultConnections.
	Connections int
}

// DefaultConnections is the default of Options.Connections.
const DefaultConnections = 16

func (o Options) withDefaults() Options {
	if o.Connections <= 0 {
		o.Connections = DefaultConnections
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.ClaimLease <= 0 {
		o.ClaimLease = DefaultClaimLease
	}
	if o.ConnectTimeout <= 0 {
		o.ConnectTimeout = DefaultConnectTimeout
	}
	if o.StatementTimeout <= 0 {
		o.StatementTimeout = DefaultStatementTimeout
	}
	return o
}

// Store is the lock store. Its methods are safe for concurrent use, and any
// number of Stores, in one process or several, may share one database.
type Store struct {
	db *gorm.DB
	// reads serves the reads outside transactions: on SQLite a pool of
	// read-only connections beside db, its one writer connection, so that
	// reads never wait for a write and writers queue in the pool rather
	// than busy-wait on the file's lock; db itself elsewhere.
	reads  *gorm.DB
	driver string
	clock  func() time.Time
	lease  time.Duration
	stmt   time.Duration
	// holder names this Store in the claims it holds.
	holder string
	// pn seals and hashes personnummer.
	pn *personCipher
	// auditKey keys the audit trail's chain.
	auditKey []byte
	// group commits concurrent decisions together; nil on a reader.
	group *commitGroup
}

// Open connects to the lock store, creating it if need be, and brings its
// schema up to date (Migrate). driver is "sqlite" (dsn a file path or a
// "file:" URI) or "postgres" (dsn a URL or keyword/value string).
//
// Open refuses a database whose commits would not be durable: an SQLite
// database not in WAL mode with synchronous=FULL (":memory:", say), or a
// PostgreSQL session with synchronous_commit off.
func Open(ctx context.Context, driver, dsn string, opts Options) (*Store, error) {
	s, err := connect(ctx, driver, dsn, opts, false)
	if err != nil {
		return nil, err
	}
	if err := s.prepare(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("open %s lock store: %w", driver, err), s.Close())
	}
	return s, nil
}

// OpenReadOnly connects to an existing lock store to read it. It creates,
// migrates and writes nothing: the database refuses every write (SQLite
// opened read-only, PostgreSQL sessions read-only). It fails with an error
// wrapping ErrNoStore when there is no lock store, and ErrSchemaVersion when
// its schema is not SchemaVersion.
func OpenReadOnly(ctx context.Context, driver, dsn string, opts Options) (*Store, error) {
	if driver == driverSQLite {
		if err := sqliteExists(dsn); err != nil {
			return nil, fmt.Errorf("open sqlite lock store: %w", err)
		}
	}
	s, err := connect(ctx, driver, dsn, opts, true)
	if err != nil {
		return nil, err
	}
	if err := s.checkVersion(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("open %s lock store: %w", driver, err), s.Close())
	}
	if err := s.checkDataKey(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("open %s lock store: %w", driver, err), s.Close())
	}
	return s, nil
}

// connect opens the database without touching it.
func connect(ctx context.Context, driver, dsn string, opts Options, readOnly bool) (*Store, error) {
	opts = opts.withDefaults()
	pn, err := newPersonCipher(opts.DataKey)
	if err != nil {
		return nil, fmt.Errorf("open %s lock store: %w", driver, err)
	}
	if len(opts.AuditKey) < MinKeyLen {
		return nil, fmt.Errorf("open %s lock store: the audit key has %d bytes, at least %d are needed", driver, len(opts.AuditKey), MinKeyLen)
	}
	s := &Store{driver: driver, clock: opts.Now, lease: opts.ClaimLease, stmt: opts.StatementTimeout, holder: rand.Text(), pn: pn, auditKey: opts.AuditKey}

	var dialector, readDialector gorm.Dialector
	switch driver {
	case driverSQLite:
		build := sqliteDSN
		if readOnly {
			build = sqliteReadOnlyDSN
		}
		full, err := build(dsn)
		if err != nil {
			return nil, fmt.Errorf("open sqlite lock store: %w", err)
		}
		if err := createPrivate(dsn); err != nil {
			return nil, fmt.Errorf("open sqlite lock store: %w", err)
		}
		dialector = sqlite.Open(full)
		if !readOnly {
			readDialector = sqlite.Open(full + "&_pragma=query_only(1)")
		}
	case driverPostgres:
		conn, err := postgresConn(dsn, opts, readOnly)
		if err != nil {
			return nil, fmt.Errorf("open postgres lock store: %w", err)
		}
		dialector = postgres.New(postgres.Config{Conn: conn})
	default:
		return nil, fmt.Errorf("open lock store: unknown driver %q (want %q or %q)", driver, driverSQLite, driverPostgres)
	}
	db, err := s.openGorm(dialector, opts.Connections)
	if err != nil {
		return nil, fmt.Errorf("open %s lock store: %w", driver, err)
	}
	s.db, s.reads = db, db
	if readDialector != nil {
		// One writer connection: SQLite has one writer at a time anyway.
		if sqlDB, err := db.DB(); err == nil {
			sqlDB.SetMaxOpenConns(1)
		}
		if s.reads, err = s.openGorm(readDialector, opts.Connections); err != nil {
			return nil, errors.Join(fmt.Errorf("open %s lock store: %w", driver, err), s.Close())
		}
		s.group = &commitGroup{store: s}
	}
	if driver == driverPostgres && !readOnly {
		// Decisions take the store's clock in turn: committed together,
		// they take it once, and wait for the disk once.
		s.group = &commitGroup{store: s}
	}
	if err := s.Ping(ctx); err != nil {
		return nil, errors.Join(fmt.Errorf("open %s lock store: %w", driver, err), s.Close())
	}
	return s, nil
}

// openGorm opens gorm on dialector, with at most conns connections, kept
// open between uses.
func (s *Store) openGorm(dialector gorm.Dialector, conns int) (*gorm.DB, error) {
	db, err := gorm.Open(dialector, &gorm.Config{
		NowFunc: s.now,
		// gorm's default logger prints failed and slow statements with their
		// values, personnummer included; errors are returned instead.
		Logger:         logger.Discard,
		TranslateError: true,
		// Open pings below, with ctx.
		DisableAutomaticPing: true,
	})
	if err != nil {
		return nil, err
	}
	sqlDB, err := db.DB()
	if err != nil {
		return nil, err
	}
	sqlDB.SetMaxOpenConns(conns)
	sqlDB.SetMaxIdleConns(conns)
	return db, nil
}

// postgresConn returns the connection pool of a PostgreSQL DSN, with the
// connect timeout, a server-side statement timeout, and, for a reader,
// sessions that refuse to write.
func postgresConn(dsn string, opts Options, readOnly bool) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's error quotes the DSN, password and all.
		return nil, errors.New("the postgres DSN cannot be parsed")
	}
	cfg.ConnectTimeout = opts.ConnectTimeout
	cfg.RuntimeParams["statement_timeout"] = strconv.FormatInt(opts.StatementTimeout.Milliseconds(), 10)
	if readOnly {
		cfg.RuntimeParams["default_transaction_read_only"] = "on"
	}
	return stdlib.OpenDB(*cfg), nil
}

// prepare checks that the database is durable, and migrates it.
func (s *Store) prepare(ctx context.Context) error {
	if err := s.checkDurable(ctx); err != nil {
		return err
	}
	if err := s.Migrate(ctx); err != nil {
		return err
	}
	return s.checkDataKey(ctx)
}

// checkDurable refuses a database whose commits would not be durable.
func (s *Store) checkDurable(ctx context.Context) error {
	if s.driver == driverSQLite {
		return s.checkSQLiteDurable(ctx)
	}
	return s.checkPostgresDurable(ctx)
}

// Close closes the connections to the database.
func (s *Store) Close() error {
	pools := []*gorm.DB{s.db}
	if s.reads != nil && s.reads != s.db {
		pools = append(pools, s.reads)
	}
	for _, db := range pools {
		sqlDB, err := db.DB()
		if err != nil {
			return fmt.Errorf("close lock store: %w", err)
		}
		if err := sqlDB.Close(); err != nil {
			return fmt.Errorf("close lock store: %w", err)
		}
	}
	return nil
}

// Ping checks that the database is reachable.
func (s *Store) Ping(ctx context.Context) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	sqlDB, err := s.db.DB()
	if err != nil {
		return fmt.Errorf("ping lock store: %w", err)
	}
	if err := sqlDB.PingContext(ctx); err != nil {
		return fmt.Errorf("ping lock store: %w", err)
	}
	return nil
}

// bound gives ctx the statement timeout. Every call to the database goes
// through it, so that a database that accepts a connection and never answers
// fails the call within the timeout whatever the server-side settings.
func (s *Store) bound(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, s.stmt)
}

// now is the injected clock in the form the database keeps: UTC, to the
// microsecond, which is PostgreSQL's precision.
func (s *Store) now() time.Time { return dbTime(s.clock()) }

// dbTime gives t in the form the database keeps. SQLite compares times as
// text, which orders them correctly only when all are in one zone.
func dbTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// sqliteReadOnlyDSN makes a DSN that opens the file read-only (mode=ro) and
// refuses writes on every connection (query_only), waiting for a writer
// rather than failing at once.
func sqliteReadOnlyDSN(dsn string) (string, error) {
	path, query, err := splitSQLiteDSN(dsn)
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(path, "file:") {
		path = "file:" + path
	}
	query.Set("mode", "ro")
	query.Add("_pragma", "busy_timeout(5000)")
	query.Add("_pragma", "query_only(1)")
	return path + "?" + query.Encode(), nil
}

// sqliteExists checks that the SQLite database file of dsn exists, so that a
// reader never creates one.
func sqliteExists(dsn string) error {
	path, _, err := splitSQLiteDSN(dsn)
	if err != nil {
		return err
	}
	path = strings.TrimPrefix(path, "file:")
	if _, err := os.Stat(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("%w: %s does not exist", ErrNoStore, path)
		}
		return fmt.Errorf("look for the database file: %w", err)
	}
	return nil
}

// splitSQLiteDSN splits an SQLite DSN into its path and its parameters.
func splitSQLiteDSN(dsn string) (string, url.Values, error) {
	if dsn == "" {
		return "", nil, errors.New("the sqlite DSN is empty")
	}
	path, rawQuery, _ := strings.Cut(dsn, "?")
	query, err := url.ParseQuery(rawQuery)
	if err != nil {
		return "", nil, fmt.Errorf("parse the parameters of sqlite DSN %q: %w", dsn, err)
	}
	return path, query, nil
}

// sqlitePragmas are run on every pooled connection: wait for another writer
// rather than fail at once, make each commit durable before it returns
// (WAL with synchronous=FULL survives a power cut), and overwrite what is
// deleted or rewritten, so that no personnummer of an earlier version
// lingers in the file's free space.
var sqlitePragmas = []string{"busy_timeout(5000)", "journal_mode(WAL)", "synchronous(FULL)", "secure_delete(ON)"}

// sqliteDSN adds to dsn the driver parameters that make every pooled
// connection run sqlitePragmas and begin its transactions IMMEDIATE, so that
// a writer takes the database's write lock at BEGIN and two processes on one
// file queue up rather than fail when one upgrades from reading to writing.
// Parameters the caller gave are kept, and take precedence over ours (Open
// still refuses a database that is not durable).
func sqliteDSN(dsn string) (string, error) {
	path, query, err := splitSQLiteDSN(dsn)
	if err != nil {
		return "", err
	}
	given := map[string]bool{}
	for _, p := range query["_pragma"] {
		given[pragmaName(p)] = true
	}
	for _, p := range sqlitePragmas {
		if !given[pragmaName(p)] {
			query.Add("_pragma", p)
		}
	}
	if !query.Has("_txlock") {
		query.Set("_txlock", "immediate")
	}
	return path + "?" + query.Encode(), nil
}

// pragmaName is the name of a _pragma parameter: "synchronous" of
// "synchronous(FULL)" or "synchronous=FULL".
func pragmaName(p string) string {
	name, _, _ := strings.Cut(p, "(")
	name, _, _ = strings.Cut(name, "=")
	return strings.ToLower(strings.TrimSpace(name))
}

// checkSQLiteDurable refuses a database whose commits could be lost.
func (s *Store) checkSQLiteDurable(ctx context.Context) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var mode string
	var synchronous int
	db := s.db.WithContext(ctx)
	if err := db.Raw("PRAGMA journal_mode").Row().Scan(&mode); err != nil {
		return fmt.Errorf("read journal_mode: %w", err)
	}
	if err := db.Raw("PRAGMA synchronous").Row().Scan(&synchronous); err != nil {
		return fmt.Errorf("read synchronous: %w", err)
	}
	// synchronous: 2 is FULL, 3 EXTRA.
	if !strings.EqualFold(mode, "wal") || synchronous < 2 {
		return fmt.Errorf("commits would not be durable: journal_mode is %s and synchronous %d, want wal and 2 (FULL)", mode, synchronous)
	}
	return nil
}

// checkPostgresDurable refuses a session whose commits return before they
// are on disk.
func (s *Store) checkPostgresDurable(ctx context.Context) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var setting string
	if err := s.db.WithContext(ctx).Raw("SHOW synchronous_commit").Row().Scan(&setting); err != nil {
		return fmt.Errorf("read synchronous_commit: %w", err)
	}
	if setting == "off" {
		return errors.New("commits would not be durable: synchronous_commit is off")
	}
	return nil
}
