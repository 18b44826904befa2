package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
)

// TierEvent is one entry of a partner's tier history: joined, promotion or
// demotion, with its reason.
type TierEvent struct {
	ID        string    `json:"id"`
	From      string    `json:"from"`
	To        string    `json:"to"`
	Direction string    `json:"direction"`
	Reason    string    `json:"reason"`
	CreatedAt time.Time `json:"created_at"`
}

// partnerRecordTx loads what tier evaluation needs about a partner.
func (s *Store) partnerRecordTx(ctx context.Context, q querier, p parrain.Partner) (parrain.PartnerRecord, error) {
	r := parrain.PartnerRecord{TrainingDone: p.TrainingAt != nil}
	rows, err := q.QueryContext(ctx, `SELECT closed_at, value FROM partner_leads WHERE partner_id = $1 AND stage_kind = 'won'`, p.ID)
	if err != nil {
		return r, err
	}
	defer rows.Close()
	for rows.Next() {
		var at, v int64
		if err := rows.Scan(&at, &v); err != nil {
			return r, err
		}
		r.Won = append(r.Won, parrain.WonDeal{ClosedAt: fromMS(at), Value: v})
	}
	return r, rows.Err()
}

// evaluateTierTx re-evaluates one partner's tier; a change is recorded in
// the tier history (shown to the partner on their dashboard) and applied
// to the participant's partner_tier attribute, which chooses commission
// rates.
func (s *Store) evaluateTierTx(ctx context.Context, tx *sql.Tx, programID, partnerID string) (*parrain.TierChange, error) {
	pp, err := s.partnerProgramQ(ctx, tx, "pp.program_id = $1", programID)
	if err != nil {
		return nil, err
	}
	p, err := s.partnerQ(ctx, tx, programID, partnerID)
	if err != nil || p.Status != parrain.PartnerActive {
		return nil, err
	}
	rec, err := s.partnerRecordTx(ctx, tx, p)
	if err != nil {
		return nil, err
	}
	ch := parrain.EvaluateTier(s.clock.Now(), pp.Tiers, p.Tier, rec, pp.Currency)
	if ch.Direction == "" {
		return nil, nil
	}
	now := ms(s.clock.Now())
	if _, err := tx.ExecContext(ctx, `UPDATE partners SET tier = $1, updated_at = $2 WHERE id = $3`, ch.To, now, p.ID); err != nil {
		return nil, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO partner_tier_history (id, partner_id, program_id, from_tier, to_tier, direction, reason, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, newID("pth"), p.ID, programID, ch.From, ch.To, ch.Direction, ch.Reason, now); err != nil {
		return nil, err
	}
	if p.ParticipantID != "" {
		var attrs string
		if err := tx.QueryRowContext(ctx, `SELECT attributes FROM participants WHERE id = $1`, p.ParticipantID).Scan(&attrs); err != nil {
			return nil, err
		}
		a, err := decodeAttributes(attrs)
		if err != nil {
			return nil, err
		}
		if a == nil {
			a = parrain.Attributes{}
		}
		a["partner_tier"] = ch.To
		if _, err := tx.ExecContext(ctx, `UPDATE participants SET attributes = $1, updated_at = $2 WHERE id = $3`, encodeAttributes(&a), now, p.ParticipantID); err != nil {
			return nil, err
		}
	}
	return &ch, nil
}

// EvaluatePartnerTiers re-evaluates every active partner of a program (the
// scheduled job) and returns the changes.
func (s *Store) EvaluatePartnerTiers(ctx context.Context, programID string) ([]parrain.TierChange, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id FROM partners WHERE program_id = $1 AND status = 'active' ORDER BY id`, programID)
	if err != nil {
		return nil, err
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return nil, err
		}
		ids = append(ids, id)
	}
	rows.Close()
	var out []parrain.TierChange
	for _, id := range ids {
		var ch *parrain.TierChange
		err := s.tx(ctx, func(tx *sql.Tx) error {
			var err error
			ch, err = s.evaluateTierTx(ctx, tx, programID, id)
			return err
		})
		if err != nil {
			return out, err
		}
		if ch != nil {
			out = append(out, *ch) // once the transaction committed (it may have been retried)
		}
	}
	return out, nil
}

// TierHistory returns a partner's tier history, newest first.
func (s *Store) TierHistory(ctx context.Context, partnerID string) ([]TierEvent, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, from_tier, to_tier, direction, reason, created_at FROM partner_tier_history WHERE partner_id = $1 ORDER BY id DESC LIMIT 100`, partnerID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []TierEvent{}
	for rows.Next() {
		var e TierEvent
		var at int64
		if err := rows.Scan(&e.ID, &e.From, &e.To, &e.Direction, &e.Reason, &at); err != nil {
			return nil, err
		}
		e.CreatedAt = fromMS(at)
		out = append(out, e)
	}
	return out, rows.Err()
}

// Asset is a sales or marketing file of the partner program.
type Asset struct {
	ID          string    `json:"id"`
	ProgramID   string    `json:"program_id"`
	Title       string    `json:"title"`
	Kind        string    `json:"kind"` // one_pager, case_study, email_template, co_brandable, other
	Description string    `json:"description,omitempty"`
	Filename    string    `json:"filename"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	MinTier     string    `json:"min_tier,omitempty"` // the lowest tier that may download it ("" = all)
	Downloads   int64     `json:"downloads"`
	CreatedAt   time.Time `json:"created_at"`
	// Content is the file, base64-encoded in JSON (uploads only).
	Content []byte `json:"content,omitempty"`
}

// MaxAssetSize bounds an asset file.
const MaxAssetSize = 5 << 20

var assetKinds = []string{"one_pager", "case_study", "email_template", "co_brandable", "presentation", "other"}

// CreateAsset stores an asset.
func (s *Store) CreateAsset(ctx context.Context, programID string, a Asset, idem Idem) (Asset, bool, error) {
	a.Title, a.Description, a.Filename = strings.TrimSpace(a.Title), strings.TrimSpace(a.Description), strings.TrimSpace(a.Filename)
	switch {
	case a.Title == "" || len(a.Title) > 200:
		return a, false, parrain.Invalid("title", "is required (at most 200 characters)")
	case !containsStr(assetKinds, a.Kind):
		return a, false, parrain.Invalid("kind", "must be one of %s", strings.Join(assetKinds, ", "))
	case a.Filename == "" || len(a.Filename) > 200 || strings.ContainsAny(a.Filename, "/\\\"\r\n"):
		return a, false, parrain.Invalid("filename", "is required: a file name without slashes or quotes")
	case len(a.Content) == 0:
		return a, false, parrain.Invalid("content", "is required (the file, base64-encoded)")
	case len(a.Content) > MaxAssetSize:
		return a, false, parrain.Invalid("content", "must be at most %d bytes", MaxAssetSize)
	case len(a.Description) > 2000:
		return a, false, parrain.Invalid("description", "must be at most 2000 characters")
	}
	if a.ContentType == "" {
		a.ContentType = "application/octet-stream"
	}
	return idempotent(ctx, s, idem, func(tx *sql.Tx) (Asset, error) {
		pp, err := s.partnerProgramQ(ctx, tx, "pp.program_id = $1", programID)
		if err != nil {
			return a, err
		}
		if _, ok := pp.Tier(a.MinTier); a.MinTier != "" && !ok {
			return a, parrain.Invalid("min_tier", "%q is not a tier of this program", a.MinTier)
		}
		a.ID, a.ProgramID, a.Size, a.CreatedAt = newID("pas"), programID, int64(len(a.Content)), s.clock.Now()
		_, err = tx.ExecContext(ctx, `INSERT INTO partner_assets (id, program_id, title, kind, description, filename, content_type, size, content, min_tier, created_at)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, a.ID, programID, a.Title, a.Kind, a.Description, a.Filename, a.ContentType, a.Size,
			base64.StdEncoding.EncodeToString(a.Content), a.MinTier, ms(a.CreatedAt))
		a.Content = nil
		return a, err
	})
}

