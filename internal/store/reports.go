package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
)

// InvalidClicks are the clicks of a period that no KPI counts.
type InvalidClicks struct {
	// DisabledCode clicked a link of the program whose advocate is
	// disabled.
	DisabledCode int64 `json:"disabled_code"`
	// Automated came from scripts, headless browsers or clients without a
	// User-Agent on the program's links (fraud evidence, never counted).
	Automated int64 `json:"automated"`
	// UnknownCode clicked a code no program knows: it belongs to no
	// program, so it is counted for the whole installation.
	UnknownCode int64 `json:"unknown_code"`
}

// InvalidClicks counts a program's invalid clicks over [from, to), and the
// installation's clicks on unknown codes.
func (s *Store) InvalidClicks(ctx context.Context, programID string, from, to time.Time) (InvalidClicks, error) {
	var c InvalidClicks
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(CASE WHEN NOT automated THEN 1 END), COUNT(CASE WHEN automated THEN 1 END)
		FROM clicks WHERE program_id = $1 AND created_at >= $2 AND created_at < $3 AND NOT valid`,
		programID, ms(from), ms(to)).Scan(&c.DisabledCode, &c.Automated); err != nil {
		return c, fmt.Errorf("counting invalid clicks: %w", err)
	}
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM clicks WHERE created_at >= $1 AND created_at < $2 AND program_id IS NULL`,
		ms(from), ms(to)).Scan(&c.UnknownCode); err != nil {
		return c, fmt.Errorf("counting clicks on unknown codes: %w", err)
	}
	return c, nil
}

// AdvocateActivity is what one advocate did over a period: the raw figures
// of the per-advocate report. Amounts are minor units by currency.
type AdvocateActivity struct {
	Clicks        int64            // valid clicks on their link
	InvalidClicks int64            // clicks not counted (disabled link, automated)
	Shares        map[string]int64 // by channel
	Invites       int64            // email invitations they typed
	Signups       int64            // friends signed up (rejected referrals excluded)
	Rejected      int64            // referrals rejected
	Conversions   int64            // friends whose first purchase happened in the period
	Revenue       map[string]int64 // their friends' purchases, net of refunds
	// Rewards is the outstanding value (amount minus reversals) of the
	// rewards caused by events of the period, by status then currency;
	// Reversed what was reversed of them, by currency.
	Rewards  map[string]map[string]int64
	Reversed map[string]int64
}

