package parrain

import (
	"math"
	"testing"
)

func TestMulDiv(t *testing.T) {
	tests := []struct {
		name          string
		a, num, den   int64
		halfUp, halfE int64
	}{
		{"exact", 300, 2, 3, 200, 200},
		{"exact negative", -300, 2, 3, -200, -200},
		{"zero", 0, 7, 3, 0, 0},
		{"below half", 14, 1, 10, 1, 1},
		{"above half", 16, 1, 10, 2, 2},
		{"0.5", 5, 1, 10, 1, 0},
		{"1.5", 15, 1, 10, 2, 2},
		{"2.5", 25, 1, 10, 3, 2},
		{"3.5", 35, 1, 10, 4, 4},
		{"-0.5", -5, 1, 10, -1, 0},
		{"-1.5", -15, 1, 10, -2, -2},
		{"-2.5", -25, 1, 10, -3, -2},
		{"-3.5", -35, 1, 10, -4, -4},
		{"negative denominator 2.5", 25, 1, -10, -3, -2},
		{"negative both 2.5", -25, 1, -10, 3, 2},
		{"negative below half", -14, 1, 10, -1, -1},
		{"negative above half", -16, 1, 10, -2, -2},
		{"1/3", 1, 1, 3, 0, 0},
		{"2/3", 2, 1, 3, 1, 1},
		{"large exact through big int", math.MaxInt64, 3, 3, math.MaxInt64, math.MaxInt64},
		{"min int", math.MinInt64, 1, 1, math.MinInt64, math.MinInt64},
		{"intermediate beyond int64", math.MaxInt64, 10, 20, 4611686018427387904, 4611686018427387904},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := MulDiv(tc.a, tc.num, tc.den, RoundHalfUp)
			if err != nil || got != tc.halfUp {
				t.Errorf("half_up MulDiv(%d,%d,%d) = %d, %v; want %d", tc.a, tc.num, tc.den, got, err, tc.halfUp)
			}
			got, err = MulDiv(tc.a, tc.num, tc.den, RoundHalfEven)
			if err != nil || got != tc.halfE {
				t.Errorf("half_even MulDiv(%d,%d,%d) = %d, %v; want %d", tc.a, tc.num, tc.den, got, err, tc.halfE)
			}
		})
	}
}

func TestMulDivErrors(t *testing.T) {
	tests := []struct {
		name        string
		a, num, den int64
	}{
		{"division by zero", 10, 1, 0},
		{"overflow", math.MaxInt64, 2, 1},
		{"negative overflow", math.MinInt64, 2, 1},
		// (2^64-1)/3 * 3/2 = MaxInt64 + 0.5: rounding (away under both modes,
		// MaxInt64 being odd) pushes the result past int64.
		{"overflow by rounding", 6148914691236517205, 3, 2},
		{"min int negated", math.MinInt64, -1, 1},
	}
	for _, tc := range tests {
		for _, mode := range []Rounding{RoundHalfUp, RoundHalfEven} {
			got, err := MulDiv(tc.a, tc.num, tc.den, mode)
			if err == nil {
				t.Errorf("%s/%s: MulDiv = %d, want error", tc.name, mode, got)
				continue
			}
			if ErrorCode(err) != CodeInvalid || got != 0 {
				t.Errorf("%s/%s: got %d, %v; want 0 and invalid_argument", tc.name, mode, got, err)
			}
		}
	}
	// Just below: (2^64-2)/2 is exactly MaxInt64.
	if got, err := MulDiv(math.MaxInt64, 2, 2, RoundHalfUp); err != nil || got != math.MaxInt64 {
		t.Errorf("MaxInt64*2/2 = %d, %v; want MaxInt64", got, err)
	}
}

