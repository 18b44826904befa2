package console

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/store"
)

// rewardsData is the reward list.
type rewardsData struct {
	Status   string
	Statuses []string
	Rewards  []rewardRow
	Next     string
	Now      time.Time
}

type rewardRow struct {
	parrain.Reward
	Name string
}

var rewardStatuses = []string{string(parrain.RewardPending), string(parrain.RewardApproved), string(parrain.RewardPaid),
	string(parrain.RewardReversed), string(parrain.RewardClawedBack)}

// Rewards serves GET /admin/rewards: the review queue (?status=pending, the
// default), or approved, paid, reversed, clawed_back or all rewards.
func (c *Console) Rewards(w http.ResponseWriter, r *http.Request, a *Auth) {
	all, prog, err := c.programs(w, r)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	status, ok := r.URL.Query()["status"]
	d := rewardsData{Status: string(parrain.RewardPending), Statuses: rewardStatuses, Now: c.st.Clock().Now()}
	if ok {
		d.Status = status[0]
	}
	if prog != nil {
		pg, err := listPage(r)
		if err != nil {
			c.fail(w, r, a, err)
			return
		}
		rws, next, err := c.st.RewardsPage(r.Context(), store.RewardQuery{ProgramID: prog.ID, Status: d.Status}, pg)
		if err != nil {
			c.fail(w, r, a, err)
			return
		}
		d.Next = next
		if d.Rewards, err = c.withNames(r, rws); err != nil {
			c.fail(w, r, a, err)
			return
		}
	}
	c.render(w, r, http.StatusOK, "rewards", view{Title: "Rewards", Nav: "rewards", Auth: a, Programs: all, Program: prog, Data: d})
}

func (c *Console) withNames(r *http.Request, rws []parrain.Reward) ([]rewardRow, error) {
	ids := make([]string, 0, len(rws))
	for _, x := range rws {
		ids = append(ids, x.ParticipantID)
	}
	people, err := c.st.ParticipantsByIDs(r.Context(), ids)
	if err != nil {
		return nil, err
	}
	out := make([]rewardRow, len(rws))
	for i, x := range rws {
		out[i] = rewardRow{Reward: x, Name: people[x.ParticipantID].Name}
	}
	return out, nil
}

// rewardData is a reward's page.
type rewardData struct {
	Reward      parrain.Reward
	Participant parrain.Participant
	Ledger      []parrain.Entry
	Audit       []store.AuditEntry
	Now         time.Time
}

