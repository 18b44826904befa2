package parrain

import "testing"

func TestCheckDealMove(t *testing.T) {
	neg, big, ok := int64(-1), int64(MaxAmount)+1, int64(100)
	for _, c := range []struct {
		name, stage string
		value       *int64
		want, field string
	}{
		{"trimmed", "  demo_booked ", nil, "demo_booked", ""},
		{"with a value", "closed_won", &ok, "closed_won", ""},
		{"no stage", "  ", nil, "", "stage"},
		{"negative value", "poc", &neg, "", "value"},
		{"value too large", "poc", &big, "", "value"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := CheckDealMove(c.stage, c.value)
			if c.field != "" {
				if e := AsError(err); e == nil || e.Code != CodeInvalid || e.Field != c.field {
					t.Fatalf("err = %v, want invalid %s", err, c.field)
				}
				return
			}
			if err != nil || got != c.want {
				t.Fatalf("= %q, %v; want %q", got, err, c.want)
			}
		})
	}
}

func TestPlanDealMove(t *testing.T) {
	s := PartnerSettings{Stages: DefaultDealStages()}
	lead := func(stage string, kind StageKind, value int64) Lead {
		return Lead{Stage: stage, StageKind: kind, Value: value}
	}
	v := func(n int64) *int64 { return &n }
	for _, c := range []struct {
		name      string
		lead      Lead
		stage     string
		value     *int64
		to        string
		kind      StageKind
		wantValue int64
		unchanged bool
		closes    bool
		code      Code
		field     string
	}{
		{name: "forward", lead: lead("registered", StageOpen, 0), stage: "accepted", to: "accepted", kind: StageOpen},
		{name: "skipping stages", lead: lead("registered", StageOpen, 0), stage: "poc", to: "poc", kind: StageOpen},
		{name: "backward", lead: lead("poc", StageOpen, 0), stage: "demo_booked", to: "demo_booked", kind: StageOpen},
		{name: "open with a value", lead: lead("accepted", StageOpen, 0), stage: "poc", value: v(500), to: "poc", kind: StageOpen, wantValue: 500},
		{name: "keeps the deal's value", lead: lead("poc", StageOpen, 700), stage: "demo_completed", to: "demo_completed", kind: StageOpen, wantValue: 700},
		{name: "same stage", lead: lead("poc", StageOpen, 700), stage: "poc", value: v(1), to: "poc", kind: StageOpen, wantValue: 700, unchanged: true},
		{name: "won with a value", lead: lead("poc", StageOpen, 0), stage: "closed_won", value: v(1_200_000), to: "closed_won", kind: StageWon, wantValue: 1_200_000, closes: true},
		{name: "won on the deal's value", lead: lead("poc", StageOpen, 900), stage: "closed_won", to: "closed_won", kind: StageWon, wantValue: 900, closes: true},
		{name: "lost without a value", lead: lead("demo_booked", StageOpen, 0), stage: "closed_lost", to: "closed_lost", kind: StageLost, closes: true},
		{name: "won without a value", lead: lead("poc", StageOpen, 0), stage: "closed_won", code: CodeInvalid, field: "value"},
		{name: "won with zero", lead: lead("poc", StageOpen, 900), stage: "closed_won", value: v(0), code: CodeInvalid, field: "value"},
		{name: "unknown stage", lead: lead("poc", StageOpen, 0), stage: "signed", code: CodeInvalid, field: "stage"},
		{name: "after won", lead: lead("closed_won", StageWon, 900), stage: "poc", code: CodeConflict, field: "stage"},
		{name: "after lost", lead: lead("closed_lost", StageLost, 0), stage: "closed_won", value: v(5), code: CodeConflict, field: "stage"},
		{name: "won again", lead: lead("closed_won", StageWon, 900), stage: "closed_won", code: CodeConflict, field: "stage"},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, err := PlanDealMove(s, c.lead, c.stage, c.value)
			if c.code != "" {
				if e := AsError(err); e == nil || e.Code != c.code || e.Field != c.field {
					t.Fatalf("err = %v, want %s on %s", err, c.code, c.field)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got.From != c.lead.Stage || got.To.Name != c.to || got.To.Kind != c.kind || got.Value != c.wantValue || got.Unchanged != c.unchanged || got.Closes() != c.closes {
				t.Fatalf("= %+v (closes %v)", got, got.Closes())
			}
		})
	}
}
