package parrain

import (
	"fmt"
	"strings"
	"time"
)

// Moments of satisfaction: a customer reports events such as an NPS answer,
// a support rating, a plan upgrade or a product milestone, and the
// program's moment triggers invite the participant to refer while they are
// happiest. A trigger fires at most once per participant per cooldown.

// normalizeMoment validates the fields of a moment event (nps, rating,
// plan_upgrade, milestone, custom). The participant is identified like a
// signup: external_id, with optional email, name and locale.
func (e *Event) normalizeMoment() error {
	if err := ValidateExternalID("external_id", e.ExternalID); err != nil {
		return err
	}
	err := NormalizePerson(&e.Email, &e.Name, &e.Locale)
	if err != nil {
		return err
	}
	switch e.Type {
	case EventNPS:
		if e.Score == nil {
			return Invalid("score", "is required: the NPS answer from 0 to 10")
		}
		if *e.Score < 0 || *e.Score > 10 {
			return Invalid("score", "must be between 0 and 10")
		}
	case EventRating:
		if e.Score == nil {
			return Invalid("score", "is required: the rating from 1 to 5 stars")
		}
		if *e.Score < 1 || *e.Score > 5 {
			return Invalid("score", "must be between 1 and 5")
		}
	case EventPlanUpgrade:
		if e.Plan, err = momentName("plan", e.Plan, true); err != nil {
			return err
		}
		if e.PreviousPlan, err = momentName("previous_plan", e.PreviousPlan, false); err != nil {
			return err
		}
	case EventMilestone:
		if e.Milestone, err = momentName("milestone", e.Milestone, true); err != nil {
			return err
		}
	case EventCustom:
		if e.EventName, err = momentName("event_name", e.EventName, true); err != nil {
			return err
		}
	}
	if e.Score != nil && e.Type != EventNPS && e.Type != EventRating {
		return Invalid("score", "is only for nps and rating events")
	}
	if e.Value != nil && e.Type != EventMilestone && e.Type != EventCustom {
		return Invalid("value", "is only for milestone and custom events")
	}
	return nil
}

// momentName validates a short identifier-like name (a plan, a milestone,
// a custom event name): 1–100 printable characters, compared exactly.
func momentName(field, s string, required bool) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		if required {
			return "", Invalid(field, "is required")
		}
		return "", nil
	}
	if len(s) > 100 {
		return "", Invalid(field, "must be at most 100 characters")
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f {
			return "", Invalid(field, "must not contain control characters")
		}
	}
	return s, nil
}

// MomentKind is the customer event a moment trigger watches.
type MomentKind string

// Moment trigger kinds.
const (
	MomentNPS           MomentKind = "nps"            // an NPS answer ≥ min_score (default 9)
	MomentRating        MomentKind = "rating"         // a support rating ≥ min_score (default 5)
	MomentPlanUpgrade   MomentKind = "plan_upgrade"   // an upgrade, optionally to one of plans
	MomentPurchaseCount MomentKind = "purchase_count" // the count-th purchase within within_days
	MomentMilestone     MomentKind = "milestone"      // a milestone, optionally a named one, value ≥ min_value
	MomentCustom        MomentKind = "custom"         // a custom event by name, value ≥ min_value
)

// Effect is what a fired trigger does.
type Effect string

// Trigger effects.
const (
	EffectEmail        Effect = "email"        // an invitation email to the participant
	EffectNotification Effect = "notification" // an in-app notification in the widget feed
	EffectWebhook      Effect = "webhook"      // a trigger.fired webhook to the program's endpoints
)

// MomentTrigger is a per-program rule that invites a participant to refer
// at a moment of satisfaction.
type MomentTrigger struct {
	ID        string     `json:"id"`
	ProgramID string     `json:"program_id"`
	Name      string     `json:"name"`
	Kind      MomentKind `json:"event"`
	// MinScore is the lowest NPS score (nps, default 9) or star rating
	// (rating, default 5) that fires.
	MinScore *int `json:"min_score,omitempty"`
	// Plans restricts plan_upgrade to upgrades to these plans (empty: any).
	Plans []string `json:"plans,omitempty"`
	// Count and WithinDays: fire at the Count-th purchase within WithinDays
	// days (purchase_count).
	Count      int `json:"count,omitempty"`
	WithinDays int `json:"within_days,omitempty"`
	// Milestone restricts milestone to one name (empty: any).
	Milestone string `json:"milestone,omitempty"`
	// EventName is the custom event watched (custom).
	EventName string `json:"event_name,omitempty"`
	// MinValue is the lowest value that fires (milestone, custom; nil: any).
	MinValue *int64 `json:"min_value,omitempty"`
	// CooldownDays: a trigger fires at most once per participant within
	// this many days (default 90).
	CooldownDays int       `json:"cooldown_days"`
	Effects      []Effect  `json:"effects"`
	Status       string    `json:"status"` // active or disabled
	CreatedAt    time.Time `json:"created_at"`
	UpdatedAt    time.Time `json:"updated_at"`
}

