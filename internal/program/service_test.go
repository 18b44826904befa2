package program_test

import (
	"context"
	"testing"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// asKey is a context acting as an API key, as the API puts it.
func asKey(id string) context.Context {
	return parrain.WithActor(ctx, parrain.Actor{Kind: parrain.ActorAPIKey, ID: id, Label: "ci", IP: "192.0.2.1"})
}

// audit returns the audit entries of a program, newest first.
func (e *env) audit(programID string) []store.AuditEntry {
	e.T.Helper()
	log, _, err := e.St.AuditLog(ctx, store.AuditFilter{TargetType: "program", TargetID: programID}, store.Page{Limit: 100})
	if err != nil {
		e.T.Fatalf("audit log: %v", err)
	}
	return log
}

// versions returns how many versions of a program are stored.
func (e *env) versions(programID string) int {
	e.T.Helper()
	vs, err := e.St.ProgramVersions(ctx, programID)
	if err != nil {
		e.T.Fatalf("program versions: %v", err)
	}
	return len(vs)
}

// Every save is audited in its own transaction under the context's actor:
// a creation, a change (with the version it came from), a pause and a
// resumption; a save that changes nothing and a refused one leave no entry.
func TestSavesAudited(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		key := asKey("key_1")
		p, _, err := e.Prog.Create(key, parrain.Program{Name: "Audited", LandingURL: "https://a.example", Currency: "EUR"}, store.Idem{})
		if err != nil {
			t.Fatal(err)
		}
		log := e.audit(p.ID)
		if len(log) != 1 || log[0].Action != store.AuditProgramCreated || log[0].ActorType != string(parrain.ActorAPIKey) ||
			log[0].UserID != "key_1" || log[0].IP != "192.0.2.1" || log[0].ProgramID != p.ID || log[0].Details["name"] != "Audited" {
			t.Fatalf("creation audit %+v", log)
		}
		same := p
		same.Version = 0
		if got, _, err := e.Prog.Update(key, p.ID, same, store.Idem{}); err != nil || got.Version != 1 {
			t.Fatalf("unchanged: %d %v", got.Version, err)
		}
		if n := len(e.audit(p.ID)); n != 1 {
			t.Fatalf("an unchanged document left %d entries", n)
		}
		p.Version, p.HoldDays = 0, 7
		up, _, err := e.Prog.Update(key, p.ID, p, store.Idem{})
		if err != nil || up.Version != 2 {
			t.Fatalf("update: %d %v", up.Version, err)
		}
		log = e.audit(p.ID)
		if len(log) != 2 || log[0].Action != store.AuditProgramUpdated || log[0].UserID != "key_1" ||
			log[0].Details["from_version"] != float64(1) || log[0].Details["version"] != float64(2) {
			t.Fatalf("update audit %+v", log[0])
		}
		for _, s := range []parrain.ProgramStatus{parrain.ProgramPaused, parrain.ProgramActive} {
			got, err := e.Prog.SetStatus(key, p.ID, s)
			if err != nil || got.Status != s {
				t.Fatalf("set %s: %+v %v", s, got, err)
			}
		}
		log = e.audit(p.ID)
		if len(log) != 4 || log[1].Action != store.AuditProgramPaused || log[0].Action != store.AuditProgramResumed || log[0].UserID != "key_1" {
			t.Fatalf("status audit %+v", log)
		}
		// Refused: an invalid status, an unknown program, a stale version.
		if _, err := e.Prog.SetStatus(key, p.ID, "archived"); parrain.AsError(err) == nil || parrain.AsError(err).Field != "status" {
			t.Errorf("invalid status: %v", err)
		}
		if _, err := e.Prog.SetStatus(key, "prog_nope", parrain.ProgramPaused); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("unknown program: %v", err)
		}
		p.Version, p.HoldDays = 1, 9
		if _, _, err := e.Prog.Update(key, p.ID, p, store.Idem{}); parrain.ErrorCode(err) != parrain.CodeConflict {
			t.Errorf("stale update: %v", err)
		}
		if n := len(e.audit(p.ID)); n != 4 {
			t.Errorf("refused changes left %d entries, want 4", n)
		}
		if n := e.versions(p.ID); n != 2 {
			t.Errorf("%d versions stored, want 2", n)
		}
		cur, err := e.St.Program(ctx, p.ID)
		if err != nil || cur.Status != parrain.ProgramActive || cur.Version != 2 || cur.HoldDays != 7 {
			t.Errorf("program after refusals: %+v %v", cur, err)
		}
	})
}

