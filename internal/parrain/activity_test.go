package parrain

import (
	"strings"
	"testing"
)

func TestActivityRequirementValidation(t *testing.T) {
	tests := []struct {
		name  string
		hold  int
		a     *ActivityRequirement
		field string
		want  ActivityRequirement // after defaults, when valid
	}{
		{"off by default", 30, nil, "", ActivityRequirement{}},
		{"defaults", 30, &ActivityRequirement{Required: true}, "", ActivityRequirement{Required: true, EventType: EventActivity, MinDays: 1}},
		{"custom event, 3 days", 30, &ActivityRequirement{Required: true, EventType: EventCustom, MinDays: 3}, "",
			ActivityRequirement{Required: true, EventType: EventCustom, MinDays: 3}},
		{"no hold", 0, &ActivityRequirement{Required: true}, "activity.required", ActivityRequirement{}},
		{"signup does not count", 30, &ActivityRequirement{Required: true, EventType: EventSignup}, "activity.event_type", ActivityRequirement{}},
		{"too many days for the hold", 7, &ActivityRequirement{Required: true, MinDays: 9}, "activity.min_days", ActivityRequirement{}},
		{"negative days", 7, &ActivityRequirement{MinDays: -1}, "activity.min_days", ActivityRequirement{}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := Program{Name: "P", LandingURL: "https://shop.example/", Currency: "EUR", HoldDays: tc.hold}
			p.Activity = tc.a
			err := p.Normalize()
			if tc.field != "" {
				if e := AsError(err); e == nil || e.Field != tc.field {
					t.Fatalf("error %v, want field %s", err, tc.field)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got, on := p.ActivityRule()
			if on != tc.want.Required || got != tc.want {
				t.Errorf("rule %+v (on %v), want %+v", got, on, tc.want)
			}
		})
	}
}

func TestActivityVerdict(t *testing.T) {
	tests := []struct {
		req  ActivityRequirement
		days int
		ok   bool
		why  string
	}{
		{ActivityRequirement{EventType: EventActivity, MinDays: 1}, 0, false, "inactive: the friend reported no activity event during the hold"},
		{ActivityRequirement{EventType: EventActivity, MinDays: 1}, 1, true, ""},
		{ActivityRequirement{EventType: EventCustom, MinDays: 3}, 2, false, "inactive: the friend reported custom events on 2 distinct day(s) during the hold; the program requires 3"},
		{ActivityRequirement{EventType: EventCustom, MinDays: 3}, 4, true, ""},
	}
	for _, tc := range tests {
		ok, why := tc.req.ActivityVerdict(tc.days)
		if ok != tc.ok || why != tc.why {
			t.Errorf("%+v with %d days: %v %q, want %v %q", tc.req, tc.days, ok, why, tc.ok, tc.why)
		}
	}
}

func TestReinstate(t *testing.T) {
	voided := Reward{Amount: 2000, Reversed: 2000, Status: RewardReversed, RewardDetails: RewardDetails{VoidReason: VoidInactive}}
	tests := []struct {
		name string
		r    Reward
		ok   bool
	}{
		{"voided as inactive", voided, true},
		{"reversed by a refund", Reward{Amount: 2000, Reversed: 2000, Status: RewardReversed}, false},
		{"pending", Reward{Amount: 2000, Status: RewardPending, RewardDetails: RewardDetails{VoidReason: VoidInactive}}, false},
	}
	for _, tc := range tests {
		moves, st, ok := Reinstate(&tc.r)
		if ok != tc.ok {
			t.Errorf("%s: ok %v", tc.name, ok)
			continue
		}
		if !ok {
			continue
		}
		if st != RewardApproved || len(moves) != 1 || moves[0] != (Movement{EntryReinstatement, BucketApproved, 2000}) {
			t.Errorf("%s: %v %+v", tc.name, st, moves)
		}
		after := tc.r
		after.Status = st
		if hook := RewardMoveWebhook(RewardReversed, &after, moves); hook != WebhookRewardApproved {
			t.Errorf("%s: webhook %q", tc.name, hook)
		}
	}
	p := Program{Name: "P", LandingURL: "https://shop.example/", Currency: "EUR", HoldDays: 30}
	p.Activity = &ActivityRequirement{Required: true, MinDays: 2}
	if err := p.Normalize(); err != nil {
		t.Fatal(err)
	}
	if md := RenderTerms(TermsInput{Program: &p}); !strings.Contains(md, "only approved if the referred customer actually uses the product during the hold (activity reported on at least 2 different days)") {
		t.Errorf("terms lack the activity requirement:\n%s", md)
	}
}
