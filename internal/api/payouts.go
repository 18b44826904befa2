package api

import (
	"bytes"
	"net/http"

	"github.com/parrainhq/parrain/internal/httpx"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/payout"
	"github.com/parrainhq/parrain/internal/store"
)

// SetPayoutAccount handles PUT .../participants/{external_id}/payout-account.
func (a *API) SetPayoutAccount(w http.ResponseWriter, r *http.Request) {
	var in parrain.PayoutAccountInput
	body, err := readJSON(w, r, &in)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	id, err := idem(r, body, false)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	acct, replayed, err := a.payouts.SetPayoutAccount(r.Context(), r.PathValue("program_id"), r.PathValue("external_id"), in, id)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	writeWrite(w, http.StatusOK, replayed, acct.Masked())
}

// GetPayoutAccount handles GET .../participants/{external_id}/payout-account:
// bank numbers are masked to their last four characters.
func (a *API) GetPayoutAccount(w http.ResponseWriter, r *http.Request) {
	acct, err := a.st.PayoutAccount(r.Context(), r.PathValue("program_id"), r.PathValue("external_id"))
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, acct.Masked())
}

// DeletePayoutAccount handles DELETE .../participants/{external_id}/payout-account.
func (a *API) DeletePayoutAccount(w http.ResponseWriter, r *http.Request) {
	if err := a.payouts.DeletePayoutAccount(r.Context(), r.PathValue("program_id"), r.PathValue("external_id")); err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// GetPayoutSettings handles GET /api/v1/programs/{program_id}/payout-settings.
func (a *API) GetPayoutSettings(w http.ResponseWriter, r *http.Request) {
	s, err := a.st.PayoutSettings(r.Context(), r.PathValue("program_id"))
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, s)
}

// SetPayoutSettings handles PUT /api/v1/programs/{program_id}/payout-settings.
func (a *API) SetPayoutSettings(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Schedule         parrain.PayoutSchedule `json:"schedule"`
		Day              int                    `json:"day"`
		Hour             int                    `json:"hour"`
		MinimumAmount    int64                  `json:"minimum_amount"`
		AutoApproveLimit int64                  `json:"auto_approve_limit"`
	}
	_, err := readJSON(w, r, &in)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	s, err := a.payouts.SetPayoutSettings(r.Context(), r.PathValue("program_id"), parrain.PayoutSettings{Schedule: in.Schedule, Day: in.Day,
		Hour: in.Hour, MinimumAmount: in.MinimumAmount, AutoApproveLimit: in.AutoApproveLimit})
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, s)
}

// CreatePayoutBatch handles POST /api/v1/programs/{program_id}/payout-batches:
// a payout run on demand (Idempotency-Key required).
func (a *API) CreatePayoutBatch(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	if len(bytes.TrimSpace(body)) > 0 {
		var in struct{}
		if err := httpx.DecodeJSON(body, &in); err != nil {
			httpx.WriteError(w, r, a.log, err)
			return
		}
	}
	id, err := idem(r, body, true)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	b, replayed, err := a.payouts.CreatePayoutBatch(r.Context(), r.PathValue("program_id"), id)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	writeWrite(w, http.StatusCreated, replayed, b)
}

// ListPayoutBatches handles GET /api/v1/programs/{program_id}/payout-batches.
func (a *API) ListPayoutBatches(w http.ResponseWriter, r *http.Request) {
	pg, err := page(r)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	if !a.knownProgram(w, r) {
		return
	}
	bs, next, err := a.st.PayoutBatches(r.Context(), r.PathValue("program_id"), pg)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, List[parrain.PayoutBatch]{Data: bs, NextCursor: httpx.Cursor(next)})
}

// GetPayoutBatch handles GET .../payout-batches/{batch_id}.
func (a *API) GetPayoutBatch(w http.ResponseWriter, r *http.Request) {
	b, err := a.st.PayoutBatch(r.Context(), r.PathValue("program_id"), r.PathValue("batch_id"))
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, b)
}

// ApprovePayoutBatch handles POST .../payout-batches/{batch_id}/approve.
func (a *API) ApprovePayoutBatch(w http.ResponseWriter, r *http.Request) {
	b, err := a.payouts.ApprovePayoutBatch(r.Context(), r.PathValue("program_id"), r.PathValue("batch_id"), "api key "+apiKey(r).Name)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, b)
}

