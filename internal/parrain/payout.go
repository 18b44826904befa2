package parrain

import (
	"crypto/sha256"
	"encoding/hex"
	"math/big"
	"slices"
	"strings"
	"time"
)

// PayoutMethod is how a participant is paid.
type PayoutMethod string

// Payout methods.
const (
	PayoutStripe PayoutMethod = "stripe" // a Transfer to the participant's Stripe connected account
	PayoutPayPal PayoutMethod = "paypal" // a PayPal Payouts item to the participant's PayPal email
	PayoutBank   PayoutMethod = "bank"   // a manual bank transfer, exported as CSV and marked paid by hand or import
)

// BankDetails are what a manual bank transfer needs: an IBAN (with an
// optional BIC), or a local account number with its routing number and
// country.
type BankDetails struct {
	HolderName    string `json:"holder_name"`
	IBAN          string `json:"iban,omitempty"`
	BIC           string `json:"bic,omitempty"`
	AccountNumber string `json:"account_number,omitempty"`
	RoutingNumber string `json:"routing_number,omitempty"`
	Country       string `json:"country,omitempty"`
}

// PayoutAccount is where a participant's cash rewards are paid.
type PayoutAccount struct {
	ProgramID     string       `json:"program_id"`
	ParticipantID string       `json:"-"`
	ExternalID    string       `json:"external_id"`
	Method        PayoutMethod `json:"method"`
	StripeAccount string       `json:"stripe_account,omitempty"`
	PayPalEmail   string       `json:"paypal_email,omitempty"`
	Bank          *BankDetails `json:"bank,omitempty"`
	CreatedAt     time.Time    `json:"created_at"`
	UpdatedAt     time.Time    `json:"updated_at"`
}

// PayoutAccountInput sets a participant's payout account.
type PayoutAccountInput struct {
	Method        PayoutMethod `json:"method"`
	StripeAccount string       `json:"stripe_account"`
	PayPalEmail   string       `json:"paypal_email"`
	Bank          *BankDetails `json:"bank"`
}

// Normalize validates the input for its method and canonicalises it. Fields
// of another method are refused rather than silently ignored.
func (in *PayoutAccountInput) Normalize() error {
	in.StripeAccount = strings.TrimSpace(in.StripeAccount)
	in.PayPalEmail = strings.TrimSpace(in.PayPalEmail)
	extra := func(field string, set bool) error {
		if set {
			return Invalid(field, "is not used by method %s", in.Method)
		}
		return nil
	}
	var err error
	switch in.Method {
	case PayoutStripe:
		if !validStripeAccount(in.StripeAccount) {
			return Invalid("stripe_account", "must be a Stripe connected account id (acct_…)")
		}
		if err := extra("paypal_email", in.PayPalEmail != ""); err != nil {
			return err
		}
		return extra("bank", in.Bank != nil)
	case PayoutPayPal:
		if in.PayPalEmail == "" {
			return Invalid("paypal_email", "is required for method paypal")
		}
		if in.PayPalEmail, err = NormalizeEmailField("paypal_email", in.PayPalEmail); err != nil {
			return err
		}
		if err := extra("stripe_account", in.StripeAccount != ""); err != nil {
			return err
		}
		return extra("bank", in.Bank != nil)
	case PayoutBank:
		if in.Bank == nil {
			return Invalid("bank", "is required for method bank")
		}
		if err := in.Bank.normalize(); err != nil {
			return err
		}
		if err := extra("stripe_account", in.StripeAccount != ""); err != nil {
			return err
		}
		return extra("paypal_email", in.PayPalEmail != "")
	case "":
		return Invalid("method", "is required (stripe, paypal or bank)")
	}
	return Invalid("method", "must be stripe, paypal or bank")
}

func validStripeAccount(s string) bool {
	rest, ok := strings.CutPrefix(s, "acct_")
	if !ok || rest == "" || len(rest) > 64 {
		return false
	}
	return isAlnum(rest)
}

