package partner_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/partner"
	"github.com/parrainhq/parrain/internal/store"
)

// wantInvalid fails unless err is a validation error on field.
func wantInvalid(t *testing.T, err error, field string) {
	t.Helper()
	e := parrain.AsError(err)
	if e == nil || e.Code != parrain.CodeInvalid || e.Field != field {
		t.Fatalf("error %v, want invalid %q", err, field)
	}
}

// wantCode fails unless err carries code (and field, when given).
func wantCode(t *testing.T, err error, code parrain.Code, field string) {
	t.Helper()
	e := parrain.AsError(err)
	if e == nil || e.Code != code || (field != "" && e.Field != field) {
		t.Fatalf("error %v, want %s on %q", err, code, field)
	}
}

func TestSurveyValidation(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		pe := partnerProgram(e)
		long := strings.Repeat("q", 501)
		tests := []struct {
			name  string
			sv    store.Survey
			field string
		}{
			{"no title", store.Survey{Title: "  ", Questions: []string{"q"}}, "title"},
			{"title too long", store.Survey{Title: strings.Repeat("t", 201), Questions: []string{"q"}}, "title"},
			{"no question", store.Survey{Title: "T"}, "questions"},
			{"eleven questions", store.Survey{Title: "T", Questions: strings.Split("a,b,c,d,e,f,g,h,i,j,k", ",")}, "questions"},
			{"a blank question", store.Survey{Title: "T", Questions: []string{"ok?", " "}}, "questions[1]"},
			{"a question too long", store.Survey{Title: "T", Questions: []string{long}}, "questions[0]"},
			{"period too short", store.Survey{Title: "T", Questions: []string{"q"}, PeriodDays: 6}, "period_days"},
			{"period too long", store.Survey{Title: "T", Questions: []string{"q"}, PeriodDays: 366}, "period_days"},
		}
		for _, tt := range tests {
			_, _, err := e.ps.CreateSurvey(ctx, pe.prog.ID, tt.sv, store.Idem{})
			if e := parrain.AsError(err); e == nil || e.Code != parrain.CodeInvalid || e.Field != tt.field {
				t.Errorf("%s: error %v, want invalid %q", tt.name, err, tt.field)
			}
		}
		svs, err := e.st.Surveys(ctx, pe.prog.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(svs) != 0 {
			t.Fatalf("%d surveys stored by refused requests", len(svs))
		}
		// Edges that are accepted: 10 questions, 7 and 365 days, a default
		// of 90, trimmed text.
		for _, days := range []int{7, 365, 0} {
			sv, _, err := e.ps.CreateSurvey(ctx, pe.prog.ID, store.Survey{Title: "  Pulse ", Questions: strings.Split(" a ,b,c,d,e,f,g,h,i,j", ","), PeriodDays: days}, store.Idem{})
			if err != nil {
				t.Fatalf("%d days: %v", days, err)
			}
			want := days
			if days == 0 {
				want = 90
			}
			if sv.PeriodDays != want || sv.Title != "Pulse" || sv.Questions[0] != "a" || !sv.Active || sv.ProgramID != pe.prog.ID {
				t.Errorf("%d days: survey %+v", days, sv)
			}
		}
		// A program without a partner program has no surveys.
		other := e.program(nil)
		_, _, err = e.ps.CreateSurvey(ctx, other.ID, store.Survey{Title: "T", Questions: []string{"q"}}, store.Idem{})
		if parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("survey of a program without partners: %v", err)
		}
	})
}

