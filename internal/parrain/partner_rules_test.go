package parrain

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

var pt0 = time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)

func TestAccountDomain(t *testing.T) {
	for in, want := range map[string]string{
		"acme.com":                         "acme.com",
		"https://www.Acme.com/contact?x=1": "acme.com",
		"sales.eu.acme.com":                "acme.com",
		"ACME.COM.":                        "acme.com",
		"jane@Acme.com":                    "acme.com",
		"acme.com:8443":                    "acme.com",
		"shop.bbc.co.uk":                   "bbc.co.uk",
		"bbc.co.uk":                        "bbc.co.uk",
		"co.uk":                            "co.uk", // nothing to keep beyond the suffix
		"a.b.example.com.au":               "example.com.au",
		"localhost":                        "",
		"":                                 "",
		"acme..com":                        "",
		"acme_corp.com":                    "",
		"ümlaut.de":                        "",
	} {
		if got := AccountDomain(in); got != want {
			t.Errorf("AccountDomain(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCompanyKey(t *testing.T) {
	same := [][]string{
		{"ACME, Inc.", "Acme Inc", "acme", "The Acme Company", "Acme Holdings Ltd."},
		{"Société Générale SA", "societe generale"},
		{"Ben & Jerry's", "ben and jerry s"},
		{"Bœuf Æther Straße GmbH", "bouf ather strase"},
	}
	for _, group := range same {
		want := CompanyKey(group[0])
		if want == "" {
			t.Errorf("CompanyKey(%q) is empty", group[0])
		}
		for _, s := range group[1:] {
			if got := CompanyKey(s); got != want {
				t.Errorf("CompanyKey(%q) = %q, want %q (as %q)", s, got, want, group[0])
			}
		}
	}
	for _, s := range []string{"", "  ", "Inc.", "The Group Holdings Ltd"} {
		if got := CompanyKey(s); got != "" {
			t.Errorf("CompanyKey(%q) = %q, want empty (nothing distinctive)", s, got)
		}
	}
	if a, b := CompanyKey("Acme Labs"), CompanyKey("Acme"); a == b {
		t.Errorf("Acme Labs and Acme share the key %q", a)
	}
	if got := AccountKeys("https://www.acme.com", "ACME, Inc."); !slices.Equal(got, []string{"domain:acme.com", "company:acme"}) {
		t.Errorf("AccountKeys = %q", got)
	}
	if got := AccountKeys("not a domain", "Inc."); len(got) != 0 {
		t.Errorf("AccountKeys of nothing usable = %q", got)
	}
}

func TestLeadInputNormalize(t *testing.T) {
	ok := LeadInput{CompanyName: " Acme ", CompanyDomain: "https://www.acme.com/", ContactEmail: " Jane@Acme.com ", CompanySize: 10, Industry: " SaaS ", Notes: " hi ", Consent: true}
	mod := func(f func(*LeadInput)) LeadInput { in := ok; f(&in); return in }
	tests := []struct {
		name  string
		in    LeadInput
		field string
	}{
		{"no company", mod(func(in *LeadInput) { in.CompanyName = " " }), "company_name"},
		{"company too long", mod(func(in *LeadInput) { in.CompanyName = strings.Repeat("a", 201) }), "company_name"},
		{"only a legal form", mod(func(in *LeadInput) { in.CompanyName = "Inc." }), "company_name"},
		{"no domain", mod(func(in *LeadInput) { in.CompanyDomain = "" }), "company_domain"},
		{"not a domain", mod(func(in *LeadInput) { in.CompanyDomain = "acme" }), "company_domain"},
		{"contact name too long", mod(func(in *LeadInput) { in.ContactName = strings.Repeat("n", 201) }), "contact_name"},
		{"bad contact email", mod(func(in *LeadInput) { in.ContactEmail = "jane@" }), "contact_email"},
		{"negative size", mod(func(in *LeadInput) { in.CompanySize = -1 }), "company_size"},
		{"absurd size", mod(func(in *LeadInput) { in.CompanySize = 10_000_001 }), "company_size"},
		{"industry too long", mod(func(in *LeadInput) { in.Industry = strings.Repeat("i", 101) }), "industry"},
		{"notes too long", mod(func(in *LeadInput) { in.Notes = strings.Repeat("n", 5001) }), "notes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			wantInvalid(t, in.Normalize(), tt.field)
		})
	}
	in := ok
	if err := in.Normalize(); err != nil {
		t.Fatal(err)
	}
	if in.CompanyName != "Acme" || in.CompanyDomain != "acme.com" || in.Industry != "SaaS" || in.Notes != "hi" || in.ContactEmail != "Jane@acme.com" {
		t.Errorf("normalized %+v", in)
	}
	edge := mod(func(in *LeadInput) { in.CompanySize, in.CompanyName = 10_000_000, strings.Repeat("a", 200) })
	if err := edge.Normalize(); err != nil {
		t.Errorf("edge values refused: %v", err)
	}
}

func TestQualify(t *testing.T) {
	no := false
	base := LeadInput{CompanyName: "Acme", CompanyDomain: "acme.com", CompanySize: 50, Industry: "saas", Consent: true}
	tests := []struct {
		name  string
		q     Qualification
		mod   func(*LeadInput)
		field string
		msg   string
	}{
		{"consent required by default", Qualification{}, func(in *LeadInput) { in.Consent = false }, "consent", ""},
		{"consent may be waived", Qualification{RequireConsent: &no}, func(in *LeadInput) { in.Consent = false }, "", ""},
		{"exactly the minimum size", Qualification{MinCompanySize: 50}, nil, "", ""},
		{"one under the minimum size", Qualification{MinCompanySize: 51}, nil, "company_size", "the program accepts companies of at least 51 employees (this one has 50)"},
		{"industry matched without case", Qualification{Industries: []string{"SaaS", "Retail"}}, nil, "", ""},
		{"industry missing", Qualification{Industries: []string{"SaaS", "Retail"}}, func(in *LeadInput) { in.Industry = "" }, "industry", "is required: the program accepts SaaS, Retail"},
		{"industry not accepted", Qualification{Industries: []string{"SaaS"}}, func(in *LeadInput) { in.Industry = "mining" }, "industry", `"mining" is not an industry the program accepts (SaaS)`},
		{"consent is checked first", Qualification{MinCompanySize: 1000}, func(in *LeadInput) { in.Consent = false }, "consent", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := base
			if tt.mod != nil {
				tt.mod(&in)
			}
			err := Qualify(tt.q, in)
			if tt.field == "" {
				if err != nil {
					t.Fatalf("Qualify = %v, want nil", err)
				}
				return
			}
			wantInvalid(t, err, tt.field)
			if tt.msg != "" && AsError(err).Message != tt.msg {
				t.Errorf("message %q, want %q", AsError(err).Message, tt.msg)
			}
		})
	}
}

func settings(t *testing.T) PartnerSettings {
	t.Helper()
	s := PartnerSettings{Slug: "acme-partners"}
	if err := s.Normalize(); err != nil {
		t.Fatal(err)
	}
	return s
}

func TestDecideRegistration(t *testing.T) {
	s := settings(t)
	lead := LeadInput{CompanyName: "Acme", CompanyDomain: "acme.com", CompanySize: 10, Consent: true}
	engaged := pt0.AddDate(0, -6, 0) // exactly six months ago
	engagedLater := engaged.Add(time.Millisecond)
	claim := func(partner, key string, exp time.Time) Claim {
		return Claim{Key: key, LeadID: "l1", PartnerID: partner, PartnerName: "Other Co", CompanyName: "ACME Inc", ExpiresAt: exp}
	}
	tests := []struct {
		name        string
		claims      []Claim
		exs         []Exclusion
		mod         func(*LeadInput)
		outcome     string
		reason      string
		explanation string
	}{
		{name: "free account", outcome: OutcomeAccepted,
			explanation: "Accepted: Acme is reserved to you for 90 days, until 2026-08-30."},
		{name: "not qualified", mod: func(in *LeadInput) { in.Consent = false }, outcome: OutcomeRefused, reason: ReasonNotQualified,
			explanation: "Not qualified: consent the program requires your confirmation that the contact agreed to be contacted."},
		{name: "a customer, matched on the company name", exs: []Exclusion{{Kind: ExcludeCustomer, CompanyName: "ACME, Inc."}}, outcome: OutcomeRefused, reason: ReasonExcluded,
			explanation: `Acme is already a customer and cannot be registered by partners (matched on company name "acme").`},
		{name: "a named account, matched on the domain", exs: []Exclusion{{Kind: ExcludeNamedAccount, Domain: "acme.com"}}, outcome: OutcomeRefused, reason: ReasonExcluded,
			explanation: "Acme is a named account of the direct sales team and cannot be registered by partners (matched on domain acme.com)."},
		{name: "engaged by the direct team six months ago less a millisecond", exs: []Exclusion{{Kind: ExcludeDirectEngaged, Domain: "acme.com", EngagedAt: &engagedLater}},
			outcome: OutcomeRefused, reason: ReasonExcluded,
			explanation: "Acme was engaged by the direct sales team on 2025-12-01 (excluded until 2026-06-01) and cannot be registered by partners (matched on domain acme.com)."},
		{name: "engaged exactly six months ago: lapsed", exs: []Exclusion{{Kind: ExcludeDirectEngaged, Domain: "acme.com", EngagedAt: &engaged}}, outcome: OutcomeAccepted},
		{name: "an exclusion of another account", exs: []Exclusion{{Kind: ExcludeCustomer, Domain: "acme.org", CompanyName: "Acme Labs"}}, outcome: OutcomeAccepted},
		{name: "another partner's claim", claims: []Claim{claim("p2", "domain:acme.com", pt0.Add(time.Hour))}, outcome: OutcomeRefused, reason: ReasonOwnedByOther,
			explanation: "Acme is already registered by another partner until 2026-06-01 (matched on domain acme.com)."},
		{name: "my own claim", claims: []Claim{claim("p1", "company:acme", pt0.AddDate(0, 1, 0))}, outcome: OutcomeRefused, reason: ReasonAlreadyYours,
			explanation: "You already registered ACME Inc; it is yours until 2026-07-01."},
		{name: "a claim that ends now is over", claims: []Claim{claim("p2", "domain:acme.com", pt0)}, outcome: OutcomeAccepted},
		{name: "an exclusion wins over a claim", claims: []Claim{claim("p2", "domain:acme.com", pt0.Add(time.Hour))},
			exs: []Exclusion{{Kind: ExcludeCustomer, Domain: "acme.com"}}, outcome: OutcomeRefused, reason: ReasonExcluded},
		{name: "qualification is checked before exclusions", mod: func(in *LeadInput) { in.Consent = false },
			exs: []Exclusion{{Kind: ExcludeCustomer, Domain: "acme.com"}}, outcome: OutcomeRefused, reason: ReasonNotQualified},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := lead
			if tt.mod != nil {
				tt.mod(&in)
			}
			d := DecideRegistration(DecideInput{Now: pt0, Settings: s, PartnerID: "p1", Lead: in, Claims: tt.claims, Exclusions: tt.exs})
			if d.Outcome != tt.outcome || d.Reason != tt.reason {
				t.Fatalf("decision %s/%s (%s), want %s/%s", d.Outcome, d.Reason, d.Explanation, tt.outcome, tt.reason)
			}
			if tt.explanation != "" && d.Explanation != tt.explanation {
				t.Errorf("explanation\n got %q\nwant %q", d.Explanation, tt.explanation)
			}
			switch d.Reason {
			case ReasonOwnedByOther, ReasonAlreadyYours:
				if d.Holder == nil || d.Field != "company_domain" {
					t.Errorf("a refusal by a claim names no holder: %+v", d)
				}
			case ReasonExcluded:
				if d.Exclusion == nil || d.Field != "company_domain" {
					t.Errorf("an exclusion refusal names no exclusion: %+v", d)
				}
			case ReasonNotQualified:
				if d.Field == "" {
					t.Errorf("a qualification refusal names no field: %+v", d)
				}
			}
			if (d.ExpiresAt != nil) != (d.Outcome == OutcomeAccepted) {
				t.Errorf("ExpiresAt %v on outcome %s", d.ExpiresAt, d.Outcome)
			}
			if d.ExpiresAt != nil && !d.ExpiresAt.Equal(pt0.Add(90*24*time.Hour)) {
				t.Errorf("expires %v, want the 90-day window", d.ExpiresAt)
			}
		})
	}
}