func isAlnum(s string) bool {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9') {
			return false
		}
	}
	return true
}

func compact(s string) string {
	return strings.ToUpper(strings.NewReplacer(" ", "", "-", "", ".", "").Replace(strings.TrimSpace(s)))
}

func (b *BankDetails) normalize() error {
	b.HolderName = strings.TrimSpace(b.HolderName)
	if b.HolderName == "" || len(b.HolderName) > 140 {
		return Invalid("bank.holder_name", "is required (at most 140 characters)")
	}
	for _, r := range b.HolderName {
		if r < 0x20 || r == 0x7f {
			return Invalid("bank.holder_name", "must not contain control characters")
		}
	}
	b.IBAN, b.BIC = compact(b.IBAN), compact(b.BIC)
	b.AccountNumber, b.RoutingNumber = compact(b.AccountNumber), compact(b.RoutingNumber)
	b.Country = strings.ToUpper(strings.TrimSpace(b.Country))
	if b.IBAN != "" {
		if !ValidIBAN(b.IBAN) {
			return Invalid("bank.iban", "is not a valid IBAN (check digits do not match)")
		}
		if b.AccountNumber != "" || b.RoutingNumber != "" {
			return Invalid("bank.account_number", "give either an IBAN or an account number, not both")
		}
		if b.Country == "" {
			b.Country = b.IBAN[:2]
		} else if b.Country != b.IBAN[:2] {
			return Invalid("bank.country", "does not match the IBAN's country %s", b.IBAN[:2])
		}
	} else {
		if b.AccountNumber == "" {
			return Invalid("bank.iban", "an IBAN, or an account number with its country, is required")
		}
		if len(b.AccountNumber) < 4 || len(b.AccountNumber) > 34 || !isAlnum(b.AccountNumber) {
			return Invalid("bank.account_number", "must be 4 to 34 letters and digits")
		}
		if len(b.RoutingNumber) > 34 || !isAlnum(b.RoutingNumber) {
			return Invalid("bank.routing_number", "must be at most 34 letters and digits")
		}
		if len(b.Country) != 2 || !isUpperAlpha(b.Country) {
			return Invalid("bank.country", "is required with an account number (ISO 3166 code such as US)")
		}
	}
	if b.BIC != "" && !validBIC(b.BIC) {
		return Invalid("bank.bic", "is not a valid BIC (8 or 11 characters)")
	}
	return nil
}

func isUpperAlpha(s string) bool {
	for _, r := range s {
		if r < 'A' || r > 'Z' {
			return false
		}
	}
	return true
}

func validBIC(s string) bool {
	return (len(s) == 8 || len(s) == 11) && isUpperAlpha(s[:6]) && isAlnum(s[6:])
}

// ValidIBAN reports whether s (upper case, no spaces) is an IBAN with valid
// ISO 13616 check digits (mod 97 = 1).
func ValidIBAN(s string) bool {
	if len(s) < 15 || len(s) > 34 || !isUpperAlpha(s[:2]) || s[2] < '0' || s[2] > '9' || s[3] < '0' || s[3] > '9' {
		return false
	}
	if !isAlnum(s) {
		return false
	}
	var digits strings.Builder
	for _, r := range s[4:] + s[:4] {
		if r >= 'A' && r <= 'Z' {
			digits.WriteString(big.NewInt(int64(r-'A') + 10).String())
		} else {
			digits.WriteRune(r)
		}
	}
	n, ok := new(big.Int).SetString(digits.String(), 10)
	return ok && new(big.Int).Mod(n, big.NewInt(97)).Int64() == 1
}

// mask keeps the last four characters of s.
func mask(s string) string {
	r := []rune(s) // runes, so that masking a masked value changes nothing
	if len(r) <= 4 {
		return strings.Repeat("•", len(r))
	}
	return strings.Repeat("•", len(r)-4) + string(r[len(r)-4:])
}

