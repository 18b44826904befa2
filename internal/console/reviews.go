package console

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/fraud"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/store"
)

// reviewStatuses are the review page's tabs: "" is the queue (flagged and
// held), then one review status each.
var reviewStatuses = []string{"", parrain.ReviewFlagged, parrain.ReviewHeld, parrain.ReviewCleared, parrain.ReviewRejected}

// reviewsData is the fraud review page.
type reviewsData struct {
	Status   string
	Statuses []string
	Items    []reviewItem
	Next     string
	Stats    []referral.SignalStat
	Policy   fraud.Policy
	Back     string // this page's URL, for the decision forms
}

// reviewItem is one referral of the queue, its evidence laid out side by
// side.
type reviewItem struct {
	referral.ReviewItem
	Evidence []evidenceRow
}

// evidenceRow is one line of the advocate / friend table. Shared values
// (the same IP, device, card… on both sides) are marked.
type evidenceRow struct {
	Label    string
	Advocate []evidenceValue
	Friend   []evidenceValue
}

type evidenceValue struct {
	Value  string
	Shared bool
}

// traitRows are the traits the evidence table shows, in order.
var traitRows = []struct{ kind, label string }{
	{"ip", "IP addresses"}, {"device", "Devices"}, {"payment", "Payment fingerprints"}, {"address", "Addresses"}, {"ua", "User agents"},
}

func evidenceRows(it referral.ReviewItem, now time.Time) []evidenceRow {
	one := func(s string) []evidenceValue {
		if s == "" {
			return nil
		}
		return []evidenceValue{{Value: s}}
	}
	pair := func(adv, fr []string) ([]evidenceValue, []evidenceValue) {
		mark := func(xs, other []string) []evidenceValue {
			out := make([]evidenceValue, 0, len(xs))
			for _, x := range xs {
				out = append(out, evidenceValue{Value: x, Shared: slices.Contains(other, x)})
			}
			return out
		}
		return mark(adv, fr), mark(fr, adv)
	}
	a, f := it.Advocate, it.Friend
	rows := []evidenceRow{{Label: "Email", Advocate: one(a.Email), Friend: one(f.Email)}}
	if a.Email != "" && f.Email != "" && parrain.CanonicalEmail(a.Email) == parrain.CanonicalEmail(f.Email) {
		rows[0].Advocate[0].Shared, rows[0].Friend[0].Shared = true, true
	}
	rows = append(rows,
		evidenceRow{Label: "User id", Advocate: one(a.ExternalID), Friend: one(f.ExternalID)},
		evidenceRow{Label: "Name", Advocate: one(a.Name), Friend: one(f.Name)},
		evidenceRow{Label: "Status", Advocate: one(a.Status), Friend: one(f.Status)},
		evidenceRow{Label: "Account age", Advocate: one(accountAge(a.Since, now)), Friend: one(accountAge(f.Since, now))},
	)
	for _, tr := range traitRows {
		av, fv := pair(a.Traits[tr.kind], f.Traits[tr.kind])
		rows = append(rows, evidenceRow{Label: tr.label, Advocate: av, Friend: fv})
	}
	return append(rows,
		evidenceRow{Label: "Referrals made", Advocate: one(strconv.Itoa(a.Referrals)), Friend: one(strconv.Itoa(f.Referrals))},
		evidenceRow{Label: "Rejected referrals", Advocate: one(strconv.Itoa(a.Rejected)), Friend: one(strconv.Itoa(f.Rejected))},
	)
}

// accountAge says how old an account is: "3 days (since 2026-10-29)".
func accountAge(since, now time.Time) string {
	if since.IsZero() {
		return ""
	}
	d := now.Sub(since)
	var age string
	switch {
	case d < time.Hour:
		age = fmt.Sprintf("%d min", int(d.Minutes()))
	case d < 48*time.Hour:
		age = fmt.Sprintf("%d h", int(d.Hours()))
	default:
		age = fmt.Sprintf("%d days", int(d.Hours()/24))
	}
	return age + " (since " + since.UTC().Format("2006-01-02") + ")"
}

