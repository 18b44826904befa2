package widget

import (
	"net/http"

	"github.com/parrainhq/parrain/internal/httpx"
	"github.com/parrainhq/parrain/internal/parrain"
)

// payoutView is the advocate's payout account as the widget shows it:
// masked, or empty until set.
type payoutView struct {
	Set     bool                   `json:"set"`
	Account *parrain.PayoutAccount `json:"account,omitempty"`
}

// PayoutAccountHandler handles GET /api/v1/widget/payout-account: where the
// advocate's cash rewards are paid, masked.
func (s *Service) PayoutAccountHandler(w http.ResponseWriter, r *http.Request) {
	s.authed(func(w http.ResponseWriter, r *http.Request, a *advocate) {
		acct, err := s.st.PayoutAccount(r.Context(), a.prog.ID, a.p.ExternalID)
		if parrain.ErrorCode(err) == parrain.CodeNotFound {
			httpx.WriteJSON(w, http.StatusOK, payoutView{})
			return
		}
		if err != nil {
			httpx.WriteError(w, r, s.log, err)
			return
		}
		m := acct.Masked()
		httpx.WriteJSON(w, http.StatusOK, payoutView{Set: true, Account: &m})
	})(w, r)
}

// SetPayoutAccountHandler handles PUT /api/v1/widget/payout-account: the
// advocate sets where their cash rewards are paid (bank, PayPal or a Stripe
// connected account). The answer is masked like GET's.
func (s *Service) SetPayoutAccountHandler(w http.ResponseWriter, r *http.Request) {
	s.authed(func(w http.ResponseWriter, r *http.Request, a *advocate) {
		var in parrain.PayoutAccountInput
		if err := decode(w, r, &in); err != nil {
			httpx.WriteError(w, r, s.log, err)
			return
		}
		idem, err := widgetIdem(r, a, in)
		if err != nil {
			httpx.WriteError(w, r, s.log, err)
			return
		}
		acct, _, err := s.payouts.SetPayoutAccount(r.Context(), a.prog.ID, a.p.ExternalID, in, idem)
		if err != nil {
			httpx.WriteError(w, r, s.log, err)
			return
		}
		m := acct.Masked()
		httpx.WriteJSON(w, http.StatusOK, payoutView{Set: true, Account: &m})
	})(w, r)
}
