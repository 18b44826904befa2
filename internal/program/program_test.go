package program_test

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

func TestProgramIdempotentCreate(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		p := parrain.Program{Name: "A", LandingURL: "https://a.example", Currency: "usd"}
		idem := store.Idem{Scope: "key_1", Key: "k1", Hash: "h1"}
		a, replayed, err := e.Prog.Create(ctx, p, idem)
		if err != nil || replayed {
			t.Fatalf("first create: %v replayed=%v", err, replayed)
		}
		if a.Currency != "USD" || a.CookieWindowDays != 30 || a.HoldDays != 0 || a.AttributionModel != parrain.LastClick {
			t.Errorf("defaults not applied: %+v", a)
		}
		b, replayed, err := e.Prog.Create(ctx, p, idem)
		if err != nil || !replayed || b.ID != a.ID {
			t.Fatalf("replay: id %s vs %s, replayed=%v, err=%v", b.ID, a.ID, replayed, err)
		}
		_, _, err = e.Prog.Create(ctx, p, store.Idem{Scope: "key_1", Key: "k1", Hash: "other"})
		if parrain.ErrorCode(err) != parrain.CodeIdempotencyReuse {
			t.Fatalf("reuse with another body: got %v", err)
		}
		// Same key under another API key is another request.
		c, replayed, err := e.Prog.Create(ctx, p, store.Idem{Scope: "key_2", Key: "k1", Hash: "h1"})
		if err != nil || replayed || c.ID == a.ID {
			t.Fatalf("other scope: %v %v", err, replayed)
		}
		ps, _, err := e.St.Programs(ctx, store.Page{})
		if err != nil || len(ps) != 2 {
			t.Fatalf("programs: %d %v", len(ps), err)
		}
	})
}

const testSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

func TestProgramVersionsAndSecrets(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(func(p *parrain.Program) {
			p.Key = "spring"
			p.Fulfilment = &parrain.Fulfilment{URL: "https://crm.example/hook", Secret: testSecret}
		})
		if prog.Version != 1 || prog.Fulfilment.Secret != "" || !prog.Fulfilment.SecretSet {
			t.Fatalf("created %+v", prog.Fulfilment)
		}
		// The secret is never in the stored documents.
		var docs string
		if err := e.St.DB().QueryRow(`SELECT document FROM program_versions WHERE program_id = $1`, prog.ID).Scan(&docs); err != nil {
			t.Fatalf("query: %v", err)
		}
		var sealed, settings string
		if err := e.St.DB().QueryRow(`SELECT fulfilment_secret, settings FROM programs WHERE id = $1`, prog.ID).Scan(&sealed, &settings); err != nil {
			t.Fatalf("query: %v", err)
		}
		if strings.Contains(docs+settings+sealed, "MfKQ9r8") || !strings.HasPrefix(sealed, "ps1.") {
			t.Fatalf("secret at rest: %q %q %q", docs, settings, sealed)
		}
		adv := e.Advocate(prog.ID, "adv", "")
		e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "f1", ReferralCode: adv.Code})
		r1 := e.Event(prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: "f1", OrderID: "1", Amount: 5000, Currency: "EUR"})

		// Unchanged document: no new version.
		same := prog
		same.Version = 0
		got, _, err := e.Prog.Update(ctx, prog.ID, same, store.Idem{})
		if err != nil || got.Version != 1 {
			t.Fatalf("unchanged: %d %v", got.Version, err)
		}
		// A changed amount: version 2; the secret stays.
		v2 := prog
		v2.Version = 1
		v2.Rules = []parrain.RewardRule{{ID: "rule_1", Trigger: parrain.TriggerFirstPurchase,
			Advocate: &parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountFixed, Amount: 9900}}}
		got, _, err = e.Prog.Update(ctx, prog.ID, v2, store.Idem{Scope: "k", Key: "put-1", Hash: "h"})
		if err != nil || got.Version != 2 || !got.Fulfilment.SecretSet || got.CreatedAt != prog.CreatedAt || got.ID != prog.ID {
			t.Fatalf("update: %+v %v", got, err)
		}
		if _, replayed, _ := e.Prog.Update(ctx, prog.ID, v2, store.Idem{Scope: "k", Key: "put-1", Hash: "h"}); !replayed {
			t.Error("PUT with the same key is not replayed")
		}
		// Stale version: conflict on the version field.
		if _, _, err := e.Prog.Update(ctx, prog.ID, v2, store.Idem{}); parrain.ErrorCode(err) != parrain.CodeConflict || parrain.AsError(err).Field != "version" {
			t.Fatalf("stale update: %v", err)
		}
		// Past rewards keep their version and explain with its rule.
		ex, err := e.St.ExplainReward(ctx, prog.ID, r1.Rewards[0].ID)
		if err != nil || ex.RuleVersion != 1 || ex.Explain.Rule == nil || ex.Explain.Rule.Advocate.Amount != 2000 || ex.Amount != 2000 {
			t.Fatalf("explain old reward: %+v %v", ex.Explain, err)
		}
		e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "f2", ReferralCode: adv.Code})
		r2 := e.Event(prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: "f2", OrderID: "2", Amount: 5000, Currency: "EUR"})
		if r2.Rewards[0].Amount != 9900 || r2.Rewards[0].RuleVersion != 2 || !strings.Contains(r2.Rewards[0].Explanation, "[program v2]") {
			t.Fatalf("new reward %+v", r2.Rewards[0])
		}
		vs, err := e.St.ProgramVersions(ctx, prog.ID)
		if err != nil || len(vs) != 2 || vs[0].Version != 2 || vs[1].Program.Rules[0].Advocate.Amount != 2000 {
			t.Fatalf("versions %+v %v", vs, err)
		}
		// A new secret replaces the old one; removing fulfilment clears it.
		v3 := got
		v3.Fulfilment = nil
		if got, _, err = e.Prog.Update(ctx, prog.ID, v3, store.Idem{}); err != nil || got.Fulfilment != nil {
			t.Fatalf("remove fulfilment: %+v %v", got, err)
		}
		if err := e.St.DB().QueryRow(`SELECT fulfilment_secret FROM programs WHERE id = $1`, prog.ID).Scan(&sealed); err != nil {
			t.Fatalf("query: %v", err)
		}
		if sealed != "" {
			t.Error("secret kept after removing fulfilment")
		}
		// A program stored before the engine's defaults existed (empty
		// settings) is unchanged by the same document normalized today.
		legacy := e.Program(nil)
		if _, err := e.St.DB().Exec(`UPDATE programs SET settings = '{}' WHERE id = $1`, legacy.ID); err != nil {
			t.Fatal(err)
		}
		stored, _ := e.St.Program(ctx, legacy.ID)
		if stored.Success != nil || stored.Rounding != "" {
			t.Fatalf("legacy settings %+v", stored.ProgramSettings)
		}
		stored.Version = 0
		if got, _, err := e.Prog.Update(ctx, legacy.ID, stored, store.Idem{}); err != nil || got.Version != 1 {
			t.Fatalf("legacy unchanged: %d %v", got.Version, err)
		}
		// Keys are unique.
		_, _, err = e.Prog.Create(ctx, parrain.Program{Name: "dup", LandingURL: "https://x.example", Currency: "EUR",
			ProgramSettings: parrain.ProgramSettings{Key: "spring"}}, store.Idem{})
		if parrain.ErrorCode(err) != parrain.CodeConflict {
			t.Fatalf("duplicate key: %v", err)
		}
	})
}

