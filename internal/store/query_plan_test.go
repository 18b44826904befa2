package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestConsoleQueriesUseIndexes checks, with SQLite's EXPLAIN QUERY PLAN,
// that the console's list and search queries are index lookups and never
// full scans of their table, so pages stay fast on million-row programs.
// (SQLite's planner picks indexes from the schema alone; PostgreSQL's
// depends on table statistics, so the plans are checked on SQLite.)
func TestConsoleQueriesUseIndexes(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, filepath.Join(t.TempDir(), "plan.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	plan := func(q string, args ...any) string {
		t.Helper()
		rows, err := st.r.QueryContext(ctx, `EXPLAIN QUERY PLAN `+q, args...)
		if err != nil {
			t.Fatalf("explain %s: %v", q, err)
		}
		defer rows.Close()
		var lines []string
		for rows.Next() {
			var id, parent, notused int
			var detail string
			if err := rows.Scan(&id, &parent, &notused, &detail); err != nil {
				t.Fatal(err)
			}
			lines = append(lines, detail)
		}
		return strings.Join(lines, "\n")
	}
	check := func(name, p string, wantIndex string, table string) {
		t.Helper()
		t.Logf("%s:\n%s", name, p)
		if !strings.Contains(p, wantIndex) {
			t.Errorf("%s does not use %s:\n%s", name, wantIndex, p)
		}
		for _, l := range strings.Split(p, "\n") {
			if strings.HasPrefix(l, "SCAN "+table) && !strings.Contains(l, "INDEX") {
				t.Errorf("%s scans %s:\n%s", name, table, p)
			}
		}
	}
	for _, q := range []struct {
		name  string
		query ReferralQuery
		pg    Page
		index string
	}{
		{"referrals", ReferralQuery{ProgramID: "p"}, Page{}, "referrals_program_signed"},
		{"referrals page 2", ReferralQuery{ProgramID: "p"}, Page{Cursor: "1700000000000.ref_x"}, "referrals_program_signed"},
		{"referrals by status", ReferralQuery{ProgramID: "p", Status: "converted"}, Page{}, "referrals_program_status_signed"},
		{"referrals by dates", ReferralQuery{ProgramID: "p", From: time.Unix(1, 0), To: time.Unix(2, 0)}, Page{}, "referrals_program_signed"},
		{"flagged referrals", ReferralQuery{ProgramID: "p", Flagged: true}, Page{}, "referrals_program_"},
		{"an advocate's referrals", ReferralQuery{ProgramID: "p", AdvocateID: "a"}, Page{}, "referrals_advocate"},
	} {
		sqlText, args, err := referralsPageSQL(q.query, q.pg)
		if err != nil {
			t.Fatal(err)
		}
		check(q.name, plan(sqlText, args...), q.index, "r")
	}
	for i, sq := range participantSearchSQL("p", "alice", 50) {
		want := []string{"sqlite_autoindex_participants", "participants_name_prefix", "participants_email_prefix"}[i]
		check("participant search "+want, plan(`SELECT id FROM participants WHERE `+sq.where, sq.args...), want, "participants")
	}
	check("participant list", plan(`SELECT id FROM participants WHERE program_id = $1 AND ($2 = '' OR id < $2) ORDER BY id DESC LIMIT $3`, "p", "", 50),
		"participants_program", "participants")
	check("reward queue", plan(rewardSelect+` WHERE r.program_id = $1 AND r.status = $2 ORDER BY r.id DESC LIMIT $3`, "p", "pending", 51),
		"rewards_program", "r")
}
