package store_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// partner inserts a partner application through the repository.
func (e *env) partner(prog, email, name string) string {
	e.T.Helper()
	var id string
	err := e.St.InTx(ctx, func(tx *store.Tx) error {
		var err error
		id, err = tx.InsertPartner(ctx, prog, parrain.PartnerApplication{Email: email, Name: name, Company: name + " Ltd"}, "application", tx.Now())
		return err
	})
	if err != nil {
		e.T.Fatalf("insert partner %s: %v", email, err)
	}
	return id
}

func TestPartnersListAndStatus(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		a, b := e.Program(nil), e.Program(nil)
		var ids []string
		for i := range 7 {
			ids = append(ids, e.partner(a.ID, fmt.Sprintf("p%d@example.com", i), fmt.Sprintf("P%d", i)))
		}
		e.partner(b.ID, "p0@example.com", "B0") // the same email in another program is allowed
		adv, adv3 := e.Advocate(a.ID, "partner-1", ""), e.Advocate(a.ID, "partner-3", "")
		now := t0.Add(time.Hour)
		err := e.St.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.ApprovePartner(ctx, ids[1], adv.ID, "gold", "welcome", now); err != nil {
				return err
			}
			if err := tx.ApprovePartner(ctx, ids[3], adv3.ID, "silver", "", now); err != nil {
				return err
			}
			if err := tx.RejectPartner(ctx, ids[2], "not a fit", now); err != nil {
				return err
			}
			return tx.SetPartnerStatus(ctx, ids[3], parrain.PartnerSuspended, now)
		})
		if err != nil {
			t.Fatal(err)
		}
		rev := func(xs ...string) []string { xs = slices.Clone(xs); slices.Reverse(xs); return xs }
		cases := []struct {
			status parrain.PartnerStatus
			want   []string
		}{
			{"", rev(ids...)},
			{parrain.PartnerApplied, rev(ids[0], ids[4], ids[5], ids[6])},
			{parrain.PartnerActive, []string{ids[1]}},
			{parrain.PartnerRejected, []string{ids[2]}},
			{parrain.PartnerSuspended, []string{ids[3]}},
		}
		for _, c := range cases {
			for _, limit := range []int{1, 3, 50} {
				got := walk(t, limit, 8, func(pg store.Page) ([]parrain.Partner, string, error) {
					return e.St.Partners(ctx, a.ID, c.status, pg)
				}, func(p parrain.Partner) string { return p.ID })
				if !slices.Equal(got, c.want) {
					t.Errorf("status %q limit %d: %v, want %v", c.status, limit, got, c.want)
				}
			}
		}
		p, err := e.St.Partner(ctx, a.ID, ids[1])
		if err != nil || p.Status != parrain.PartnerActive || p.Tier != "gold" || p.ParticipantID != adv.ID || p.ExternalID != "partner-1" ||
			p.Code != adv.Code || p.DecisionNote != "welcome" || p.ApprovedAt == nil || !p.ApprovedAt.Equal(now) || p.HasPassword {
			t.Errorf("approved partner %+v %v", p, err)
		}
		// An applicant has no participant yet: empty links, not NULL errors.
		if p, err := e.St.Partner(ctx, a.ID, ids[0]); err != nil || p.ParticipantID != "" || p.Code != "" || p.ApprovedAt != nil || p.Status != parrain.PartnerApplied {
			t.Errorf("applicant %+v %v", p, err)
		}
		active, err := e.St.ActivePartnerIDs(ctx, a.ID)
		if err != nil || !slices.Equal(active, []string{ids[1]}) {
			t.Errorf("active ids %v %v", active, err)
		}
		kpi, names, err := e.St.KPIPartners(ctx, a.ID)
		if err != nil || len(kpi) != 2 || names[ids[1]] != "P1" || names[ids[3]] != "P3" || kpi[0].ID != ids[1] {
			t.Errorf("kpi partners %+v %v %v", kpi, names, err)
		}
		// Program scoping and not found.
		for _, c := range []struct{ prog, id string }{{b.ID, ids[1]}, {a.ID, "ptn_missing"}, {"prog_missing", ids[0]}} {
			if _, err := e.St.Partner(ctx, c.prog, c.id); parrain.ErrorCode(err) != parrain.CodeNotFound {
				t.Errorf("partner %s of %s: %v", c.id, c.prog, err)
			}
		}
		if got, err := e.St.PartnerByID(ctx, ids[1]); err != nil || got.ProgramID != a.ID {
			t.Errorf("by id: %+v %v", got, err)
		}
		if _, err := e.St.PartnerByID(ctx, "ptn_missing"); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("missing by id: %v", err)
		}
		if ps, _, err := e.St.Partners(ctx, b.ID, "", store.Page{}); err != nil || len(ps) != 1 || ps[0].Name != "B0" {
			t.Errorf("program b: %+v %v", ps, err)
		}
	})
}

