package parrain

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestPayoutAccountInputNormalize(t *testing.T) {
	cases := []struct {
		name  string
		in    PayoutAccountInput
		field string // "" = valid
		check func(t *testing.T, in PayoutAccountInput)
	}{
		{"stripe", PayoutAccountInput{Method: PayoutStripe, StripeAccount: " acct_1Nv0FGQ9RKHgCVdK "}, "", func(t *testing.T, in PayoutAccountInput) {
			if in.StripeAccount != "acct_1Nv0FGQ9RKHgCVdK" {
				t.Errorf("account %q", in.StripeAccount)
			}
		}},
		{"stripe bad id", PayoutAccountInput{Method: PayoutStripe, StripeAccount: "cus_123"}, "stripe_account", nil},
		{"stripe empty", PayoutAccountInput{Method: PayoutStripe}, "stripe_account", nil},
		{"stripe junk", PayoutAccountInput{Method: PayoutStripe, StripeAccount: "acct_12'3"}, "stripe_account", nil},
		{"stripe with email", PayoutAccountInput{Method: PayoutStripe, StripeAccount: "acct_1", PayPalEmail: "a@b.example"}, "paypal_email", nil},
		{"paypal", PayoutAccountInput{Method: PayoutPayPal, PayPalEmail: "Alice@EXAMPLE.com"}, "", func(t *testing.T, in PayoutAccountInput) {
			if in.PayPalEmail != "Alice@example.com" {
				t.Errorf("email %q", in.PayPalEmail)
			}
		}},
		{"paypal missing", PayoutAccountInput{Method: PayoutPayPal}, "paypal_email", nil},
		{"paypal invalid", PayoutAccountInput{Method: PayoutPayPal, PayPalEmail: "nope"}, "paypal_email", nil},
		{"paypal with bank", PayoutAccountInput{Method: PayoutPayPal, PayPalEmail: "a@b.example", Bank: &BankDetails{}}, "bank", nil},
		{"iban", PayoutAccountInput{Method: PayoutBank, Bank: &BankDetails{HolderName: " Alice Martin ", IBAN: "fr14 2004 1010 0505 0001 3m02 606", BIC: "psstfrppxxx"}}, "", func(t *testing.T, in PayoutAccountInput) {
			want := BankDetails{HolderName: "Alice Martin", IBAN: "FR1420041010050500013M02606", BIC: "PSSTFRPPXXX", Country: "FR"}
			if *in.Bank != want {
				t.Errorf("bank %+v, want %+v", *in.Bank, want)
			}
		}},
		{"iban check digits", PayoutAccountInput{Method: PayoutBank, Bank: &BankDetails{HolderName: "A", IBAN: "DE89370400440532013001"}}, "bank.iban", nil},
		{"iban country mismatch", PayoutAccountInput{Method: PayoutBank, Bank: &BankDetails{HolderName: "A", IBAN: "DE89370400440532013000", Country: "FR"}}, "bank.country", nil},
		{"iban and account", PayoutAccountInput{Method: PayoutBank, Bank: &BankDetails{HolderName: "A", IBAN: "DE89370400440532013000", AccountNumber: "1234"}}, "bank.account_number", nil},
		{"bad bic", PayoutAccountInput{Method: PayoutBank, Bank: &BankDetails{HolderName: "A", IBAN: "DE89370400440532013000", BIC: "12345678"}}, "bank.bic", nil},
		{"us account", PayoutAccountInput{Method: PayoutBank, Bank: &BankDetails{HolderName: "Bob", AccountNumber: "000123456789", RoutingNumber: "110000000", Country: "us"}}, "", func(t *testing.T, in PayoutAccountInput) {
			if in.Bank.Country != "US" {
				t.Errorf("country %q", in.Bank.Country)
			}
		}},
		{"account without country", PayoutAccountInput{Method: PayoutBank, Bank: &BankDetails{HolderName: "Bob", AccountNumber: "000123456789"}}, "bank.country", nil},
		{"no holder", PayoutAccountInput{Method: PayoutBank, Bank: &BankDetails{IBAN: "DE89370400440532013000"}}, "bank.holder_name", nil},
		{"no numbers", PayoutAccountInput{Method: PayoutBank, Bank: &BankDetails{HolderName: "A"}}, "bank.iban", nil},
		{"bank missing", PayoutAccountInput{Method: PayoutBank}, "bank", nil},
		{"no method", PayoutAccountInput{}, "method", nil},
		{"bad method", PayoutAccountInput{Method: "cheque"}, "method", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			in := c.in
			if in.Bank != nil {
				b := *in.Bank
				in.Bank = &b
			}
			err := in.Normalize()
			if c.field != "" {
				wantInvalid(t, err, c.field)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.check != nil {
				c.check(t, in)
			}
		})
	}
}

