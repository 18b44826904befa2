package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
)

// UserRole is what a console user may do. Roles are ordered: each one can
// do everything the ones below it can.
type UserRole string

// Console roles.
const (
	// RoleAnalyst reads everything (KPIs, participants, referrals,
	// rewards, audit log) and changes nothing.
	RoleAnalyst UserRole = "analyst"
	// RoleManager also runs the program: creates and edits programs,
	// approves and rejects rewards, edits branding and the email sender.
	RoleManager UserRole = "manager"
	// RoleOwner also manages console users and API keys.
	RoleOwner UserRole = "owner"
)

// Roles lists the roles from the least to the most powerful.
var Roles = []UserRole{RoleAnalyst, RoleManager, RoleOwner}

func (r UserRole) rank() int {
	for i, x := range Roles {
		if x == r {
			return i + 1
		}
	}
	return 0
}

// Valid reports whether r names a role.
func (r UserRole) Valid() bool { return r.rank() > 0 }

// AtLeast reports whether r grants everything min grants.
func (r UserRole) AtLeast(min UserRole) bool { return r.Valid() && r.rank() >= min.rank() }

// ParseRole validates a role name.
func ParseRole(field, s string) (UserRole, error) {
	r := UserRole(strings.ToLower(strings.TrimSpace(s)))
	if !r.Valid() {
		return "", parrain.Invalid(field, "must be owner, manager or analyst")
	}
	return r, nil
}

// User is a console user.
type User struct {
	ID           string     `json:"id"`
	Email        string     `json:"email"`
	Name         string     `json:"name"`
	Role         UserRole   `json:"role"`
	PasswordHash string     `json:"-"`
	CreatedAt    time.Time  `json:"created_at"`
	UpdatedAt    time.Time  `json:"updated_at"`
	LastLoginAt  *time.Time `json:"last_login_at,omitempty"`
	DisabledAt   *time.Time `json:"disabled_at,omitempty"`
}

// Active reports whether the user may sign in.
func (u User) Active() bool { return u.DisabledAt == nil }

// NewUser is a user to create. PasswordHash is computed by the caller (the
// console's argon2id hasher); the store never sees a password.
type NewUser struct {
	Email        string
	Name         string
	Role         UserRole
	PasswordHash string
}

const userCols = `id, email, name, role, password_hash, created_at, updated_at, last_login_at, disabled_at`

func scanUser(sc scanner) (User, error) {
	var u User
	var created, updated int64
	var login, disabled sql.NullInt64
	err := sc.Scan(&u.ID, &u.Email, &u.Name, &u.Role, &u.PasswordHash, &created, &updated, &login, &disabled)
	u.CreatedAt, u.UpdatedAt = fromMS(created), fromMS(updated)
	u.LastLoginAt, u.DisabledAt = fromNullMS(login), fromNullMS(disabled)
	return u, err
}

// NormalizeUserEmail validates a console user's email and returns it in the
// stored form (trimmed, lower case).
func NormalizeUserEmail(field, email string) (string, error) {
	e, err := parrain.NormalizeEmailField(field, email)
	if err != nil {
		return "", err
	}
	if e == "" {
		return "", parrain.Invalid(field, "is required")
	}
	return strings.ToLower(e), nil
}

func (n *NewUser) normalize() error {
	var err error
	if n.Email, err = NormalizeUserEmail("email", n.Email); err != nil {
		return err
	}
	n.Name = strings.TrimSpace(n.Name)
	if len(n.Name) > 200 {
		return parrain.Invalid("name", "must be at most 200 characters")
	}
	if !n.Role.Valid() {
		return parrain.Invalid("role", "must be owner, manager or analyst")
	}
	if n.PasswordHash == "" {
		return parrain.Invalid("password", "is required")
	}
	return nil
}

// setupKey is the settings row claimed by the first user ever created, so
// that the one-time setup page cannot create a second owner, even when two
// browsers submit it at once (the row's primary key serialises them).
const setupKey = "console.first_user"