func TestCheckAccount(t *testing.T) {
	s := settings(t)
	c := Claim{Key: "domain:acme.com", PartnerID: "p2", PartnerName: "Resell Co", CompanyName: "Acme", ExpiresAt: pt0.Add(24 * time.Hour)}
	if d := CheckAccount(pt0, s, "www.acme.com", "", nil, nil); d.Outcome != OutcomeClear || d.Explanation != "acme.com is not registered by any partner and not excluded." {
		t.Errorf("clear: %+v", d)
	}
	if d := CheckAccount(pt0, s, "acme.com", " Acme ", []Claim{c}, nil); d.Outcome != OutcomeRefused || d.Holder == nil ||
		d.Explanation != "Acme is registered by Resell Co until 2026-06-02 (matched on domain acme.com)." {
		t.Errorf("claimed: %+v", d)
	}
	d := CheckAccount(pt0, s, "acme.com", "Acme", []Claim{c}, []Exclusion{{Kind: ExcludeCustomer, Domain: "acme.com"}})
	if d.Reason != ReasonExcluded || d.Explanation != "Acme is already a customer and is not open to partners (matched on domain acme.com)." {
		t.Errorf("excluded: %+v", d)
	}
	if d := CheckAccount(pt0.Add(24*time.Hour), s, "acme.com", "Acme", []Claim{c}, nil); d.Outcome != OutcomeClear {
		t.Errorf("expired claim: %+v", d)
	}
}

