package shopifyhook

import (
	"errors"
	"fmt"
	"math"
	"strings"
)

// Sentinel errors returned (wrapped) by ParseDecimalMinor and CurrencyDigits.
var (
	// ErrInvalidDecimal: the string is not a plain decimal number
	// ("123", "123.45"; no sign, exponent, spaces or separators).
	ErrInvalidDecimal = errors.New("shopifyhook: invalid decimal amount")
	// ErrNegativeAmount: the amount is negative where only non-negative
	// amounts are meaningful.
	ErrNegativeAmount = errors.New("shopifyhook: negative amount")
	// ErrTooPrecise: the amount has non-zero digits beyond the currency's
	// minor unit (e.g. "1.005" in USD).
	ErrTooPrecise = errors.New("shopifyhook: amount more precise than the currency's minor unit")
	// ErrAmountOverflow: the amount in minor units does not fit in an int64.
	ErrAmountOverflow = errors.New("shopifyhook: amount overflows int64")
	// ErrUnknownCurrency: the currency code is not a known ISO 4217 code.
	ErrUnknownCurrency = errors.New("shopifyhook: unknown currency")
)

// maxDigits is the largest number of minor-unit digits ParseDecimalMinor
// accepts (ISO 4217 uses at most 4).
const maxDigits = 18

// ParseDecimalMinor converts a decimal string such as Shopify's "49.90" to an
// integer count of minor units with digits fractional digits ("49.90", 2 ->
// 4990), exactly and without floating point.
//
// Accepted: one or more ASCII digits, optionally followed by "." and one or
// more ASCII digits. Fractional digits beyond digits are accepted only if they
// are all zeros ("100.00" with 0 digits -> 100); otherwise ErrTooPrecise.
// Rejected: negatives (ErrNegativeAmount — order totals and refund amounts are
// never negative), signs, exponents, spaces, thousands separators, ".5" and
// "5." (ErrInvalidDecimal), and results beyond math.MaxInt64
// (ErrAmountOverflow). digits must be between 0 and 18.
func ParseDecimalMinor(s string, digits int) (int64, error) {
	if digits < 0 || digits > maxDigits {
		return 0, fmt.Errorf("%w: %d fractional digits requested (0–%d)", ErrInvalidDecimal, digits, maxDigits)
	}
	if strings.HasPrefix(s, "-") {
		return 0, fmt.Errorf("%w: %q", ErrNegativeAmount, s)
	}
	intPart, frac, hasPoint := strings.Cut(s, ".")
	if intPart == "" || !allDigits(intPart) || (hasPoint && (frac == "" || !allDigits(frac))) {
		return 0, fmt.Errorf("%w: %q", ErrInvalidDecimal, s)
	}
	if len(frac) > digits {
		if strings.Trim(frac[digits:], "0") != "" {
			return 0, fmt.Errorf("%w: %q has more than %d significant fractional digits", ErrTooPrecise, s, digits)
		}
		frac = frac[:digits]
	}

	var v int64
	appendDigit := func(c byte) bool {
		d := int64(c - '0')
		if v > (math.MaxInt64-d)/10 {
			return false
		}
		v = v*10 + d
		return true
	}
	for i := 0; i < len(intPart); i++ {
		if !appendDigit(intPart[i]) {
			return 0, fmt.Errorf("%w: %q", ErrAmountOverflow, s)
		}
	}
	for i := 0; i < digits; i++ {
		c := byte('0')
		if i < len(frac) {
			c = frac[i]
		}
		if !appendDigit(c) {
			return 0, fmt.Errorf("%w: %q", ErrAmountOverflow, s)
		}
	}
	return v, nil
}

// allDigits reports whether s consists of ASCII digits only.
func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// currencyDigits maps active ISO 4217 codes to their minor-unit digits. It
// mirrors the table of the domain package (internal/parrain), duplicated so
// that this package imports only the standard library.
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

// CurrencyDigits returns the number of minor-unit digits of an ISO 4217
// currency code (case-insensitive: Shopify sends upper case), or an error
// wrapping ErrUnknownCurrency.
func CurrencyDigits(code string) (int, error) {
	d, ok := currencyDigits[strings.ToUpper(code)]
	if !ok {
		return 0, fmt.Errorf("%w: %q", ErrUnknownCurrency, code)
	}
	return d, nil
}

// amountMinor converts a Shopify money string in currency to minor units.
func amountMinor(amount, currency string) (int64, error) {
	digits, err := CurrencyDigits(currency)
	if err != nil {
		return 0, err
	}
	return ParseDecimalMinor(amount, digits)
}
