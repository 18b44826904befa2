package widget

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/httpx"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/payout"
	"github.com/parrainhq/parrain/internal/program"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/store"
)

// token mints a widget token for ext in the env's program, valid for ttl.
func (e *env) token(ext string, ttl time.Duration) string {
	return parrain.MintWidgetToken(e.secret, e.prog.ID, ext, e.clock.Now().Add(ttl))
}

// call serves a widget API request as the holder of tok (none when empty).
func (e *env) call(method, path, tok, body string, hdr map[string]string) *httptest.ResponseRecorder {
	h := map[string]string{"Content-Type": "application/json"}
	if tok != "" {
		h["Authorization"] = "Bearer " + tok
	}
	for k, v := range hdr {
		h[k] = v
	}
	return e.serve(request(method, path, "203.0.113.5:1", h, body))
}

// decodeOK fails unless w answered status with a JSON body, decoded into v.
func decodeOK(t *testing.T, w *httptest.ResponseRecorder, status int, v any) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status %d, want %d: %s", w.Code, status, w.Body)
	}
	if err := json.Unmarshal(w.Body.Bytes(), v); err != nil {
		t.Fatalf("decoding %s: %v", w.Body, err)
	}
}

// me reads GET /api/v1/widget/me as ext.
func (e *env) me(t *testing.T, ext, query string, hdr map[string]string) Me {
	t.Helper()
	var me Me
	decodeOK(t, e.call("GET", "/api/v1/widget/me"+query, e.token(ext, time.Hour), "", hdr), http.StatusOK, &me)
	return me
}

// TestWidgetTokenRefused: only a token signed with the program's current
// (or, for an hour after a rotation, previous) secret, unexpired, not
// minted too far ahead and used for its own program opens the widget API.
// Every refusal is the same 401 on the field "token".
func TestWidgetTokenRefused(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, httpx.IPResolver{})
		ctx := context.Background()
		other, _, err := program.New(e.st).Create(ctx, parrain.Program{Name: "Other", LandingURL: "https://other.example/", Currency: "EUR"}, store.Idem{})
		if err != nil {
			t.Fatal(err)
		}
		otherSecret, _, err := e.ref.RotateWidgetSecret(ctx, other.ID, store.Idem{})
		if err != nil {
			t.Fatal(err)
		}
		noSecret, _, err := program.New(e.st).Create(ctx, parrain.Program{Name: "No widget", LandingURL: "https://nowidget.example/", Currency: "EUR"}, store.Idem{})
		if err != nil {
			t.Fatal(err)
		}
		now := e.clock.Now()
		mint := parrain.MintWidgetToken
		cases := []struct{ name, auth, query string }{
			{"not a bearer token", "Basic " + e.token("alice", time.Hour), ""},
			{"garbage", "Bearer not-a-token", ""},
			{"another program's secret", "Bearer " + mint(otherSecret.Secret, e.prog.ID, "alice", now.Add(time.Hour)), ""},
			{"another program's token for this program", "Bearer " + mint(otherSecret.Secret, other.ID, "alice", now.Add(time.Hour)), "?program=" + e.prog.ID},
			{"this program's token used for another", "Bearer " + e.token("alice", time.Hour), "?program=" + other.ID},
			{"a program without a widget secret", "Bearer " + mint(e.secret, noSecret.ID, "alice", now.Add(time.Hour)), ""},
			{"an unknown program", "Bearer " + mint(e.secret, "prg_nope", "alice", now.Add(time.Hour)), ""},
			{"expired a second ago", "Bearer " + e.token("alice", -time.Second), ""},
			{"expiring too far ahead", "Bearer " + e.token("alice", 48*time.Hour), ""},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				w := e.serve(request("GET", "/api/v1/widget/me"+c.query, "203.0.113.5:1", map[string]string{"Authorization": c.auth}, ""))
				wantError(t, w, http.StatusUnauthorized, parrain.CodeUnauthenticated, "token")
			})
		}
		// No refused token created a participant.
		if _, err := e.st.Participant(ctx, other.ID, "alice"); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("participant in the other program: %v", err)
		}

		// Rotation: the previous secret's tokens work for an hour, then not.
		old := e.token("alice", 3*time.Hour)
		if _, _, err := e.ref.RotateWidgetSecret(ctx, e.prog.ID, store.Idem{}); err != nil {
			t.Fatal(err)
		}
		if w := e.call("GET", "/api/v1/widget/me", old, "", nil); w.Code != http.StatusOK {
			t.Fatalf("previous secret within the grace period: %d %s", w.Code, w.Body)
		}
		e.clock.Advance(store.SecretGrace + time.Minute)
		wantError(t, e.call("GET", "/api/v1/widget/me", old, "", nil), http.StatusUnauthorized, parrain.CodeUnauthenticated, "token")
	})
}

