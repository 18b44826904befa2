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

// walk reads every page of a keyset listing of page size limit and returns
// the ids in the order read, failing the test on an error, on a duplicate
// id, or when it takes more than maxPages pages (a cursor that never ends).
func walk[T any](t *testing.T, limit, maxPages int, list func(store.Page) ([]T, string, error), id func(T) string) []string {
	t.Helper()
	var ids []string
	seen := map[string]bool{}
	cursor := ""
	for page := 0; ; page++ {
		if page >= maxPages {
			t.Fatalf("more than %d pages of %d: %v", maxPages, limit, ids)
		}
		items, next, err := list(store.Page{Limit: limit, Cursor: cursor})
		if err != nil {
			t.Fatalf("page %d (cursor %q): %v", page, cursor, err)
		}
		if len(items) > limit {
			t.Fatalf("page %d has %d items, limit %d", page, len(items), limit)
		}
		if next != "" && len(items) != limit {
			t.Fatalf("page %d has %d items and a next cursor", page, len(items))
		}
		for _, it := range items {
			k := id(it)
			if seen[k] {
				t.Fatalf("%s listed twice (page %d)", k, page)
			}
			seen[k] = true
			ids = append(ids, k)
		}
		if next == "" {
			return ids
		}
		cursor = next
	}
}

func participantIDs(ps []parrain.Participant) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.ExternalID
	}
	return out
}

func TestParticipantsPageKeyset(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog, other := e.Program(nil), e.Program(nil)
		var want []string
		for i := range 23 {
			p := e.Advocate(prog.ID, fmt.Sprintf("u%02d", i), "")
			want = append([]string{p.ID}, want...) // newest first
			if i%4 == 0 {
				e.Advocate(other.ID, fmt.Sprintf("u%02d", i), "") // same external ids elsewhere
			}
		}
		list := func(pg store.Page) ([]parrain.Participant, string, error) {
			return e.St.ParticipantsPage(ctx, prog.ID, pg)
		}
		byID := func(p parrain.Participant) string { return p.ID }
		cases := []struct{ limit, pages int }{{1, 24}, {5, 5}, {22, 2}, {23, 1}, {24, 1}, {200, 1}}
		for _, c := range cases {
			got := walk(t, c.limit, c.pages, list, byID)
			if !slices.Equal(got, want) {
				t.Errorf("limit %d: %d ids, want %d in order\n got %v\nwant %v", c.limit, len(got), len(want), got, want)
			}
		}
		// Limits out of range fall back to 50.
		for _, l := range []int{0, -3, 201} {
			ps, next, err := e.St.ParticipantsPage(ctx, prog.ID, store.Page{Limit: l})
			if err != nil || len(ps) != 23 || next != "" {
				t.Errorf("limit %d: %d items, next %q, %v", l, len(ps), next, err)
			}
		}
		// A cursor read before more participants arrive still continues
		// where it was: the newcomers go to the front, not into later pages.
		first, next, err := e.St.ParticipantsPage(ctx, prog.ID, store.Page{Limit: 10})
		if err != nil || next == "" {
			t.Fatalf("first page: %v %q", err, next)
		}
		for i := range 3 {
			e.Advocate(prog.ID, fmt.Sprintf("late%d", i), "")
		}
		rest := walk(t, 10, 3, func(pg store.Page) ([]parrain.Participant, string, error) {
			if pg.Cursor == "" {
				pg.Cursor = next
			}
			return e.St.ParticipantsPage(ctx, prog.ID, pg)
		}, byID)
		var firstIDs []string
		for _, p := range first {
			firstIDs = append(firstIDs, p.ID)
		}
		if got := append(firstIDs, rest...); !slices.Equal(got, want) {
			t.Errorf("pages read across inserts:\n got %v\nwant %v", got, want)
		}
		// A program with no participants, and an unknown program: empty.
		for _, id := range []string{e.Program(nil).ID, "prog_missing"} {
			ps, next, err := e.St.ParticipantsPage(ctx, id, store.Page{})
			if err != nil || len(ps) != 0 || next != "" || ps == nil {
				t.Errorf("program %s: %v %q %v", id, ps, next, err)
			}
		}
	})
}

