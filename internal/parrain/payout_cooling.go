package parrain

import (
	"strings"
	"time"
)

// SkipCoolingOff is the reason a payout run leaves out a participant whose
// payout destination changed within the cooling-off period: a stolen
// widget token or portal session must not redirect money silently.
const SkipCoolingOff = "payout_account_changed"

// DefaultPayoutCoolingOff is how long payouts to a new destination wait by
// default.
const DefaultPayoutCoolingOff = 72 * time.Hour

// PayoutDestinationChanged reports whether saving in over old (nil: there
// is none now) sends money somewhere new for a participant who had a
// payout account before (hadBefore; the first account ever set is no
// change). Only where the money goes counts: a corrected holder name or
// BIC on the same account number is not a new destination.
func PayoutDestinationChanged(hadBefore bool, old *PayoutAccount, in PayoutAccountInput) bool {
	if !hadBefore {
		return false
	}
	if old == nil {
		return true // deleted, then set again
	}
	return destinationKey(old.Method, old.StripeAccount, old.PayPalEmail, old.Bank) != destinationKey(in.Method, in.StripeAccount, in.PayPalEmail, in.Bank)
}

func destinationKey(m PayoutMethod, stripe, paypal string, b *BankDetails) string {
	k := string(m) + "|" + strings.TrimSpace(stripe) + "|" + strings.ToLower(strings.TrimSpace(paypal))
	if b != nil {
		norm := func(s string) string { return strings.ToUpper(strings.Join(strings.Fields(s), "")) }
		k += "|" + norm(b.IBAN) + "|" + norm(b.AccountNumber) + "|" + norm(b.RoutingNumber) + "|" + norm(b.Country)
	}
	return k
}

// PayoutHeld reports whether payouts to a destination changed at changedAt
// (nil: never changed) still wait at now under a cooling-off period, and
// until when. A period of zero or less holds nothing.
func PayoutHeld(changedAt *time.Time, period time.Duration, now time.Time) (time.Time, bool) {
	if changedAt == nil || period <= 0 {
		return time.Time{}, false
	}
	until := changedAt.Add(period)
	return until, now.Before(until)
}

// NoticePayoutAccountChanged tells a participant their payout account was
// set or changed, and, when it changed, until when payouts to it wait. It
// is a security notice: always emailed when the participant has an
// address, whatever the program's email settings or an unsubscribe, and
// not in NoticeKinds (programs can neither turn it off nor override its
// text).
const NoticePayoutAccountChanged NoticeKind = "payout_account_changed"