// AdvocateActivity computes one advocate's figures over [from, to), with
// the same rules as the program's KPIs (KPIActivity).
func (s *Store) AdvocateActivity(ctx context.Context, participantID string, from, to time.Time) (AdvocateActivity, error) {
	a := AdvocateActivity{Shares: map[string]int64{}, Revenue: map[string]int64{}, Rewards: map[string]map[string]int64{}, Reversed: map[string]int64{}}
	for _, c := range ShareChannels {
		a.Shares[c] = 0
	}
	args := []any{participantID, ms(from), ms(to)}
	one := func(what, q string, dst ...any) error {
		if err := s.r.QueryRowContext(ctx, q, args...).Scan(dst...); err != nil {
			return fmt.Errorf("advocate report %s: %w", what, err)
		}
		return nil
	}
	if err := one("clicks", `SELECT COUNT(CASE WHEN valid THEN 1 END), COUNT(CASE WHEN NOT valid THEN 1 END) FROM clicks
		WHERE participant_id = $1 AND created_at >= $2 AND created_at < $3`, &a.Clicks, &a.InvalidClicks); err != nil {
		return a, err
	}
	if err := one("invites", `SELECT COUNT(*) FROM invites WHERE participant_id = $1 AND created_at >= $2 AND created_at < $3`, &a.Invites); err != nil {
		return a, err
	}
	if err := one("signups", `SELECT COUNT(CASE WHEN status <> 'rejected' THEN 1 END), COUNT(CASE WHEN status = 'rejected' THEN 1 END)
		FROM referrals WHERE advocate_id = $1 AND signed_up_at >= $2 AND signed_up_at < $3`, &a.Signups, &a.Rejected); err != nil {
		return a, err
	}
	if err := one("conversions", `SELECT COUNT(*) FROM referrals WHERE advocate_id = $1 AND converted_at >= $2 AND converted_at < $3`,
		&a.Conversions); err != nil {
		return a, err
	}
	grouped := []struct {
		what, q string
		set     func(k1, k2 string, v, w int64)
	}{
		{"shares", `SELECT channel, '', COUNT(*), 0 FROM shares WHERE participant_id = $1 AND created_at >= $2 AND created_at < $3 GROUP BY channel`,
			func(ch, _ string, n, _ int64) { a.Shares[ch] = n }},
		{"revenue", `SELECT pu.currency, '', SUM(pu.amount - pu.refunded), 0 FROM purchases pu JOIN referrals r ON r.id = pu.referral_id
			WHERE r.advocate_id = $1 AND pu.occurred_at >= $2 AND pu.occurred_at < $3 AND r.status <> 'rejected' GROUP BY pu.currency`,
			func(cur, _ string, v, _ int64) { a.Revenue[cur] = v }},
		{"rewards", `SELECT rw.status, rw.currency, SUM(rw.amount - rw.reversed), SUM(rw.reversed) FROM rewards rw JOIN events e ON e.id = rw.event_id
			WHERE rw.participant_id = $1 AND e.occurred_at >= $2 AND e.occurred_at < $3 GROUP BY rw.status, rw.currency`,
			func(st, cur string, v, rev int64) {
				if a.Rewards[st] == nil {
					a.Rewards[st] = map[string]int64{}
				}
				a.Rewards[st][cur] = v
				a.Reversed[cur] += rev
			}},
	}
	for _, g := range grouped {
		rows, err := s.r.QueryContext(ctx, g.q, args...)
		if err != nil {
			return a, fmt.Errorf("advocate report %s: %w", g.what, err)
		}
		for rows.Next() {
			var k1, k2 string
			var v, w int64
			if err := rows.Scan(&k1, &k2, &v, &w); err != nil {
				rows.Close()
				return a, fmt.Errorf("advocate report %s: %w", g.what, err)
			}
			g.set(k1, k2, v, w)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return a, fmt.Errorf("advocate report %s: %w", g.what, err)
		}
	}
	return a, nil
}

// Participant list orders.
const (
	SortCreated   = "created"
	SortReferrals = "referrals"
	SortEarned    = "earned"
)

// ParticipantQuery filters and orders a program's participant list.
type ParticipantQuery struct {
	ProgramID string
	Status    string // active, disabled or "" for all
	// Role: "advocate" (referred someone), "friend" (was referred), or ""
	// for all.
	Role string
	// Attribute narrows to participants whose attribute Key equals Value
	// (compared as text).
	AttrKey, AttrValue string
	// Q searches the email and name (from their beginning, any case) and
	// the external id (exactly).
	Q string
	// Sort is created (default), referrals or earned; Desc reverses it
	// (newest, most referrals, most earned first).
	Sort string
	Desc bool
	// Currency is the currency "earned" sums (the program's).
	Currency string
}

// ParticipantRow is a participant of the list with their totals.
type ParticipantRow struct {
	parrain.Participant
	// Referrals counts the friends they referred (rejected ones excluded);
	// Earned is their outstanding rewards approved or paid in the
	// program's currency.
	Referrals int64 `json:"referrals"`
	Earned    int64 `json:"earned"`
}

// ParticipantList lists a program's participants filtered, searched and
// ordered, a page at a time; the cursor is "<sort value>.<id>".
func (s *Store) ParticipantList(ctx context.Context, q ParticipantQuery, pg Page) ([]ParticipantRow, string, error) {
	query, args, err := participantListSQL(q, pg)
	if err != nil {
		return nil, "", err
	}
	rows, err := s.r.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, "", fmt.Errorf("listing participants: %w", err)
	}
	defer rows.Close()
	out := []ParticipantRow{}
	keys := map[string]int64{}
	for rows.Next() {
		var r ParticipantRow
		var attrs string
		var created, updated, key int64
		var erased sql.NullInt64
		if err := rows.Scan(&r.ID, &r.ProgramID, &r.ExternalID, &r.Email, &r.Name, &r.Locale, &r.Code, &r.Status, &created, &updated,
			&attrs, &r.DoNotSell, &erased, &r.Referrals, &r.Earned, &key); err != nil {
			return nil, "", err
		}
		r.CreatedAt, r.UpdatedAt, r.ErasedAt = fromMS(created), fromMS(updated), fromNullMS(erased)
		if r.Attributes, err = decodeAttributes(attrs); err != nil {
			return nil, "", err
		}
		keys[r.ID] = key
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	return pageOf(out, pg.limit(), func(r ParticipantRow) string { return strconv.FormatInt(keys[r.ID], 10) + "." + r.ID })
}