func TestExclusionNormalize(t *testing.T) {
	past, future, soon := pt0.Add(-time.Hour), pt0.Add(2*time.Minute), pt0.Add(30*time.Second)
	tests := []struct {
		name  string
		e     Exclusion
		field string
	}{
		{"unknown kind", Exclusion{Kind: "vip", Domain: "a.com"}, "kind"},
		{"a customer with an engagement date", Exclusion{Kind: ExcludeCustomer, Domain: "a.com", EngagedAt: &past}, "engaged_at"},
		{"an engagement without a date", Exclusion{Kind: ExcludeDirectEngaged, Domain: "a.com"}, "engaged_at"},
		{"an engagement in the future", Exclusion{Kind: ExcludeDirectEngaged, Domain: "a.com", EngagedAt: &future}, "engaged_at"},
		{"a bad domain", Exclusion{Kind: ExcludeCustomer, Domain: "nope"}, "domain"},
		{"nothing to match", Exclusion{Kind: ExcludeCustomer, CompanyName: "Ltd"}, "domain"},
		{"company name too long", Exclusion{Kind: ExcludeCustomer, CompanyName: strings.Repeat("c", 201)}, "company_name"},
		{"reason too long", Exclusion{Kind: ExcludeCustomer, Domain: "a.com", Reason: strings.Repeat("r", 501)}, "reason"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := tt.e
			wantInvalid(t, e.Normalize(pt0), tt.field)
		})
	}
	// Clock skew of under a minute is tolerated; the date is truncated to
	// milliseconds in UTC.
	e := Exclusion{Kind: ExcludeDirectEngaged, Domain: "https://Sales.A.com", EngagedAt: &soon}
	if err := e.Normalize(pt0); err != nil {
		t.Fatal(err)
	}
	if e.Domain != "a.com" || e.EngagedAt.Location() != time.UTC {
		t.Errorf("normalized %+v", e)
	}
	if !e.ActiveAt(soon.AddDate(0, 6, 0).Add(-time.Millisecond), 6) || e.ActiveAt(soon.AddDate(0, 6, 0), 6) {
		t.Error("a direct engagement is not active for exactly six months")
	}
	cust := Exclusion{Kind: ExcludeCustomer, Domain: "a.com"}
	if !cust.ActiveAt(pt0.AddDate(50, 0, 0), 6) {
		t.Error("a customer exclusion lapsed")
	}
}

