package store

import (
	"context"
	"encoding/json"
	"time"
)

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

// SurveyAnswered reports whether a partner answered a survey in period.
func (s *Store) SurveyAnswered(ctx context.Context, surveyID, partnerID string, period int64) (bool, error) {
	var n int
	err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM partner_survey_answers WHERE survey_id = $1 AND partner_id = $2 AND period = $3`,
		surveyID, partnerID, period).Scan(&n)
	return n > 0, err
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

// InsertSurvey adds a survey (sv.ProgramID, sv.Active and sv.CreatedAt
// set) and sets its id.
func (t *Tx) InsertSurvey(ctx context.Context, sv *Survey) error {
	sv.ID = newID("psv")
	qs, _ := json.Marshal(sv.Questions)
	_, err := t.tx.ExecContext(ctx, `INSERT INTO partner_surveys (id, program_id, title, questions, period_days, active, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		sv.ID, sv.ProgramID, sv.Title, string(qs), sv.PeriodDays, sv.Active, ms(sv.CreatedAt))
	return err
}

// InsertSurveyAnswer records a partner's answers for a survey's period; it
// reports false when they already answered in that period.
func (t *Tx) InsertSurveyAnswer(ctx context.Context, surveyID, partnerID string, period int64, answers []string, now time.Time) (bool, error) {
	b, _ := json.Marshal(answers)
	res, err := t.tx.ExecContext(ctx, `INSERT INTO partner_survey_answers (id, survey_id, partner_id, period, answers, created_at) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT DO NOTHING`, newID("psa"), surveyID, partnerID, period, string(b), ms(now))
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}
