package parrain

import (
	"fmt"
	"strings"
	"time"
)

// PayoutAction is something that happens to a payout: a person's decision
// (approve, cancel, mark paid or failed by hand), a step of sending it, or
// the provider's outcome.
type PayoutAction string

// Payout actions. The transitions they allow are PayoutStatus's diagram.
const (
	PayoutApprove    PayoutAction = "approve"     // its batch is approved: pending → queued (Stripe, PayPal) or manual (bank)
	PayoutCancel     PayoutAction = "cancel"      // withdrawn before sending: pending, queued, manual → cancelled
	PayoutDrop       PayoutAction = "drop"        // nothing left to pay (re-validation): pending, queued, manual → cancelled
	PayoutSend       PayoutAction = "send"        // the provider call starts: queued → sending; sending resumes
	PayoutAccept     PayoutAction = "accept"      // the provider accepted it, outcome later: sending, processing → processing
	PayoutSettle     PayoutAction = "settle"      // the provider paid it: sending, processing → paid
	PayoutRefuse     PayoutAction = "refuse"      // the provider refused it: sending, processing → failed
	PayoutMarkPaid   PayoutAction = "mark_paid"   // paid by hand: manual, sending, processing → paid
	PayoutMarkFailed PayoutAction = "mark_failed" // failed by hand: manual, sending, processing → failed
)

// PayoutMove is what an action does to a payout.
type PayoutMove struct {
	To PayoutStatus
	// Unchanged is true when the payout is already where the action leads
	// (a cancelled payout cancelled again, a paid one marked paid again):
	// nothing is written and the caller answers with the payout as it is.
	Unchanged bool
	// Resumed is true for a send of a payout already sending: an earlier
	// attempt may have reached the provider, so it is resent unchanged
	// (same amount, same idempotency key) after reconciling.
	Resumed bool
}

// payoutFrom lists, per action, the statuses it may start from.
var payoutFrom = map[PayoutAction][]PayoutStatus{
	PayoutApprove:    {PayoutPending},
	PayoutCancel:     {PayoutPending, PayoutQueued, PayoutManual},
	PayoutDrop:       {PayoutPending, PayoutQueued, PayoutManual},
	PayoutSend:       {PayoutQueued, PayoutSending},
	PayoutAccept:     {PayoutSending, PayoutProcessing},
	PayoutSettle:     {PayoutSending, PayoutProcessing},
	PayoutRefuse:     {PayoutSending, PayoutProcessing},
	PayoutMarkPaid:   {PayoutManual, PayoutSending, PayoutProcessing},
	PayoutMarkFailed: {PayoutManual, PayoutSending, PayoutProcessing},
}

// payoutVerb words an action in a refusal ("a paid payout cannot be
// cancelled").
var payoutVerb = map[PayoutAction]string{
	PayoutApprove: "approved", PayoutCancel: "cancelled", PayoutDrop: "dropped", PayoutSend: "sent",
	PayoutAccept: "accepted", PayoutSettle: "paid", PayoutRefuse: "refused",
	PayoutMarkPaid: "marked paid", PayoutMarkFailed: "marked failed",
}

