package parrain

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestMovePayout(t *testing.T) {
	all := []PayoutStatus{PayoutPending, PayoutQueued, PayoutSending, PayoutProcessing, PayoutManual, PayoutPaid, PayoutFailed, PayoutCancelled}
	type want struct {
		to        PayoutStatus
		unchanged bool
		resumed   bool
	}
	// Every (action, status) pair not listed is a conflict.
	allowed := map[PayoutAction]map[PayoutStatus]want{
		PayoutApprove: {PayoutPending: {to: PayoutQueued}},
		PayoutCancel: {PayoutPending: {to: PayoutCancelled}, PayoutQueued: {to: PayoutCancelled}, PayoutManual: {to: PayoutCancelled},
			PayoutCancelled: {to: PayoutCancelled, unchanged: true}},
		PayoutDrop:       {PayoutPending: {to: PayoutCancelled}, PayoutQueued: {to: PayoutCancelled}, PayoutManual: {to: PayoutCancelled}},
		PayoutSend:       {PayoutQueued: {to: PayoutSending}, PayoutSending: {to: PayoutSending, resumed: true}},
		PayoutAccept:     {PayoutSending: {to: PayoutProcessing}, PayoutProcessing: {to: PayoutProcessing}},
		PayoutSettle:     {PayoutSending: {to: PayoutPaid}, PayoutProcessing: {to: PayoutPaid}},
		PayoutRefuse:     {PayoutSending: {to: PayoutFailed}, PayoutProcessing: {to: PayoutFailed}},
		PayoutMarkPaid:   {PayoutManual: {to: PayoutPaid}, PayoutSending: {to: PayoutPaid}, PayoutProcessing: {to: PayoutPaid}, PayoutPaid: {to: PayoutPaid, unchanged: true}},
		PayoutMarkFailed: {PayoutManual: {to: PayoutFailed}, PayoutSending: {to: PayoutFailed}, PayoutProcessing: {to: PayoutFailed}, PayoutFailed: {to: PayoutFailed, unchanged: true}},
	}
	for act, ok := range allowed {
		for _, from := range all {
			mv, err := MovePayout(from, PayoutStripe, act)
			w, allowed := ok[from]
			if !allowed {
				if ErrorCode(err) != CodeConflict || AsError(err).Field != "status" {
					t.Errorf("%s from %s: %+v %v, want a status conflict", act, from, mv, err)
				}
				continue
			}
			if err != nil || mv.To != w.to || mv.Unchanged != w.unchanged || mv.Resumed != w.resumed {
				t.Errorf("%s from %s: %+v %v, want %+v", act, from, mv, err, w)
			}
		}
	}
	// A bank payout approved awaits the transfer by hand.
	if mv, err := MovePayout(PayoutPending, PayoutBank, PayoutApprove); err != nil || mv.To != PayoutManual {
		t.Errorf("approve bank: %+v %v", mv, err)
	}
	// The refusal words the action, as the API answers it.
	for _, c := range []struct {
		from PayoutStatus
		act  PayoutAction
		msg  string
	}{
		{PayoutPaid, PayoutCancel, "a paid payout cannot be cancelled"},
		{PayoutPaid, PayoutMarkFailed, "a paid payout cannot be marked failed"},
		{PayoutPending, PayoutMarkPaid, "a pending payout cannot be marked paid"},
	} {
		if _, err := MovePayout(c.from, PayoutBank, c.act); AsError(err) == nil || AsError(err).Message != c.msg {
			t.Errorf("%s from %s: %v, want %q", c.act, c.from, err, c.msg)
		}
	}
}

func TestCheckBatch(t *testing.T) {
	at := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		name           string
		b              PayoutBatch
		approveNoop    bool
		approveConflit string
		cancelNoop     bool
		cancelConflict bool
	}{
		{"pending", PayoutBatch{Status: BatchPendingApproval, PayoutCount: 2}, false, "", false, false},
		{"approved", PayoutBatch{Status: BatchApproved, PayoutCount: 2, ApprovedAt: &at}, true, "", false, true},
		{"completed after approval", PayoutBatch{Status: BatchCompleted, PayoutCount: 2, ApprovedAt: &at}, true, "", false, true},
		{"completed with nothing to pay", PayoutBatch{Status: BatchCompleted}, true, "", false, true},
		{"completed, every payout cancelled", PayoutBatch{Status: BatchCompleted, PayoutCount: 1}, false, "the batch is completed", false, true},
		{"cancelled", PayoutBatch{Status: BatchCancelled, PayoutCount: 2}, false, "the batch was cancelled", true, false},
	}
	for _, c := range cases {
		noop, err := CheckApproveBatch(c.b)
		if c.approveConflit != "" {
			if ErrorCode(err) != CodeConflict || AsError(err).Message != c.approveConflit {
				t.Errorf("%s: approve %v, want %q", c.name, err, c.approveConflit)
			}
		} else if err != nil || noop != c.approveNoop {
			t.Errorf("%s: approve noop %v %v, want %v", c.name, noop, err, c.approveNoop)
		}
		noop, err = CheckCancelBatch(c.b)
		if c.cancelConflict {
			if ErrorCode(err) != CodeConflict || !strings.Contains(AsError(err).Message, "only a batch awaiting approval") {
				t.Errorf("%s: cancel %v, want a conflict", c.name, err)
			}
		} else if err != nil || noop != c.cancelNoop {
			t.Errorf("%s: cancel noop %v %v, want %v", c.name, noop, err, c.cancelNoop)
		}
	}
}