// TestMeLanguage: the widget speaks the language chosen explicitly, else
// the advocate's, else the browser's, else the program's default; an
// unsupported language falls through to the next source.
func TestMeLanguage(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, httpx.IPResolver{})
		ctx := context.Background()
		if _, _, err := referral.New(e.st).UpsertParticipant(ctx, e.prog.ID, parrain.ParticipantInput{ExternalID: "jeanne", Name: "Jeanne Roux", Locale: "fr"}, store.Idem{}); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name, ext, query, accept, programDefault string
			want                                     string
		}{
			{"browser English", "newcomer", "", "en-GB,en;q=0.9", "fr", "en"},
			{"browser French (region)", "newcomer", "", "fr-CH, fr;q=0.9, en;q=0.5", "", "fr"},
			{"the advocate's English over a French browser", "alice", "", "fr", "fr", "en"},
			{"explicit French over an English advocate", "alice", "?locale=fr", "en", "", "fr"},
			{"explicit English over a French advocate", "jeanne", "?locale=en", "fr", "", "en"},
			{"the advocate's French over the browser", "jeanne", "", "en", "", "fr"},
			{"unsupported explicit choice falls through", "jeanne", "?locale=de", "en", "", "fr"},
			{"nothing known: the program's default", "newcomer", "", "de-DE", "fr", "fr"},
			{"nothing known, no default: English", "newcomer", "", "ja", "", "en"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				if _, err := e.ref.SetExperience(ctx, e.prog.ID, parrain.Experience{DefaultLocale: c.programDefault}); err != nil {
					t.Fatal(err)
				}
				me := e.me(t, c.ext, c.query, map[string]string{"Accept-Language": c.accept})
				title, headline, disclosure := "Refer a friend", "Give ", "(I may get a reward if you join.)"
				if c.want == "fr" {
					title, headline, disclosure = "Parrainez un ami", "Offrez ", "(Je peux recevoir une récompense si tu t'inscris.)"
				}
				if me.Locale != c.want || me.Strings["widget.title"] != title || !strings.HasPrefix(me.Headline, headline) {
					t.Errorf("locale %q, title %q, headline %q; want %s", me.Locale, me.Strings["widget.title"], me.Headline, c.want)
				}
				if me.Share.Disclosure != disclosure || !strings.HasSuffix(me.Share.Message, disclosure) {
					t.Errorf("share %q / %q, want the %s disclosure", me.Share.Message, me.Share.Disclosure, c.want)
				}
			})
		}
	})
}

