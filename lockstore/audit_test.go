package lockstore_test

import (
	"reflect"
	"testing"
	"time"

	"github.com/lockworker/lockworker"
)

func testAuditFilters(t *testing.T, b backend) {
	s, _ := b.setup(t)
	noop := unlockOrder("3", bertil, 0, start.Add(3*time.Hour))
	noop.Change = lockworker.ChangeNone
	noop.Outcome = lockworker.OutcomeNoop
	// Recorded out of time order, to show that the trail is in time order.
	for _, d := range []lockworker.Decision{
		lockOrder("1", anna, start),
		manualOrder("06", "1", start.Add(time.Hour)),
		noop,
		manualOrder("07", "2", start.Add(2*time.Hour)),
	} {
		record(t, s, d)
	}

	tests := []struct {
		name   string
		filter lockworker.AuditFilter
		want   []string // region/ticket, newest last
	}{
		{"everything", lockworker.AuditFilter{}, []string{"07/1", "06/1", "07/2", "07/3"}},
		{"since a time, inclusive", lockworker.AuditFilter{Since: start.Add(time.Hour)}, []string{"06/1", "07/2", "07/3"}},
		{"since a time in another zone", lockworker.AuditFilter{Since: start.Add(time.Hour).In(lockworker.Stockholm)}, []string{"06/1", "07/2", "07/3"}},
		{"one region", lockworker.AuditFilter{Region: "07"}, []string{"07/1", "07/2", "07/3"}},
		{"one ticket number, in any region", lockworker.AuditFilter{Ticket: "1"}, []string{"07/1", "06/1"}},
		{"one outcome", lockworker.AuditFilter{Outcome: lockworker.OutcomeManual}, []string{"06/1", "07/2"}},
		{"all at once", lockworker.AuditFilter{Since: start.Add(time.Hour), Region: "07", Outcome: lockworker.OutcomeManual}, []string{"07/2"}},
		{"nothing", lockworker.AuditFilter{Region: "08"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			for _, e := range audit(t, s, tt.filter) {
				got = append(got, e.Region+"/"+e.Ticket)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Audit(%+v) = %v, want %v", tt.filter, got, tt.want)
			}
		})
	}
}

func testAuditAppendOnly(t *testing.T, b backend) {
	s, clk := b.setup(t)
	record(t, s, lockOrder("55", anna, clk.Now()))
	before := audit(t, s, lockworker.AuditFilter{})

	statements := []string{
		"UPDATE audit_entries SET outcome = 'noop'",
		"UPDATE audit_entries SET personnummer = '' WHERE ticket = '55'",
		"DELETE FROM audit_entries",
		"DELETE FROM audit_entries WHERE ticket = '55'",
	}
	if b.driver == "postgres" {
		statements = append(statements, "TRUNCATE audit_entries")
	}
	for _, stmt := range statements {
		if err := s.DB().Exec(stmt).Error; err == nil {
			t.Errorf("%s: accepted", stmt)
		}
	}
	if after := audit(t, s, lockworker.AuditFilter{}); !reflect.DeepEqual(after, before) {
		t.Errorf("the audit trail changed:\nbefore %+v\nafter  %+v", before, after)
	}
	// Appending is what the trail is for.
	record(t, s, manualOrder("07", "56", clk.Now()))
	if got := len(audit(t, s, lockworker.AuditFilter{})); got != 2 {
		t.Errorf("%d audit entries after appending, want 2", got)
	}
}

func testPasses(t *testing.T, b backend) {
	s, _ := b.setup(t)
	pass := func(id string, startedAt time.Time) lockworker.PassRecord {
		return lockworker.PassRecord{
			ID:            id,
			StartedAt:     startedAt,
			FinishedAt:    startedAt.Add(3 * time.Second),
			Regions:       []string{"06", "07"},
			Outcomes:      map[lockworker.Outcome]int{lockworker.OutcomeResolved: 2, lockworker.OutcomeManual: 1},
			FailedRegions: []string{"06"},
		}
	}
	first, second, third := pass("p1", start), pass("p2", start.Add(2*time.Minute)), pass("p3", start.Add(4*time.Minute))
	third.Outcomes, third.FailedRegions = map[lockworker.Outcome]int{}, nil
	// Recorded out of order, to show that they are listed in time order.
	for _, p := range []lockworker.PassRecord{second, third, first} {
		if err := s.RecordPass(t.Context(), p); err != nil {
			t.Fatalf("RecordPass(%s): %v", p.ID, err)
		}
	}
	if err := s.RecordPass(t.Context(), first); err == nil {
		t.Error("RecordPass of a pass recorded already: no error")
	}

	tests := []struct {
		limit int
		want  []lockworker.PassRecord
	}{
		{1, []lockworker.PassRecord{third}},
		{2, []lockworker.PassRecord{second, third}},
		{10, []lockworker.PassRecord{first, second, third}},
		{0, []lockworker.PassRecord{first, second, third}},
	}
	for _, tt := range tests {
		got, err := s.Passes(t.Context(), tt.limit)
		if err != nil {
			t.Fatalf("Passes(%d): %v", tt.limit, err)
		}
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Passes(%d) =\n%+v\nwant\n%+v", tt.limit, got, tt.want)
		}
	}
}
