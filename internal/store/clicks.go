package store

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Click is one visit of a referral link.
type Click struct {
	ProgramID     string // empty for unknown codes
	ParticipantID string // empty for unknown codes
	Code          string
	Valid         bool // false for unknown or disabled codes, and for automated clicks
	// Automated marks a click from a script, a headless browser or a client
	// with no User-Agent: recorded as fraud evidence, never counted (it is
	// stored with Valid false).
	Automated bool
	IPHash    string
	IP        string // raw, kept for fraud checks for the retention period
	Params    string // the link's query string (ad-click ids, utm_*)
	UserAgent string
	Referer   string
	At        time.Time
}

// AutomatedClickAlertAt is how many automated clicks on one code within
// AutomatedClickAlertWindow, with no referred signup in that window, open an
// automated_click_flood alert. It matches the default threshold of the
// net.automated_clicks signal (a referral test keeps them equal).
const (
	AutomatedClickAlertAt     = 5
	AutomatedClickAlertWindow = time.Hour
)

// AlertAutomatedClickFlood is the alert kind raised when scripts click an
// advocate's code and nobody signs up: a click flood the referral-time
// fraud checks never see, because no referral follows it.
const AlertAutomatedClickFlood = "automated_click_flood"

// clickChunk is the most rows one click INSERT carries. Small enough that
// binding stays cheap (SQLite binds each parameter of a statement), large
// enough that PostgreSQL pays one round trip per 64 clicks.
const clickChunk = 64

// clickCols is the number of columns (parameters) of one inserted click.
const clickCols = 12

// clickStmts holds the click INSERT statements, prepared once per row
// count on the write pool and reused by every batch.
type clickStmts struct {
	mu sync.Mutex
	by map[int]*sql.Stmt
}

// insertClicksStmt returns the prepared INSERT of n clicks: positional ?
// parameters on SQLite (numbered $N parameters are looked up by name on
// every bind), $N on PostgreSQL.
func (s *Store) insertClicksStmt(ctx context.Context, n int) (*sql.Stmt, error) {
	c := &s.clickStmts
	c.mu.Lock()
	defer c.mu.Unlock()
	if st := c.by[n]; st != nil {
		return st, nil
	}
	var q strings.Builder
	q.WriteString(`INSERT INTO clicks (id, program_id, participant_id, code, valid, ip_hash, user_agent, referer, created_at, ip, params, automated) VALUES `)
	for i := range n {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteByte('(')
		for j := range clickCols {
			if j > 0 {
				q.WriteString(", ")
			}
			if s.d.name == "postgres" {
				q.WriteString("$" + strconv.Itoa(i*clickCols+j+1))
			} else {
				q.WriteByte('?')
			}
		}
		q.WriteByte(')')
	}
	st, err := s.w.PrepareContext(ctx, q.String())
	if err != nil {
		return nil, fmt.Errorf("preparing the click insert: %w", err)
	}
	if c.by == nil {
		c.by = map[int]*sql.Stmt{}
	}
	c.by[n] = st
	return st, nil
}

// clickChunks splits n clicks into statements of clickChunk rows and then
// powers of two, so that at most seven statement shapes are ever prepared.
func clickChunks(n int) []int {
	var out []int
	for n >= clickChunk {
		out = append(out, clickChunk)
		n -= clickChunk
	}
	for size := clickChunk / 2; size > 0; size /= 2 {
		if n >= size {
			out = append(out, size)
			n -= size
		}
	}
	return out
}

// InsertClicks stores a batch of clicks in one transaction (one disk sync
// for the whole batch), as multi-row INSERTs of up to 64 rows through
// statements prepared once per row count. A code whose automated clicks
// reach AutomatedClickAlertAt within the alert window, with no referred
// signup in it, raises an automated_click_flood alert in the same
// transaction.
func (s *Store) InsertClicks(ctx context.Context, cs []Click) error {
	if len(cs) == 0 {
		return nil
	}
	chunks := clickChunks(len(cs))
	stmts := make([]*sql.Stmt, len(chunks))
	for i, n := range chunks {
		st, err := s.insertClicksStmt(ctx, n)
		if err != nil {
			return err
		}
		stmts[i] = st
	}
	args := make([]any, 0, min(len(cs), clickChunk)*clickCols)
	return s.tx(ctx, func(tx *sql.Tx) error {
		start := 0
		for i, n := range chunks {
			args = args[:0]
			for _, c := range cs[start : start+n] {
				args = append(args, newID("clk"), nullable(c.ProgramID), nullable(c.ParticipantID), c.Code, c.Valid && !c.Automated, c.IPHash,
					c.UserAgent, c.Referer, ms(c.At), c.IP, clickParams(c.Params), c.Automated)
			}
			start += n
			if _, err := tx.StmtContext(ctx, stmts[i]).ExecContext(ctx, args...); err != nil {
				return fmt.Errorf("inserting clicks: %w", err)
			}
		}
		return s.automatedFloodAlertsTx(ctx, tx, cs)
	})
}

