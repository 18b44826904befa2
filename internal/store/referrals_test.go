package store_test

import (
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// referral inserts a referral of friend (created in the program) by adv,
// signed up at at, through the repository.
func (e *env) referral(prog string, adv parrain.Participant, friend string, at time.Time, mod func(*parrain.Referral)) parrain.Referral {
	e.T.Helper()
	f := e.Advocate(prog, friend, "")
	r := parrain.Referral{ID: store.NewID("ref"), ProgramID: prog, AdvocateID: adv.ID, FriendID: f.ID, Code: adv.Code,
		Status: parrain.ReferralSignedUp, SignedUpAt: at, CreatedAt: at, ReviewStatus: "none"}
	if mod != nil {
		mod(&r)
	}
	err := e.St.InTx(ctx, func(tx *store.Tx) error {
		ok, err := tx.InsertReferral(ctx, &r, "code", "{}")
		if err == nil && !ok {
			err = fmt.Errorf("referral of %s not inserted", friend)
		}
		return err
	})
	if err != nil {
		e.T.Fatalf("insert referral: %v", err)
	}
	r.AdvocateExternalID, r.FriendExternalID = adv.ExternalID, friend
	return r
}

func TestReferralsPageOrderAndTies(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(nil)
		adv := e.Advocate(prog.ID, "adv", "")
		type key struct {
			at int64
			id string
		}
		var keys []key
		// 14 referrals on 4 signup times, inserted out of time order, so
		// that id order and time order disagree.
		for i := range 14 {
			at := t0.Add(-time.Duration((i*7)%4) * time.Hour)
			r := e.referral(prog.ID, adv, fmt.Sprintf("f%02d", i), at, nil)
			keys = append(keys, key{at.UnixMilli(), r.ID})
		}
		sort.Slice(keys, func(i, j int) bool {
			if keys[i].at != keys[j].at {
				return keys[i].at > keys[j].at
			}
			return keys[i].id > keys[j].id
		})
		var want []string
		for _, k := range keys {
			want = append(want, k.id)
		}
		for _, limit := range []int{1, 2, 3, 4, 5, 13, 14, 50} {
			got := walk(t, limit, 15, func(pg store.Page) ([]store.ReferralRow, string, error) {
				return e.St.ReferralsPage(ctx, store.ReferralQuery{ProgramID: prog.ID}, pg)
			}, func(r store.ReferralRow) string { return r.ID })
			if !slices.Equal(got, want) {
				t.Errorf("limit %d:\n got %v\nwant %v", limit, got, want)
			}
		}
	})
}

