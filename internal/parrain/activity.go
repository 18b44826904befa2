package parrain

import (
	"fmt"
	"time"
)

// Activity-based success: "the new customer is still active after 30
// days". A program may require that the referred friend's app reported
// activity during the hold before the referral's rewards mature; a reward
// whose friend did not is voided at maturation with the reason inactive
// (a reversal entry), and a manager may reinstate it.

// VoidInactive is the void reason of a reward whose friend showed no
// activity during the hold.
const VoidInactive = "inactive"

// ActivityRequirement says what activity the friend must show during the
// hold for the referral's rewards to mature. Off by default.
type ActivityRequirement struct {
	// Required turns the requirement on.
	Required bool `json:"required"`
	// EventType is the event that counts as activity (default activity;
	// also purchase, stage or a moment event such as custom).
	EventType EventType `json:"event_type,omitempty"`
	// MinDays is how many distinct days (UTC) with activity the hold must
	// contain (default 1).
	MinDays int `json:"min_days,omitempty"`
}

// ActivityRule returns the program's activity requirement with its
// defaults, and whether it is on.
func (p *Program) ActivityRule() (ActivityRequirement, bool) {
	if p.Activity == nil || !p.Activity.Required {
		return ActivityRequirement{}, false
	}
	a := *p.Activity
	if a.EventType == "" {
		a.EventType = EventActivity
	}
	if a.MinDays == 0 {
		a.MinDays = 1
	}
	return a, true
}

// validateActivity checks the activity requirement.
func (p *Program) validateActivity() error {
	a := p.Activity
	if a == nil {
		return nil
	}
	switch a.EventType {
	case "":
		a.EventType = EventActivity
	case EventActivity, EventPurchase, EventStage, EventNPS, EventRating, EventPlanUpgrade, EventMilestone, EventCustom:
	default:
		return Invalid("activity.event_type", "must be activity, purchase, stage, nps, rating, plan_upgrade, milestone or custom")
	}
	if a.MinDays == 0 {
		a.MinDays = 1
	}
	if a.MinDays < 1 || a.MinDays > 366 {
		return Invalid("activity.min_days", "must be between 1 and 366")
	}
	if !a.Required {
		return nil
	}
	if p.HoldDays < 1 {
		return Invalid("activity.required", "activity is checked during the hold: set hold_days to at least 1")
	}
	if a.MinDays > p.HoldDays+1 {
		return Invalid("activity.min_days", "the hold of %d days cannot contain %d distinct days", p.HoldDays, a.MinDays)
	}
	return nil
}

// ActivityWindow is the period in which a reward's friend must show
// activity: from when the event that earned the reward happened to the end
// of its hold.
func ActivityWindow(rw *Reward) (from, to time.Time) {
	from = rw.CreatedAt
	if rw.OccurredAt != nil {
		from = *rw.OccurredAt
	}
	return from, rw.HoldUntil
}

// ActivityVerdict says whether days distinct days of activity meet the
// requirement, with the sentence that explains a failure.
func (a ActivityRequirement) ActivityVerdict(days int) (ok bool, why string) {
	if days >= a.MinDays {
		return true, ""
	}
	if a.MinDays == 1 {
		return false, fmt.Sprintf("inactive: the friend reported no %s event during the hold", a.EventType)
	}
	return false, fmt.Sprintf("inactive: the friend reported %s events on %d distinct day(s) during the hold; the program requires %d",
		a.EventType, days, a.MinDays)
}

// Reinstate returns the entries and the new status that reinstate a reward
// voided as inactive: its reversed amount comes back, approved (its hold
// is over). ok is false when the reward was not voided as inactive.
func Reinstate(r *Reward) ([]Movement, RewardStatus, bool) {
	if r.Status != RewardReversed || r.VoidReason != VoidInactive || r.Reversed <= 0 {
		return nil, r.Status, false
	}
	return []Movement{{EntryReinstatement, BucketApproved, r.Reversed}}, RewardApproved, true
}