func containsStr(list []string, v string) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}

// Assets lists a program's assets (without their content).
func (s *Store) Assets(ctx context.Context, programID string) ([]Asset, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, program_id, title, kind, description, filename, content_type, size, min_tier, downloads, created_at
		FROM partner_assets WHERE program_id = $1 ORDER BY id DESC`, programID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Asset{}
	for rows.Next() {
		var a Asset
		var at int64
		if err := rows.Scan(&a.ID, &a.ProgramID, &a.Title, &a.Kind, &a.Description, &a.Filename, &a.ContentType, &a.Size, &a.MinTier, &a.Downloads, &at); err != nil {
			return nil, err
		}
		a.CreatedAt = fromMS(at)
		out = append(out, a)
	}
	return out, rows.Err()
}

// AssetsFor lists the assets a partner's tier may download.
func (s *Store) AssetsFor(ctx context.Context, pp PartnerProgram, p parrain.Partner) ([]Asset, error) {
	all, err := s.Assets(ctx, pp.ProgramID)
	if err != nil {
		return nil, err
	}
	out := []Asset{}
	for _, a := range all {
		if a.MinTier == "" || pp.TierRank(p.Tier) >= pp.TierRank(a.MinTier) {
			out = append(out, a)
		}
	}
	return out, nil
}

// DeleteAsset removes an asset and its download log.
func (s *Store) DeleteAsset(ctx context.Context, programID, id string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM partner_asset_downloads WHERE asset_id IN (SELECT id FROM partner_assets WHERE program_id = $1 AND id = $2)`, programID, id); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM partner_assets WHERE program_id = $1 AND id = $2`, programID, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("asset")
		}
		return nil
	})
}

// DownloadAsset returns an asset's file for a partner whose tier allows
// it, and counts the download. Another program's asset or one above the
// partner's tier is not found.
func (s *Store) DownloadAsset(ctx context.Context, pp PartnerProgram, p parrain.Partner, id string) (Asset, error) {
	var a Asset
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var content string
		err := tx.QueryRowContext(ctx, `SELECT id, title, filename, content_type, size, min_tier, content FROM partner_assets WHERE program_id = $1 AND id = $2`,
			p.ProgramID, id).Scan(&a.ID, &a.Title, &a.Filename, &a.ContentType, &a.Size, &a.MinTier, &content)
		if errors.Is(err, sql.ErrNoRows) || err == nil && a.MinTier != "" && pp.TierRank(p.Tier) < pp.TierRank(a.MinTier) {
			return notFound("asset")
		}
		if err != nil {
			return err
		}
		if a.Content, err = base64.StdEncoding.DecodeString(content); err != nil {
			return fmt.Errorf("decoding asset: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE partner_assets SET downloads = downloads + 1 WHERE id = $1`, id); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO partner_asset_downloads (id, asset_id, partner_id, created_at) VALUES ($1, $2, $3, $4)`,
			newID("pad"), id, p.ID, ms(s.clock.Now()))
		return err
	})
	return a, err
}

// Survey is a short periodic questionnaire to partners (open questions).
type Survey struct {
	ID         string    `json:"id"`
	ProgramID  string    `json:"program_id"`
	Title      string    `json:"title"`
	Questions  []string  `json:"questions"`
	PeriodDays int       `json:"period_days"`
	Active     bool      `json:"active"`
	CreatedAt  time.Time `json:"created_at"`
}

// SurveyAnswer is one partner's answers for one period.
type SurveyAnswer struct {
	ID          string    `json:"id"`
	SurveyID    string    `json:"survey_id"`
	PartnerID   string    `json:"partner_id"`
	PartnerName string    `json:"partner_name,omitempty"`
	Answers     []string  `json:"answers"`
	CreatedAt   time.Time `json:"created_at"`
}

// CreateSurvey adds a survey; partners are asked again every PeriodDays
// (default 90).
func (s *Store) CreateSurvey(ctx context.Context, programID string, sv Survey, idem Idem) (Survey, bool, error) {
	sv.Title = strings.TrimSpace(sv.Title)
	if sv.Title == "" || len(sv.Title) > 200 {
		return sv, false, parrain.Invalid("title", "is required (at most 200 characters)")
	}
	if len(sv.Questions) == 0 || len(sv.Questions) > 10 {
		return sv, false, parrain.Invalid("questions", "between 1 and 10 open questions")
	}
	for i, q := range sv.Questions {
		if sv.Questions[i] = strings.TrimSpace(q); sv.Questions[i] == "" || len(q) > 500 {
			return sv, false, parrain.Invalid(fmt.Sprintf("questions[%d]", i), "must be a question of at most 500 characters")
		}
	}
	if sv.PeriodDays == 0 {
		sv.PeriodDays = 90
	}
	if sv.PeriodDays < 7 || sv.PeriodDays > 365 {
		return sv, false, parrain.Invalid("period_days", "must be between 7 and 365")
	}
	return idempotent(ctx, s, idem, func(tx *sql.Tx) (Survey, error) {
		if _, err := s.partnerProgramQ(ctx, tx, "pp.program_id = $1", programID); err != nil {
			return sv, err
		}
		sv.ID, sv.ProgramID, sv.Active, sv.CreatedAt = newID("psv"), programID, true, s.clock.Now()
		qs, _ := json.Marshal(sv.Questions)
		_, err := tx.ExecContext(ctx, `INSERT INTO partner_surveys (id, program_id, title, questions, period_days, active, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
			sv.ID, programID, sv.Title, string(qs), sv.PeriodDays, true, ms(sv.CreatedAt))
		return sv, err
	})
}

