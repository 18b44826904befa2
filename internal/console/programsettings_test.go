package console

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// TestProgramSettingsPages: each program settings page renders for every
// role (the form only for managers and owners, with the settings
// sub-navigation); a valid form saves through the use case and leaves one
// audit entry by the manager who saved; an invalid one comes back with the
// use case's message under the field and saves nothing.
func TestProgramSettingsPages(t *testing.T) {
	each(t, func(t *testing.T, e *consoleEnv) {
		e.withUsers(t)
		manager, analyst := e.sess[parrain.UserRoleManager], e.sess[parrain.UserRoleAnalyst]
		pid := e.prog.ID
		q := "?program=" + url.QueryEscape(pid)
		audits := func(action string) []store.AuditEntry {
			t.Helper()
			log, _, err := e.St.AuditLog(bg, store.AuditFilter{ProgramID: pid, Action: action}, store.Page{Limit: 10})
			if err != nil {
				t.Fatal(err)
			}
			return log
		}
		experience := func() parrain.Experience {
			t.Helper()
			x, err := e.St.Experience(bg, pid)
			if err != nil {
				t.Fatal(err)
			}
			return x
		}
		policy := func() (int, []string) {
			t.Helper()
			p, err := e.Ref.FraudPolicy(bg, pid)
			if err != nil {
				t.Fatal(err)
			}
			return p.HoldAt, p.Lists.BlockedDomains
		}
		payouts := func() parrain.PayoutSettings {
			t.Helper()
			s, err := e.St.PayoutSettings(bg, pid)
			if err != nil {
				t.Fatal(err)
			}
			return s
		}
		template := func() (store.EmailTemplate, bool) {
			t.Helper()
			tp, ok, err := e.St.EmailTemplate(bg, pid, parrain.NoticeWelcome, "fr")
			if err != nil {
				t.Fatal(err)
			}
			return tp, ok
		}
		partnerProgram := func() (store.PartnerProgram, bool) {
			t.Helper()
			pp, err := e.St.PartnerProgram(bg, pid)
			if parrain.ErrorCode(err) == parrain.CodeNotFound {
				return pp, false
			}
			if err != nil {
				t.Fatal(err)
			}
			return pp, true
		}
		pools := func() []store.CouponPool {
			t.Helper()
			ps, err := e.St.CouponPools(bg, pid)
			if err != nil {
				t.Fatal(err)
			}
			return ps
		}
		goodTemplate := url.Values{"program": {pid}, "kind": {"welcome"}, "locale": {"fr"}, "subject": {"Bienvenue {{.FirstName}}"},
			"text": {"Votre lien : {{.Link}}\nDésinscription : {{.UnsubscribeURL}}"}}
		cases := []struct {
			name, path, page, action string
			valid, bad               url.Values
			badField, badMessage     string
			saved, unchanged         func() bool
		}{
			{
				name: "experience", path: "/admin/settings/experience", page: "experience", action: store.AuditExperienceUpdated,
				valid: url.Values{"program": {pid}, "landing_page": {"on"}, "offer_text.fr": {"15 % sur votre première commande"},
					"share_message.en": {"Try {sender} with {offer}: {link}"}, "allowed_origins": {"https://App.Example.com\nhttps://shop.example.com:8443"},
					"invites_per_day": {"5"}, "emails.reminder": {"on"}, "default_locale": {"fr"}},
				bad:      url.Values{"program": {pid}, "allowed_origins": {"https://ok.example.com\nhttps://bad.example.com/path"}, "default_locale": {"en"}},
				badField: "allowed_origins-err", badMessage: "must be an origin such as https://app.example.com",
				saved: func() bool {
					x := experience()
					return x.LandingPage && x.OfferText["fr"] == "15 % sur votre première commande" && x.InvitesPerDay == 5 &&
						len(x.AllowedOrigins) == 2 && x.AllowedOrigins[0] == "https://app.example.com" && !x.Emails[parrain.NoticeWelcome] && x.Emails[parrain.NoticeReminder]
				},
				unchanged: func() bool { x := experience(); return !x.LandingPage && len(x.AllowedOrigins) == 0 },
			},
			{
				name: "fraud policy", path: "/admin/settings/fraud", page: "fraud", action: store.AuditFraudPolicyUpdated,
				valid: url.Values{"program": {pid}, "flag_at": {"20"}, "hold_at": {"50"}, "reject_at": {"80"}, "review_window_hours": {"48"},
					"blocked_domains": {"spam.example\nfraud.example"}},
				bad:      url.Values{"program": {pid}, "flag_at": {"20"}, "hold_at": {"90"}, "reject_at": {"40"}, "review_window_hours": {"48"}},
				badField: "reject_at-err", badMessage: "",
				saved:     func() bool { h, l := policy(); return h == 50 && len(l) == 2 },
				unchanged: func() bool { h, l := policy(); return h != 90 && len(l) == 0 },
			},
			{
				name: "payout schedule", path: "/admin/settings/payouts", page: "payout_settings", action: "payout_settings.updated",
				valid:    url.Values{"program": {pid}, "schedule": {"monthly"}, "day": {"15"}, "hour": {"9"}, "minimum_amount": {"25.50"}, "auto_approve_limit": {"0"}},
				bad:      url.Values{"program": {pid}, "schedule": {"monthly"}, "day": {"31"}, "hour": {"9"}, "minimum_amount": {"25"}},
				badField: "day-err", badMessage: "must be a day of the month from 1 to 28",
				saved: func() bool {
					s := payouts()
					return s.Schedule == parrain.ScheduleMonthly && s.Day == 15 && s.MinimumAmount == 2550
				},
				unchanged: func() bool { s := payouts(); return s.Day != 31 && s.MinimumAmount != 2500 },
			},
			{
				name: "email template", path: "/admin/settings/email-templates", page: "email_templates", action: store.AuditEmailTemplateUpdated,
				valid: goodTemplate,
				bad: url.Values{"program": {pid}, "kind": {"welcome"}, "locale": {"fr"}, "subject": {"Bienvenue"},
					"text": {"Pas de lien de désinscription"}},
				badField: "text-err", badMessage: "must contain {{.UnsubscribeURL}}",
				saved:     func() bool { tp, ok := template(); return ok && tp.Subject == "Bienvenue {{.FirstName}}" },
				unchanged: func() bool { _, ok := template(); return !ok },
			},
			{
				name: "partner program", path: "/admin/settings/partner-program", page: "partner_program", action: "partner_program.updated",
				valid: url.Values{"program": {pid}, "slug": {"acme-partners"}, "applications_open": {"on"}, "window_days": {"60"}, "require_consent": {"on"},
					"terms_version": {"2026-01"}, "terms_text": {"Be fair."},
					"tier.0.key": {"registered"}, "tier.0.name": {"Registered"}, "tier.0.rank": {"0"},
					"tier.1.key": {"gold"}, "tier.1.name": {"Gold"}, "tier.1.rank": {"1"}, "tier.1.min_won_deals": {"3"}, "tier.1.min_revenue": {"10000.00"},
					"tier.2.key": {""}},
				bad:      url.Values{"program": {pid}, "slug": {"Acme Partners!"}, "window_days": {"60"}, "tier.0.key": {"registered"}, "tier.0.name": {"Registered"}, "tier.0.rank": {"0"}},
				badField: "slug-err", badMessage: "must be 2–63 lower-case letters",
				saved: func() bool {
					pp, ok := partnerProgram()
					return ok && pp.Slug == "acme-partners" && pp.WindowDays == 60 && len(pp.Tiers) == 2 && pp.Tiers[1].Criteria.MinRevenue == 1000000
				},
				unchanged: func() bool { _, ok := partnerProgram(); return !ok },
			},
			{
				name: "coupon pool", path: "/admin/settings/coupon-pools", page: "coupon_pools", action: store.AuditCouponPoolCreated,
				valid:    url.Values{"program": {pid}, "name": {"welcome-coupons"}, "low_water": {"5"}},
				bad:      url.Values{"program": {pid}, "name": {"Welcome Coupons"}, "low_water": {"5"}},
				badField: "name-err", badMessage: "must be a pool name",
				saved: func() bool {
					ps := pools()
					return len(ps) == 1 && ps[0].Name == "welcome-coupons" && ps[0].LowWater == 5
				},
				unchanged: func() bool { return len(pools()) == 0 },
			},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				for role, s := range map[string]testSession{"analyst": analyst, "manager": manager} {
					a := e.do(s, "GET", c.path+q, nil, nil)
					if a.status != http.StatusOK || !strings.Contains(a.body, `data-page="`+c.page+`"`) || !strings.Contains(a.body, `aria-label="Settings"`) {
						t.Fatalf("GET as %s: %d %s", role, a.status, short(a.body))
					}
					if hasForm := strings.Contains(a.body, `action="`+c.path+`"`); hasForm != (role == "manager") {
						t.Errorf("GET as %s shows the form: %v", role, hasForm)
					}
				}
				if a := e.do(analyst, "POST", c.path, c.valid, nil); a.status != http.StatusForbidden {
					t.Errorf("analyst POST: %d", a.status)
				}
				a := e.do(manager, "POST", c.path, c.bad, nil)
				if a.status != http.StatusBadRequest {
					t.Fatalf("invalid POST: %d %s", a.status, short(a.body))
				}
				if msg := fieldError(a.body, c.badField); msg == "" || !strings.Contains(msg, c.badMessage) {
					t.Errorf("invalid POST: message under %s is %q, want %q", c.badField, msg, c.badMessage)
				}
				if !c.unchanged() || len(audits(c.action)) != 0 {
					t.Errorf("invalid POST saved something (audits %d)", len(audits(c.action)))
				}
				a = e.do(manager, "POST", c.path, c.valid, nil)
				if a.status != http.StatusSeeOther || !strings.HasPrefix(a.loc, c.path+"?") {
					t.Fatalf("valid POST: %d %q %s", a.status, a.loc, short(a.body))
				}
				if !c.saved() {
					t.Errorf("valid POST not saved")
				}
				log := audits(c.action)
				if len(log) != 1 || log[0].UserEmail != e.users[parrain.UserRoleManager].Email {
					t.Errorf("audit of %s: %+v", c.action, log)
				}
			})
		}
	})
}