// Reward serves GET /admin/rewards/{id}: the reward, its explanation, its
// ledger entries and who reviewed it.
func (c *Console) Reward(w http.ResponseWriter, r *http.Request, a *Auth) {
	ctx := r.Context()
	rw, err := c.st.RewardByID(ctx, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	all, _, err := c.programs(w, r)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	var prog *parrain.Program
	for i := range all {
		if all[i].ID == rw.ProgramID {
			prog = &all[i]
		}
	}
	d := rewardData{Reward: rw, Now: c.st.Clock().Now()}
	if d.Participant, err = c.st.ParticipantByID(ctx, rw.ParticipantID); err != nil {
		c.fail(w, r, a, err)
		return
	}
	if d.Ledger, err = c.st.LedgerEntries(ctx, rw.ID); err != nil {
		c.fail(w, r, a, err)
		return
	}
	if d.Audit, _, err = c.st.AuditLog(ctx, store.AuditFilter{TargetType: "reward", TargetID: rw.ID}, store.Page{Limit: 50}); err != nil {
		c.fail(w, r, a, err)
		return
	}
	c.render(w, r, http.StatusOK, "reward", view{Title: "Reward " + rw.ID, Nav: "rewards", Auth: a, Programs: all, Program: prog, Data: d})
}

// backTo keeps a list's filters after an action: a console path from the
// form, else the reward's page.
func backTo(r *http.Request, fallback string) string {
	b := r.PostForm.Get("back")
	if strings.HasPrefix(b, "/admin/") && !strings.HasPrefix(b, "//") && !strings.ContainsAny(b, "\\\r\n") {
		return b
	}
	return fallback
}

// ApproveReward handles POST /admin/rewards/{id}/approve: approve a pending
// reward now, before its hold ends.
func (c *Console) ApproveReward(w http.ResponseWriter, r *http.Request, a *Auth) {
	rw, err := c.st.RewardByID(r.Context(), r.PathValue("id"))
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	back := backTo(r, "/admin/rewards/"+url.PathEscape(rw.ID))
	rw, err = c.opt.Referral.ApproveRewardNow(r.Context(), rw.ProgramID, rw.ID)
	if parrain.ErrorCode(err) == parrain.CodeConflict {
		c.setFlash(w, r, "error", parrain.AsError(err).Message)
		redirect(w, r, back)
		return
	}
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	c.setFlash(w, r, "ok", fmt.Sprintf("Approved %s for %s.", money(rw.Outstanding(), rw.Currency), rw.ExternalID))
	redirect(w, r, back)
}

// ReinstateReward handles POST /admin/rewards/{id}/reinstate: bring back
// a reward voided as inactive (the friend showed no activity during the
// hold), with an optional note; audited by the use case.
func (c *Console) ReinstateReward(w http.ResponseWriter, r *http.Request, a *Auth) {
	rw, err := c.st.RewardByID(r.Context(), r.PathValue("id"))
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	back := backTo(r, "/admin/rewards/"+url.PathEscape(rw.ID))
	rw, _, err = c.opt.Referral.ReinstateReward(r.Context(), rw.ProgramID, rw.ID, referral.ReinstateDecision{Note: r.PostForm.Get("note")}, store.Idem{})
	if e := parrain.AsError(err); e != nil && (e.Code == parrain.CodeConflict || e.Code == parrain.CodeInvalid) {
		c.setFlash(w, r, "error", e.Message)
		redirect(w, r, back)
		return
	}
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	c.setFlash(w, r, "ok", fmt.Sprintf("Reinstated %s for %s: approved.", money(rw.Outstanding(), rw.Currency), rw.ExternalID))
	redirect(w, r, back)
}

// RejectReward handles POST /admin/rewards/{id}/reject: reject a pending
// reward with a reason (required).
func (c *Console) RejectReward(w http.ResponseWriter, r *http.Request, a *Auth) {
	rw, err := c.st.RewardByID(r.Context(), r.PathValue("id"))
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	back := backTo(r, "/admin/rewards/"+url.PathEscape(rw.ID))
	amount := rw.Outstanding()
	rw, err = c.opt.Referral.RejectReward(r.Context(), rw.ProgramID, rw.ID, r.PostForm.Get("reason"))
	if e := parrain.AsError(err); e != nil && (e.Code == parrain.CodeConflict || e.Code == parrain.CodeInvalid) {
		msg := e.Message
		if e.Field == "reason" {
			msg = "Rejecting needs a reason: " + e.Message + "."
		}
		c.setFlash(w, r, "error", msg)
		redirect(w, r, back)
		return
	}
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	c.setFlash(w, r, "ok", fmt.Sprintf("Rejected %s for %s.", money(amount, rw.Currency), rw.ExternalID))
	redirect(w, r, back)
}

// BulkRewards handles POST /admin/rewards/bulk: approve, or reject with a
// reason, the selected rewards.
func (c *Console) BulkRewards(w http.ResponseWriter, r *http.Request, a *Auth) {
	f := r.PostForm
	programID := f.Get("program")
	back := backTo(r, "/admin/rewards?program="+url.QueryEscape(programID))
	if _, err := c.st.Program(r.Context(), programID); err != nil {
		c.fail(w, r, a, err)
		return
	}
	c.bulkRewards(w, r, a, programID, f["id"], f.Get("action"), f.Get("reason"), back)
}

func (c *Console) bulkRewards(w http.ResponseWriter, r *http.Request, a *Auth, programID string, ids []string, action, reason, back string) {
	var res referral.BulkResult
	var err error
	switch action {
	case "approve":
		res, err = c.opt.Referral.ApproveRewards(r.Context(), programID, ids)
	case "reject":
		res, err = c.opt.Referral.RejectRewards(r.Context(), programID, ids, reason)
	default:
		err = parrain.Invalid("action", "must be approve or reject")
	}
	if e := parrain.AsError(err); e != nil && e.Code == parrain.CodeInvalid {
		msg := e.Message
		if e.Field == "reason" {
			msg = "Rejecting needs a reason: " + e.Message + "."
		}
		c.setFlash(w, r, "error", msg)
		redirect(w, r, back)
		return
	}
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	verb := map[string]string{"approve": "Approved", "reject": "Rejected"}[action]
	msg := fmt.Sprintf("%s %d reward(s).", verb, len(res.Done))
	if n := len(res.Skipped); n > 0 {
		msg += fmt.Sprintf(" %d skipped (not pending any more).", n)
	}
	c.setFlash(w, r, "ok", msg)
	redirect(w, r, back)
}

// RewardsCSV serves GET /admin/rewards.csv: the program's rewards with the
// list's status filter, every page.
func (c *Console) RewardsCSV(w http.ResponseWriter, r *http.Request, a *Auth) {
	_, prog, err := c.programs(w, r)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	if prog == nil {
		c.fail(w, r, a, parrain.Errorf(parrain.CodeNotFound, "no program yet"))
		return
	}
	status := r.URL.Query().Get("status")
	if status != "" && !parrain.ValidRewardStatus(status) {
		c.fail(w, r, a, parrain.Invalid("status", "must be pending, approved, paid, reversed or clawed_back"))
		return
	}
	cw := csvAnswer(w, "parrain-"+prog.ID+"-rewards.csv")
	_ = cw.Write([]string{"id", "created_at", "status", "participant_external_id", "role", "trigger", "kind", "amount_minor", "reversed_minor",
		"currency", "hold_until", "approved_at", "rule_id", "rule_version", "order_id", "explanation"})
	cursor := ""
	for {
		rws, next, err := c.st.RewardsPage(r.Context(), store.RewardQuery{ProgramID: prog.ID, Status: status}, store.Page{Limit: 200, Cursor: cursor})
		if err != nil {
			c.log.ErrorContext(r.Context(), "exporting rewards", "err", err)
			return
		}
		for _, x := range rws {
			approved := ""
			if x.ApprovedAt != nil {
				approved = x.ApprovedAt.Format(time.RFC3339)
			}
			_ = cw.Write([]string{x.ID, x.CreatedAt.Format(time.RFC3339), string(x.Status), csvSafe(x.ExternalID), string(x.Role), string(x.Trigger),
				string(x.Kind), strconv.FormatInt(x.Amount, 10), strconv.FormatInt(x.Reversed, 10), x.Currency, x.HoldUntil.Format(time.RFC3339),
				approved, x.RuleID, strconv.Itoa(x.RuleVersion), csvSafe(x.OrderID), csvSafe(x.Explanation)})
		}
		cw.Flush()
		if next == "" || r.Context().Err() != nil {
			return
		}
		cursor = next
	}
}

// Audit serves GET /admin/audit: who did what and when, newest first,
// optionally for one program or one kind of action.
func (c *Console) Audit(w http.ResponseWriter, r *http.Request, a *Auth) {
	all, prog, err := c.programs(w, r)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	pg, err := listPage(r)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	q := r.URL.Query()
	f := store.AuditFilter{Action: q.Get("action"), TargetType: q.Get("target_type"), TargetID: q.Get("target_id"),
		ActorType: q.Get("actor_type"), ActorID: strings.TrimSpace(q.Get("actor"))}
	if q.Get("scope") == "program" && prog != nil {
		f.ProgramID = prog.ID
	}
	// Days are read as UTC dates; "until" includes the whole day.
	for _, d := range []struct {
		name string
		to   *time.Time
		add  int
	}{{"since", &f.Since, 0}, {"until", &f.Until, 1}} {
		if v := q.Get(d.name); v != "" {
			t, err := time.Parse("2006-01-02", v)
			if err != nil {
				c.fail(w, r, a, parrain.Invalid(d.name, "must be a date (YYYY-MM-DD)"))
				return
			}
			*d.to = t.AddDate(0, 0, d.add)
		}
	}
	entries, next, err := c.st.AuditLog(r.Context(), f, pg)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	c.render(w, r, http.StatusOK, "audit", view{Title: "Audit log", Nav: "audit", Auth: a, Programs: all, Program: prog,
		Data: struct {
			Entries []store.AuditEntry
			Next    string
			Filter  store.AuditFilter
			Scope   string
			Since   string
			Until   string
		}{entries, next, f, q.Get("scope"), q.Get("since"), q.Get("until")}})
}
