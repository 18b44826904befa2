package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
)

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

// KPIActivity counts and sums what happened in a program over [from, to):
// the raw figures parrain.ComputeProgramKPIs turns into KPIs. Rewards are
// summed in currency (the program's) only.
func (s *Store) KPIActivity(ctx context.Context, programID, currency string, from, to time.Time) (parrain.KPIActivity, error) {
	k := parrain.KPIActivity{Purchases: map[string]parrain.PurchaseTally{}, Rewards: map[parrain.RewardStatus]int64{}}
	fromMS, toMS := ms(from), ms(to)
	one := func(what, q string, dst ...any) error {
		args := []any{programID, fromMS, toMS}
		if !strings.Contains(q, "$2") {
			args = []any{programID, toMS}
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
	if err := one("clicks", `SELECT COUNT(*), COUNT(DISTINCT participant_id) FROM clicks
		WHERE program_id = $1 AND created_at >= $2 AND created_at < $3 AND valid`, &k.Clicks, &k.Clickers); err != nil {
		return k, err
	}
	shares, err := s.sharesTracked(ctx, programID)
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
				UNION SELECT participant_id FROM shares WHERE program_id = $1 AND created_at >= $2 AND created_at < $3) x`, &k.Active); err != nil {
			return k, err
		}
	}
	// Participants recorded after the fact (imported later than their
	// activity).
	active := `SELECT participant_id FROM clicks WHERE program_id = $1 AND created_at >= $2 AND created_at < $3 AND valid`
	if shares {
		active += ` UNION SELECT participant_id FROM shares WHERE program_id = $1 AND created_at >= $2 AND created_at < $3`
	}
	if err := one("late advocates", `SELECT COUNT(*) FROM (`+active+`) x JOIN participants p ON p.id = x.participant_id
		WHERE p.created_at >= $3`, &k.LateAdvocates); err != nil {
		return k, err
	}
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
		GROUP BY pu.currency`, programID, fromMS, toMS)
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
		k.Purchases[cur] = parrain.PurchaseTally{Count: n, Net: v}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return k, err
	}
	// A reward belongs to the period of the event that caused it (the
	// purchase or signup), so that cost and revenue line up.
	rows, err = s.r.QueryContext(ctx, `SELECT rw.status, SUM(rw.amount - rw.reversed) FROM rewards rw JOIN events e ON e.id = rw.event_id
		WHERE e.program_id = $1 AND e.occurred_at >= $2 AND e.occurred_at < $3 AND rw.currency = $4
		GROUP BY rw.status`, programID, fromMS, toMS, currency)
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