// MovePayout applies act to a payout in status from, paid by method: it
// returns where the payout goes, or a conflict error (field "status") when
// the action is not allowed from there. The person's actions (cancel, mark
// paid, mark failed) are idempotent: repeated on a payout already in their
// status, they change nothing (Unchanged). A provider's outcome on a payout
// no longer awaiting it is refused: the ledger moves at most once.
func MovePayout(from PayoutStatus, method PayoutMethod, act PayoutAction) (PayoutMove, error) {
	switch {
	case act == PayoutCancel && from == PayoutCancelled,
		act == PayoutMarkPaid && from == PayoutPaid,
		act == PayoutMarkFailed && from == PayoutFailed:
		return PayoutMove{To: from, Unchanged: true}, nil
	}
	ok := false
	for _, f := range payoutFrom[act] {
		ok = ok || f == from
	}
	if !ok {
		verb := payoutVerb[act]
		if verb == "" {
			verb = string(act)
		}
		return PayoutMove{To: from}, &Error{Code: CodeConflict, Field: "status", Message: fmt.Sprintf("a %s payout cannot be %s", from, verb)}
	}
	switch act {
	case PayoutApprove:
		if method == PayoutBank {
			return PayoutMove{To: PayoutManual}, nil
		}
		return PayoutMove{To: PayoutQueued}, nil
	case PayoutCancel, PayoutDrop:
		return PayoutMove{To: PayoutCancelled}, nil
	case PayoutSend:
		return PayoutMove{To: PayoutSending, Resumed: from == PayoutSending}, nil
	case PayoutAccept:
		return PayoutMove{To: PayoutProcessing}, nil
	case PayoutSettle, PayoutMarkPaid:
		return PayoutMove{To: PayoutPaid}, nil
	default: // PayoutRefuse, PayoutMarkFailed
		return PayoutMove{To: PayoutFailed}, nil
	}
}

// CheckApproveBatch says whether a batch may be approved. Approving an
// approved batch again, or a batch that had nothing to pay, changes nothing
// (noop); a batch completed without an approval (every payout cancelled
// meanwhile) or cancelled is a conflict.
func CheckApproveBatch(b PayoutBatch) (noop bool, err error) {
	switch b.Status {
	case BatchApproved, BatchCompleted:
		if b.ApprovedAt != nil || b.PayoutCount == 0 {
			return true, nil
		}
		return false, Errorf(CodeConflict, "the batch is %s", b.Status)
	case BatchCancelled:
		return false, Errorf(CodeConflict, "the batch was cancelled")
	}
	return false, nil
}

// CheckCancelBatch says whether a batch may be cancelled: only while it
// awaits approval; cancelling a cancelled batch changes nothing (noop).
func CheckCancelBatch(b PayoutBatch) (noop bool, err error) {
	switch b.Status {
	case BatchCancelled:
		return true, nil
	case BatchPendingApproval:
		return false, nil
	}
	return false, Errorf(CodeConflict, "only a batch awaiting approval can be cancelled (this one is %s); cancel its payouts one by one", b.Status)
}

// BatchDone reports whether a batch is completed now: it was approved and
// none of its payouts (their statuses) is open any more.
func BatchDone(status BatchStatus, payouts []PayoutStatus) bool {
	if status != BatchApproved {
		return false
	}
	for _, s := range payouts {
		if s.Open() {
			return false
		}
	}
	return true
}

// CountsCancellations reports whether cancelling one of a batch's payouts
// lowers its payout count: only while the batch awaits approval (an
// approved batch keeps the count it was approved with).
func CountsCancellations(status BatchStatus) bool { return status == BatchPendingApproval }

// NewPayoutBatch is the batch a payout run makes from the payouts to make
// (lines) and the participants left out (skips): its totals per currency,
// and the status — completed at once when there is nothing to pay, else
// awaiting approval. trigger is "manual" or "schedule", slot the scheduled
// run's time.
func NewPayoutBatch(id, programID, trigger string, slot *time.Time, lines []PayoutLine, skips []PayoutSkip, now time.Time) PayoutBatch {
	b := PayoutBatch{ID: id, ProgramID: programID, Status: BatchPendingApproval, Trigger: trigger, ScheduledFor: slot,
		PayoutCount: len(lines), Totals: map[string]int64{}, Skipped: skips, CreatedAt: now, UpdatedAt: now}
	if b.Skipped == nil {
		b.Skipped = []PayoutSkip{}
	}
	for _, l := range lines {
		b.Totals[l.Currency] += l.Amount
	}
	if len(lines) == 0 {
		b.Status = BatchCompleted
	}
	return b
}

