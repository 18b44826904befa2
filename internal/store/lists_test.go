package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/notify"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

var alice = store.Actor{UserID: "usr_alice", Email: "alice@corp.example", IP: "192.0.2.1"}

// asUser is ctx carrying a console user as the actor the use cases audit.
func asUser(a store.Actor) context.Context {
	return parrain.WithActor(ctx, parrain.Actor{Kind: parrain.ActorUser, ID: a.UserID, Label: a.Email, IP: a.IP})
}

// pendingRewards creates a program with a double-sided first-purchase rule
// and one referred purchase: two pending rewards (advocate 20.00, friend
// 10.00).
func (e *env) pendingRewards() (parrain.Program, store.EventResult) {
	e.T.Helper()
	prog := e.Program(nil)
	adv := e.Advocate(prog.ID, "adv", "adv@x.example")
	e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "friend", ReferralCode: adv.Code})
	r := e.Event(prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: "friend", OrderID: "o1", Amount: 5000, Currency: "EUR"})
	if len(r.Rewards) != 2 {
		e.T.Fatalf("rewards %+v", r.Rewards)
	}
	return prog, r
}

func TestManualReview(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog, r := e.pendingRewards()
		advReward, friendReward := r.Rewards[0], r.Rewards[1]
		if advReward.Role != parrain.RoleAdvocate {
			advReward, friendReward = friendReward, advReward
		}
		// Approve before the hold ends: pending → approved through the ledger.
		got, err := e.Ref.ApproveRewardNow(asUser(alice), prog.ID, advReward.ID)
		if err != nil || got.Status != parrain.RewardApproved || got.ApprovedAt == nil {
			t.Fatalf("approve: %+v %v", got, err)
		}
		if b := e.Balance(advReward.ParticipantID); b[parrain.BucketPending] != 0 || b[parrain.BucketApproved] != 2000 {
			t.Errorf("advocate balance %v", b)
		}
		entries, _ := e.St.LedgerEntries(ctx, advReward.ID)
		if len(entries) != 3 || entries[1].Type != parrain.EntryApproval || !strings.Contains(entries[2].Memo, alice.Email) {
			t.Errorf("ledger %+v", entries)
		}
		if _, err := e.Ref.ApproveRewardNow(asUser(alice), prog.ID, advReward.ID); parrain.ErrorCode(err) != parrain.CodeConflict {
			t.Errorf("approving twice: %v", err)
		}
		// The maturation job later finds nothing to do.
		e.Clock.Advance(31 * 24 * time.Hour)
		if done, _, err := e.St.ApproveReward(ctx, advReward.ID); err != nil || done {
			t.Errorf("job after manual approval: %v %v", done, err)
		}
		e.Clock.Set(t0)
		// Reject with a reason: a reversal, status reversed, reason kept.
		if _, err := e.Ref.RejectReward(asUser(alice), prog.ID, friendReward.ID, "  "); parrain.AsError(err) == nil || parrain.AsError(err).Field != "reason" {
			t.Fatalf("reject without reason: %v", err)
		}
		other := e.Program(nil)
		if _, err := e.Ref.RejectReward(asUser(alice), other.ID, friendReward.ID, "fraud"); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Fatalf("reject through another program: %v", err)
		}
		got, err = e.Ref.RejectReward(asUser(alice), prog.ID, friendReward.ID, "duplicate account")
		if err != nil || got.Status != parrain.RewardReversed || got.Reversed != 1000 {
			t.Fatalf("reject: %+v %v", got, err)
		}
		if b := e.Balance(friendReward.ParticipantID); b[parrain.BucketPending] != 0 || b[parrain.BucketApproved] != 0 {
			t.Errorf("friend balance %v", b)
		}
		entries, _ = e.St.LedgerEntries(ctx, friendReward.ID)
		if len(entries) != 2 || entries[1].Type != parrain.EntryReversal || entries[1].Amount != -1000 || !strings.Contains(entries[1].Memo, "duplicate account") {
			t.Errorf("ledger %+v", entries)
		}
		if _, err := e.Ref.ApproveRewardNow(asUser(alice), prog.ID, friendReward.ID); parrain.ErrorCode(err) != parrain.CodeConflict {
			t.Errorf("approving a rejected reward: %v", err)
		}
		// Both decisions are in the audit log with who and when.
		log, _, err := e.St.AuditLog(ctx, store.AuditFilter{TargetType: "reward", TargetID: friendReward.ID}, store.Page{})
		if err != nil || len(log) != 1 || log[0].Action != store.AuditRewardRejected || log[0].Details["reason"] != "duplicate account" ||
			log[0].UserEmail != alice.Email || !log[0].CreatedAt.Equal(t0) {
			t.Errorf("audit %+v %v", log, err)
		}
		log, _, _ = e.St.AuditLog(ctx, store.AuditFilter{ProgramID: prog.ID, Action: "reward."}, store.Page{})
		if len(log) != 2 || log[1].Action != store.AuditRewardApproved || log[1].Details["before_hold_end"] != true {
			t.Errorf("program audit %+v", log)
		}
	})
}

