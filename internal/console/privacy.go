package console

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/parrainhq/parrain/internal/parrain"
)

// The personal-data rights from the participant page (docs/privacy.md):
// export, "do not sell or share", erasure.

// ExportParticipant serves GET /admin/participants/{id}/export (managers):
// the person's export document as a JSON download.
func (c *Console) ExportParticipant(w http.ResponseWriter, r *http.Request, a *Auth) {
	p, err := c.st.ParticipantByID(r.Context(), r.PathValue("id"))
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	doc, err := c.opt.Privacy.Export(r.Context(), p.ProgramID, p.ExternalID)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="person-%s.json"`, p.ID))
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(append(b, '\n'))
}

// SetDoNotSell serves POST /admin/participants/{id}/do-not-sell (managers):
// do_not_sell=true|false.
func (c *Console) SetDoNotSell(w http.ResponseWriter, r *http.Request, a *Auth) {
	p, err := c.st.ParticipantByID(r.Context(), r.PathValue("id"))
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	v := r.PostFormValue("do_not_sell")
	if v != "true" && v != "false" {
		c.fail(w, r, a, parrain.Invalid("do_not_sell", "must be true or false"))
		return
	}
	if _, err := c.opt.Privacy.SetDoNotSell(r.Context(), p.ProgramID, p.ExternalID, v == "true"); err != nil {
		c.fail(w, r, a, err)
		return
	}
	msg := "Do not sell or share: off."
	if v == "true" {
		msg = "Do not sell or share: on. No CRM sync and no marketing webhooks about this person."
	}
	c.setFlash(w, r, "ok", msg)
	redirect(w, r, "/admin/participants/"+p.ID)
}

// EraseParticipant serves POST /admin/participants/{id}/erase (owners).
// The form confirms by retyping the participant's user id; force forfeits
// money owed.
func (c *Console) EraseParticipant(w http.ResponseWriter, r *http.Request, a *Auth) {
	p, err := c.st.ParticipantByID(r.Context(), r.PathValue("id"))
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	if strings.TrimSpace(r.PostFormValue("confirm")) != p.ExternalID {
		c.setFlash(w, r, "error", "Not erased: type the user id exactly to confirm.")
		redirect(w, r, "/admin/participants/"+p.ID)
		return
	}
	res, err := c.opt.Privacy.Erase(r.Context(), p.ProgramID, p.ExternalID, r.PostFormValue("force") == "true")
	if e := parrain.AsError(err); e != nil && e.Code == parrain.CodeConflict {
		c.setFlash(w, r, "error", "Not erased: "+e.Message)
		redirect(w, r, "/admin/participants/"+p.ID)
		return
	}
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	c.setFlash(w, r, "ok", fmt.Sprintf("Erased %d record(s) of this person in every program; hashed fraud evidence is kept until %s.",
		len(res.Erased), res.EvidenceUntil.Format("2006-01-02")))
	redirect(w, r, "/admin/participants/"+p.ID)
}
