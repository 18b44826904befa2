package parrain

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// This file holds A/B experiments on a program: what an arm may override,
// who is assigned (the unit), what is measured (one primary metric chosen up
// front, guardrails), the lifecycle, validation and the deterministic,
// sticky assignment. The statistics are in experiment_stats.go.

// ExperimentStatus is an experiment's lifecycle state. draft → running →
// stopped → promoted (or draft → stopped when abandoned before starting).
type ExperimentStatus string

// Experiment states.
const (
	ExperimentDraft    ExperimentStatus = "draft"    // being set up: editable, assigns nobody
	ExperimentRunning  ExperimentStatus = "running"  // assigns new units by weight
	ExperimentStopped  ExperimentStatus = "stopped"  // assignments frozen; new units get the control
	ExperimentPromoted ExperimentStatus = "promoted" // an arm's overrides became the program's next version
)

// Outgoing webhook event types of experiments.
const (
	WebhookExperimentStarted  = "experiment.started"
	WebhookExperimentStopped  = "experiment.stopped"
	WebhookExperimentPromoted = "experiment.promoted"
)

func init() {
	// Endpoints may subscribe to the experiment events like to the others.
	for _, t := range []string{WebhookExperimentStarted, WebhookExperimentStopped, WebhookExperimentPromoted} {
		if !ValidWebhookEventType(t) {
			WebhookEventTypes = append(WebhookEventTypes, t)
		}
	}
}

// ExperimentUnit is what is randomised: an advocate (incentive and message
// tests) or a visitor of the landing page (landing-page tests: the friend,
// identified by the click's visitor id before they sign up).
type ExperimentUnit string

// Assignment units.
const (
	UnitAdvocate ExperimentUnit = "advocate"
	UnitVisitor  ExperimentUnit = "visitor"
)

// Metric names a quantity measured per unit (a mean over units) or as a
// ratio of two sums (friend conversion rate, ROI, cost per conversion).
type Metric string

// Metrics. Per-advocate metrics need the advocate unit; visitor metrics the
// visitor unit; the ratio guardrails work for both.
const (
	// MetricConversionsPerAdvocate: successful referrals per assigned advocate.
	MetricConversionsPerAdvocate Metric = "conversions_per_advocate"
	// MetricShareRate: share of assigned advocates who shared at least once.
	MetricShareRate Metric = "share_rate"
	// MetricFriendConversionRate: successful referrals per friend who clicked.
	MetricFriendConversionRate Metric = "friend_conversion_rate"
	// MetricRevenuePerAdvocate: referred revenue (minor units) per advocate.
	MetricRevenuePerAdvocate Metric = "referred_revenue_per_advocate"
	// MetricROI: referred revenue per unit of reward cost.
	MetricROI Metric = "roi"
	// MetricVisitorConversionRate: share of landing-page visitors who converted.
	MetricVisitorConversionRate Metric = "visitor_conversion_rate"
	// MetricRewardCostPerConversion (guardrail): reward cost per successful referral.
	MetricRewardCostPerConversion Metric = "reward_cost_per_conversion"
	// MetricFraudFlagRate (guardrail): share of referrals flagged by fraud checks.
	MetricFraudFlagRate Metric = "fraud_flag_rate"
)

// MetricInfo describes a metric: the units it applies to, whether it is a
// ratio of two sums (analysed with the delta method) and whether higher is
// better (guardrails where lower is better warn on increase).
type MetricInfo struct {
	Units        []ExperimentUnit
	Ratio        bool
	HigherBetter bool
	Label        string
}