func TestBulkReview(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog, r := e.pendingRewards()
		ids := []string{r.Rewards[0].ID, r.Rewards[1].ID}
		if _, err := e.Ref.RejectReward(asUser(alice), prog.ID, ids[1], "test"); err != nil {
			t.Fatal(err)
		}
		res, err := e.Ref.ApproveRewards(asUser(alice), prog.ID, []string{ids[0], ids[1], ids[0], "rwd_nope"})
		if err != nil || len(res.Done) != 1 || res.Done[0] != ids[0] || len(res.Skipped) != 2 {
			t.Fatalf("bulk approve: %+v %v", res, err)
		}
		if !strings.Contains(res.Skipped[ids[1]], "reversed") {
			t.Errorf("skip reason %q", res.Skipped[ids[1]])
		}
		if _, err := e.Ref.ApproveRewards(asUser(alice), prog.ID, nil); parrain.ErrorCode(err) != parrain.CodeInvalid {
			t.Errorf("empty bulk: %v", err)
		}
		if _, err := e.Ref.RejectRewards(asUser(alice), prog.ID, ids, ""); parrain.ErrorCode(err) != parrain.CodeInvalid {
			t.Errorf("bulk reject without reason: %v", err)
		}
		// The referral list's bulk action finds the referral's pending rewards.
		_, r2 := prog, e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "friend2", ReferralCode: r.Credited.Code})
		e.Event(prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: "friend2", OrderID: "o2", Amount: 1000, Currency: "EUR"})
		pend, err := e.St.PendingRewardIDs(ctx, prog.ID, []string{r2.Referral.ID, r.Referral.ID})
		if err != nil || len(pend) != 2 {
			t.Fatalf("pending of referrals: %v %v", pend, err)
		}
		res, err = e.Ref.RejectRewards(asUser(alice), prog.ID, pend, "test account")
		if err != nil || len(res.Done) != 2 {
			t.Fatalf("bulk reject: %+v %v", res, err)
		}
	})
}

