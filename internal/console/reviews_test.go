package console_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/store"
)

// TestFraudReviewOverHTTP drives the fraud review page on the demo data: an
// analyst reads the queue but cannot decide (403, nothing changed); a
// manager cannot reject without a reason (the error is shown, nothing
// changed), then clears one referral and rejects another, each recorded in
// fraud_reviews with the manager as reviewer and in the audit log.
func TestFraudReviewOverHTTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig(dbtest.URL(t, "sqlite")))
	an := e.session(e.user("analyst@corp.example", parrain.UserRoleAnalyst))
	m := e.session(e.user("manager@corp.example", parrain.UserRoleManager))
	prog := e.prog.ID

	queue, _, err := referral.New(e.st).ReviewQueue(ctx, prog, "", store.Page{Limit: 50})
	if err != nil || len(queue) < 2 {
		t.Fatalf("demo review queue: %d %v", len(queue), err)
	}
	var suspect referral.ReviewItem
	for _, it := range queue {
		if it.Referral.FriendExternalID == "suspect_1" {
			suspect = it
		}
	}
	if suspect.Referral.ID == "" {
		t.Fatal("suspect_1 is not in the demo review queue")
	}
	var other referral.ReviewItem
	for _, it := range queue {
		if it.Referral.ID != suspect.Referral.ID {
			other = it
			break
		}
	}
	reviewStatus := func(id string) string {
		t.Helper()
		ref, err := e.st.ReferralByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return ref.ReviewStatus
	}
	audited := func() []store.AuditEntry {
		t.Helper()
		log, _, err := e.st.AuditLog(ctx, store.AuditFilter{Action: "referral."}, store.Page{})
		if err != nil {
			t.Fatal(err)
		}
		return log
	}
	reviews := func() int {
		t.Helper()
		var n int
		if err := e.st.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM fraud_reviews WHERE reviewer = 'manager@corp.example'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	// The analyst reads the page, evidence side by side, without controls.
	page := e.do(an, "GET", "/admin/reviews?program="+prog, nil, nil)
	for _, want := range []string{"promo.hunter@mailinator.com", `data-review="` + suspect.Referral.ID + `"`, "Evidence, side by side",
		"<th scope=\"col\">Advocate</th><th scope=\"col\">Friend</th>", `id="signal-stats"`, "Risk score"} {
		if page.status != 200 || !strings.Contains(page.body, want) {
			t.Errorf("analyst page: %d, missing %q: %s", page.status, want, snippet(page.body))
		}
	}
	if strings.Contains(page.body, "data-clear=") || strings.Contains(page.body, "data-reject=") {
		t.Error("the analyst sees decision controls")
	}
	for _, path := range []string{"/admin/reviews/" + suspect.Referral.ID + "/clear", "/admin/reviews/" + suspect.Referral.ID + "/reject"} {
		a := e.do(an, "POST", path, url.Values{"program": {prog}, "reason": {"analyst says so"}}, nil)
		if a.status != 403 {
			t.Errorf("analyst POST %s: %d, want 403", path, a.status)
		}
	}
	if got := reviewStatus(suspect.Referral.ID); got != suspect.Referral.ReviewStatus {
		t.Fatalf("analyst changed the review: %s", got)
	}
	if n := len(audited()); n != 0 {
		t.Fatalf("analyst's refused posts audited: %d", n)
	}

	// The manager sees the controls; rejecting without a reason is refused
	// with a message and changes nothing.
	page = e.do(m, "GET", "/admin/reviews?program="+prog, nil, nil)
	if !strings.Contains(page.body, `data-clear="`+suspect.Referral.ID+`"`) || !strings.Contains(page.body, `data-reject="`+suspect.Referral.ID+`"`) {
		t.Errorf("manager lacks decision controls: %s", snippet(page.body))
	}
	a := e.do(m, "POST", "/admin/reviews/"+suspect.Referral.ID+"/reject", url.Values{"program": {prog}, "reason": {"  "}}, nil)
	if a.status != 303 {
		t.Fatalf("reject without reason: %d", a.status)
	}
	if got := reviewStatus(suspect.Referral.ID); got != suspect.Referral.ReviewStatus || len(audited()) != 0 || reviews() != 0 {
		t.Fatalf("rejected without a reason: %s", got)
	}
	var flash string
	for _, ck := range (&http.Response{Header: a.header}).Cookies() {
		if ck.Name == "parrain_flash" {
			flash = ck.Name + "=" + ck.Value
		}
	}
	shown := e.do(session{}, "GET", a.header.Get("Location"), nil, map[string]string{"Cookie": "parrain_session=" + m.token + "; " + flash})
	if !strings.Contains(shown.body, "Rejecting a referral needs a reason") {
		t.Errorf("no error shown after a reject without reason: %s", snippet(shown.body))
	}

	// Clear one, reject the other.
	if a := e.do(m, "POST", "/admin/reviews/"+other.Referral.ID+"/clear", url.Values{"program": {prog}}, nil); a.status != 303 {
		t.Fatalf("clear: %d", a.status)
	}
	if a := e.do(m, "POST", "/admin/reviews/"+suspect.Referral.ID+"/reject", url.Values{"program": {prog}, "reason": {"throwaway address"}}, nil); a.status != 303 {
		t.Fatalf("reject: %d", a.status)
	}
	if got := reviewStatus(other.Referral.ID); got != parrain.ReviewCleared {
		t.Errorf("cleared referral: %s", got)
	}
	ref, _ := e.st.ReferralByID(ctx, suspect.Referral.ID)
	if ref.ReviewStatus != parrain.ReviewRejected || ref.Status != parrain.ReferralRejected {
		t.Errorf("rejected referral: %s %s", ref.Status, ref.ReviewStatus)
	}
	if n := reviews(); n != 2 {
		t.Errorf("fraud_reviews by the manager: %d, want 2", n)
	}
	log := audited()
	if len(log) != 2 {
		t.Fatalf("audit entries: %d", len(log))
	}
	for _, l := range log {
		if l.UserEmail != "manager@corp.example" || l.ProgramID != prog {
			t.Errorf("audit entry %+v", l)
		}
	}
	if log[0].Action != store.AuditReferralRejected || log[0].Details["reason"] != "throwaway address" || log[1].Action != store.AuditReferralCleared {
		t.Errorf("audit actions: %s %v, %s", log[0].Action, log[0].Details, log[1].Action)
	}
	// A second decision on a decided referral is a message, not a change.
	if a := e.do(m, "POST", "/admin/reviews/"+other.Referral.ID+"/clear", url.Values{"program": {prog}}, nil); a.status != 303 || reviews() != 2 {
		t.Errorf("clearing twice: %d, %d reviews", a.status, reviews())
	}

	// The tabs list the decided ones; the noise table counts the decisions.
	rejected := e.do(m, "GET", "/admin/reviews?program="+prog+"&status=rejected", nil, nil)
	if !strings.Contains(rejected.body, `data-review="`+suspect.Referral.ID+`"`) {
		t.Errorf("rejected tab lacks the referral: %s", snippet(rejected.body))
	}
	stats, _ := referral.New(e.st).FraudSignalStats(ctx, prog)
	var decided int
	for _, s := range stats {
		decided += s.Cleared + s.Rejected
	}
	if decided == 0 {
		t.Error("signal stats count no reviewer decision")
	}
	if a := e.do(m, "GET", "/admin/reviews?program="+prog+"&status=lost", nil, nil); a.status != 400 {
		t.Errorf("bad status tab: %d", a.status)
	}
}