func TestSurveyPeriods(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		pe := partnerProgram(e, "Alpha", "Beta")
		alpha, beta := pe.partners["Alpha"], pe.partners["Beta"]
		sv, _, err := e.ps.CreateSurvey(ctx, pe.prog.ID, store.Survey{Title: "Monthly", Questions: []string{"What helps?", "What blocks?"}, PeriodDays: 30}, store.Idem{})
		if err != nil {
			t.Fatal(err)
		}
		// Answers must match the questions one for one.
		wantInvalid(t, e.ps.AnswerSurvey(ctx, alpha, sv.ID, []string{"only one"}), "answers")
		wantInvalid(t, e.ps.AnswerSurvey(ctx, alpha, sv.ID, []string{"a", "b", "c"}), "answers")
		wantInvalid(t, e.ps.AnswerSurvey(ctx, alpha, sv.ID, []string{strings.Repeat("x", 5001), ""}), "answers[0]")
		wantCode(t, e.ps.AnswerSurvey(ctx, alpha, "no-such-survey", []string{"a", "b"}), parrain.CodeNotFound, "")
		if err := e.ps.AnswerSurvey(ctx, alpha, sv.ID, []string{"  demos  ", ""}); err != nil {
			t.Fatal(err)
		}
		// Beta has not answered: still pending for Beta only.
		if ps, err := e.ps.PendingSurvey(ctx, beta); err != nil || ps == nil || ps.ID != sv.ID {
			t.Fatalf("Beta pending %+v %v", ps, err)
		}
		// One second before the period ends Alpha is not asked again; at
		// the period's end exactly, the next period starts.
		e.clock.Advance(30*24*time.Hour - time.Second)
		if ps, err := e.ps.PendingSurvey(ctx, alpha); err != nil || ps != nil {
			t.Fatalf("Alpha asked again inside the period: %+v %v", ps, err)
		}
		wantCode(t, e.ps.AnswerSurvey(ctx, alpha, sv.ID, []string{"again", ""}), parrain.CodeConflict, "survey")
		e.clock.Advance(time.Second)
		if ps, err := e.ps.PendingSurvey(ctx, alpha); err != nil || ps == nil {
			t.Fatalf("Alpha not asked in the next period: %+v %v", ps, err)
		}
		if err := e.ps.AnswerSurvey(ctx, alpha, sv.ID, []string{"more demos", "pricing"}); err != nil {
			t.Fatal(err)
		}
		ans, err := e.st.SurveyAnswers(ctx, pe.prog.ID, sv.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(ans) != 2 {
			t.Fatalf("%d answers, want one per period", len(ans))
		}
		got := map[string]bool{}
		for _, a := range ans {
			got[strings.Join(a.Answers, "|")] = true
		}
		if !got["demos|"] || !got["more demos|pricing"] {
			t.Errorf("answers %v (trimmed, empty answers kept)", got)
		}
	})
}