func TestParticipantUpsertNormalises(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(nil)
		cases := []struct {
			name   string
			in     parrain.ParticipantInput
			want   func(parrain.Participant) string
			expect string
			field  string // an invalid input's field
		}{
			{"email domain lowered, local part kept", parrain.ParticipantInput{ExternalID: "n1", Email: "  Jane.Doe@GMAIL.com "},
				func(p parrain.Participant) string { return p.Email }, "Jane.Doe@gmail.com", ""},
			{"name trimmed", parrain.ParticipantInput{ExternalID: "n2", Name: "  Zoé  "},
				func(p parrain.Participant) string { return p.Name }, "Zoé", ""},
			{"vanity code upper-cased", parrain.ParticipantInput{ExternalID: "n3", Code: "summer-zoe"},
				func(p parrain.Participant) string { return p.Code }, "SUMMER-ZOE", ""},
			{"default status active", parrain.ParticipantInput{ExternalID: "n4"},
				func(p parrain.Participant) string { return string(p.Status) }, "active", ""},
			{"disabled on creation", parrain.ParticipantInput{ExternalID: "n5", Status: parrain.ParticipantDisabled},
				func(p parrain.Participant) string { return string(p.Status) }, "disabled", ""},
			{"bad email", parrain.ParticipantInput{ExternalID: "b1", Email: "not an email"}, nil, "", "email"},
			{"bad status", parrain.ParticipantInput{ExternalID: "b2", Status: "banned"}, nil, "", "status"},
			{"no external id", parrain.ParticipantInput{Email: "x@example.com"}, nil, "", "external_id"},
		}
		for _, c := range cases {
			p, created, err := e.Ref.UpsertParticipant(ctx, prog.ID, c.in, store.Idem{})
			if c.field != "" {
				if pe := parrain.AsError(err); pe == nil || pe.Code != parrain.CodeInvalid || pe.Field != c.field {
					t.Errorf("%s: %v, want invalid %s", c.name, err, c.field)
				}
				continue
			}
			if err != nil || !created {
				t.Errorf("%s: created=%v %v", c.name, created, err)
				continue
			}
			if got := c.want(p); got != c.expect {
				t.Errorf("%s: %q, want %q", c.name, got, c.expect)
			}
			// What was returned is what is stored.
			back, err := e.St.Participant(ctx, prog.ID, c.in.ExternalID)
			if err != nil || c.want(back) != c.expect || !back.CreatedAt.Equal(p.CreatedAt) {
				t.Errorf("%s: read back %+v %v", c.name, back, err)
			}
		}
		// Invalid input wrote nothing.
		var n int
		if err := e.St.DB().QueryRow(`SELECT COUNT(*) FROM participants WHERE program_id = $1 AND external_id LIKE 'b%'`, prog.ID).Scan(&n); err != nil || n != 0 {
			t.Errorf("invalid participants stored: %d %v", n, err)
		}
		// An update with nothing new changes nothing, not even updated_at.
		e.Clock.Advance(time.Hour)
		before, err := e.St.Participant(ctx, prog.ID, "n2")
		if err != nil {
			t.Fatal(err)
		}
		same, created, err := e.Ref.UpsertParticipant(ctx, prog.ID, parrain.ParticipantInput{ExternalID: "n2", Name: "Zoé"}, store.Idem{})
		if err != nil || created || !same.UpdatedAt.Equal(before.UpdatedAt) {
			t.Errorf("no-op update: created=%v updated %v (was %v) %v", created, same.UpdatedAt, before.UpdatedAt, err)
		}
		changed, _, err := e.Ref.UpsertParticipant(ctx, prog.ID, parrain.ParticipantInput{ExternalID: "n2", Locale: "fr"}, store.Idem{})
		if err != nil || !changed.UpdatedAt.Equal(t0.Add(time.Hour)) || changed.Name != "Zoé" || changed.Locale != "fr" {
			t.Errorf("update: %+v %v", changed, err)
		}
	})
}

