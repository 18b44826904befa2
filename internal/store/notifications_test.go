package store_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/store"
)

// notice records an in-app notification for p.
func (e *env) notice(p parrain.Participant, key string) {
	e.T.Helper()
	if _, err := e.St.RecordNotice(ctx, store.Notice{ProgramID: p.ProgramID, ParticipantID: p.ID, Kind: parrain.NoticeRewardEarned,
		DedupeKey: key, Data: map[string]any{"key": key}, InApp: true}); err != nil {
		e.T.Fatalf("notice %s: %v", key, err)
	}
}

func notificationKeys(ns []store.Notification) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i], _ = n.Data["key"].(string)
	}
	return out
}

// markRead marks notifications read in its own transaction.
func markRead(e *env, participantID string, ids []string) (int64, error) {
	var n int64
	err := e.St.InTx(ctx, func(tx *store.Tx) error {
		var err error
		n, err = tx.MarkNotificationsRead(ctx, participantID, ids)
		return err
	})
	return n, err
}

func TestNotificationsFeedPagesAndReads(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(nil)
		ann, bob := e.Advocate(prog.ID, "ann", ""), e.Advocate(prog.ID, "bob", "")
		var want []string
		for i := range 12 {
			k := fmt.Sprintf("n%02d", i)
			e.notice(ann, k)
			e.notice(bob, "bob-"+k)
			want = append([]string{k}, want...)
		}
		// The same dedupe key again adds nothing.
		e.notice(ann, "n03")
		for _, limit := range []int{1, 5, 12, 13} {
			got := walk(t, limit, 13, func(pg store.Page) ([]store.Notification, string, error) {
				return e.St.Notifications(ctx, ann.ID, false, pg)
			}, func(n store.Notification) string { k, _ := n.Data["key"].(string); return k })
			if !slices.Equal(got, want) {
				t.Errorf("limit %d: %v", limit, got)
			}
		}
		if n, err := e.St.UnreadNotifications(ctx, ann.ID); err != nil || n != 12 {
			t.Fatalf("unread %d %v", n, err)
		}
		page, _, err := e.St.Notifications(ctx, ann.ID, false, store.Page{Limit: 3})
		if err != nil || len(page) != 3 || page[0].Kind != parrain.NoticeRewardEarned || page[0].ReadAt != nil || !page[0].CreatedAt.Equal(t0) {
			t.Fatalf("first page %+v %v", page, err)
		}
		e.Clock.Advance(time.Minute)
		bobs, _, err := e.St.Notifications(ctx, bob.ID, false, store.Page{Limit: 2})
		if err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name    string
			ids     []string
			changed int64
			unread  int64
		}{
			{"another participant's ids are ignored", []string{bobs[0].ID, bobs[1].ID}, 0, 12},
			{"unknown ids", []string{"ntf_missing"}, 0, 12},
			{"two of them", []string{page[0].ID, page[1].ID}, 2, 10},
			{"again: already read", []string{page[0].ID, page[1].ID, page[2].ID}, 1, 9},
			{"all the rest", nil, 9, 0},
			{"all, nothing left", nil, 0, 0},
		}
		for _, c := range cases {
			n, err := markRead(e, ann.ID, c.ids)
			if err != nil || n != c.changed {
				t.Errorf("%s: changed %d %v, want %d", c.name, n, err, c.changed)
			}
			if u, err := e.St.UnreadNotifications(ctx, ann.ID); err != nil || u != c.unread {
				t.Errorf("%s: unread %d %v, want %d", c.name, u, err, c.unread)
			}
		}
		if u, err := e.St.UnreadNotifications(ctx, bob.ID); err != nil || u != 12 {
			t.Errorf("bob's unread %d %v", u, err)
		}
		read, _, err := e.St.Notifications(ctx, ann.ID, false, store.Page{Limit: 1})
		if err != nil || read[0].ReadAt == nil || !read[0].ReadAt.Equal(t0.Add(time.Minute)) {
			t.Errorf("read at: %+v %v", read, err)
		}
		// The use case caps a request at referral.MaxMarkRead ids.
		if _, err := e.Ref.MarkNotificationsRead(ctx, ann.ID, make([]string, referral.MaxMarkRead+1)); parrain.ErrorCode(err) != parrain.CodeInvalid {
			t.Errorf("%d ids: %v", referral.MaxMarkRead+1, err)
		}
	})
}