func TestAssetValidationAndTiers(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		pe := partnerProgram(e, "Alpha")
		ok := store.Asset{Title: "One-pager", Kind: "one_pager", Filename: "one.pdf", Content: []byte("%PDF")}
		mod := func(f func(a *store.Asset)) store.Asset { a := ok; f(&a); return a }
		tests := []struct {
			name  string
			a     store.Asset
			field string
		}{
			{"no title", mod(func(a *store.Asset) { a.Title = " " }), "title"},
			{"title too long", mod(func(a *store.Asset) { a.Title = strings.Repeat("t", 201) }), "title"},
			{"unknown kind", mod(func(a *store.Asset) { a.Kind = "video" }), "kind"},
			{"no file name", mod(func(a *store.Asset) { a.Filename = "" }), "filename"},
			{"a path as file name", mod(func(a *store.Asset) { a.Filename = "../etc/passwd" }), "filename"},
			{"a backslash in the file name", mod(func(a *store.Asset) { a.Filename = `a\b.pdf` }), "filename"},
			{"a quote in the file name", mod(func(a *store.Asset) { a.Filename = `a".pdf` }), "filename"},
			{"a header break in the file name", mod(func(a *store.Asset) { a.Filename = "a\r\nX-Evil: 1" }), "filename"},
			{"no content", mod(func(a *store.Asset) { a.Content = nil }), "content"},
			{"content one byte too large", mod(func(a *store.Asset) { a.Content = make([]byte, partner.MaxAssetSize+1) }), "content"},
			{"description too long", mod(func(a *store.Asset) { a.Description = strings.Repeat("d", 2001) }), "description"},
			{"unknown tier", mod(func(a *store.Asset) { a.MinTier = "platinum" }), "min_tier"},
		}
		for _, tt := range tests {
			_, _, err := e.ps.CreateAsset(ctx, pe.prog.ID, tt.a, store.Idem{})
			if e := parrain.AsError(err); e == nil || e.Code != parrain.CodeInvalid || e.Field != tt.field {
				t.Errorf("%s: error %v, want invalid %q", tt.name, err, tt.field)
			}
		}
		all, err := e.st.Assets(ctx, pe.prog.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 0 {
			t.Fatalf("%d assets stored by refused requests", len(all))
		}

		// Exactly MaxAssetSize is accepted; the content type defaults.
		big, _, err := e.ps.CreateAsset(ctx, pe.prog.ID, mod(func(a *store.Asset) { a.Content = make([]byte, partner.MaxAssetSize) }), store.Idem{})
		if err != nil {
			t.Fatal(err)
		}
		if big.Size != partner.MaxAssetSize || big.ContentType != "application/octet-stream" || big.Content != nil {
			t.Errorf("asset %+v (size, default type, content not echoed)", big)
		}
		byTier := map[string]store.Asset{"": big}
		for _, tier := range []string{"referral", "advisor", "reseller"} {
			a, _, err := e.ps.CreateAsset(ctx, pe.prog.ID, mod(func(a *store.Asset) { a.Title, a.MinTier, a.ContentType = tier, tier, "text/plain" }), store.Idem{})
			if err != nil {
				t.Fatalf("%s asset: %v", tier, err)
			}
			byTier[tier] = a
		}
		pp, err := e.st.PartnerProgram(ctx, pe.prog.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, tt := range []struct {
			tier string
			may  []string
		}{
			{"referral", []string{"", "referral"}},
			{"advisor", []string{"", "referral", "advisor"}},
			{"reseller", []string{"", "referral", "advisor", "reseller"}},
		} {
			p := pe.partners["Alpha"]
			p.Tier = tt.tier
			list, err := e.ps.AssetsFor(ctx, pp, p)
			if err != nil {
				t.Fatal(err)
			}
			if len(list) != len(tt.may) {
				t.Errorf("tier %s sees %d assets, want %d", tt.tier, len(list), len(tt.may))
			}
			for asTier, a := range byTier {
				_, err := e.ps.DownloadAsset(ctx, pp, p, a.ID)
				allowed := false
				for _, m := range tt.may {
					allowed = allowed || m == asTier
				}
				if allowed && err != nil {
					t.Errorf("tier %s downloading the %q asset: %v", tt.tier, asTier, err)
				}
				if !allowed && parrain.ErrorCode(err) != parrain.CodeNotFound {
					t.Errorf("tier %s downloading the %q asset: %v, want not found", tt.tier, asTier, err)
				}
			}
		}
		// Downloads are counted per successful download only.
		all, err = e.st.Assets(ctx, pe.prog.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range all {
			want := map[string]int64{"": 3, "referral": 3, "advisor": 2, "reseller": 1}[a.MinTier]
			if a.Downloads != want {
				t.Errorf("asset %q downloaded %d times, want %d", a.MinTier, a.Downloads, want)
			}
		}
		// Deleted: gone for everyone; deleting again is not found.
		if err := e.ps.DeleteAsset(ctx, pe.prog.ID, big.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.ps.DownloadAsset(ctx, pp, pe.partners["Alpha"], big.ID); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("download after delete: %v", err)
		}
		if err := e.ps.DeleteAsset(ctx, pe.prog.ID, big.ID); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("second delete: %v", err)
		}
	})
}

func TestAssetsStayInTheirProgram(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		one := partnerProgram(e, "Alpha")
		two := partnerProgramSlug(e, "other-partners", "Omega")
		a, _, err := e.ps.CreateAsset(ctx, one.prog.ID, store.Asset{Title: "Deck", Kind: "presentation", Filename: "deck.pdf", Content: []byte("x")}, store.Idem{})
		if err != nil {
			t.Fatal(err)
		}
		pp2, err := e.st.PartnerProgram(ctx, two.prog.ID)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := e.ps.DownloadAsset(ctx, pp2, two.partners["Omega"], a.ID); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("another program's partner downloaded the asset: %v", err)
		}
		if err := e.ps.DeleteAsset(ctx, two.prog.ID, a.ID); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("another program deleted the asset: %v", err)
		}
		list, err := e.ps.AssetsFor(ctx, pp2, two.partners["Omega"])
		if err != nil || len(list) != 0 {
			t.Errorf("assets of another program listed: %v %v", list, err)
		}
	})
}