func TestParticipantCodeUniqueness(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		a, b := e.Program(nil), e.Program(nil)
		if _, _, err := e.Ref.UpsertParticipant(ctx, a.ID, parrain.ParticipantInput{ExternalID: "x", Code: "TAKEN-1"}, store.Idem{}); err != nil {
			t.Fatal(err)
		}
		e.Advocate(b.ID, "y", "")
		cases := []struct {
			name string
			prog string
			in   parrain.ParticipantInput
		}{
			{"new participant, same program", a.ID, parrain.ParticipantInput{ExternalID: "n1", Code: "taken-1"}},
			{"new participant, other program", b.ID, parrain.ParticipantInput{ExternalID: "n2", Code: "Taken-1"}},
			{"existing participant takes it", b.ID, parrain.ParticipantInput{ExternalID: "y", Code: "TAKEN-1"}},
		}
		for _, c := range cases {
			_, _, err := e.Ref.UpsertParticipant(ctx, c.prog, c.in, store.Idem{})
			pe := parrain.AsError(err)
			if pe == nil || pe.Code != parrain.CodeConflict || pe.Field != "code" {
				t.Errorf("%s: %v, want a conflict on code", c.name, err)
			}
		}
		// The refused new participants do not exist; y kept its own code.
		for _, ext := range []string{"n1", "n2"} {
			for _, prog := range []string{a.ID, b.ID} {
				if _, err := e.St.Participant(ctx, prog, ext); parrain.ErrorCode(err) != parrain.CodeNotFound {
					t.Errorf("%s in %s: %v", ext, prog, err)
				}
			}
		}
		y, err := e.St.Participant(ctx, b.ID, "y")
		if err != nil || y.Code == "TAKEN-1" {
			t.Errorf("y: %+v %v", y, err)
		}
		// Keeping one's own code is not a conflict.
		x, created, err := e.Ref.UpsertParticipant(ctx, a.ID, parrain.ParticipantInput{ExternalID: "x", Code: "TAKEN-1", Name: "X"}, store.Idem{})
		if err != nil || created || x.Name != "X" {
			t.Errorf("own code: %+v %v", x, err)
		}
		// The same external id in two programs is two participants.
		xb, created, err := e.Ref.UpsertParticipant(ctx, b.ID, parrain.ParticipantInput{ExternalID: "x"}, store.Idem{})
		if err != nil || !created || xb.ID == x.ID || xb.ProgramID != b.ID {
			t.Errorf("x in b: %+v created=%v %v", xb, created, err)
		}
	})
}

func TestParticipantReadsAreProgramScoped(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		a, b := e.Program(nil), e.Program(nil)
		pa := e.Advocate(a.ID, "same", "same@example.com")
		pb := e.Advocate(b.ID, "same", "same@example.com")
		got, err := e.St.Participant(ctx, a.ID, "same")
		if err != nil || got.ID != pa.ID {
			t.Fatalf("a: %+v %v", got, err)
		}
		got, err = e.St.Participant(ctx, b.ID, "same")
		if err != nil || got.ID != pb.ID {
			t.Fatalf("b: %+v %v", got, err)
		}
		if _, err := e.St.Participant(ctx, "prog_missing", "same"); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("missing program: %v", err)
		}
		for _, q := range []string{"same", "same@ex", pa.Code} {
			ps, err := e.St.SearchParticipants(ctx, b.ID, q, 10)
			if err != nil {
				t.Fatalf("search %q: %v", q, err)
			}
			for _, p := range ps {
				if p.ProgramID != b.ID {
					t.Errorf("search %q in b returned %s of %s", q, p.ID, p.ProgramID)
				}
			}
		}
		// pa's code searched in b finds nothing; searched in a finds pa.
		if ps, err := e.St.SearchParticipants(ctx, b.ID, pa.Code, 10); err != nil || len(ps) != 0 {
			t.Errorf("a's code in b: %v %v", participantIDs(ps), err)
		}
		err = e.St.InTx(ctx, func(tx *store.Tx) error {
			p, found, err := tx.ParticipantByExternalID(ctx, b.ID, "same")
			if err != nil || !found || p.ID != pb.ID {
				return fmt.Errorf("by external id in b: %+v %v %v", p, found, err)
			}
			if _, found, err := tx.ParticipantByExternalID(ctx, b.ID, "other"); err != nil || found {
				return fmt.Errorf("unknown external id: %v %v", found, err)
			}
			for _, c := range []struct {
				prog, code string
				want       bool
			}{{a.ID, pa.Code, true}, {b.ID, pa.Code, false}, {b.ID, pb.Code, true}, {a.ID, "NOPE2345", false}} {
				active, err := tx.CodeActive(ctx, c.prog, c.code)
				if err != nil || active != c.want {
					return fmt.Errorf("CodeActive(%s, %s) = %v %v", c.prog, c.code, active, err)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

func TestCodeActiveFollowsStatus(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(nil)
		p := e.Advocate(prog.ID, "p", "")
		for _, c := range []struct {
			st   parrain.ParticipantStatus
			want bool
		}{{parrain.ParticipantDisabled, false}, {parrain.ParticipantActive, true}, {"suspended", false}} {
			var active bool
			err := e.St.InTx(ctx, func(tx *store.Tx) error {
				if err := tx.SetParticipantStatus(ctx, p.ID, c.st); err != nil {
					return err
				}
				var err error
				active, err = tx.CodeActive(ctx, prog.ID, p.Code)
				return err
			})
			if err != nil || active != c.want {
				t.Errorf("status %s: active %v %v", c.st, active, err)
			}
			tg, err := e.St.ResolveCode(ctx, p.Code)
			if err != nil || tg.Active != c.want {
				t.Errorf("status %s: resolve %+v %v", c.st, tg, err)
			}
		}
	})
}

func TestSearchParticipants(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(nil)
		people := []struct{ ext, name, email string }{
			{"p0", "Marie Curie", "marie@Lab.example"},
			{"p1", "MARIE-anne Dupont", "m.dupont@mail.example"},
			{"p2", "Marius", "ETTE@mail.example"},
			{"p3", "Tom", "tom_marie@mail.example"},
			{"p4", "", ""},
			{"p5", "Zorro", "marie.z@lab.example"},
		}
		for _, p := range people {
			if _, _, err := e.Ref.UpsertParticipant(ctx, prog.ID, parrain.ParticipantInput{ExternalID: p.ext, Name: p.name, Email: p.email}, store.Idem{}); err != nil {
				t.Fatal(err)
			}
		}
		p4, err := e.St.Participant(ctx, prog.ID, "p4")
		if err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			q     string
			limit int
			want  string
		}{
			{"mar", 10, "p2,p1,p0,p5"},           // names first (newest first), then emails not already listed
			{"MARIE", 10, "p1,p0,p5"},            // any case
			{"marie-a", 10, "p1"},                // prefix longer than the indexed three characters
			{"marie ", 10, "p1,p0,p5"},           // trimmed
			{"marie c", 10, "p0"},                // a space inside the prefix
			{"ette@", 10, "p2"},                  // email prefix, stored local part in capitals
			{"curie", 10, ""},                    // not a prefix of the name
			{"lab.example", 10, ""},              // not a prefix of the email
			{"mar", 2, "p2,p1"},                  // the limit holds across both queries
			{"p3", 10, "p3"},                     // external id, exact
			{"P3", 10, ""},                       // external ids are case-sensitive
			{strings.ToLower(p4.Code), 10, "p4"}, // code, any case
			{"ma", 10, ""},                       // under three characters: codes and ids only
			{"   ", 10, ""},
			{"%ar", 10, ""}, // no LIKE wildcard leaks through
			{"_ar", 10, ""},
		}
		for _, c := range cases {
			ps, err := e.St.SearchParticipants(ctx, prog.ID, c.q, c.limit)
			if err != nil {
				t.Errorf("search %q: %v", c.q, err)
				continue
			}
			if got := strings.Join(participantIDs(ps), ","); got != c.want {
				t.Errorf("search %q (limit %d) = %q, want %q", c.q, c.limit, got, c.want)
			}
		}
		if _, err := e.St.SearchParticipants(ctx, prog.ID, strings.Repeat("a", 201), 10); parrain.ErrorCode(err) != parrain.CodeInvalid {
			t.Errorf("long query: %v", err)
		}
	})
}

