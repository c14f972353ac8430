package lockstore

import (
	"database/sql"
	"time"

	"github.com/lockworker/lockworker"
)

// The rows of the five tables, as gorm maps them. They stay unexported: the
// Store speaks the lockworker types, and these are only their shape in SQL.

// accountRow is an existing 1177 account: a lock applies only to one.
type accountRow struct {
	Personnummer string    `gorm:"primaryKey;size:12"`
	RegisteredAt time.Time `gorm:"not null"`
}

func (accountRow) TableName() string { return "accounts" }

// lockRow is a lock, active while LiftedAt is NULL. The partial unique index
// makes the database itself refuse a second active lock for one person, so
// that no race between processes can create one.
type lockRow struct {
	ID             int64     `gorm:"primaryKey"`
	Personnummer   string    `gorm:"size:12;not null;index:locks_personnummer;uniqueIndex:locks_one_active_per_person,where:lifted_at IS NULL"`
	Region         string    `gorm:"not null"`
	Ticket         string    `gorm:"not null"`
	Form           string    `gorm:"not null"`
	LockedAt       time.Time `gorm:"not null"`
	ProxySuspended bool      `gorm:"not null"`
	LiftedAt       sql.NullTime
	LiftedRegion   string `gorm:"not null"`
	LiftedTicket   string `gorm:"not null"`
	LiftedForm     string `gorm:"not null"`
}

func (lockRow) TableName() string { return "locks" }

// ledgerRow is the ledger's entry for a ticket: the latest decision on it,
// whether its lock change was applied, and whether the ticket system has
// confirmed the update. ClaimHolder is the Store that holds the right to send
// the pending update ("" for none), and ClaimUntil when it loses it unless it
// renews it. The marks are the lock store's marks (lockworker.Mark) of the
// decision, its confirmation and the end of the last attempt to send it.
type ledgerRow struct {
	Region        string    `gorm:"primaryKey"`
	Ticket        string    `gorm:"primaryKey"`
	Round         int       `gorm:"not null"`
	Kind          string    `gorm:"not null"`
	Outcome       string    `gorm:"not null"`
	Reason        string    `gorm:"not null"`
	Status        string    `gorm:"not null"`
	Comment       string    `gorm:"not null"`
	DecidedAt     time.Time `gorm:"not null"`
	AppliedAt     sql.NullTime
	ConfirmedAt   sql.NullTime
	ClaimUntil    time.Time `gorm:"not null"`
	Reporter      string    `gorm:"not null"`
	ReporterHSAID string    `gorm:"column:reporter_hsa_id;not null"`
	// Since schema version 2.
	DecidedMark    int64  `gorm:"not null;default:0"`
	ConfirmedMark  int64  `gorm:"not null;default:0"`
	AttemptEndMark int64  `gorm:"not null;default:0"`
	ClaimHolder    string `gorm:"not null;default:''"`
}

func (ledgerRow) TableName() string { return "tickets" }

// ledgerRowV1 is the ledger's entry as schema version 1 made it, kept so
// that version 1 stays what it was whatever later versions add.
type ledgerRowV1 struct {
	Region        string    `gorm:"primaryKey"`
	Ticket        string    `gorm:"primaryKey"`
	Round         int       `gorm:"not null"`
	Kind          string    `gorm:"not null"`
	Outcome       string    `gorm:"not null"`
	Reason        string    `gorm:"not null"`
	Status        string    `gorm:"not null"`
	Comment       string    `gorm:"not null"`
	DecidedAt     time.Time `gorm:"not null"`
	AppliedAt     sql.NullTime
	ConfirmedAt   sql.NullTime
	ClaimUntil    time.Time `gorm:"not null"`
	Reporter      string    `gorm:"not null"`
	ReporterHSAID string    `gorm:"column:reporter_hsa_id;not null"`
}

func (ledgerRowV1) TableName() string { return "tickets" }

// clockRow is the lock store's clock (lockworker.Mark): one row, whose tick
// every recorded step advances. Since schema version 2.
type clockRow struct {
	ID   int   `gorm:"primaryKey;autoIncrement:false"`
	Tick int64 `gorm:"not null"`
}