// Masked returns the account with bank numbers masked to their last four
// characters, for display outside the CSV export.
func (a PayoutAccount) Masked() PayoutAccount {
	if a.Bank != nil {
		b := *a.Bank
		if b.IBAN != "" {
			b.IBAN = b.IBAN[:2] + mask(b.IBAN[2:])
		}
		b.AccountNumber = mask(b.AccountNumber)
		a.Bank = &b
	}
	return a
}

// ForRecord returns the account as an idempotency record keeps it: with
// its bank details masked (the API answers them masked anyway).
func (a PayoutAccount) ForRecord() PayoutAccount { return a.Masked() }

// Destination names where the money goes, for payout lists: the Stripe
// account, the PayPal email, or the masked bank account.
func (a PayoutAccount) Destination() string {
	switch a.Method {
	case PayoutStripe:
		return a.StripeAccount
	case PayoutPayPal:
		return a.PayPalEmail
	case PayoutBank:
		if a.Bank == nil {
			return ""
		}
		m := a.Masked().Bank
		if m.IBAN != "" {
			return "IBAN " + m.IBAN
		}
		return m.Country + " " + m.AccountNumber
	}
	return ""
}

// PayoutSchedule says when payout runs happen by themselves.
type PayoutSchedule string

// Payout schedules.
const (
	ScheduleManual  PayoutSchedule = "manual"  // only on demand
	ScheduleWeekly  PayoutSchedule = "weekly"  // every week on Day (0 = Sunday … 6 = Saturday) at Hour UTC
	ScheduleMonthly PayoutSchedule = "monthly" // every month on Day (1–28) at Hour UTC
)

// PayoutSettings is a program's payout policy.
type PayoutSettings struct {
	ProgramID string         `json:"program_id"`
	Schedule  PayoutSchedule `json:"schedule"`
	// Day is the day of the month (1–28) for monthly runs, the weekday
	// (0 = Sunday) for weekly runs.
	Day int `json:"day"`
	// Hour is the hour of the day, UTC, at which scheduled runs happen.
	Hour int `json:"hour"`
	// MinimumAmount is the smallest payout made, in minor units of the
	// program currency; smaller balances wait for the next run.
	MinimumAmount int64 `json:"minimum_amount"`
	// AutoApproveLimit: a batch whose total is at most this (minor units) is
	// approved without a manager; 0 means every batch needs approval.
	AutoApproveLimit int64      `json:"auto_approve_limit"`
	NextRunAt        *time.Time `json:"next_run_at,omitempty"`
	UpdatedAt        time.Time  `json:"updated_at,omitzero"`
}

// DefaultPayoutSettings are the settings of a program that set none: runs
// on demand only, no minimum, every batch approved by a manager.
func DefaultPayoutSettings(programID string) PayoutSettings {
	return PayoutSettings{ProgramID: programID, Schedule: ScheduleManual, Day: 1}
}

// Normalize validates the settings. A monthly schedule without a day runs
// on the 1st.
func (s *PayoutSettings) Normalize() error {
	switch s.Schedule {
	case "":
		s.Schedule = ScheduleManual
	case ScheduleManual, ScheduleWeekly, ScheduleMonthly:
	default:
		return Invalid("schedule", "must be manual, weekly or monthly")
	}
	switch s.Schedule {
	case ScheduleMonthly, ScheduleManual:
		if s.Day == 0 {
			s.Day = 1
		}
		if s.Day < 1 || s.Day > 28 {
			return Invalid("day", "must be a day of the month from 1 to 28 (every month has it)")
		}
	case ScheduleWeekly:
		if s.Day < 0 || s.Day > 6 {
			return Invalid("day", "must be a weekday from 0 (Sunday) to 6 (Saturday)")
		}
	}
	if s.Hour < 0 || s.Hour > 23 {
		return Invalid("hour", "must be an hour from 0 to 23 (UTC)")
	}
	if s.MinimumAmount < 0 || s.MinimumAmount > MaxAmount {
		return Invalid("minimum_amount", "must be a non-negative integer in the currency's minor unit")
	}
	if s.AutoApproveLimit < 0 || s.AutoApproveLimit > MaxAmount {
		return Invalid("auto_approve_limit", "must be a non-negative integer in the currency's minor unit (0: always ask a manager)")
	}
	return nil
}

