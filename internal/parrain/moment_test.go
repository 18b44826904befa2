package parrain

import (
	"testing"
	"time"
)

func ip(v int) *int      { return &v }
func i64(v int64) *int64 { return &v }

func TestMomentEventNormalize(t *testing.T) {
	ok := []Event{
		{Type: EventNPS, ExternalID: "u1", Score: ip(0)},
		{Type: EventNPS, ExternalID: "u1", Score: ip(10), Email: "A@B.COM"},
		{Type: EventRating, ExternalID: "u1", Score: ip(5)},
		{Type: EventPlanUpgrade, ExternalID: "u1", Plan: " pro ", PreviousPlan: "free"},
		{Type: EventMilestone, ExternalID: "u1", Milestone: "first_project", Value: i64(3)},
		{Type: EventCustom, ExternalID: "u1", EventName: "invited_team", Value: i64(-1)},
	}
	for _, e := range ok {
		if err := e.Normalize(t0); err != nil {
			t.Errorf("%s: %v", e.Type, err)
		}
	}
	bad := []struct {
		e     Event
		field string
	}{
		{Event{Type: EventNPS, ExternalID: "u1"}, "score"},
		{Event{Type: EventNPS, ExternalID: "u1", Score: ip(11)}, "score"},
		{Event{Type: EventNPS, ExternalID: "u1", Score: ip(-1)}, "score"},
		{Event{Type: EventNPS, Score: ip(9)}, "external_id"},
		{Event{Type: EventRating, ExternalID: "u1", Score: ip(0)}, "score"},
		{Event{Type: EventRating, ExternalID: "u1", Score: ip(6)}, "score"},
		{Event{Type: EventPlanUpgrade, ExternalID: "u1"}, "plan"},
		{Event{Type: EventPlanUpgrade, ExternalID: "u1", Plan: "pro", Score: ip(3)}, "score"},
		{Event{Type: EventMilestone, ExternalID: "u1"}, "milestone"},
		{Event{Type: EventCustom, ExternalID: "u1"}, "event_name"},
		{Event{Type: EventCustom, ExternalID: "u1", EventName: "a\x01"}, "event_name"},
		{Event{Type: EventNPS, ExternalID: "u1", Score: ip(9), Value: i64(1)}, "value"},
		{Event{Type: EventNPS, ExternalID: "u1", Score: ip(9), Email: "nope"}, "email"},
		{Event{Type: EventSignup, ExternalID: "u1", ConsentID: "cns_xyz"}, "consent_id"},
		{Event{Type: "happy", ExternalID: "u1"}, "type"},
	}
	for _, tc := range bad {
		wantInvalid(t, tc.e.Normalize(t0), tc.field)
	}
	e := Event{Type: EventSignup, ExternalID: "u1", ConsentID: "cns_0123456789abcdef0123456789abcdef"}
	if err := e.Normalize(t0); err != nil {
		t.Errorf("valid consent id refused: %v", err)
	}
}

func TestMomentTriggerNormalize(t *testing.T) {
	tr := MomentTrigger{Kind: MomentNPS}
	if err := tr.Normalize(); err != nil {
		t.Fatal(err)
	}
	if *tr.MinScore != 9 || tr.CooldownDays != 90 || tr.Status != MomentActive || len(tr.Effects) != 2 || tr.Name != "nps" {
		t.Errorf("defaults: %+v", tr)
	}
	r := MomentTrigger{Kind: MomentRating}
	if err := r.Normalize(); err != nil || *r.MinScore != 5 {
		t.Errorf("rating default: %v %+v", err, r)
	}
	bad := []struct {
		tr    MomentTrigger
		field string
	}{
		{MomentTrigger{}, "event"},
		{MomentTrigger{Kind: "sunny"}, "event"},
		{MomentTrigger{Kind: MomentNPS, MinScore: ip(11)}, "min_score"},
		{MomentTrigger{Kind: MomentRating, MinScore: ip(0)}, "min_score"},
		{MomentTrigger{Kind: MomentPurchaseCount, Count: 1, WithinDays: 30}, "count"},
		{MomentTrigger{Kind: MomentPurchaseCount, Count: 3}, "within_days"},
		{MomentTrigger{Kind: MomentCustom}, "event_name"},
		{MomentTrigger{Kind: MomentPlanUpgrade, MinScore: ip(3)}, "min_score"},
		{MomentTrigger{Kind: MomentNPS, Count: 3}, "count"},
		{MomentTrigger{Kind: MomentNPS, MinValue: i64(3)}, "min_value"},
		{MomentTrigger{Kind: MomentNPS, Plans: []string{"pro"}}, "plans"},
		{MomentTrigger{Kind: MomentPlanUpgrade, Plans: []string{""}}, "plans[0]"},
		{MomentTrigger{Kind: MomentNPS, CooldownDays: -1}, "cooldown_days"},
		{MomentTrigger{Kind: MomentNPS, Effects: []Effect{"sms"}}, "effects[0]"},
		{MomentTrigger{Kind: MomentNPS, Effects: []Effect{EffectEmail, EffectEmail}}, "effects[1]"},
		{MomentTrigger{Kind: MomentNPS, Status: "on"}, "status"},
	}
	for _, tc := range bad {
		wantInvalid(t, tc.tr.Normalize(), tc.field)
	}
}