func TestPartnerSettingsNormalize(t *testing.T) {
	s := PartnerSettings{Slug: " ACME-Partners "}
	if err := s.Normalize(); err != nil {
		t.Fatal(err)
	}
	if s.Slug != "acme-partners" || s.WindowDays != 90 || s.DirectEngagedMonths != 6 || s.TermsVersion != "1" || len(s.Stages) != 7 {
		t.Errorf("defaults %+v", s)
	}
	if st, ok := s.Stage("closed_won"); !ok || st.Kind != StageWon {
		t.Errorf("Stage(closed_won) = %+v %v", st, ok)
	}
	if _, ok := s.Stage("nope"); ok {
		t.Error("Stage found an unknown stage")
	}
	if got := s.StageNames(); got != "registered, accepted, demo_booked, demo_completed, poc, closed_won, closed_lost" {
		t.Errorf("StageNames = %q", got)
	}
	if s.Window() != 90*24*time.Hour {
		t.Errorf("Window = %v", s.Window())
	}
	stages := func(ks ...StageKind) []DealStage {
		var out []DealStage
		for i, k := range ks {
			out = append(out, DealStage{Name: "s" + string(rune('a'+i)), Kind: k})
		}
		return out
	}
	tests := []struct {
		name  string
		mod   func(*PartnerSettings)
		field string
	}{
		{"one-letter slug", func(s *PartnerSettings) { s.Slug = "a" }, "slug"},
		{"slug with a slash", func(s *PartnerSettings) { s.Slug = "a/b" }, "slug"},
		{"slug starting with a hyphen", func(s *PartnerSettings) { s.Slug = "-ab" }, "slug"},
		{"window too short", func(s *PartnerSettings) { s.WindowDays = MinWindowDays - 1 }, "window_days"},
		{"window too long", func(s *PartnerSettings) { s.WindowDays = MaxWindowDays + 1 }, "window_days"},
		{"negative minimum size", func(s *PartnerSettings) { s.Qualification.MinCompanySize = -1 }, "qualification.min_company_size"},
		{"blank industry", func(s *PartnerSettings) { s.Qualification.Industries = []string{"saas", " "} }, "qualification.industries[1]"},
		{"stage not an identifier", func(s *PartnerSettings) { s.Stages = []DealStage{{Name: "Demo Booked"}} }, "stages[0].name"},
		{"duplicate stage", func(s *PartnerSettings) {
			s.Stages = []DealStage{{Name: "a"}, {Name: "a"}, {Name: "w", Kind: StageWon}, {Name: "l", Kind: StageLost}}
		}, "stages[1].name"},
		{"unknown stage kind", func(s *PartnerSettings) { s.Stages = []DealStage{{Name: "a", Kind: "maybe"}} }, "stages[0].kind"},
		{"starting won", func(s *PartnerSettings) { s.Stages = stages(StageWon, StageOpen, StageLost) }, "stages[0].kind"},
		{"two won stages", func(s *PartnerSettings) { s.Stages = stages(StageOpen, StageWon, StageWon, StageLost) }, "stages"},
		{"no lost stage", func(s *PartnerSettings) { s.Stages = stages(StageOpen, StageWon) }, "stages"},
		{"too many stages", func(s *PartnerSettings) { s.Stages = make([]DealStage, 31) }, "stages"},
		{"engagement too long", func(s *PartnerSettings) { s.DirectEngagedMonths = 37 }, "direct_engaged_months"},
		{"terms version too long", func(s *PartnerSettings) { s.TermsVersion = strings.Repeat("v", 41) }, "terms_version"},
		{"relative logo URL", func(s *PartnerSettings) { s.Branding.LogoURL = "/logo.png" }, "branding.logo_url"},
		{"javascript logo URL", func(s *PartnerSettings) { s.Branding.LogoURL = "javascript:alert(1)" }, "branding.logo_url"},
		{"colour name", func(s *PartnerSettings) { s.Branding.PrimaryColor = "red" }, "branding.primary_color"},
		{"short colour", func(s *PartnerSettings) { s.Branding.AccentColor = "#abc" }, "branding.accent_color"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := PartnerSettings{Slug: "acme-partners"}
			tt.mod(&s)
			wantInvalid(t, s.Normalize(), tt.field)
		})
	}
	// Stage labels default from their names.
	s = PartnerSettings{Slug: "ab", Stages: stages(StageOpen, StageWon, StageLost), Branding: Branding{LogoURL: "https://x.example/l.png", PrimaryColor: "#A1b2C3"}}
	if err := s.Normalize(); err != nil {
		t.Fatal(err)
	}
	if s.Stages[0].Label != "sa" || s.Stages[0].Kind != StageOpen {
		t.Errorf("stage %+v", s.Stages[0])
	}
}