// PayeeSkip is why a participant with a balance due is left out of a run
// ("" when they are paid): a disabled participant, or one without a payout
// account.
func PayeeSkip(status ParticipantStatus, hasAccount bool) string {
	switch {
	case status != ParticipantActive:
		return SkipDisabled
	case !hasAccount:
		return SkipNoAccount
	}
	return ""
}

// ScheduledRun says what a scheduled payout run for slot does at now under
// settings st: run is false for a stale slot (the settings changed since it
// was scheduled, so NextRunAt is another time); next is the slot to
// schedule after it (false for a manual schedule) — the first after both the
// slot and now, so a server down for months makes one run, not one per
// missed slot.
func ScheduledRun(st PayoutSettings, slot, now time.Time) (run bool, next time.Time, schedule bool) {
	if st.NextRunAt == nil || !st.NextRunAt.Equal(slot) {
		return false, time.Time{}, false
	}
	from := slot
	if now.After(from) {
		from = now
	}
	next, schedule = NextPayoutRun(st, from)
	return true, next, schedule
}

// PayoutRevalidation is a payout brought down to what is still owed on its
// rewards: its items as they may be paid now, its new amount, whether
// nothing is left (then it is cancelled with ReasonNothingLeft, keeping the
// amount last decided), and how much its batch's total in its currency
// changes.
type PayoutRevalidation struct {
	Items       []PayoutItem
	Amount      int64
	NothingLeft bool
	TotalDelta  int64
	// Changed is false when nothing is to be written.
	Changed bool
}

// RevalidatePayout checks a payout not yet sent against owed, what is left
// of each of its rewards in the approved bucket now (by reward id): each
// item is revalidated (PayoutItem.Revalidate), the payout pays their sum,
// and a payout left with nothing (or less, once clawbacks are netted) pays
// nothing and its whole amount leaves its batch's total.
func RevalidatePayout(p Payout, owed map[string]int64) PayoutRevalidation {
	r := PayoutRevalidation{Items: make([]PayoutItem, len(p.Items)), Amount: p.Amount}
	var total int64
	for i, it := range p.Items {
		next := it.Revalidate(owed[it.RewardID])
		r.Items[i] = next
		r.Changed = r.Changed || next != it
		total += next.Amount
	}
	if !r.Changed && total == p.Amount {
		return r
	}
	r.Changed = true
	if total <= 0 {
		r.NothingLeft, r.TotalDelta = true, -p.Amount // a cancelled payout pays nothing
		return r
	}
	r.Amount, r.TotalDelta = total, total-p.Amount
	return r
}

// PayoutMemo is the ledger memo of a payout's movements: its id, method and
// the provider's or bank's reference.
func PayoutMemo(p Payout, ref string) string {
	memo := fmt.Sprintf("payout %s via %s", p.ID, p.Method)
	if ref != "" {
		memo += " (" + ref + ")"
	}
	return memo
}

// MaxPayoutReason is the longest failure reason or error kept on a payout.
const MaxPayoutReason = 1000

// ClipPayoutReason shortens a provider's reason or error to what a payout
// keeps.
func ClipPayoutReason(s string) string {
	if len(s) > MaxPayoutReason {
		return s[:MaxPayoutReason]
	}
	return s
}

// NormalizePayoutReference checks the bank or provider reference of a
// payout marked paid by hand (optional, at most 200 characters).
func NormalizePayoutReference(ref string) (string, error) {
	ref = strings.TrimSpace(ref)
	if len(ref) > 200 {
		return "", Invalid("reference", "must be at most 200 characters")
	}
	return ref, nil
}

// NormalizeFailureReason checks the reason of a payout marked failed by
// hand (required, at most MaxPayoutReason characters).
func NormalizeFailureReason(reason string) (string, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" || len(reason) > MaxPayoutReason {
		return "", Invalid("reason", "is required (at most 1000 characters)")
	}
	return reason, nil
}
