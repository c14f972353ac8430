package lockstore

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/lockworker/lockworker"
)

// The audit trail is a hash chain: each entry carries Hash, HMAC-SHA256
// under the audit key over its content (the personnummer in clear, so that
// rotating the data key leaves it valid) and PrevHash, the Hash of the entry
// before it. Entries are numbered by Seq, one after another. The chain's
// head (the last Seq and Hash, itself authenticated) is one row that every
// append updates: on PostgreSQL the append locks it, so that appends from
// any number of processes queue up into one line. A checkpoint says where
// the kept part of the chain begins: at the first entry, or after a purge,
// at the first entry kept, with the Hash of the entry before it.

// ErrChainBroken is returned by VerifyAudit when an entry of the audit trail
// was changed, removed or inserted; the error names the first.
var ErrChainBroken = errors.New("the audit trail's hash chain is broken")

// chainHeadRow is the head of the chain: one row. Since schema version 4.
type chainHeadRow struct {
	ID   int    `gorm:"primaryKey;autoIncrement:false"`
	Seq  int64  `gorm:"not null"`
	Hash string `gorm:"not null"`
	MAC  string `gorm:"column:mac;not null"`
}

func (chainHeadRow) TableName() string { return "audit_chain" }

// checkpointRow says where the kept chain begins: Seq is its first entry,
// PrevHash the Hash of the entry before it ("" for none). Since schema
// version 4.
type checkpointRow struct {
	Seq      int64     `gorm:"primaryKey;autoIncrement:false"`
	PrevHash string    `gorm:"not null"`
	At       time.Time `gorm:"not null"`
	Note     string    `gorm:"not null"`
	MAC      string    `gorm:"column:mac;not null"`
}

func (checkpointRow) TableName() string { return "audit_checkpoints" }

// mac is the hex HMAC-SHA256 of fields, encoded as a JSON array so that no
// two lists of fields give the same bytes.
func (s *Store) mac(fields ...any) string {
	data, err := json.Marshal(fields)
	if err != nil {
		// Strings, numbers and booleans always marshal.
		panic(fmt.Sprintf("encode audit fields: %v", err))
	}
	m := hmac.New(sha256.New, s.auditKey)
	m.Write(data)
	return hex.EncodeToString(m.Sum(nil))
}

// entryHash is the Hash of row, whose person is person in clear.
func (s *Store) entryHash(row *auditRow, person string) string {
	signed := ""
	if row.SignedAt.Valid {
		signed = row.SignedAt.Time.UTC().Format(time.RFC3339Nano)
	}
	return s.mac("entry", row.Seq, row.At.UTC().Format(time.RFC3339Nano), row.Category, row.Pass, row.Region, row.Ticket,
		row.Kind, row.Outcome, row.Reason, person, row.Reporter, row.ReporterHSAID, row.Form, row.Signer, signed,
		row.Actor, row.Purpose, row.PrevHash)
}

func (s *Store) headMAC(seq int64, hash string) string { return s.mac("head", seq, hash) }

func (s *Store) checkpointMAC(c checkpointRow) string {
	return s.mac("checkpoint", c.Seq, c.PrevHash, c.At.UTC().Format(time.RFC3339Nano), c.Note)
}

// appendAudit appends row, whose person is person in clear, to the chain in
// tx: it takes the head (on PostgreSQL, locking it until tx ends), links the
// row to it and moves it on.
func (s *Store) appendAudit(tx *gorm.DB, row *auditRow, person string) error {
	var head chainHeadRow
	err := tx.Clauses(clause.Locking{Strength: clause.LockingStrengthUpdate}).Where("id = 1").Take(&head).Error
	if err != nil {
		return fmt.Errorf("append to the audit trail: read the chain's head: %w", err)
	}
	row.Seq, row.PrevHash = head.Seq+1, head.Hash
	row.Hash = s.entryHash(row, person)
	if err := tx.Create(row).Error; err != nil {
		return fmt.Errorf("append to the audit trail: %w", err)
	}
	res := tx.Model(&chainHeadRow{}).Where("id = 1 AND seq = ?", head.Seq).
		Updates(map[string]any{"seq": row.Seq, "hash": row.Hash, "mac": s.headMAC(row.Seq, row.Hash)})
	if res.Error != nil {
		return fmt.Errorf("append to the audit trail: move the chain's head: %w", res.Error)
	}
	if res.RowsAffected != 1 {
		return errors.New("append to the audit trail: the chain's head moved meanwhile")
	}
	return nil
}