// TestSettingsPreviews: previews show what advocates and friends get,
// from typed values, without saving: the landing page and share message
// (the disclosure always there), and an email rendered with sample data.
func TestSettingsPreviews(t *testing.T) {
	each(t, func(t *testing.T, e *consoleEnv) {
		e.withUsers(t)
		manager := e.sess[parrain.UserRoleManager]
		pid := e.prog.ID
		a := e.do(manager, "POST", "/admin/settings/experience", url.Values{"program": {pid}, "action": {"preview"}, "sender_name": {"Acme Shop"},
			"offer_text.en": {"a free month"}, "share_message.en": {"{name} here: get {offer} at {sender}"}}, nil)
		if a.status != http.StatusOK || !strings.Contains(a.body, "not saved") {
			t.Fatalf("preview: %d %s", a.status, short(a.body))
		}
		for _, want := range []string{"Alice gave you a free month", "Alice here: get a free month at Acme Shop https://example.com/r/ALICE7 (I may get a reward if you join.)",
			"Alice invites you to try Acme Shop", "Alice vous offre"} {
			if !strings.Contains(a.body, want) {
				t.Errorf("preview lacks %q", want)
			}
		}
		x, err := e.St.Experience(bg, pid)
		if err != nil {
			t.Fatal(err)
		}
		if x.SenderName != "" {
			t.Errorf("the preview saved: %+v", x)
		}
		a = e.do(manager, "POST", "/admin/settings/email-templates", url.Values{"program": {pid}, "action": {"preview"}, "kind": {"welcome"}, "locale": {"en"},
			"subject": {"Hello {{.FirstName}} from {{.Sender}}"}, "text": {"Link {{.Link}} {{.UnsubscribeURL}}"}}, nil)
		if a.status != http.StatusOK || !strings.Contains(a.body, "Hello Alice from "+e.prog.Name) || !strings.Contains(a.body, "Link https://refer.example/r/K7MPR2X") {
			t.Fatalf("email preview: %d %s", a.status, short(a.body))
		}
		if _, ok, err := e.St.EmailTemplate(bg, pid, parrain.NoticeWelcome, "en"); err != nil || ok {
			t.Errorf("the email preview saved: %v %v", ok, err)
		}
		// The built-in email, previewed on GET.
		a = e.do(manager, "GET", "/admin/settings/email-templates?program="+pid+"&kind=reward_paid&locale=fr", nil, nil)
		if a.status != http.StatusOK || !strings.Contains(a.body, "Reward paid (fr)") || !strings.Contains(a.body, "email-subject") {
			t.Fatalf("email template page: %d %s", a.status, short(a.body))
		}
		// The email log lists the program's emails.
		if a = e.do(manager, "GET", "/admin/settings/email-log?program="+pid+"&status=sent", nil, nil); a.status != http.StatusOK || !strings.Contains(a.body, `data-page="email_log"`) {
			t.Fatalf("email log: %d", a.status)
		}
	})
}

