package parrain

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"html"
	"slices"
	"strings"
	"time"
)

// Program terms are rendered from the program's configuration — its rules,
// eligibility, caps, hold and payout settings — so they can never
// disagree with what the engine does. They are Markdown, turned into HTML
// by MarkdownHTML. They are versioned by content (TermsDigest): a new
// version is recorded whenever the rendered text changes, whatever changed
// it, and participants accept them version by version.

// TermsInput is everything the terms are rendered from.
type TermsInput struct {
	Program *Program
	Payouts *PayoutSettings // nil: payouts not configured
	// FraudRules are the program's fraud policy in plain sentences (from
	// its actual thresholds, rules and lists); nil gives a generic line.
	FraudRules []string
}

// RenderTerms returns the program's terms in Markdown.
func RenderTerms(in TermsInput) string {
	p := in.Program
	var b strings.Builder
	line := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	money := func(v int64) string { return FormatMinor(v, p.Currency) + " " + p.Currency }

	line("# %s — program terms", p.Name)
	line("")
	line("These terms are generated from the program's configuration, so they always match how rewards are computed. Amounts are in %s.", p.Currency)
	line("")

	line("## Who may refer")
	line("")
	e := p.Eligibility
	if e == nil || e.Advocates == nil || (!e.Advocates.PayingOnly && len(e.Advocates.Plans) == 0 && len(e.Advocates.Segments) == 0 && len(e.Advocates.Attributes) == 0) {
		line("- Every participant of the program may refer, with their referral link or code.")
	} else {
		a := e.Advocates
		if a.PayingOnly {
			line("- Only paying customers may earn rewards for referring.")
		}
		if len(a.Plans) > 0 {
			line("- Only customers on these plans: %s.", strings.Join(a.Plans, ", "))
		}
		if len(a.Segments) > 0 {
			line("- Only customers in these segments: %s.", strings.Join(a.Segments, ", "))
		}
		for _, k := range termsKeys(a.Attributes) {
			line("- Only participants whose %s is one of: %s.", k, strings.Join(a.Attributes[k], ", "))
		}
	}
	line("")

	line("## What counts as a successful referral")
	line("")
	window := "the last click on a referral link wins"
	if p.AttributionModel == FirstClick {
		window = "the first click on a referral link wins"
	}
	line("- The friend signs up with your link or code within %d days of clicking it (%s; a code typed by the friend always wins).", p.CookieWindowDays, window)
	line("- A person can be referred only once in this program.")
	switch s := p.SuccessRule(); s.Trigger {
	case TriggerSignup:
		line("- A referral is **successful** when the friend signs up.")
	case TriggerFirstPurchase:
		line("- A referral is **successful** when the friend makes their first qualifying purchase.")
	case TriggerStage:
		line("- A referral is **successful** when the referred lead reaches the stage **%s**.", stageLabel(p, s.Stage))
	}
	if e != nil && e.Purchases != nil {
		pe := e.Purchases
		if pe.MinAmount > 0 {
			line("- Purchases count from %s.", money(pe.MinAmount))
		}
		if pe.FirstPurchaseOnly {
			line("- Only the friend's first purchase counts.")
		}
		if len(pe.Plans) > 0 {
			line("- Only purchases of these plans count: %s.", strings.Join(pe.Plans, ", "))
		}
		if pe.NewCustomersOnly {
			line("- Only new customers count: people who were already customers before the referral do not.")
		}
	}
	line("")

	line("## Rewards")
	line("")
	if len(p.Rules) == 0 {
		line("- This program grants no rewards at the moment.")
	}
	for _, r := range p.Rules {
		var parts []string
		if r.Advocate != nil {
			parts = append(parts, "you receive "+specText(p, r, r.Advocate))
		}
		if r.Friend != nil {
			parts = append(parts, "your friend receives "+specText(p, r, r.Friend))
		}
		line("- **%s**: %s.", triggerText(p, r), strings.Join(parts, "; "))
	}
	line("- Amounts are computed exactly and rounded to the currency's smallest unit (%s).", map[Rounding]string{
		RoundHalfUp: "halves rounded up", RoundHalfEven: "halves rounded to even, banker's rounding"}[p.RoundingMode()])
	if len(p.FXRates) > 0 {
		var rates []string
		for _, k := range termsKeys(p.FXRates) {
			rates = append(rates, fmt.Sprintf("1 %s = %s %s", k, p.FXRates[k], p.Currency))
		}
		line("- Purchases in other currencies are converted at the rate reported with the purchase, otherwise at: %s. The rate used is recorded with the reward.", strings.Join(rates, "; "))
	} else {
		line("- A percentage of a purchase in another currency is only paid when an exchange rate is reported with it; the rate used is recorded with the reward.")
	}
	line("")

	if c := p.CapsOrZero(); c.PerReferral > 0 || c.PerParticipant != nil || c.Budget != nil {
		line("## Limits")
		line("")
		if c.PerReferral > 0 {
			line("- At most %s per participant for one referral.", money(c.PerReferral))
		}
		if pc := c.PerParticipant; pc != nil {
			line("- At most %s per participant %s.", money(pc.Amount), periodText(pc.Period))
		}
		if bc := c.Budget; bc != nil {
			line("- The program grants at most %s in rewards %s.", money(bc.Amount), periodText(bc.Period))
		}
		if c.OnCap == CapReview {
			line("- A reward beyond a limit is not lost: it waits for the program manager's approval.")
		} else {
			line("- A reward beyond a limit is reduced to what the limit leaves.")
		}
		line("")
	}

	line("## Hold and approval")
	line("")
	if p.HoldDays > 0 {
		line("- Rewards are held for %d days after the event that earned them, then approved.", p.HoldDays)
	} else {
		line("- Rewards are approved without a holding period.")
	}
	if a, ok := p.ActivityRule(); ok {
		days := "on at least one day"
		if a.MinDays > 1 {
			days = fmt.Sprintf("on at least %d different days", a.MinDays)
		}
		line("- Rewards for a referral are only approved if the referred customer actually uses the product during the hold (%s reported %s); otherwise they are void as inactive. The program manager may reinstate a voided reward.", a.EventType, days)
	}
	line("- If a purchase is refunded during the hold, its rewards are cancelled (in proportion for a partial refund of a percentage); after approval, they are taken back from your balance.")
	line("- If the referred customer cancels during the hold, the rewards still on hold for that referral are void, and the referral no longer counts as successful.")
	line("")

	line("## Payment")
	line("")
	if in.Payouts != nil {
		ps := in.Payouts
		switch ps.Schedule {
		case ScheduleWeekly:
			line("- Approved cash rewards are paid out every week on %s.", time.Weekday(ps.Day))
		case ScheduleMonthly:
			line("- Approved cash rewards are paid out every month on day %d.", ps.Day)
		default:
			line("- Approved cash rewards are paid out when the program runs a payout (no fixed schedule).")
		}
		if ps.MinimumAmount > 0 {
			line("- Balances below %s wait for the next payout.", money(ps.MinimumAmount))
		}
	} else {
		line("- Approved cash rewards are paid out when the program runs a payout.")
	}
	line("- Credits, coupons, gift cards and feature unlocks are delivered automatically once approved.")
	line("")

	line("## Fair use")
	line("")
	line("- Referring yourself (the same account or the same email address) is recorded but never rewarded.")
	if len(in.FraudRules) == 0 {
		line("- Referrals may be reviewed for fraud; rewards under review stay on hold until cleared, and rewards of fraudulent referrals are reversed.")
	}
	for _, r := range in.FraudRules {
		line("- %s", r)
	}
	line("- A paused program keeps links working but credits no new referrals.")
	line("")

	if p.Terms != nil && p.Terms.Notes != "" {
		line("## Additional terms")
		line("")
		line("%s", p.Terms.Notes)
		line("")
	}
	return b.String()
}

func termsKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	slices.Sort(ks)
	return ks
}

func stageLabel(p *Program, name string) string {
	for _, s := range p.Stages {
		if s.Name == name && s.Label != "" {
			return s.Label
		}
	}
	return name
}

func periodText(p Period) string {
	switch p {
	case PeriodMonth:
		return "per calendar month"
	case PeriodQuarter:
		return "per calendar quarter"
	case PeriodYear:
		return "per calendar year"
	}
	return "in total"
}

func triggerText(p *Program, r RewardRule) string {
	switch r.Trigger {
	case TriggerSignup:
		return "When your friend signs up"
	case TriggerFirstPurchase:
		return "When your friend makes their first qualifying purchase"
	case TriggerPurchase:
		return "For each qualifying purchase of your friend"
	case TriggerStage:
		return "When the referred lead reaches " + stageLabel(p, r.Stage)
	case TriggerMilestone:
		return fmt.Sprintf("Bonus at your %s successful referral (%s)", ordinal(r.Milestone.Count), periodText(r.Milestone.Period.orLifetime()))
	}
	return string(r.Trigger)
}

// specText describes a reward in words ("10% of the purchase in cash, at
// most 50.00 EUR").
func specText(p *Program, r RewardRule, s *RewardSpec) string {
	money := func(v int64) string { return FormatMinor(v, p.Currency) + " " + p.Currency }
	var amount string
	switch s.Type {
	case AmountPercent:
		of := "the purchase"
		if r.Trigger == TriggerStage {
			of = "the deal value"
		}
		amount = fmt.Sprintf("%s%% of %s", FormatBps(s.PercentBps), of)
		if len(s.PartnerRates) > 0 {
			var rs []string
			for _, k := range termsKeys(s.PartnerRates) {
				rs = append(rs, fmt.Sprintf("%s%% for partner tier %s", FormatBps(s.PartnerRates[k]), k))
			}
			amount = fmt.Sprintf("%s of %s (%s%% otherwise)", strings.Join(rs, ", "), of, FormatBps(s.PercentBps))
		}
	default:
		amount = money(s.Amount)
	}
	var kind string
	switch s.Kind {
	case KindCash:
		kind = amount + " in cash"
	case KindCredit:
		kind = amount + " as account credit"
	case KindCoupon:
		kind = "a coupon worth " + amount
		if s.PercentOffBps > 0 {
			kind = fmt.Sprintf("a %s%% discount coupon (valued at %s)", FormatBps(s.PercentOffBps), amount)
		}
	case KindGiftCard:
		kind = "a gift card worth " + amount
	case KindFeatureUnlock:
		kind = fmt.Sprintf("%s unlocked for %d days (valued at %s)", s.Feature, s.Days, amount)
	default:
		kind = amount
		if s.Description != "" {
			kind = fmt.Sprintf("%s (valued at %s)", s.Description, amount)
		}
	}
	var extra []string
	for _, st := range s.Tiers {
		if s.Type == AmountPercent {
			extra = append(extra, fmt.Sprintf("%s%% from your %s successful referral", FormatBps(st.PercentBps), ordinal(st.From)))
		} else {
			extra = append(extra, fmt.Sprintf("%s from your %s successful referral", money(st.Amount), ordinal(st.From)))
		}
	}
	if len(s.Tiers) > 0 {
		extra[len(extra)-1] += " (counted " + periodText(s.TierPeriod.orLifetime()) + ")"
	}
	if s.IntroPayments > 0 {
		extra = append(extra, fmt.Sprintf("%s%% for the first %d payments", FormatBps(s.IntroPercentBps), s.IntroPayments))
	}
	if s.Months > 0 {
		extra = append(extra, fmt.Sprintf("on payments made within %d months of the first", s.Months))
	}
	if s.Payments > 0 {
		extra = append(extra, fmt.Sprintf("on at most %d payments", s.Payments))
	}
	if s.MaxAmount > 0 {
		extra = append(extra, "at most "+money(s.MaxAmount))
	}
	if s.TrueUpMonths > 0 {
		extra = append(extra, fmt.Sprintf("adjusted if the contract value changes within %d months", s.TrueUpMonths))
	}
	if s.Deliver == DeliverImmediately {
		extra = append(extra, "delivered immediately")
	}
	if len(extra) > 0 {
		kind += " (" + strings.Join(extra, "; ") + ")"
	}
	for i, v := range s.Variants {
		m := s.WithVariant(v)
		sep := "; but "
		if i > 0 {
			sep = "; otherwise "
		}
		kind += sep + specText(p, r, &m) + " when " + v.When.describe()
	}
	return kind
}