func TestNormalizeTiers(t *testing.T) {
	tests := []struct {
		name  string
		tiers []Tier
		field string
	}{
		{"none", nil, "tiers"},
		{"eleven", make([]Tier, 11), "tiers"},
		{"bad key", []Tier{{Key: "Gold Tier", Name: "Gold"}}, "tiers[0].key"},
		{"reserved suffix", []Tier{{Key: "gold_influenced", Name: "Gold"}}, "tiers[0].key"},
		{"duplicate key", []Tier{{Key: "a", Name: "A"}, {Key: "a", Name: "B", Rank: 1}}, "tiers[1].key"},
		{"duplicate rank", []Tier{{Key: "a", Name: "A"}, {Key: "b", Name: "B"}}, "tiers[1].rank"},
		{"no name", []Tier{{Key: "a", Name: " "}}, "tiers[0].name"},
		{"negative criteria", []Tier{{Key: "a", Name: "A"}, {Key: "b", Name: "B", Rank: 1, Criteria: TierCriteria{MinWonDeals: -1}}}, "tiers[1].criteria"},
		{"a period over five years", []Tier{{Key: "a", Name: "A"}, {Key: "b", Name: "B", Rank: 1, Criteria: TierCriteria{PeriodMonths: 61}}}, "tiers[1].criteria"},
		{"an entry tier with criteria (after sorting)", []Tier{{Key: "b", Name: "B", Rank: 5}, {Key: "a", Name: "A", Rank: 2, Criteria: TierCriteria{TrainingRequired: true}}}, "tiers[0].criteria"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantInvalid(t, NormalizeTiers(tt.tiers), tt.field)
		})
	}
	ts := []Tier{{Key: "gold", Name: " Gold ", Rank: 10, Criteria: TierCriteria{MinWonDeals: 3}}, {Key: "entry", Name: "Entry", Rank: -1}}
	if err := NormalizeTiers(ts); err != nil {
		t.Fatal(err)
	}
	if ts[0].Key != "entry" || ts[1].Name != "Gold" {
		t.Errorf("tiers not sorted by rank and trimmed: %+v", ts)
	}
}

