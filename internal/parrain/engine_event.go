package parrain

import "strings"

// normalizeEngine validates the reward engine's event fields: the stage of
// a stage event, the value of a stage or contract event, its currency and
// exchange rate, the partner tier of a deal, the plan of a purchase and the
// existing-customer flag. It runs for every event type, after the
// type-specific checks.
func (e *Event) normalizeEngine() error {
	var err error
	switch e.Type {
	case EventStage, EventContract, EventCancel:
		if err := NormalizePerson(&e.Email, &e.Name, &e.Locale); err != nil {
			return err
		}
	}
	switch e.Type {
	case EventStage:
		e.Stage = strings.TrimSpace(e.Stage)
		if e.Stage == "" {
			return Invalid("stage", "is required: the name of the stage reached (one of the program's stages)")
		}
		if !engineIdent(e.Stage) {
			return Invalid("stage", "is not a stage name (lower-case identifier such as demo_booked)")
		}
	default:
		if e.Stage != "" {
			return Invalid("stage", "is only for stage events")
		}
	}
	switch e.Type {
	case EventStage, EventContract:
		if e.Type == EventContract && e.Value == nil {
			return Invalid("value", "is required: the contract's new first-year value in minor units")
		}
		if e.Value != nil {
			if *e.Value < 0 || *e.Value > MaxAmount {
				return Invalid("value", "must be a non-negative integer in the currency's minor unit")
			}
			if e.Currency, err = NormalizeCurrency("currency", e.Currency); err != nil {
				return err
			}
		} else if e.Currency != "" {
			return Invalid("currency", "is only used with value")
		}
		if e.Amount != 0 {
			return Invalid("amount", "is for purchases and refunds: a stage or contract carries value")
		}
	case EventCancel:
		if e.Value != nil || e.Amount != 0 || e.Currency != "" {
			return Invalid("value", "a cancel event carries no amount")
		}
	case EventMilestone, EventCustom:
		// Moment events carry their own optional value (moment.go).
	default:
		if e.Value != nil && !isMoment(e.Type) {
			return Invalid("value", "is only for stage, contract, milestone and custom events")
		}
	}
	switch e.Type {
	case EventPurchase, EventStage, EventContract:
	default:
		if e.FXRate != "" {
			return Invalid("fx_rate", "is only for purchase, stage and contract events")
		}
		if e.PartnerTier != "" {
			return Invalid("partner_tier", "is only for purchase, stage and contract events")
		}
	}
	if e.FXRate != "" {
		r, err := ParseRate("fx_rate", e.FXRate)
		if err != nil {
			return err
		}
		e.FXRate = r.String()
	}
	if e.PartnerTier != "" {
		e.PartnerTier = strings.TrimSpace(e.PartnerTier)
		if !engineIdent(e.PartnerTier) {
			return Invalid("partner_tier", "is not a partner tier name (lower-case identifier such as active)")
		}
	}
	switch e.Type {
	case EventPurchase:
		e.Plan = strings.TrimSpace(e.Plan)
		if len(e.Plan) > 100 {
			return Invalid("plan", "must be at most 100 characters")
		}
	case EventPlanUpgrade:
		// Validated with the moment fields.
	default:
		if e.Plan != "" {
			return Invalid("plan", "is only for purchase and plan_upgrade events")
		}
	}
	switch e.Type {
	case EventSignup, EventPurchase, EventStage:
	default:
		if e.ExistingCustomer {
			return Invalid("existing_customer", "is only for signup, purchase and stage events")
		}
	}
	return nil
}

func isMoment(t EventType) bool {
	switch t {
	case EventNPS, EventRating, EventPlanUpgrade, EventMilestone, EventCustom:
		return true
	}
	return false
}
