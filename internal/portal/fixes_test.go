package portal

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/partner"
	"github.com/parrainhq/parrain/internal/store"
)

// TestLapsedLeadOffersNoExtension: Alice's registration lapses and Bob
// registers the account; her dashboard stops offering "Request extension"
// for it (a grant would fail), while it offers it for an open lead.
func TestLapsedLeadOffersNoExtension(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		form := `action="/partners/acme/leads/` + e.secretLead + `/extension"`
		if a := e.do(e.session(t, e.alice), "GET", "/partners/acme/", nil, nil); a.status != http.StatusOK || !strings.Contains(a.body, form) {
			t.Fatalf("an open lead offers no extension: %d", a.status)
		}
		e.Clock.Advance(200 * 24 * time.Hour)
		r, _, err := e.ps.RegisterLead(bg, e.prog.ID, e.bob.ID, parrain.LeadInput{CompanyName: "Initech Secret Deal", CompanyDomain: "initech-secret.example",
			ContactEmail: "cto@initech-secret.example", CompanySize: 50, Consent: true}, partner.RegisterOptions{Actor: "partner:" + e.bob.ID}, store.Idem{})
		if err != nil || r.Decision.Outcome != parrain.OutcomeAccepted {
			t.Fatalf("bob's registration: %+v %v", r.Decision, err)
		}
		a := e.do(e.session(t, e.alice), "GET", "/partners/acme/", nil, nil)
		if a.status != http.StatusOK || !strings.Contains(a.body, "Initech Secret Deal") || strings.Contains(a.body, form) {
			t.Errorf("the lapsed lead another partner took still offers an extension: %d", a.status)
		}
	})
}