func TestMomentTriggerMatches(t *testing.T) {
	norm := func(tr MomentTrigger) *MomentTrigger {
		if err := tr.Normalize(); err != nil {
			t.Fatal(err)
		}
		return &tr
	}
	nps := norm(MomentTrigger{Kind: MomentNPS})
	rating := norm(MomentTrigger{Kind: MomentRating})
	upPro := norm(MomentTrigger{Kind: MomentPlanUpgrade, Plans: []string{"Pro", "Business"}})
	upAny := norm(MomentTrigger{Kind: MomentPlanUpgrade})
	third := norm(MomentTrigger{Kind: MomentPurchaseCount, Count: 3, WithinDays: 30})
	ms := norm(MomentTrigger{Kind: MomentMilestone, Milestone: "projects", MinValue: i64(10)})
	anyMs := norm(MomentTrigger{Kind: MomentMilestone})
	custom := norm(MomentTrigger{Kind: MomentCustom, EventName: "team_invite"})
	off := norm(MomentTrigger{Kind: MomentNPS, Status: MomentDisabled})
	tests := []struct {
		name string
		tr   *MomentTrigger
		f    MomentFacts
		want bool
	}{
		{"nps 9", nps, MomentFacts{Event: &Event{Type: EventNPS, Score: ip(9)}}, true},
		{"nps 10", nps, MomentFacts{Event: &Event{Type: EventNPS, Score: ip(10)}}, true},
		{"nps 8", nps, MomentFacts{Event: &Event{Type: EventNPS, Score: ip(8)}}, false},
		{"nps on rating", nps, MomentFacts{Event: &Event{Type: EventRating, Score: ip(5)}}, false},
		{"rating 5", rating, MomentFacts{Event: &Event{Type: EventRating, Score: ip(5)}}, true},
		{"rating 4", rating, MomentFacts{Event: &Event{Type: EventRating, Score: ip(4)}}, false},
		{"upgrade to pro", upPro, MomentFacts{Event: &Event{Type: EventPlanUpgrade, Plan: "pro"}}, true},
		{"upgrade to basic", upPro, MomentFacts{Event: &Event{Type: EventPlanUpgrade, Plan: "basic"}}, false},
		{"upgrade any", upAny, MomentFacts{Event: &Event{Type: EventPlanUpgrade, Plan: "basic"}}, true},
		{"2nd purchase", third, MomentFacts{Event: &Event{Type: EventPurchase}, RecentPurchases: 2}, false},
		{"3rd purchase", third, MomentFacts{Event: &Event{Type: EventPurchase}, RecentPurchases: 3}, true},
		{"milestone 12 projects", ms, MomentFacts{Event: &Event{Type: EventMilestone, Milestone: "projects", Value: i64(12)}}, true},
		{"milestone 9 projects", ms, MomentFacts{Event: &Event{Type: EventMilestone, Milestone: "projects", Value: i64(9)}}, false},
		{"milestone no value", ms, MomentFacts{Event: &Event{Type: EventMilestone, Milestone: "projects"}}, false},
		{"other milestone", ms, MomentFacts{Event: &Event{Type: EventMilestone, Milestone: "invites", Value: i64(99)}}, false},
		{"any milestone", anyMs, MomentFacts{Event: &Event{Type: EventMilestone, Milestone: "invites"}}, true},
		{"custom", custom, MomentFacts{Event: &Event{Type: EventCustom, EventName: "TEAM_INVITE"}}, true},
		{"custom other", custom, MomentFacts{Event: &Event{Type: EventCustom, EventName: "x"}}, false},
		{"disabled", off, MomentFacts{Event: &Event{Type: EventNPS, Score: ip(10)}}, false},
		{"no event", nps, MomentFacts{}, false},
	}
	for _, tc := range tests {
		if got := tc.tr.Matches(tc.f); got != tc.want {
			t.Errorf("%s: Matches = %v, want %v", tc.name, got, tc.want)
		}
	}
	if nps.CoolingDown(time.Time{}, t0) {
		t.Error("never fired must not be cooling down")
	}
	if !nps.CoolingDown(t0, t0.Add(89*24*time.Hour)) || nps.CoolingDown(t0, t0.Add(90*24*time.Hour)) {
		t.Error("cooldown boundary: 90 days")
	}
}

func TestMomentTriggerServerFields(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name  string
		t     MomentTrigger
		field string
	}{
		{"id set by the client", MomentTrigger{ID: "trg_x", Kind: MomentNPS}, "id"},
		{"created_at set by the client", MomentTrigger{CreatedAt: at, Kind: MomentNPS}, "id"},
		{"updated_at set by the client", MomentTrigger{UpdatedAt: at, Kind: MomentNPS}, "id"},
		{"valid", MomentTrigger{Kind: MomentNPS}, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tr := tc.t
			err := tr.NormalizeNew("prg_1")
			if tc.field != "" {
				if e := AsError(err); e == nil || e.Field != tc.field {
					t.Fatalf("got %v, want invalid %s", err, tc.field)
				}
				return
			}
			if err != nil || tr.ProgramID != "prg_1" || *tr.MinScore != 9 {
				t.Errorf("got %+v %v", tr, err)
			}
		})
	}
	old := MomentTrigger{ID: "trg_1", ProgramID: "prg_1", CreatedAt: at, Kind: MomentNPS}
	repl := MomentTrigger{ID: "trg_other", ProgramID: "prg_2", Kind: MomentRating}
	if err := repl.NormalizeReplacing(old); err != nil || repl.ID != "trg_1" || repl.ProgramID != "prg_1" || !repl.CreatedAt.Equal(at) || repl.Kind != MomentRating {
		t.Errorf("replacing: %+v %v", repl, err)
	}
	bad := MomentTrigger{Kind: "nope"}
	if err := bad.NormalizeReplacing(old); ErrorCode(err) != CodeInvalid {
		t.Errorf("invalid replacement: %v", err)
	}
}
