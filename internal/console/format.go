package console

import (
	"fmt"
	"html/template"
	"io/fs"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
)

// parsePages parses each page template ("name.html") together with the
// shared layout and partials ("_*.html").
func parsePages(fsys fs.FS) (map[string]*template.Template, error) {
	files, err := fs.Glob(fsys, "*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, f := range files {
		if strings.HasPrefix(f, "_") {
			continue
		}
		name := strings.TrimSuffix(path.Base(f), ".html")
		t, err := template.New(name).Funcs(funcs).ParseFS(fsys, "_*.html", f)
		if err != nil {
			return nil, fmt.Errorf("parsing template %s: %w", f, err)
		}
		pages[name] = t
	}
	return pages, nil
}

var funcs = template.FuncMap{
	"money":    money,
	"pct":      pct,
	"mul100":   func(f float64) float64 { return f * 100 },
	"change":   change,
	"trend":    trend,
	"date":     func(t time.Time) string { return t.UTC().Format("2006-01-02") },
	"datetime": datetime,
	"dtp": func(t *time.Time) string {
		if t == nil {
			return "—"
		}
		return datetime(*t)
	},
	"label":   label,
	"action":  actionLabel,
	"details": auditDetails,
	"qs":      qs,
	"num": func(n any) string { // any integer, with thousands separators
		switch v := n.(type) {
		case int:
			return thousands(int64(v))
		case int64:
			return thousands(v)
		}
		return fmt.Sprint(n)
	},
	"bps":    func(b int64) string { return parrain.FormatBps(b) + " %" },
	"minor":  parrain.FormatMinor,
	"add":    func(a, b int) int { return a + b },
	"future": func(t time.Time, now time.Time) bool { return t.After(now) },
	"deref": func(t *time.Time) time.Time {
		if t == nil {
			return time.Time{}
		}
		return *t
	},
	"pkpi": func(name string, k parrain.KPIs) struct {
		Name string
		K    parrain.KPIs
	} {
		return struct {
			Name string
			K    parrain.KPIs
		}{name, k}
	},
	"partnersQS": func(programID string, pc periodChoice, kv ...any) template.URL {
		return template.URL(partnersQuery(programID, pc, kv...))
	},
	"actorKinds": func() []struct{ Value, Name string } {
		return []struct{ Value, Name string }{{"user", "Console users"}, {"api_key", "API keys"}, {"cli", "Command line"},
			{"partner", "Partners"}, {"advocate", "Advocates"}, {"system", "Background jobs"}, {"webhook", "Provider webhooks"}}
	},
	"dictActions": func() map[string]string {
		return map[string]string{"reward.": "Reward reviews", "referral.": "Referral reviews", "program.": "Programs",
			"user.": "Users and sign-ins", "api_key.": "API keys", "branding.updated": "Branding", "email_sender.updated": "Email sender",
			"webhook.": "Webhooks", "webhook_endpoint.disabled": "Webhook endpoints disabled", "payout.": "Payouts",
			"payout_account.": "Payout accounts", "payout_settings.updated": "Payout settings", "partner.": "Partners and deals",
			"partner_program.updated": "Partner program", "partner_exclusion.": "Partner exclusions", "partner_asset.": "Partner assets",
			"partner_survey.": "Partner surveys", "contest.": "Contests", "coupon_pool.": "Code pools", "fraud_policy.updated": "Fraud policy",
			"widget_secret.rotated": "Widget secret", "experience.updated": "Widget and email settings", "email_template.": "Email templates",
			"trigger.": "Triggers", "crm.": "CRM"}
	},
}

