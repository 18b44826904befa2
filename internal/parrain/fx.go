package parrain

import (
	"math/big"
	"strings"
)

// Rate is an exchange rate as an exact fraction Num/Den (both positive):
// one major unit of the source currency is worth Num/Den major units of the
// target currency. Rates are given as decimal strings ("1.0825") or integer
// ratios ("10825/10000") and never as floats.
type Rate struct {
	Num, Den int64
	text     string
}

// maxRateDigits bounds the digits of a decimal rate (18 keeps Num in int64).
const maxRateDigits = 18

// ParseRate parses an exchange rate: a positive decimal ("0.92", "1.0825",
// "150") or a ratio of positive integers ("92/100"). field names the input
// for errors.
func ParseRate(field, s string) (Rate, error) {
	s = strings.TrimSpace(s)
	bad := func() (Rate, error) {
		return Rate{}, Invalid(field, "must be a positive exchange rate as a decimal string (\"0.92\") or a ratio (\"92/100\"), not %q", s)
	}
	if s == "" || len(s) > 40 {
		return bad()
	}
	if n, d, ok := strings.Cut(s, "/"); ok {
		num, ok1 := parseDigits(n)
		den, ok2 := parseDigits(d)
		if !ok1 || !ok2 || num == 0 || den == 0 {
			return bad()
		}
		return Rate{Num: num, Den: den, text: s}, nil
	}
	ip, fp, _ := strings.Cut(s, ".")
	if ip == "" || len(ip)+len(fp) > maxRateDigits || (strings.Contains(s, ".") && fp == "") {
		return bad()
	}
	num, ok := parseDigits(ip + fp)
	if !ok || num == 0 {
		return bad()
	}
	den := int64(1)
	for range len(fp) {
		den *= 10
	}
	return Rate{Num: num, Den: den, text: s}, nil
}

// parseDigits parses an unsigned decimal integer of at most 18 digits.
func parseDigits(s string) (int64, bool) {
	if s == "" || len(s) > maxRateDigits {
		return 0, false
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// String returns the rate as it was given.
func (r Rate) String() string { return r.text }

// ConvertMinor converts amount minor units of currency from into minor
// units of currency to at rate, rounding with mode. The arithmetic is exact
// (big integers): amount × Num × 10^digits(to) / (Den × 10^digits(from)).
func ConvertMinor(amount int64, from, to string, r Rate, mode Rounding) (int64, error) {
	df, ok1 := CurrencyDigits(from)
	dt, ok2 := CurrencyDigits(to)
	if !ok1 || !ok2 {
		return 0, Errorf(CodeInvalid, "unknown currency %s or %s", from, to)
	}
	if r.Num <= 0 || r.Den <= 0 {
		return 0, Errorf(CodeInvalid, "invalid exchange rate")
	}
	num := new(big.Int).Mul(big.NewInt(amount), big.NewInt(r.Num))
	num.Mul(num, new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(dt)), nil))
	den := new(big.Int).Mul(big.NewInt(r.Den), new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(df)), nil))
	q, err := roundQuo(num, den, mode)
	if err != nil {
		return 0, err
	}
	return q, nil
}

// roundQuo divides exactly and rounds with mode, like MulDiv.
func roundQuo(p, d *big.Int, mode Rounding) (int64, error) {
	q, r := new(big.Int).QuoRem(p, d, new(big.Int))
	if r.Sign() != 0 {
		twoR := new(big.Int).Abs(r)
		twoR.Lsh(twoR, 1)
		cmp := twoR.Cmp(new(big.Int).Abs(d))
		neg := (p.Sign() < 0) != (d.Sign() < 0)
		if cmp > 0 || (cmp == 0 && (mode != RoundHalfEven || q.Bit(0) == 1)) {
			if neg {
				q.Sub(q, big.NewInt(1))
			} else {
				q.Add(q, big.NewInt(1))
			}
		}
	}
	if !q.IsInt64() || q.Int64() > MaxAmount || q.Int64() < -MaxAmount {
		return 0, Errorf(CodeInvalid, "amount overflows")
	}
	return q.Int64(), nil
}

// RoundingLabel names a rounding mode in explanations ("half-up").
func RoundingLabel(m Rounding) string {
	if m == RoundHalfEven {
		return "half-even"
	}
	return "half-up"
}