// TestMeShowsTheAdvocatesActivity: a click, a referred friend who bought
// and the reward it earned show in the widget, the friend named discreetly;
// the share message carries the link and the disclosure; an advocate the
// customer vouches for is created on first sight.
func TestMeShowsTheAdvocatesActivity(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, httpx.IPResolver{})
		ctx := context.Background()
		ref := referral.New(e.st)
		if w := e.serve(request("GET", "/r/"+e.alice.Code, "203.0.113.5:1", nil, "")); w.Code != http.StatusFound {
			t.Fatalf("click: %d", w.Code)
		}
		if got := e.recordedClicks(); len(got) != 1 {
			t.Fatalf("clicks %+v", got)
		}
		for _, ev := range []parrain.Event{
			{Type: parrain.EventSignup, ExternalID: "bob", Email: "bob.dupont@example.org", Name: "Bob Dupont", ReferralCode: e.alice.Code},
			{Type: parrain.EventPurchase, ExternalID: "bob", OrderID: "o-1", Amount: 5000, Currency: "EUR"},
			{Type: parrain.EventSignup, ExternalID: "carl", Email: "carl@example.org", ReferralCode: e.alice.Code},
		} {
			if _, _, err := ref.IngestEvent(ctx, e.prog.ID, ev, store.Idem{}); err != nil {
				t.Fatalf("%s %s: %v", ev.Type, ev.ExternalID, err)
			}
		}
		me := e.me(t, "alice", "", map[string]string{"Accept-Language": "en"})
		if me.Participant.Code != e.alice.Code || me.Link != "http://parrain.test/r/"+e.alice.Code || !me.Program.Active || !me.Participant.Active {
			t.Errorf("participant %+v, link %q", me.Participant, me.Link)
		}
		if me.Stats != (StatsView{Clicks: 1, Signups: 2, Converted: 1}) {
			t.Errorf("stats %+v", me.Stats)
		}
		friends := map[string]string{}
		for _, r := range me.Referrals {
			friends[r.Friend] = r.Status
		}
		// Bob by his short name, Carl (no name) by his masked address;
		// neither's full address shows.
		if len(me.Referrals) != 2 || friends["Bob D."] != "rewarded" || friends[parrain.MaskEmail("carl@example.org")] != "signed_up" {
			t.Errorf("referrals %+v", me.Referrals)
		}
		body, err := json.Marshal(me)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(body), "bob.dupont@example.org") || strings.Contains(string(body), "carl@example.org") {
			t.Errorf("a friend's address leaks: %s", body)
		}
		want := []Amount{{Amount: 2000, Currency: "EUR", Text: e.svc.cat.Money("en", 2000, "EUR")}}
		if len(me.Rewards.Earned) != 1 || me.Rewards.Earned[0] != want[0] || len(me.Rewards.Pending) != 1 || me.Rewards.Pending[0] != want[0] || len(me.Rewards.Paid) != 0 {
			t.Errorf("rewards %+v", me.Rewards)
		}
		if !strings.Contains(me.Share.Message, me.Link) || me.Share.URLs["x"] != ShareURL("x", me.Link, me.Share.Subject, me.Share.Message) {
			t.Errorf("share %+v", me.Share)
		}
		if _, ok := me.Share.URLs["copy"]; ok || len(me.Share.URLs) != len(store.ShareChannels)-1 {
			t.Errorf("share URLs %v", me.Share.URLs)
		}
		if me.Invites != (InvitesView{PerDay: 20, Left: 20}) || me.TermsURL != "http://parrain.test/terms/"+e.prog.ID {
			t.Errorf("invites %+v, terms %q", me.Invites, me.TermsURL)
		}
		// Bob, the referred friend, sees his own reward as a friend.
		bob := e.me(t, "bob", "", nil)
		if len(bob.Rewards.Friend) != 1 || bob.Rewards.Friend[0].Status == "" || len(bob.Referrals) != 0 {
			t.Errorf("bob's friend rewards %+v, referrals %+v", bob.Rewards.Friend, bob.Referrals)
		}

		// First sight: the token vouches for "dana", who gets a code.
		dana := e.me(t, "dana", "", nil)
		p, err := e.st.Participant(ctx, e.prog.ID, "dana")
		if err != nil || dana.Participant.Code == "" || p.Code != dana.Participant.Code {
			t.Fatalf("dana: %+v, stored %+v %v", dana.Participant, p, err)
		}
		if len(dana.Referrals) != 0 || dana.Stats != (StatsView{}) {
			t.Errorf("a new advocate sees %+v %+v", dana.Referrals, dana.Stats)
		}
	})
}

