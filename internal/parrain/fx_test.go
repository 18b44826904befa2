package parrain

import (
	"math"
	"testing"
)

func TestParseRate(t *testing.T) {
	good := []struct {
		in       string
		num, den int64
	}{
		{"0.92", 92, 100},
		{"1.0825", 10825, 10000},
		{"150", 150, 1},
		{" 3/4 ", 3, 4},
		{"92/100", 92, 100},
		{"0.000001", 1, 1000000},
		{"123456789.123456789", 123456789123456789, 1000000000},
	}
	for _, tc := range good {
		r, err := ParseRate("fx", tc.in)
		if err != nil || r.Num != tc.num || r.Den != tc.den {
			t.Errorf("ParseRate(%q) = %+v, %v", tc.in, r, err)
		}
	}
	for _, in := range []string{"", "0", "0.0", "-1", "1e3", "1,5", ".5", "1.", "abc", "1/0", "0/5", "1/2/3", "1.5/2", "NaN", "0x10",
		"1234567890123456789", "0.0000000000000000001"} {
		if _, err := ParseRate("fx", in); err == nil {
			t.Errorf("ParseRate(%q) accepted", in)
		} else {
			wantInvalid(t, err, "fx")
		}
	}
}

func TestConvertMinor(t *testing.T) {
	rate := func(s string) Rate {
		r, err := ParseRate("fx", s)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	tests := []struct {
		name     string
		amount   int64
		from, to string
		rate     string
		mode     Rounding
		want     int64
	}{
		{"USD to EUR", 4999, "USD", "EUR", "0.92", RoundHalfUp, 4599},                // 45.9908
		{"EUR to JPY drops digits", 1999, "EUR", "JPY", "162.35", RoundHalfUp, 3245}, // 3245.3765
		{"JPY to EUR adds digits", 5000, "JPY", "EUR", "0.0062", RoundHalfUp, 3100},  // 31.00
		{"EUR to KWD (3 digits)", 10000, "EUR", "KWD", "0.3321", RoundHalfUp, 33210},
		{"KWD to USD", 1000, "KWD", "USD", "3.25", RoundHalfUp, 325},
		{"half up", 5, "EUR", "USD", "0.5", RoundHalfUp, 3},     // 2.5
		{"half even", 5, "EUR", "USD", "0.5", RoundHalfEven, 2}, // 2.5
		{"half even odd", 7, "EUR", "USD", "0.5", RoundHalfEven, 4},
		{"ratio", 300, "USD", "EUR", "92/100", RoundHalfUp, 276},
		{"identity", 12345, "EUR", "USD", "1", RoundHalfUp, 12345},
	}
	for _, tc := range tests {
		got, err := ConvertMinor(tc.amount, tc.from, tc.to, rate(tc.rate), tc.mode)
		if err != nil || got != tc.want {
			t.Errorf("%s: ConvertMinor = %d, %v; want %d", tc.name, got, err, tc.want)
		}
	}
	if _, err := ConvertMinor(math.MaxInt64/2, "JPY", "KWD", rate("1000"), RoundHalfUp); err == nil {
		t.Error("overflow accepted")
	}
	if _, err := ConvertMinor(1, "XXX", "EUR", rate("1"), RoundHalfUp); err == nil {
		t.Error("unknown currency accepted")
	}
	// Conversion never uses floats: a rate with 18 digits is exact.
	got, err := ConvertMinor(1000000000, "EUR", "USD", rate("1.00000000000000001"), RoundHalfUp)
	if err != nil || got != 1000000000 {
		t.Errorf("exact conversion = %d, %v", got, err)
	}
}