// Metrics describes every metric.
var Metrics = map[Metric]MetricInfo{
	MetricConversionsPerAdvocate:  {[]ExperimentUnit{UnitAdvocate}, false, true, "successful referrals per advocate"},
	MetricShareRate:               {[]ExperimentUnit{UnitAdvocate}, false, true, "share rate"},
	MetricFriendConversionRate:    {[]ExperimentUnit{UnitAdvocate, UnitVisitor}, true, true, "friend conversion rate"},
	MetricRevenuePerAdvocate:      {[]ExperimentUnit{UnitAdvocate}, false, true, "referred revenue per advocate"},
	MetricROI:                     {[]ExperimentUnit{UnitAdvocate}, true, true, "referred revenue per unit of reward cost"},
	MetricVisitorConversionRate:   {[]ExperimentUnit{UnitVisitor}, false, true, "visitor conversion rate"},
	MetricRewardCostPerConversion: {[]ExperimentUnit{UnitAdvocate, UnitVisitor}, true, false, "reward cost per conversion"},
	MetricFraudFlagRate:           {[]ExperimentUnit{UnitAdvocate, UnitVisitor}, true, false, "fraud-flag rate"},
}

// EmailCopy overrides an email's subject and body (plain text; the
// notification templates' placeholders apply).
type EmailCopy struct {
	Subject string `json:"subject,omitempty"`
	Body    string `json:"body,omitempty"`
}

// ArmOverrides is what an arm changes. Every field is optional: an empty
// field keeps the program's own setting. Text fields are per locale.
type ArmOverrides struct {
	// Rules, when set, replace the program's reward rules (amounts, kinds,
	// sides and triggers) for units of this arm.
	Rules []RewardRule `json:"rules,omitempty"`
	// ShareMessage and ShareSubject override the pre-written share message
	// ({name}, {offer}, {link}) and the subject of shared emails.
	ShareMessage map[string]string `json:"share_message,omitempty"`
	ShareSubject map[string]string `json:"share_subject,omitempty"`
	// LandingHeadline is the landing page's headline copy; OfferText the
	// sentence describing the friend's offer.
	LandingHeadline map[string]string `json:"landing_headline,omitempty"`
	OfferText       map[string]string `json:"offer_text,omitempty"`
	// Emails override the invitation and reminder emails.
	Emails map[NoticeKind]EmailCopy `json:"emails,omitempty"`
}

// Empty reports whether the overrides change nothing.
func (o ArmOverrides) Empty() bool {
	return o.Rules == nil && len(o.ShareMessage) == 0 && len(o.ShareSubject) == 0 &&
		len(o.LandingHeadline) == 0 && len(o.OfferText) == 0 && len(o.Emails) == 0
}

// Arm is one variant. The first arm of an experiment is the control.
type Arm struct {
	// Key is the arm's stable identifier within its experiment ("control", "b").
	Key  string `json:"key"`
	Name string `json:"name,omitempty"`
	// Weight is the arm's share of traffic, relative to the other arms' weights.
	Weight    int          `json:"weight"`
	Overrides ArmOverrides `json:"overrides"`
}

// Experiment compares arms of a program on one primary metric.
type Experiment struct {
	ID         string         `json:"id"`
	ProgramID  string         `json:"program_id"`
	Name       string         `json:"name"`
	Hypothesis string         `json:"hypothesis,omitempty"`
	Unit       ExperimentUnit `json:"unit"`
	// PrimaryMetric decides the experiment; it is fixed once started.
	PrimaryMetric Metric   `json:"primary_metric"`
	Guardrails    []Metric `json:"guardrails,omitempty"`
	// MDEBps is the minimum detectable effect, a relative lift in basis
	// points (1000 = 10 %), used to say how many units are still needed.
	MDEBps int `json:"mde_bps"`
	// Arms: the first is the control.
	Arms        []Arm            `json:"arms"`
	Status      ExperimentStatus `json:"status"`
	StartedAt   *time.Time       `json:"started_at,omitempty"`
	StoppedAt   *time.Time       `json:"stopped_at,omitempty"`
	PromotedArm string           `json:"promoted_arm,omitempty"`
	CreatedAt   time.Time        `json:"created_at"`
	UpdatedAt   time.Time        `json:"updated_at"`
}

