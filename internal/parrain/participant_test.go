package parrain

import (
	"strings"
	"testing"
)

func TestValidateExternalID(t *testing.T) {
	ok := []string{"u_1", "42", "user@example.com", "ünïcode-✓", strings.Repeat("x", 200)}
	for _, id := range ok {
		if err := ValidateExternalID("external_id", id); err != nil {
			t.Errorf("ValidateExternalID(%q) = %v", id, err)
		}
	}
	bad := []string{"", "   ", strings.Repeat("x", 201), "a\nb", "a\tb", "a\x00b", "a\x7fb"}
	for _, id := range bad {
		wantInvalid(t, ValidateExternalID("advocate_external_id", id), "advocate_external_id")
	}
}

func TestNormalizeEmailField(t *testing.T) {
	ok := []struct{ in, want string }{
		{"", ""},
		{"   ", ""},
		{"marie@example.com", "marie@example.com"},
		{"  Marie.Curie@EXAMPLE.Com ", "Marie.Curie@example.com"}, // local part case kept
		{"a+tag@Gmail.com", "a+tag@gmail.com"},
		{"x@localhost", "x@localhost"},
	}
	for _, tc := range ok {
		got, err := NormalizeEmailField("email", tc.in)
		if err != nil || got != tc.want {
			t.Errorf("NormalizeEmailField(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	bad := []string{
		"marie",
		"marie@",
		"@example.com",
		"Marie <marie@example.com>",
		"marie@example.com, bob@example.com",
		"ma rie@example.com",
		strings.Repeat("a", 250) + "@x.io",
	}
	for _, in := range bad {
		got, err := NormalizeEmailField("friend.email", in)
		if got != "" {
			t.Errorf("NormalizeEmailField(%q) = %q on error", in, got)
		}
		wantInvalid(t, err, "friend.email")
	}
}

func TestCanonicalEmail(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Marie@Example.com", "marie@example.com"},
		{"marie+news@example.com", "marie@example.com"},
		{"ma.rie@example.com", "ma.rie@example.com"}, // dots matter outside Gmail
		{"Ma.Rie+x@gmail.com", "marie@gmail.com"},
		{"m.a.r.i.e@googlemail.com", "marie@gmail.com"},
		{"marie+a+b@GoogleMail.com", "marie@gmail.com"},
		{" marie@gmail.com ", "marie@gmail.com"},
		{"+tag@example.com", "+tag@example.com"}, // no local part left: keep as is
		{"no-at-sign", "no-at-sign"},
		{"@example.com", "@example.com"},
	}
	for _, tc := range tests {
		if got := CanonicalEmail(tc.in); got != tc.want {
			t.Errorf("CanonicalEmail(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestNormalizeLocale(t *testing.T) {
	ok := []struct{ in, want string }{
		{"", ""},
		{"en", "en"},
		{"EN", "en"},
		{"fr-fr", "fr-FR"},
		{"fr_FR", "fr-FR"},
		{" pt-br ", "pt-BR"},
		{"zh-Hant-TW", "zh-Hant-TW"},
		{"es-419", "es-419"},
		{"gsw", "gsw"},
	}
	for _, tc := range ok {
		got, err := NormalizeLocale("locale", tc.in)
		if err != nil || got != tc.want {
			t.Errorf("NormalizeLocale(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	bad := []string{"e", "engl", "en-", "-en", "en--US", "en-US-x-y", "en US", "fr-éé", "en-abcdefghi", "en.US"}
	for _, in := range bad {
		got, err := NormalizeLocale("locale", in)
		if got != "" {
			t.Errorf("NormalizeLocale(%q) = %q on error", in, got)
		}
		wantInvalid(t, err, "locale")
	}
}

func TestParticipantInputNormalize(t *testing.T) {
	in := ParticipantInput{
		ExternalID: "user_42",
		Email:      " Marie@Example.COM ",
		Name:       "  Marie Curie ",
		Locale:     "fr_fr",
		Code:       " marie-2025 ",
		Status:     ParticipantDisabled,
	}
	if err := in.Normalize(); err != nil {
		t.Fatalf("Normalize: %v", err)
	}
	want := ParticipantInput{ExternalID: "user_42", Email: "Marie@example.com", Name: "Marie Curie",
		Locale: "fr-FR", Code: "MARIE-2025", Status: ParticipantDisabled}
	if in != want {
		t.Errorf("got %+v, want %+v", in, want)
	}

	empty := ParticipantInput{ExternalID: "u"}
	if err := empty.Normalize(); err != nil || empty != (ParticipantInput{ExternalID: "u"}) {
		t.Errorf("minimal input: %+v, %v", empty, err)
	}

	tests := []struct {
		name  string
		mod   func(*ParticipantInput)
		field string
	}{
		{"external id missing", func(p *ParticipantInput) { p.ExternalID = "" }, "external_id"},
		{"external id control", func(p *ParticipantInput) { p.ExternalID = "a\nb" }, "external_id"},
		{"bad email", func(p *ParticipantInput) { p.Email = "nope" }, "email"},
		{"name too long", func(p *ParticipantInput) { p.Name = strings.Repeat("n", 201) }, "name"},
		{"bad locale", func(p *ParticipantInput) { p.Locale = "english" }, "locale"},
		{"bad code", func(p *ParticipantInput) { p.Code = "-x-" }, "code"},
		{"short code", func(p *ParticipantInput) { p.Code = "ab" }, "code"},
		{"bad status", func(p *ParticipantInput) { p.Status = "banned" }, "status"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := ParticipantInput{ExternalID: "u1", Email: "a@b.co", Name: "A", Locale: "en", Code: "abc", Status: ParticipantActive}
			tc.mod(&p)
			wantInvalid(t, p.Normalize(), tc.field)
		})
	}
}

func TestNormalizePerson(t *testing.T) {
	cases := []struct {
		name                string
		email, nm, locale   string
		wantEmail, wantName string
		wantLocale          string
		wantField           string
	}{
		{"all empty", "", "", "", "", "", "", ""},
		{"trimmed", "  Bob@Example.ORG ", "  Bob Dupont ", "fr-fr", "Bob@example.org", "Bob Dupont", "fr-FR", ""},
		{"bad email", "bob@", "", "", "", "", "", "email"},
		{"long name", "", strings.Repeat("n", 201), "", "", "", "", "name"},
		{"bad locale", "", "", "not a locale", "", "", "", "locale"},
	}
	for _, c := range cases {
		email, name, locale := c.email, c.nm, c.locale
		err := NormalizePerson(&email, &name, &locale)
		if c.wantField != "" {
			wantInvalid(t, err, c.wantField)
			continue
		}
		if err != nil || email != c.wantEmail || name != c.wantName || locale != c.wantLocale {
			t.Errorf("%s: got %q %q %q, %v", c.name, email, name, locale, err)
		}
	}
}