func datetime(t time.Time) string {
	if t.IsZero() {
		return "—"
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

// money formats minor units with the currency's digits and thousands
// separators: 123456 EUR → "1,234.56 EUR". Display only.
func money(amount int64, currency string) string {
	s := parrain.FormatMinor(amount, currency)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	whole, frac, hasFrac := strings.Cut(s, ".")
	out := thousandsStr(whole)
	if hasFrac {
		out += "." + frac
	}
	if neg {
		out = "-" + out
	}
	return out + " " + currency
}

func thousands(n int64) string {
	if n < 0 {
		return "-" + thousandsStr(strconv.FormatUint(uint64(-n), 10))
	}
	return thousandsStr(strconv.FormatInt(n, 10))
}

func thousandsStr(digits string) string {
	if len(digits) <= 3 {
		return digits
	}
	var b strings.Builder
	pre := len(digits) % 3
	if pre > 0 {
		b.WriteString(digits[:pre])
	}
	for i := pre; i < len(digits); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}

// Ratio is an exact fraction, formatted without floating point.
type Ratio struct{ Num, Den int64 }

// Defined reports whether the ratio has a denominator.
func (r Ratio) Defined() bool { return r.Den != 0 }

// Permille returns the ratio in tenths of a percent, rounded half-up.
func (r Ratio) Permille() int64 {
	if r.Den == 0 {
		return 0
	}
	v, err := parrain.MulDiv(r.Num, 1000, r.Den, parrain.RoundHalfUp)
	if err != nil {
		return 0
	}
	return v
}

// Percent renders the ratio as "12.3 %", or "—" without a denominator.
func (r Ratio) Percent() string {
	if r.Den == 0 {
		return "—"
	}
	return tenths(r.Permille()) + " %"
}

// Times renders the ratio as a multiple with one decimal, "2.5×" (clicks
// per advocate).
func (r Ratio) Times() string {
	if r.Den == 0 {
		return "—"
	}
	v, err := parrain.MulDiv(r.Num, 10, r.Den, parrain.RoundHalfUp)
	if err != nil {
		return "—"
	}
	return tenths(v) + "×"
}

// tenths renders an integer count of tenths ("123" → "12.3").
func tenths(v int64) string {
	sign := ""
	if v < 0 {
		sign, v = "-", -v
	}
	return fmt.Sprintf("%s%s.%d", sign, thousands(v/10), v%10)
}

func pct(num, den int64) string { return Ratio{num, den}.Percent() }

// change renders the relative change from prev to cur ("+12.5 %", "new",
// "—").
func change(cur, prev int64) string {
	switch {
	case prev == 0 && cur == 0:
		return "—"
	case prev == 0:
		return "new"
	}
	p := Ratio{cur - prev, abs(prev)}.Permille()
	s := tenths(p) + " %"
	if p > 0 {
		s = "+" + s
	}
	return s
}

// trend names the direction of a change, for styling and screen readers.
func trend(cur, prev int64) string {
	switch {
	case cur > prev:
		return "up"
	case cur < prev:
		return "down"
	}
	return "flat"
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}

// label turns an identifier into words: "signed_up" → "Signed up".
func label(s any) string {
	v := strings.ReplaceAll(fmt.Sprint(s), "_", " ")
	if v == "" {
		return v
	}
	return strings.ToUpper(v[:1]) + v[1:]
}

// qs builds a query string from key, value pairs, skipping empty values:
// {{qs "program" .ID "status" "pending"}} → "program=…&status=pending".
func qs(kv ...any) template.URL {
	v := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if s := fmt.Sprint(kv[i+1]); s != "" {
			v.Set(fmt.Sprint(kv[i]), s)
		}
	}
	return template.URL(v.Encode())
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// actionWords names the audited actions in plain words.
var actionWords = map[string]string{
	"reward.approved": "Approved a reward", "reward.rejected": "Rejected a reward", "reward.reinstated": "Reinstated a reward voided as inactive",
	"referral.cleared": "Cleared a referral's fraud review", "referral.rejected": "Rejected a referral",
	"program.created": "Created a program", "program.updated": "Edited a program", "program.paused": "Paused a program",
	"program.resumed": "Resumed a program", "user.created": "Created a user", "user.role_changed": "Changed a role",
	"user.disabled": "Disabled a user", "user.enabled": "Enabled a user", "user.password_changed": "Changed a password",
	"user.signed_out_everywhere": "Signed a user out everywhere", "user.signed_in": "Signed in",
	"api_key.created": "Created an API key", "api_key.revoked": "Revoked an API key",
	"api_key.rate_limit_changed": "Changed an API key's rate limit", "branding.updated": "Changed the branding",
	"email_sender.updated": "Changed the email sender", "webhook.created": "Added a webhook endpoint",
	"webhook.deleted": "Deleted a webhook endpoint", "webhook.replayed": "Replayed a webhook delivery",
	"payout.batch_created": "Ran a payout", "payout.batch_approved": "Approved a payout batch",
	"payout.batch_cancelled": "Cancelled a payout batch", "partner.approved": "Approved a partner application",
	"partner.rejected": "Rejected a partner application", "partner.deal_moved": "Moved a partner deal",
	"contest.created": "Created a contest", "coupon_pool.created": "Created a code pool",
	"coupon_pool.codes_imported": "Imported coupon codes", "import.started": "Started an import of participants",
	"import.finished": "Finished an import of participants", "fraud_policy.updated": "Changed the fraud policy",
	"widget_secret.rotated": "Rotated the widget secret", "experience.updated": "Changed the widget and emails' settings",
	"email_template.updated": "Edited an email template", "email_template.deleted": "Restored a built-in email",
	"trigger.created": "Created a trigger", "trigger.updated": "Edited a trigger", "trigger.deleted": "Deleted a trigger",
	"experiment.created": "Created an experiment", "experiment.updated": "Edited an experiment", "experiment.started": "Started an experiment",
	"experiment.stopped": "Stopped an experiment", "experiment.promoted": "Promoted an experiment's arm",
	"payout_account.updated": "Set a payout account", "payout_account.deleted": "Removed a payout account",
	"payout_settings.updated": "Changed the payout settings", "payout.marked_paid": "Marked a payout paid",
	"payout.marked_failed": "Marked a payout failed", "payout.cancelled": "Cancelled a payout",
	"webhook.updated": "Edited a webhook endpoint", "webhook.secret_rotated": "Rotated a webhook signing secret",
	"webhook_endpoint.disabled": "Disabled a failing webhook endpoint", "crm.connected": "Connected a CRM",
	"crm.disconnected": "Disconnected the CRM", "partner_program.updated": "Changed the partner program",
	"partner.invited": "Invited a partner", "partner.suspended": "Suspended a partner",
	"partner.reactivated": "Reactivated a partner", "partner.onboarding_updated": "Updated a partner's onboarding",
	"partner.tier_changed":        "Changed a partner's tier",
	"partner.extension_requested": "Asked for a longer exclusivity", "partner.extension_decided": "Decided on an exclusivity extension",
	"partner.lead_extended": "Extended a lead's exclusivity", "partner_exclusion.added": "Excluded an account from partners",
	"partner_exclusion.deleted": "Removed an account exclusion", "partner_asset.created": "Added a partner asset",
	"partner_asset.deleted": "Deleted a partner asset", "partner_survey.created": "Created a partner survey",
	"partner.password_set":    "Set a partner portal password",
	"participant.erased":      "Erased a person (personal-data rights)",
	"participant.exported":    "Exported a person's data",
	"participant.do_not_sell": "Changed a person's do-not-sell choice",
}

// actionLabel names an audited action ("reward.approved" → "Approved a
// reward"); unknown actions are shown as they are.
func actionLabel(a string) string {
	if w, ok := actionWords[a]; ok {
		return w
	}
	return a
}

// auditDetails renders an audit entry's details as "key: value" lines,
// amounts with their currency.
func auditDetails(d map[string]any) []string {
	keys := make([]string, 0, len(d))
	for k := range d {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	cur, _ := d["currency"].(string)
	var out []string
	for _, k := range keys {
		v := d[k]
		if k == "currency" {
			continue
		}
		if n, ok := v.(float64); ok && cur != "" && k == "amount" && n == float64(int64(n)) {
			out = append(out, label(k)+": "+money(int64(n), cur))
			continue
		}
		out = append(out, fmt.Sprintf("%s: %v", label(k), v))
	}
	return out
}