// TermsDigest identifies a terms text: the hex SHA-256 of its Markdown.
// Two renderings with the same digest are the same terms version.
func TermsDigest(md string) string {
	sum := sha256.Sum256([]byte(md))
	return hex.EncodeToString(sum[:])
}

// AcceptedTermsVersion is the terms version a participant accepts when
// asking for requested: the current one when requested is 0. A negative
// version is refused (whether the version exists is the store's to say).
func AcceptedTermsVersion(requested, current int) (int, error) {
	switch {
	case requested < 0:
		return 0, Invalid("version", "must be a terms version")
	case requested == 0:
		return current, nil
	}
	return requested, nil
}

// MarkdownHTML renders the Markdown subset the terms use — "#" and "##"
// headings, "- " list items, paragraphs and **bold** — as HTML. All text is
// escaped, so program names and notes cannot inject markup.
func MarkdownHTML(md string) string {
	var b strings.Builder
	inList := false
	var para []string
	flushPara := func() {
		if len(para) > 0 {
			b.WriteString("<p>" + inline(strings.Join(para, " ")) + "</p>\n")
			para = nil
		}
	}
	closeList := func() {
		if inList {
			b.WriteString("</ul>\n")
			inList = false
		}
	}
	for _, raw := range strings.Split(md, "\n") {
		l := strings.TrimRight(raw, " \t\r")
		switch {
		case strings.TrimSpace(l) == "":
			flushPara()
			closeList()
		case strings.HasPrefix(l, "## "):
			flushPara()
			closeList()
			b.WriteString("<h2>" + inline(l[3:]) + "</h2>\n")
		case strings.HasPrefix(l, "# "):
			flushPara()
			closeList()
			b.WriteString("<h1>" + inline(l[2:]) + "</h1>\n")
		case strings.HasPrefix(l, "- "):
			flushPara()
			if !inList {
				b.WriteString("<ul>\n")
				inList = true
			}
			b.WriteString("<li>" + inline(l[2:]) + "</li>\n")
		default:
			closeList()
			para = append(para, strings.TrimSpace(l))
		}
	}
	flushPara()
	closeList()
	return b.String()
}

// inline escapes text and renders **bold** pairs.
func inline(s string) string {
	s = html.EscapeString(s)
	var b strings.Builder
	open := false
	for {
		i := strings.Index(s, "**")
		if i < 0 {
			break
		}
		if !open && !strings.Contains(s[i+2:], "**") {
			break // an unmatched ** stays as text
		}
		b.WriteString(s[:i])
		if open {
			b.WriteString("</strong>")
		} else {
			b.WriteString("<strong>")
		}
		open = !open
		s = s[i+2:]
	}
	b.WriteString(s)
	return b.String()
}
