package access_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/access"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
	"github.com/parrainhq/parrain/internal/storetest"
)

const pw = "correct horse battery"

// alice is the console user acting in these tests.
var ctx = parrain.WithActor(context.Background(), parrain.Actor{Kind: parrain.ActorUser, ID: "usr_alice", Label: "alice@corp.example", IP: "192.0.2.1"})

type env struct {
	*storetest.Env
	acc *access.Service
}

func each(t *testing.T, fn func(t *testing.T, e *env)) {
	storetest.Each(t, func(t *testing.T, se *storetest.Env) { fn(t, &env{se, access.New(se.St, nil, access.Config{})}) })
}

func (e *env) user(email string, role parrain.UserRole) store.User {
	e.T.Helper()
	u, err := e.acc.CreateUser(ctx, access.NewUser{Email: email, Role: role, Password: pw})
	if err != nil {
		e.T.Fatalf("create user %s: %v", email, err)
	}
	return u
}

func TestUsersAndRoles(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		if has, err := e.acc.HasUsers(ctx); err != nil || has {
			t.Fatalf("fresh database has users: %v %v", has, err)
		}
		owner, err := e.acc.CreateFirstUser(ctx, access.NewUser{Email: " Owner@Corp.Example ", Name: "Olga", Password: pw}, "192.0.2.9")
		if err != nil || owner.Email != "owner@corp.example" || owner.Role != parrain.UserRoleOwner {
			t.Fatalf("first user: %+v %v", owner, err)
		}
		// The setup can run once only.
		if _, err := e.acc.CreateFirstUser(ctx, access.NewUser{Email: "x@corp.example", Password: pw}, ""); parrain.ErrorCode(err) != parrain.CodeConflict {
			t.Fatalf("second setup: %v", err)
		}
		got, err := e.acc.UserByEmail(ctx, "OWNER@corp.example")
		if err != nil || got.ID != owner.ID || !strings.HasPrefix(got.PasswordHash, "$argon2id$") || !got.Active() {
			t.Fatalf("by email: %+v %v", got, err)
		}
		if _, err := e.acc.UserByEmail(ctx, "nobody@corp.example"); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Fatalf("unknown email: %v", err)
		}
		bad := []struct {
			n     access.NewUser
			field string
		}{
			{access.NewUser{Email: "not-an-email", Role: parrain.UserRoleOwner, Password: pw}, "email"},
			{access.NewUser{Email: "", Role: parrain.UserRoleOwner, Password: pw}, "email"},
			{access.NewUser{Email: "a@corp.example", Role: "admin", Password: pw}, "role"},
			{access.NewUser{Email: "a@corp.example", Role: parrain.UserRoleAnalyst}, "password"},
			{access.NewUser{Email: "a@corp.example", Role: parrain.UserRoleAnalyst, Password: "short"}, "password"},
			{access.NewUser{Email: "owner@CORP.example", Role: parrain.UserRoleAnalyst, Password: pw}, "email"}, // taken
		}
		for _, b := range bad {
			_, err := e.acc.CreateUser(ctx, b.n)
			if pe := parrain.AsError(err); pe == nil || pe.Field != b.field {
				t.Errorf("create %+v: %v, want error on %s", b.n, err, b.field)
			}
		}
		analyst := e.user("ann@corp.example", parrain.UserRoleAnalyst)
		// The last active owner can be neither demoted nor disabled.
		if _, err := e.acc.SetRole(ctx, owner.ID, parrain.UserRoleManager); parrain.ErrorCode(err) != parrain.CodeConflict {
			t.Fatalf("demoting the last owner: %v", err)
		}
		if _, err := e.acc.SetDisabled(ctx, owner.ID, true); parrain.ErrorCode(err) != parrain.CodeConflict {
			t.Fatalf("disabling the last owner: %v", err)
		}
		if u, err := e.acc.SetRole(ctx, analyst.ID, parrain.UserRoleOwner); err != nil || u.Role != parrain.UserRoleOwner {
			t.Fatalf("promote: %+v %v", u, err)
		}
		if u, err := e.acc.SetRole(ctx, owner.ID, parrain.UserRoleManager); err != nil || u.Role != parrain.UserRoleManager {
			t.Fatalf("demote with another owner: %+v %v", u, err)
		}
		users, err := e.acc.Users(ctx)
		if err != nil || len(users) != 2 || users[0].Email != "ann@corp.example" {
			t.Fatalf("users: %+v %v", users, err)
		}
		log, _, err := e.St.AuditLog(ctx, store.AuditFilter{Action: "user."}, store.Page{})
		if err != nil {
			t.Fatal(err)
		}
		var actions []string
		for _, a := range log {
			actions = append(actions, a.Action)
		}
		if got := strings.Join(actions, ","); got != "user.role_changed,user.role_changed,user.created,user.created" {
			t.Errorf("audited actions %s", got)
		}
		if log[0].UserEmail != "alice@corp.example" || log[0].IP != "192.0.2.1" || log[0].Details["from"] != "owner" || log[0].Details["to"] != "manager" {
			t.Errorf("audit entry %+v", log[0])
		}
		// The setup is audited as the new owner, from the setup's address.
		if last := log[len(log)-1]; last.UserID != owner.ID || last.IP != "192.0.2.9" || last.Details["setup"] != true {
			t.Errorf("setup audit entry %+v", last)
		}
	})
}