func TestReferralsPageFilters(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog, other := e.Program(nil), e.Program(nil)
		ann, bob := e.Advocate(prog.ID, "ann", ""), e.Advocate(prog.ID, "bob", "")
		oth := e.Advocate(other.ID, "oth", "")
		day := func(d int) time.Time { return t0.Add(-time.Duration(10-d) * 24 * time.Hour) }
		conv := func(r *parrain.Referral) { r.Status = parrain.ReferralConverted }
		rej := func(r *parrain.Referral) { r.Status, r.Reason = parrain.ReferralRejected, parrain.ReasonSelfReferral }
		held := func(r *parrain.Referral) { r.ReviewStatus = "held" }
		flagged := func(r *parrain.Referral) { r.ReviewStatus = "flagged" }
		cleared := func(r *parrain.Referral) { r.ReviewStatus = "cleared" }
		e.referral(prog.ID, ann, "a1", day(1), nil)
		e.referral(prog.ID, ann, "a2", day(2), conv)
		e.referral(prog.ID, ann, "a3", day(3), rej)
		e.referral(prog.ID, ann, "a4", day(4), held)
		e.referral(prog.ID, bob, "b1", day(2), flagged)
		e.referral(prog.ID, bob, "b2", day(3), conv)
		e.referral(prog.ID, bob, "b3", day(4).Add(-time.Millisecond), cleared)
		// The other program's referrals fall in every filter and must never show.
		e.referral(other.ID, oth, "o1", day(2), conv)
		e.referral(other.ID, oth, "o2", day(3), rej)
		e.referral(other.ID, oth, "o3", day(4), held)
		cases := []struct {
			name string
			q    store.ReferralQuery
			want string
		}{
			{"all, ties newest id first", store.ReferralQuery{}, "a4,b3,b2,a3,b1,a2,a1"},
			{"converted", store.ReferralQuery{Status: "converted"}, "b2,a2"},
			{"rejected", store.ReferralQuery{Status: "rejected"}, "a3"},
			{"signed up", store.ReferralQuery{Status: "signed_up"}, "a4,b3,b1,a1"},
			{"from inclusive", store.ReferralQuery{From: day(3)}, "a4,b3,b2,a3"},
			{"to exclusive", store.ReferralQuery{To: day(3)}, "b1,a2,a1"},
			{"one day, half-open", store.ReferralQuery{From: day(3), To: day(4)}, "b3,b2,a3"},
			{"empty range", store.ReferralQuery{From: day(3), To: day(3)}, ""},
			{"a millisecond later", store.ReferralQuery{From: day(4), To: day(5)}, "a4"},
			{"a millisecond earlier", store.ReferralQuery{From: day(4).Add(-time.Millisecond), To: day(4)}, "b3"},
			{"flagged: held, flagged or rejected", store.ReferralQuery{Flagged: true}, "a4,a3,b1"},
			{"advocate", store.ReferralQuery{AdvocateID: bob.ID}, "b3,b2,b1"},
			{"advocate and status", store.ReferralQuery{AdvocateID: ann.ID, Status: "converted"}, "a2"},
			{"advocate, flagged and dates", store.ReferralQuery{AdvocateID: ann.ID, Flagged: true, From: day(4)}, "a4"},
			{"status and dates", store.ReferralQuery{Status: "converted", From: day(3), To: day(9)}, "b2"},
			{"flagged and status", store.ReferralQuery{Flagged: true, Status: "converted"}, ""},
			{"advocate of another program", store.ReferralQuery{AdvocateID: oth.ID}, ""},
		}
		for _, c := range cases {
			c.q.ProgramID = prog.ID
			rows, next, err := e.St.ReferralsPage(ctx, c.q, store.Page{Limit: 100})
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
				continue
			}
			var got []string
			for _, r := range rows {
				if r.ProgramID != prog.ID {
					t.Errorf("%s: referral %s of program %s", c.name, r.ID, r.ProgramID)
				}
				got = append(got, r.FriendExternalID)
			}
			if strings.Join(got, ",") != c.want || next != "" {
				t.Errorf("%s: %q next %q, want %q", c.name, strings.Join(got, ","), next, c.want)
			}
		}
		// A 1-item page through a filter walks only the filtered rows.
		got := walk(t, 1, 4, func(pg store.Page) ([]store.ReferralRow, string, error) {
			return e.St.ReferralsPage(ctx, store.ReferralQuery{ProgramID: prog.ID, Flagged: true}, pg)
		}, func(r store.ReferralRow) string { return r.FriendExternalID })
		if strings.Join(got, ",") != "a4,a3,b1" {
			t.Errorf("flagged pages %v", got)
		}
	})
}

