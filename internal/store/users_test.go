package store_test

import (
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// inTx runs fn in one write transaction and fails the test on its error.
func (e *env) inTx(fn func(tx *store.Tx) error) {
	e.T.Helper()
	if err := e.St.InTx(ctx, fn); err != nil {
		e.T.Fatal(err)
	}
}

// insertUser stores a console user with id at the clock's time.
func (e *env) insertUser(id, email string, role parrain.UserRole) store.User {
	e.T.Helper()
	var u store.User
	e.inTx(func(tx *store.Tx) error {
		var err error
		u, err = tx.InsertUser(ctx, id, store.NewUser{Email: email, Name: "N " + email, Role: role, PasswordHash: "$argon2id$" + id}, tx.Now())
		return err
	})
	return u
}

// The users' rows: insertion (an email taken answers conflict on email),
// the lookups by id and email, the list by email, and each
// setter changing its column and updated_at only.
func TestUsers(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		if has, err := e.St.HasUsers(ctx); err != nil || has {
			t.Fatalf("fresh database: has users %v %v", has, err)
		}
		olga := e.insertUser("usr_1", "olga@corp.example", parrain.UserRoleOwner)
		if olga.ID != "usr_1" || olga.Role != parrain.UserRoleOwner || !olga.CreatedAt.Equal(t0) || !olga.UpdatedAt.Equal(t0) || !olga.Active() || olga.LastLoginAt != nil {
			t.Fatalf("inserted %+v", olga)
		}
		e.Clock.Advance(time.Second)
		var gen store.User
		e.inTx(func(tx *store.Tx) error {
			var err error
			gen, err = tx.InsertUser(ctx, "", store.NewUser{Email: "ann@corp.example", Role: parrain.UserRoleAnalyst, PasswordHash: "h"}, tx.Now())
			return err
		})
		if len(gen.ID) < 5 || gen.ID[:4] != "usr_" {
			t.Errorf("generated id %q", gen.ID)
		}
		err := e.St.InTx(ctx, func(tx *store.Tx) error {
			_, err := tx.InsertUser(ctx, "usr_3", store.NewUser{Email: "olga@corp.example", Role: parrain.UserRoleManager}, tx.Now())
			return err
		})
		if pe := parrain.AsError(err); pe == nil || pe.Code != parrain.CodeConflict || pe.Field != "email" {
			t.Fatalf("taken email: %v", err)
		}
		if n := e.count("users"); n != 2 {
			t.Fatalf("%d users after the conflict, want 2", n)
		}
		if has, err := e.St.HasUsers(ctx); err != nil || !has {
			t.Fatalf("has users %v %v", has, err)
		}
		for _, c := range []struct {
			get  func() (store.User, error)
			want string
		}{
			{func() (store.User, error) { return e.St.UserByID(ctx, "usr_1") }, "usr_1"},
			{func() (store.User, error) { return e.St.UserByEmail(ctx, "ann@corp.example") }, gen.ID},
		} {
			u, err := c.get()
			if err != nil || u.ID != c.want || u.PasswordHash == "" {
				t.Errorf("lookup: %+v %v, want %s", u, err, c.want)
			}
		}
		for _, get := range []func() (store.User, error){
			func() (store.User, error) { return e.St.UserByID(ctx, "usr_nope") },
			func() (store.User, error) { return e.St.UserByEmail(ctx, "nobody@corp.example") },
		} {
			if _, err := get(); parrain.ErrorCode(err) != parrain.CodeNotFound {
				t.Errorf("unknown user: %v", err)
			}
		}
		us, err := e.St.Users(ctx)
		if err != nil || len(us) != 2 || us[0].ID != gen.ID || us[1].ID != "usr_1" {
			t.Fatalf("list: %+v %v", us, err)
		}

		e.Clock.Advance(time.Minute)
		at := e.Clock.Now()
		e.inTx(func(tx *store.Tx) error {
			if err := tx.SetUserRole(ctx, gen.ID, parrain.UserRoleManager, at); err != nil {
				return err
			}
			if err := tx.SetUserPasswordHash(ctx, gen.ID, "$argon2id$new", at); err != nil {
				return err
			}
			if err := tx.SetUserLastLogin(ctx, gen.ID, at.Add(time.Second)); err != nil {
				return err
			}
			return tx.SetUserDisabledAt(ctx, gen.ID, &at, at)
		})
		u, err := e.St.UserByID(ctx, gen.ID)
		if err != nil {
			t.Fatal(err)
		}
		if u.Role != parrain.UserRoleManager || u.PasswordHash != "$argon2id$new" || !u.UpdatedAt.Equal(at) || u.Active() ||
			!u.DisabledAt.Equal(at) || u.LastLoginAt == nil || !u.LastLoginAt.Equal(at.Add(time.Second)) || !u.CreatedAt.Equal(gen.CreatedAt) {
			t.Fatalf("after the setters: %+v", u)
		}
		e.inTx(func(tx *store.Tx) error { return tx.SetUserDisabledAt(ctx, gen.ID, nil, at) })
		if u, err := e.St.UserByID(ctx, gen.ID); err != nil || !u.Active() {
			t.Fatalf("enabled again: %+v %v", u, err)
		}
		// The other user is untouched.
		if o, err := e.St.UserByID(ctx, "usr_1"); err != nil || o.Role != parrain.UserRoleOwner || !o.UpdatedAt.Equal(t0) || o.PasswordHash != "$argon2id$usr_1" {
			t.Fatalf("other user: %+v %v", o, err)
		}
	})
}

