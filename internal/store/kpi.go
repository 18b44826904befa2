package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
)

// Period is a half-open time range [From, To) for KPIs.
type Period struct {
	From, To time.Time
}

// Previous returns the period of the same length just before p.
func (p Period) Previous() Period {
	d := p.To.Sub(p.From)
	return Period{From: p.From.Add(-d), To: p.From}
}

// Days returns the number of whole days in the period.
func (p Period) Days() int { return int(p.To.Sub(p.From) / (24 * time.Hour)) }

// KPIs are a program's raw figures for a period. Rates are derived from
// them by the caller (see docs/console.md for the definitions); amounts are
// in the program currency's minor units.
type KPIs struct {
	Period   Period
	Currency string
	// Advocates is the number of participants who existed at the end of the
	// period (every participant has a link and can refer).
	Advocates int64
	// Participating advocates shared or had a valid click on their link.
	Participating int64
	// Sharers shared at least once. Without share tracking (SharesTracked
	// false: the program has no recorded share) it is the number of
	// advocates whose link was clicked.
	Sharers       int64
	Shares        int64
	SharesTracked bool
	Clicks        int64 // valid clicks
	Signups       int64 // referrals signed up (rejected ones excluded)
	Rejected      int64 // referrals rejected (self-referrals, fraud)
	Conversions   int64 // referrals whose first purchase happened in the period
	Purchases     int64 // referred purchases
	// Revenue is the referred purchases in the program currency, net of
	// their refunds; purchases in other currencies are in OtherRevenue and
	// never mixed in.
	Revenue      int64
	OtherRevenue map[string]int64
	// Rewards is the outstanding value (amount minus reversals) of the
	// rewards caused by events of the period, by status.
	Rewards map[parrain.RewardStatus]int64
}

// RewardsCost is the outstanding value of the period's rewards.
func (k KPIs) RewardsCost() int64 {
	var n int64
	for _, v := range k.Rewards {
		n += v
	}
	return n
}

// sharesTracked reports whether the program records shares: the shares
// table exists (the widget adds it) and the program has at least one. A
// program whose advocates share outside the widget has none, and its share
// rate uses clicks as a proxy.
func (s *Store) sharesTracked(ctx context.Context, programID string) (bool, error) {
	q := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'shares'`
	if s.d.name == "postgres" {
		q = `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'shares'`
	}
	var n int
	if err := s.r.QueryRowContext(ctx, q).Scan(&n); err != nil {
		return false, fmt.Errorf("looking for the shares table: %w", err)
	}
	if n == 0 {
		return false, nil
	}
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM shares WHERE program_id = $1 LIMIT 1) x`, programID).Scan(&n); err != nil {
		return false, fmt.Errorf("looking for shares: %w", err)
	}
	return n > 0, nil
}