// CreateUser creates a console user. An email already in use answers
// conflict on field email.
func (s *Store) CreateUser(ctx context.Context, n NewUser, a Actor) (User, error) {
	if err := n.normalize(); err != nil {
		return User{}, err
	}
	var u User
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		u, err = s.insertUserTx(ctx, tx, n)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT DO NOTHING`, setupKey, u.ID); err != nil {
			return fmt.Errorf("recording first user: %w", err)
		}
		return s.auditTx(ctx, tx, a, AuditUserCreated, "user", u.ID, "", map[string]any{"email": u.Email, "role": u.Role})
	})
	return u, err
}

// CreateFirstUser creates the first console user (the one-time setup). It
// answers conflict when any user already exists.
func (s *Store) CreateFirstUser(ctx context.Context, n NewUser, a Actor) (User, error) {
	if err := n.normalize(); err != nil {
		return User{}, err
	}
	var u User
	err := s.tx(ctx, func(tx *sql.Tx) error {
		id := newID("usr")
		res, err := tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT DO NOTHING`, setupKey, id)
		if err != nil {
			return fmt.Errorf("claiming setup: %w", err)
		}
		var existing int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&existing); err != nil {
			return fmt.Errorf("counting users: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 || existing > 0 {
			return parrain.Errorf(parrain.CodeConflict, "the console is already set up: sign in instead")
		}
		u, err = s.insertUserTxID(ctx, tx, id, n)
		if err != nil {
			return err
		}
		if a.UserID == "" {
			a.UserID, a.Email = u.ID, u.Email
		}
		return s.auditTx(ctx, tx, a, AuditUserCreated, "user", u.ID, "", map[string]any{"email": u.Email, "role": u.Role, "setup": true})
	})
	return u, err
}

func (s *Store) insertUserTx(ctx context.Context, tx *sql.Tx, n NewUser) (User, error) {
	return s.insertUserTxID(ctx, tx, newID("usr"), n)
}

func (s *Store) insertUserTxID(ctx context.Context, tx *sql.Tx, id string, n NewUser) (User, error) {
	now := s.clock.Now()
	res, err := tx.ExecContext(ctx, `INSERT INTO users (id, email, name, role, password_hash, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $6, $6) ON CONFLICT DO NOTHING`, id, n.Email, n.Name, n.Role, n.PasswordHash, ms(now))
	if err != nil {
		return User{}, fmt.Errorf("inserting user: %w", err)
	}
	if k, _ := res.RowsAffected(); k == 0 {
		return User{}, &parrain.Error{Code: parrain.CodeConflict, Field: "email", Message: "a user with this email already exists"}
	}
	return User{ID: id, Email: n.Email, Name: n.Name, Role: n.Role, PasswordHash: n.PasswordHash, CreatedAt: now, UpdatedAt: now}, nil
}

// HasUsers reports whether any console user exists (the setup page is shown
// only while none does).
func (s *Store) HasUsers(ctx context.Context) (bool, error) {
	var n int
	if err := s.r.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM users LIMIT 1) x`).Scan(&n); err != nil {
		return false, fmt.Errorf("counting users: %w", err)
	}
	return n > 0, nil
}

// UserByEmail returns the user with this email (case-insensitive).
func (s *Store) UserByEmail(ctx context.Context, email string) (User, error) {
	return s.userWhere(ctx, s.r, `email = $1`, strings.ToLower(strings.TrimSpace(email)))
}

// UserByID returns a user by id.
func (s *Store) UserByID(ctx context.Context, id string) (User, error) {
	return s.userWhere(ctx, s.r, `id = $1`, id)
}

func (s *Store) userWhere(ctx context.Context, q querier, where string, args ...any) (User, error) {
	u, err := scanUser(q.QueryRowContext(ctx, `SELECT `+userCols+` FROM users WHERE `+where, args...))
	if errors.Is(err, sql.ErrNoRows) {
		return u, notFound("user")
	}
	if err != nil {
		return u, fmt.Errorf("loading user: %w", err)
	}
	return u, nil
}

// Users lists every console user, by email.
func (s *Store) Users(ctx context.Context) ([]User, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+userCols+` FROM users ORDER BY email`)
	if err != nil {
		return nil, fmt.Errorf("listing users: %w", err)
	}
	defer rows.Close()
	out := []User{}
	for rows.Next() {
		u, err := scanUser(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, u)
	}
	return out, rows.Err()
}

// lastOwnerGuard refuses a change that would leave no active owner: there
// must always be someone able to manage users.
func (s *Store) lastOwnerGuard(ctx context.Context, tx *sql.Tx, u User) error {
	if u.Role != RoleOwner || !u.Active() {
		return nil
	}
	var owners int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE role = 'owner' AND disabled_at IS NULL AND id <> $1`, u.ID).Scan(&owners); err != nil {
		return fmt.Errorf("counting owners: %w", err)
	}
	if owners == 0 {
		return &parrain.Error{Code: parrain.CodeConflict, Field: "role", Message: "this is the last active owner: make someone else owner first"}
	}
	return nil
}

