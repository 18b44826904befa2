// Package inbound turns the webhooks of the systems that already know about
// conversions into Parrain events: Stripe (invoice.paid and
// checkout.session.completed → purchase, charge.refunded → refund,
// customer.subscription.deleted → cancellation) and Shopify (orders/create
// and orders/paid → purchase with discount-code attribution, refunds/create
// → refund).
//
// Every delivery is verified first (Stripe-Signature with tolerance, Shopify
// HMAC) and deduplicated by the provider's event id, which is also the
// idempotency key of the Parrain event it becomes: a replayed delivery
// changes nothing. A refund that arrives before its order, and the first
// invoice of a subscription that arrives before its checkout session, are
// deferred and processed when what they refer to arrives.
//
// It imports the domain, the store and the provider payload packages; never
// the HTTP or job-runner packages.
package inbound

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/store"
)

// Providers.
const (
	ProviderStripe  = "stripe"
	ProviderShopify = "shopify"
)

// Metadata keys read on Stripe objects (and note attributes on Shopify
// orders).
const (
	MetaProgram    = "parrain_program_id"    // which program the payment belongs to
	MetaExternalID = "parrain_external_id"   // the customer's user id in your app
	MetaCode       = "parrain_referral_code" // the referral code (from the parrain_ref cookie or the ref parameter)
	MetaCookie     = "parrain_ref"           // the raw parrain_ref cookie value
)

// Config holds the inbound webhook secrets and default programs.
type Config struct {
	StripeSecret    string
	StripeTolerance time.Duration
	// StripeProgram receives Stripe events without parrain_program_id
	// metadata; when empty, the installation's only program does.
	StripeProgram  string
	ShopifySecret  string
	ShopifyProgram string
}

// Processor processes verified provider webhooks.
type Processor struct {
	st  *store.Store
	ref *referral.Service
	log *slog.Logger
	cfg Config
}

// New returns a Processor.
func New(st *store.Store, ref *referral.Service, log *slog.Logger, cfg Config) *Processor {
	return &Processor{st: st, ref: ref, log: log, cfg: cfg}
}

// Outcome is the answer to a provider.
type Outcome struct {
	Provider string `json:"provider"`
	EventID  string `json:"event_id"`
	Type     string `json:"type"`
	// Status is processed, ignored, deferred or duplicate.
	Status    string `json:"status"`
	Detail    string `json:"detail,omitempty"`
	ProgramID string `json:"program_id,omitempty"`
}

// result is what handling one event decided.
type result struct {
	status  string
	detail  string
	program string
	waits   []string // deferred: refs it waits on
	drain   []string // processed: refs whose waiting events can now run
}

func ignored(format string, args ...any) result {
	return result{status: store.InboundIgnored, detail: fmt.Sprintf(format, args...)}
}

func idemFor(provider, eventID string, body []byte) store.Idem {
	h := sha256.Sum256(body)
	return store.Idem{Scope: "inbound:" + provider, Key: eventID, Hash: hex.EncodeToString(h[:])}
}

// badText reports why a verified delivery cannot be kept as text: bytes
// that are not UTF-8, or a NUL character (written \u0000 in JSON). Both
// would be copied into events, participants and deferred payloads, where
// PostgreSQL refuses them: the delivery would fail, be retried by the
// provider and fail again, for days. It is "" for a clean body.
func badText(body []byte) string {
	if !utf8.Valid(body) {
		return "the payload is not valid UTF-8"
	}
	if !bytes.Contains(body, []byte(`\u0000`)) {
		return "" // the only way JSON spells a NUL
	}
	var v any
	if json.Unmarshal(body, &v) != nil {
		return "" // not JSON: the parser reports it
	}
	if hasNUL(v) {
		return "the payload holds a NUL character"
	}
	return ""
}