func TestValidIBAN(t *testing.T) {
	for _, s := range []string{"DE89370400440532013000", "GB82WEST12345698765432", "FR1420041010050500013M02606", "NL91ABNA0417164300"} {
		if !ValidIBAN(s) {
			t.Errorf("ValidIBAN(%s) = false", s)
		}
	}
	for _, s := range []string{"", "DE8937040044053201300", "DE89370400440532013001", "XX00", "1289370400440532013000", "DE89 370400440532013000", strings.Repeat("DE89", 10)} {
		if ValidIBAN(s) {
			t.Errorf("ValidIBAN(%q) = true", s)
		}
	}
}

func TestPayoutAccountMaskedAndDestination(t *testing.T) {
	a := PayoutAccount{Method: PayoutBank, Bank: &BankDetails{HolderName: "A", IBAN: "DE89370400440532013000", Country: "DE"}}
	m := a.Masked()
	if m.Bank.IBAN != "DE••••••••••••••••3000" || a.Bank.IBAN != "DE89370400440532013000" {
		t.Errorf("masked %q, original %q", m.Bank.IBAN, a.Bank.IBAN)
	}
	if d := a.Destination(); d != "IBAN DE••••••••••••••••3000" {
		t.Errorf("destination %q", d)
	}
	us := PayoutAccount{Method: PayoutBank, Bank: &BankDetails{HolderName: "B", AccountNumber: "000123456789", Country: "US"}}
	if d := us.Destination(); d != "US ••••••••6789" {
		t.Errorf("destination %q", d)
	}
	if d := (PayoutAccount{Method: PayoutStripe, StripeAccount: "acct_1"}).Destination(); d != "acct_1" {
		t.Errorf("destination %q", d)
	}
	if d := (PayoutAccount{Method: PayoutPayPal, PayPalEmail: "a@b.example"}).Destination(); d != "a@b.example" {
		t.Errorf("destination %q", d)
	}
}

func TestPayoutSettingsNormalize(t *testing.T) {
	cases := []struct {
		name  string
		in    PayoutSettings
		field string
		day   int
	}{
		{"default", PayoutSettings{}, "", 1},
		{"monthly default day", PayoutSettings{Schedule: ScheduleMonthly}, "", 1},
		{"monthly 15", PayoutSettings{Schedule: ScheduleMonthly, Day: 15, Hour: 9, MinimumAmount: 5000, AutoApproveLimit: 100000}, "", 15},
		{"monthly 31", PayoutSettings{Schedule: ScheduleMonthly, Day: 31}, "day", 0},
		{"weekly sunday", PayoutSettings{Schedule: ScheduleWeekly, Day: 0}, "", 0},
		{"weekly 7", PayoutSettings{Schedule: ScheduleWeekly, Day: 7}, "day", 0},
		{"hour", PayoutSettings{Schedule: ScheduleMonthly, Hour: 24}, "hour", 0},
		{"schedule", PayoutSettings{Schedule: "daily"}, "schedule", 0},
		{"minimum", PayoutSettings{MinimumAmount: -1}, "minimum_amount", 0},
		{"limit", PayoutSettings{AutoApproveLimit: MaxAmount + 1}, "auto_approve_limit", 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := c.in
			err := s.Normalize()
			if c.field != "" {
				wantInvalid(t, err, c.field)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if s.Day != c.day || s.Schedule == "" {
				t.Errorf("day %d schedule %q, want day %d", s.Day, s.Schedule, c.day)
			}
		})
	}
}

