package parrain

import (
	"testing"
	"time"
)

func TestPayoutDestinationChanged(t *testing.T) {
	iban := func(s, holder string) PayoutAccountInput {
		return PayoutAccountInput{Method: PayoutBank, Bank: &BankDetails{HolderName: holder, IBAN: s}}
	}
	old := &PayoutAccount{Method: PayoutBank, Bank: &BankDetails{HolderName: "Alice", IBAN: "FR7630006000011234567890189"}}
	cases := []struct {
		name      string
		hadBefore bool
		old       *PayoutAccount
		in        PayoutAccountInput
		want      bool
	}{
		{"the first account ever", false, nil, iban("FR7630006000011234567890189", "Alice"), false},
		{"same IBAN, new holder name", true, old, iban("FR76 3000 6000 0112 3456 7890 189", "Alice Martin"), false},
		{"another IBAN", true, old, iban("DE89370400440532013000", "Alice"), true},
		{"to PayPal", true, old, PayoutAccountInput{Method: PayoutPayPal, PayPalEmail: "a@x.example"}, true},
		{"deleted, then set again", true, nil, iban("FR7630006000011234567890189", "Alice"), true},
		{"same PayPal email in capitals", true, &PayoutAccount{Method: PayoutPayPal, PayPalEmail: "a@x.example"},
			PayoutAccountInput{Method: PayoutPayPal, PayPalEmail: "A@X.example"}, false},
	}
	for _, c := range cases {
		if got := PayoutDestinationChanged(c.hadBefore, c.old, c.in); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

func TestPayoutHeld(t *testing.T) {
	at := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	cases := []struct {
		name    string
		changed *time.Time
		period  time.Duration
		now     time.Time
		want    bool
	}{
		{"never changed", nil, 72 * time.Hour, at, false},
		{"just changed", &at, 72 * time.Hour, at.Add(time.Hour), true},
		{"a second before the end", &at, 72 * time.Hour, at.Add(72*time.Hour - time.Second), true},
		{"at the end", &at, 72 * time.Hour, at.Add(72 * time.Hour), false},
		{"no cooling-off", &at, 0, at, false},
	}
	for _, c := range cases {
		until, held := PayoutHeld(c.changed, c.period, c.now)
		if held != c.want || (held && !until.Equal(at.Add(c.period))) {
			t.Errorf("%s: %v %s", c.name, held, until)
		}
	}
}