func hasNUL(v any) bool {
	switch x := v.(type) {
	case string:
		return strings.ContainsRune(x, 0)
	case []any:
		for _, e := range x {
			if hasNUL(e) {
				return true
			}
		}
	case map[string]any:
		for k, e := range x {
			if strings.ContainsRune(k, 0) || hasNUL(e) {
				return true
			}
		}
	}
	return false
}

// cleanText makes an identifier read from a refused payload storable.
func cleanText(s string) string {
	return strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "")
}

// refuseText acknowledges a signed delivery whose text cannot be stored
// (see badText): it is recorded as ignored, with the reason, so that the
// provider stops retrying and the operator sees it in the inbound events.
// Its payload is not kept.
func (p *Processor) refuseText(ctx context.Context, provider, eventID, typ, why string) (Outcome, error) {
	eventID, typ = cleanText(eventID), cleanText(typ)
	if eventID == "" {
		p.log.Warn("provider webhook ignored", "provider", provider, "detail", why)
		return Outcome{Provider: provider, Type: typ, Status: store.InboundIgnored, Detail: why}, nil
	}
	if out, dup, err := p.seen(ctx, provider, eventID, typ); err != nil || dup {
		return out, err
	}
	return p.finish(ctx, provider, eventID, typ, nil, ignored("%s; ignored", why))
}

// finish records an outcome and runs the events that waited for it.
func (p *Processor) finish(ctx context.Context, provider, eventID, typ string, body []byte, r result) (Outcome, error) {
	e := store.InboundEvent{Provider: provider, EventID: eventID, ProgramID: r.program, Type: typ, Status: r.status, Detail: r.detail}
	if r.status == store.InboundDeferred {
		e.Payload = string(body)
	}
	if err := p.st.RecordInbound(ctx, e, r.waits); err != nil {
		return Outcome{}, err
	}
	p.log.Info("provider webhook", "provider", provider, "event", eventID, "type", typ, "status", r.status, "detail", r.detail)
	if r.status == store.InboundProcessed && len(r.drain) > 0 {
		waiting, err := p.st.WaitingInbound(ctx, provider, r.drain)
		if err != nil {
			return Outcome{}, err
		}
		for _, w := range waiting {
			if w.EventID == eventID {
				continue
			}
			if _, err := p.dispatch(ctx, provider, w.EventID, w.Type, []byte(w.Payload)); err != nil {
				p.log.Error("processing a deferred provider event", "provider", provider, "event", w.EventID, "err", err)
			}
		}
	}
	return Outcome{Provider: provider, EventID: eventID, Type: typ, Status: r.status, Detail: r.detail, ProgramID: r.program}, nil
}

// seen reports a delivery already processed or ignored.
func (p *Processor) seen(ctx context.Context, provider, eventID, typ string) (Outcome, bool, error) {
	prev, ok, err := p.st.InboundEvent(ctx, provider, eventID)
	if err != nil || !ok || prev.Status == store.InboundDeferred {
		return Outcome{}, false, err
	}
	return Outcome{Provider: provider, EventID: eventID, Type: typ, Status: "duplicate", ProgramID: prev.ProgramID,
		Detail: "already " + prev.Status + " at " + prev.ProcessedAt.Format(time.RFC3339)}, true, nil
}

func (p *Processor) dispatch(ctx context.Context, provider, eventID, typ string, body []byte) (Outcome, error) {
	switch provider {
	case ProviderStripe:
		return p.stripeEvent(ctx, body)
	case ProviderShopify:
		return p.shopifyEvent(ctx, eventID, typ, body)
	}
	return Outcome{}, fmt.Errorf("unknown provider %q", provider)
}

// program picks the program of an event: named in metadata, else the
// provider's default, else the installation's only program.
func (p *Processor) program(ctx context.Context, named, def string) (string, error) {
	for _, id := range []string{named, def} {
		if id == "" {
			continue
		}
		if _, err := p.st.Program(ctx, id); err != nil {
			if parrain.ErrorCode(err) == parrain.CodeNotFound {
				continue
			}
			return "", err
		}
		return id, nil
	}
	id, ok, err := p.st.SoleProgram(ctx)
	if err != nil || !ok {
		return "", err
	}
	return id, nil
}