// KPIs computes a program's figures for a period.
func (s *Store) KPIs(ctx context.Context, prog parrain.Program, p Period) (KPIs, error) {
	k := KPIs{Period: p, Currency: prog.Currency, OtherRevenue: map[string]int64{}, Rewards: map[parrain.RewardStatus]int64{}}
	from, to := ms(p.From), ms(p.To)
	one := func(what, q string, dst ...any) error {
		args := []any{prog.ID, from, to}
		if !strings.Contains(q, "$2") {
			args = []any{prog.ID, to}
			q = strings.ReplaceAll(q, "$3", "$2")
		}
		if err := s.r.QueryRowContext(ctx, q, args...).Scan(dst...); err != nil {
			return fmt.Errorf("kpi %s: %w", what, err)
		}
		return nil
	}
	if err := one("advocates", `SELECT COUNT(*) FROM participants WHERE program_id = $1 AND created_at < $3`, &k.Advocates); err != nil {
		return k, err
	}
	var clickers int64
	if err := one("clicks", `SELECT COUNT(*), COUNT(DISTINCT participant_id) FROM clicks
		WHERE program_id = $1 AND created_at >= $2 AND created_at < $3 AND valid`, &k.Clicks, &clickers); err != nil {
		return k, err
	}
	k.Participating, k.Sharers = clickers, clickers
	shares, err := s.sharesTracked(ctx, prog.ID)
	if err != nil {
		return k, err
	}
	if shares {
		k.SharesTracked = true
		if err := one("shares", `SELECT COUNT(*), COUNT(DISTINCT participant_id) FROM shares
			WHERE program_id = $1 AND created_at >= $2 AND created_at < $3`, &k.Shares, &k.Sharers); err != nil {
			return k, err
		}
		if err := one("participation", `SELECT COUNT(*) FROM (
				SELECT participant_id FROM clicks WHERE program_id = $1 AND created_at >= $2 AND created_at < $3 AND valid
				UNION SELECT participant_id FROM shares WHERE program_id = $1 AND created_at >= $2 AND created_at < $3) x`, &k.Participating); err != nil {
			return k, err
		}
	}
	// Participants recorded after the fact (imported later than their
	// activity) count as advocates of the period they took part in, so
	// that participation never exceeds everyone.
	active := `SELECT participant_id FROM clicks WHERE program_id = $1 AND created_at >= $2 AND created_at < $3 AND valid`
	if shares {
		active += ` UNION SELECT participant_id FROM shares WHERE program_id = $1 AND created_at >= $2 AND created_at < $3`
	}
	var late int64
	if err := one("late advocates", `SELECT COUNT(*) FROM (`+active+`) x JOIN participants p ON p.id = x.participant_id
		WHERE p.created_at >= $3`, &late); err != nil {
		return k, err
	}
	k.Advocates += late
	if err := one("signups", `SELECT COUNT(CASE WHEN status <> 'rejected' THEN 1 END), COUNT(CASE WHEN status = 'rejected' THEN 1 END)
		FROM referrals WHERE program_id = $1 AND signed_up_at >= $2 AND signed_up_at < $3`, &k.Signups, &k.Rejected); err != nil {
		return k, err
	}
	if err := one("conversions", `SELECT COUNT(*) FROM referrals WHERE program_id = $1 AND converted_at >= $2 AND converted_at < $3`,
		&k.Conversions); err != nil {
		return k, err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT pu.currency, COUNT(*), SUM(pu.amount - pu.refunded) FROM purchases pu
		JOIN referrals r ON r.id = pu.referral_id
		WHERE pu.program_id = $1 AND pu.occurred_at >= $2 AND pu.occurred_at < $3 AND r.status <> 'rejected'
		GROUP BY pu.currency`, prog.ID, from, to)
	if err != nil {
		return k, fmt.Errorf("kpi revenue: %w", err)
	}
	for rows.Next() {
		var cur string
		var n, v int64
		if err := rows.Scan(&cur, &n, &v); err != nil {
			rows.Close()
			return k, err
		}
		k.Purchases += n
		if cur == prog.Currency {
			k.Revenue = v
		} else {
			k.OtherRevenue[cur] = v
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return k, err
	}
	// A reward belongs to the period of the event that caused it (the
	// purchase or signup), so that cost and revenue line up.
	rows, err = s.r.QueryContext(ctx, `SELECT rw.status, SUM(rw.amount - rw.reversed) FROM rewards rw JOIN events e ON e.id = rw.event_id
		WHERE e.program_id = $1 AND e.occurred_at >= $2 AND e.occurred_at < $3 AND rw.currency = $4
		GROUP BY rw.status`, prog.ID, from, to, prog.Currency)
	if err != nil {
		return k, fmt.Errorf("kpi rewards: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var st string
		var v int64
		if err := rows.Scan(&st, &v); err != nil {
			return k, err
		}
		k.Rewards[parrain.RewardStatus(st)] = v
	}
	return k, rows.Err()
}

// DayCount is one day of the activity chart.
type DayCount struct {
	Day         time.Time // midnight UTC
	Clicks      int64
	Signups     int64
	Conversions int64
}

const dayMS = 24 * 60 * 60 * 1000

// DailySeries returns clicks, signups and conversions per UTC day of the
// period, one entry per day including empty days.
func (s *Store) DailySeries(ctx context.Context, programID string, p Period) ([]DayCount, error) {
	first := p.From.UTC().Truncate(24 * time.Hour)
	var out []DayCount
	idx := map[int64]int{}
	for d := first; d.Before(p.To); d = d.Add(24 * time.Hour) {
		idx[ms(d)/dayMS] = len(out)
		out = append(out, DayCount{Day: d})
	}
	from, to := ms(p.From), ms(p.To)
	series := []struct {
		q   string
		set func(*DayCount, int64)
	}{
		{`SELECT created_at / 86400000, COUNT(*) FROM clicks WHERE program_id = $1 AND created_at >= $2 AND created_at < $3 AND valid
			GROUP BY created_at / 86400000`, func(d *DayCount, n int64) { d.Clicks = n }},
		{`SELECT signed_up_at / 86400000, COUNT(*) FROM referrals WHERE program_id = $1 AND signed_up_at >= $2 AND signed_up_at < $3
			AND status <> 'rejected' GROUP BY signed_up_at / 86400000`, func(d *DayCount, n int64) { d.Signups = n }},
		{`SELECT converted_at / 86400000, COUNT(*) FROM referrals WHERE program_id = $1 AND converted_at >= $2 AND converted_at < $3
			GROUP BY converted_at / 86400000`, func(d *DayCount, n int64) { d.Conversions = n }},
	}
	for _, sr := range series {
		rows, err := s.r.QueryContext(ctx, sr.q, programID, from, to)
		if err != nil {
			return nil, fmt.Errorf("daily series: %w", err)
		}
		for rows.Next() {
			var day, n int64
			if err := rows.Scan(&day, &n); err != nil {
				rows.Close()
				return nil, err
			}
			if i, ok := idx[day]; ok {
				sr.set(&out[i], n)
			}
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// AdvocateRank is one line of the top-advocates table.
type AdvocateRank struct {
	Participant parrain.Participant
	Clicks      int64
	Signups     int64
	Conversions int64
	Revenue     int64 // referred revenue in the program currency, net of refunds
}

// TopAdvocates ranks the advocates of a period by conversions, then
// signups, then clicks.
func (s *Store) TopAdvocates(ctx context.Context, prog parrain.Program, p Period, n int) ([]AdvocateRank, error) {
	if n <= 0 || n > 100 {
		n = 10
	}
	from, to := ms(p.From), ms(p.To)
	ranks := map[string]*AdvocateRank{}
	var order []string
	get := func(id string) *AdvocateRank {
		r, ok := ranks[id]
		if !ok {
			r = &AdvocateRank{}
			ranks[id] = r
			order = append(order, id)
		}
		return r
	}
	// Candidates: the best by referrals, and the most clicked (an advocate
	// with clicks and no signup yet still ranks).
	rows, err := s.r.QueryContext(ctx, `SELECT advocate_id, COUNT(*), COUNT(CASE WHEN converted_at IS NOT NULL AND converted_at < $3 THEN 1 END) AS conv
		FROM referrals WHERE program_id = $1 AND signed_up_at >= $2 AND signed_up_at < $3 AND status <> 'rejected'
		GROUP BY advocate_id ORDER BY conv DESC, COUNT(*) DESC, advocate_id LIMIT $4`, prog.ID, from, to, n)
	if err != nil {
		return nil, fmt.Errorf("top advocates: %w", err)
	}
	for rows.Next() {
		var id string
		var su, cv int64
		if err := rows.Scan(&id, &su, &cv); err != nil {
			rows.Close()
			return nil, err
		}
		r := get(id)
		r.Signups, r.Conversions = su, cv
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = s.r.QueryContext(ctx, `SELECT participant_id, COUNT(*) AS n FROM clicks
		WHERE program_id = $1 AND created_at >= $2 AND created_at < $3 AND valid GROUP BY participant_id ORDER BY n DESC, participant_id LIMIT $4`,
		prog.ID, from, to, n)
	if err != nil {
		return nil, fmt.Errorf("top advocates by clicks: %w", err)
	}
	for rows.Next() {
		var id string
		var c int64
		if err := rows.Scan(&id, &c); err != nil {
			rows.Close()
			return nil, err
		}
		get(id).Clicks = c
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(order) == 0 {
		return []AdvocateRank{}, nil
	}
	args := []any{prog.ID, from, to}
	ph := make([]string, len(order))
	for i, id := range order {
		args = append(args, id)
		ph[i] = fmt.Sprintf("$%d", len(args))
	}
	in := strings.Join(ph, ", ")
	cur := fmt.Sprintf("$%d", len(args)+1)
	// Complete every candidate's figures (a clicked advocate's signups, a
	// converting advocate's clicks) and revenue.
	fill := []struct {
		q        string
		currency bool
		set      func(*AdvocateRank, int64)
	}{
		{`SELECT participant_id, COUNT(*) FROM clicks WHERE program_id = $1 AND created_at >= $2 AND created_at < $3 AND valid
			AND participant_id IN (` + in + `) GROUP BY participant_id`, false, func(r *AdvocateRank, v int64) { r.Clicks = v }},
		{`SELECT advocate_id, COUNT(*) FROM referrals WHERE program_id = $1 AND signed_up_at >= $2 AND signed_up_at < $3
			AND status <> 'rejected' AND advocate_id IN (` + in + `) GROUP BY advocate_id`, false, func(r *AdvocateRank, v int64) { r.Signups = v }},
		{`SELECT advocate_id, COUNT(CASE WHEN converted_at IS NOT NULL AND converted_at < $3 THEN 1 END) FROM referrals
			WHERE program_id = $1 AND signed_up_at >= $2 AND signed_up_at < $3 AND status <> 'rejected'
			AND advocate_id IN (` + in + `) GROUP BY advocate_id`, false, func(r *AdvocateRank, v int64) { r.Conversions = v }},
		{`SELECT r.advocate_id, SUM(pu.amount - pu.refunded) FROM purchases pu JOIN referrals r ON r.id = pu.referral_id
			WHERE pu.program_id = $1 AND pu.occurred_at >= $2 AND pu.occurred_at < $3 AND pu.currency = ` + cur + ` AND r.status <> 'rejected'
			AND r.advocate_id IN (` + in + `) GROUP BY r.advocate_id`, true, func(r *AdvocateRank, v int64) { r.Revenue = v }},
	}
	for _, f := range fill {
		a := args
		if f.currency {
			a = append(append([]any{}, args...), prog.Currency)
		}
		rows, err := s.r.QueryContext(ctx, f.q, a...)
		if err != nil {
			return nil, fmt.Errorf("top advocates figures: %w", err)
		}
		for rows.Next() {
			var id string
			var v int64
			if err := rows.Scan(&id, &v); err != nil {
				rows.Close()
				return nil, err
			}
			f.set(ranks[id], v)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	people, err := s.ParticipantsByIDs(ctx, order)
	if err != nil {
		return nil, err
	}
	out := make([]AdvocateRank, 0, len(order))
	for _, id := range order {
		r := ranks[id]
		r.Participant = people[id]
		out = append(out, *r)
	}
	sortRanks(out)
	if len(out) > n {
		out = out[:n]
	}
	return out, nil
}

func sortRanks(rs []AdvocateRank) {
	less := func(a, b AdvocateRank) bool {
		switch {
		case a.Conversions != b.Conversions:
			return a.Conversions > b.Conversions
		case a.Signups != b.Signups:
			return a.Signups > b.Signups
		case a.Clicks != b.Clicks:
			return a.Clicks > b.Clicks
		}
		return a.Participant.ID < b.Participant.ID
	}
	for i := 1; i < len(rs); i++ {
		for j := i; j > 0 && less(rs[j], rs[j-1]); j-- {
			rs[j], rs[j-1] = rs[j-1], rs[j]
		}
	}
}

// Alerts are the things needing a human in a program.
type Alerts struct {
	PendingRewards int64 // rewards awaiting approval (hold running)
	OverdueRewards int64 // pending rewards whose hold ended (the approval job is late or failing)
	UnderReview    int64 // referrals waiting for a fraud reviewer (flagged or held)
	ManualRewards  int64 // rewards queued for manual approval (over a cap)
	FlaggedLast30  int64 // referrals rejected or waiting for review, signed up in the last 30 days
	FailedJobs     int64 // background jobs that used all their attempts (installation-wide)
}

// ProgramAlerts computes a program's alerts.
func (s *Store) ProgramAlerts(ctx context.Context, programID string) (Alerts, error) {
	var a Alerts
	now := s.clock.Now()
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(CASE WHEN hold_until <= $2 THEN 1 END) FROM rewards
		WHERE program_id = $1 AND status = 'pending'`, programID, ms(now)).Scan(&a.PendingRewards, &a.OverdueRewards); err != nil {
		return a, fmt.Errorf("counting pending rewards: %w", err)
	}
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM referrals WHERE program_id = $1 AND signed_up_at >= $2
		AND (review_status IN ('flagged', 'held') OR status = 'rejected')`, programID, ms(now.Add(-30*24*time.Hour))).Scan(&a.FlaggedLast30); err != nil {
		return a, fmt.Errorf("counting flagged referrals: %w", err)
	}
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM referrals WHERE program_id = $1 AND review_status IN ('flagged', 'held')`,
		programID).Scan(&a.UnderReview); err != nil {
		return a, fmt.Errorf("counting referrals under review: %w", err)
	}
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM rewards WHERE program_id = $1 AND status = 'pending' AND review = 'waiting'`,
		programID).Scan(&a.ManualRewards); err != nil {
		return a, fmt.Errorf("counting rewards waiting for approval: %w", err)
	}
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM jobs WHERE state = 'failed'`).Scan(&a.FailedJobs); err != nil {
		return a, fmt.Errorf("counting failed jobs: %w", err)
	}
	return a, nil
}
