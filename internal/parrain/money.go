package parrain

import (
	"math"
	"math/big"
	"strings"
)

// Money amounts are always int64 counts of the currency's minor unit (cents
// for EUR, yen for JPY), as Stripe does, paired with an ISO 4217 code. No
// float ever touches money.

// currencyDigits maps every active ISO 4217 currency code to the number of
// digits of its minor unit.
var currencyDigits = func() map[string]int {
	m := map[string]int{}
	two := "AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BMD BND BOB BRL BSD BTN BWP BYN BZD CAD CDF CHF CNY COP CRC CUP CVE CZK DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD GTQ GYD HKD HNL HTG HUF IDR ILS INR IRR JMD KES KGS KHR KPW KYD KZT LAK LBP LKR LRD LSL MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR NZD PAB PEN PGK PHP PKR PLN QAR RON RSD RUB SAR SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TOP TRY TTD TWD TZS UAH USD UYU UZS VES WST XCD XCG YER ZAR ZMW ZWG"
	for _, c := range strings.Fields(two) {
		m[c] = 2
	}
	for _, c := range strings.Fields("BIF CLP DJF GNF ISK JPY KMF KRW PYG RWF UGX UYI VND VUV XAF XOF XPF") {
		m[c] = 0
	}
	for _, c := range strings.Fields("BHD IQD JOD KWD LYD OMR TND") {
		m[c] = 3
	}
	for _, c := range strings.Fields("CLF UYW") {
		m[c] = 4
	}
	return m
}()

// CurrencyDigits returns the minor-unit digits of an ISO 4217 code (upper
// case) and whether the code is known.
func CurrencyDigits(code string) (int, bool) {
	d, ok := currencyDigits[code]
	return d, ok
}

// NormalizeCurrency upper-cases code and checks that it is an active ISO 4217
// currency. field names the input for the error.
func NormalizeCurrency(field, code string) (string, error) {
	c := strings.ToUpper(strings.TrimSpace(code))
	if c == "" {
		return "", Invalid(field, "is required (an ISO 4217 code such as EUR or USD)")
	}
	if _, ok := currencyDigits[c]; !ok {
		return "", Invalid(field, "%q is not an ISO 4217 currency code", code)
	}
	return c, nil
}

// Rounding says how a fractional minor unit is rounded.
type Rounding string

// Supported rounding modes.
const (
	RoundHalfUp   Rounding = "half_up"   // 0.5 rounds away from zero
	RoundHalfEven Rounding = "half_even" // banker's rounding: 0.5 rounds to the even neighbour
)

// MulDiv returns a*num/den rounded to an integer with mode, exactly (big
// integer arithmetic), or an error if den is zero or the result overflows
// int64.
func MulDiv(a, num, den int64, mode Rounding) (int64, error) {
	if den == 0 {
		return 0, Errorf(CodeInvalid, "division by zero")
	}
	p := new(big.Int).Mul(big.NewInt(a), big.NewInt(num))
	d := big.NewInt(den)
	q, r := new(big.Int).QuoRem(p, d, new(big.Int))
	if r.Sign() != 0 {
		// Compare 2|r| with |d| to decide the rounding direction.
		twoR := new(big.Int).Abs(r)
		twoR.Lsh(twoR, 1)
		cmp := twoR.Cmp(new(big.Int).Abs(d))
		neg := (p.Sign() < 0) != (d.Sign() < 0)
		away := cmp > 0 || (cmp == 0 && (mode != RoundHalfEven || q.Bit(0) == 1))
		if away {
			if neg {
				q.Sub(q, big.NewInt(1))
			} else {
				q.Add(q, big.NewInt(1))
			}
		}
	}
	if !q.IsInt64() {
		return 0, Errorf(CodeInvalid, "amount overflows")
	}
	return q.Int64(), nil
}

// PercentOf returns bps basis points (1/100 of a percent: 1000 = 10%) of
// amount, rounded half-up to the minor unit.
func PercentOf(amount, bps int64) (int64, error) {
	return MulDiv(amount, bps, 10000, RoundHalfUp)
}

// MaxAmount is the largest amount Parrain accepts in any field: a bound far
// above any real payment that keeps sums of many amounts inside int64.
const MaxAmount = math.MaxInt64 / (1 << 20)