// LogAccess enters a in the audit trail: one entry for each person it names
// (so that each person's extract lists it), or one naming nobody.
func (s *Store) LogAccess(ctx context.Context, a lockworker.Access) error {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if a.Category != lockworker.AuditAccess && a.Category != lockworker.AuditAdmin {
		return fmt.Errorf("log access: unknown category %q", a.Category)
	}
	people := a.People
	if len(people) == 0 {
		people = []lockworker.Personnummer{{}}
	}
	err := s.db.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		for _, pn := range people {
			row := &auditRow{
				At:           dbTime(a.At),
				Kind:         a.Command,
				Category:     string(a.Category),
				Actor:        a.Actor,
				Purpose:      a.Purpose,
				PersonHash:   s.pn.hash(pn.Reveal()),
				PersonSealed: s.pn.seal(pn.Reveal()),
			}
			if err := s.appendAudit(tx, row, pn.Reveal()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("log %s by %q: %w", a.Command, a.Actor, err)
	}
	return nil
}

// ChainReport is what VerifyAudit found: a chain of Entries entries from
// First to Last, whose head is Head.
type ChainReport struct {
	Entries     int64
	First, Last int64
	Head        string
}

// Fingerprint is the head's hash in a form that holds no digit at all (each
// hex digit as one of the letters a to p), 16 letters long: short enough to
// note, and never taken for a personnummer.
func (r ChainReport) Fingerprint() string { return Fingerprint(r.Head) }

// Fingerprint gives a chain hash as letters (see ChainReport.Fingerprint).
func Fingerprint(hash string) string {
	var b strings.Builder
	for _, c := range hash[:min(16, len(hash))] {
		switch {
		case c >= '0' && c <= '9':
			b.WriteByte(byte('a' + c - '0'))
		case c >= 'a' && c <= 'f':
			b.WriteByte(byte('k' + c - 'a'))
		}
	}
	return b.String()
}

// verifyBatch is how many entries VerifyAudit reads at a time.
const verifyBatch = 2000

// VerifyAudit walks the audit trail's chain and checks every link: each
// entry's Hash against its content, its PrevHash against the entry before,
// the numbers one after another, the checkpoint where it begins and the head
// where it ends. newest > 0 checks only the newest entries, linked to the
// entry before them. A broken chain is an error wrapping ErrChainBroken that
// names the first entry changed, removed or inserted.
func (s *Store) VerifyAudit(ctx context.Context, newest int64) (ChainReport, error) {
	db := s.db.WithContext(ctx)
	broken := func(format string, args ...any) (ChainReport, error) {
		return ChainReport{}, fmt.Errorf("%w: %s", ErrChainBroken, fmt.Sprintf(format, args...))
	}
	var head chainHeadRow
	if err := db.Where("id = 1").Take(&head).Error; err != nil {
		return ChainReport{}, fmt.Errorf("verify the audit trail: read the chain's head: %w", err)
	}
	if !hmac.Equal([]byte(head.MAC), []byte(s.headMAC(head.Seq, head.Hash))) {
		return broken("the chain's head (entry %d) was changed", head.Seq)
	}
	var cp checkpointRow
	if err := db.Order("seq DESC").Take(&cp).Error; err != nil {
		return ChainReport{}, fmt.Errorf("verify the audit trail: read the checkpoint: %w", err)
	}
	if !hmac.Equal([]byte(cp.MAC), []byte(s.checkpointMAC(cp))) {
		return broken("the checkpoint at entry %d was changed", cp.Seq)
	}
	// A check of the newest entries takes the link of its first entry to
	// the one before on trust: that entry is not read.
	from, prev, anchored := cp.Seq, cp.PrevHash, true
	if newest > 0 && head.Seq-newest+1 > from {
		from, anchored = head.Seq-newest+1, false
	}
	report := ChainReport{First: from, Last: from - 1, Head: prev}
	want := from
	for {
		var rows []auditRow
		if err := db.Where("seq >= ?", want).Order("seq, id").Limit(verifyBatch).Find(&rows).Error; err != nil {
			return ChainReport{}, fmt.Errorf("verify the audit trail: %w", err)
		}
		for i := range rows {
			row := &rows[i]
			switch {
			case row.Seq > want:
				return broken("entry %d is missing: removed (the next kept is %d)", want, row.Seq)
			case row.Seq < want:
				return broken("entry %d appears twice: one was inserted", row.Seq)
			}
			person, err := s.pn.open(row.PersonSealed)
			if err != nil {
				return broken("entry %d was changed: its personnummer does not open (%v)", row.Seq, err)
			}
			if row.PersonHash != s.pn.hash(person) {
				return broken("entry %d was changed: its personnummer and its lookup hash disagree", row.Seq)
			}
			if !hmac.Equal([]byte(row.Hash), []byte(s.entryHash(row, person))) {
				return broken("entry %d was changed or inserted: its hash does not match its content", row.Seq)
			}
			if row.Seq == from && !anchored {
				prev = row.PrevHash
			}
			if row.PrevHash != prev {
				return broken("entry %d does not follow entry %d: an entry before it was removed, inserted or changed", row.Seq, row.Seq-1)
			}
			prev = row.Hash
			want++
			report.Last, report.Head = row.Seq, row.Hash
			report.Entries++
		}
		if len(rows) < verifyBatch {
			break
		}
	}
	switch {
	case report.Last < head.Seq:
		return broken("entries %d to %d were removed: the chain's head is at %d", report.Last+1, head.Seq, head.Seq)
	case report.Last > head.Seq:
		return broken("entry %d was inserted after the chain's head (%d)", head.Seq+1, head.Seq)
	case report.Head != head.Hash:
		return broken("entry %d is not the chain's head", head.Seq)
	}
	return report, nil
}

// AuditHead returns the chain's head: the number of its last entry and its
// hash (see Fingerprint).
func (s *Store) AuditHead(ctx context.Context) (int64, string, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	var head chainHeadRow
	if err := s.db.WithContext(ctx).Where("id = 1").Take(&head).Error; err != nil {
		return 0, "", fmt.Errorf("read the audit chain's head: %w", err)
	}
	return head.Seq, head.Hash, nil
}

// migrateV4 chains the audit trail: the entries made before, in the order
// they were made, from a checkpoint that says so; it adds the columns of
// access entries, the head and the checkpoints.
func migrateV4(tx *gorm.DB, s *Store) error {
	return withoutAppendOnly(tx, s.driver, func() error {
		for _, stmt := range []string{
			"ALTER TABLE audit_entries ADD COLUMN seq bigint NOT NULL DEFAULT 0",
			"ALTER TABLE audit_entries ADD COLUMN category text NOT NULL DEFAULT 'decision'",
			"ALTER TABLE audit_entries ADD COLUMN actor text NOT NULL DEFAULT ''",
			"ALTER TABLE audit_entries ADD COLUMN purpose text NOT NULL DEFAULT ''",
			"ALTER TABLE audit_entries ADD COLUMN prev_hash text NOT NULL DEFAULT ''",
			"ALTER TABLE audit_entries ADD COLUMN hash text NOT NULL DEFAULT ''",
		} {
			if err := tx.Exec(stmt).Error; err != nil {
				return fmt.Errorf("%s: %w", stmt, err)
			}
		}
		if err := tx.Migrator().CreateTable(&chainHeadRow{}, &checkpointRow{}); err != nil {
			return fmt.Errorf("create the chain's tables: %w", err)
		}
		var rows []auditRow
		if err := tx.Order("id").Find(&rows).Error; err != nil {
			return fmt.Errorf("read the audit trail: %w", err)
		}
		prev := ""
		for i := range rows {
			row := &rows[i]
			person, err := s.pn.open(row.PersonSealed)
			if err != nil {
				return fmt.Errorf("audit entry %d: %w", row.ID, err)
			}
			row.Seq, row.PrevHash = int64(i+1), prev
			row.Hash = s.entryHash(row, person)
			prev = row.Hash
			err = tx.Model(&auditRow{}).Where("id = ?", row.ID).
				Updates(map[string]any{"seq": row.Seq, "prev_hash": row.PrevHash, "hash": row.Hash}).Error
			if err != nil {
				return fmt.Errorf("chain audit entry %d: %w", row.ID, err)
			}
		}
		if err := tx.Exec("CREATE UNIQUE INDEX audit_entries_seq ON audit_entries (seq)").Error; err != nil {
			return fmt.Errorf("index the chain: %w", err)
		}
		n := int64(len(rows))
		note := "the chain begins"
		if n > 0 {
			note = fmt.Sprintf("entries 1 to %d were made before the chain and chained when the store was migrated", n)
		}
		cp := checkpointRow{Seq: 1, At: s.now(), Note: note}
		cp.MAC = s.checkpointMAC(cp)
		if err := tx.Create(&cp).Error; err != nil {
			return fmt.Errorf("record the chain's checkpoint: %w", err)
		}
		if err := tx.Create(&chainHeadRow{ID: 1, Seq: n, Hash: prev, MAC: s.headMAC(n, prev)}).Error; err != nil {
			return fmt.Errorf("record the chain's head: %w", err)
		}
		return nil
	})
}

// PersonTrail returns every entry of the audit trail about pn, oldest first:
// the decisions on orders that named them, and each access to their data.
func (s *Store) PersonTrail(ctx context.Context, pn lockworker.Personnummer) ([]lockworker.AuditEntry, error) {
	ctx, cancel := s.bound(ctx)
	defer cancel()
	if pn.IsZero() {
		return nil, errors.New("read a person's audit trail: no personnummer")
	}
	var rows []auditRow
	if err := s.db.WithContext(ctx).Where("person_hash = ?", s.pn.hash(pn.Reveal())).Order("seq").Find(&rows).Error; err != nil {
		return nil, fmt.Errorf("read the audit trail of %v: %w", pn, err)
	}
	return s.auditEntries(rows)
}