func TestNotificationsUnreadOnly(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(nil)
		p := e.Advocate(prog.ID, "p", "")
		for i := range 6 {
			e.notice(p, fmt.Sprint(i))
		}
		all, _, err := e.St.Notifications(ctx, p.ID, false, store.Page{})
		if err != nil || len(all) != 6 {
			t.Fatal(err)
		}
		// Read 5, 3 and 0 (ids newest first: 5 is all[0]).
		if _, err := markRead(e, p.ID, []string{all[0].ID, all[2].ID, all[5].ID}); err != nil {
			t.Fatal(err)
		}
		got := walk(t, 1, 4, func(pg store.Page) ([]store.Notification, string, error) {
			return e.St.Notifications(ctx, p.ID, true, pg)
		}, func(n store.Notification) string { k, _ := n.Data["key"].(string); return k })
		if !slices.Equal(got, []string{"4", "2", "1"}) {
			t.Errorf("unread pages %v", got)
		}
		// A cursor from the full feed works on the unread one.
		page, _, err := e.St.Notifications(ctx, p.ID, true, store.Page{Cursor: all[1].ID})
		if err != nil || !slices.Equal(notificationKeys(page), []string{"2", "1"}) {
			t.Errorf("unread after 4: %v %v", notificationKeys(page), err)
		}
	})
}

func TestRecordNoticeOncePerKey(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(nil)
		p := e.Advocate(prog.ID, "p", "p@example.com")
		mail := func(subject string) *store.EmailMessage {
			return &store.EmailMessage{To: "P@Example.com", Locale: "en", Subject: subject, Text: "hello"}
		}
		n := store.Notice{ProgramID: prog.ID, ParticipantID: p.ID, Kind: parrain.NoticeWelcome, DedupeKey: "welcome:p",
			Data: map[string]any{"x": 1}, InApp: true, Email: mail("first")}
		m1, err := e.St.RecordNotice(ctx, n)
		if err != nil || m1 == nil || m1.Status != store.EmailQueued || m1.ParticipantID != p.ID || m1.Subject != "first" {
			t.Fatalf("first: %+v %v", m1, err)
		}
		// A retried job records nothing new and answers the stored message.
		n.Email = mail("second")
		m2, err := e.St.RecordNotice(ctx, n)
		if err != nil || m2 == nil || m2.ID != m1.ID || m2.Subject != "first" {
			t.Fatalf("again: %+v %v", m2, err)
		}
		if got := e.jobs(parrain.JobSendEmail); len(got) != 1 {
			t.Errorf("send jobs %v", got)
		}
		feed, _, err := e.St.Notifications(ctx, p.ID, false, store.Page{})
		if err != nil || len(feed) != 1 {
			t.Errorf("feed %v %v", feed, err)
		}
		// A message recorded as already decided (skipped) gets no send job;
		// one without in-app part adds nothing to the feed.
		skipped := mail("skipped")
		skipped.Status = store.EmailSkipped
		m3, err := e.St.RecordNotice(ctx, store.Notice{ProgramID: prog.ID, ParticipantID: p.ID, Kind: parrain.NoticeRewardPaid, DedupeKey: "paid:1", Email: skipped})
		if err != nil || m3.Status != store.EmailSkipped {
			t.Fatalf("skipped: %+v %v", m3, err)
		}
		if got := e.jobs(parrain.JobSendEmail); len(got) != 1 {
			t.Errorf("send jobs after a skipped message %v", got)
		}
		if feed, _, err := e.St.Notifications(ctx, p.ID, false, store.Page{}); err != nil || len(feed) != 1 {
			t.Errorf("feed after an email-only notice %v %v", feed, err)
		}
		// The message's address is matched canonically in the log.
		msgs, _, err := e.St.EmailMessages(ctx, prog.ID, store.MessageFilter{To: "p@EXAMPLE.com"}, store.Page{})
		if err != nil || len(msgs) != 2 {
			t.Errorf("messages to p: %d %v", len(msgs), err)
		}
	})
}