// participantListSQL builds ParticipantList's query: the participants with
// their referral count and earned total as the sort key, keyset-paged on
// (key, id).
func participantListSQL(q ParticipantQuery, pg Page) (string, []any, error) {
	args := []any{q.ProgramID, q.Currency}
	where := []string{`p.program_id = $1`}
	add := func(cond string, vs ...any) {
		idx := make([]any, len(vs))
		for i, v := range vs {
			args = append(args, v)
			idx[i] = len(args)
		}
		where = append(where, fmt.Sprintf(cond, idx...))
	}
	switch parrain.ParticipantStatus(q.Status) {
	case "", parrain.ParticipantActive, parrain.ParticipantDisabled:
	default:
		return "", nil, parrain.Invalid("status", "must be active or disabled")
	}
	if q.Status != "" {
		add(`p.status = $%d`, q.Status)
	}
	switch q.Role {
	case "":
	case "advocate":
		where = append(where, `EXISTS (SELECT 1 FROM referrals r WHERE r.advocate_id = p.id)`)
	case "friend":
		where = append(where, `EXISTS (SELECT 1 FROM referrals r WHERE r.friend_id = p.id)`)
	default:
		return "", nil, parrain.Invalid("role", "must be advocate or friend")
	}
	if q.AttrKey != "" {
		// Attributes are a JSON object in text on both databases, encoded
		// with sorted keys and no spaces: the pair is looked for as text
		// followed by "," or "}". REPLACE is case-sensitive on both.
		pair := attributePair(q.AttrKey, q.AttrValue)
		add(`(REPLACE(p.attributes, $%d, '') <> p.attributes OR REPLACE(p.attributes, $%d, '') <> p.attributes)`, pair+",", pair+"}")
	}
	if t := strings.TrimSpace(q.Q); t != "" {
		if len(t) > 200 {
			return "", nil, parrain.Invalid("q", "must be at most 200 characters")
		}
		add(`(p.external_id = $%d OR lower(p.email) LIKE $%d ESCAPE '\' OR lower(p.name) LIKE $%d ESCAPE '\')`,
			t, likeEscape(strings.ToLower(t))+"%", likeEscape(strings.ToLower(t))+"%")
	}
	var key string
	switch q.Sort {
	case "", SortCreated:
		key = `p.created_at`
	case SortReferrals:
		key = `(SELECT COUNT(*) FROM referrals r WHERE r.advocate_id = p.id AND r.status <> 'rejected')`
	case SortEarned:
		key = `(SELECT COALESCE(SUM(rw.amount - rw.reversed), 0) FROM rewards rw WHERE rw.participant_id = p.id
			AND rw.status IN ('approved', 'paid') AND rw.currency = $2)`
	default:
		return "", nil, parrain.Invalid("sort", "must be created, referrals or earned")
	}
	inner := `SELECT p.id, p.program_id, p.external_id, p.email, p.name, p.locale, p.code, p.status, p.created_at, p.updated_at,
		p.attributes, p.do_not_sell, p.erased_at,
		(SELECT COUNT(*) FROM referrals r WHERE r.advocate_id = p.id AND r.status <> 'rejected') AS n_referrals,
		(SELECT COALESCE(SUM(rw.amount - rw.reversed), 0) FROM rewards rw WHERE rw.participant_id = p.id
			AND rw.status IN ('approved', 'paid') AND rw.currency = $2) AS n_earned,
		` + key + ` AS sort_key FROM participants p WHERE ` + strings.Join(where, " AND ")
	outer := []string{}
	cmp, dir := ">", "ASC"
	if q.Desc {
		cmp, dir = "<", "DESC"
	}
	if pg.Cursor != "" {
		k, id, ok := strings.Cut(pg.Cursor, ".")
		n, err := strconv.ParseInt(k, 10, 64)
		if !ok || err != nil || id == "" {
			return "", nil, parrain.Invalid("cursor", "is not a cursor from a previous page")
		}
		args = append(args, n, id)
		outer = append(outer, fmt.Sprintf(`(x.sort_key %[1]s $%[2]d OR (x.sort_key = $%[2]d AND x.id %[1]s $%[3]d))`, cmp, len(args)-1, len(args)))
	}
	args = append(args, pg.limit()+1)
	query := `SELECT * FROM (` + inner + `) x`
	if len(outer) > 0 {
		query += ` WHERE ` + strings.Join(outer, " AND ")
	}
	query += fmt.Sprintf(` ORDER BY x.sort_key %s, x.id %s LIMIT $%d`, dir, dir, len(args))
	return query, args, nil
}