// Trigger states.
const (
	MomentActive   = "active"
	MomentDisabled = "disabled"
)

// Cooldown returns the cooldown as a duration.
func (t *MomentTrigger) Cooldown() time.Duration {
	return time.Duration(t.CooldownDays) * 24 * time.Hour
}

// Normalize applies defaults and validates a trigger as submitted.
func (t *MomentTrigger) Normalize() error {
	t.Name = strings.TrimSpace(t.Name)
	if len(t.Name) > 200 {
		return Invalid("name", "must be at most 200 characters")
	}
	only := func(field string, set bool, kinds ...MomentKind) error {
		if !set {
			return nil
		}
		for _, k := range kinds {
			if t.Kind == k {
				return nil
			}
		}
		return Invalid(field, "does not apply to %s triggers", t.Kind)
	}
	switch t.Kind {
	case MomentNPS:
		if t.MinScore == nil {
			t.MinScore = ptr(9)
		}
		if *t.MinScore < 0 || *t.MinScore > 10 {
			return Invalid("min_score", "must be between 0 and 10")
		}
	case MomentRating:
		if t.MinScore == nil {
			t.MinScore = ptr(5)
		}
		if *t.MinScore < 1 || *t.MinScore > 5 {
			return Invalid("min_score", "must be between 1 and 5")
		}
	case MomentPlanUpgrade:
		if len(t.Plans) > 20 {
			return Invalid("plans", "at most 20 plans")
		}
		for i, p := range t.Plans {
			v, err := momentName(fmt.Sprintf("plans[%d]", i), p, true)
			if err != nil {
				return err
			}
			t.Plans[i] = v
		}
	case MomentPurchaseCount:
		if t.Count < 2 || t.Count > 1000 {
			return Invalid("count", "must be between 2 and 1000 (the Nth purchase)")
		}
		if t.WithinDays < 1 || t.WithinDays > 730 {
			return Invalid("within_days", "must be between 1 and 730")
		}
	case MomentMilestone:
		var err error
		if t.Milestone, err = momentName("milestone", t.Milestone, false); err != nil {
			return err
		}
	case MomentCustom:
		var err error
		if t.EventName, err = momentName("event_name", t.EventName, true); err != nil {
			return err
		}
	case "":
		return Invalid("event", "is required (nps, rating, plan_upgrade, purchase_count, milestone or custom)")
	default:
		return Invalid("event", "must be nps, rating, plan_upgrade, purchase_count, milestone or custom")
	}
	if err := only("min_score", t.MinScore != nil, MomentNPS, MomentRating); err != nil {
		return err
	}
	if err := only("plans", len(t.Plans) > 0, MomentPlanUpgrade); err != nil {
		return err
	}
	if err := only("count", t.Count != 0, MomentPurchaseCount); err != nil {
		return err
	}
	if err := only("within_days", t.WithinDays != 0, MomentPurchaseCount); err != nil {
		return err
	}
	if err := only("milestone", t.Milestone != "", MomentMilestone); err != nil {
		return err
	}
	if err := only("event_name", t.EventName != "", MomentCustom); err != nil {
		return err
	}
	if err := only("min_value", t.MinValue != nil, MomentMilestone, MomentCustom); err != nil {
		return err
	}
	if t.Name == "" {
		t.Name = string(t.Kind)
	}
	if t.CooldownDays == 0 {
		t.CooldownDays = 90
	}
	if t.CooldownDays < 1 || t.CooldownDays > 3650 {
		return Invalid("cooldown_days", "must be between 1 and 3650")
	}
	if len(t.Effects) == 0 {
		t.Effects = []Effect{EffectEmail, EffectNotification}
	}
	seen := map[Effect]bool{}
	for i, e := range t.Effects {
		switch e {
		case EffectEmail, EffectNotification, EffectWebhook:
		default:
			return Invalid(fmt.Sprintf("effects[%d]", i), "must be email, notification or webhook")
		}
		if seen[e] {
			return Invalid(fmt.Sprintf("effects[%d]", i), "duplicate effect %q", e)
		}
		seen[e] = true
	}
	switch t.Status {
	case "":
		t.Status = MomentActive
	case MomentActive, MomentDisabled:
	default:
		return Invalid("status", "must be active or disabled")
	}
	return nil
}

