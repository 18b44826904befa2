package parrain

import (
	"math"
	"strconv"
	"strings"
)

// MinTextContrast is WCAG 2 AA's least contrast ratio for normal text.
const MinTextContrast = 4.5

// ContrastRatio is the WCAG 2 contrast ratio of two "#rrggbb" colours
// (1 to 21); ok is false when either is not such a colour.
func ContrastRatio(a, b string) (ratio float64, ok bool) {
	la, ok1 := luminance(a)
	lb, ok2 := luminance(b)
	if !ok1 || !ok2 {
		return 0, false
	}
	if la < lb {
		la, lb = lb, la
	}
	return (la + 0.05) / (lb + 0.05), true
}

// luminance is a colour's relative luminance (WCAG 2).
func luminance(hex string) (float64, bool) {
	h, ok := strings.CutPrefix(hex, "#")
	if !ok || len(h) != 6 {
		return 0, false
	}
	var l float64
	for i, w := range []float64{0.2126, 0.7152, 0.0722} {
		v, err := strconv.ParseUint(h[2*i:2*i+2], 16, 8)
		if err != nil {
			return 0, false
		}
		c := float64(v) / 255
		if c <= 0.03928 {
			c /= 12.92
		} else {
			c = math.Pow((c+0.055)/1.055, 2.4)
		}
		l += w * c
	}
	return l, true
}