// Reviews serves GET /admin/reviews: the program's fraud review queue
// (flagged and held referrals; ?status= cleared or rejected for the
// decided ones), each with its score, action, deadline, the signals that
// fired and the evidence of both sides; and how noisy each signal has been.
func (c *Console) Reviews(w http.ResponseWriter, r *http.Request, a *Auth) {
	all, prog, err := c.programs(w, r)
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	d := reviewsData{Status: r.URL.Query().Get("status"), Statuses: reviewStatuses}
	if prog != nil {
		ctx := r.Context()
		pg, err := listPage(r)
		if err != nil {
			c.fail(w, r, a, err)
			return
		}
		if pg.Cursor != "" && !strings.HasPrefix(pg.Cursor, "ref_") {
			c.fail(w, r, a, parrain.Invalid("cursor", "is not a cursor from a previous page"))
			return
		}
		pg.Limit = 20 // each item carries its evidence
		items, next, err := c.opt.Referral.ReviewQueue(ctx, prog.ID, d.Status, pg)
		if err != nil {
			c.fail(w, r, a, err)
			return
		}
		now := c.st.Clock().Now()
		for _, it := range items {
			d.Items = append(d.Items, reviewItem{ReviewItem: it, Evidence: evidenceRows(it, now)})
		}
		d.Next = next
		if d.Stats, err = c.opt.Referral.FraudSignalStats(ctx, prog.ID); err != nil {
			c.fail(w, r, a, err)
			return
		}
		if d.Policy, err = c.opt.Referral.FraudPolicy(ctx, prog.ID); err != nil {
			c.fail(w, r, a, err)
			return
		}
		d.Back = "/admin/reviews?" + string(qs("program", prog.ID, "status", d.Status, "cursor", pg.Cursor))
	}
	c.render(w, r, http.StatusOK, "reviews", view{Title: "Fraud review", Nav: "reviews", Auth: a, Programs: all, Program: prog, Data: d})
}

// ClearReview handles POST /admin/reviews/{id}/clear: the referral is
// legitimate; its rewards mature as usual.
func (c *Console) ClearReview(w http.ResponseWriter, r *http.Request, a *Auth) {
	c.decideReview(w, r, a, store.ReviewDecisionClear)
}

// RejectReview handles POST /admin/reviews/{id}/reject: the referral is
// fraud (a reason is required); its rewards are voided.
func (c *Console) RejectReview(w http.ResponseWriter, r *http.Request, a *Auth) {
	c.decideReview(w, r, a, store.ReviewDecisionReject)
}

// decideReview records a reviewer's decision on one referral with the
// console user as reviewer (the store writes fraud_reviews), and audits it.
func (c *Console) decideReview(w http.ResponseWriter, r *http.Request, a *Auth, decision string) {
	programID := r.PostForm.Get("program")
	if _, err := c.st.Program(r.Context(), programID); err != nil {
		c.fail(w, r, a, err)
		return
	}
	back := backTo(r, "/admin/reviews?program="+url.QueryEscape(programID))
	reason := r.PostForm.Get("reason")
	ref, err := c.opt.Referral.ReviewReferral(r.Context(), programID, r.PathValue("id"), decision, reason, a.User.Email)
	if e := parrain.AsError(err); e != nil && (e.Code == parrain.CodeConflict || e.Code == parrain.CodeInvalid) {
		msg := e.Message
		if e.Field == "reason" {
			msg = "Rejecting a referral needs a reason: " + e.Message + "."
		}
		c.setFlash(w, r, "error", msg)
		redirect(w, r, back)
		return
	}
	if err != nil {
		c.fail(w, r, a, err)
		return
	}
	verb := "Cleared"
	if decision == store.ReviewDecisionReject {
		verb = "Rejected"
	}
	c.setFlash(w, r, "ok", fmt.Sprintf("%s the referral of %s by %s.", verb, ref.FriendExternalID, ref.AdvocateExternalID))
	redirect(w, r, back)
}