// short is the start of a page's main content, for failure messages.
func short(body string) string {
	if i := strings.Index(body, "<main"); i >= 0 {
		body = body[i:]
	}
	if len(body) > 1500 {
		body = body[:1500]
	}
	return body
}

// TestImportCouponCodes: codes pasted one a line go into the pool, those
// already there are reported; an unknown pool is said so under its field.
func TestImportCouponCodes(t *testing.T) {
	each(t, func(t *testing.T, e *consoleEnv) {
		e.withUsers(t)
		manager := e.sess[parrain.UserRoleManager]
		pid := e.prog.ID
		if a := e.do(manager, "POST", "/admin/settings/coupon-pools", url.Values{"program": {pid}, "name": {"gift"}}, nil); a.status != http.StatusSeeOther {
			t.Fatalf("create pool: %d %s", a.status, short(a.body))
		}
		a := e.do(manager, "POST", "/admin/settings/coupon-pools/codes", url.Values{"program": {pid}, "pool": {"gift"}, "codes": {"GIFT-1\nGIFT-2, GIFT-3"}}, nil)
		if a.status != http.StatusOK || !strings.Contains(a.body, "3 codes imported into gift") {
			t.Fatalf("import: %d %s", a.status, short(a.body))
		}
		a = e.do(manager, "POST", "/admin/settings/coupon-pools/codes", url.Values{"program": {pid}, "pool": {"gift"}, "codes": {"GIFT-3\nGIFT-4"}}, nil)
		if a.status != http.StatusOK || !strings.Contains(a.body, "1 codes imported into gift; already there, skipped: GIFT-3") {
			t.Fatalf("second import: %d %s", a.status, short(a.body))
		}
		ps, err := e.St.CouponPools(bg, pid)
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) != 1 || ps[0].Available != 4 {
			t.Fatalf("pools %+v", ps)
		}
		a = e.do(manager, "POST", "/admin/settings/coupon-pools/codes", url.Values{"program": {pid}, "pool": {"nope"}, "codes": {"X-1"}}, nil)
		if a.status != http.StatusNotFound || fieldError(a.body, "pool-err") != "no such pool" {
			t.Fatalf("unknown pool: %d %q", a.status, fieldError(a.body, "pool-err"))
		}
	})
}
