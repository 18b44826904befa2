package parrain

import (
	"math"
	"testing"
)

func TestContrastRatio(t *testing.T) {
	for _, c := range []struct {
		a, b string
		want float64
		ok   bool
	}{
		{"#000000", "#ffffff", 21, true},
		{"#ffffff", "#ffffff", 1, true},
		{"#e69138", "#ffffff", 2.48, true}, // the demo portal's old accent, under AA
		{"#b35408", "#FFFFFF", 5.01, true},
		{"#fff", "#000000", 0, false},
		{"#gggggg", "#000000", 0, false},
	} {
		got, ok := ContrastRatio(c.a, c.b)
		if ok != c.ok || math.Abs(got-c.want) > 0.01 {
			t.Errorf("ContrastRatio(%s, %s) = %.2f, %v; want %.2f, %v", c.a, c.b, got, ok, c.want, c.ok)
		}
	}
}
