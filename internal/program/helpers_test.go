package program_test

import (
	"context"
	"testing"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/storetest"
)

// env is one test's store on a fresh database with a fake clock and the
// program use cases on it (internal/storetest).
type env struct{ *storetest.Env }

func open(t *testing.T, url string) *env { return &env{storetest.Open(t, url)} }

func each(t *testing.T, fn func(t *testing.T, e *env)) {
	storetest.Each(t, func(t *testing.T, e *storetest.Env) { fn(t, &env{e}) })
}

var ctx = context.Background()

// b2b makes a program a three-stage B2B program paying on stages.
func b2b(p *parrain.Program) {
	p.Currency = "USD"
	p.Stages = []parrain.Stage{{Name: "demo_booked"}, {Name: "demo_completed"}, {Name: "closed_won", Label: "Closed won"}}
	p.Success = &parrain.Success{Trigger: parrain.TriggerStage, Stage: "closed_won"}
	p.Rules = []parrain.RewardRule{
		{ID: "booked", Trigger: parrain.TriggerStage, Stage: "demo_booked", Advocate: &parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountFixed, Amount: 2500}},
		{ID: "won", Trigger: parrain.TriggerStage, Stage: "closed_won", Advocate: &parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountPercent, PercentBps: 1500}},
	}
}
