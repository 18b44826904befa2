package store_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

func auditActions(es []store.AuditEntry) string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Action
	}
	return strings.Join(out, ",")
}

func TestAuditLogFilters(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		// A fresh store has audit entries of its own (program creation);
		// the filters below all name this test's programs or actors.
		a, b := "prog_a", "prog_b"
		key := store.Actor{Kind: parrain.ActorAPIKey, UserID: "key_1", Email: "ci key"}
		ann := store.Actor{UserID: "usr_ann", Email: "ann@corp.example", IP: "192.0.2.4"}
		cli := store.SystemActor("cli")
		job := store.SystemActor("sweeper")
		entries := []struct {
			actor                        store.Actor
			action, ttype, target, progr string
		}{
			{ann, "reward.approved", "reward", "rwd_1", a}, // t0
			{ann, "reward.rejected", "reward", "rwd_2", a}, // t0+1h
			{key, "reward.approved", "reward", "rwd_3", b}, // t0+2h
			{key, "rewardx.odd", "reward", "rwd_4", a},     // t0+3h: not of the "reward." family
			{cli, "user.created", "user", "usr_ann", ""},   // t0+4h
			{job, "Reward.approved", "reward", "rwd_5", a}, // t0+5h: other case, other family
			{ann, "program.updated", "program", a, a},      // t0+6h
			{ann, "reward", "reward", "rwd_6", a},          // t0+7h: the family's name alone
		}
		for i, en := range entries {
			e.Clock.Set(t0.Add(time.Duration(i) * time.Hour))
			if err := e.St.Audit(ctx, en.actor, en.action, en.ttype, en.target, en.progr, map[string]any{"i": i}); err != nil {
				t.Fatal(err)
			}
		}
		cases := []struct {
			name string
			f    store.AuditFilter
			want string
		}{
			{"program a", store.AuditFilter{ProgramID: a}, "reward,program.updated,Reward.approved,rewardx.odd,reward.rejected,reward.approved"},
			{"program b", store.AuditFilter{ProgramID: b}, "reward.approved"},
			{"reward family", store.AuditFilter{Action: "reward.", Since: t0}, "reward.approved,reward.rejected,reward.approved"},
			{"exact action", store.AuditFilter{Action: "reward.approved", Since: t0}, "reward.approved,reward.approved"},
			{"family and program", store.AuditFilter{Action: "reward.", ProgramID: a}, "reward.rejected,reward.approved"},
			{"unknown family", store.AuditFilter{Action: "nothing."}, ""},
			{"actor by id", store.AuditFilter{ActorID: "usr_ann"}, "reward,program.updated,reward.rejected,reward.approved"},
			{"actor by label", store.AuditFilter{ActorID: "ann@corp.example"}, "reward,program.updated,reward.rejected,reward.approved"},
			{"actor label is exact", store.AuditFilter{ActorID: "ANN@corp.example"}, ""},
			{"actor type api key", store.AuditFilter{ActorType: "api_key"}, "rewardx.odd,reward.approved"},
			{"actor type cli", store.AuditFilter{ActorType: "cli"}, "user.created"},
			{"actor type and id", store.AuditFilter{ActorType: "api_key", ActorID: "usr_ann"}, ""},
			{"target", store.AuditFilter{TargetType: "user", TargetID: "usr_ann"}, "user.created"},
			{"target id alone", store.AuditFilter{TargetID: "rwd_3"}, "reward.approved"},
			{"since inclusive", store.AuditFilter{Since: t0.Add(6 * time.Hour)}, "reward,program.updated"},
			{"until exclusive", store.AuditFilter{Since: t0, Until: t0.Add(2 * time.Hour)}, "reward.rejected,reward.approved"},
			{"one hour, half-open", store.AuditFilter{Since: t0.Add(3 * time.Hour), Until: t0.Add(4 * time.Hour)}, "rewardx.odd"},
			{"a millisecond before the hour", store.AuditFilter{Since: t0.Add(time.Hour - time.Millisecond), Until: t0.Add(time.Hour)}, ""},
			{"everything combined", store.AuditFilter{ProgramID: a, Action: "reward.", ActorType: "user", ActorID: "ann@corp.example",
				TargetType: "reward", Since: t0.Add(time.Hour), Until: t0.Add(8 * time.Hour)}, "reward.rejected"},
		}
		for _, c := range cases {
			got, next, err := e.St.AuditLog(ctx, c.f, store.Page{Limit: 100})
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
				continue
			}
			if auditActions(got) != c.want || next != "" {
				t.Errorf("%s: %q next %q, want %q", c.name, auditActions(got), next, c.want)
			}
		}
		// An entry reads back whole: actor, target, details, time.
		got, _, err := e.St.AuditLog(ctx, store.AuditFilter{TargetID: "rwd_3"}, store.Page{})
		if err != nil || len(got) != 1 {
			t.Fatalf("rwd_3: %v %v", got, err)
		}
		en := got[0]
		if en.ActorType != "api_key" || en.UserID != "key_1" || en.UserEmail != "ci key" || en.TargetType != "reward" ||
			en.ProgramID != b || en.Details["i"] != float64(2) || !en.CreatedAt.Equal(t0.Add(2*time.Hour)) || en.IP != "" {
			t.Errorf("entry %+v", en)
		}
		// A console user without a kind is a user; nil details are {}.
		if err := e.St.Audit(ctx, store.Actor{UserID: "usr_x"}, "x.y", "", "", "", nil); err != nil {
			t.Fatal(err)
		}
		got, _, err = e.St.AuditLog(ctx, store.AuditFilter{Action: "x.y"}, store.Page{})
		if err != nil || len(got) != 1 || got[0].ActorType != "user" || got[0].Details == nil || len(got[0].Details) != 0 {
			t.Errorf("defaults: %+v %v", got, err)
		}
	})
}