func TestConcurrentFirstUser(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		// Two browsers submit the setup page at once: one owner only.
		other := access.New(storetest.Open(t, e.URL).St, nil, access.Config{})
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, acc := range []*access.Service{e.acc, other} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, errs[i] = acc.CreateFirstUser(ctx, access.NewUser{Email: fmt.Sprintf("o%d@corp.example", i), Password: pw}, "")
			}()
		}
		wg.Wait()
		users, err := e.acc.Users(ctx)
		if err != nil || len(users) != 1 || (errs[0] == nil) == (errs[1] == nil) {
			t.Fatalf("users %d (%v), errors %v", len(users), err, errs)
		}
	})
}

func TestSessions(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		u := e.user("sam@corp.example", parrain.UserRoleOwner)
		tok, ss, err := e.acc.StartSession(ctx, u, "192.0.2.7", "Mozilla/5.0")
		if err != nil || len(tok) < 40 || ss.CSRFToken == "" {
			t.Fatalf("create: %q %+v %v", tok, ss, err)
		}
		// Only the token's hash is stored.
		var n int
		if err := e.St.DB().QueryRow(`SELECT COUNT(*) FROM sessions WHERE token_hash = $1`, tok).Scan(&n); err != nil {
			t.Fatalf("query: %v", err)
		}
		if n != 0 {
			t.Fatal("the session token is stored in clear")
		}
		got, gu, err := e.acc.Session(ctx, tok)
		if err != nil || got.ID != ss.ID || gu.ID != u.ID || got.CSRFToken != ss.CSRFToken {
			t.Fatalf("lookup: %+v %+v %v", got, gu, err)
		}
		if _, _, err := e.acc.Session(ctx, tok+"x"); parrain.ErrorCode(err) != parrain.CodeUnauthenticated {
			t.Fatalf("bad token: %v", err)
		}
		// Activity keeps the session alive past the idle timeout…
		for range 3 {
			e.Clock.Advance(access.SessionIdle - time.Hour)
			if _, _, err := e.acc.Session(ctx, tok); err != nil {
				t.Fatalf("active session ended: %v", err)
			}
		}
		// …but not past its maximum age.
		e.Clock.Advance(access.SessionMaxAge)
		if _, _, err := e.acc.Session(ctx, tok); parrain.ErrorCode(err) != parrain.CodeUnauthenticated {
			t.Fatalf("session past max age: %v", err)
		}
		start := func(u store.User) (string, store.Session) {
			t.Helper()
			tok, ss, err := e.acc.StartSession(ctx, u, "", "")
			if err != nil {
				t.Fatal(err)
			}
			return tok, ss
		}
		// Idle sessions end.
		tok2, _ := start(u)
		e.Clock.Advance(access.SessionIdle)
		if _, _, err := e.acc.Session(ctx, tok2); parrain.ErrorCode(err) != parrain.CodeUnauthenticated {
			t.Fatalf("idle session: %v", err)
		}
		// Sign out everywhere ends every session of the user, and only theirs.
		other := e.user("oli@corp.example", parrain.UserRoleOwner)
		a1, _ := start(u)
		a2, _ := start(u)
		b1, _ := start(other)
		if list, err := e.acc.Sessions(ctx, u.ID); err != nil || len(list) != 2 {
			t.Fatalf("live sessions %d %v", len(list), err)
		}
		if n, err := e.acc.SignOutEverywhere(ctx, u.ID); err != nil || n != 2 {
			t.Fatalf("sign out everywhere: %d %v", n, err)
		}
		for _, tk := range []string{a1, a2} {
			if _, _, err := e.acc.Session(ctx, tk); err == nil {
				t.Error("a session survived sign out everywhere")
			}
		}
		if _, _, err := e.acc.Session(ctx, b1); err != nil {
			t.Errorf("another user's session ended: %v", err)
		}
		// A password change needs the current password, keeps the current
		// session and ends the others.
		keep, ks := start(u)
		lose, _ := start(u)
		if err := e.acc.ChangePassword(ctx, u, ks.ID, "not it at all", "a new password!", "a new password!"); parrain.AsError(err) == nil || parrain.AsError(err).Field != "current" {
			t.Fatalf("wrong current password: %v", err)
		}
		if err := e.acc.ChangePassword(ctx, u, ks.ID, pw, "a new password!", "another one!!"); parrain.AsError(err) == nil || parrain.AsError(err).Field != "confirm" {
			t.Fatalf("confirmation differs: %v", err)
		}
		if err := e.acc.ChangePassword(ctx, u, ks.ID, pw, "a new password!", "a new password!"); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.acc.Session(ctx, keep); err != nil {
			t.Errorf("current session ended by password change: %v", err)
		}
		if _, _, err := e.acc.Session(ctx, lose); err == nil {
			t.Error("other session survived the password change")
		}
		if _, _, _, err := e.acc.SignIn(ctx, u.Email, "a new password!", "192.0.2.7", ""); err != nil {
			t.Errorf("sign-in with the new password: %v", err)
		}
		// Disabling a user ends their sessions and blocks new lookups.
		if _, err := e.acc.SetDisabled(ctx, u.ID, true); err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.acc.Session(ctx, keep); err == nil {
			t.Error("disabled user's session still works")
		}
	})
}