// A key another program has refuses the whole save: no row, version,
// terms or audit entry of it remains.
func TestKeyConflictRollsBack(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		e.Program(func(p *parrain.Program) { p.Key = "spring" })
		other := e.Program(nil)
		doc := other
		doc.Version, doc.Key, doc.HoldDays = 0, "spring", 3
		_, _, err := e.Prog.Update(ctx, other.ID, doc, store.Idem{})
		if e := parrain.AsError(err); e == nil || e.Code != parrain.CodeConflict || e.Field != "key" {
			t.Fatalf("taken key: %v", err)
		}
		cur, err := e.St.Program(ctx, other.ID)
		if err != nil || cur.Version != 1 || cur.Key != "" || cur.HoldDays != 30 {
			t.Fatalf("program after the refused save: %+v %v", cur, err)
		}
		if n := e.versions(other.ID); n != 1 {
			t.Errorf("%d versions stored, want 1", n)
		}
		if n := len(e.audit(other.ID)); n != 1 {
			t.Errorf("%d audit entries, want the creation only", n)
		}
		var terms int
		if err := e.St.DB().QueryRow(`SELECT COUNT(*) FROM program_terms WHERE program_id = $1`, other.ID).Scan(&terms); err != nil {
			t.Fatalf("query: %v", err)
		}
		if terms != 1 {
			t.Errorf("%d terms versions, want 1", terms)
		}
		// Its own key again is no conflict.
		doc.Key = ""
		if _, _, err := e.Prog.Update(ctx, other.ID, doc, store.Idem{}); err != nil {
			t.Fatal(err)
		}
	})
}

// otherSecret is a second valid fulfilment secret.
const otherSecret = "whsec_MDEyMzQ1Njc4OWFiY2RlZmdoaWprbG1u"

// The caller's document keeps its secret: the use cases take it out of a
// copy, so a retried transaction still has it.
func TestCallerDocumentUntouched(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		f := &parrain.Fulfilment{URL: "https://crm.example/hook", Secret: testSecret}
		p, _, err := e.Prog.Create(ctx, parrain.Program{Name: "S", LandingURL: "https://s.example", Currency: "EUR",
			ProgramSettings: parrain.ProgramSettings{Fulfilment: f}}, store.Idem{})
		if err != nil || p.Fulfilment.Secret != "" || !p.Fulfilment.SecretSet {
			t.Fatalf("create: %+v %v", p.Fulfilment, err)
		}
		if f.Secret != testSecret || f.SecretSet {
			t.Fatalf("the caller's fulfilment changed: %+v", f)
		}
		doc := p
		doc.Version = 0
		g := &parrain.Fulfilment{URL: "https://crm.example/hook", Secret: otherSecret}
		doc.Fulfilment = g
		up, _, err := e.Prog.Update(ctx, p.ID, doc, store.Idem{})
		if err != nil || up.Version != 2 || up.Fulfilment.Secret != "" {
			t.Fatalf("update: %+v %v", up, err)
		}
		if g.Secret != otherSecret {
			t.Errorf("the caller's fulfilment changed: %+v", g)
		}
	})
}

// Applying a document to a program named by id updates that program
// whatever its key; an unknown id is not found.
func TestApplyToProgramID(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		target := e.Program(nil)
		doc := parrain.ExportProgram(e.Program(func(p *parrain.Program) { p.HoldDays = 5 }))
		res, err := e.Prog.Apply(ctx, doc, target.ID)
		if err != nil || res.Action != "updated" || res.Program.ID != target.ID || res.Program.HoldDays != 5 || res.Program.Version != 2 {
			t.Fatalf("apply by id: %+v %v", res, err)
		}
		if _, err := e.Prog.Apply(ctx, doc, "prog_nope"); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("unknown id: %v", err)
		}
		// Without a key and an id, a document makes a new program.
		res, err = e.Prog.Apply(ctx, doc, "")
		if err != nil || res.Action != "created" || res.Program.ID == target.ID || res.Program.Version != 1 {
			t.Fatalf("apply without key: %+v %v", res, err)
		}
	})
}

// The store refuses a program document that still carries its fulfilment
// secret: it is only ever stored sealed.
func TestStoreRefusesPlainSecret(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		p := parrain.Program{Name: "Leak", LandingURL: "https://l.example", Currency: "EUR", Version: 1, Rules: []parrain.RewardRule{},
			ProgramSettings: parrain.ProgramSettings{Fulfilment: &parrain.Fulfilment{URL: "https://crm.example", Secret: "whsec_plain"}}}
		if err := e.St.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.InsertProgram(ctx, p)
			return err
		}); err == nil {
			t.Error("a program with its secret in the document was inserted")
		}
		prog := e.Program(nil)
		p.ID = prog.ID
		if err := e.St.InTx(ctx, func(tx *store.Tx) error { return tx.InsertProgramVersion(ctx, p, e.Clock.Now()) }); err == nil {
			t.Error("a version with its secret in the document was recorded")
		}
		if err := e.St.InTx(ctx, func(tx *store.Tx) error { return tx.UpdateProgram(ctx, p) }); err == nil {
			t.Error("a program was updated with its secret in the document")
		}
		var n int
		if err := e.St.DB().QueryRow(`SELECT COUNT(*) FROM programs WHERE settings LIKE '%whsec_plain%'`).Scan(&n); err != nil {
			t.Fatalf("query: %v", err)
		}
		if n != 0 {
			t.Errorf("%d programs store the secret in clear", n)
		}
	})
}
