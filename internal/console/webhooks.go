package console

import (
	"net/http"
	"net/url"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// webhooksData is the webhook endpoints page.
type webhooksData struct {
	Endpoints  []endpointRow
	EventTypes []string
	Secret     string // a new endpoint's signing secret, shown once
	Field      map[string]string
	URL        string
	Desc       string
	Selected   map[string]bool
}

type endpointRow struct {
	parrain.WebhookEndpoint
	Deliveries []parrain.WebhookDelivery
}

// Webhooks serves GET /admin/settings/webhooks (managers): the current
// program's endpoints with their latest deliveries.
func (c *Console) Webhooks(w http.ResponseWriter, r *http.Request, a *Auth) {
	c.renderWebhooks(w, r, a, http.StatusOK, webhooksData{Selected: map[string]bool{parrain.WebhookAllEvents: true}})
}

func (c *Console) renderWebhooks(w http.ResponseWriter, r *http.Request, a *Auth, status int, d webhooksData) {
	all, prog, err := c.programs(w, r)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	v := view{Title: "Webhooks", Nav: "settings", Auth: a, Programs: all, Program: prog}
	if prog != nil {
		eps, _, err := c.webhooks.Endpoints(r.Context(), prog.ID, store.Page{Limit: 100})
		if err != nil {
			c.fail(w, r, a, err)
			return
		}
		for _, ep := range eps {
			ds, _, err := c.webhooks.Deliveries(r.Context(), prog.ID, ep.ID, "", store.Page{Limit: 10})
			if err != nil {
				c.fail(w, r, a, err)
				return
			}
			d.Endpoints = append(d.Endpoints, endpointRow{WebhookEndpoint: ep, Deliveries: ds})
		}
	}
	d.EventTypes = append([]string{parrain.WebhookAllEvents}, parrain.WebhookEventTypes...)
	if d.Field == nil {
		d.Field = map[string]string{}
	}
	v.Data = d
	c.render(w, r, status, "webhooks", v)
}

// CreateWebhook handles POST /admin/settings/webhooks: a new endpoint for
// the program; its signing secret is shown once, in this answer.
func (c *Console) CreateWebhook(w http.ResponseWriter, r *http.Request, a *Auth) {
	f := r.PostForm
	d := webhooksData{URL: f.Get("url"), Desc: f.Get("description"), Selected: map[string]bool{}, Field: map[string]string{}}
	for _, t := range f["event"] {
		d.Selected[t] = true
	}
	programID := f.Get("program")
	u, desc := d.URL, d.Desc
	ep, _, err := c.webhooks.CreateEndpoint(r.Context(), programID, parrain.WebhookEndpointInput{URL: &u, Description: &desc, EventTypes: f["event"]},
		store.Idem{})
	if e := parrain.AsError(err); e != nil && e.Code == parrain.CodeInvalid {
		d.Field[errField(e)] = e.Message
		c.renderWebhooks(w, r, a, http.StatusBadRequest, d)
		return
	}
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	c.renderWebhooks(w, r, a, http.StatusCreated, webhooksData{Secret: ep.Secret, Selected: map[string]bool{parrain.WebhookAllEvents: true}})
}

// DeleteWebhook handles POST /admin/settings/webhooks/{id}/delete.
func (c *Console) DeleteWebhook(w http.ResponseWriter, r *http.Request, a *Auth) {
	programID, id := r.PostForm.Get("program"), r.PathValue("id")
	if err := c.webhooks.DeleteEndpoint(r.Context(), programID, id); err != nil {
		c.fail(w, r, a, err)
		return
	}
	c.setFlash(w, r, "ok", "Webhook endpoint deleted.")
	redirect(w, r, "/admin/settings/webhooks?program="+url.QueryEscape(programID))
}

// ReplayWebhook handles POST /admin/settings/webhooks/{id}/deliveries/{delivery}/replay:
// sends a delivery again (same webhook-id, so receivers deduplicate).
func (c *Console) ReplayWebhook(w http.ResponseWriter, r *http.Request, a *Auth) {
	programID := r.PostForm.Get("program")
	d, err := c.webhooks.Replay(r.Context(), programID, r.PathValue("id"), r.PathValue("delivery"))
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	c.setFlash(w, r, "ok", "Delivery "+d.ID+" queued again.")
	redirect(w, r, "/admin/settings/webhooks?program="+url.QueryEscape(programID))
}