func TestNextPayoutRun(t *testing.T) {
	d := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	monthly := PayoutSettings{Schedule: ScheduleMonthly, Day: 1, Hour: 6}
	cases := []struct {
		name  string
		s     PayoutSettings
		after string
		want  string
	}{
		{"monthly before this month's slot", PayoutSettings{Schedule: ScheduleMonthly, Day: 15, Hour: 6}, "2026-03-10T00:00:00Z", "2026-03-15T06:00:00Z"},
		{"monthly after this month's slot", monthly, "2026-03-10T00:00:00Z", "2026-04-01T06:00:00Z"},
		{"monthly exactly at the slot", monthly, "2026-04-01T06:00:00Z", "2026-05-01T06:00:00Z"},
		{"monthly a millisecond before", monthly, "2026-04-01T05:59:59.999Z", "2026-04-01T06:00:00Z"},
		{"monthly over new year", monthly, "2026-12-02T00:00:00Z", "2027-01-01T06:00:00Z"},
		{"monthly on the 28th in February", PayoutSettings{Schedule: ScheduleMonthly, Day: 28}, "2027-02-01T00:00:00Z", "2027-02-28T00:00:00Z"},
		{"monthly from another zone", monthly, "2026-03-31T23:30:00-02:00", "2026-04-01T06:00:00Z"},
		{"weekly monday later this week", PayoutSettings{Schedule: ScheduleWeekly, Day: 1, Hour: 9}, "2026-03-11T10:00:00Z", "2026-03-16T09:00:00Z"},
		{"weekly same day before the hour", PayoutSettings{Schedule: ScheduleWeekly, Day: 3, Hour: 9}, "2026-03-11T08:00:00Z", "2026-03-11T09:00:00Z"},
		{"weekly same day after the hour", PayoutSettings{Schedule: ScheduleWeekly, Day: 3, Hour: 9}, "2026-03-11T09:00:00Z", "2026-03-18T09:00:00Z"},
		{"weekly sunday", PayoutSettings{Schedule: ScheduleWeekly, Day: 0}, "2026-03-11T09:00:00Z", "2026-03-15T00:00:00Z"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, ok := NextPayoutRun(c.s, d(c.after))
			if !ok || !got.Equal(d(c.want)) {
				t.Errorf("NextPayoutRun = %v %v, want %s", got, ok, c.want)
			}
		})
	}
	if _, ok := NextPayoutRun(PayoutSettings{Schedule: ScheduleManual}, t0); ok {
		t.Error("manual schedule has a next run")
	}
	// Successive runs are one month apart and always on the 1st.
	at := d("2026-01-01T06:00:00Z")
	for i := 0; i < 24; i++ {
		next, _ := NextPayoutRun(monthly, at)
		if next.Day() != 1 || next.Hour() != 6 || next.Sub(at) < 28*24*time.Hour || next.Sub(at) > 31*24*time.Hour {
			t.Fatalf("run after %v is %v", at, next)
		}
		at = next
	}
}

func TestPayoutItemRevalidate(t *testing.T) {
	for _, c := range []struct {
		planned, amount, owed int64
		want                  int64
		st                    PayoutItemStatus
	}{
		{5500, 5500, 5500, 5500, PayoutItemDue},     // nothing happened
		{5500, 5500, 0, 0, PayoutItemDropped},       // clawed back in full
		{5500, 5500, 2000, 2000, PayoutItemReduced}, // clawed back in part
		{5500, 2000, 9000, 2000, PayoutItemReduced}, // never more than already decided
		{-200, -200, -200, -200, PayoutItemDue},     // a netted clawback
		{-200, -200, -700, -700, PayoutItemReduced}, // clawed back further: nets more
	} {
		got := PayoutItem{RewardID: "r", Amount: c.amount, Planned: c.planned}.Revalidate(c.owed)
		if got.Amount != c.want || got.Status != c.st || got.Planned != c.planned {
			t.Errorf("%+v: got %+v", c, got)
		}
	}
}

