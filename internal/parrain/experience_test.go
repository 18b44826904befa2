package parrain

import "testing"

func TestExperienceNormalize(t *testing.T) {
	var x Experience
	if err := x.Normalize(); err != nil {
		t.Fatal(err)
	}
	if x.ConsentVersion != DefaultConsentVersion || x.InvitesPerDay != 20 || x.ProgramInvitesPerDay != 2000 ||
		x.ReminderAfterDays != 7 || x.DefaultLocale != "en" || len(x.Emails) != len(NoticeKinds) {
		t.Errorf("defaults: %+v", x)
	}
	for _, k := range NoticeKinds {
		if !x.EmailEnabled(k) {
			t.Errorf("%s disabled by default", k)
		}
	}
	y := Experience{Emails: map[NoticeKind]bool{NoticeReminder: false}, AllowedOrigins: []string{"HTTPS://App.Example.com:8443/"},
		ConsentText: map[string]string{"fr_fr": "Oui", "en": "  "}, ConsentVersion: "2026-03", OfferText: map[string]string{"en": "10% off"}}
	if err := y.Normalize(); err != nil {
		t.Fatal(err)
	}
	if y.EmailEnabled(NoticeReminder) || !y.EmailEnabled(NoticeWelcome) {
		t.Error("emails map not honoured")
	}
	if y.AllowedOrigins[0] != "https://app.example.com:8443" {
		t.Errorf("origin = %q", y.AllowedOrigins[0])
	}
	if len(y.ConsentText) != 1 || y.ConsentText["fr-FR"] != "Oui" {
		t.Errorf("consent text = %v", y.ConsentText)
	}
	if LocalizedText(y.ConsentText, "fr-FR") != "Oui" || LocalizedText(y.OfferText, "en-GB") != "10% off" || LocalizedText(y.OfferText, "de") != "" {
		t.Error("LocalizedText")
	}
	bad := []struct {
		x     Experience
		field string
	}{
		{Experience{ConsentText: map[string]string{"en": "Yes"}}, "consent_version"},
		{Experience{TermsURL: "javascript:alert(1)"}, "terms_url"},
		{Experience{AllowedOrigins: []string{"https://a.example/path"}}, "allowed_origins[0]"},
		{Experience{AllowedOrigins: []string{"*"}}, "allowed_origins[0]"},
		{Experience{InvitesPerDay: 1000}, "invites_per_day"},
		{Experience{ReminderAfterDays: -3}, "reminder_after_days"},
		{Experience{Emails: map[NoticeKind]bool{"spam": true}}, "emails.spam"},
		{Experience{OfferText: map[string]string{"not a locale": "x"}}, "offer_text.not a locale"},
		{Experience{DefaultLocale: "x"}, "default_locale"},
	}
	for _, tc := range bad {
		wantInvalid(t, tc.x.Normalize(), tc.field)
	}
}

func TestOffers(t *testing.T) {
	p := &Program{Rules: []RewardRule{
		{Trigger: TriggerPurchase, Advocate: &RewardSpec{Kind: KindCash, Type: AmountPercent, PercentBps: 500}},
		{Trigger: TriggerFirstPurchase, Friend: &RewardSpec{Kind: KindCoupon, Type: AmountFixed, Amount: 1000},
			Advocate: &RewardSpec{Kind: KindCash, Type: AmountFixed, Amount: 2000}},
	}}
	f, tr, ok := FriendOffer(p)
	if !ok || f.Amount != 1000 || tr != TriggerFirstPurchase {
		t.Errorf("friend offer %+v %s %v", f, tr, ok)
	}
	a, tr, ok := AdvocateOffer(p)
	if !ok || a.Amount != 2000 || tr != TriggerFirstPurchase {
		t.Errorf("advocate offer %+v %s %v", a, tr, ok)
	}
	if _, _, ok := FriendOffer(&Program{}); ok {
		t.Error("no rules, no offer")
	}
}
