package parrain

import "context"

// ActorKind says what kind of caller performed an action.
type ActorKind string

// The kinds of actor the audit log names.
const (
	ActorUser     ActorKind = "user"     // a console user
	ActorAPIKey   ActorKind = "api_key"  // an API key
	ActorCLI      ActorKind = "cli"      // the command line
	ActorPartner  ActorKind = "partner"  // a partner in the portal
	ActorAdvocate ActorKind = "advocate" // an advocate in the widget
	ActorSystem   ActorKind = "system"   // a background job
	ActorWebhook  ActorKind = "webhook"  // a provider webhook (Stripe, Shopify)
)

// Actor is who performs a state-changing action: its kind, a stable id
// (user id, API key id, partner id, job kind), a human label (email, key
// name) and the client IP when the action came over HTTP.
type Actor struct {
	Kind  ActorKind `json:"kind"`
	ID    string    `json:"id,omitempty"`
	Label string    `json:"label,omitempty"`
	IP    string    `json:"ip,omitempty"`
}

type actorKey struct{}

// WithActor returns ctx carrying a, for the use cases to audit.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the actor ctx carries, or a system actor when none was
// set (a background job or a test).
func ActorFrom(ctx context.Context) Actor {
	if a, ok := ctx.Value(actorKey{}).(Actor); ok {
		return a
	}
	return Actor{Kind: ActorSystem}
}