// countRows counts a table's rows matching a condition on one argument.
func (e *env) countRows(t *testing.T, query string, arg any) int {
	t.Helper()
	var n int
	if err := e.st.DB().QueryRowContext(context.Background(), query, arg).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

func TestShares(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, httpx.IPResolver{})
		tok := e.token("alice", 3*time.Hour)
		cases := []struct {
			name    string
			channel string
			advance time.Duration
			counted bool
		}{
			{"first share on x", "x", 0, true},
			{"a double click folds", "x", 10 * time.Second, false},
			{"another channel counts", "whatsapp", 0, true},
			{"copying the link counts", "copy", 0, true},
			{"x again a few minutes later", "x", 2 * time.Minute, true},
		}
		for _, c := range cases {
			e.clock.Advance(c.advance)
			var got struct {
				Channel string `json:"channel"`
				Counted bool   `json:"counted"`
			}
			decodeOK(t, e.call("POST", "/api/v1/widget/shares", tok, `{"channel":"`+c.channel+`"}`, nil), http.StatusCreated, &got)
			if got.Channel != c.channel || got.Counted != c.counted {
				t.Errorf("%s: %+v, want counted %v", c.name, got, c.counted)
			}
		}
		wantError(t, e.call("POST", "/api/v1/widget/shares", tok, `{"channel":"myspace"}`, nil), http.StatusBadRequest, parrain.CodeInvalid, "channel")
		if n := e.countRows(t, `SELECT COUNT(*) FROM shares WHERE participant_id = $1`, e.alice.ID); n != 4 {
			t.Errorf("%d shares stored, want 4", n)
		}
	})
}

// inviteAnswer is the invite endpoint's answer.
type inviteAnswer struct {
	Results []store.InviteResult `json:"results"`
	Left    int                  `json:"left_today"`
}

func statuses(rs []store.InviteResult) string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Email+"="+r.Status)
	}
	return strings.Join(out, " ")
}

