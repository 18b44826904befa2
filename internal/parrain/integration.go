package parrain

import (
	"net/url"
	"slices"
	"strings"
	"time"
)

// Outgoing webhook event types. Every type a webhook endpoint can subscribe
// to is listed in WebhookEventTypes; a new type must be added there.
const (
	WebhookReferralCreated         = "referral.created"           // a friend was attributed to an advocate (also rejected ones, with their reason)
	WebhookReferralConverted       = "referral.converted"         // the friend's first purchase
	WebhookReferralCancelled       = "referral.cancelled"         // the friend's subscription was cancelled (Stripe)
	WebhookRewardCreated           = "reward.created"             // a reward was granted (pending its hold)
	WebhookRewardApproved          = "reward.approved"            // the hold ended
	WebhookRewardReversed          = "reward.reversed"            // a refund reversed or clawed back (part of) a reward
	WebhookRewardPaid              = "reward.paid"                // a payout paid the reward
	WebhookPayoutPaid              = "payout.paid"                // a payout was paid
	WebhookPayoutFailed            = "payout.failed"              // a payout was refused; its rewards are back in the balance
	WebhookPartnerLeadRegistered   = "partner.lead_registered"    // a partner registered a lead
	WebhookPartnerDealStageChanged = "partner.deal_stage_changed" // a partner deal moved (in Parrain or the CRM)
	WebhookFraudFlagged            = "fraud.flagged"              // a referral or participant was flagged
	WebhookParticipantErased       = "participant.erased"         // a person was erased (docs/privacy.md): follow in your systems
	WebhookAllEvents               = "*"                          // subscribes to every type
)

// WebhookEventTypes lists every event type an endpoint may subscribe to.
var WebhookEventTypes = []string{
	WebhookReferralCreated, WebhookReferralConverted, WebhookReferralCancelled,
	WebhookRewardCreated, WebhookRewardApproved, WebhookRewardReversed, WebhookRewardPaid,
	WebhookPayoutPaid, WebhookPayoutFailed,
	WebhookPartnerLeadRegistered, WebhookPartnerDealStageChanged,
	WebhookFraudFlagged, WebhookParticipantErased,
}

// MarketingWebhook reports whether an event type is marketing: it describes
// a person's behaviour for engagement, and is not sent about a participant
// who chose "do not sell or share" (CCPA). Rewards, payouts, cancellations,
// fraud, partner deals and erasures are operational and always sent.
func MarketingWebhook(t string) bool {
	return t == WebhookReferralCreated || t == WebhookReferralConverted || t == WebhookTriggerFired
}

// ValidWebhookEventType reports whether t is a known event type.
func ValidWebhookEventType(t string) bool { return slices.Contains(WebhookEventTypes, t) }

// EndpointStatus says whether an endpoint receives deliveries.
type EndpointStatus string

// Webhook endpoint states.
const (
	EndpointActive   EndpointStatus = "active"
	EndpointDisabled EndpointStatus = "disabled" // by hand, or automatically after failing for EndpointDisableAfter
)

// EndpointDisableAfter is how long an endpoint may fail every delivery
// before it is disabled automatically (with an alert).
const EndpointDisableAfter = 5 * 24 * time.Hour

// WebhookEndpoint is a URL that receives a program's events, signed per the
// Standard Webhooks specification.
type WebhookEndpoint struct {
	ID          string         `json:"id"`
	ProgramID   string         `json:"program_id"`
	URL         string         `json:"url"`
	Description string         `json:"description,omitempty"`
	EventTypes  []string       `json:"event_types"`
	Status      EndpointStatus `json:"status"`
	// DisabledReason says why a disabled endpoint was disabled.
	DisabledReason string     `json:"disabled_reason,omitempty"`
	FailingSince   *time.Time `json:"failing_since,omitempty"`
	LastSuccessAt  *time.Time `json:"last_success_at,omitempty"`
	CreatedAt      time.Time  `json:"created_at"`
	UpdatedAt      time.Time  `json:"updated_at"`
	// Secret signs the deliveries ("whsec_…"); it is shown once, when the
	// endpoint is created or its secret rotated.
	Secret string `json:"secret,omitempty"`
	// SecretNotice says why Secret is empty in the replay of a creation:
	// SecretWithheld.
	SecretNotice string `json:"secret_notice,omitempty"`
}