func TestEvaluateTier(t *testing.T) {
	tiers := []Tier{
		{Key: "referral", Name: "Referral Partner", Rank: 0},
		{Key: "advisor", Name: "Solution Advisor", Rank: 1, Criteria: TierCriteria{MinWonDeals: 1, TrainingRequired: true}},
		{Key: "reseller", Name: "Certified Reseller", Rank: 2, Criteria: TierCriteria{MinWonDeals: 3, MinRevenue: 5_000_000, PeriodMonths: 12}},
	}
	won := func(ago time.Duration, v int64) WonDeal { return WonDeal{ClosedAt: pt0.Add(-ago), Value: v} }
	day := 24 * time.Hour
	tests := []struct {
		name    string
		current string
		r       PartnerRecord
		to      string
		dir     string
		reason  string
	}{
		{"stays in the entry tier", "referral", PartnerRecord{}, "referral", "", ""},
		{"a won deal without training", "referral", PartnerRecord{Won: []WonDeal{won(day, 100)}}, "referral", "", ""},
		{"promoted with training", "referral", PartnerRecord{TrainingDone: true, Won: []WonDeal{won(day, 12345)}}, "advisor", "promotion",
			"meets the Solution Advisor criteria: 1 won deal(s), 123.45 EUR won revenue, training completed"},
		{"the reseller tier needs no training", "referral", PartnerRecord{Won: []WonDeal{won(day, 2_000_000), won(2*day, 2_000_000), won(3*day, 1_000_000)}},
			"reseller", "promotion", "meets the Certified Reseller criteria: 3 won deal(s), 50000.00 EUR won revenue"},
		{"one cent short of the revenue", "advisor", PartnerRecord{TrainingDone: true, Won: []WonDeal{won(day, 2_000_000), won(2*day, 2_000_000), won(3*day, 999_999)}},
			"advisor", "", ""},
		{"old deals fall out of the period: demoted", "reseller", PartnerRecord{TrainingDone: true, Won: []WonDeal{won(day, 2_000_000), won(400*day, 2_000_000), won(500*day, 1_000_000)}},
			"advisor", "demotion", "no longer meets the Certified Reseller criteria: needs 2 more won deal(s) (1 of 3 in the last 12 months), 30000.00 EUR more won revenue (20000.00 EUR of 50000.00 EUR in the last 12 months)"},
		{"a deleted tier", "platinum", PartnerRecord{}, "referral", "demotion", `tier "platinum" no longer exists: placed in Referral Partner`},
		{"a deleted tier, placed higher", "platinum", PartnerRecord{TrainingDone: true, Won: []WonDeal{won(day, 1)}}, "advisor", "demotion",
			`tier "platinum" no longer exists: placed in Solution Advisor`},
		{"no tier yet", "", PartnerRecord{}, "referral", "promotion", "meets the Referral Partner criteria: 0 won deal(s), 0.00 EUR won revenue"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ch := EvaluateTier(pt0, tiers, tt.current, tt.r, "EUR")
			if ch.From != tt.current || ch.To != tt.to || ch.Direction != tt.dir || ch.Reason != tt.reason {
				t.Errorf("change %+v\nwant to=%s dir=%q reason=%q", ch, tt.to, tt.dir, tt.reason)
			}
		})
	}
	// Missing on the entry tier is always empty; in JPY amounts have no decimals.
	if m := Missing(pt0, tiers[0], PartnerRecord{}, "EUR"); len(m) != 0 {
		t.Errorf("missing for the entry tier %q", m)
	}
	jp := Tier{Key: "x", Name: "X", Rank: 1, Criteria: TierCriteria{MinRevenue: 1000}}
	if m := Missing(pt0, jp, PartnerRecord{Won: []WonDeal{won(day, 400)}}, "JPY"); !slices.Equal(m, []string{"600 JPY more won revenue (400 JPY of 1000 JPY in total)"}) {
		t.Errorf("missing in JPY %q", m)
	}
}

