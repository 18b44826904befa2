package store_test

import (
	"slices"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// insertSession stores a session of user under hash, created now and
// ending after life.
func (e *env) insertSession(id, user, hash string, life time.Duration) store.Session {
	e.T.Helper()
	now := e.Clock.Now()
	ss := store.Session{ID: id, UserID: user, CSRFToken: "csrf-" + id, IP: "192.0.2.7", UserAgent: "Firefox", CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(life)}
	e.inTx(func(tx *store.Tx) error { return tx.InsertSession(ctx, ss, hash) })
	return ss
}

func sessionIDs(ss []store.Session) []string {
	ids := []string{}
	for _, s := range ss {
		ids = append(ids, s.ID)
	}
	return ids
}

// Console sessions: found by the hash of their token with their user,
// touched, listed while alive, ended one by one, all but one, or when
// stale.
func TestSessions(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		e.insertUser("usr_a", "a@corp.example", parrain.UserRoleManager)
		e.insertUser("usr_b", "b@corp.example", parrain.UserRoleAnalyst)
		s1 := e.insertSession("ses_1", "usr_a", "hash1", time.Hour)
		e.Clock.Advance(time.Second)
		e.insertSession("ses_2", "usr_a", "hash2", 2*time.Hour)
		e.insertSession("ses_3", "usr_b", "hash3", time.Hour)

		ss, u, found, err := e.St.SessionByTokenHash(ctx, "hash1")
		if err != nil || !found || ss.ID != "ses_1" || ss.UserID != "usr_a" || ss.CSRFToken != "csrf-ses_1" || ss.IP != "192.0.2.7" ||
			ss.UserAgent != "Firefox" || !ss.CreatedAt.Equal(t0) || !ss.ExpiresAt.Equal(s1.ExpiresAt) {
			t.Fatalf("by hash: %+v %v %v", ss, found, err)
		}
		if u.ID != "usr_a" || u.Email != "a@corp.example" || u.Role != parrain.UserRoleManager || !u.Active() {
			t.Fatalf("session's user: %+v", u)
		}
		if _, _, found, err := e.St.SessionByTokenHash(ctx, "nope"); err != nil || found {
			t.Fatalf("unknown hash: %v %v", found, err)
		}
		seen := t0.Add(30 * time.Minute)
		if err := e.St.TouchSession(ctx, "ses_1", seen); err != nil {
			t.Fatal(err)
		}
		if ss, _, _, err := e.St.SessionByTokenHash(ctx, "hash1"); err != nil || !ss.LastSeenAt.Equal(seen) {
			t.Fatalf("touched: %+v %v", ss, err)
		}

		list := func(user string, now, idleSince time.Time) []string {
			t.Helper()
			ss, err := e.St.UserSessions(ctx, user, now, idleSince)
			if err != nil {
				t.Fatal(err)
			}
			return sessionIDs(ss)
		}
		cases := []struct {
			name           string
			now, idleSince time.Time
			want           []string
		}{
			{"both alive, newest first", t0.Add(time.Minute), t0.Add(-time.Hour), []string{"ses_2", "ses_1"}},
			{"the first has ended", t0.Add(90 * time.Minute), t0.Add(-time.Hour), []string{"ses_2"}},
			{"the second is idle", t0.Add(time.Minute), t0.Add(10 * time.Minute), []string{"ses_1"}},
			{"both over", t0.Add(3 * time.Hour), t0, []string{}},
		}
		for _, c := range cases {
			if got := list("usr_a", c.now, c.idleSince); !slices.Equal(got, c.want) {
				t.Errorf("%s: %v, want %v", c.name, got, c.want)
			}
		}

		// All of a's sessions but ses_2 end; b's stay.
		var ended int64
		e.inTx(func(tx *store.Tx) error {
			var err error
			ended, err = tx.DeleteUserSessions(ctx, "usr_a", "ses_2")
			return err
		})
		if ended != 1 || e.count("sessions") != 2 {
			t.Fatalf("ended %d, %d left", ended, e.count("sessions"))
		}
		if err := e.St.DeleteSession(ctx, "ses_2"); err != nil {
			t.Fatal(err)
		}
		if got := list("usr_a", t0, t0.Add(-time.Hour)); len(got) != 0 {
			t.Fatalf("after sign-out: %v", got)
		}
		// Stale: ses_3 expires at t0+1h+1s.
		e.inTx(func(tx *store.Tx) error { return tx.DeleteStaleSessions(ctx, t0.Add(time.Hour), t0) })
		if n := e.count("sessions"); n != 1 {
			t.Fatalf("a live session was swept: %d left", n)
		}
		e.inTx(func(tx *store.Tx) error { return tx.DeleteStaleSessions(ctx, t0.Add(2*time.Hour), t0) })
		if n := e.count("sessions"); n != 0 {
			t.Fatalf("an ended session survived the sweep: %d left", n)
		}
	})
}

// Sign-in failures count per key, restart after being forgotten, and
// clear.
func TestSignInFailures(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		read := func(key string) (int, time.Time) {
			t.Helper()
			n, last, err := e.St.SignInFailures(ctx, key)
			if err != nil {
				t.Fatal(err)
			}
			return n, last
		}
		add := func(key string, now, forget time.Time) int {
			t.Helper()
			n, err := e.St.AddSignInFailure(ctx, key, now, forget)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n, last := read("k1"); n != 0 || !last.IsZero() {
			t.Fatalf("none yet: %d %v", n, last)
		}
		for i := 1; i <= 3; i++ {
			if n := add("k1", t0.Add(time.Duration(i)*time.Minute), t0.Add(-time.Hour)); n != i {
				t.Fatalf("failure %d counted as %d", i, n)
			}
		}
		if n := add("k2", t0, t0.Add(-time.Hour)); n != 1 {
			t.Fatalf("another key: %d", n)
		}
		if n, last := read("k1"); n != 3 || !last.Equal(t0.Add(3*time.Minute)) {
			t.Fatalf("k1: %d at %v", n, last)
		}
		// A failure after the count was forgotten starts again at one, and
		// the forgotten rows of other keys go too.
		if n := add("k1", t0.Add(2*time.Hour), t0.Add(90*time.Minute)); n != 1 {
			t.Fatalf("after forgetting: %d", n)
		}
		if n, _ := read("k2"); n != 0 {
			t.Fatalf("k2 was not forgotten: %d", n)
		}
		if err := e.St.ClearSignInFailures(ctx, "k1"); err != nil {
			t.Fatal(err)
		}
		if n, _ := read("k1"); n != 0 || e.count("sign_in_failures") != 0 {
			t.Fatalf("after clearing: %d, %d rows", n, e.count("sign_in_failures"))
		}
	})
}