// NextPayoutRun returns the first scheduled run strictly after after, and
// false for a manual schedule.
func NextPayoutRun(s PayoutSettings, after time.Time) (time.Time, bool) {
	after = after.UTC()
	switch s.Schedule {
	case ScheduleMonthly:
		t := time.Date(after.Year(), after.Month(), s.Day, s.Hour, 0, 0, 0, time.UTC)
		if !t.After(after) {
			t = time.Date(after.Year(), after.Month()+1, s.Day, s.Hour, 0, 0, 0, time.UTC)
		}
		return t, true
	case ScheduleWeekly:
		t := time.Date(after.Year(), after.Month(), after.Day(), s.Hour, 0, 0, 0, time.UTC)
		for int(t.Weekday()) != s.Day || !t.After(after) {
			t = t.AddDate(0, 0, 1)
		}
		return t, true
	}
	return time.Time{}, false
}

// PayoutStatus is where a payout stands.
//
//	pending ─approve─▶ queued ─▶ sending ─▶ paid
//	   │                 │          ├──▶ processing (PayPal) ─▶ paid | failed
//	   │                 │          └──▶ failed (returned to the balance)
//	   │                 └──cancel──▶ cancelled
//	   ├─approve (bank)─▶ manual ─mark paid / import─▶ paid
//	   └─cancel─▶ cancelled
type PayoutStatus string

// Payout states.
const (
	PayoutPending    PayoutStatus = "pending"    // in a batch awaiting approval
	PayoutQueued     PayoutStatus = "queued"     // approved, waiting for the send job
	PayoutSending    PayoutStatus = "sending"    // the provider call started (recorded before it)
	PayoutProcessing PayoutStatus = "processing" // accepted by the provider, final status pending
	PayoutManual     PayoutStatus = "manual"     // a bank transfer to make by hand
	PayoutPaid       PayoutStatus = "paid"
	PayoutFailed     PayoutStatus = "failed"    // refused; the rewards are back in the balance
	PayoutCancelled  PayoutStatus = "cancelled" // withdrawn before sending; the rewards are back in the balance
)

// Open reports whether a payout still holds its rewards (they are not
// gathered by another run).
func (s PayoutStatus) Open() bool {
	switch s {
	case PayoutPending, PayoutQueued, PayoutSending, PayoutProcessing, PayoutManual:
		return true
	}
	return false
}

// OpenPayoutStatuses lists the open statuses, for queries.
var OpenPayoutStatuses = []PayoutStatus{PayoutPending, PayoutQueued, PayoutSending, PayoutProcessing, PayoutManual}

// ValidPayoutStatus reports whether s names a payout status.
func ValidPayoutStatus(s string) bool {
	switch PayoutStatus(s) {
	case PayoutPending, PayoutQueued, PayoutSending, PayoutProcessing, PayoutManual, PayoutPaid, PayoutFailed, PayoutCancelled:
		return true
	}
	return false
}

// BatchStatus is where a payout batch stands.
type BatchStatus string

// Batch states.
const (
	BatchPendingApproval BatchStatus = "pending_approval"
	BatchApproved        BatchStatus = "approved"  // payouts being sent or awaiting manual transfer
	BatchCompleted       BatchStatus = "completed" // every payout paid, failed or cancelled
	BatchCancelled       BatchStatus = "cancelled" // rejected before approval
)