func TestConsoleLists(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(nil)
		names := []string{"Alice Martin", "alice Zed", "Bob Alison", "Élodie Durand", "Al"}
		var advs []parrain.Participant
		for i, n := range names {
			p, _, err := e.Ref.UpsertParticipant(ctx, prog.ID, parrain.ParticipantInput{ExternalID: fmt.Sprintf("u%d", i), Name: n,
				Email: fmt.Sprintf("%s@Mail.example", strings.ToLower(strings.Fields(n)[0]))}, store.Idem{})
			if err != nil {
				t.Fatal(err)
			}
			advs = append(advs, p)
		}
		other := e.Program(nil)
		e.Advocate(other.ID, "x", "alice@elsewhere.example")
		search := func(q string) string {
			ps, err := e.St.SearchParticipants(ctx, prog.ID, q, 10)
			if err != nil {
				t.Fatalf("search %q: %v", q, err)
			}
			var out []string
			for _, p := range ps {
				out = append(out, p.ExternalID)
			}
			return strings.Join(out, ",")
		}
		cases := map[string]string{
			"ali":                         "u1,u0", // name prefix, any case, newest first
			"ALICE M":                     "u0",    // longer prefix
			"al":                          "",      // names and emails need three characters
			"bob@":                        "u2",    // email prefix
			strings.ToLower(advs[3].Code): "u3",    // code, any case
			"u2":                          "u2",    // external id
			"zed":                         "",      // not a prefix
			"":                            "",
		}
		for q, want := range cases {
			if got := search(q); got != want {
				t.Errorf("search %q = %q, want %q", q, got, want)
			}
		}
		page, next, err := e.St.ParticipantsPage(ctx, prog.ID, store.Page{Limit: 3})
		if err != nil || len(page) != 3 || next == "" || page[0].ExternalID != "u4" {
			t.Fatalf("page 1: %v %q %v", page, next, err)
		}
		page, next, _ = e.St.ParticipantsPage(ctx, prog.ID, store.Page{Limit: 3, Cursor: next})
		if len(page) != 2 || next != "" {
			t.Fatalf("page 2: %v %q", page, next)
		}
		// Referrals: several on the same signup time page correctly.
		at := t0.Add(-48 * time.Hour)
		for i := range 5 {
			e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: fmt.Sprintf("f%d", i), ReferralCode: advs[0].Code,
				OccurredAt: at.Add(time.Duration(i/2) * time.Hour)})
		}
		// A self-referral is flagged.
		e.Event(prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: "self", Email: "ALICE@mail.example", ReferralCode: advs[0].Code, OccurredAt: at})
		e.Event(prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: "f4", OrderID: "o", Amount: 100, Currency: "EUR", OccurredAt: at.Add(3 * time.Hour)})
		var seen []string
		cursor := ""
		for {
			rows, next, err := e.St.ReferralsPage(ctx, store.ReferralQuery{ProgramID: prog.ID}, store.Page{Limit: 2, Cursor: cursor})
			if err != nil {
				t.Fatal(err)
			}
			for _, r := range rows {
				seen = append(seen, r.FriendExternalID)
			}
			if next == "" {
				break
			}
			cursor = next
		}
		// f0, f1 and self signed up at the same time: newest id first.
		if got := strings.Join(seen, ","); got != "f4,f3,f2,self,f1,f0" {
			t.Errorf("referral pages %s", got)
		}
		count := func(q store.ReferralQuery) int {
			q.ProgramID = prog.ID
			rows, _, err := e.St.ReferralsPage(ctx, q, store.Page{Limit: 100})
			if err != nil {
				t.Fatal(err)
			}
			return len(rows)
		}
		if n := count(store.ReferralQuery{Flagged: true}); n != 1 {
			t.Errorf("flagged %d", n)
		}
		if n := count(store.ReferralQuery{Status: "converted"}); n != 1 {
			t.Errorf("converted %d", n)
		}
		if n := count(store.ReferralQuery{From: at.Add(time.Hour), To: at.Add(2 * time.Hour)}); n != 2 {
			t.Errorf("date range %d", n)
		}
		if n := count(store.ReferralQuery{AdvocateID: advs[1].ID}); n != 0 {
			t.Errorf("other advocate %d", n)
		}
		if _, _, err := e.St.ReferralsPage(ctx, store.ReferralQuery{ProgramID: prog.ID}, store.Page{Cursor: "junk"}); parrain.ErrorCode(err) != parrain.CodeInvalid {
			t.Errorf("bad cursor: %v", err)
		}
		rows, _, _ := e.St.ReferralsPage(ctx, store.ReferralQuery{ProgramID: prog.ID, Status: "converted"}, store.Page{})
		if rows[0].PendingRewards != 2 || rows[0].AdvocateName != "Alice Martin" || rows[0].Via != "code" {
			t.Errorf("row %+v", rows[0])
		}
		// Rewards by status.
		rws, _, err := e.St.RewardsPage(ctx, store.RewardQuery{ProgramID: prog.ID, Status: "pending"}, store.Page{Limit: 1})
		if err != nil || len(rws) != 1 {
			t.Fatalf("pending rewards %v %v", rws, err)
		}
		if _, _, err := e.St.RewardsPage(ctx, store.RewardQuery{ProgramID: prog.ID, Status: "won"}, store.Page{}); parrain.ErrorCode(err) != parrain.CodeInvalid {
			t.Errorf("bad status: %v", err)
		}
		// The participant's chain and timeline.
		f4, _ := e.St.Participant(ctx, prog.ID, "f4")
		by, err := e.St.ReferralOfFriend(ctx, prog.ID, f4.ID)
		if err != nil || by.AdvocateExternalID != "u0" {
			t.Fatalf("referred by %+v %v", by, err)
		}
		e.St.InsertClicks(ctx, []store.Click{{ProgramID: prog.ID, ParticipantID: advs[0].ID, Code: advs[0].Code, Valid: true, At: at.Add(-time.Hour)}})
		tl, err := e.St.ParticipantTimeline(ctx, advs[0], 50)
		if err != nil {
			t.Fatal(err)
		}
		kinds := map[string]int{}
		for _, it := range tl {
			kinds[it.Kind]++
		}
		// 6 friend signups + 1 friend purchase, 1 click, 1 accrual of the advocate's reward.
		if kinds["friend_event"] != 7 || kinds["click"] != 1 || kinds["ledger"] != 1 || tl[len(tl)-1].Kind != "click" {
			t.Errorf("timeline kinds %v", kinds)
		}
		tl, _ = e.St.ParticipantTimeline(ctx, f4, 50)
		if len(tl) < 3 || tl[0].Kind != "ledger" {
			t.Errorf("friend timeline %+v", tl)
		}
	})
}

