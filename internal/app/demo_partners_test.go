package app

import (
	"testing"

	"github.com/parrainhq/parrain/internal/parrain"
)

// TestDemoPortalContrast: the demo portal's buttons and header carry white
// text; both colours pass WCAG AA (the accent once failed at 2.48:1).
func TestDemoPortalContrast(t *testing.T) {
	for _, c := range []string{demoPartnerBranding.PrimaryColor, demoPartnerBranding.AccentColor} {
		r, ok := parrain.ContrastRatio(c, "#ffffff")
		if !ok || r < parrain.MinTextContrast {
			t.Errorf("white on %s: contrast %.2f:1, want at least %.1f:1", c, r, parrain.MinTextContrast)
		}
	}
}