func TestReferralsPageRefusesBadInput(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(nil)
		adv := e.Advocate(prog.ID, "adv", "")
		e.referral(prog.ID, adv, "f", t0, nil)
		cases := []struct {
			name  string
			q     store.ReferralQuery
			pg    store.Page
			field string
		}{
			{"unknown status", store.ReferralQuery{Status: "won"}, store.Page{}, "status"},
			{"status in capitals", store.ReferralQuery{Status: "CONVERTED"}, store.Page{}, "status"},
			{"cursor without a dot", store.ReferralQuery{}, store.Page{Cursor: "junk"}, "cursor"},
			{"cursor without an id", store.ReferralQuery{}, store.Page{Cursor: "1700000000000."}, "cursor"},
			{"cursor with a bad time", store.ReferralQuery{}, store.Page{Cursor: "yesterday.ref_1"}, "cursor"},
			{"cursor with no time", store.ReferralQuery{}, store.Page{Cursor: ".ref_1"}, "cursor"},
			{"an id as cursor", store.ReferralQuery{}, store.Page{Cursor: "ref_0190"}, "cursor"},
		}
		for _, c := range cases {
			c.q.ProgramID = prog.ID
			_, _, err := e.St.ReferralsPage(ctx, c.q, c.pg)
			if pe := parrain.AsError(err); pe == nil || pe.Code != parrain.CodeInvalid || pe.Field != c.field {
				t.Errorf("%s: %v, want invalid %s", c.name, err, c.field)
			}
		}
		// A well-formed cursor past the end is an empty page, not an error.
		rows, next, err := e.St.ReferralsPage(ctx, store.ReferralQuery{ProgramID: prog.ID}, store.Page{Cursor: "0.ref_0"})
		if err != nil || len(rows) != 0 || next != "" {
			t.Errorf("cursor past the end: %v %q %v", rows, next, err)
		}
	})
}

func TestReferralsByProgramFilters(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog, other := e.Program(nil), e.Program(nil)
		ann, bob := e.Advocate(prog.ID, "ann", ""), e.Advocate(prog.ID, "bob", "")
		oth := e.Advocate(other.ID, "oth", "")
		conv := func(r *parrain.Referral) { r.Status = parrain.ReferralConverted }
		for i := range 4 {
			e.referral(prog.ID, ann, fmt.Sprintf("a%d", i), t0, nil)
			e.referral(prog.ID, bob, fmt.Sprintf("b%d", i), t0, conv)
			e.referral(other.ID, oth, fmt.Sprintf("o%d", i), t0, conv)
		}
		cases := []struct {
			f    store.ReferralFilter
			want string
		}{
			{store.ReferralFilter{}, "b3,a3,b2,a2,b1,a1,b0,a0"},
			{store.ReferralFilter{Status: "converted"}, "b3,b2,b1,b0"},
			{store.ReferralFilter{AdvocateID: ann.ID}, "a3,a2,a1,a0"},
			{store.ReferralFilter{AdvocateID: ann.ID, Status: "converted"}, ""},
			{store.ReferralFilter{AdvocateID: oth.ID}, ""},
			{store.ReferralFilter{Status: "nonsense"}, ""},
		}
		for _, c := range cases {
			for _, limit := range []int{1, 3, 50} {
				got := walk(t, limit, 10, func(pg store.Page) ([]parrain.Referral, string, error) {
					return e.St.Referrals(ctx, prog.ID, c.f, pg)
				}, func(r parrain.Referral) string { return r.FriendExternalID })
				if strings.Join(got, ",") != c.want {
					t.Errorf("%+v limit %d: %v, want %s", c.f, limit, got, c.want)
				}
			}
		}
	})
}