// OtherActiveUsersWithRole counts the active holders of one role but the
// user asked about; ClaimSetup claims the one-time setup once.
func TestUserCountsAndSetup(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		e.insertUser("usr_a", "a@corp.example", parrain.UserRoleOwner)
		e.insertUser("usr_b", "b@corp.example", parrain.UserRoleOwner)
		e.insertUser("usr_c", "c@corp.example", parrain.UserRoleManager)
		e.insertUser("usr_d", "d@corp.example", parrain.UserRoleOwner)
		e.inTx(func(tx *store.Tx) error { at := tx.Now(); return tx.SetUserDisabledAt(ctx, "usr_d", &at, at) })
		cases := []struct {
			id   string
			role parrain.UserRole
			want int
		}{
			{"usr_a", parrain.UserRoleOwner, 1}, // b; d is disabled
			{"usr_b", parrain.UserRoleOwner, 1},
			{"usr_c", parrain.UserRoleOwner, 2},
			{"usr_x", parrain.UserRoleOwner, 2},
			{"usr_c", parrain.UserRoleManager, 0},
			{"usr_a", parrain.UserRoleManager, 1},
			{"usr_a", parrain.UserRoleAnalyst, 0},
		}
		e.inTx(func(tx *store.Tx) error {
			for _, c := range cases {
				n, err := tx.OtherActiveUsersWithRole(ctx, c.id, c.role)
				if err != nil {
					return err
				}
				if n != c.want {
					t.Errorf("other active %s than %s: %d, want %d", c.role, c.id, n, c.want)
				}
			}
			n, err := tx.CountUsers(ctx)
			if err != nil || n != 4 {
				t.Errorf("count users %d %v", n, err)
			}
			u, err := tx.UserForUpdate(ctx, "usr_c")
			if err != nil || u.Email != "c@corp.example" {
				t.Errorf("user for update %+v %v", u, err)
			}
			if _, err := tx.UserForUpdate(ctx, "usr_x"); parrain.ErrorCode(err) != parrain.CodeNotFound {
				t.Errorf("unknown user for update: %v", err)
			}
			return nil
		})
		for i, want := range []bool{true, false, false} {
			var claimed bool
			e.inTx(func(tx *store.Tx) error {
				var err error
				claimed, err = tx.ClaimSetup(ctx, "usr_a")
				return err
			})
			if claimed != want {
				t.Errorf("claim %d: %v, want %v", i, claimed, want)
			}
		}
	})
}