// Surveys lists a program's surveys.
func (s *Store) Surveys(ctx context.Context, programID string) ([]Survey, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, program_id, title, questions, period_days, active, created_at FROM partner_surveys WHERE program_id = $1 ORDER BY id DESC`, programID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Survey{}
	for rows.Next() {
		var sv Survey
		var qs string
		var at int64
		if err := rows.Scan(&sv.ID, &sv.ProgramID, &sv.Title, &qs, &sv.PeriodDays, &sv.Active, &at); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(qs), &sv.Questions); err != nil {
			return nil, err
		}
		sv.CreatedAt = fromMS(at)
		out = append(out, sv)
	}
	return out, rows.Err()
}

// surveyPeriod numbers the survey's period containing now, counted from
// its creation.
func (s *Store) surveyPeriod(sv Survey) int64 {
	return int64(s.clock.Now().Sub(sv.CreatedAt) / (time.Duration(sv.PeriodDays) * 24 * time.Hour))
}

// PendingSurvey returns the active survey the partner has not answered in
// its current period, if any.
func (s *Store) PendingSurvey(ctx context.Context, p parrain.Partner) (*Survey, error) {
	svs, err := s.Surveys(ctx, p.ProgramID)
	if err != nil {
		return nil, err
	}
	for _, sv := range svs {
		if !sv.Active {
			continue
		}
		var n int
		if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM partner_survey_answers WHERE survey_id = $1 AND partner_id = $2 AND period = $3`,
			sv.ID, p.ID, s.surveyPeriod(sv)).Scan(&n); err != nil {
			return nil, err
		}
		if n == 0 {
			sv := sv
			return &sv, nil
		}
	}
	return nil, nil
}