// SecretWithheld is what the replay of a request that created a secret
// (an idempotent retry) says in place of the secret: secrets are shown
// once, and the stored answers that replays return never hold them.
const SecretWithheld = "this answer is a replay: the secret was shown once, in the first answer to this request, and is not kept for replays; rotate it if it was lost"

// ForRecord returns the endpoint as an idempotency record keeps it: without
// its secret, with SecretNotice saying so.
func (e WebhookEndpoint) ForRecord() WebhookEndpoint {
	if e.Secret != "" {
		e.Secret, e.SecretNotice = "", SecretWithheld
	}
	return e
}

// Subscribed reports whether the endpoint wants events of type t.
func (e *WebhookEndpoint) Subscribed(t string) bool {
	return slices.Contains(e.EventTypes, WebhookAllEvents) || slices.Contains(e.EventTypes, t)
}

// WebhookEndpointInput creates or changes an endpoint. Nil fields are left
// unchanged by an update.
type WebhookEndpointInput struct {
	URL         *string         `json:"url"`
	Description *string         `json:"description"`
	EventTypes  []string        `json:"event_types"`
	Status      *EndpointStatus `json:"status"`
}

// NormalizeWebhookURL checks an endpoint URL: absolute http or https, a
// host, no credentials, at most 2000 characters. Whether the host is a
// public address is checked when connecting (see internal/integration/webhook).
func NormalizeWebhookURL(field, s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", Invalid(field, "is required")
	}
	if len(s) > 2000 {
		return "", Invalid(field, "must be at most 2000 characters")
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.Hostname() == "" {
		return "", Invalid(field, "must be an absolute https:// URL")
	}
	if u.User != nil {
		return "", Invalid(field, "must not contain credentials; authenticate deliveries with the signature")
	}
	u.Fragment = ""
	return u.String(), nil
}

// NormalizeEventTypes validates an endpoint's subscription: at least one
// known type (or "*"), without duplicates, sorted.
func NormalizeEventTypes(field string, types []string) ([]string, error) {
	if len(types) == 0 {
		return nil, Invalid(field, "subscribe to at least one event type (or \"*\" for all)")
	}
	out := make([]string, 0, len(types))
	for _, t := range types {
		t = strings.TrimSpace(t)
		if t != WebhookAllEvents && !ValidWebhookEventType(t) {
			return nil, Invalid(field, "unknown event type %q (known: %s)", t, strings.Join(WebhookEventTypes, ", "))
		}
		if !slices.Contains(out, t) {
			out = append(out, t)
		}
	}
	slices.Sort(out)
	return out, nil
}

// DeliveryStatus is where an outgoing webhook message stands.
type DeliveryStatus string

// Delivery states.
const (
	DeliveryPending   DeliveryStatus = "pending"   // not yet delivered; retried on a schedule
	DeliverySucceeded DeliveryStatus = "succeeded" // the endpoint answered 2xx
	DeliveryFailed    DeliveryStatus = "failed"    // every attempt failed, or the endpoint is disabled
)

// WebhookDelivery is one message to one endpoint. Its ID is the
// webhook-id header, the same on every attempt and replay, so receivers can
// deduplicate.
type WebhookDelivery struct {
	ID             string            `json:"id"`
	EndpointID     string            `json:"endpoint_id"`
	ProgramID      string            `json:"program_id"`
	EventType      string            `json:"event_type"`
	Payload        string            `json:"payload"`
	Status         DeliveryStatus    `json:"status"`
	Attempts       int               `json:"attempts"`
	NextAttemptAt  *time.Time        `json:"next_attempt_at,omitempty"`
	LastStatusCode int               `json:"last_status_code,omitempty"`
	LastError      string            `json:"last_error,omitempty"`
	CreatedAt      time.Time         `json:"created_at"`
	CompletedAt    *time.Time        `json:"completed_at,omitempty"`
	Log            []DeliveryAttempt `json:"attempt_log,omitempty"`
}

