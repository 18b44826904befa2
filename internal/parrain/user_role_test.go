package parrain

import "testing"

func TestUserRoleOrder(t *testing.T) {
	cases := []struct {
		r, min UserRole
		want   bool
	}{
		{UserRoleOwner, UserRoleOwner, true},
		{UserRoleOwner, UserRoleManager, true},
		{UserRoleOwner, UserRoleAnalyst, true},
		{UserRoleManager, UserRoleOwner, false},
		{UserRoleManager, UserRoleManager, true},
		{UserRoleManager, UserRoleAnalyst, true},
		{UserRoleAnalyst, UserRoleOwner, false},
		{UserRoleAnalyst, UserRoleManager, false},
		{UserRoleAnalyst, UserRoleAnalyst, true},
		{"root", UserRoleAnalyst, false},
		{"", UserRoleAnalyst, false},
		{"Owner", UserRoleAnalyst, false}, // names are stored lower case
		{UserRoleOwner, "root", false},    // an unknown requirement grants nothing
		{UserRoleOwner, "", false},
	}
	for _, c := range cases {
		if got := c.r.AtLeast(c.min); got != c.want {
			t.Errorf("%q.AtLeast(%q) = %v, want %v", c.r, c.min, got, c.want)
		}
	}
	want := []UserRole{"analyst", "manager", "owner"}
	if len(UserRoles) != len(want) {
		t.Fatalf("UserRoles = %v", UserRoles)
	}
	for i, r := range UserRoles {
		if r != want[i] || !r.Valid() {
			t.Errorf("UserRoles[%d] = %q (valid %v), want %q", i, r, r.Valid(), want[i])
		}
	}
}

func TestParseUserRole(t *testing.T) {
	for _, c := range []struct {
		in   string
		want UserRole
	}{
		{"owner", UserRoleOwner},
		{" Manager ", UserRoleManager},
		{"ANALYST", UserRoleAnalyst},
		{"", ""},
		{"admin", ""},
		{"owners", ""},
	} {
		got, err := ParseUserRole("role", c.in)
		if got != c.want {
			t.Errorf("%q: %q, want %q", c.in, got, c.want)
		}
		if c.want != "" {
			if err != nil {
				t.Errorf("%q: %v", c.in, err)
			}
			continue
		}
		if pe := AsError(err); pe == nil || pe.Code != CodeInvalid || pe.Field != "role" || pe.Message != "must be owner, manager or analyst" {
			t.Errorf("%q: %#v, want invalid on role", c.in, err)
		}
	}
}