// AnswerSurvey records a partner's answers for the survey's current
// period (once per period).
func (s *Store) AnswerSurvey(ctx context.Context, p parrain.Partner, surveyID string, answers []string) error {
	svs, err := s.Surveys(ctx, p.ProgramID)
	if err != nil {
		return err
	}
	for _, sv := range svs {
		if sv.ID != surveyID {
			continue
		}
		if len(answers) != len(sv.Questions) {
			return parrain.Invalid("answers", "answer each of the %d questions (an empty answer is fine)", len(sv.Questions))
		}
		for i, a := range answers {
			if answers[i] = strings.TrimSpace(a); len(a) > 5000 {
				return parrain.Invalid(fmt.Sprintf("answers[%d]", i), "must be at most 5000 characters")
			}
		}
		b, _ := json.Marshal(answers)
		res, err := s.w.ExecContext(ctx, `INSERT INTO partner_survey_answers (id, survey_id, partner_id, period, answers, created_at) VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT DO NOTHING`, newID("psa"), sv.ID, p.ID, s.surveyPeriod(sv), string(b), ms(s.clock.Now()))
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return &parrain.Error{Code: parrain.CodeConflict, Field: "survey", Message: "you already answered this survey for this period"}
		}
		return nil
	}
	return notFound("survey")
}

