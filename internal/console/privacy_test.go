package console_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/parrain"
)

// TestParticipantPersonalData: from the participant page a manager exports
// the person and sets "do not sell or share"; an owner erases them only
// after retyping their user id.
func TestParticipantPersonalData(t *testing.T) {
	t.Parallel()
	e := newEnv(t, testConfig(dbtest.URL(t, "sqlite")))
	owner := e.session(e.user("owner@corp.example", parrain.UserRoleOwner))
	manager := e.session(e.user("manager@corp.example", parrain.UserRoleManager))
	p, err := e.st.Participant(ctx, e.prog.ID, "cust_001")
	if err != nil {
		t.Fatal(err)
	}
	page := e.do(manager, "GET", "/admin/participants/"+p.ID, nil, nil)
	if page.status != 200 || !strings.Contains(page.body, "Export data") || strings.Contains(page.body, "Erase this person") {
		t.Fatalf("manager's participant page: %d", page.status)
	}
	exp := e.do(manager, "GET", "/admin/participants/"+p.ID+"/export", nil, nil)
	if exp.status != 200 || !strings.Contains(exp.body, `"format": "parrain.person_export.v1"`) || !strings.Contains(exp.body, p.ID) {
		t.Fatalf("export: %d %.200s", exp.status, exp.body)
	}
	if a := e.do(manager, "POST", "/admin/participants/"+p.ID+"/do-not-sell", url.Values{"do_not_sell": {"true"}}, nil); a.status != 303 {
		t.Fatalf("do not sell: %d", a.status)
	}
	if got, err := e.st.ParticipantByID(ctx, p.ID); err != nil || !got.DoNotSell {
		t.Fatalf("do not sell not recorded: %+v %v", got, err)
	}
	if a := e.do(owner, "POST", "/admin/participants/"+p.ID+"/erase", url.Values{"confirm": {"someone-else"}, "force": {"true"}}, nil); a.status != 303 {
		t.Fatalf("erase without confirmation: %d", a.status)
	}
	if got, _ := e.st.ParticipantByID(ctx, p.ID); got.Status == parrain.ParticipantErased {
		t.Fatal("erased without the confirmation")
	}
	if a := e.do(owner, "POST", "/admin/participants/"+p.ID+"/erase", url.Values{"confirm": {"cust_001"}, "force": {"true"}}, nil); a.status != 303 {
		t.Fatalf("erase: %d %s", a.status, a.body)
	}
	got, err := e.st.ParticipantByID(ctx, p.ID)
	if err != nil || got.Status != parrain.ParticipantErased || got.Email != "" || got.ExternalID == "cust_001" {
		t.Fatalf("after erasure: %+v %v", got, err)
	}
	if page := e.do(owner, "GET", "/admin/participants/"+p.ID, nil, nil); !strings.Contains(page.body, "tombstone") {
		t.Errorf("the erased participant's page: %d", page.status)
	}
}
