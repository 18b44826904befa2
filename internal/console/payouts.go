package console

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// payoutsData is the payout batches page.
type payoutsData struct {
	Batches []parrain.PayoutBatch
	Next    string
	Batch   *parrain.PayoutBatch // the batch opened, with its payouts
	Idem    string
}

// Payouts serves GET /admin/payouts: the program's payout batches (newest
// first) and, with ?batch=, one batch's payouts.
func (c *Console) Payouts(w http.ResponseWriter, r *http.Request, a *Auth) {
	all, prog, err := c.programs(w, r)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	v := view{Title: "Payouts", Nav: "payouts", Auth: a, Programs: all, Program: prog}
	d := payoutsData{Idem: newIdem()}
	if prog != nil {
		pg, err := listPage(r)
		if err != nil {
			c.fail(w, r, a, err)
			return
		}
		if d.Batches, d.Next, err = c.st.PayoutBatches(r.Context(), prog.ID, pg); err != nil {
			c.fail(w, r, a, err)
			return
		}
		if id := r.URL.Query().Get("batch"); id != "" {
			b, err := c.st.PayoutBatch(r.Context(), prog.ID, id)
			if err != nil {
				c.fail(w, r, a, err)
				return
			}
			d.Batch = &b
		}
	}
	v.Data = d
	c.render(w, r, http.StatusOK, "payouts", v)
}

func payoutsURL(programID, batchID string) string {
	u := "/admin/payouts?program=" + url.QueryEscape(programID)
	if batchID != "" {
		u += "&batch=" + url.QueryEscape(batchID)
	}
	return u
}

// RunPayouts handles POST /admin/payouts: a payout run on demand, gathering
// the approved cash rewards due (the same form posted twice makes one
// batch).
func (c *Console) RunPayouts(w http.ResponseWriter, r *http.Request, a *Auth) {
	programID := r.PostForm.Get("program")
	idem := r.PostForm.Get("idem")
	if idem == "" || len(idem) > 64 {
		idem = newIdem()
	}
	b, _, err := c.payouts.CreatePayoutBatch(r.Context(), programID, store.Idem{Scope: "console:" + a.User.ID, Key: idem, Hash: formHash(r)})
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	msg := "Payout run made batch " + b.ID + " with " + strconv.Itoa(b.PayoutCount) + " payout(s), " + label(b.Status) + "."
	if b.PayoutCount == 0 {
		msg = "Nothing to pay: no participant has approved cash rewards above the minimum."
	}
	c.setFlash(w, r, "ok", msg)
	redirect(w, r, payoutsURL(programID, b.ID))
}

// ApprovePayouts handles POST /admin/payouts/{id}/approve: the batch's
// payouts are sent (Stripe, PayPal) or await the bank transfer.
func (c *Console) ApprovePayouts(w http.ResponseWriter, r *http.Request, a *Auth) {
	c.decideBatch(w, r, a, true)
}

// CancelPayouts handles POST /admin/payouts/{id}/cancel: the batch is
// rejected and its rewards return to the balance for the next run.
func (c *Console) CancelPayouts(w http.ResponseWriter, r *http.Request, a *Auth) {
	c.decideBatch(w, r, a, false)
}

func (c *Console) decideBatch(w http.ResponseWriter, r *http.Request, a *Auth, approve bool) {
	programID, id := r.PostForm.Get("program"), r.PathValue("id")
	var b parrain.PayoutBatch
	var err error
	verb := "approved: its payouts are on their way"
	if approve {
		b, err = c.payouts.ApprovePayoutBatch(r.Context(), programID, id, a.User.Email)
	} else {
		verb = "cancelled: its rewards are back in the balance"
		b, err = c.payouts.CancelPayoutBatch(r.Context(), programID, id)
	}
	if e := parrain.AsError(err); e != nil && e.Code == parrain.CodeConflict {
		c.setFlash(w, r, "error", e.Message)
		redirect(w, r, payoutsURL(programID, id))
		return
	}
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	c.setFlash(w, r, "ok", "Batch "+b.ID+" "+verb+".")
	redirect(w, r, payoutsURL(programID, b.ID))
}