// CancelPayoutBatch handles POST .../payout-batches/{batch_id}/cancel.
func (a *API) CancelPayoutBatch(w http.ResponseWriter, r *http.Request) {
	b, err := a.payouts.CancelPayoutBatch(r.Context(), r.PathValue("program_id"), r.PathValue("batch_id"))
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, b)
}

// ExportPayoutBatch handles GET .../payout-batches/{batch_id}/export.csv:
// the bank transfers to make, with full bank details.
func (a *API) ExportPayoutBatch(w http.ResponseWriter, r *http.Request) {
	rows, err := a.payouts.BatchBankPayouts(r.Context(), r.PathValue("program_id"), r.PathValue("batch_id"))
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	var buf bytes.Buffer
	if err := payout.WriteCSV(&buf, rows); err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="payouts-`+r.PathValue("batch_id")+`.csv"`)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(buf.Bytes())
}

// ImportResults is the answer to a CSV import.
type ImportResults struct {
	Data []payout.ImportResult `json:"data"`
}

// ImportPayoutBatch handles POST .../payout-batches/{batch_id}/import: a
// CSV marking bank payouts paid or failed.
func (a *API) ImportPayoutBatch(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	rows, err := payout.ParseImport(bytes.NewReader(body))
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	res, err := a.payouts.Import(r.Context(), r.PathValue("program_id"), r.PathValue("batch_id"), rows)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, ImportResults{Data: res})
}

// ListPayouts handles GET /api/v1/programs/{program_id}/payouts.
func (a *API) ListPayouts(w http.ResponseWriter, r *http.Request) {
	pg, err := page(r)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	if !a.knownProgram(w, r) {
		return
	}
	q := r.URL.Query()
	f := store.PayoutFilter{Status: q.Get("status"), BatchID: q.Get("batch")}
	if ext := q.Get("participant"); ext != "" {
		p, err := a.st.Participant(r.Context(), r.PathValue("program_id"), ext)
		if err != nil {
			httpx.WriteError(w, r, a.log, err)
			return
		}
		f.ParticipantID = p.ID
	}
	ps, next, err := a.st.Payouts(r.Context(), r.PathValue("program_id"), f, pg)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, List[parrain.Payout]{Data: ps, NextCursor: httpx.Cursor(next)})
}

// GetPayout handles GET /api/v1/programs/{program_id}/payouts/{payout_id}.
func (a *API) GetPayout(w http.ResponseWriter, r *http.Request) {
	p, err := a.st.Payout(r.Context(), r.PathValue("program_id"), r.PathValue("payout_id"))
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, p)
}

// MarkPayoutPaid handles POST .../payouts/{payout_id}/mark-paid.
func (a *API) MarkPayoutPaid(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	var in struct {
		Reference string `json:"reference"`
	}
	if len(bytes.TrimSpace(body)) > 0 {
		if err := httpx.DecodeJSON(body, &in); err != nil {
			httpx.WriteError(w, r, a.log, err)
			return
		}
	}
	p, err := a.payouts.MarkPayoutPaid(r.Context(), r.PathValue("program_id"), r.PathValue("payout_id"), in.Reference)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, p)
}

// MarkPayoutFailed handles POST .../payouts/{payout_id}/mark-failed.
func (a *API) MarkPayoutFailed(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Reason string `json:"reason"`
	}
	_, err := readJSON(w, r, &in)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	p, err := a.payouts.MarkPayoutFailed(r.Context(), r.PathValue("program_id"), r.PathValue("payout_id"), in.Reason)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, p)
}

// CancelPayout handles POST .../payouts/{payout_id}/cancel.
func (a *API) CancelPayout(w http.ResponseWriter, r *http.Request) {
	p, err := a.payouts.CancelPayout(r.Context(), r.PathValue("program_id"), r.PathValue("payout_id"))
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, p)
}

// ParticipantPayouts handles GET .../participants/{external_id}/payouts.
func (a *API) ParticipantPayouts(w http.ResponseWriter, r *http.Request) {
	pg, err := page(r)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	p, err := a.st.Participant(r.Context(), r.PathValue("program_id"), r.PathValue("external_id"))
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	ps, next, err := a.st.ParticipantPayouts(r.Context(), p.ID, pg)
	if err != nil {
		httpx.WriteError(w, r, a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, List[parrain.Payout]{Data: ps, NextCursor: httpx.Cursor(next)})
}