// partnerProgramSlug is partnerProgram with another slug, for a second
// program in one database.
func partnerProgramSlug(e *env, slug string, partners ...string) *partnerEnv {
	e.t.Helper()
	prog := e.program(nil)
	if _, err := e.ps.PutProgram(ctx, prog.ID, parrain.PartnerSettings{Slug: slug, ApplicationsOpen: true},
		[]parrain.Tier{{Key: "referral", Name: "Referral Partner"}}); err != nil {
		e.t.Fatalf("put partner program: %v", err)
	}
	pe := &partnerEnv{env: e, prog: prog, partners: map[string]parrain.Partner{}}
	for _, name := range partners {
		p, _, err := e.ps.Apply(ctx, prog.ID, parrain.PartnerApplication{Email: strings.ToLower(name) + "@partner.example", Name: name}, "application", store.Idem{})
		if err != nil {
			e.t.Fatalf("apply: %v", err)
		}
		if p, _, err = e.ps.Decide(ctx, prog.ID, p.ID, true, "", store.Idem{}); err != nil {
			e.t.Fatalf("approve: %v", err)
		}
		pe.partners[name] = p
	}
	return pe
}

func TestExtensionRules(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		pe := partnerProgram(e, "Alpha")
		alpha := pe.partners["Alpha"].ID
		lead := pe.register("Alpha", "Delta", "delta.example").Lead
		if want := t0.Add(90 * 24 * time.Hour); !lead.ExpiresAt.Equal(want) {
			t.Fatalf("lead expires %v, want %v (the default 90-day window)", lead.ExpiresAt, want)
		}
		for _, tt := range []struct {
			in    parrain.ExtensionInput
			field string
		}{
			{parrain.ExtensionInput{Days: 0, Reason: "x"}, "days"},
			{parrain.ExtensionInput{Days: parrain.MaxWindowDays + 1, Reason: "x"}, "days"},
			{parrain.ExtensionInput{Days: 10, Reason: "  "}, "reason"},
			{parrain.ExtensionInput{Days: 10, Reason: strings.Repeat("r", 1001)}, "reason"},
		} {
			_, _, err := e.ps.RequestExtension(ctx, pe.prog.ID, alpha, lead.ID, tt.in, store.Idem{})
			wantInvalid(t, err, tt.field)
		}
		x, _, err := e.ps.RequestExtension(ctx, pe.prog.ID, alpha, lead.ID, parrain.ExtensionInput{Days: parrain.MaxWindowDays, Reason: " legal review "}, store.Idem{})
		if err != nil {
			t.Fatal(err)
		}
		if x.Status != "pending" || x.Days != parrain.MaxWindowDays || x.Reason != "legal review" || x.Company != "Delta" {
			t.Errorf("extension %+v", x)
		}
		// One pending request per lead.
		_, _, err = e.ps.RequestExtension(ctx, pe.prog.ID, alpha, lead.ID, parrain.ExtensionInput{Days: 5, Reason: "again"}, store.Idem{})
		wantCode(t, err, parrain.CodeConflict, "lead")
		// A manager's note is bounded; an unknown request is not found.
		_, _, err = e.ps.DecideExtension(ctx, pe.prog.ID, x.ID, true, strings.Repeat("n", 1001), "manager:ann", store.Idem{})
		wantInvalid(t, err, "note")
		_, _, err = e.ps.DecideExtension(ctx, pe.prog.ID, "no-such-extension", true, "", "manager:ann", store.Idem{})
		wantCode(t, err, parrain.CodeNotFound, "")

		// Granted five days in: extended from the current end, not from now.
		e.clock.Advance(5 * 24 * time.Hour)
		x, _, err = e.ps.DecideExtension(ctx, pe.prog.ID, x.ID, true, "ok", "manager:ann", store.Idem{})
		if err != nil || x.Status != "granted" {
			t.Fatalf("grant: %+v %v", x, err)
		}
		l, err := e.st.Lead(ctx, pe.prog.ID, lead.ID)
		if err != nil {
			t.Fatal(err)
		}
		if want := t0.Add(time.Duration(90+parrain.MaxWindowDays) * 24 * time.Hour); !l.ExpiresAt.Equal(want) {
			t.Errorf("expires %v, want %v", l.ExpiresAt, want)
		}
		_, _, err = e.ps.DecideExtension(ctx, pe.prog.ID, x.ID, false, "", "manager:ann", store.Idem{})
		wantCode(t, err, parrain.CodeConflict, "status")

		// The manager's own extension: bounded, and from now once lapsed.
		for _, days := range []int{0, parrain.MaxWindowDays + 1} {
			_, _, err := e.ps.ExtendLead(ctx, pe.prog.ID, lead.ID, days, "manager:ann", store.Idem{})
			wantInvalid(t, err, "days")
		}
		e.clock.Advance(400 * 24 * time.Hour) // long lapsed, nobody else claimed the account
		d, _, err := e.ps.ExtendLead(ctx, pe.prog.ID, lead.ID, 10, "manager:ann", store.Idem{})
		if err != nil || d.Outcome != parrain.OutcomeGranted {
			t.Fatalf("extend a lapsed lead: %+v %v", d, err)
		}
		now := e.clock.Now().Truncate(time.Millisecond)
		if want := now.Add(10 * 24 * time.Hour); d.ExpiresAt == nil || !d.ExpiresAt.Equal(want) {
			t.Errorf("extended until %v, want %v (ten days from now)", d.ExpiresAt, want)
		}
		if !strings.Contains(d.Explanation, "Exclusivity on Delta extended by 10 days, until ") {
			t.Errorf("explanation %q", d.Explanation)
		}
		// The lead is Alpha's again: another registration is refused as
		// owned by Alpha.
		if r := pe.register("Alpha", "Delta", "delta.example"); r.Decision.Outcome == parrain.OutcomeAccepted {
			t.Errorf("a second registration of an extended lead was accepted: %+v", r.Decision)
		}
	})
}

