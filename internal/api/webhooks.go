package api

import (
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"

	"github.com/parrainhq/parrain/internal/crm"
	"github.com/parrainhq/parrain/internal/httpx"
	"github.com/parrainhq/parrain/internal/inbound"
	"github.com/parrainhq/parrain/internal/integration/webhook"
	"github.com/parrainhq/parrain/internal/outbound"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// Integrations serves the provider webhooks Parrain receives (Stripe,
// Shopify) and the management of outgoing webhook endpoints and CRM
// connections.
type Integrations struct {
	a            *API
	in           *inbound.Processor
	out          *outbound.Service
	allowPrivate bool
}

// Integrations returns the integration handlers: provider webhooks in
// through in, webhook endpoints and deliveries through out. allowPrivate
// lets webhook endpoints point at loopback and private addresses
// (development only).
func (a *API) Integrations(in *inbound.Processor, out *outbound.Service, allowPrivate bool) *Integrations {
	return &Integrations{a: a, in: in, out: out, allowPrivate: allowPrivate}
}

// StripeWebhook handles POST /webhooks/stripe. A delivery whose
// Stripe-Signature does not verify answers 400 and is logged, never
// processed; a verified one answers 200 with what it did (also when
// Parrain ignores it), or 500 so that Stripe retries.
func (h *Integrations) StripeWebhook(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r)
	if err != nil {
		httpx.WriteError(w, r, h.a.log, err)
		return
	}
	out, err := h.in.Stripe(r.Context(), body, r.Header.Get("Stripe-Signature"))
	if err != nil {
		h.refused(r, "stripe", err)
		httpx.WriteError(w, r, h.a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

// ShopifyWebhook handles POST /webhooks/shopify (X-Shopify-Hmac-Sha256
// verified like Stripe's signature).
func (h *Integrations) ShopifyWebhook(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r)
	if err != nil {
		httpx.WriteError(w, r, h.a.log, err)
		return
	}
	out, err := h.in.Shopify(r.Context(), body, r.Header)
	if err != nil {
		h.refused(r, "shopify", err)
		httpx.WriteError(w, r, h.a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, out)
}

func (h *Integrations) refused(r *http.Request, provider string, err error) {
	if e := parrain.AsError(err); e != nil && e.Code == parrain.CodeInvalid {
		h.a.log.WarnContext(r.Context(), "provider webhook refused: bad signature", "provider", provider, "remote", r.RemoteAddr, "err", e.Message)
	}
}

// checkEndpointURL refuses, unless private addresses are allowed, URLs
// whose host is a loopback, private or otherwise internal IP literal or a
// local name; hostnames are checked again on every connection.
func (h *Integrations) checkEndpointURL(raw *string) error {
	if raw == nil || h.allowPrivate {
		return nil
	}
	u, err := url.Parse(strings.TrimSpace(*raw))
	if err != nil {
		return nil // NormalizeWebhookURL reports it
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if host == "localhost" || strings.HasSuffix(host, ".localhost") || strings.HasSuffix(host, ".local") || strings.HasSuffix(host, ".internal") {
		return parrain.Invalid("url", "must be a public address: %s is local", host)
	}
	if ip := net.ParseIP(host); ip != nil {
		addr, _ := netip.AddrFromSlice(ip)
		if err := webhook.CheckAddr(addr); err != nil {
			return parrain.Invalid("url", "must be a public address: %s is loopback, private or reserved", host)
		}
	}
	if u.Scheme != "https" {
		return parrain.Invalid("url", "must use https")
	}
	return nil
}

// CreateWebhookEndpoint handles POST /api/v1/programs/{program_id}/webhook-endpoints.
// The answer carries the signing secret, shown this once.
func (h *Integrations) CreateWebhookEndpoint(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r)
	if err != nil {
		httpx.WriteError(w, r, h.a.log, err)
		return
	}
	var in parrain.WebhookEndpointInput
	if err := httpx.DecodeJSON(body, &in); err != nil {
		httpx.WriteError(w, r, h.a.log, err)
		return
	}
	if err := h.checkEndpointURL(in.URL); err != nil {
		httpx.WriteError(w, r, h.a.log, err)
		return
	}
	id, err := idem(r, body, false)
	if err != nil {
		httpx.WriteError(w, r, h.a.log, err)
		return
	}
	e, replayed, err := h.out.CreateEndpoint(r.Context(), r.PathValue("program_id"), in, id)
	if err != nil {
		httpx.WriteError(w, r, h.a.log, err)
		return
	}
	writeWrite(w, http.StatusCreated, replayed, e)
}

// ListWebhookEndpoints handles GET .../webhook-endpoints.
func (h *Integrations) ListWebhookEndpoints(w http.ResponseWriter, r *http.Request) {
	pg, err := page(r)
	if err != nil {
		httpx.WriteError(w, r, h.a.log, err)
		return
	}
	if !h.a.knownProgram(w, r) {
		return
	}
	es, next, err := h.out.Endpoints(r.Context(), r.PathValue("program_id"), pg)
	if err != nil {
		httpx.WriteError(w, r, h.a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, List[parrain.WebhookEndpoint]{Data: es, NextCursor: httpx.Cursor(next)})
}

// GetWebhookEndpoint handles GET .../webhook-endpoints/{endpoint_id}.
func (h *Integrations) GetWebhookEndpoint(w http.ResponseWriter, r *http.Request) {
	e, err := h.out.Endpoint(r.Context(), r.PathValue("program_id"), r.PathValue("endpoint_id"))
	if err != nil {
		httpx.WriteError(w, r, h.a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, e)
}

// UpdateWebhookEndpoint handles PATCH .../webhook-endpoints/{endpoint_id}:
// url, description, event_types, and status (active or disabled).
func (h *Integrations) UpdateWebhookEndpoint(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r)
	if err != nil {
		httpx.WriteError(w, r, h.a.log, err)
		return
	}
	var in parrain.WebhookEndpointInput
	if err := httpx.DecodeJSON(body, &in); err != nil {
		httpx.WriteError(w, r, h.a.log, err)
		return
	}
	if err := h.checkEndpointURL(in.URL); err != nil {
		httpx.WriteError(w, r, h.a.log, err)
		return
	}
	e, err := h.out.UpdateEndpoint(r.Context(), r.PathValue("program_id"), r.PathValue("endpoint_id"), in)
	if err != nil {
		httpx.WriteError(w, r, h.a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, e)
}

// DeleteWebhookEndpoint handles DELETE .../webhook-endpoints/{endpoint_id}.
func (h *Integrations) DeleteWebhookEndpoint(w http.ResponseWriter, r *http.Request) {
	if err := h.out.DeleteEndpoint(r.Context(), r.PathValue("program_id"), r.PathValue("endpoint_id")); err != nil {
		httpx.WriteError(w, r, h.a.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// RotateWebhookSecret handles POST .../webhook-endpoints/{endpoint_id}/rotate-secret.
func (h *Integrations) RotateWebhookSecret(w http.ResponseWriter, r *http.Request) {
	e, err := h.out.RotateSecret(r.Context(), r.PathValue("program_id"), r.PathValue("endpoint_id"))
	if err != nil {
		httpx.WriteError(w, r, h.a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, e)
}

// ListWebhookDeliveries handles GET .../webhook-endpoints/{endpoint_id}/deliveries.
func (h *Integrations) ListWebhookDeliveries(w http.ResponseWriter, r *http.Request) {
	pg, err := page(r)
	if err != nil {
		httpx.WriteError(w, r, h.a.log, err)
		return
	}
	ds, next, err := h.out.Deliveries(r.Context(), r.PathValue("program_id"), r.PathValue("endpoint_id"), r.URL.Query().Get("status"), pg)
	if err != nil {
		httpx.WriteError(w, r, h.a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, List[parrain.WebhookDelivery]{Data: ds, NextCursor: httpx.Cursor(next)})
}

// GetWebhookDelivery handles GET .../deliveries/{delivery_id}: the message
// with its attempt log.
func (h *Integrations) GetWebhookDelivery(w http.ResponseWriter, r *http.Request) {
	d, err := h.out.Delivery(r.Context(), r.PathValue("program_id"), r.PathValue("endpoint_id"), r.PathValue("delivery_id"))
	if err != nil {
		httpx.WriteError(w, r, h.a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, d)
}

// ReplayWebhookDelivery handles POST .../deliveries/{delivery_id}/replay.
func (h *Integrations) ReplayWebhookDelivery(w http.ResponseWriter, r *http.Request) {
	d, err := h.out.Replay(r.Context(), r.PathValue("program_id"), r.PathValue("endpoint_id"), r.PathValue("delivery_id"))
	if err != nil {
		httpx.WriteError(w, r, h.a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusAccepted, d)
}

// GetCRM handles GET /api/v1/programs/{program_id}/crm.
func (h *Integrations) GetCRM(w http.ResponseWriter, r *http.Request) {
	c, err := h.a.st.CRMConnection(r.Context(), r.PathValue("program_id"))
	if err != nil {
		httpx.WriteError(w, r, h.a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, c)
}

// SetCRM handles PUT /api/v1/programs/{program_id}/crm.
func (h *Integrations) SetCRM(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r)
	if err != nil {
		httpx.WriteError(w, r, h.a.log, err)
		return
	}
	var in struct {
		Provider  parrain.CRMProvider `json:"provider"`
		Pipeline  string              `json:"pipeline"`
		DealStage string              `json:"deal_stage"`
		LeadStage string              `json:"lead_stage"`
		StageMap  map[string]string   `json:"stage_map"`
	}
	if err := httpx.DecodeJSON(body, &in); err != nil {
		httpx.WriteError(w, r, h.a.log, err)
		return
	}
	c, err := crm.Connect(r.Context(), h.a.st, r.PathValue("program_id"), parrain.CRMConnection{Provider: in.Provider, Pipeline: in.Pipeline,
		DealStage: in.DealStage, LeadStage: in.LeadStage, StageMap: in.StageMap})
	if err != nil {
		httpx.WriteError(w, r, h.a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, c)
}

// DeleteCRM handles DELETE /api/v1/programs/{program_id}/crm.
func (h *Integrations) DeleteCRM(w http.ResponseWriter, r *http.Request) {
	if err := crm.Disconnect(r.Context(), h.a.st, r.PathValue("program_id")); err != nil {
		httpx.WriteError(w, r, h.a.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// ListInboundEvents handles GET /api/v1/programs/{program_id}/inbound-events:
// the provider webhooks received, with what Parrain did with each.
func (h *Integrations) ListInboundEvents(w http.ResponseWriter, r *http.Request) {
	pg, err := page(r)
	if err != nil {
		httpx.WriteError(w, r, h.a.log, err)
		return
	}
	if !h.a.knownProgram(w, r) {
		return
	}
	es, next, err := h.a.st.InboundEvents(r.Context(), r.PathValue("program_id"), pg)
	if err != nil {
		httpx.WriteError(w, r, h.a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, List[store.InboundEvent]{Data: es, NextCursor: httpx.Cursor(next)})
}