func TestPercentOf(t *testing.T) {
	tests := []struct {
		amount, bps, want int64
	}{
		{4999, 1000, 500}, // 499.9
		{4995, 1000, 500}, // 499.5 half-up
		{4994, 1000, 499}, // 499.4
		{10000, 1, 1},
		{49, 100, 0},  // 0.49
		{50, 100, 1},  // 0.5 half-up (not half-even 0)
		{150, 100, 2}, // 1.5
		{250, 100, 3}, // 2.5 half-up (half-even would be 2)
		{12345, 10000, 12345},
		{12345, 0, 0},
		{-4995, 1000, -500},
	}
	for _, tc := range tests {
		got, err := PercentOf(tc.amount, tc.bps)
		if err != nil || got != tc.want {
			t.Errorf("PercentOf(%d, %d) = %d, %v; want %d", tc.amount, tc.bps, got, err, tc.want)
		}
	}
	if _, err := PercentOf(math.MaxInt64, 20000); err == nil {
		t.Error("PercentOf overflow: want error")
	}
}

func TestCurrencyDigits(t *testing.T) {
	tests := []struct {
		code   string
		digits int
		ok     bool
	}{
		{"EUR", 2, true},
		{"USD", 2, true},
		{"GBP", 2, true},
		{"JPY", 0, true},
		{"KRW", 0, true},
		{"KWD", 3, true},
		{"BHD", 3, true},
		{"CLF", 4, true},
		{"eur", 0, false}, // upper case only
		{"XXX", 0, false},
		{"", 0, false},
	}
	for _, tc := range tests {
		d, ok := CurrencyDigits(tc.code)
		if d != tc.digits || ok != tc.ok {
			t.Errorf("CurrencyDigits(%q) = %d, %v; want %d, %v", tc.code, d, ok, tc.digits, tc.ok)
		}
	}
}

func TestNormalizeCurrency(t *testing.T) {
	ok := []struct{ in, want string }{
		{"EUR", "EUR"},
		{"eur", "EUR"},
		{" jpy ", "JPY"},
		{"Kwd", "KWD"},
	}
	for _, tc := range ok {
		got, err := NormalizeCurrency("currency", tc.in)
		if err != nil || got != tc.want {
			t.Errorf("NormalizeCurrency(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	bad := []struct{ field, in string }{
		{"currency", ""},
		{"currency", "   "},
		{"currency", "EURO"},
		{"rules[0].currency", "ABC"},
		{"payout.currency", "€"},
	}
	for _, tc := range bad {
		got, err := NormalizeCurrency(tc.field, tc.in)
		if got != "" {
			t.Errorf("NormalizeCurrency(%q) = %q on error", tc.in, got)
		}
		wantInvalid(t, err, tc.field)
	}
}

func TestFormatMinor(t *testing.T) {
	tests := []struct {
		amount   int64
		currency string
		want     string
	}{
		{1250, "EUR", "12.50"},
		{5, "EUR", "0.05"},
		{0, "EUR", "0.00"},
		{100, "EUR", "1.00"},
		{-1250, "EUR", "-12.50"},
		{-5, "EUR", "-0.05"},
		{1250, "JPY", "1250"},
		{-1250, "JPY", "-1250"},
		{1234, "KWD", "1.234"},
		{5, "KWD", "0.005"},
		{-1005, "KWD", "-1.005"},
		{12345, "CLF", "1.2345"},
		{1250, "XXX", "1250"}, // unknown currency: raw minor units
		{math.MinInt64, "EUR", "-92233720368547758.08"},
		{math.MaxInt64, "EUR", "92233720368547758.07"},
	}
	for _, tc := range tests {
		if got := FormatMinor(tc.amount, tc.currency); got != tc.want {
			t.Errorf("FormatMinor(%d, %s) = %q, want %q", tc.amount, tc.currency, got, tc.want)
		}
	}
}

func TestFormatBps(t *testing.T) {
	tests := []struct {
		bps  int64
		want string
	}{
		{1000, "10"},
		{1250, "12.5"},
		{1234, "12.34"},
		{1205, "12.05"},
		{1, "0.01"},
		{50, "0.5"},
		{0, "0"},
		{10000, "100"},
		{-1250, "-12.5"},
		{-5, "-0.05"},
		{math.MinInt64, "-92233720368547758.08"},
	}
	for _, tc := range tests {
		if got := FormatBps(tc.bps); got != tc.want {
			t.Errorf("FormatBps(%d) = %q, want %q", tc.bps, got, tc.want)
		}
	}
}