func TestBatchDone(t *testing.T) {
	cases := []struct {
		status BatchStatus
		ps     []PayoutStatus
		want   bool
	}{
		{BatchApproved, []PayoutStatus{PayoutPaid, PayoutFailed, PayoutCancelled}, true},
		{BatchApproved, nil, true},
		{BatchApproved, []PayoutStatus{PayoutPaid, PayoutProcessing}, false},
		{BatchApproved, []PayoutStatus{PayoutManual}, false},
		{BatchApproved, []PayoutStatus{PayoutQueued, PayoutSending}, false},
		{BatchPendingApproval, []PayoutStatus{PayoutCancelled}, false}, // only an approved batch completes
		{BatchCompleted, []PayoutStatus{PayoutPaid}, false},            // already completed
		{BatchCancelled, []PayoutStatus{PayoutCancelled}, false},
	}
	for _, c := range cases {
		if got := BatchDone(c.status, c.ps); got != c.want {
			t.Errorf("BatchDone(%s, %v) = %v, want %v", c.status, c.ps, got, c.want)
		}
	}
	if !CountsCancellations(BatchPendingApproval) || CountsCancellations(BatchApproved) || CountsCancellations(BatchCompleted) {
		t.Error("only a batch awaiting approval counts its cancelled payouts out")
	}
}

func TestNewPayoutBatch(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	lines := []PayoutLine{{ParticipantID: "a", Currency: "EUR", Amount: 700}, {ParticipantID: "b", Currency: "EUR", Amount: 300},
		{ParticipantID: "b", Currency: "USD", Amount: 50}}
	b := NewPayoutBatch("pbat_1", "prg_1", "manual", nil, lines, nil, now)
	if b.Status != BatchPendingApproval || b.PayoutCount != 3 || !reflect.DeepEqual(b.Totals, map[string]int64{"EUR": 1000, "USD": 50}) ||
		b.Skipped == nil || len(b.Skipped) != 0 || !b.CreatedAt.Equal(now) || b.Trigger != "manual" {
		t.Errorf("batch %+v", b)
	}
	skips := []PayoutSkip{{ParticipantID: "c", Currency: "EUR", Amount: 10, Reason: SkipBelowMinimum}}
	b = NewPayoutBatch("pbat_2", "prg_1", "schedule", &now, nil, skips, now)
	if b.Status != BatchCompleted || b.PayoutCount != 0 || len(b.Totals) != 0 || !reflect.DeepEqual(b.Skipped, skips) || !b.ScheduledFor.Equal(now) {
		t.Errorf("empty batch %+v", b)
	}
}

func TestPayeeSkip(t *testing.T) {
	cases := []struct {
		status  ParticipantStatus
		account bool
		want    string
	}{
		{ParticipantActive, true, ""},
		{ParticipantActive, false, SkipNoAccount},
		{ParticipantDisabled, true, SkipDisabled},
		{ParticipantDisabled, false, SkipDisabled},
	}
	for _, c := range cases {
		if got := PayeeSkip(c.status, c.account); got != c.want {
			t.Errorf("PayeeSkip(%s, %v) = %q, want %q", c.status, c.account, got, c.want)
		}
	}
}

func TestScheduledRun(t *testing.T) {
	slot := time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC)
	monthly := PayoutSettings{Schedule: ScheduleMonthly, Day: 1, Hour: 6, NextRunAt: &slot}
	other := slot.AddDate(0, 0, 14)
	cases := []struct {
		name     string
		st       PayoutSettings
		now      time.Time
		run      bool
		next     time.Time
		schedule bool
	}{
		{"on time", monthly, slot, true, time.Date(2027, 1, 1, 6, 0, 0, 0, time.UTC), true},
		{"late by months: one run, next after now", monthly, time.Date(2027, 3, 10, 0, 0, 0, 0, time.UTC), true,
			time.Date(2027, 4, 1, 6, 0, 0, 0, time.UTC), true},
		{"stale slot", PayoutSettings{Schedule: ScheduleMonthly, Day: 15, Hour: 6, NextRunAt: &other}, slot, false, time.Time{}, false},
		{"schedule turned manual", PayoutSettings{Schedule: ScheduleManual, Day: 1}, slot, false, time.Time{}, false},
		{"last run of a schedule made manual with the slot kept", PayoutSettings{Schedule: ScheduleManual, Day: 1, NextRunAt: &slot}, slot, true, time.Time{}, false},
	}
	for _, c := range cases {
		run, next, schedule := ScheduledRun(c.st, slot, c.now)
		if run != c.run || !next.Equal(c.next) || schedule != c.schedule {
			t.Errorf("%s: %v %v %v, want %v %v %v", c.name, run, next, schedule, c.run, c.next, c.schedule)
		}
	}
}