func TestReferralOfFriendAndByID(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog, other := e.Program(nil), e.Program(nil)
		adv := e.Advocate(prog.ID, "adv", "")
		clicked := t0.Add(-2 * time.Hour)
		r := e.referral(prog.ID, adv, "f", t0.Add(-time.Hour), func(r *parrain.Referral) { r.ClickedAt = &clicked; r.RiskScore = 42 })
		lonely := e.Advocate(prog.ID, "lonely", "")
		got, err := e.St.ReferralOfFriend(ctx, prog.ID, r.FriendID)
		if err != nil || got.ID != r.ID || got.AdvocateExternalID != "adv" || got.RiskScore != 42 || got.Via != "code" {
			t.Fatalf("of friend: %+v %v", got, err)
		}
		if got.ClickedAt == nil || !got.ClickedAt.Equal(clicked) || got.ConvertedAt != nil || !got.SignedUpAt.Equal(t0.Add(-time.Hour)) {
			t.Errorf("times: clicked %v converted %v signed %v", got.ClickedAt, got.ConvertedAt, got.SignedUpAt)
		}
		for _, c := range []struct{ prog, friend string }{{other.ID, r.FriendID}, {prog.ID, lonely.ID}, {prog.ID, "part_missing"}} {
			if _, err := e.St.ReferralOfFriend(ctx, c.prog, c.friend); parrain.ErrorCode(err) != parrain.CodeNotFound {
				t.Errorf("of friend %s in %s: %v", c.friend, c.prog, err)
			}
		}
		if byID, err := e.St.ReferralByID(ctx, r.ID); err != nil || byID.FriendExternalID != "f" || byID.ReviewDeadline != nil {
			t.Errorf("by id: %+v %v", byID, err)
		}
		if _, err := e.St.ReferralByID(ctx, "ref_missing"); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("missing by id: %v", err)
		}
		if _, err := e.St.Referred(ctx, "ref_missing"); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("missing referred: %v", err)
		}
		err = e.St.InTx(ctx, func(tx *store.Tx) error {
			if _, found, err := tx.ReferralByFriend(ctx, other.ID, r.FriendID); err != nil || found {
				return fmt.Errorf("by friend in other program: %v %v", found, err)
			}
			if got, found, err := tx.ReferralByFriend(ctx, prog.ID, r.FriendID); err != nil || !found || got.ID != r.ID {
				return fmt.Errorf("by friend: %+v %v %v", got, found, err)
			}
			if _, err := tx.ReferralByID(ctx, "ref_missing"); parrain.ErrorCode(err) != parrain.CodeNotFound {
				return fmt.Errorf("tx missing by id: %v", err)
			}
			if _, err := tx.ReferralForUpdate(ctx, "ref_missing"); parrain.ErrorCode(err) != parrain.CodeNotFound {
				return fmt.Errorf("tx missing for update: %v", err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

func TestReferralOncePerFriend(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(nil)
		a, b := e.Advocate(prog.ID, "a", ""), e.Advocate(prog.ID, "b", "")
		r := e.referral(prog.ID, a, "f", t0, nil)
		var inserted bool
		err := e.St.InTx(ctx, func(tx *store.Tx) error {
			dup := parrain.Referral{ID: store.NewID("ref"), ProgramID: prog.ID, AdvocateID: b.ID, FriendID: r.FriendID, Code: b.Code,
				Status: parrain.ReferralSignedUp, SignedUpAt: t0, CreatedAt: t0}
			var err error
			inserted, err = tx.InsertReferral(ctx, &dup, "cookie", "{}")
			return err
		})
		if err != nil || inserted {
			t.Fatalf("second referral of a friend: inserted=%v %v", inserted, err)
		}
		got, err := e.St.ReferralOfFriend(ctx, prog.ID, r.FriendID)
		if err != nil || got.AdvocateID != a.ID {
			t.Errorf("the first referral stays: %+v %v", got, err)
		}
	})
}

func TestReferralConversionAndSuccess(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(nil)
		adv := e.Advocate(prog.ID, "adv", "")
		refs := make([]parrain.Referral, 5)
		for i := range refs {
			refs[i] = e.referral(prog.ID, adv, fmt.Sprintf("f%d", i), t0.Add(-30*24*time.Hour), nil)
		}
		jan := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		feb := time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC)
		succeeded := []time.Time{jan, jan.Add(15 * 24 * time.Hour), feb.Add(-time.Millisecond), feb, feb.Add(time.Hour)}
		err := e.St.InTx(ctx, func(tx *store.Tx) error {
			for i, r := range refs {
				ok, err := tx.MarkSucceeded(ctx, r.ID, succeeded[i])
				if err != nil || !ok {
					return fmt.Errorf("mark %d: %v %v", i, ok, err)
				}
				// Only the first success counts.
				if ok, err := tx.MarkSucceeded(ctx, r.ID, succeeded[i].Add(time.Hour)); err != nil || ok {
					return fmt.Errorf("mark %d again: %v %v", i, ok, err)
				}
			}
			ok, err := tx.ConvertReferral(ctx, refs[0].ID, jan)
			if err != nil || !ok {
				return fmt.Errorf("convert: %v %v", ok, err)
			}
			if ok, err := tx.ConvertReferral(ctx, refs[0].ID, feb); err != nil || ok {
				return fmt.Errorf("convert again: %v %v", ok, err)
			}
			if ok, err := tx.MarkSucceeded(ctx, "ref_missing", jan); err != nil || ok {
				return fmt.Errorf("mark missing: %v %v", ok, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		got, err := e.St.ReferralByID(ctx, refs[0].ID)
		if err != nil || got.Status != parrain.ReferralConverted || got.ConvertedAt == nil || !got.ConvertedAt.Equal(jan) {
			t.Fatalf("converted: %+v %v", got, err)
		}
		successes := func(exclude string, from, to time.Time) int {
			var n int
			if err := e.St.InTx(ctx, func(tx *store.Tx) error {
				var err error
				n, err = tx.Successes(ctx, adv.ID, exclude, from, to)
				return err
			}); err != nil {
				t.Fatal(err)
			}
			return n
		}
		cases := []struct {
			name     string
			exclude  string
			from, to time.Time
			want     int
		}{
			{"January, half-open", "", jan, feb, 3},
			{"January without one", refs[1].ID, jan, feb, 2},
			{"February", "", feb, feb.AddDate(0, 1, 0), 2},
			{"the first instant only", "", jan, jan.Add(time.Millisecond), 1},
			{"empty period", "", feb, feb, 0},
			{"everything", "", time.Time{}, feb.AddDate(1, 0, 0), 5},
		}
		for _, c := range cases {
			if got := successes(c.exclude, c.from, c.to); got != c.want {
				t.Errorf("%s: %d, want %d", c.name, got, c.want)
			}
		}
		// A voiding cancellation removes the success from the counts; a
		// plain cancellation keeps it.
		err = e.St.InTx(ctx, func(tx *store.Tx) error {
			if err := tx.RecordCancel(ctx, refs[0].ID, feb, true); err != nil {
				return err
			}
			if err := tx.RecordCancel(ctx, refs[1].ID, feb, false); err != nil {
				return err
			}
			at, err := tx.SucceededAt(ctx, refs[0].ID)
			if err != nil || at != nil {
				return fmt.Errorf("voided success: %v %v", at, err)
			}
			at, err = tx.SucceededAt(ctx, refs[1].ID)
			if err != nil || at == nil || !at.Equal(succeeded[1]) {
				return fmt.Errorf("kept success: %v %v", at, err)
			}
			if at, err := tx.SucceededAt(ctx, "ref_missing"); err != nil || at != nil {
				return fmt.Errorf("missing: %v %v", at, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := successes("", jan, feb); got != 2 {
			t.Errorf("January after voiding: %d, want 2", got)
		}
		// Reads as of an earlier time see the success before the void.
		ids, err := e.St.SuccessesBefore(ctx, adv.ID, "", jan, feb, feb)
		if err != nil || len(ids) != 3 {
			t.Errorf("successes before the void: %v %v", ids, err)
		}
		ids, err = e.St.SuccessesBefore(ctx, adv.ID, "", jan, feb, feb.Add(time.Millisecond))
		if err != nil || len(ids) != 2 || slices.Contains(ids, refs[0].ID) {
			t.Errorf("successes after the void: %v %v", ids, err)
		}
		ids, err = e.St.SuccessesBefore(ctx, adv.ID, "", jan, feb, jan.Add(15*24*time.Hour))
		if err != nil || len(ids) != 1 || ids[0] != refs[0].ID {
			t.Errorf("successes before the second: %v %v", ids, err)
		}
		at, err := e.St.SucceededBefore(ctx, refs[0].ID, jan.Add(time.Millisecond))
		if err != nil || at == nil || !at.Equal(jan) {
			t.Errorf("succeeded before: %v %v", at, err)
		}
		for _, before := range []time.Time{jan, feb.Add(time.Hour)} {
			if at, err := e.St.SucceededBefore(ctx, refs[0].ID, before); err != nil || at != nil {
				t.Errorf("succeeded before %v: %v %v", before, at, err)
			}
		}
		for _, c := range []struct {
			before time.Time
			want   bool
		}{{jan, false}, {jan.Add(time.Millisecond), true}, {feb.Add(time.Hour), true}} {
			if got, err := e.St.SucceededSomeTimeBefore(ctx, refs[0].ID, c.before); err != nil || got != c.want {
				t.Errorf("some time before %v: %v %v", c.before, got, err)
			}
		}
	})
}

func TestReferralStages(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(nil)
		adv := e.Advocate(prog.ID, "adv", "")
		r := e.referral(prog.ID, adv, "f", t0, nil)
		value := int64(12345)
		at := t0.Add(-time.Hour)
		err := e.St.InTx(ctx, func(tx *store.Tx) error {
			ok, err := tx.ReachStage(ctx, prog.ID, r.ID, "demo", "evt_1", &value, "EUR", at)
			if err != nil || !ok {
				return fmt.Errorf("reach: %v %v", ok, err)
			}
			if ok, err := tx.ReachStage(ctx, prog.ID, r.ID, "demo", "evt_2", nil, "", t0); err != nil || ok {
				return fmt.Errorf("reach again: %v %v", ok, err)
			}
			if ok, err := tx.ReachStage(ctx, prog.ID, r.ID, "trial", "evt_3", nil, "", t0); err != nil || !ok {
				return fmt.Errorf("reach another stage: %v %v", ok, err)
			}
			got, found, err := tx.StageReachedAt(ctx, r.ID, "demo")
			if err != nil || !found || !got.Equal(at) {
				return fmt.Errorf("reached at: %v %v %v", got, found, err)
			}
			if _, found, err := tx.StageReachedAt(ctx, r.ID, "won"); err != nil || found {
				return fmt.Errorf("unreached stage: %v %v", found, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			before time.Time
			found  bool
		}{{at, false}, {at.Add(time.Millisecond), true}} {
			got, found, err := e.St.StageReachedBefore(ctx, r.ID, "demo", c.before)
			if err != nil || found != c.found || (found && !got.Equal(at)) {
				t.Errorf("before %v: %v %v %v", c.before, got, found, err)
			}
		}
	})
}

func TestAdvocateHistoryAndInactivity(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(nil)
		adv := e.Advocate(prog.ID, "adv", "")
		other := e.Advocate(prog.ID, "other", "")
		for i := range 3 {
			e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: fmt.Sprintf("f%d", i), ReferralCode: adv.Code, OccurredAt: t0.Add(-time.Duration(3-i) * time.Hour)})
		}
		e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "g", ReferralCode: other.Code})
		e.Event(prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: "f0", OrderID: "o0", Amount: 5000, Currency: "EUR"})
		e.Event(prog.ID, parrain.Event{Type: parrain.EventRefund, ExternalID: "f0", OrderID: "o0", Amount: 5000, Currency: "EUR"})
		e.Event(prog.ID, parrain.Event{Type: parrain.EventActivity, ExternalID: "f1"})
		err := e.St.InTx(ctx, func(tx *store.Tx) error {
			refs, refunded, err := tx.AdvocateHistory(ctx, prog.ID, adv.ID)
			if err != nil || refs != 3 || refunded != 1 {
				return fmt.Errorf("history: %d %d %v", refs, refunded, err)
			}
			if refs, refunded, err := tx.AdvocateHistory(ctx, prog.ID, other.ID); err != nil || refs != 1 || refunded != 0 {
				return fmt.Errorf("other's history: %d %d %v", refs, refunded, err)
			}
			// f1 was active; f0 and f2 never were. The bound is exclusive.
			for _, c := range []struct {
				before time.Time
				want   int
			}{{t0.Add(-3 * time.Hour), 0}, {t0.Add(-3*time.Hour + time.Millisecond), 1}, {t0, 2}} {
				n, err := tx.InactiveReferrals(ctx, adv.ID, c.before)
				if err != nil || n != c.want {
					return fmt.Errorf("inactive before %v: %d %v, want %d", c.before, n, err, c.want)
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