func TestParticipantsByIDs(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		a, b := e.Program(nil), e.Program(nil)
		pa, pb := e.Advocate(a.ID, "a", ""), e.Advocate(b.ID, "b", "")
		cases := []struct {
			ids  []string
			want []string
		}{
			{nil, nil},
			{[]string{pa.ID}, []string{pa.ID}},
			{[]string{pa.ID, pb.ID, "part_missing", pa.ID}, []string{pa.ID, pb.ID}},
			{[]string{"part_missing"}, nil},
		}
		for _, c := range cases {
			got, err := e.St.ParticipantsByIDs(ctx, c.ids)
			if err != nil || got == nil || len(got) != len(c.want) {
				t.Errorf("%v: %v %v", c.ids, got, err)
				continue
			}
			for _, id := range c.want {
				if got[id].ID != id {
					t.Errorf("%v: %s missing", c.ids, id)
				}
			}
		}
		many := make([]string, 500)
		for i := range many {
			many[i] = fmt.Sprintf("part_%d", i)
		}
		many[499] = pb.ID
		if got, err := e.St.ParticipantsByIDs(ctx, many); err != nil || len(got) != 1 || got[pb.ID].ExternalID != "b" {
			t.Errorf("500 ids: %v %v", got, err)
		}
		if _, err := e.St.ParticipantsByIDs(ctx, append(many, "one more")); parrain.ErrorCode(err) != parrain.CodeInvalid {
			t.Errorf("501 ids: %v", err)
		}
		if _, err := e.St.ParticipantByID(ctx, "part_missing"); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("missing by id: %v", err)
		}
		if p, err := e.St.ParticipantByID(ctx, pb.ID); err != nil || p.ProgramID != b.ID {
			t.Errorf("by id: %+v %v", p, err)
		}
	})
}

