package access

import (
	"context"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// Session lifetimes. A console session ends after SessionIdle without a
// request or SessionMaxAge after sign-in, whichever comes first.
const (
	SessionIdle   = 12 * time.Hour
	SessionMaxAge = 7 * 24 * time.Hour
)

// NormalizeEmail validates a console user's email and returns it in the
// stored form (trimmed, lower case).
func NormalizeEmail(field, email string) (string, error) {
	e, err := parrain.NormalizeEmailField(field, email)
	if err != nil {
		return "", err
	}
	if e == "" {
		return "", parrain.Invalid(field, "is required")
	}
	return strings.ToLower(e), nil
}

// NewUser is a console user to create, with their initial password.
type NewUser struct {
	Email    string
	Name     string
	Role     parrain.UserRole
	Password string
}

// prepare validates n and hashes its password.
func (s *Service) prepare(ctx context.Context, n NewUser) (store.NewUser, error) {
	email, err := NormalizeEmail("email", n.Email)
	if err != nil {
		return store.NewUser{}, err
	}
	name := strings.TrimSpace(n.Name)
	if len(name) > 200 {
		return store.NewUser{}, parrain.Invalid("name", "must be at most 200 characters")
	}
	if !n.Role.Valid() {
		return store.NewUser{}, parrain.Invalid("role", "must be owner, manager or analyst")
	}
	hash, err := s.HashPassword(ctx, email, n.Password)
	if err != nil {
		return store.NewUser{}, err
	}
	return store.NewUser{Email: email, Name: name, Role: n.Role, PasswordHash: hash}, nil
}

// CreateUser creates a console user, audited under the context's actor.
// An email already in use answers conflict on field email.
func (s *Service) CreateUser(ctx context.Context, n NewUser) (store.User, error) {
	nu, err := s.prepare(ctx, n)
	if err != nil {
		return store.User{}, err
	}
	var u store.User
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if u, err = tx.InsertUser(ctx, "", nu, tx.Now()); err != nil {
			return err
		}
		// The first user ever created also closes the setup page.
		if _, err := tx.ClaimSetup(ctx, u.ID); err != nil {
			return err
		}
		return tx.Audit(ctx, store.ContextActor(ctx), store.AuditUserCreated, "user", u.ID, "", map[string]any{"email": u.Email, "role": u.Role})
	})
	return u, err
}

// CreateFirstUser creates the first console user, an owner (the one-time
// setup from ip), audited as that user. It answers conflict when any user
// exists, also when two setups race.
func (s *Service) CreateFirstUser(ctx context.Context, n NewUser, ip string) (store.User, error) {
	n.Role = parrain.UserRoleOwner
	nu, err := s.prepare(ctx, n)
	if err != nil {
		return store.User{}, err
	}
	var u store.User
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		id := store.NewID("usr")
		claimed, err := tx.ClaimSetup(ctx, id)
		if err != nil {
			return err
		}
		existing, err := tx.CountUsers(ctx)
		if err != nil {
			return err
		}
		if !claimed || existing > 0 {
			return parrain.Errorf(parrain.CodeConflict, "the console is already set up: sign in instead")
		}
		if u, err = tx.InsertUser(ctx, id, nu, tx.Now()); err != nil {
			return err
		}
		return tx.Audit(ctx, userActor(u, ip), store.AuditUserCreated, "user", u.ID, "", map[string]any{"email": u.Email, "role": u.Role, "setup": true})
	})
	return u, err
}

// HasUsers reports whether any console user exists.
func (s *Service) HasUsers(ctx context.Context) (bool, error) { return s.st.HasUsers(ctx) }

// Users lists every console user, by email.
func (s *Service) Users(ctx context.Context) ([]store.User, error) { return s.st.Users(ctx) }

// User returns a console user by id.
func (s *Service) User(ctx context.Context, id string) (store.User, error) {
	return s.st.UserByID(ctx, id)
}

// UserByEmail returns a console user by email (case-insensitive).
func (s *Service) UserByEmail(ctx context.Context, email string) (store.User, error) {
	return s.st.UserByEmail(ctx, strings.ToLower(strings.TrimSpace(email)))
}

// lastOwnerGuard refuses a change that would leave no active owner: there
// must always be someone able to manage users.
func lastOwnerGuard(ctx context.Context, tx *store.Tx, u store.User) error {
	if u.Role != parrain.UserRoleOwner || !u.Active() {
		return nil
	}
	owners, err := tx.OtherActiveUsersWithRole(ctx, u.ID, parrain.UserRoleOwner)
	if err != nil {
		return err
	}
	if owners == 0 {
		return &parrain.Error{Code: parrain.CodeConflict, Field: "role", Message: "this is the last active owner: make someone else owner first"}
	}
	return nil
}