// likeEscape escapes LIKE's wildcards (with \ as the escape character).
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// attributePair is how an attribute appears in the stored JSON: the key and
// the value, a number or boolean as such when it reads as one, else a
// string.
func attributePair(key, value string) string {
	k, _ := json.Marshal(key)
	var v []byte
	var probe any
	if err := json.Unmarshal([]byte(value), &probe); err == nil {
		switch probe.(type) {
		case float64, bool:
			v = []byte(value)
		}
	}
	if v == nil {
		v, _ = json.Marshal(value)
	}
	return string(k) + ":" + string(v)
}

// DayMoney is one UTC day's referred revenue and rewards cost.
type DayMoney struct {
	Day     time.Time
	Revenue int64
	Cost    int64
}

// DailyMoney returns a program's referred revenue (net of refunds, rejected
// referrals excluded) and rewards cost (outstanding value of the rewards
// its events caused) per UTC day over [from, to), in currency only, keyed
// by parrain.DayNumber: the daily split of the KPIs' revenue and cost.
func (s *Store) DailyMoney(ctx context.Context, programID, currency string, from, to time.Time) (map[int64]DayMoney, error) {
	out := map[int64]DayMoney{}
	series := []struct {
		q   string
		set func(*DayMoney, int64)
	}{
		{`SELECT pu.occurred_at / 86400000, SUM(pu.amount - pu.refunded) FROM purchases pu JOIN referrals r ON r.id = pu.referral_id
			WHERE pu.program_id = $1 AND pu.occurred_at >= $2 AND pu.occurred_at < $3 AND pu.currency = $4 AND r.status <> 'rejected'
			GROUP BY pu.occurred_at / 86400000`, func(d *DayMoney, v int64) { d.Revenue = v }},
		{`SELECT e.occurred_at / 86400000, SUM(rw.amount - rw.reversed) FROM rewards rw JOIN events e ON e.id = rw.event_id
			WHERE e.program_id = $1 AND e.occurred_at >= $2 AND e.occurred_at < $3 AND rw.currency = $4
			GROUP BY e.occurred_at / 86400000`, func(d *DayMoney, v int64) { d.Cost = v }},
	}
	for _, sr := range series {
		rows, err := s.r.QueryContext(ctx, sr.q, programID, ms(from), ms(to), currency)
		if err != nil {
			return nil, fmt.Errorf("daily money: %w", err)
		}
		for rows.Next() {
			var day, v int64
			if err := rows.Scan(&day, &v); err != nil {
				rows.Close()
				return nil, err
			}
			d := out[day]
			sr.set(&d, v)
			out[day] = d
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// SharesByChannel counts a program's shares over [from, to) by channel,
// every channel listed.
func (s *Store) SharesByChannel(ctx context.Context, programID string, from, to time.Time) (map[string]int64, error) {
	out := map[string]int64{}
	for _, c := range ShareChannels {
		out[c] = 0
	}
	rows, err := s.r.QueryContext(ctx, `SELECT channel, COUNT(*) FROM shares WHERE program_id = $1 AND created_at >= $2 AND created_at < $3
		GROUP BY channel`, programID, ms(from), ms(to))
	if err != nil {
		return nil, fmt.Errorf("counting shares by channel: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var c string
		var n int64
		if err := rows.Scan(&c, &n); err != nil {
			return nil, err
		}
		out[c] = n
	}
	return out, rows.Err()
}
