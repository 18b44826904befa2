package parrain

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
)

// Participant attributes are small facts the customer's system keeps about
// a participant — "plan": "pro", "segment": "smb", "paying": true,
// "partner_tier": "active" — that eligibility rules and partner rates read.

// Attributes maps attribute names to strings, booleans or integers.
type Attributes map[string]any

// MaxAttributes bounds how many attributes a participant carries.
const MaxAttributes = 50

// NormalizeAttributes validates an attribute object: at most MaxAttributes
// keys, each a lower-case identifier, each value a string (at most 200
// characters), a boolean or an integer. JSON numbers with a fraction are
// refused: attributes are not a place for amounts.
func NormalizeAttributes(field string, attrs Attributes) error {
	if len(attrs) > MaxAttributes {
		return Invalid(field, "at most %d attributes", MaxAttributes)
	}
	for k, v := range attrs {
		if !engineIdent(k) {
			return Invalid(field, "%q is not an attribute name (lower-case letters, digits, - and _; at most 64)", k)
		}
		f := field + "." + k
		switch x := v.(type) {
		case string:
			x = strings.TrimSpace(x)
			if len(x) > 200 {
				return Invalid(f, "must be at most 200 characters")
			}
			attrs[k] = x
		case bool:
		case float64:
			if x != math.Trunc(x) || math.Abs(x) > 1<<53 {
				return Invalid(f, "must be a string, a boolean or an integer")
			}
		case json.Number:
			if _, err := x.Int64(); err != nil {
				return Invalid(f, "must be a string, a boolean or an integer")
			}
		case int, int64:
		default:
			return Invalid(f, "must be a string, a boolean or an integer, not %s", attrKind(v))
		}
	}
	return nil
}

func attrKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}