func TestProgramAsCode(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		staging := e.Program(func(p *parrain.Program) {
			b2b(p)
			p.Key = "b2b-partners"
			p.Fulfilment = &parrain.Fulfilment{URL: "https://crm.example/hook", Secret: testSecret}
		})
		doc, err := e.Prog.Export(ctx, staging.ID)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := json.Marshal(doc)
		if doc.Format != parrain.ProgramDocumentFormat || doc.Program.ID != "" || strings.Contains(string(b), "whsec") || strings.Contains(string(b), "secret_set") {
			t.Fatalf("export: %s", b)
		}
		// Promote to "production": another database.
		prod := open(t, dbURLOther(t, e))
		var back parrain.ProgramDocument
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		res, err := prod.Prog.Apply(ctx, back, "")
		if err != nil || res.Action != "created" || res.Program.Key != "b2b-partners" || len(res.Program.Stages) != 3 {
			t.Fatalf("apply create: %+v %v", res, err)
		}
		res, err = prod.Prog.Apply(ctx, back, "")
		if err != nil || res.Action != "unchanged" || res.Program.Version != 1 {
			t.Fatalf("apply again: %+v %v", res, err)
		}
		back.Program.HoldDays = 45
		res, err = prod.Prog.Apply(ctx, back, "")
		if err != nil || res.Action != "updated" || res.Program.Version != 2 || res.Program.HoldDays != 45 {
			t.Fatalf("apply change: %+v %v", res, err)
		}
		// The exported document of production equals the applied one.
		doc2, _ := prod.Prog.Export(ctx, res.Program.ID)
		back.Version, doc2.Version = 0, 0
		a, _ := json.Marshal(back)
		c, _ := json.Marshal(doc2)
		if string(a) != string(c) {
			t.Errorf("round trip:\n%s\n%s", a, c)
		}
		back.Format = "v0"
		if _, err := prod.Prog.Apply(ctx, back, ""); parrain.AsError(err) == nil || parrain.AsError(err).Field != "format" {
			t.Errorf("bad format: %v", err)
		}
		back.Format = parrain.ProgramDocumentFormat
		back.Program.Rules[0].Stage = "nope"
		if _, err := prod.Prog.Apply(ctx, back, ""); parrain.AsError(err) == nil || parrain.AsError(err).Field != "program.rules[0].stage" {
			t.Errorf("invalid document: %v", err)
		}
	})
}

// dbURLOther returns a second fresh database of the same engine.
func dbURLOther(t *testing.T, e *env) string {
	if strings.HasPrefix(e.URL, "postgres") {
		return dbtest.URL(t, "postgres")
	}
	return dbtest.URL(t, "sqlite")
}
