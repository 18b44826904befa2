package parrain

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestNormalizeAttributes(t *testing.T) {
	many := Attributes{}
	for i := range MaxAttributes + 1 {
		many[fmt.Sprintf("a%d", i)] = true
	}
	most := Attributes{}
	for i := range MaxAttributes {
		most[fmt.Sprintf("a%d", i)] = i
	}
	tests := []struct {
		name      string
		in        Attributes
		want      Attributes // after normalisation, when valid
		wantField string     // of the error, "" when valid
		wantMsg   string
	}{
		{"empty", Attributes{}, Attributes{}, "", ""},
		{"nil", nil, nil, "", ""},
		{"each kind", Attributes{"plan": "  pro ", "paying": true, "seats": 12.0, "n": json.Number("7"), "i": 3, "j": int64(4)},
			Attributes{"plan": "pro", "paying": true, "seats": 12.0, "n": json.Number("7"), "i": 3, "j": int64(4)}, "", ""},
		{"identifier with - and _", Attributes{"partner_tier-2": "x"}, Attributes{"partner_tier-2": "x"}, "", ""},
		{"longest string", Attributes{"s": strings.Repeat("é", 100)}, Attributes{"s": strings.Repeat("é", 100)}, "", ""},
		{"most attributes", most, most, "", ""},
		{"too many", many, nil, "attrs", "at most 50 attributes"},
		{"upper-case name", Attributes{"Plan": "pro"}, nil, "attrs", `"Plan" is not an attribute name`},
		{"name starting with a digit", Attributes{"1plan": "pro"}, nil, "attrs", `"1plan" is not an attribute name`},
		{"empty name", Attributes{"": "pro"}, nil, "attrs", `"" is not an attribute name`},
		{"long name", Attributes{strings.Repeat("a", 65): 1}, nil, "attrs", "is not an attribute name"},
		{"long string", Attributes{"s": strings.Repeat("x", 201)}, nil, "attrs.s", "must be at most 200 characters"},
		{"fraction", Attributes{"amount": 12.5}, nil, "attrs.amount", "must be a string, a boolean or an integer"},
		{"huge float", Attributes{"n": 1e17}, nil, "attrs.n", "must be a string, a boolean or an integer"},
		{"json fraction", Attributes{"n": json.Number("1.5")}, nil, "attrs.n", "must be a string, a boolean or an integer"},
		{"null", Attributes{"x": nil}, nil, "attrs.x", "not null"},
		{"array", Attributes{"x": []any{"a"}}, nil, "attrs.x", "not an array"},
		{"object", Attributes{"x": map[string]any{}}, nil, "attrs.x", "not an object"},
		{"other type", Attributes{"x": uint8(1)}, nil, "attrs.x", "not uint8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := NormalizeAttributes("attrs", tt.in)
			if tt.wantField == "" {
				if err != nil {
					t.Fatalf("NormalizeAttributes: %v", err)
				}
				if !reflect.DeepEqual(tt.in, tt.want) {
					t.Errorf("normalised to %v, want %v", tt.in, tt.want)
				}
				return
			}
			e := AsError(err)
			if e == nil || e.Code != CodeInvalid || e.Field != tt.wantField || !strings.Contains(e.Message, tt.wantMsg) {
				t.Errorf("err = %v, want invalid %s containing %q", err, tt.wantField, tt.wantMsg)
			}
		})
	}
}

func TestAttributeString(t *testing.T) {
	a := Attributes{"plan": "pro", "paying": true, "trial": false, "seats": 12.0, "ratio": 0.5, "n": int64(-3), "i": 7, "list": []any{1}}
	for name, want := range map[string]string{
		"plan": "pro", "paying": "true", "trial": "false", "seats": "12", "ratio": "0.5", "n": "-3", "i": "7", "list": "", "none": "",
	} {
		if got := AttributeString(a, name); got != want {
			t.Errorf("AttributeString(%q) = %q, want %q", name, got, want)
		}
	}
}