func TestBrandingAndSender(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(nil)
		b, err := e.St.ProgramBranding(ctx, prog.ID)
		if err != nil || b.PrimaryColor != store.DefaultPrimaryColor || !b.UpdatedAt.IsZero() {
			t.Fatalf("default branding %+v %v", b, err)
		}
		if _, err := e.St.ProgramBranding(ctx, "prog_nope"); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("unknown program: %v", err)
		}
		for _, c := range []struct {
			b     store.Branding
			field string
		}{
			{store.Branding{LogoURL: "http://x.example/l.png", PrimaryColor: "#000", AccentColor: "#fff"}, "logo_url"},
			{store.Branding{LogoURL: "javascript:alert(1)", PrimaryColor: "#000", AccentColor: "#fff"}, "logo_url"},
			{store.Branding{PrimaryColor: "red", AccentColor: "#fff"}, "primary_color"},
			{store.Branding{PrimaryColor: "#000", AccentColor: "#ggg"}, "accent_color"},
		} {
			c.b.ProgramID = prog.ID
			if _, err := e.Prog.SetBranding(asUser(alice), c.b); parrain.AsError(err) == nil || parrain.AsError(err).Field != c.field {
				t.Errorf("branding %+v: %v", c.b, err)
			}
		}
		b, err = e.Prog.SetBranding(asUser(alice), store.Branding{ProgramID: prog.ID, LogoURL: "https://cdn.acme.example/logo.svg", PrimaryColor: "#ABC", AccentColor: "#112233"})
		if err != nil || b.PrimaryColor != "#aabbcc" {
			t.Fatalf("set branding %+v %v", b, err)
		}
		b, _ = e.St.ProgramBranding(ctx, prog.ID)
		if b.LogoURL != "https://cdn.acme.example/logo.svg" || b.AccentColor != "#112233" || b.UpdatedBy != alice.Email {
			t.Errorf("stored branding %+v", b)
		}
		if _, ok, err := e.St.GetEmailSender(ctx); ok || err != nil {
			t.Fatalf("sender before set: %v %v", ok, err)
		}
		if _, err := notify.SetEmailSender(asUser(alice), e.St, store.EmailSender{Name: "Acme\r\nBcc: x@evil.example", Address: "r@acme.example"}); parrain.AsError(err) == nil || parrain.AsError(err).Field != "name" {
			t.Errorf("header injection: %v", err)
		}
		if _, err := notify.SetEmailSender(asUser(alice), e.St, store.EmailSender{Name: "Acme", Address: "nope"}); parrain.AsError(err) == nil || parrain.AsError(err).Field != "address" {
			t.Errorf("bad address: %v", err)
		}
		if _, err := notify.SetEmailSender(asUser(alice), e.St, store.EmailSender{Name: "Acme Rewards", Address: "rewards@Acme.example", ReplyTo: "help@acme.example"}); err != nil {
			t.Fatal(err)
		}
		s, ok, err := e.St.GetEmailSender(ctx)
		if err != nil || !ok || s.Address != "rewards@acme.example" || s.ReplyTo != "help@acme.example" {
			t.Errorf("sender %+v %v %v", s, ok, err)
		}
		log, _, _ := e.St.AuditLog(ctx, store.AuditFilter{ActorType: "user"}, store.Page{})
		if len(log) != 2 || log[0].Action != store.AuditEmailSender || log[1].Action != store.AuditBrandingUpdated {
			t.Errorf("audit %+v", log)
		}
	})
}