// TestInvites: each address is judged on its own (invalid, skipped without
// saying why, queued, over the daily limit); a retried submission with the
// same Idempotency-Key sends nothing twice; the limit is per 24 hours;
// invitations close with the program.
func TestInvites(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, httpx.IPResolver{})
		ctx := context.Background()
		if _, err := e.ref.SetExperience(ctx, e.prog.ID, parrain.Experience{InvitesPerDay: 3}); err != nil {
			t.Fatal(err)
		}
		e.advocate(t, "zoe", "zoe@example.org") // already a participant: not invited
		if err := e.ref.Unsubscribe(ctx, e.prog.ID, "gone@example.org", "page"); err != nil {
			t.Fatal(err)
		}
		tok := e.token("alice", time.Hour)
		steps := []struct {
			name, body, idem string
			want             string
			left             int
		}{
			{"mixed batch", `{"emails":["friend1@example.org","not an email","alice@example.com","Friend1@Example.org","zoe@example.org","gone@example.org"]}`, "",
				"friend1@example.org=queued not an email=invalid alice@example.com=skipped Friend1@example.org=skipped zoe@example.org=skipped gone@example.org=skipped", 2},
			{"up to the daily limit", `{"emails":["f2@example.org","f3@example.org","f4@example.org"],"note":"You'll love it"}`, "k1",
				"f2@example.org=queued f3@example.org=queued f4@example.org=rate_limited", 0},
		}
		for _, s := range steps {
			var got inviteAnswer
			decodeOK(t, e.call("POST", "/api/v1/widget/invites", tok, s.body, map[string]string{"Idempotency-Key": s.idem}), http.StatusCreated, &got)
			if statuses(got.Results) != s.want || got.Left != s.left {
				t.Errorf("%s: %s, left %d; want %s, left %d", s.name, statuses(got.Results), got.Left, s.want, s.left)
			}
		}
		// The retry of k1 replays the first answer and invites nobody new.
		w := e.call("POST", "/api/v1/widget/invites", tok, steps[1].body, map[string]string{"Idempotency-Key": "k1"})
		var replay inviteAnswer
		decodeOK(t, w, http.StatusCreated, &replay)
		if w.Header().Get("Idempotent-Replayed") != "true" || statuses(replay.Results) != steps[1].want {
			t.Errorf("replay: %q %s", w.Header().Get("Idempotent-Replayed"), statuses(replay.Results))
		}
		if n := e.countRows(t, `SELECT COUNT(*) FROM invites WHERE participant_id = $1`, e.alice.ID); n != 3 {
			t.Errorf("%d invites stored, want 3", n)
		}
		if me := e.me(t, "alice", "", nil); me.Invites != (InvitesView{PerDay: 3, Left: 0}) {
			t.Errorf("me.invites %+v", me.Invites)
		}

		cases := []struct {
			name, body, idem string
			status           int
			code             parrain.Code
			field            string
		}{
			{"the same key with another body", `{"emails":["f9@example.org"]}`, "k1", 422, parrain.CodeIdempotencyReuse, "Idempotency-Key"},
			{"a key too long", `{"emails":["f9@example.org"]}`, strings.Repeat("k", 256), 400, parrain.CodeInvalid, "Idempotency-Key"},
			{"no address", `{"emails":[]}`, "", 400, parrain.CodeInvalid, "emails"},
			{"too many addresses", `{"emails":["a1@x.org","a2@x.org","a3@x.org","a4@x.org","a5@x.org","a6@x.org","a7@x.org","a8@x.org","a9@x.org","a10@x.org","a11@x.org"]}`, "", 400, parrain.CodeInvalid, "emails"},
			{"a link in the note", `{"emails":["f9@example.org"],"note":"see www.spam.example"}`, "", 400, parrain.CodeInvalid, "note"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				wantError(t, e.call("POST", "/api/v1/widget/invites", tok, c.body, map[string]string{"Idempotency-Key": c.idem}), c.status, c.code, c.field)
			})
		}

		// A day later the advocate may invite again.
		e.clock.Advance(24*time.Hour + time.Minute)
		tok = e.token("alice", time.Hour)
		var got inviteAnswer
		decodeOK(t, e.call("POST", "/api/v1/widget/invites", tok, `{"emails":["f4@example.org"]}`, nil), http.StatusCreated, &got)
		if statuses(got.Results) != "f4@example.org=queued" || got.Left != 2 {
			t.Errorf("next day: %s, left %d", statuses(got.Results), got.Left)
		}
		// A paused program takes no invitations.
		if _, err := program.New(e.st).SetStatus(ctx, e.prog.ID, parrain.ProgramPaused); err != nil {
			t.Fatal(err)
		}
		wantError(t, e.call("POST", "/api/v1/widget/invites", tok, `{"emails":["f5@example.org"]}`, nil), http.StatusForbidden, parrain.CodeForbidden, "")
		if n := e.countRows(t, `SELECT COUNT(*) FROM invites WHERE participant_id = $1`, e.alice.ID); n != 4 {
			t.Errorf("%d invites stored, want 4", n)
		}
	})
}