func TestAuditLogPages(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		var want []string
		for i := range 17 {
			if err := e.St.Audit(ctx, alice, "page.test", "thing", fmt.Sprint(i), "prog_p", nil); err != nil {
				t.Fatal(err)
			}
			want = append([]string{fmt.Sprint(i)}, want...)
		}
		for _, limit := range []int{1, 4, 16, 17, 18} {
			got := walk(t, limit, 18, func(pg store.Page) ([]store.AuditEntry, string, error) {
				return e.St.AuditLog(ctx, store.AuditFilter{Action: "page.test"}, pg)
			}, func(a store.AuditEntry) string { return a.TargetID })
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("limit %d: %v", limit, got)
			}
		}
		// Entries written while paging appear on the first page only.
		first, next, err := e.St.AuditLog(ctx, store.AuditFilter{Action: "page.test"}, store.Page{Limit: 5})
		if err != nil || len(first) != 5 {
			t.Fatal(err)
		}
		if err := e.St.Audit(ctx, alice, "page.test", "thing", "late", "prog_p", nil); err != nil {
			t.Fatal(err)
		}
		rest, _, err := e.St.AuditLog(ctx, store.AuditFilter{Action: "page.test"}, store.Page{Limit: 100, Cursor: next})
		if err != nil || len(rest) != 12 || rest[0].TargetID != "11" {
			t.Errorf("after the cursor: %d entries, first %+v, %v", len(rest), rest, err)
		}
	})
}

// An audit entry written in a transaction that rolls back does not exist:
// the log never claims a change that did not happen.
func TestAuditInTxRollsBack(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		boom := errors.New("boom")
		err := e.St.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.Audit(ctx, alice, "tx.rolled_back", "thing", "1", "", nil); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("InTx returned %v, want the function's error", err)
		}
		err = e.St.InTx(ctx, func(tx *store.Tx) error {
			return tx.Audit(ctx, alice, "tx.committed", "thing", "2", "", map[string]any{"ok": true})
		})
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := e.St.AuditLog(ctx, store.AuditFilter{Action: "tx."}, store.Page{})
		if err != nil || auditActions(got) != "tx.committed" {
			t.Errorf("audit after rollback and commit: %q %v", auditActions(got), err)
		}
		// Details that cannot be encoded are an error, not a silent entry.
		err = e.St.InTx(ctx, func(tx *store.Tx) error {
			return tx.Audit(ctx, alice, "tx.bad", "thing", "3", "", map[string]any{"f": func() {}})
		})
		if err == nil {
			t.Error("unencodable details: no error")
		}
	})
}

func TestContextActor(t *testing.T) {
	cases := []struct {
		in   parrain.Actor
		want store.Actor
	}{
		{parrain.Actor{Kind: parrain.ActorSystem}, store.Actor{Kind: parrain.ActorSystem, Email: "system"}},
		{parrain.Actor{Kind: parrain.ActorAPIKey, ID: "key_1", Label: "ci", IP: "192.0.2.1"},
			store.Actor{Kind: parrain.ActorAPIKey, UserID: "key_1", Email: "ci", IP: "192.0.2.1"}},
		{parrain.Actor{Kind: parrain.ActorPartner, ID: "prt_1"}, store.Actor{Kind: parrain.ActorPartner, UserID: "prt_1"}},
	}
	for _, c := range cases {
		if got := store.ContextActor(parrain.WithActor(ctx, c.in)); got != c.want {
			t.Errorf("%+v: %+v, want %+v", c.in, got, c.want)
		}
	}
	if got := store.SystemActor("cli"); got.Kind != parrain.ActorCLI || got.Email != "cli" {
		t.Errorf("cli actor %+v", got)
	}
	if got := store.SystemActor("nightly"); got.Kind != parrain.ActorSystem || got.Email != "nightly" {
		t.Errorf("system actor %+v", got)
	}
}