// SetUserRole changes a user's role. Demoting the last active owner is
// refused.
func (s *Store) SetUserRole(ctx context.Context, id string, role UserRole, a Actor) (User, error) {
	if !role.Valid() {
		return User{}, parrain.Invalid("role", "must be owner, manager or analyst")
	}
	var u User
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		if u, err = s.userWhere(ctx, tx, `id = $1`+s.d.forUpdate, id); err != nil {
			return err
		}
		if u.Role == role {
			return nil
		}
		if role != RoleOwner {
			if err := s.lastOwnerGuard(ctx, tx, u); err != nil {
				return err
			}
		}
		old := u.Role
		u.Role, u.UpdatedAt = role, s.clock.Now()
		if _, err := tx.ExecContext(ctx, `UPDATE users SET role = $1, updated_at = $2 WHERE id = $3`, role, ms(u.UpdatedAt), id); err != nil {
			return fmt.Errorf("updating role: %w", err)
		}
		return s.auditTx(ctx, tx, a, AuditUserRole, "user", id, "", map[string]any{"email": u.Email, "from": old, "to": role})
	})
	return u, err
}

// SetUserDisabled disables (signing the user out everywhere) or re-enables
// a user. Disabling the last active owner is refused.
func (s *Store) SetUserDisabled(ctx context.Context, id string, disabled bool, a Actor) (User, error) {
	var u User
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		if u, err = s.userWhere(ctx, tx, `id = $1`+s.d.forUpdate, id); err != nil {
			return err
		}
		if disabled == !u.Active() {
			return nil
		}
		now := s.clock.Now()
		action := AuditUserEnabled
		if disabled {
			if err := s.lastOwnerGuard(ctx, tx, u); err != nil {
				return err
			}
			action = AuditUserDisabled
			u.DisabledAt = &now
			if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1`, id); err != nil {
				return fmt.Errorf("ending sessions: %w", err)
			}
		} else {
			u.DisabledAt = nil
		}
		u.UpdatedAt = now
		if _, err := tx.ExecContext(ctx, `UPDATE users SET disabled_at = $1, updated_at = $2 WHERE id = $3`, nullMS(u.DisabledAt), ms(now), id); err != nil {
			return fmt.Errorf("updating user: %w", err)
		}
		return s.auditTx(ctx, tx, a, action, "user", id, "", map[string]any{"email": u.Email})
	})
	return u, err
}

// SetPassword replaces a user's password hash and ends every other session
// of that user (keepSessionID, the session making the change, stays).
func (s *Store) SetPassword(ctx context.Context, id, hash, keepSessionID string, a Actor) error {
	if hash == "" {
		return parrain.Invalid("password", "is required")
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		u, err := s.userWhere(ctx, tx, `id = $1`+s.d.forUpdate, id)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3`, hash, ms(s.clock.Now()), id); err != nil {
			return fmt.Errorf("updating password: %w", err)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = $1 AND id <> $2`, id, keepSessionID)
		if err != nil {
			return fmt.Errorf("ending sessions: %w", err)
		}
		ended, _ := res.RowsAffected()
		return s.auditTx(ctx, tx, a, AuditUserPassword, "user", id, "", map[string]any{"email": u.Email, "sessions_ended": ended})
	})
}

// RecordLogin notes a successful sign-in and audits it.
func (s *Store) RecordLogin(ctx context.Context, u User, a Actor) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE users SET last_login_at = $1 WHERE id = $2`, ms(s.clock.Now()), u.ID); err != nil {
			return fmt.Errorf("recording sign-in: %w", err)
		}
		return s.auditTx(ctx, tx, a, AuditSignIn, "user", u.ID, "", nil)
	})
}