func TestAssemblePayouts(t *testing.T) {
	accounts := map[string]bool{"alice": true, "bob": true, "carol": true, "dan": false, "fay": true}
	has := func(p string) string {
		if p == "fay" {
			return SkipDisabled
		}
		if !accounts[p] {
			return SkipNoAccount
		}
		return ""
	}
	balances := []RewardBalance{
		{"r3", "bob", "EUR", 700},
		{"r1", "alice", "EUR", 1500},
		{"r2", "alice", "EUR", 500},
		{"r4", "carol", "EUR", 300},   // below the minimum
		{"r5", "dan", "EUR", 5000},    // no account
		{"r6", "bob", "EUR", -200},    // clawback of a paid reward, netted
		{"r7", "erin", "EUR", -900},   // only a clawback: nothing due
		{"r8", "alice", "USD", 2000},  // another currency: another payout
		{"r9", "alice", "EUR", 0},     // nothing: ignored
		{"r10", "carol", "EUR", -300}, // brings carol to zero
		{"r11", "fay", "EUR", 9000},   // disabled participant
	}
	lines, skips := AssemblePayouts(balances, has, 500)
	wantLines := []PayoutLine{
		{"alice", "EUR", 2000, []PayoutItem{{"r1", 1500, 1500, PayoutItemDue}, {"r2", 500, 500, PayoutItemDue}}},
		{"alice", "USD", 2000, []PayoutItem{{"r8", 2000, 2000, PayoutItemDue}}},
		{"bob", "EUR", 500, []PayoutItem{{"r3", 700, 700, PayoutItemDue}, {"r6", -200, -200, PayoutItemDue}}},
	}
	if !reflect.DeepEqual(lines, wantLines) {
		t.Errorf("lines\n got %+v\nwant %+v", lines, wantLines)
	}
	wantSkips := []PayoutSkip{
		{ParticipantID: "carol", Currency: "EUR", Amount: 0, Reason: SkipNothingDue},
		{ParticipantID: "dan", Currency: "EUR", Amount: 5000, Reason: SkipNoAccount},
		{ParticipantID: "erin", Currency: "EUR", Amount: -900, Reason: SkipNothingDue},
		{ParticipantID: "fay", Currency: "EUR", Amount: 9000, Reason: SkipDisabled},
	}
	if !reflect.DeepEqual(skips, wantSkips) {
		t.Errorf("skips\n got %+v\nwant %+v", skips, wantSkips)
	}
	// Below the minimum.
	_, skips = AssemblePayouts([]RewardBalance{{"r4", "carol", "EUR", 300}}, has, 500)
	if len(skips) != 1 || skips[0].Reason != SkipBelowMinimum {
		t.Errorf("skips %+v", skips)
	}
	// Every line sums its items exactly.
	for _, l := range lines {
		var s int64
		for _, it := range l.Items {
			s += it.Amount
		}
		if s != l.Amount {
			t.Errorf("line %+v: items sum to %d", l, s)
		}
	}
}

func TestPayoutKey(t *testing.T) {
	k := PayoutKey("pbat_1", "part_1", "EUR")
	if k != PayoutKey("pbat_1", "part_1", "EUR") {
		t.Error("not deterministic")
	}
	if len(k) != 44 || !strings.HasPrefix(k, "prn_") {
		t.Errorf("key %q", k)
	}
	seen := map[string]bool{}
	for _, in := range [][3]string{{"pbat_1", "part_1", "EUR"}, {"pbat_2", "part_1", "EUR"}, {"pbat_1", "part_2", "EUR"}, {"pbat_1", "part_1", "USD"}, {"pbat_1part_1", "", "EUR"}} {
		k := PayoutKey(in[0], in[1], in[2])
		if seen[k] {
			t.Errorf("collision for %v", in)
		}
		seen[k] = true
	}
}

func TestAutoApprove(t *testing.T) {
	cases := []struct {
		limit  int64
		totals map[string]int64
		want   bool
	}{
		{0, map[string]int64{"EUR": 1}, false},
		{1000, map[string]int64{"EUR": 1000}, true},
		{1000, map[string]int64{"EUR": 1001}, false},
		{1000, map[string]int64{"EUR": 10, "USD": 2000}, false},
		{1000, map[string]int64{}, true},
	}
	for _, c := range cases {
		if got := AutoApprove(c.limit, c.totals); got != c.want {
			t.Errorf("AutoApprove(%d, %v) = %v", c.limit, c.totals, got)
		}
	}
}

func TestPayOut(t *testing.T) {
	approved := &Reward{Amount: 1000, Reversed: 200, Status: RewardApproved}
	moves, st := PayOut(approved, 800)
	if st != RewardPaid || !reflect.DeepEqual(moves, []Movement{{EntryPayout, BucketApproved, -800}, {EntryPayout, BucketPaid, 800}}) {
		t.Errorf("approved: %v %v", moves, st)
	}
	// A clawback after payment, netted by a later payout: the approved
	// bucket comes back to zero, the paid bucket down to what is kept.
	paid := &Reward{Amount: 1000, Reversed: 300, Status: RewardPaid}
	moves, st = PayOut(paid, -300)
	if st != RewardPaid || !reflect.DeepEqual(moves, []Movement{{EntryPayout, BucketApproved, 300}, {EntryPayout, BucketPaid, -300}}) {
		t.Errorf("netting: %v %v", moves, st)
	}
	clawed := &Reward{Amount: 1000, Reversed: 1000, Status: RewardClawedBack}
	if _, st := PayOut(clawed, -1000); st != RewardClawedBack {
		t.Errorf("clawed back reward became %s", st)
	}
	if moves, _ := PayOut(approved, 0); moves != nil {
		t.Errorf("zero: %v", moves)
	}
}