// DailyCounts returns a program's valid clicks, signups (rejected ones
// excluded) and conversions per UTC day over [from, to), keyed by
// parrain.DayNumber; days without any are absent.
func (s *Store) DailyCounts(ctx context.Context, programID string, from, to time.Time) (map[int64]parrain.DayCount, error) {
	out := map[int64]parrain.DayCount{}
	series := []struct {
		q   string
		set func(*parrain.DayCount, int64)
	}{
		{`SELECT created_at / 86400000, COUNT(*) FROM clicks WHERE program_id = $1 AND created_at >= $2 AND created_at < $3 AND valid
			GROUP BY created_at / 86400000`, func(d *parrain.DayCount, n int64) { d.Clicks = n }},
		{`SELECT signed_up_at / 86400000, COUNT(*) FROM referrals WHERE program_id = $1 AND signed_up_at >= $2 AND signed_up_at < $3
			AND status <> 'rejected' GROUP BY signed_up_at / 86400000`, func(d *parrain.DayCount, n int64) { d.Signups = n }},
		{`SELECT converted_at / 86400000, COUNT(*) FROM referrals WHERE program_id = $1 AND converted_at >= $2 AND converted_at < $3
			GROUP BY converted_at / 86400000`, func(d *parrain.DayCount, n int64) { d.Conversions = n }},
	}
	for _, sr := range series {
		rows, err := s.r.QueryContext(ctx, sr.q, programID, ms(from), ms(to))
		if err != nil {
			return nil, fmt.Errorf("daily series: %w", err)
		}
		for rows.Next() {
			var day, n int64
			if err := rows.Scan(&day, &n); err != nil {
				rows.Close()
				return nil, err
			}
			d := out[day]
			sr.set(&d, n)
			out[day] = d
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// AdvocateFigures returns the candidates for a program's top advocates over
// [from, to) with their figures, in no particular order: the n best by
// conversions then signups, and the n most clicked (an advocate with clicks
// and no signup yet still ranks). Revenue is counted in currency (the
// program's) only. parrain.RankAdvocates orders them.
func (s *Store) AdvocateFigures(ctx context.Context, programID, currency string, fromT, toT time.Time, n int) ([]parrain.AdvocateRank, error) {
	from, to := ms(fromT), ms(toT)
	ranks := map[string]*parrain.AdvocateRank{}
	var order []string
	get := func(id string) *parrain.AdvocateRank {
		r, ok := ranks[id]
		if !ok {
			r = &parrain.AdvocateRank{}
			ranks[id] = r
			order = append(order, id)
		}
		return r
	}
	// Candidates: the best by referrals, and the most clicked.
	rows, err := s.r.QueryContext(ctx, `SELECT advocate_id, COUNT(*), COUNT(CASE WHEN converted_at IS NOT NULL AND converted_at < $3 THEN 1 END) AS conv
		FROM referrals WHERE program_id = $1 AND signed_up_at >= $2 AND signed_up_at < $3 AND status <> 'rejected'
		GROUP BY advocate_id ORDER BY conv DESC, COUNT(*) DESC, advocate_id LIMIT $4`, programID, from, to, n)
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
		programID, from, to, n)
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
		return []parrain.AdvocateRank{}, nil
	}
	args := []any{programID, from, to}
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
		set      func(*parrain.AdvocateRank, int64)
	}{
		{`SELECT participant_id, COUNT(*) FROM clicks WHERE program_id = $1 AND created_at >= $2 AND created_at < $3 AND valid
			AND participant_id IN (` + in + `) GROUP BY participant_id`, false, func(r *parrain.AdvocateRank, v int64) { r.Clicks = v }},
		{`SELECT advocate_id, COUNT(*) FROM referrals WHERE program_id = $1 AND signed_up_at >= $2 AND signed_up_at < $3
			AND status <> 'rejected' AND advocate_id IN (` + in + `) GROUP BY advocate_id`, false, func(r *parrain.AdvocateRank, v int64) { r.Signups = v }},
		{`SELECT advocate_id, COUNT(CASE WHEN converted_at IS NOT NULL AND converted_at < $3 THEN 1 END) FROM referrals
			WHERE program_id = $1 AND signed_up_at >= $2 AND signed_up_at < $3 AND status <> 'rejected'
			AND advocate_id IN (` + in + `) GROUP BY advocate_id`, false, func(r *parrain.AdvocateRank, v int64) { r.Conversions = v }},
		{`SELECT r.advocate_id, SUM(pu.amount - pu.refunded) FROM purchases pu JOIN referrals r ON r.id = pu.referral_id
			WHERE pu.program_id = $1 AND pu.occurred_at >= $2 AND pu.occurred_at < $3 AND pu.currency = ` + cur + ` AND r.status <> 'rejected'
			AND r.advocate_id IN (` + in + `) GROUP BY r.advocate_id`, true, func(r *parrain.AdvocateRank, v int64) { r.Revenue = v }},
	}
	for _, f := range fill {
		a := args
		if f.currency {
			a = append(append([]any{}, args...), currency)
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
	out := make([]parrain.AdvocateRank, 0, len(order))
	for _, id := range order {
		r := ranks[id]
		r.Participant = people[id]
		out = append(out, *r)
	}
	return out, nil
}

// ProgramAlertCounts counts what needs a human in a program: pending
// rewards (overdue when their hold ended by now), referrals under review,
// rewards waiting for manual approval, referrals rejected or under review
// signed up since flaggedSince, and failed jobs (installation-wide).
func (s *Store) ProgramAlertCounts(ctx context.Context, programID string, now, flaggedSince time.Time) (parrain.ProgramAlerts, error) {
	var a parrain.ProgramAlerts
	// Overdue leaves out rewards the approval job rightly keeps waiting: a
	// manager's cap review, or their referral held for fraud review.
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*), COUNT(CASE WHEN r.hold_until <= $2 AND r.review <> 'waiting'
		AND COALESCE(f.review_status, '') <> 'held' THEN 1 END)
		FROM rewards r LEFT JOIN referrals f ON f.id = r.referral_id
		WHERE r.program_id = $1 AND r.status = 'pending'`, programID, ms(now)).Scan(&a.PendingRewards, &a.OverdueRewards); err != nil {
		return a, fmt.Errorf("counting pending rewards: %w", err)
	}
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM referrals WHERE program_id = $1 AND signed_up_at >= $2
		AND (review_status IN ('flagged', 'held') OR status = 'rejected')`, programID, ms(flaggedSince)).Scan(&a.FlaggedLast30); err != nil {
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
