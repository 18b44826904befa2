package parrain

import (
	"crypto/rand"
	"strings"
)

// CodeAlphabet is the alphabet of generated referral codes: digits and upper
// case letters without the ambiguous 0/O, 1/I/L.
const CodeAlphabet = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

// CodeLength is the length of generated codes: 31^7 ≈ 2.7e10 codes.
const CodeLength = 7

// NewCode returns a random referral code from CodeAlphabet.
func NewCode() string {
	var b [CodeLength]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("parrain: crypto/rand failed: " + err.Error())
	}
	out := make([]byte, CodeLength)
	for i, v := range b {
		// 256 is not a multiple of 31; the bias (< 1%) is irrelevant for
		// codes, which are identifiers, not secrets.
		out[i] = CodeAlphabet[int(v)%len(CodeAlphabet)]
	}
	return string(out)
}

// NormalizeCode returns the canonical (upper case, trimmed) form of a code
// as typed or read from a URL. Codes are case-insensitive.
func NormalizeCode(s string) string {
	return strings.ToUpper(strings.TrimSpace(s))
}

// ValidateVanityCode checks a requested vanity code and returns its canonical
// form: 3 to 32 characters, letters, digits and hyphens, not starting or
// ending with a hyphen.
func ValidateVanityCode(field, s string) (string, error) {
	c := NormalizeCode(s)
	if len(c) < 3 || len(c) > 32 {
		return "", Invalid(field, "must be 3 to 32 characters long")
	}
	for i := 0; i < len(c); i++ {
		ch := c[i]
		ok := ch >= 'A' && ch <= 'Z' || ch >= '0' && ch <= '9' || ch == '-'
		if !ok {
			return "", Invalid(field, "may contain only letters, digits and hyphens")
		}
	}
	if c[0] == '-' || c[len(c)-1] == '-' {
		return "", Invalid(field, "must not start or end with a hyphen")
	}
	return c, nil
}

// ValidCodeSyntax reports whether s could be a code at all (cheap check used
// before looking a code up, so junk never reaches the database).
func ValidCodeSyntax(s string) bool {
	if len(s) < 3 || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if !(ch >= 'A' && ch <= 'Z' || ch >= 'a' && ch <= 'z' || ch >= '0' && ch <= '9' || ch == '-') {
			return false
		}
	}
	return true
}