// MomentFacts is what a trigger is evaluated against: the event, and for
// purchase_count the number of the participant's purchases within the
// trigger's window, this one included.
type MomentFacts struct {
	Event           *Event
	RecentPurchases int
}

// Watches reports whether the trigger cares about events of type t (so
// that the store loads facts only when needed).
func (t *MomentTrigger) Watches(et EventType) bool {
	switch t.Kind {
	case MomentNPS:
		return et == EventNPS
	case MomentRating:
		return et == EventRating
	case MomentPlanUpgrade:
		return et == EventPlanUpgrade
	case MomentPurchaseCount:
		return et == EventPurchase
	case MomentMilestone:
		return et == EventMilestone
	case MomentCustom:
		return et == EventCustom
	}
	return false
}

// Matches reports whether the facts satisfy the trigger's condition. The
// cooldown is the store's business (it needs the last firing).
func (t *MomentTrigger) Matches(f MomentFacts) bool {
	if t.Status != MomentActive || f.Event == nil || !t.Watches(f.Event.Type) {
		return false
	}
	ev := f.Event
	switch t.Kind {
	case MomentNPS, MomentRating:
		return ev.Score != nil && t.MinScore != nil && *ev.Score >= *t.MinScore
	case MomentPlanUpgrade:
		if len(t.Plans) == 0 {
			return true
		}
		for _, p := range t.Plans {
			if strings.EqualFold(p, ev.Plan) {
				return true
			}
		}
		return false
	case MomentPurchaseCount:
		return f.RecentPurchases >= t.Count
	case MomentMilestone:
		if t.Milestone != "" && !strings.EqualFold(t.Milestone, ev.Milestone) {
			return false
		}
		return t.MinValue == nil || (ev.Value != nil && *ev.Value >= *t.MinValue)
	case MomentCustom:
		if !strings.EqualFold(t.EventName, ev.EventName) {
			return false
		}
		return t.MinValue == nil || (ev.Value != nil && *ev.Value >= *t.MinValue)
	}
	return false
}

// CoolingDown reports whether a trigger that last fired at last must stay
// silent at now.
func (t *MomentTrigger) CoolingDown(last, now time.Time) bool {
	return !last.IsZero() && now.Before(last.Add(t.Cooldown()))
}

func ptr[T any](v T) *T { return &v }

// validConsentID checks the syntax of a consent id ("cns_" and 32 hex
// digits) as read back from the parrain_consent cookie or form field.
func validConsentID(id string) error {
	if id == "" {
		return nil
	}
	rest, ok := strings.CutPrefix(id, "cns_")
	if !ok || len(rest) != 32 {
		return Invalid("consent_id", "is not a consent id (cns_…)")
	}
	for i := 0; i < len(rest); i++ {
		c := rest[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return Invalid("consent_id", "is not a consent id (cns_…)")
		}
	}
	return nil
}

// WebhookTriggerFired is the outgoing webhook event of a moment trigger's
// webhook effect.
const WebhookTriggerFired = "trigger.fired"

func init() {
	// Endpoints may subscribe to trigger.fired like to the other types.
	if !ValidWebhookEventType(WebhookTriggerFired) {
		WebhookEventTypes = append(WebhookEventTypes, WebhookTriggerFired)
	}
}

// NormalizeNew validates a trigger to create in a program: the server sets
// its id and times.
func (t *MomentTrigger) NormalizeNew(programID string) error {
	if t.ID != "" || !t.CreatedAt.IsZero() || !t.UpdatedAt.IsZero() {
		return Invalid("id", "id, created_at and updated_at are set by the server")
	}
	t.ProgramID = programID
	return t.Normalize()
}

// NormalizeReplacing validates a trigger's new definition replacing old:
// its id, program and creation time stay old's.
func (t *MomentTrigger) NormalizeReplacing(old MomentTrigger) error {
	t.ID, t.ProgramID, t.CreatedAt = old.ID, old.ProgramID, old.CreatedAt
	return t.Normalize()
}