// SurveyAnswers lists a survey's answers, newest first.
func (s *Store) SurveyAnswers(ctx context.Context, programID, surveyID string) ([]SurveyAnswer, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT a.id, a.survey_id, a.partner_id, pa.name, a.answers, a.created_at FROM partner_survey_answers a
		JOIN partner_surveys sv ON sv.id = a.survey_id JOIN partners pa ON pa.id = a.partner_id
		WHERE sv.program_id = $1 AND a.survey_id = $2 ORDER BY a.id DESC`, programID, surveyID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []SurveyAnswer{}
	for rows.Next() {
		var a SurveyAnswer
		var js string
		var at int64
		if err := rows.Scan(&a.ID, &a.SurveyID, &a.PartnerID, &a.PartnerName, &js, &at); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(js), &a.Answers); err != nil {
			return nil, err
		}
		a.CreatedAt = fromMS(at)
		out = append(out, a)
	}
	return out, rows.Err()
}

// Onboarding is a partner's first-30-days checklist.
type Onboarding struct {
	AgreementAccepted bool      `json:"agreement_accepted"`
	KickoffDone       bool      `json:"kickoff_done"`
	TrainingDone      bool      `json:"training_done"`
	FirstLead         bool      `json:"first_lead_registered"`
	Done              int       `json:"done"`
	Total             int       `json:"total"`
	Due               time.Time `json:"due"` // 30 days after approval
}

// PartnerDashboard is everything a partner sees on the portal's home.
type PartnerDashboard struct {
	Partner     parrain.Partner  `json:"partner"`
	Tier        parrain.Tier     `json:"tier"`
	NextTier    *parrain.Tier    `json:"next_tier,omitempty"`
	NextNeeds   []string         `json:"next_needs,omitempty"`
	Leads       []parrain.Lead   `json:"leads"`
	Commissions map[string]int64 `json:"commissions"` // pending, approved, paid (program currency)
	Currency    string           `json:"currency"`
	Quarter     parrain.KPIs     `json:"quarter"`
	History     []TierEvent      `json:"history"`
	Onboarding  Onboarding       `json:"onboarding"`
	Extensions  []Extension      `json:"extensions"`
}

// PartnerDashboardFor assembles a partner's dashboard: only their own
// leads, commissions and history.
func (s *Store) PartnerDashboardFor(ctx context.Context, pp PartnerProgram, p parrain.Partner) (PartnerDashboard, error) {
	d := PartnerDashboard{Partner: p, Currency: pp.Currency, Commissions: map[string]int64{"pending": 0, "approved": 0, "paid": 0}}
	d.Tier, _ = pp.Tier(p.Tier)
	now := s.clock.Now()
	leads, _, err := s.Leads(ctx, pp.ProgramID, LeadFilter{PartnerID: p.ID}, Page{Limit: 200})
	if err != nil {
		return d, err
	}
	d.Leads = leads
	err = s.tx(ctx, func(tx *sql.Tx) error {
		rec, err := s.partnerRecordTx(ctx, tx, p)
		if err != nil {
			return err
		}
		for _, t := range pp.Tiers {
			if t.Rank > d.Tier.Rank {
				t := t
				d.NextTier, d.NextNeeds = &t, parrain.Missing(now, t, rec, pp.Currency)
				break
			}
		}
		return nil
	})
	if err != nil {
		return d, err
	}
	if p.ParticipantID != "" {
		st, err := s.ParticipantStats(ctx, p.ParticipantID)
		if err != nil {
			return d, err
		}
		for status, byCur := range st.Rewards {
			if _, ok := d.Commissions[status]; ok {
				d.Commissions[status] += byCur[pp.Currency]
			}
		}
	}
	from, to := parrain.QuarterBounds(now)
	var deals []parrain.KPIDeal
	for _, l := range leads {
		deals = append(deals, parrain.KPIDeal{PartnerID: p.ID, Credit: l.Credit, RegisteredAt: l.RegisteredAt, ClosedAt: l.ClosedAt, Won: l.StageKind == parrain.StageWon, Value: l.Value})
	}
	d.Quarter = parrain.ComputeKPIs(from, to, pp.Currency, []parrain.KPIPartner{{ID: p.ID, Tier: p.Tier, ApprovedAt: p.ApprovedAt}}, deals)
	if d.History, err = s.TierHistory(ctx, p.ID); err != nil {
		return d, err
	}
	if d.Extensions, err = s.Extensions(ctx, pp.ProgramID, p.ID, ""); err != nil {
		return d, err
	}
	d.Onboarding = Onboarding{AgreementAccepted: p.AgreementVersion == pp.TermsVersion, KickoffDone: p.KickoffAt != nil, TrainingDone: p.TrainingAt != nil,
		FirstLead: len(leads) > 0, Total: 4}
	for _, b := range []bool{d.Onboarding.AgreementAccepted, d.Onboarding.KickoffDone, d.Onboarding.TrainingDone, d.Onboarding.FirstLead} {
		if b {
			d.Onboarding.Done++
		}
	}
	if p.ApprovedAt != nil {
		d.Onboarding.Due = p.ApprovedAt.AddDate(0, 0, 30)
	}
	return d, nil
}

// PartnerKPIReport is the KPIs of a period overall, per tier and per
// partner.
type PartnerKPIReport struct {
	Overall   parrain.KPIs            `json:"overall"`
	ByTier    map[string]parrain.KPIs `json:"by_tier"`
	ByPartner []PartnerKPIs           `json:"by_partner"`
}

// PartnerKPIs is one partner's KPIs.
type PartnerKPIs struct {
	PartnerID string `json:"partner_id"`
	Name      string `json:"name"`
	Tier      string `json:"tier"`
	parrain.KPIs
}

// PartnerKPIReportFor computes the partner KPIs of a program over
// [from, to). A deal counts in the tier its partner has now.
func (s *Store) PartnerKPIReportFor(ctx context.Context, programID string, from, to time.Time) (PartnerKPIReport, error) {
	rep := PartnerKPIReport{ByTier: map[string]parrain.KPIs{}, ByPartner: []PartnerKPIs{}}
	pp, err := s.PartnerProgram(ctx, programID)
	if err != nil {
		return rep, err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT id, name, tier, approved_at FROM partners WHERE program_id = $1 AND approved_at IS NOT NULL ORDER BY name`, programID)
	if err != nil {
		return rep, err
	}
	var partners []parrain.KPIPartner
	names := map[string]string{}
	for rows.Next() {
		var p parrain.KPIPartner
		var appr sql.NullInt64
		var name string
		if err := rows.Scan(&p.ID, &name, &p.Tier, &appr); err != nil {
			rows.Close()
			return rep, err
		}
		p.ApprovedAt = fromNullMS(appr)
		names[p.ID] = name
		partners = append(partners, p)
	}
	rows.Close()
	tierOf := map[string]string{}
	for _, p := range partners {
		tierOf[p.ID] = p.Tier
	}
	rows, err = s.r.QueryContext(ctx, `SELECT partner_id, credit, registered_at, closed_at, stage_kind, value FROM partner_leads WHERE program_id = $1`, programID)
	if err != nil {
		return rep, err
	}
	var deals []parrain.KPIDeal
	for rows.Next() {
		var d parrain.KPIDeal
		var reg int64
		var closed sql.NullInt64
		var kind string
		if err := rows.Scan(&d.PartnerID, &d.Credit, &reg, &closed, &kind, &d.Value); err != nil {
			rows.Close()
			return rep, err
		}
		d.RegisteredAt, d.ClosedAt, d.Won, d.Tier = fromMS(reg), fromNullMS(closed), kind == string(parrain.StageWon), tierOf[d.PartnerID]
		deals = append(deals, d)
	}
	rows.Close()
	rep.Overall = parrain.ComputeKPIs(from, to, pp.Currency, partners, deals)
	for _, t := range pp.Tiers {
		var ps []parrain.KPIPartner
		var ds []parrain.KPIDeal
		for _, p := range partners {
			if p.Tier == t.Key {
				ps = append(ps, p)
			}
		}
		for _, d := range deals {
			if d.Tier == t.Key {
				ds = append(ds, d)
			}
		}
		rep.ByTier[t.Key] = parrain.ComputeKPIs(from, to, pp.Currency, ps, ds)
	}
	for _, p := range partners {
		var ds []parrain.KPIDeal
		for _, d := range deals {
			if d.PartnerID == p.ID {
				ds = append(ds, d)
			}
		}
		rep.ByPartner = append(rep.ByPartner, PartnerKPIs{PartnerID: p.ID, Name: names[p.ID], Tier: p.Tier,
			KPIs: parrain.ComputeKPIs(from, to, pp.Currency, []parrain.KPIPartner{p}, ds)})
	}
	return rep, nil
}