func TestComputeKPIs(t *testing.T) {
	from, to := QuarterBounds(pt0) // 2026-04-01 .. 2026-07-01
	if !from.Equal(time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)) || !to.Equal(time.Date(2026, 7, 1, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("quarter %v..%v", from, to)
	}
	at := func(d time.Time) *time.Time { return &d }
	approvedBefore, approvedAfter := from.Add(-time.Hour), to
	partners := []KPIPartner{{ID: "a", ApprovedAt: &approvedBefore}, {ID: "b", ApprovedAt: &approvedBefore}, {ID: "c", ApprovedAt: &approvedAfter}, {ID: "d"}}
	deals := []KPIDeal{
		// a: registered and won in the period, sourced, 10 days.
		{PartnerID: "a", Credit: CreditSourced, RegisteredAt: from, ClosedAt: at(from.Add(10 * 24 * time.Hour)), Won: true, Value: 1000},
		// a: influenced, registered before the period, won inside after 20 days.
		{PartnerID: "a", Credit: CreditInfluenced, RegisteredAt: from.Add(-5 * 24 * time.Hour), ClosedAt: at(from.Add(15 * 24 * time.Hour)), Won: true, Value: 2001},
		// b: lost in the period.
		{PartnerID: "b", RegisteredAt: from.Add(24 * time.Hour), ClosedAt: at(from.Add(48 * time.Hour)), Won: false, Value: 9999},
		// c: registered in the period but approved after it: a lead, not an active signed partner.
		{PartnerID: "c", RegisteredAt: from.Add(time.Hour)},
		// a: won exactly at the end: outside.
		{PartnerID: "a", RegisteredAt: from.Add(-time.Hour), ClosedAt: at(to), Won: true, Value: 50},
		// registered exactly at the end: outside.
		{PartnerID: "b", RegisteredAt: to},
	}
	k := ComputeKPIs(from, to, "EUR", partners, deals)
	want := KPIs{From: from, To: to, Currency: "EUR", SignedPartners: 2, ActivePartners: 2, ActivationRateBps: 10000, Leads: 3, Won: 2, Lost: 1,
		ConversionBps: 6667, SourcedRevenue: 1000, InfluencedRevenue: 2001, AverageDealSize: 1501, AverageDaysToClose: 15,
		ActivationRate: "100%", LeadToCustomerRate: "66.67%"}
	got := k
	got.ActivePartnerIDs = nil
	if !reflect.DeepEqual(got, want) {
		t.Errorf("KPIs\n got %+v\nwant %+v", got, want)
	}
	if !slices.Equal(k.ActivePartnerIDs, []string{"a", "b"}) {
		t.Errorf("active partners %v", k.ActivePartnerIDs)
	}
	empty := ComputeKPIs(from, to, "EUR", nil, nil)
	if empty.ActivationRateBps != 0 || empty.ConversionBps != 0 || empty.AverageDealSize != 0 || empty.ActivationRate != "0%" {
		t.Errorf("no data: %+v", empty)
	}
	for _, tt := range []struct{ num, den, want int64 }{{1, 3, 3333}, {2, 3, 6667}, {1, 8, 1250}, {1, 20000, 1}, {1, 20001, 0}, {5, 0, 0}} {
		if got := ratioBps(tt.num, tt.den); got != tt.want {
			t.Errorf("ratioBps(%d, %d) = %d, want %d", tt.num, tt.den, got, tt.want)
		}
	}
}