func TestIdempotentUseCases(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		pe := partnerProgram(e, "Alpha")
		idem := store.Idem{Scope: store.IdemScope(pe.prog.ID), Key: "k-asset", Hash: "h1"}
		a := store.Asset{Title: "Deck", Kind: "presentation", Filename: "deck.pdf", Content: []byte("x")}
		first, replayed, err := e.ps.CreateAsset(ctx, pe.prog.ID, a, idem)
		if err != nil || replayed {
			t.Fatalf("first: %v %v", replayed, err)
		}
		second, replayed, err := e.ps.CreateAsset(ctx, pe.prog.ID, a, idem)
		if err != nil || !replayed || second.ID != first.ID {
			t.Fatalf("replay: %+v %v %v", second, replayed, err)
		}
		idem.Hash = "h2"
		_, _, err = e.ps.CreateAsset(ctx, pe.prog.ID, a, idem)
		wantCode(t, err, parrain.CodeIdempotencyReuse, "Idempotency-Key")
		all, err := e.st.Assets(ctx, pe.prog.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 1 {
			t.Fatalf("%d assets after a replay and a reuse, want 1", len(all))
		}

		// Concurrent retries of one registration: one lead, one effect.
		in := parrain.LeadInput{CompanyName: "Zeta", CompanyDomain: "zeta.example", ContactEmail: "buyer@zeta.example", CompanySize: 200, Consent: true}
		li := store.Idem{Scope: store.IdemScope(pe.prog.ID), Key: "k-lead", Hash: "h"}
		var wg sync.WaitGroup
		results := make([]partner.LeadResult, 4)
		errs := make([]error, 4)
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i], _, errs[i] = e.ps.RegisterLead(ctx, pe.prog.ID, pe.partners["Alpha"].ID, in, partner.RegisterOptions{Actor: "test"}, li)
			}()
		}
		wg.Wait()
		for i := range results {
			if errs[i] != nil {
				t.Fatalf("attempt %d: %v", i, errs[i])
			}
			if results[i].Decision.Outcome != parrain.OutcomeAccepted || results[i].Lead == nil || results[i].Lead.ID != results[0].Lead.ID {
				t.Errorf("attempt %d: %+v, want the one accepted lead", i, results[i].Decision)
			}
		}
	})
}
