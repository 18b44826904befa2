package parrain

import "strings"

// UserRole is what a console user may do. Roles are ordered: each one can
// do everything the ones below it can. The store keeps the role's name;
// the ordering and what each role grants are decided here.
type UserRole string

// Console roles.
const (
	// UserRoleAnalyst reads everything (KPIs, participants, referrals,
	// rewards, audit log) and changes nothing.
	UserRoleAnalyst UserRole = "analyst"
	// UserRoleManager also runs the program: creates and edits programs,
	// approves and rejects rewards, edits branding and the email sender.
	UserRoleManager UserRole = "manager"
	// UserRoleOwner also manages console users and API keys. An
	// installation always keeps one active owner (internal/access).
	UserRoleOwner UserRole = "owner"
)

// UserRoles lists the roles from the least to the most powerful.
var UserRoles = []UserRole{UserRoleAnalyst, UserRoleManager, UserRoleOwner}

// rank is the role's place in UserRoles from 1, or 0 for an unknown role.
func (r UserRole) rank() int {
	for i, x := range UserRoles {
		if x == r {
			return i + 1
		}
	}
	return 0
}

// Valid reports whether r names a role.
func (r UserRole) Valid() bool { return r.rank() > 0 }

// AtLeast reports whether r grants everything min grants. An unknown role
// grants nothing, and nothing is at least an unknown role.
func (r UserRole) AtLeast(min UserRole) bool {
	return r.Valid() && min.Valid() && r.rank() >= min.rank()
}

// ParseUserRole reads a role name (trimmed, any case); anything else is
// invalid on field.
func ParseUserRole(field, s string) (UserRole, error) {
	r := UserRole(strings.ToLower(strings.TrimSpace(s)))
	if !r.Valid() {
		return "", Invalid(field, "must be owner, manager or analyst")
	}
	return r, nil
}