func TestParticipantAttributes(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(nil)
		attrs := parrain.Attributes{"plan": "pro", "seats": float64(3)}
		p, _, err := e.Ref.UpsertParticipant(ctx, prog.ID, parrain.ParticipantInput{ExternalID: "p", Attributes: &attrs}, store.Idem{})
		if err != nil || p.Attributes["plan"] != "pro" {
			t.Fatalf("create: %+v %v", p, err)
		}
		other := e.Advocate(prog.ID, "o", "")
		e.Clock.Advance(time.Minute)
		steps := []struct {
			key   string
			value any
		}{{"tier", "gold"}, {"plan", "team"}, {"nps", float64(9)}, {"note", nil}}
		for _, s := range steps {
			if err := e.St.InTx(ctx, func(tx *store.Tx) error { return tx.SetParticipantAttribute(ctx, p.ID, s.key, s.value) }); err != nil {
				t.Fatalf("set %s: %v", s.key, err)
			}
		}
		got, err := e.St.ParticipantByID(ctx, p.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := parrain.Attributes{"plan": "team", "seats": float64(3), "tier": "gold", "nps": float64(9), "note": nil}
		if fmt.Sprint(got.Attributes) != fmt.Sprint(want) || !got.UpdatedAt.Equal(t0.Add(time.Minute)) {
			t.Errorf("attributes %v updated %v, want %v", got.Attributes, got.UpdatedAt, want)
		}
		// A participant with no attributes gets its first one.
		if err := e.St.InTx(ctx, func(tx *store.Tx) error { return tx.SetParticipantAttribute(ctx, other.ID, "x", "y") }); err != nil {
			t.Fatal(err)
		}
		if got, err := e.St.ParticipantByID(ctx, other.ID); err != nil || len(got.Attributes) != 1 || got.Attributes["x"] != "y" {
			t.Errorf("first attribute: %v %v", got.Attributes, err)
		}
		// Unknown participant: an error, and nothing written.
		if err := e.St.InTx(ctx, func(tx *store.Tx) error { return tx.SetParticipantAttribute(ctx, "part_missing", "x", "y") }); err == nil {
			t.Error("attribute of a missing participant: no error")
		}
	})
}

func TestParticipantStatsCountsAndSums(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(func(p *parrain.Program) { p.HoldDays = 0 })
		adv := e.Advocate(prog.ID, "adv", "adv@example.com")
		loner := e.Advocate(prog.ID, "loner", "")
		for i := range 3 {
			e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: fmt.Sprintf("f%d", i), ReferralCode: adv.Code})
		}
		e.Event(prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: "f0", OrderID: "o0", Amount: 5000, Currency: "EUR"})
		// A self-referral is rejected and counted apart.
		e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "self", Email: "ADV@example.com", ReferralCode: adv.Code})
		clicks := []store.Click{
			{ProgramID: prog.ID, ParticipantID: adv.ID, Code: adv.Code, Valid: true, At: t0},
			{ProgramID: prog.ID, ParticipantID: adv.ID, Code: adv.Code, Valid: true, At: t0},
			{ProgramID: prog.ID, ParticipantID: adv.ID, Code: adv.Code, Valid: false, At: t0},
			{ProgramID: prog.ID, ParticipantID: loner.ID, Code: loner.Code, Valid: true, At: t0},
		}
		if err := e.St.InsertClicks(ctx, clicks); err != nil {
			t.Fatal(err)
		}
		st, err := e.St.ParticipantStats(ctx, adv.ID)
		if err != nil {
			t.Fatal(err)
		}
		if st.Clicks != 2 || st.Signups != 3 || st.Purchases != 1 || st.Rejected != 1 {
			t.Errorf("counts %+v", st)
		}
		var count int64
		for _, n := range st.RewardCounts {
			count += n
		}
		var owed int64
		for _, byCur := range st.Rewards {
			owed += byCur["EUR"]
		}
		if count != 1 || owed != 2000 {
			t.Errorf("rewards %v counts %v", st.Rewards, st.RewardCounts)
		}
		var bal int64
		for _, byCur := range st.Balances {
			bal += byCur["EUR"]
		}
		if bal != 2000 {
			t.Errorf("balances %v", st.Balances)
		}
		// Someone with nothing has zeros and empty, non-nil maps.
		for _, id := range []string{loner.ID, "part_missing"} {
			st, err := e.St.ParticipantStats(ctx, id)
			if err != nil || st.Signups != 0 || st.Rewards == nil || len(st.Rewards) != 0 || st.Balances == nil || len(st.RewardsReversed) != 0 {
				t.Errorf("%s: %+v %v", id, st, err)
			}
		}
	})
}