func (clockRow) TableName() string { return "store_clock" }

// ticketEventRow is one step in a ticket's history (lockworker.TicketEvent).
// Since schema version 2.
type ticketEventRow struct {
	ID            int64     `gorm:"primaryKey"`
	At            time.Time `gorm:"not null"`
	Region        string    `gorm:"not null;index:ticket_events_ticket,priority:1"`
	Ticket        string    `gorm:"not null;index:ticket_events_ticket,priority:2"`
	Round         int       `gorm:"not null"`
	Pass          string    `gorm:"not null"`
	Event         string    `gorm:"not null"`
	Kind          string    `gorm:"not null"`
	Outcome       string    `gorm:"not null"`
	Reason        string    `gorm:"not null"`
	Status        string    `gorm:"not null"`
	Comment       string    `gorm:"not null"`
	Reporter      string    `gorm:"not null"`
	ReporterHSAID string    `gorm:"column:reporter_hsa_id;not null"`
	Form          string    `gorm:"not null"`
	Detail        string    `gorm:"not null"`
}

func (ticketEventRow) TableName() string { return "ticket_events" }

// auditRow is one decision in the audit trail. Triggers (appendOnlyTriggers)
// refuse to update or delete one.
type auditRow struct {
	ID            int64     `gorm:"primaryKey"`
	At            time.Time `gorm:"not null;index:audit_entries_at"`
	Pass          string    `gorm:"not null"`
	Region        string    `gorm:"not null"`
	Ticket        string    `gorm:"not null"`
	Kind          string    `gorm:"not null"`
	Outcome       string    `gorm:"not null"`
	Reason        string    `gorm:"not null"`
	Personnummer  string    `gorm:"size:12;not null"` // empty when the order gave no valid one
	Reporter      string    `gorm:"not null"`
	ReporterHSAID string    `gorm:"column:reporter_hsa_id;not null"`
	Form          string    `gorm:"not null"`
	Signer        string    `gorm:"not null"`
	SignedAt      sql.NullTime
}

func (auditRow) TableName() string { return "audit_entries" }

// passRow records one pass. Its lists and counts are JSON: they are read back
// whole and never queried into.
type passRow struct {
	ID            string                     `gorm:"primaryKey"`
	StartedAt     time.Time                  `gorm:"not null;index:passes_started_at"`
	FinishedAt    time.Time                  `gorm:"not null"`
	Regions       []string                   `gorm:"type:text;serializer:json"`
	Outcomes      map[lockworker.Outcome]int `gorm:"type:text;serializer:json"`
	FailedRegions []string                   `gorm:"type:text;serializer:json"`
}

func (passRow) TableName() string { return "passes" }

// tablesV1 are the tables of schema version 1.
var tablesV1 = []any{&accountRow{}, &lockRow{}, &ledgerRowV1{}, &auditRow{}, &passRow{}}

// appendOnlyTriggers make the audit trail append-only in the database itself,
// whatever program writes to it: each dialect's statements install triggers
// that refuse every UPDATE and DELETE of audit_entries (and, on PostgreSQL,
// TRUNCATE, which bypasses row triggers). They are safe to run at every start.
var appendOnlyTriggers = map[string][]string{
	driverSQLite: {
		`CREATE TRIGGER IF NOT EXISTS audit_entries_no_update BEFORE UPDATE ON audit_entries
		BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END`,
		`CREATE TRIGGER IF NOT EXISTS audit_entries_no_delete BEFORE DELETE ON audit_entries
		BEGIN SELECT RAISE(ABORT, 'audit_entries is append-only'); END`,
	},
	driverPostgres: {
		`CREATE OR REPLACE FUNCTION audit_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
		BEGIN RAISE EXCEPTION 'audit_entries is append-only: % refused', TG_OP; END $$`,
		// CREATE OR REPLACE TRIGGER needs PostgreSQL 14 or later.
		`CREATE OR REPLACE TRIGGER audit_entries_append_only
		BEFORE UPDATE OR DELETE OR TRUNCATE ON audit_entries
		FOR EACH STATEMENT EXECUTE FUNCTION audit_entries_append_only()`,
	},
}