// Payout is one payment to one participant in one currency.
type Payout struct {
	ID            string       `json:"id"`
	BatchID       string       `json:"batch_id"`
	ProgramID     string       `json:"program_id"`
	ParticipantID string       `json:"-"`
	ExternalID    string       `json:"external_id"`
	Method        PayoutMethod `json:"method"`
	// Destination is the Stripe account, PayPal email or masked bank
	// account, as it was when the batch was made.
	Destination string `json:"destination"`
	// Bank is the snapshot of the bank details, for the CSV export only.
	Bank     *BankDetails `json:"-"`
	Amount   int64        `json:"amount"`
	Currency string       `json:"currency"`
	// IdempotencyKey is sent to the provider so that a retried send never
	// pays twice; it is also the reference to put on a manual transfer.
	IdempotencyKey string       `json:"idempotency_key"`
	Status         PayoutStatus `json:"status"`
	Attempts       int          `json:"attempts"`
	ProviderRef    string       `json:"provider_ref,omitempty"`
	ProviderStatus string       `json:"provider_status,omitempty"`
	FailureReason  string       `json:"failure_reason,omitempty"`
	LastError      string       `json:"last_error,omitempty"`
	SentAt         *time.Time   `json:"sent_at,omitempty"`
	PaidAt         *time.Time   `json:"paid_at,omitempty"`
	FailedAt       *time.Time   `json:"failed_at,omitempty"`
	CreatedAt      time.Time    `json:"created_at"`
	UpdatedAt      time.Time    `json:"updated_at"`
	Items          []PayoutItem `json:"items,omitempty"`
}

// PayoutItem is one reward settled by a payout, with the amount moved from
// its approved bucket (negative for a clawback netted against the payout).
type PayoutItem struct {
	RewardID string `json:"reward_id"`
	Amount   int64  `json:"amount"`
	// Planned is the amount when the batch was made; Amount is lower when
	// the reward was reversed or clawed back since (Status says so).
	Planned int64            `json:"planned_amount"`
	Status  PayoutItemStatus `json:"status"`
}

// PayoutItemStatus says whether an item still pays what the batch planned.
type PayoutItemStatus string

// Payout item states. An item is checked again against what is still owed
// on its reward when its batch is approved, when its payout is sent and
// when a bank CSV is exported.
const (
	PayoutItemDue     PayoutItemStatus = "due"     // pays what was planned
	PayoutItemReduced PayoutItemStatus = "reduced" // part of the reward was clawed back since the batch was made
	PayoutItemDropped PayoutItemStatus = "dropped" // nothing is left to pay on the reward
)

// Revalidate returns the item as it may be paid now that owed is what is
// left of its reward in the approved bucket: never more than planned, never
// more than owed (a clawback made since the batch lowers it, down to
// nothing or, for an item that nets an earlier clawback, further down).
func (it PayoutItem) Revalidate(owed int64) PayoutItem {
	it.Amount = min(it.Amount, owed)
	switch {
	case it.Amount == 0:
		it.Status = PayoutItemDropped
	case it.Amount == it.Planned:
		it.Status = PayoutItemDue
	default:
		it.Status = PayoutItemReduced
	}
	return it
}

// ReasonNothingLeft is the failure reason of a payout cancelled because
// every reward it carried was reversed or clawed back before it was sent.
const ReasonNothingLeft = "nothing_left: its rewards were reversed or clawed back after the batch was made; nothing was sent"

// PayoutBatch is one payout run.
type PayoutBatch struct {
	ID           string           `json:"id"`
	ProgramID    string           `json:"program_id"`
	Status       BatchStatus      `json:"status"`
	Trigger      string           `json:"trigger"` // "schedule" or "manual"
	ScheduledFor *time.Time       `json:"scheduled_for,omitempty"`
	PayoutCount  int              `json:"payout_count"`
	Totals       map[string]int64 `json:"totals"`
	Skipped      []PayoutSkip     `json:"skipped"`
	ApprovedBy   string           `json:"approved_by,omitempty"`
	ApprovedAt   *time.Time       `json:"approved_at,omitempty"`
	CreatedAt    time.Time        `json:"created_at"`
	UpdatedAt    time.Time        `json:"updated_at"`
	Payouts      []Payout         `json:"payouts,omitempty"`
}

