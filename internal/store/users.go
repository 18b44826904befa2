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

// User is a console user.
type User struct {
	ID           string           `json:"id"`
	Email        string           `json:"email"`
	Name         string           `json:"name"`
	Role         parrain.UserRole `json:"role"`
	PasswordHash string           `json:"-"`
	CreatedAt    time.Time        `json:"created_at"`
	UpdatedAt    time.Time        `json:"updated_at"`
	LastLoginAt  *time.Time       `json:"last_login_at,omitempty"`
	DisabledAt   *time.Time       `json:"disabled_at,omitempty"`
}

// Active reports whether the user may sign in.
func (u User) Active() bool { return u.DisabledAt == nil }

// NewUser is a user to create. PasswordHash is computed by the caller (the
// console's argon2id hasher); the store never sees a password.
type NewUser struct {
	Email        string
	Name         string
	Role         parrain.UserRole
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

// setupKey is the settings row claimed by the first user ever created, so
// that the one-time setup page cannot create a second owner, even when two
// browsers submit it at once (the row's primary key serialises them).
const setupKey = "console.first_user"

// ClaimSetup records id as the first user ever created and reports whether
// this call claimed it (false: the setup was claimed before).
func (t *Tx) ClaimSetup(ctx context.Context, id string) (bool, error) {
	res, err := t.tx.ExecContext(ctx, `INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT DO NOTHING`, setupKey, id)
	if err != nil {
		return false, fmt.Errorf("claiming setup: %w", err)
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// CountUsers counts console users, in the transaction.
func (t *Tx) CountUsers(ctx context.Context) (int, error) {
	var n int
	if err := t.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users`).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting users: %w", err)
	}
	return n, nil
}

// InsertUser stores a new console user with id (NewID("usr") when empty)
// at now. An email already in use answers conflict on field email.
func (t *Tx) InsertUser(ctx context.Context, id string, n NewUser, now time.Time) (User, error) {
	if id == "" {
		id = newID("usr")
	}
	res, err := t.tx.ExecContext(ctx, `INSERT INTO users (id, email, name, role, password_hash, created_at, updated_at)
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

// UserForUpdate returns a user, locked until the transaction ends.
func (t *Tx) UserForUpdate(ctx context.Context, id string) (User, error) {
	return t.s.userWhere(ctx, t.tx, `id = $1`+t.s.d.forUpdate, id)
}

// OtherActiveUsersWithRole counts the active users holding role, other
// than user id.
func (t *Tx) OtherActiveUsersWithRole(ctx context.Context, id string, role parrain.UserRole) (int, error) {
	var n int
	if err := t.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM users WHERE role = $1 AND disabled_at IS NULL AND id <> $2`, role, id).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting %s users: %w", role, err)
	}
	return n, nil
}

// SetUserRole stores a user's role.
func (t *Tx) SetUserRole(ctx context.Context, id string, role parrain.UserRole, now time.Time) error {
	if _, err := t.tx.ExecContext(ctx, `UPDATE users SET role = $1, updated_at = $2 WHERE id = $3`, role, ms(now), id); err != nil {
		return fmt.Errorf("updating role: %w", err)
	}
	return nil
}

// SetUserDisabledAt stores when a user was disabled (nil: enabled).
func (t *Tx) SetUserDisabledAt(ctx context.Context, id string, at *time.Time, now time.Time) error {
	if _, err := t.tx.ExecContext(ctx, `UPDATE users SET disabled_at = $1, updated_at = $2 WHERE id = $3`, nullMS(at), ms(now), id); err != nil {
		return fmt.Errorf("updating user: %w", err)
	}
	return nil
}

// SetUserPasswordHash stores a user's password hash.
func (t *Tx) SetUserPasswordHash(ctx context.Context, id, hash string, now time.Time) error {
	if _, err := t.tx.ExecContext(ctx, `UPDATE users SET password_hash = $1, updated_at = $2 WHERE id = $3`, hash, ms(now), id); err != nil {
		return fmt.Errorf("updating password: %w", err)
	}
	return nil
}

// SetUserLastLogin stores the time of a user's last sign-in.
func (t *Tx) SetUserLastLogin(ctx context.Context, id string, at time.Time) error {
	if _, err := t.tx.ExecContext(ctx, `UPDATE users SET last_login_at = $1 WHERE id = $2`, ms(at), id); err != nil {
		return fmt.Errorf("recording sign-in: %w", err)
	}
	return nil
}
