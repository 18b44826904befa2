package widget

import (
	"net/http"

	"github.com/parrainhq/parrain/internal/httpx"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/privacy"
)

// PrivacyHandler handles POST /api/v1/widget/privacy {"do_not_sell": true}:
// the advocate's own CCPA "do not sell or share" choice (docs/privacy.md),
// audited under them.
func (s *Service) PrivacyHandler(svc *privacy.Service) http.HandlerFunc {
	return s.authed(func(w http.ResponseWriter, r *http.Request, a *advocate) {
		var in struct {
			DoNotSell *bool `json:"do_not_sell"`
		}
		if err := decode(w, r, &in); err != nil {
			httpx.WriteError(w, r, s.log, err)
			return
		}
		if in.DoNotSell == nil {
			httpx.WriteError(w, r, s.log, parrain.Invalid("do_not_sell", "is required (true or false)"))
			return
		}
		p, err := svc.SetDoNotSell(r.Context(), a.prog.ID, a.p.ExternalID, *in.DoNotSell)
		if err != nil {
			httpx.WriteError(w, r, s.log, err)
			return
		}
		httpx.WriteJSON(w, http.StatusOK, map[string]any{"do_not_sell": p.DoNotSell})
	})
}