// SetRole changes a user's role. Demoting the last active owner is refused.
func (s *Service) SetRole(ctx context.Context, id string, role parrain.UserRole) (store.User, error) {
	if !role.Valid() {
		return store.User{}, parrain.Invalid("role", "must be owner, manager or analyst")
	}
	var u store.User
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if u, err = tx.UserForUpdate(ctx, id); err != nil || u.Role == role {
			return err
		}
		if role != parrain.UserRoleOwner {
			if err := lastOwnerGuard(ctx, tx, u); err != nil {
				return err
			}
		}
		old := u.Role
		u.Role, u.UpdatedAt = role, tx.Now()
		if err := tx.SetUserRole(ctx, id, role, u.UpdatedAt); err != nil {
			return err
		}
		return tx.Audit(ctx, store.ContextActor(ctx), store.AuditUserRole, "user", id, "", map[string]any{"email": u.Email, "from": old, "to": role})
	})
	return u, err
}

// SetDisabled disables a user (signing them out everywhere) or enables
// them again. Disabling the last active owner is refused.
func (s *Service) SetDisabled(ctx context.Context, id string, disabled bool) (store.User, error) {
	var u store.User
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if u, err = tx.UserForUpdate(ctx, id); err != nil || disabled == !u.Active() {
			return err
		}
		now := tx.Now()
		action := store.AuditUserEnabled
		if disabled {
			if err := lastOwnerGuard(ctx, tx, u); err != nil {
				return err
			}
			action = store.AuditUserDisabled
			u.DisabledAt = &now
			if _, err := tx.DeleteUserSessions(ctx, id, ""); err != nil {
				return err
			}
		} else {
			u.DisabledAt = nil
		}
		u.UpdatedAt = now
		if err := tx.SetUserDisabledAt(ctx, id, u.DisabledAt, now); err != nil {
			return err
		}
		return tx.Audit(ctx, store.ContextActor(ctx), action, "user", id, "", map[string]any{"email": u.Email})
	})
	return u, err
}

// ChangePassword is a signed-in user changing their own password: the
// current one must match, the new one is validated, and every other
// session of the user ends (keepSessionID, the one making the change,
// stays). Errors name the field: current, password or confirm.
func (s *Service) ChangePassword(ctx context.Context, u store.User, keepSessionID, current, password, confirm string) error {
	ok, err := s.hasher.Verify(ctx, u.PasswordHash, current)
	if err != nil {
		return err
	}
	if !ok {
		return parrain.Invalid("current", "is not your current password")
	}
	if err := ValidatePassword("password", u.Email, password); err != nil {
		return err
	}
	if password != confirm {
		return parrain.Invalid("confirm", "the two passwords differ")
	}
	return s.setPassword(ctx, u.ID, password, keepSessionID)
}

// ResetPassword sets a user's password without the current one (the
// command line, run by whoever holds the server) and ends every session
// of the user.
func (s *Service) ResetPassword(ctx context.Context, email, password string) (store.User, error) {
	u, err := s.UserByEmail(ctx, email)
	if err != nil {
		return u, err
	}
	if err := ValidatePassword("password", u.Email, password); err != nil {
		return u, err
	}
	return u, s.setPassword(ctx, u.ID, password, "")
}

func (s *Service) setPassword(ctx context.Context, id, password, keepSessionID string) error {
	hash, err := s.hasher.Hash(ctx, password)
	if err != nil {
		return err
	}
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		u, err := tx.UserForUpdate(ctx, id)
		if err != nil {
			return err
		}
		if err := tx.SetUserPasswordHash(ctx, id, hash, tx.Now()); err != nil {
			return err
		}
		ended, err := tx.DeleteUserSessions(ctx, id, keepSessionID)
		if err != nil {
			return err
		}
		return tx.Audit(ctx, store.ContextActor(ctx), store.AuditUserPassword, "user", id, "", map[string]any{"email": u.Email, "sessions_ended": ended})
	})
}

// SignOutEverywhere ends every session of a user and returns how many
// ended, audited under the context's actor.
func (s *Service) SignOutEverywhere(ctx context.Context, userID string) (int64, error) {
	var n int64
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if n, err = tx.DeleteUserSessions(ctx, userID, ""); err != nil {
			return err
		}
		return tx.Audit(ctx, store.ContextActor(ctx), store.AuditUserSignedOutAll, "user", userID, "", map[string]any{"sessions_ended": n})
	})
	return n, err
}