func TestAPIKeys(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog := e.Program(nil)
		secret, k, err := e.acc.CreateAPIKey(ctx, " shop ", []string{"read"}, prog.ID)
		if err != nil || !strings.HasPrefix(secret, "prn_") || k.Name != "shop" || k.Prefix != secret[:10] || k.ProgramID != prog.ID {
			t.Fatalf("create: %q %+v %v", secret, k, err)
		}
		if got, err := e.acc.AuthenticateAPIKey(ctx, secret); err != nil || got.ID != k.ID || !got.Has("read") || got.Has("admin") {
			t.Fatalf("authenticate: %+v %v", got, err)
		}
		for _, c := range []struct {
			name, program, field string
			scopes               []string
		}{
			{"", "", "name", nil},
			{"x", "", "scopes", []string{"root"}},
		} {
			if _, _, err := e.acc.CreateAPIKey(ctx, c.name, c.scopes, c.program); parrain.AsError(err) == nil || parrain.AsError(err).Field != c.field {
				t.Errorf("%+v: %v", c, err)
			}
		}
		if _, _, err := e.acc.CreateAPIKey(ctx, "x", nil, "prg_nope"); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Errorf("unknown program: %v", err)
		}
		if err := e.acc.RevokeAPIKey(ctx, k.ID); err != nil {
			t.Fatal(err)
		}
		if _, err := e.acc.AuthenticateAPIKey(ctx, secret); parrain.ErrorCode(err) != parrain.CodeUnauthenticated {
			t.Fatalf("revoked key: %v", err)
		}
		if err := e.acc.RevokeAPIKey(ctx, k.ID); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Fatalf("revoked twice: %v", err)
		}
		log, _, err := e.St.AuditLog(ctx, store.AuditFilter{Action: "api_key."}, store.Page{})
		if err != nil || len(log) != 2 || log[0].Action != store.AuditAPIKeyRevoked || log[0].UserID != "usr_alice" || log[1].ProgramID != prog.ID {
			t.Fatalf("audit %+v %v", log, err)
		}
	})
}