// advocate registers a participant of the env's program.
func (e *env) advocate(t *testing.T, ext, email string) parrain.Participant {
	t.Helper()
	p, _, err := referral.New(e.st).UpsertParticipant(context.Background(), e.prog.ID, parrain.ParticipantInput{ExternalID: ext, Email: email}, store.Idem{})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// notice records an in-app notification of a reward for p.
func (e *env) notice(t *testing.T, p parrain.Participant, key string, amount int64) {
	t.Helper()
	_, err := e.st.RecordNotice(context.Background(), store.Notice{ProgramID: e.prog.ID, ParticipantID: p.ID, Kind: parrain.NoticeRewardEarned,
		DedupeKey: key, InApp: true, Data: map[string]any{"amount": amount, "currency": "EUR"}})
	if err != nil {
		t.Fatal(err)
	}
}

type feedAnswer struct {
	Data []struct {
		ID     string     `json:"id"`
		Text   string     `json:"text"`
		ReadAt *time.Time `json:"read_at"`
	} `json:"data"`
	Next string `json:"next_cursor"`
}

// TestNotifications pages through the advocate's feed in their language,
// marks some read and then all; another advocate's notifications cannot be
// marked.
func TestNotifications(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, httpx.IPResolver{})
		bob := e.advocate(t, "bob", "bob@example.org")
		for i, amt := range []int64{1000, 2000, 3000} {
			e.notice(t, e.alice, "n"+string(rune('a'+i)), amt)
			e.clock.Advance(time.Second)
		}
		e.notice(t, bob, "bob-1", 500)
		tok := e.token("alice", time.Hour)
		feed := func(query string) feedAnswer {
			t.Helper()
			var f feedAnswer
			decodeOK(t, e.call("GET", "/api/v1/widget/notifications"+query, tok, "", nil), http.StatusOK, &f)
			return f
		}
		first := feed("?limit=2&locale=fr")
		if len(first.Data) != 2 || first.Next == "" || !strings.HasPrefix(first.Data[0].Text, "Vous avez gagné") || !strings.Contains(first.Data[0].Text, "30") {
			t.Fatalf("first page %+v", first)
		}
		rest := feed("?limit=2&cursor=" + first.Next)
		if len(rest.Data) != 1 || rest.Next != "" || !strings.HasPrefix(rest.Data[0].Text, "You earned") || !strings.Contains(rest.Data[0].Text, "10") {
			t.Fatalf("second page %+v", rest)
		}
		mark := func(body string) int64 {
			t.Helper()
			var got struct{ Marked int64 }
			decodeOK(t, e.call("POST", "/api/v1/widget/notifications/read", tok, body, nil), http.StatusOK, &got)
			return got.Marked
		}
		bobs, _, err := e.st.Notifications(context.Background(), bob.ID, false, store.Page{})
		if err != nil || len(bobs) != 1 {
			t.Fatalf("bob's notifications %+v %v", bobs, err)
		}
		if n := mark(`{"ids":["` + bobs[0].ID + `"]}`); n != 0 {
			t.Errorf("marked %d of another advocate's notifications", n)
		}
		if n := mark(`{"ids":["` + first.Data[0].ID + `"]}`); n != 1 {
			t.Errorf("marked %d, want 1", n)
		}
		if unread := feed("?unread=true"); len(unread.Data) != 2 {
			t.Errorf("unread %+v", unread)
		}
		if n := mark(`{}`); n != 2 {
			t.Errorf("mark all: %d, want 2", n)
		}
		if me := e.me(t, "alice", "", nil); me.Unread != 0 {
			t.Errorf("unread %d", me.Unread)
		}
		if n, err := e.st.UnreadNotifications(context.Background(), bob.ID); err != nil || n != 1 {
			t.Errorf("bob's unread %d %v", n, err)
		}
		wantError(t, e.call("POST", "/api/v1/widget/notifications/read", tok, `{"ids":"all"}`, nil), http.StatusBadRequest, parrain.CodeInvalid, "ids")
	})
}