// Control returns the control arm's key.
func (e *Experiment) Control() string {
	if len(e.Arms) == 0 {
		return ""
	}
	return e.Arms[0].Key
}

// Arm returns the arm with key k.
func (e *Experiment) Arm(k string) (Arm, bool) {
	for _, a := range e.Arms {
		if a.Key == k {
			return a, true
		}
	}
	return Arm{}, false
}

var armKeyRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,31}$`)

// Limits of an experiment.
const (
	MaxArms       = 10
	MaxArmWeight  = 10000
	DefaultMDEBps = 1000
)

// Normalize applies defaults and validates an experiment of program p. It
// returns the first error with its JSON field path; an arm's rules are
// validated as the program's own would be ("arms[1].overrides.rules[0].advocate.amount").
func (e *Experiment) Normalize(p *Program) error {
	e.Name = strings.TrimSpace(e.Name)
	if e.Name == "" {
		return Invalid("name", "is required")
	}
	if len(e.Name) > 200 {
		return Invalid("name", "must be at most 200 characters")
	}
	if len(e.Hypothesis) > 2000 {
		return Invalid("hypothesis", "must be at most 2000 characters")
	}
	switch e.Unit {
	case "":
		e.Unit = UnitAdvocate
	case UnitAdvocate, UnitVisitor:
	default:
		return Invalid("unit", "must be advocate or visitor")
	}
	if e.PrimaryMetric == "" {
		return Invalid("primary_metric", "is required (chosen before the experiment starts)")
	}
	if err := e.checkMetric("primary_metric", e.PrimaryMetric); err != nil {
		return err
	}
	seen := map[Metric]bool{e.PrimaryMetric: true}
	for i, m := range e.Guardrails {
		f := fmt.Sprintf("guardrails[%d]", i)
		if err := e.checkMetric(f, m); err != nil {
			return err
		}
		if seen[m] {
			return Invalid(f, "%s is already measured", m)
		}
		seen[m] = true
	}
	if e.Guardrails == nil && e.Unit == UnitAdvocate {
		e.Guardrails = []Metric{MetricRewardCostPerConversion, MetricFraudFlagRate}
		if e.PrimaryMetric == MetricRewardCostPerConversion || e.PrimaryMetric == MetricFraudFlagRate {
			e.Guardrails = nil
		}
	}
	if e.MDEBps == 0 {
		e.MDEBps = DefaultMDEBps
	}
	if e.MDEBps < 10 || e.MDEBps > 100000 {
		return Invalid("mde_bps", "must be between 10 (0.1 %%) and 100000 (1000 %%)")
	}
	if len(e.Arms) < 2 {
		return Invalid("arms", "needs a control and at least one other arm")
	}
	if len(e.Arms) > MaxArms {
		return Invalid("arms", "at most %d arms", MaxArms)
	}
	keys := map[string]bool{}
	for i := range e.Arms {
		a := &e.Arms[i]
		f := fmt.Sprintf("arms[%d]", i)
		a.Key = strings.TrimSpace(a.Key)
		if !armKeyRE.MatchString(a.Key) {
			return Invalid(f+".key", "must be 1 to 32 lowercase letters, digits, - or _")
		}
		if keys[a.Key] {
			return Invalid(f+".key", "duplicate arm key %q", a.Key)
		}
		keys[a.Key] = true
		if len(a.Name) > 200 {
			return Invalid(f+".name", "must be at most 200 characters")
		}
		if a.Weight < 1 || a.Weight > MaxArmWeight {
			return Invalid(f+".weight", "must be between 1 and %d", MaxArmWeight)
		}
		if err := a.Overrides.normalize(f+".overrides", p, e.Unit); err != nil {
			return err
		}
	}
	if !e.Arms[0].Overrides.Empty() {
		return Invalid("arms[0].overrides", "the first arm is the control: it keeps the program as it is")
	}
	different := false
	for _, a := range e.Arms[1:] {
		different = different || !a.Overrides.Empty()
	}
	if !different {
		return Invalid("arms", "no arm overrides anything: the experiment would compare the program with itself")
	}
	if e.Status == "" {
		e.Status = ExperimentDraft
	}
	return nil
}

func (e *Experiment) checkMetric(f string, m Metric) error {
	info, ok := Metrics[m]
	if !ok {
		return Invalid(f, "unknown metric %q", m)
	}
	for _, u := range info.Units {
		if u == e.Unit {
			return nil
		}
	}
	return Invalid(f, "%s cannot be measured per %s", m, e.Unit)
}

func (o *ArmOverrides) normalize(f string, p *Program, unit ExperimentUnit) error {
	if o.Rules != nil {
		if unit == UnitVisitor {
			return Invalid(f+".rules", "reward rules are tested per advocate, not per visitor")
		}
		q := *p
		q.Rules = append([]RewardRule(nil), o.Rules...)
		if err := q.Normalize(); err != nil {
			if pe := AsError(err); pe != nil && strings.HasPrefix(pe.Field, "rules") {
				return &Error{Code: CodeInvalid, Field: f + "." + pe.Field, Message: pe.Message}
			}
			return err
		}
		if len(q.Rules) == 0 {
			return Invalid(f+".rules", "needs at least one rule (leave it out to keep the program's)")
		}
		o.Rules = q.Rules
	}
	for name, m := range map[string]map[string]string{"share_message": o.ShareMessage, "share_subject": o.ShareSubject,
		"landing_headline": o.LandingHeadline, "offer_text": o.OfferText} {
		for loc, s := range m {
			if strings.TrimSpace(s) == "" {
				return Invalid(f+"."+name+"."+loc, "is empty: leave the locale out to keep the program's text")
			}
			if len(s) > 2000 {
				return Invalid(f+"."+name+"."+loc, "must be at most 2000 characters")
			}
			if name == "share_subject" && strings.ContainsAny(s, "\r\n") {
				return Invalid(f+"."+name+"."+loc, "must be one line")
			}
		}
	}
	for k, c := range o.Emails {
		g := f + ".emails." + string(k)
		if k != NoticeInvite && k != NoticeReminder {
			return Invalid(g, "only the invite and reminder emails can be tested")
		}
		if c.Subject == "" && c.Body == "" {
			return Invalid(g, "needs a subject, a body or both")
		}
		if strings.ContainsAny(c.Subject, "\r\n") || len(c.Subject) > 300 {
			return Invalid(g+".subject", "must be one line of at most 300 characters")
		}
		if len(c.Body) > 20000 {
			return Invalid(g+".body", "must be at most 20000 characters")
		}
	}
	return nil
}

// AssignmentBucket maps (experiment id, unit id) to a number in [0, 1), the same on
// every replica and after every restart: the first 8 bytes of
// SHA-256(experiment id, NUL, unit id).
func AssignmentBucket(experimentID, unitID string) float64 {
	h := sha256.Sum256([]byte(experimentID + "\x00" + unitID))
	return float64(binary.BigEndian.Uint64(h[:8])>>11) / (1 << 53)
}

// Pick returns the arm a unit falls into by the weights: arms take
// consecutive slices of [0, 1) in their order, each as wide as its share of
// the total weight.
func (e *Experiment) Pick(unitID string) string {
	total := 0
	for _, a := range e.Arms {
		total += a.Weight
	}
	b := AssignmentBucket(e.ID, unitID) * float64(total)
	acc := 0
	for _, a := range e.Arms {
		acc += a.Weight
		if b < float64(acc) {
			return a.Key
		}
	}
	return e.Arms[len(e.Arms)-1].Key
}

// AssignmentReason says why a unit got its arm.
type AssignmentReason string

// Reasons of an assignment decision.
const (
	AssignRecorded AssignmentReason = "recorded"      // the unit's earlier assignment (sticky)
	AssignHashed   AssignmentReason = "hashed"        // a new assignment, to be recorded
	AssignEarlier  AssignmentReason = "entered_early" // the unit entered before the start: control, not recorded
	AssignInactive AssignmentReason = "inactive"      // draft or stopped/promoted: control, not recorded
)

// Assign decides a unit's arm at now. recorded is the unit's stored
// assignment ("" when none); enteredAt is when the unit entered the
// program (an advocate's join time, a visitor's first click; zero when
// unknown, which counts as now). A recorded assignment always stands
// (stopping freezes assignments); otherwise only a running experiment
// assigns, and a unit that entered before it started keeps the control.
// Only AssignHashed is to be recorded.
func (e *Experiment) Assign(unitID, recorded string, enteredAt, now time.Time) (string, AssignmentReason) {
	if recorded != "" {
		if _, ok := e.Arm(recorded); ok && e.Status != ExperimentPromoted {
			return recorded, AssignRecorded
		}
	}
	if e.Status != ExperimentRunning || e.StartedAt == nil {
		return e.Control(), AssignInactive
	}
	if !enteredAt.IsZero() && enteredAt.Before(*e.StartedAt) {
		return e.Control(), AssignEarlier
	}
	return e.Pick(unitID), AssignHashed
}

// Transition checks and applies a status change at now: start (draft →
// running), stop (running or draft → stopped), promote (stopped or running
// → promoted, naming an arm other than the control).
func (e *Experiment) Transition(to ExperimentStatus, arm string, now time.Time) error {
	from := e.Status
	bad := func() error {
		return &Error{Code: CodeConflict, Field: "status",
			Message: fmt.Sprintf("an experiment cannot go from %s to %s", from, to)}
	}
	switch to {
	case ExperimentRunning:
		if from != ExperimentDraft {
			return bad()
		}
		e.StartedAt = &now
	case ExperimentStopped:
		if from != ExperimentRunning && from != ExperimentDraft {
			return bad()
		}
		e.StoppedAt = &now
	case ExperimentPromoted:
		if from != ExperimentRunning && from != ExperimentStopped {
			return bad()
		}
		a, ok := e.Arm(arm)
		if !ok {
			return Invalid("arm", "no arm %q in this experiment", arm)
		}
		if a.Key == e.Control() || a.Overrides.Empty() {
			return Invalid("arm", "the control changes nothing: stop the experiment instead")
		}
		if e.StoppedAt == nil {
			e.StoppedAt = &now
		}
		e.PromotedArm = arm
	default:
		return Invalid("status", "must be running, stopped or promoted")
	}
	e.Status, e.UpdatedAt = to, now
	return nil
}

// Apply returns the program and experience as an arm's units see them: the
// arm's rules replace the program's, its share message and offer text
// override the experience's per locale. Subjects, landing headline and
// email copy are read from the arm by the pages and emails that show them.
func (a Arm) Apply(p Program, x Experience) (Program, Experience) {
	if a.Overrides.Rules != nil {
		p.Rules = a.Overrides.Rules
	}
	x.ShareMessage = mergeLocales(x.ShareMessage, a.Overrides.ShareMessage)
	x.OfferText = mergeLocales(x.OfferText, a.Overrides.OfferText)
	return p, x
}

func mergeLocales(base, over map[string]string) map[string]string {
	if len(over) == 0 {
		return base
	}
	out := make(map[string]string, len(base)+len(over))
	for k, v := range base {
		out[k] = v
	}
	for k, v := range over {
		out[k] = v
	}
	return out
}

// PromoteArm returns program p with the arm's overrides as its own
// configuration (the rules) and experience x with its texts: the next
// version to save.
func PromoteArm(p Program, x Experience, a Arm) (Program, Experience) {
	p, x = a.Apply(p, x)
	p.Rules = append([]RewardRule(nil), p.Rules...)
	return p, x
}
