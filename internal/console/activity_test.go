package console_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/parrain"
)

// The demo program requires activity: its due rewards whose friend never
// used the product are voided as inactive; the reward page says so and a
// manager reinstates one, with a note the page then shows. The program
// form shows the requirement and its explanation, and edits variants.
func TestInactiveRewardReinstatedOverHTTP(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig(dbtest.URL(t, "sqlite")))
	m := e.session(e.user("manager@corp.example", parrain.UserRoleManager))
	rows, err := e.st.DB().Query(`SELECT id FROM rewards WHERE program_id = $1 AND status = 'pending' AND hold_until <= $2`,
		e.prog.ID, e.st.Clock().Now().UnixMilli())
	if err != nil {
		t.Fatal(err)
	}
	var due []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			t.Fatal(err)
		}
		due = append(due, id)
	}
	if err := rows.Close(); err != nil {
		t.Fatal(err)
	}
	for _, id := range due {
		if _, _, err := e.st.ApproveReward(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	var voided string
	if err := e.st.DB().QueryRow(`SELECT id FROM rewards WHERE program_id = $1 AND void_reason = 'inactive' ORDER BY id LIMIT 1`, e.prog.ID).Scan(&voided); err != nil {
		t.Fatalf("no reward voided as inactive in the demo: %v", err)
	}
	page := e.do(m, "GET", "/admin/rewards/"+voided, nil, nil)
	if page.status != 200 || !strings.Contains(page.body, "Voided as inactive") || !strings.Contains(page.body, `id="reinstate"`) {
		t.Fatalf("reward page: %d", page.status)
	}
	if a := e.do(m, "POST", "/admin/rewards/"+voided+"/reinstate", url.Values{"note": {"events were not sent that week"}}, nil); a.status != 303 {
		t.Fatalf("reinstate: %d", a.status)
	}
	got, err := e.st.RewardByID(ctx, voided)
	if err != nil || got.Status != parrain.RewardApproved || got.VoidReason != "" {
		t.Fatalf("reinstated: %+v %v", got, err)
	}
	page = e.do(m, "GET", "/admin/rewards/"+voided, nil, nil)
	if !strings.Contains(page.body, "Reinstated a reward voided as inactive") || !strings.Contains(page.body, "events were not sent that week") {
		t.Errorf("reward page lacks the reinstatement")
	}
	// Twice: a conflict, told in a flash, nothing changes.
	if a := e.do(m, "POST", "/admin/rewards/"+voided+"/reinstate", url.Values{}, nil); a.status != 303 {
		t.Fatalf("reinstate again: %d", a.status)
	}
	form := e.do(m, "GET", "/admin/programs/"+e.prog.ID+"/edit", nil, nil)
	if form.status != 200 || !strings.Contains(form.body, "activity during the hold</label>") ||
		!strings.Contains(form.body, `name="activity_required" value="1" checked`) || !strings.Contains(form.body, "Personalised variants") ||
		!strings.Contains(form.body, "&#34;vip&#34;") {
		t.Errorf("program form lacks the activity requirement or the variants")
	}
}
