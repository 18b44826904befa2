// Package partner holds the use cases of the B2B partner program:
// applications and approval, the partner agreement and onboarding, tiers
// and their scheduled evaluation, lead registration with its exclusivity
// and conflict rules, the deal-stage moves that pay commissions, extension
// requests, excluded accounts, sales assets, surveys, the partner's
// dashboard and the program's KPIs.
//
// Each use case owns its transaction (store.InTx or store.Idempotent), in
// which it writes its rows, its audit entry, its webhooks and its jobs:
// they commit together or not at all. The rules it applies are the
// domain's (internal/parrain: partner.go, partner_rules.go,
// partner_tiers.go, partner_deals.go); the SQL is the store's.
//
// It imports the domain and the store; never an HTTP package or the job
// runner (internal/app registers its job kind).
package partner

import (
	"context"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// Service runs the partner program's use cases.
type Service struct {
	st     *store.Store
	clock  parrain.Clock
	events EventIngester
}

// EventIngester processes an event inside the caller's transaction, exactly
// as event ingestion does in its own: a deal reaching a stage of the
// program is a stage event of the referral loop (referral.Service).
type EventIngester interface {
	IngestTx(ctx context.Context, tx *store.Tx, prog *parrain.Program, ev *parrain.Event) (parrain.EventResult, error)
}

// New returns the partner program's use cases on st, timed by clock; deal
// stages that carry rewards are ingested by events.
func New(st *store.Store, clock parrain.Clock, events EventIngester) *Service {
	return &Service{st: st, clock: clock, events: events}
}

// now is the clock's time at the precision stored (milliseconds), so an
// answer computed now equals the same answer read back later.
func (s *Service) now() time.Time { return s.clock.Now().Truncate(time.Millisecond) }

// Job kinds of the partner program.
const (
	// JobEvaluateTiers re-evaluates every partner's tier of a program; it
	// reschedules itself daily (TierInterval).
	JobEvaluateTiers = "partner.evaluate_tiers"
)

// TierInterval is how often tiers are re-evaluated on a schedule (they are
// also evaluated on every won or lost deal and completed training).
const TierInterval = 24 * time.Hour

// EvaluateTiersArgs is the payload of a JobEvaluateTiers job.
type EvaluateTiersArgs struct {
	ProgramID string `json:"program_id"`
}

// Audit actions of the partner program.
const (
	AuditPartnerApproved = "partner.approved"
	AuditPartnerRejected = "partner.rejected"
	AuditDealMoved       = "partner.deal_moved"

	AuditProgramUpdated     = "partner_program.updated"
	AuditPartnerInvited     = "partner.invited"
	AuditPartnerSuspended   = "partner.suspended"
	AuditPartnerReactivated = "partner.reactivated"
	AuditOnboardingStep     = "partner.onboarding_updated"
	AuditExtensionRequested = "partner.extension_requested"
	AuditExtensionDecided   = "partner.extension_decided"
	AuditLeadExtended       = "partner.lead_extended"
	AuditExclusionAdded     = "partner_exclusion.added"
	AuditExclusionDeleted   = "partner_exclusion.deleted"
	AuditAssetCreated       = "partner_asset.created"
	AuditAssetDeleted       = "partner_asset.deleted"
	AuditSurveyCreated      = "partner_survey.created"
	AuditTierChanged        = "partner.tier_changed"
)

// auditActor is who the audit log names for ctx's caller.
func auditActor(ctx context.Context) store.Actor { return store.ContextActor(ctx) }
