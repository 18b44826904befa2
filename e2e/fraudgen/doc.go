// Package fraudgen is a labelled-traffic generator for Parrain's fraud
// checks that knows only what an integrator knows: docs/integration.md,
// the public parts of docs/fraud.md, the OpenAPI document and the event
// schema. It does not import the detector (internal/fraud) nor reuse its
// simulator; it drives a running parrain binary over HTTP the way real
// traffic arrives:
//
//   - clicks on GET /r/{code} from browsers, link-preview fetchers and
//     headless clients, either straight from the client (direct) or through
//     a reverse proxy the server trusts (--trusted-proxies) that adds
//     X-Forwarded-For;
//   - signups reported by the integrator's backend with the parrain_ref
//     cookie only, or with the code and the cookie together as
//     integration.md shows, always with the person's context (ip,
//     user_agent, device_id);
//   - purchases (with the card fingerprint and address), refunds and
//     activity events.
//
// Every referral carries a label (the scenario that produced it, benign
// or fraud); at the end the outcome of each referral is read back through
// GET /api/v1/programs/{id}/referrals (review_status, risk_action, status)
// and compared with its label (see Report).
//
// Run it with cmd/parrain-fraudgen (which builds and starts the binary) or
// from e2e's TestFraudGenFloors, which enforces the floors of the default
// policy.
package fraudgen
