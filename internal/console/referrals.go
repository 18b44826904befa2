package console

import (
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// referralFilter is the referral list's filter form.
type referralFilter struct {
	Status  string
	From    string
	To      string
	Flagged bool
}

// Query is the filter as a query string (for pagination and CSV links).
func (f referralFilter) Query(programID string) string {
	v := url.Values{}
	v.Set("program", programID)
	for k, s := range map[string]string{"status": f.Status, "from": f.From, "to": f.To} {
		if s != "" {
			v.Set(k, s)
		}
	}
	if f.Flagged {
		v.Set("flagged", "1")
	}
	return v.Encode()
}

func readReferralFilter(r *http.Request, programID string) (referralFilter, store.ReferralQuery, error) {
	q := r.URL.Query()
	f := referralFilter{Status: q.Get("status"), From: q.Get("from"), To: q.Get("to"), Flagged: q.Get("flagged") == "1"}
	rq := store.ReferralQuery{ProgramID: programID, Status: f.Status, Flagged: f.Flagged}
	if f.From != "" {
		t, err := time.Parse("2006-01-02", f.From)
		if err != nil {
			return f, rq, parrain.Invalid("from", "must be a date like 2026-01-31")
		}
		rq.From = t
	}
	if f.To != "" {
		t, err := time.Parse("2006-01-02", f.To)
		if err != nil {
			return f, rq, parrain.Invalid("to", "must be a date like 2026-01-31")
		}
		rq.To = t.Add(24 * time.Hour) // inclusive
	}
	return f, rq, nil
}

// referralsData is the referral list.
type referralsData struct {
	Filter    referralFilter
	Query     template.URL // the filter as a query string
	Referrals []store.ReferralRow
	Next      string
	Statuses  []string
}

// Referrals serves GET /admin/referrals: the program's referrals filtered
// by status, signup dates and flag, newest first, with bulk actions on
// their pending rewards. The program picker is the campaign filter.
func (c *Console) Referrals(w http.ResponseWriter, r *http.Request, a *Auth) {
	all, prog, err := c.programs(w, r)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	v := view{Title: "Referrals", Nav: "referrals", Auth: a, Programs: all, Program: prog}
	d := referralsData{Statuses: []string{string(parrain.ReferralSignedUp), string(parrain.ReferralConverted), string(parrain.ReferralRejected)}}
	if prog != nil {
		f, rq, err := readReferralFilter(r, prog.ID)
		if err != nil {
			c.fail(w, r, a, err)
			return
		}
		pg, err := listPage(r)
		if err != nil {
			c.fail(w, r, a, err)
			return
		}
		d.Filter, d.Query = f, template.URL(f.Query(prog.ID)) //nolint:gosec // url.Values.Encode output
		if d.Referrals, d.Next, err = c.st.ReferralsPage(r.Context(), rq, pg); err != nil {
			c.fail(w, r, a, err)
			return
		}
	}
	v.Data = d
	c.render(w, r, http.StatusOK, "referrals", v)
}

// ReferralsCSV serves GET /admin/referrals.csv: the filtered list, every
// page of it.
func (c *Console) ReferralsCSV(w http.ResponseWriter, r *http.Request, a *Auth) {
	_, prog, err := c.programs(w, r)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	if prog == nil {
		c.fail(w, r, a, parrain.Errorf(parrain.CodeNotFound, "no program yet"))
		return
	}
	_, rq, err := readReferralFilter(r, prog.ID)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	cw := csvAnswer(w, "parrain-"+prog.ID+"-referrals.csv")
	_ = cw.Write([]string{"id", "signed_up_at", "status", "reason", "advocate_external_id", "advocate_name", "friend_external_id",
		"friend_name", "code", "via", "clicked_at", "converted_at", "pending_rewards"})
	ts := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.UTC().Format(time.RFC3339)
	}
	cursor := ""
	for {
		rows, next, err := c.st.ReferralsPage(r.Context(), rq, store.Page{Limit: 200, Cursor: cursor})
		if err != nil {
			c.log.ErrorContext(r.Context(), "exporting referrals", "err", err)
			return
		}
		for _, x := range rows {
			s := x.SignedUpAt
			_ = cw.Write([]string{x.ID, ts(&s), string(x.Status), x.Reason, csvSafe(x.AdvocateExternalID), csvSafe(x.AdvocateName),
				csvSafe(x.FriendExternalID), csvSafe(x.FriendName), x.Code, x.Via, ts(x.ClickedAt), ts(x.ConvertedAt),
				strconv.FormatInt(x.PendingRewards, 10)})
		}
		cw.Flush()
		if next == "" || r.Context().Err() != nil {
			return
		}
		cursor = next
	}
}

// BulkReferrals handles POST /admin/referrals/bulk: on the selected
// referrals, approve or reject (with a reason) their pending rewards, or
// take the fraud review decision (clear, or reject the referral with a
// reason, which voids its rewards).
func (c *Console) BulkReferrals(w http.ResponseWriter, r *http.Request, a *Auth) {
	f := r.PostForm
	programID := f.Get("program")
	back := "/admin/referrals?" + f.Get("back")
	if _, err := c.st.Program(r.Context(), programID); err != nil {
		c.fail(w, r, a, err)
		return
	}
	ids := f["id"]
	if len(ids) == 0 {
		c.setFlash(w, r, "error", "Select at least one referral.")
		redirect(w, r, back)
		return
	}
	switch action := f.Get("action"); action {
	case "clear", "reject_referral":
		c.reviewReferrals(w, r, a, programID, ids, action, f.Get("reason"), back)
	default:
		rewardIDs, err := c.st.PendingRewardIDs(r.Context(), programID, ids)
		if err != nil {
			c.fail(w, r, a, err)
			return
		}
		if len(rewardIDs) == 0 {
			c.setFlash(w, r, "error", "The selected referrals have no pending rewards.")
			redirect(w, r, back)
			return
		}
		c.bulkRewards(w, r, a, programID, rewardIDs, action, f.Get("reason"), back)
	}
}

// reviewReferrals records fraud review decisions, each audited.
func (c *Console) reviewReferrals(w http.ResponseWriter, r *http.Request, a *Auth, programID string, ids []string, action, reason, back string) {
	decision := store.ReviewDecisionClear
	if action == "reject_referral" {
		decision = store.ReviewDecisionReject
		if strings.TrimSpace(reason) == "" {
			c.setFlash(w, r, "error", "Rejecting a referral needs a reason.")
			redirect(w, r, back)
			return
		}
	}
	if len(ids) > store.MaxBulk {
		c.setFlash(w, r, "error", fmt.Sprintf("At most %d referrals at once.", store.MaxBulk))
		redirect(w, r, back)
		return
	}
	done, skipped := 0, 0
	for _, id := range ids {
		_, err := c.opt.Referral.ReviewReferral(r.Context(), programID, id, decision, reason, a.User.Email)
		if e := parrain.AsError(err); e != nil && (e.Code == parrain.CodeConflict || e.Code == parrain.CodeNotFound) {
			skipped++
			continue
		}
		if err != nil {
			c.fail(w, r, a, err)
			return
		}
		done++
	}
	verb := map[string]string{"clear": "Cleared", "reject_referral": "Rejected"}[action]
	msg := fmt.Sprintf("%s %d referral(s).", verb, done)
	if skipped > 0 {
		msg += fmt.Sprintf(" %d skipped (not waiting for review, or already rejected).", skipped)
	}
	c.setFlash(w, r, "ok", msg)
	redirect(w, r, back)
}