// DeliveryAttempt is one line of the delivery log.
type DeliveryAttempt struct {
	Attempt      int       `json:"attempt"`
	StatusCode   int       `json:"status_code"`
	ResponseBody string    `json:"response_body,omitempty"`
	Error        string    `json:"error,omitempty"`
	DurationMS   int64     `json:"duration_ms"`
	At           time.Time `json:"at"`
}

// CRMProvider names a CRM Parrain syncs with.
type CRMProvider string

// CRM providers.
const (
	CRMHubSpot    CRMProvider = "hubspot"
	CRMSalesforce CRMProvider = "salesforce"
)

// CRMConnection is a program's CRM sync setting: referral conversions
// create or update the contact and a won deal, partner leads their company,
// contact and deal; deal stages are polled back.
type CRMConnection struct {
	ProgramID string      `json:"program_id"`
	Provider  CRMProvider `json:"provider"`
	// Pipeline and DealStage place the deals Parrain creates: a HubSpot
	// pipeline id and stage id ("default", "closedwon"), or a Salesforce
	// opportunity StageName ("Closed Won"; Pipeline unused).
	Pipeline  string `json:"pipeline,omitempty"`
	DealStage string `json:"deal_stage,omitempty"`
	// LeadStage is the stage of deals created for partner leads.
	LeadStage string `json:"lead_stage,omitempty"`
	// StageMap maps CRM deal stages to the partner program's deal stages:
	// when a partner lead's deal reaches a mapped stage in the CRM, its deal
	// in Parrain moves there. Unmapped stages are tried as they are.
	StageMap   map[string]string `json:"stage_map,omitempty"`
	LastSyncAt *time.Time        `json:"last_sync_at,omitempty"`
	LastError  string            `json:"last_error,omitempty"`
	CreatedAt  time.Time         `json:"created_at"`
	UpdatedAt  time.Time         `json:"updated_at"`
}

// Normalize validates the connection and fills each provider's default
// pipeline and stages.
func (c *CRMConnection) Normalize() error {
	c.Pipeline, c.DealStage, c.LeadStage = strings.TrimSpace(c.Pipeline), strings.TrimSpace(c.DealStage), strings.TrimSpace(c.LeadStage)
	switch c.Provider {
	case CRMHubSpot:
		if c.Pipeline == "" {
			c.Pipeline = "default"
		}
		if c.DealStage == "" {
			c.DealStage = "closedwon"
		}
		if c.LeadStage == "" {
			c.LeadStage = "appointmentscheduled"
		}
	case CRMSalesforce:
		if c.DealStage == "" {
			c.DealStage = "Closed Won"
		}
		if c.LeadStage == "" {
			c.LeadStage = "Prospecting"
		}
	case "":
		return Invalid("provider", "is required (hubspot or salesforce)")
	default:
		return Invalid("provider", "must be hubspot or salesforce")
	}
	for f, v := range map[string]string{"pipeline": c.Pipeline, "deal_stage": c.DealStage, "lead_stage": c.LeadStage} {
		if len(v) > 100 {
			return Invalid(f, "must be at most 100 characters")
		}
	}
	if len(c.StageMap) > 100 {
		return Invalid("stage_map", "at most 100 stages")
	}
	for k, v := range c.StageMap {
		if strings.TrimSpace(k) == "" || strings.TrimSpace(v) == "" || len(k) > 100 || len(v) > 100 {
			return Invalid("stage_map", "maps CRM stage ids to deal stage names (non-empty, at most 100 characters each)")
		}
	}
	return nil
}

// NormalizeDomain canonicalises a company domain for CRM upserts: lower
// case, without scheme, "www.", path or port. It returns "" when s has no
// plausible domain.
func NormalizeDomain(s string) string {
	s = strings.ToLower(strings.TrimSpace(s))
	if i := strings.Index(s, "://"); i >= 0 {
		s = s[i+3:]
	}
	if i := strings.IndexAny(s, "/?#"); i >= 0 {
		s = s[:i]
	}
	if i := strings.LastIndexByte(s, '@'); i >= 0 {
		s = s[i+1:]
	}
	if i := strings.IndexByte(s, ':'); i >= 0 {
		s = s[:i]
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "www."), ".")
	if !strings.Contains(s, ".") || len(s) > 253 {
		return ""
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '-' || r == '.') {
			return ""
		}
	}
	return s
}