// RewardBalance is what a cash reward holds in the approved bucket: its
// outstanding amount while approved, a negative amount after a clawback of
// an already paid reward.
type RewardBalance struct {
	RewardID      string
	ParticipantID string
	Currency      string
	Amount        int64
}

// PayoutLine is a payout to make: a participant's approved balance in one
// currency and the rewards it settles.
type PayoutLine struct {
	ParticipantID string
	Currency      string
	Amount        int64
	Items         []PayoutItem
}

// Reasons a participant with an approved balance is not paid by a run.
const (
	SkipBelowMinimum = "below_minimum"     // the balance is under the program's minimum payout
	SkipNoAccount    = "no_payout_account" // the participant has not set a payout account
	SkipNothingDue   = "nothing_due"       // clawbacks exceed the approved rewards
	SkipDisabled     = "participant_disabled"
)

// PayoutSkip is a participant and currency left out of a run, and why.
type PayoutSkip struct {
	ParticipantID string `json:"-"`
	ExternalID    string `json:"external_id"`
	Currency      string `json:"currency"`
	Amount        int64  `json:"amount"`
	Reason        string `json:"reason"`
}

// AssemblePayouts groups approved reward balances per participant and
// currency and decides who is paid: the net balance (clawbacks netted) must
// be positive and at least minimum, and ineligible(participantID) must
// return "" (else it names the skip reason: SkipNoAccount, SkipDisabled).
// Lines and skips come out in a deterministic order.
func AssemblePayouts(balances []RewardBalance, ineligible func(participantID string) string, minimum int64) ([]PayoutLine, []PayoutSkip) {
	type key struct{ p, c string }
	lines := map[key]*PayoutLine{}
	var order []key
	for _, b := range balances {
		if b.Amount == 0 {
			continue
		}
		k := key{b.ParticipantID, b.Currency}
		l, ok := lines[k]
		if !ok {
			l = &PayoutLine{ParticipantID: b.ParticipantID, Currency: b.Currency}
			lines[k] = l
			order = append(order, k)
		}
		l.Amount += b.Amount
		l.Items = append(l.Items, PayoutItem{RewardID: b.RewardID, Amount: b.Amount, Planned: b.Amount, Status: PayoutItemDue})
	}
	slices.SortFunc(order, func(a, b key) int {
		if c := strings.Compare(a.p, b.p); c != 0 {
			return c
		}
		return strings.Compare(a.c, b.c)
	})
	var out []PayoutLine
	var skips []PayoutSkip
	for _, k := range order {
		l := lines[k]
		slices.SortFunc(l.Items, func(a, b PayoutItem) int { return strings.Compare(a.RewardID, b.RewardID) })
		skip := func(reason string) {
			skips = append(skips, PayoutSkip{ParticipantID: l.ParticipantID, Currency: l.Currency, Amount: l.Amount, Reason: reason})
		}
		switch {
		case l.Amount <= 0:
			skip(SkipNothingDue)
		case l.Amount < minimum:
			skip(SkipBelowMinimum)
		default:
			if reason := ineligible(l.ParticipantID); reason != "" {
				skip(reason)
			} else {
				out = append(out, *l)
			}
		}
	}
	return out, skips
}

// PayoutKey derives a payout's idempotency key from its batch, participant
// and currency: the same inputs always give the same key, so a payout
// re-sent after a crash carries the key the provider already saw. It is 44
// characters, within Stripe's and PayPal's limits.
func PayoutKey(batchID, participantID, currency string) string {
	h := sha256.Sum256([]byte(batchID + "\x00" + participantID + "\x00" + currency))
	return "prn_" + hex.EncodeToString(h[:20])
}

// AutoApprove reports whether a batch with these totals needs no manager:
// the limit is set and no currency's total exceeds it.
func AutoApprove(limit int64, totals map[string]int64) bool {
	if limit <= 0 {
		return false
	}
	for _, t := range totals {
		if t > limit {
			return false
		}
	}
	return true
}
