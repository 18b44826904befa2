package parrain

import "testing"

func TestNameKey(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Alice Martin", "alice martin"},
		{"  MARTIN,  alice ", "alice martin"},
		{"Chloé Bernard", "bernard chloe"},
		{"Inès García-López", "garcia ines lopez"},
		{"Seán O'Brien", "obrien sean"},
		{"Łukasz Żółć", "lukasz zolc"},
		{"Jörg Straße", "jorg strasse"},
		{"Alice", ""},
		{"", ""},
		{"   ---  ", ""},
		{"李 小龙", "小龙 李"},
	}
	for _, tc := range tests {
		if got := NameKey(tc.in); got != tc.want {
			t.Errorf("NameKey(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestParseLookup(t *testing.T) {
	q, err := ParseLookup(" Alice.Martin+news@GMAIL.com ")
	if err != nil || q.Email != "alicemartin@gmail.com" || q.NameKey != "" {
		t.Errorf("email: %+v %v", q, err)
	}
	q, err = ParseLookup("alice MARTIN")
	if err != nil || q.NameKey != "alice martin" || q.Email != "" {
		t.Errorf("name: %+v %v", q, err)
	}
	for _, bad := range []string{"", "Alice", "bad@", "@x"} {
		if _, err := ParseLookup(bad); err == nil {
			t.Errorf("ParseLookup(%q) accepted", bad)
		} else {
			wantInvalid(t, err, "query")
		}
	}
}

func TestNamesForDisplay(t *testing.T) {
	if got := ShortName("alice de la martin"); got != "alice M." {
		t.Errorf("ShortName = %q", got)
	}
	if got := ShortName("Émile"); got != "Émile" {
		t.Errorf("ShortName single = %q", got)
	}
	if got := ShortName("Chloé élodie"); got != "Chloé É." {
		t.Errorf("ShortName accent = %q", got)
	}
	if FirstName(" Bob  Smith") != "Bob" || FirstName("") != "" {
		t.Error("FirstName")
	}
	if got := MaskEmail("bob@example.org"); got != "b•••@example.org" {
		t.Errorf("MaskEmail = %q", got)
	}
	if MaskEmail("nope") != "" {
		t.Error("MaskEmail of a non-address")
	}
}