// participant finds the Parrain participant a provider customer is: by
// an explicit external id, a linked customer id, or email.
func (p *Processor) participant(ctx context.Context, provider, programID, externalID, customer, email string) (string, bool, error) {
	if externalID != "" {
		return externalID, true, nil
	}
	if customer != "" {
		l, ok, err := p.st.FindProviderLink(ctx, provider, store.LinkCustomer, customer, programID)
		if err != nil {
			return "", false, err
		}
		if ok {
			pt, err := p.st.ParticipantByID(ctx, l.ParticipantID)
			if err == nil {
				return pt.ExternalID, true, nil
			}
			if parrain.ErrorCode(err) != parrain.CodeNotFound {
				return "", false, err
			}
		}
	}
	if email != "" {
		pt, err := p.st.ParticipantByEmail(ctx, programID, email)
		if err == nil {
			return pt.ExternalID, true, nil
		}
		if parrain.ErrorCode(err) != parrain.CodeNotFound {
			return "", false, err
		}
	}
	return "", false, nil
}

// cleanEmail returns a usable email or "" (a provider's odd value must not
// make the whole event invalid).
func cleanEmail(s string) string {
	e, err := parrain.NormalizeEmailField("email", s)
	if err != nil {
		return ""
	}
	return e
}

// cleanCode returns a referral code in canonical form, or "".
func cleanCode(s string) string {
	c := parrain.NormalizeCode(strings.TrimSpace(s))
	if c == "" || !parrain.ValidCodeSyntax(c) {
		return ""
	}
	return c
}

// ingest records the Parrain event; invalid events (a refund larger than
// what is left, an unknown currency…) are ignored with the reason, other
// errors are returned so the provider retries.
func (p *Processor) ingest(ctx context.Context, programID string, ev parrain.Event, idem store.Idem) (store.EventResult, *result, error) {
	res, _, err := p.ref.IngestEvent(ctx, programID, ev, idem)
	if err != nil {
		if e := parrain.AsError(err); e != nil && e.Code != parrain.CodeInternal {
			r := ignored("%s event refused: %s", ev.Type, e.Message)
			r.program = programID
			return res, &r, nil
		}
		return res, nil, err
	}
	return res, nil, nil
}

// linkResult links the provider customer to the participant an event
// touched and the provider's payment objects to the order.
func (p *Processor) link(ctx context.Context, provider, programID, customer string, res store.EventResult, orderID string, refs []string) error {
	if customer != "" && res.Participant != nil {
		pt, err := p.st.Participant(ctx, programID, res.Participant.ExternalID)
		if err != nil {
			return err
		}
		if err := p.st.LinkProvider(ctx, store.ProviderLink{Provider: provider, Kind: store.LinkCustomer, Ref: customer, ProgramID: programID,
			ParticipantID: pt.ID}); err != nil {
			return err
		}
	}
	for _, ref := range refs {
		if err := p.st.LinkProvider(ctx, store.ProviderLink{Provider: provider, Kind: store.LinkOrder, Ref: ref, ProgramID: programID, OrderID: orderID}); err != nil {
			return err
		}
	}
	return nil
}

func summary(res store.EventResult) string {
	var parts []string
	if res.Participant != nil {
		parts = append(parts, "participant "+res.Participant.ExternalID)
	}
	if res.Credited != nil {
		parts = append(parts, "credited "+res.Credited.ExternalID)
	}
	if len(res.Rewards) > 0 {
		parts = append(parts, fmt.Sprintf("%d reward(s)", len(res.Rewards)))
	}
	if len(res.Reversals) > 0 {
		parts = append(parts, fmt.Sprintf("%d reversal(s)", len(res.Reversals)))
	}
	if res.Message != "" {
		parts = append(parts, res.Message)
	}
	return strings.Join(parts, "; ")
}