func TestPartnerEmailUnique(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		a, b := e.Program(nil), e.Program(nil)
		e.partner(a.ID, "ann@example.com", "Ann")
		err := e.St.InTx(ctx, func(tx *store.Tx) error {
			for _, c := range []struct {
				prog, email string
				want        bool
			}{{a.ID, "ann@example.com", true}, {a.ID, "bob@example.com", false}, {b.ID, "ann@example.com", false}} {
				taken, err := tx.PartnerEmailTaken(ctx, c.prog, c.email)
				if err != nil || taken != c.want {
					return fmt.Errorf("taken %s in %s: %v %v", c.email, c.prog, taken, err)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		// Two applications that both passed the check (a race): the second
		// insert is a conflict on the email, not a database error.
		err = e.St.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.InsertPartner(ctx, a.ID, parrain.PartnerApplication{Email: "ann@example.com", Name: "Ann again"}, "application", tx.Now())
			return err
		})
		if pe := parrain.AsError(err); pe == nil || pe.Code != parrain.CodeConflict || pe.Field != "email" {
			t.Errorf("duplicate partner email: %v, want a conflict on email", err)
		}
		if ps, _, err := e.St.Partners(ctx, a.ID, "", store.Page{}); err != nil || len(ps) != 1 {
			t.Errorf("partners after the duplicate: %d %v", len(ps), err)
		}
	})
}

// setPartnerHash stores a partner's password hash in its own transaction
// (the use case in internal/access hashes, checks and audits).
func setPartnerHash(e *env, partnerID, hash string) error {
	return e.St.InTx(ctx, func(tx *store.Tx) error { return tx.SetPartnerPasswordHash(ctx, partnerID, hash, e.Clock.Now()) })
}

func TestPartnerByEmailAndPassword(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		a, b := e.Program(nil), e.Program(nil)
		id := e.partner(a.ID, "ann@example.com", "Ann")
		if err := setPartnerHash(e, id, "$argon2id$hash"); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			prog, email string
			found       bool
		}{
			{a.ID, "ann@example.com", true},
			{a.ID, "  ANN@Example.com ", true},
			{b.ID, "ann@example.com", false},
			{a.ID, "bob@example.com", false},
		}
		for _, c := range cases {
			p, hash, err := e.St.PartnerByEmail(ctx, c.prog, c.email)
			if !c.found {
				if parrain.ErrorCode(err) != parrain.CodeNotFound || hash != "" {
					t.Errorf("%q in %s: %v", c.email, c.prog, err)
				}
				continue
			}
			if err != nil || p.ID != id || hash != "$argon2id$hash" || !p.HasPassword {
				t.Errorf("%q: %+v %q %v", c.email, p, hash, err)
			}
		}
		if err := setPartnerHash(e, "ptn_missing", "h"); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("password of a missing partner: %v", err)
		}
	})
}

func TestPartnerOnboardingSteps(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(nil)
		id := e.partner(prog.ID, "ann@example.com", "Ann")
		done := t0.Add(-time.Hour)
		later := t0.Add(time.Hour)
		err := e.St.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.SetPartnerStep(ctx, id, store.PartnerStepKickoff, &done, later); err != nil {
				return err
			}
			if err := tx.SetPartnerStep(ctx, id, store.PartnerStepTraining, &done, later); err != nil {
				return err
			}
			if err := tx.SetPartnerStep(ctx, id, store.PartnerStepTraining, nil, later); err != nil { // undone
				return err
			}
			if err := tx.SetPartnerAgreement(ctx, id, "v2", later); err != nil {
				return err
			}
			if err := tx.SetPartnerTier(ctx, id, "platinum", later); err != nil {
				return err
			}
			if err := tx.SetPartnerStep(ctx, id, "password; DROP TABLE partners", &done, later); err == nil || !strings.Contains(err.Error(), "unknown onboarding step") {
				return fmt.Errorf("unknown step: %v", err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		p, err := e.St.Partner(ctx, prog.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		if p.KickoffAt == nil || !p.KickoffAt.Equal(done) || p.TrainingAt != nil || p.AgreementVersion != "v2" || p.AgreementAt == nil ||
			!p.AgreementAt.Equal(later) || p.Tier != "platinum" || !p.UpdatedAt.Equal(later) || !p.AppliedAt.Equal(t0) {
			t.Errorf("partner %+v", p)
		}
	})
}
