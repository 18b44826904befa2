package referral

import (
	"context"

	"github.com/parrainhq/parrain/internal/parrain"
)

// handler is what each event type does. The database ingestion (real
// ingestion and dry runs) and replay implement it, so that the one switch
// in dispatch serves all three: a new event type is a new method, and
// neither can forget it.
type handler interface {
	signup(context.Context) error
	purchase(context.Context) error
	refund(context.Context) error
	stage(context.Context) error
	contract(context.Context) error
	cancel(context.Context) error
	activity(context.Context) error
	moment(context.Context) error
}

// dispatch applies an event with the handler of its type.
func dispatch(ctx context.Context, h handler, t parrain.EventType) error {
	switch t {
	case parrain.EventSignup:
		return h.signup(ctx)
	case parrain.EventPurchase:
		return h.purchase(ctx)
	case parrain.EventRefund:
		return h.refund(ctx)
	case parrain.EventStage:
		return h.stage(ctx)
	case parrain.EventContract:
		return h.contract(ctx)
	case parrain.EventCancel:
		return h.cancel(ctx)
	case parrain.EventActivity:
		return h.activity(ctx)
	case parrain.EventNPS, parrain.EventRating, parrain.EventPlanUpgrade, parrain.EventMilestone, parrain.EventCustom:
		return h.moment(ctx)
	}
	return nil
}
