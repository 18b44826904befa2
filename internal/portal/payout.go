package portal

import (
	"net/http"
	"strings"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

type payoutData struct {
	Account *parrain.PayoutAccount // masked; nil until set
	Method  string
}

// PayoutPage shows where the partner's commissions are paid, and the form
// to change it.
func (p *Portal) PayoutPage(w http.ResponseWriter, r *http.Request, s *session) {
	d, err := p.payoutData(r, s)
	if err != nil {
		p.fail(w, r, err)
		return
	}
	p.render(w, r, http.StatusOK, "payout", page{PP: s.pp, Partner: &s.partner, CSRF: s.csrf, Title: "Payout account", Data: d})
}

func (p *Portal) payoutData(r *http.Request, s *session) (payoutData, error) {
	a, err := p.st.PayoutAccount(r.Context(), s.pp.ProgramID, s.partner.ExternalID)
	if parrain.ErrorCode(err) == parrain.CodeNotFound {
		return payoutData{Method: string(parrain.PayoutBank)}, nil
	}
	if err != nil {
		return payoutData{}, err
	}
	m := a.Masked()
	return payoutData{Account: &m, Method: string(m.Method)}, nil
}

// SetPayout saves the partner's payout account: a Stripe connected
// account, a PayPal email or bank details for a transfer.
func (p *Portal) SetPayout(w http.ResponseWriter, r *http.Request, s *session) {
	f := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	in := parrain.PayoutAccountInput{Method: parrain.PayoutMethod(f("method"))}
	switch in.Method {
	case parrain.PayoutStripe:
		in.StripeAccount = f("stripe_account")
	case parrain.PayoutPayPal:
		in.PayPalEmail = f("paypal_email")
	case parrain.PayoutBank:
		in.Bank = &parrain.BankDetails{HolderName: f("holder_name"), IBAN: f("iban"), BIC: f("bic"),
			AccountNumber: f("account_number"), RoutingNumber: f("routing_number"), Country: f("country")}
	}
	_, _, err := p.payouts.SetPayoutAccount(r.Context(), s.pp.ProgramID, s.partner.ExternalID, in, store.Idem{})
	if e := parrain.AsError(err); e != nil && e.Code == parrain.CodeInvalid {
		d, derr := p.payoutData(r, s)
		if derr != nil {
			p.fail(w, r, derr)
			return
		}
		d.Method = string(in.Method)
		p.render(w, r, http.StatusBadRequest, "payout", page{PP: s.pp, Partner: &s.partner, CSRF: s.csrf, Title: "Payout account",
			Error: strings.TrimPrefix(e.Field+" "+e.Message, " "), Data: d})
		return
	}
	if err != nil {
		p.fail(w, r, err)
		return
	}
	http.Redirect(w, r, "/partners/"+s.pp.Slug+"/payout?flash=Payout+account+saved.", http.StatusSeeOther)
}