func TestApplicationAndCommissionTier(t *testing.T) {
	a := PartnerApplication{Email: " Jane@Agency.EXAMPLE ", Name: " Jane ", Company: " Agency ", Website: " https://agency.example "}
	if err := a.Normalize(); err != nil {
		t.Fatal(err)
	}
	if a.Email != "jane@agency.example" || a.Name != "Jane" || a.Company != "Agency" || a.Website != "https://agency.example" {
		t.Errorf("normalized %+v", a)
	}
	for _, tt := range []struct {
		a     PartnerApplication
		field string
	}{
		{PartnerApplication{Name: "J"}, "email"},
		{PartnerApplication{Email: "not-an-email", Name: "J"}, "email"},
		{PartnerApplication{Email: "j@a.example"}, "name"},
		{PartnerApplication{Email: "j@a.example", Name: strings.Repeat("n", 201)}, "name"},
		{PartnerApplication{Email: "j@a.example", Name: "J", Company: strings.Repeat("c", 201)}, "company"},
		{PartnerApplication{Email: "j@a.example", Name: "J", Website: strings.Repeat("w", 301)}, "website"},
		{PartnerApplication{Email: "j@a.example", Name: "J", Message: strings.Repeat("m", 5001)}, "message"},
	} {
		a := tt.a
		wantInvalid(t, a.Normalize(), tt.field)
	}
	for _, tt := range []struct {
		tier   string
		credit Credit
		want   string
	}{{"advisor", CreditSourced, "advisor"}, {"advisor", CreditInfluenced, "advisor_influenced"}, {"", CreditInfluenced, ""}, {"advisor", "", "advisor"}} {
		if got := CommissionTier(tt.tier, tt.credit); got != tt.want {
			t.Errorf("CommissionTier(%q, %q) = %q, want %q", tt.tier, tt.credit, got, tt.want)
		}
	}
}
