package parrain

import (
	"fmt"
	"strings"
)

// This file holds the deal-stage state machine of a partner lead: a deal
// moves freely between the open stages of its program and ends in a won or
// lost stage, after which it does not move again. Closing won needs the
// deal's value. What a move records and pays is the use case's
// (internal/partner).

// CheckDealMove validates a requested move before anything is loaded: a
// stage is named and a given value is a non-negative amount. It returns the
// stage name trimmed.
func CheckDealMove(stage string, value *int64) (string, error) {
	stage = strings.TrimSpace(stage)
	if stage == "" {
		return "", Invalid("stage", "is required")
	}
	if value != nil && (*value < 0 || *value > MaxAmount) {
		return "", Invalid("value", "must be a non-negative integer in the currency's minor unit")
	}
	return stage, nil
}

// DealTransition is the outcome of a move allowed by PlanDealMove.
type DealTransition struct {
	From string
	// To is the stage the deal moves to.
	To DealStage
	// Value is the deal's value after the move (the lead's when the move
	// gives none).
	Value int64
	// Unchanged reports a move to the stage the deal is already at: nothing
	// is recorded.
	Unchanged bool
}

// Closes reports whether the move ends the deal (won or lost).
func (t DealTransition) Closes() bool { return !t.Unchanged && t.To.Kind != StageOpen }

// PlanDealMove decides whether deal l may move to stage with value (nil
// keeps the deal's value): the stage must be one of the program's, the deal
// still open, and a deal closed won needs a positive value.
func PlanDealMove(s PartnerSettings, l Lead, stage string, value *int64) (DealTransition, error) {
	st, ok := s.Stage(stage)
	if !ok {
		return DealTransition{}, Invalid("stage", "%q is not a deal stage of this program (%s)", stage, s.StageNames())
	}
	if l.StageKind != StageOpen {
		return DealTransition{}, &Error{Code: CodeConflict, Field: "stage", Message: fmt.Sprintf("the deal is already closed (%s)", l.Stage)}
	}
	t := DealTransition{From: l.Stage, To: st, Value: l.Value}
	if l.Stage == st.Name {
		t.Unchanged = true
		return t, nil
	}
	if value != nil {
		t.Value = *value
	}
	if st.Kind == StageWon && t.Value <= 0 {
		return DealTransition{}, Invalid("value", "is required to close a deal won: the contract's first-year value in minor units")
	}
	return t, nil
}
