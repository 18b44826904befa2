package partner

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// CreateSurvey adds a survey; partners are asked again every PeriodDays
// (default 90).
func (s *Service) CreateSurvey(ctx context.Context, programID string, sv store.Survey, idem store.Idem) (store.Survey, bool, error) {
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
	return store.Idempotent(ctx, s.st, idem, func(tx *store.Tx) (store.Survey, error) {
		if _, err := tx.PartnerProgram(ctx, programID); err != nil {
			return sv, err
		}
		sv.ProgramID, sv.Active, sv.CreatedAt = programID, true, s.now()
		if err := tx.InsertSurvey(ctx, &sv); err != nil {
			return sv, err
		}
		return sv, tx.Audit(ctx, auditActor(ctx), AuditSurveyCreated, "partner_survey", sv.ID, programID,
			map[string]any{"title": sv.Title, "questions": len(sv.Questions)})
	})
}

// surveyPeriod numbers the survey's period containing now, counted from
// its creation.
func surveyPeriod(now time.Time, sv store.Survey) int64 {
	return int64(now.Sub(sv.CreatedAt) / (time.Duration(sv.PeriodDays) * 24 * time.Hour))
}

// PendingSurvey returns the active survey the partner has not answered in
// its current period, if any.
func (s *Service) PendingSurvey(ctx context.Context, p parrain.Partner) (*store.Survey, error) {
	svs, err := s.st.Surveys(ctx, p.ProgramID)
	if err != nil {
		return nil, err
	}
	for _, sv := range svs {
		if !sv.Active {
			continue
		}
		done, err := s.st.SurveyAnswered(ctx, sv.ID, p.ID, surveyPeriod(s.now(), sv))
		if err != nil {
			return nil, err
		}
		if !done {
			return &sv, nil
		}
	}
	return nil, nil
}

// AnswerSurvey records a partner's answers for the survey's current
// period (once per period).
func (s *Service) AnswerSurvey(ctx context.Context, p parrain.Partner, surveyID string, answers []string) error {
	svs, err := s.st.Surveys(ctx, p.ProgramID)
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
		return s.st.InTx(ctx, func(tx *store.Tx) error {
			now := s.now()
			ok, err := tx.InsertSurveyAnswer(ctx, sv.ID, p.ID, surveyPeriod(now, sv), answers, now)
			if err != nil {
				return err
			}
			if !ok {
				return &parrain.Error{Code: parrain.CodeConflict, Field: "survey", Message: "you already answered this survey for this period"}
			}
			return nil
		})
	}
	return parrain.Errorf(parrain.CodeNotFound, "survey not found")
}