func TestRevalidatePayout(t *testing.T) {
	item := func(id string, amount, planned int64, st PayoutItemStatus) PayoutItem {
		return PayoutItem{RewardID: id, Amount: amount, Planned: planned, Status: st}
	}
	p := Payout{Amount: 1500, Items: []PayoutItem{item("r1", 1000, 1000, PayoutItemDue), item("r2", 500, 500, PayoutItemDue)}}
	netted := Payout{Amount: 700, Items: []PayoutItem{item("r1", 1000, 1000, PayoutItemDue), item("r3", -300, -300, PayoutItemDue)}}
	cases := []struct {
		name string
		p    Payout
		owed map[string]int64
		want PayoutRevalidation
	}{
		{"all still owed", p, map[string]int64{"r1": 1000, "r2": 500},
			PayoutRevalidation{Items: p.Items, Amount: 1500}},
		{"more owed than planned pays the plan", p, map[string]int64{"r1": 1200, "r2": 900},
			PayoutRevalidation{Items: p.Items, Amount: 1500}},
		{"one reward partly clawed back", p, map[string]int64{"r1": 600, "r2": 500},
			PayoutRevalidation{Items: []PayoutItem{item("r1", 600, 1000, PayoutItemReduced), p.Items[1]}, Amount: 1100, TotalDelta: -400, Changed: true}},
		{"one reward reversed", p, map[string]int64{"r1": 1000},
			PayoutRevalidation{Items: []PayoutItem{p.Items[0], item("r2", 0, 500, PayoutItemDropped)}, Amount: 1000, TotalDelta: -500, Changed: true}},
		{"nothing left", p, map[string]int64{"r1": 0, "r2": 0},
			PayoutRevalidation{Items: []PayoutItem{item("r1", 0, 1000, PayoutItemDropped), item("r2", 0, 500, PayoutItemDropped)}, Amount: 1500,
				NothingLeft: true, TotalDelta: -1500, Changed: true}},
		{"a clawback netted: a deeper clawback since", netted, map[string]int64{"r1": 1000, "r3": -500},
			PayoutRevalidation{Items: []PayoutItem{netted.Items[0], item("r3", -500, -300, PayoutItemReduced)}, Amount: 500, TotalDelta: -200, Changed: true}},
		{"clawbacks exceed what is left", netted, map[string]int64{"r1": 200, "r3": -300},
			PayoutRevalidation{Items: []PayoutItem{item("r1", 200, 1000, PayoutItemReduced), netted.Items[1]}, Amount: 700,
				NothingLeft: true, TotalDelta: -700, Changed: true}},
		{"an amount out of step with its items is corrected", Payout{Amount: 900, Items: p.Items}, map[string]int64{"r1": 1000, "r2": 500},
			PayoutRevalidation{Items: p.Items, Amount: 1500, TotalDelta: 600, Changed: true}},
	}
	for _, c := range cases {
		got := RevalidatePayout(c.p, c.owed)
		if !reflect.DeepEqual(got, c.want) {
			t.Errorf("%s:\n got %+v\nwant %+v", c.name, got, c.want)
		}
	}
	// The payout's own items are left as they were.
	if p.Items[0].Amount != 1000 {
		t.Error("RevalidatePayout changed its argument")
	}
}

func TestPayoutTexts(t *testing.T) {
	if got := PayoutMemo(Payout{ID: "pay_1", Method: PayoutBank}, "SEPA-1"); got != "payout pay_1 via bank (SEPA-1)" {
		t.Errorf("memo %q", got)
	}
	if got := PayoutMemo(Payout{ID: "pay_1", Method: PayoutStripe}, ""); got != "payout pay_1 via stripe" {
		t.Errorf("memo %q", got)
	}
	if got := ClipPayoutReason(strings.Repeat("x", 1500)); len(got) != MaxPayoutReason {
		t.Errorf("clipped to %d", len(got))
	}
	if got := ClipPayoutReason("short"); got != "short" {
		t.Errorf("clip %q", got)
	}
	if ref, err := NormalizePayoutReference("  SEPA-1 "); err != nil || ref != "SEPA-1" {
		t.Errorf("reference %q %v", ref, err)
	}
	if ref, err := NormalizePayoutReference(""); err != nil || ref != "" {
		t.Errorf("empty reference %q %v", ref, err)
	}
	if _, err := NormalizePayoutReference(strings.Repeat("x", 201)); AsError(err) == nil || AsError(err).Field != "reference" {
		t.Errorf("long reference: %v", err)
	}
	for _, bad := range []string{"", "   ", strings.Repeat("x", 1001)} {
		if _, err := NormalizeFailureReason(bad); AsError(err) == nil || AsError(err).Field != "reason" {
			t.Errorf("reason %q: %v", bad[:min(len(bad), 10)], err)
		}
	}
	if r, err := NormalizeFailureReason(" bounced "); err != nil || r != "bounced" {
		t.Errorf("reason %q %v", r, err)
	}
}