// TestPayoutAccount: the advocate sets where they are paid; invalid details
// are a field error; answers are masked; the change is audited under the
// advocate.
func TestPayoutAccount(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, httpx.IPResolver{})
		tok := e.token("alice", time.Hour)
		var v payoutView
		decodeOK(t, e.call("GET", "/api/v1/widget/payout-account", tok, "", nil), http.StatusOK, &v)
		if v.Set || v.Account != nil {
			t.Errorf("before: %+v", v)
		}
		cases := []struct{ name, body, field string }{
			{"no method", `{}`, "method"},
			{"bad IBAN", `{"method":"bank","bank":{"holder_name":"Alice","iban":"DE89370400440532013001"}}`, "bank.iban"},
			{"bank without details", `{"method":"bank"}`, "bank"},
			{"unknown field", `{"method":"paypal","paypal":"x"}`, "paypal"},
		}
		for _, c := range cases {
			t.Run(c.name, func(t *testing.T) {
				wantError(t, e.call("PUT", "/api/v1/widget/payout-account", tok, c.body, nil), http.StatusBadRequest, parrain.CodeInvalid, c.field)
			})
		}
		decodeOK(t, e.call("PUT", "/api/v1/widget/payout-account", tok, `{"method":"bank","bank":{"holder_name":"Alice Martin","iban":"DE89370400440532013000"}}`, nil), http.StatusOK, &v)
		if !v.Set || v.Account == nil || v.Account.Bank == nil || v.Account.Bank.IBAN != "DE••••••••••••••••3000" {
			t.Fatalf("set: %+v", v)
		}
		decodeOK(t, e.call("GET", "/api/v1/widget/payout-account", tok, "", nil), http.StatusOK, &v)
		if !v.Set || v.Account.Bank.IBAN != "DE••••••••••••••••3000" {
			t.Errorf("get: %+v", v.Account)
		}
		stored, err := e.st.PayoutAccount(context.Background(), e.prog.ID, "alice")
		if err != nil || stored.Bank.IBAN != "DE89370400440532013000" {
			t.Fatalf("stored %+v %v", stored, err)
		}
		log, _, err := e.st.AuditLog(context.Background(), store.AuditFilter{Action: payout.AuditPayoutAccountSet}, store.Page{})
		if err != nil || len(log) != 1 || log[0].ActorType != string(parrain.ActorAdvocate) || log[0].TargetID != e.alice.ID {
			t.Errorf("audit %+v %v", log, err)
		}
	})
}

// TestLookup: refer-by-name answers only a unique match of an active
// program, in the visitor's language; a query that names nobody is a field
// error worded for the visitor.
func TestLookup(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, httpx.IPResolver{})
		lookup := func(query, locale string) *httptest.ResponseRecorder {
			b, err := json.Marshal(map[string]string{"program_id": e.prog.ID, "query": query, "locale": locale})
			if err != nil {
				t.Fatal(err)
			}
			// text/plain: the widget avoids a CORS preflight.
			return e.serve(request("POST", "/api/v1/widget/lookup", "203.0.113.5:1", map[string]string{"Content-Type": "text/plain"}, string(b)))
		}
		cases := []struct {
			name, query, locale string
			matched             bool
			message             string
		}{
			{"by name", "alice martin", "en", true, "Thanks! We'll credit Alice M. for recommending us."},
			{"by email, in French", "ALICE@example.com", "fr", true, "Merci ! Alice M. sera récompensé·e de nous avoir recommandés."},
			{"nobody", "Zorro Unknown", "fr", false, "Aucune correspondance unique. Essayez son nom complet ou son adresse e-mail."},
		}
		for _, c := range cases {
			var res LookupResult
			decodeOK(t, lookup(c.query, c.locale), http.StatusOK, &res)
			if res.Matched != c.matched || res.Message != c.message || (c.matched && res.Code != e.alice.Code) || (!c.matched && res.Code != "") {
				t.Errorf("%s: %+v", c.name, res)
			}
		}
		w := lookup("   ", "fr")
		wantError(t, w, http.StatusBadRequest, parrain.CodeInvalid, "query")
		if !strings.Contains(w.Body.String(), "Indiquez le nom complet") {
			t.Errorf("invalid query worded %s", w.Body)
		}
		// A paused program names nobody.
		if _, err := program.New(e.st).SetStatus(context.Background(), e.prog.ID, parrain.ProgramPaused); err != nil {
			t.Fatal(err)
		}
		var res LookupResult
		decodeOK(t, lookup("alice martin", "en"), http.StatusOK, &res)
		if res.Matched || res.Code != "" {
			t.Errorf("paused program: %+v", res)
		}
	})
}