// automatedFloodAlertsTx raises the automated click flood alert for the
// codes of a batch's automated clicks that reached the threshold with no
// referred signup in the window.
func (s *Store) automatedFloodAlertsTx(ctx context.Context, tx *sql.Tx, cs []Click) error {
	type key struct{ program, participant, code string }
	latest := map[key]time.Time{}
	for _, c := range cs {
		if !c.Automated || c.ParticipantID == "" || c.ProgramID == "" {
			continue
		}
		k := key{c.ProgramID, c.ParticipantID, c.Code}
		if c.At.After(latest[k]) {
			latest[k] = c.At
		}
	}
	for k, at := range latest {
		from := at.Add(-AutomatedClickAlertWindow)
		var clicks, signups int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM clicks WHERE participant_id = $1 AND automated AND created_at > $2 AND created_at <= $3`,
			k.participant, ms(from), ms(at)).Scan(&clicks); err != nil {
			return fmt.Errorf("counting automated clicks: %w", err)
		}
		if clicks < AutomatedClickAlertAt {
			continue
		}
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM referrals WHERE advocate_id = $1 AND signed_up_at > $2 AND signed_up_at <= $3`,
			k.participant, ms(from), ms(at)).Scan(&signups); err != nil {
			return fmt.Errorf("counting signups after automated clicks: %w", err)
		}
		if signups > 0 {
			continue
		}
		msg := fmt.Sprintf("%d clicks on code %s from scripts, headless browsers or clients with no User-Agent within %s, and no signup: "+
			"a click flood (someone may be stuffing cookies, or attacking the advocate's standing)", clicks, k.code, AutomatedClickAlertWindow)
		if err := s.raiseAlertTx(ctx, tx, k.program, AlertAutomatedClickFlood, k.code, msg); err != nil {
			return err
		}
	}
	return nil
}

// ClickCounts returns the number of valid clicks and of clicks on unknown
// or disabled codes recorded (automated clicks are neither: see
// AutomatedClickCount).
func (s *Store) ClickCounts(ctx context.Context) (valid, invalid int64, err error) {
	err = s.r.QueryRowContext(ctx, `SELECT COUNT(CASE WHEN valid THEN 1 END), COUNT(CASE WHEN NOT valid AND NOT automated THEN 1 END) FROM clicks`).Scan(&valid, &invalid)
	return valid, invalid, err
}

// AutomatedClickCount returns the number of automated clicks recorded.
func (s *Store) AutomatedClickCount(ctx context.Context) (int64, error) {
	var n int64
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM clicks WHERE automated`).Scan(&n)
	return n, err
}

// ClickRow is a click on a participant's code as fraud scoring reads it.
type ClickRow struct {
	At                             time.Time
	IP, UserAgent, Referer, Params string
}

// ClicksOf lists the clicks on a participant's code in [from, to], newest
// first, at most limit.
func (t *Tx) ClicksOf(ctx context.Context, participantID string, from, to time.Time, limit int) ([]ClickRow, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT created_at, ip, user_agent, referer, params FROM clicks
		WHERE participant_id = $1 AND created_at >= $2 AND created_at <= $3 ORDER BY created_at DESC LIMIT $4`, participantID, ms(from), ms(to), limit)
	if err != nil {
		return nil, fmt.Errorf("loading clicks: %w", err)
	}
	defer rows.Close()
	var out []ClickRow
	for rows.Next() {
		var c ClickRow
		var at int64
		if err := rows.Scan(&at, &c.IP, &c.UserAgent, &c.Referer, &c.Params); err != nil {
			return nil, err
		}
		c.At = fromMS(at)
		out = append(out, c)
	}
	return out, rows.Err()
}

// nullable is s as a statement argument, NULL when empty (without the
// sql.NullString a click's two columns would box and convert per row).
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}
