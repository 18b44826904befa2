package api

import (
	"encoding/csv"
	"errors"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/parrainhq/parrain/internal/httpx"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/report"
	"github.com/parrainhq/parrain/internal/store"
)

// ReportHandlers serves the reporting API (docs/api.md, "Reports and
// imports"): program KPIs, the participant list, the per-advocate report
// and bulk imports of existing customers.
type ReportHandlers struct {
	a   *API
	rep *report.Service
}

// Reports returns the reporting handlers over rep (imports run through the
// API's referral service).
func (a *API) Reports(rep *report.Service) *ReportHandlers { return &ReportHandlers{a: a, rep: rep} }

// KPIsView is the answer of GET …/kpis.
type KPIsView struct {
	ProgramID      string            `json:"program_id"`
	Currency       string            `json:"currency"`
	Period         report.KPIFigures `json:"period"`
	PreviousPeriod report.KPIFigures `json:"previous_period"`
}

// KPIs handles GET /api/v1/programs/{program_id}/kpis?from=&to=.
func (h *ReportHandlers) KPIs(w http.ResponseWriter, r *http.Request) {
	prog, err := h.a.st.Program(r.Context(), r.PathValue("program_id"))
	if err != nil {
		httpx.WriteError(w, r, h.a.log, err)
		return
	}
	q := r.URL.Query()
	p, err := report.Period(q.Get("from"), q.Get("to"), h.a.st.Clock().Now())
	if err != nil {
		httpx.WriteError(w, r, h.a.log, err)
		return
	}
	k, err := h.rep.KPIReport(r.Context(), prog, p)
	if err != nil {
		httpx.WriteError(w, r, h.a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, KPIsView{ProgramID: prog.ID, Currency: prog.Currency,
		Period: report.Figures(k.KPIs, k.Invalid), PreviousPeriod: report.Figures(k.Prev, k.PrevInvalid)})
}

// ListParticipants handles GET /api/v1/programs/{program_id}/participants
// (?status, ?role, ?attribute=name:value, ?q, ?sort, ?limit, ?cursor).
func (h *ReportHandlers) ListParticipants(w http.ResponseWriter, r *http.Request) {
	pg, err := page(r)
	if err != nil {
		httpx.WriteError(w, r, h.a.log, err)
		return
	}
	q, err := ParticipantQuery(r)
	if err != nil {
		httpx.WriteError(w, r, h.a.log, err)
		return
	}
	rows, next, err := h.rep.Participants(r.Context(), q, pg)
	if err != nil {
		httpx.WriteError(w, r, h.a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, List[store.ParticipantRow]{Data: rows, NextCursor: httpx.Cursor(next)})
}

// ParticipantQuery reads the participant list's filters from the query.
func ParticipantQuery(r *http.Request) (store.ParticipantQuery, error) {
	v := r.URL.Query()
	q := store.ParticipantQuery{ProgramID: r.PathValue("program_id"), Status: v.Get("status"), Role: v.Get("role"), Q: v.Get("q")}
	if a := v.Get("attribute"); a != "" {
		k, val, ok := strings.Cut(a, ":")
		if !ok || k == "" {
			return q, parrain.Invalid("attribute", "must be name:value, e.g. plan:pro")
		}
		q.AttrKey, q.AttrValue = k, val
	}
	sortBy := v.Get("sort")
	if sortBy == "" {
		sortBy = "-created"
	}
	q.Sort, q.Desc = strings.TrimPrefix(sortBy, "-"), strings.HasPrefix(sortBy, "-")
	switch q.Sort {
	case store.SortCreated, store.SortReferrals, store.SortEarned:
	default:
		return q, parrain.Invalid("sort", "must be created, referrals or earned, with a leading - for descending")
	}
	return q, nil
}

// AdvocateReport handles GET …/participants/{external_id}/report
// (?from, ?to, ?format=csv).
func (h *ReportHandlers) AdvocateReport(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	format := q.Get("format")
	if format != "" && format != "json" && format != "csv" {
		httpx.WriteError(w, r, h.a.log, parrain.Invalid("format", "must be json or csv"))
		return
	}
	p, err := report.Period(q.Get("from"), q.Get("to"), h.a.st.Clock().Now())
	if err != nil {
		httpx.WriteError(w, r, h.a.log, err)
		return
	}
	rep, err := h.rep.AdvocateReport(r.Context(), r.PathValue("program_id"), r.PathValue("external_id"), p)
	if err != nil {
		httpx.WriteError(w, r, h.a.log, err)
		return
	}
	if format != "csv" {
		httpx.WriteJSON(w, http.StatusOK, rep)
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="advocate-report.csv"`)
	cw := csv.NewWriter(w)
	for _, rec := range rep.Rows() {
		_ = cw.Write(rec)
	}
	cw.Flush()
}

// ImportView is an import with its first rejected lines.
type ImportView struct {
	store.ParticipantImport
	RejectedRows []store.ImportRow `json:"rejected_rows"`
}

// MaxRejectedRows is how many rejected lines an import's answer lists.
const MaxRejectedRows = 1000

// CreateImport handles POST /api/v1/programs/{program_id}/imports
// (?format=csv|jsonl or the Content-Type, ?dry_run=true): the body is the
// file, read as a stream up to the route's cap.
func (h *ReportHandlers) CreateImport(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	format, err := importFormat(q.Get("format"), r.Header.Get("Content-Type"))
	if err != nil {
		httpx.WriteError(w, r, h.a.log, err)
		return
	}
	var dry bool
	switch q.Get("dry_run") {
	case "", "false":
	case "true":
		dry = true
	default:
		httpx.WriteError(w, r, h.a.log, parrain.Invalid("dry_run", "must be true or false"))
		return
	}
	// The file is hashed as it is read: the idempotency hash starts with
	// the request line.
	id, err := idem(r, []byte(r.URL.RawQuery), true)
	if err != nil {
		httpx.WriteError(w, r, h.a.log, err)
		return
	}
	im, replayed, err := h.a.ref.StartImport(r.Context(), referral.ImportRequest{ProgramID: r.PathValue("program_id"),
		Format: format, DryRun: dry, Body: capped{r.Body}, Idem: id})
	if err != nil {
		httpx.WriteError(w, r, h.a.log, err)
		return
	}
	_, rej, err := h.a.ref.Import(r.Context(), im.ProgramID, im.ID, MaxRejectedRows)
	if err != nil {
		httpx.WriteError(w, r, h.a.log, err)
		return
	}
	w.Header().Set("Location", "/api/v1/programs/"+im.ProgramID+"/imports/"+im.ID)
	writeWrite(w, http.StatusAccepted, replayed, ImportView{ParticipantImport: im, RejectedRows: rej})
}

// importFormat picks the file's format from ?format= or the Content-Type.
func importFormat(param, contentType string) (string, error) {
	switch param {
	case referral.FormatCSV, referral.FormatJSONL:
		return param, nil
	case "":
	default:
		return "", parrain.Invalid("format", "must be csv or jsonl")
	}
	ct, _, _ := mime.ParseMediaType(contentType)
	switch ct {
	case "text/csv":
		return referral.FormatCSV, nil
	case "application/x-ndjson", "application/jsonl", "application/x-jsonlines":
		return referral.FormatJSONL, nil
	}
	return "", parrain.Invalid("format", "send ?format=csv or ?format=jsonl, or a Content-Type of text/csv or application/x-ndjson")
}

// capped turns the body cap's error into a 413.
type capped struct{ r io.Reader }

func (c capped) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return n, parrain.Errorf(parrain.CodeTooLarge, "the file exceeds %d bytes: split it", mbe.Limit)
	}
	return n, err
}

// GetImport handles GET /api/v1/programs/{program_id}/imports/{import_id}.
func (h *ReportHandlers) GetImport(w http.ResponseWriter, r *http.Request) {
	im, rej, err := h.a.ref.Import(r.Context(), r.PathValue("program_id"), r.PathValue("import_id"), MaxRejectedRows)
	if err != nil {
		httpx.WriteError(w, r, h.a.log, err)
		return
	}
	httpx.WriteJSON(w, http.StatusOK, ImportView{ParticipantImport: im, RejectedRows: rej})
}
