package fraud

import (
	"errors"
	"net/netip"
	"testing"
)

func TestDisposableListSanity(t *testing.T) {
	if n := DisposableDomainCount(); n != 8335 {
		t.Errorf("embedded list has %d domains, want 8335 (update data/README.md when refreshing it)", n)
	}
	for _, d := range []string{"gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "yahoo.com", "icloud.com", "orange.fr", "protonmail.com"} {
		if IsDisposableDomain(d) {
			t.Errorf("mainstream provider %s is on the disposable list", d)
		}
	}
}

func TestIsDisposableDomain(t *testing.T) {
	tests := map[string]bool{
		"mailinator.com":          true,
		"MAILINATOR.COM.":         true,
		"eu.mailinator.com":       true, // subdomain of a listed domain
		"a.b.mailinator.com":      true,
		"yopmail.fr":              true,
		"yopmail.kro.kr":          true, // three-label entry
		"x.yopmail.kro.kr":        true,
		"kro.kr":                  false, // the parent of an entry is not itself listed
		"com":                     false,
		"mailinator-fan-club.com": false,
		"mailinator.com.evil.net": false,
		"gmail.com":               false,
		"":                        false,
	}
	for d, want := range tests {
		if got := IsDisposableDomain(d); got != want {
			t.Errorf("IsDisposableDomain(%q) = %v, want %v", d, got, want)
		}
	}
}

func TestGlobMatch(t *testing.T) {
	tests := []struct {
		pattern, s string
		want       bool
	}{
		{"*@competitor.example", "bob@competitor.example", true},
		{"*@competitor.example", "bob@competitor.example.org", false},
		{"fraud*@gmail.com", "fraudster@gmail.com", true},
		{"fraud*@gmail.com", "fraud@gmail.com", true},
		{"fraud*@gmail.com", "afraud@gmail.com", false},
		{"*", "", true},
		{"", "", true},
		{"", "a", false},
		{"a*b*c", "aXXbYYc", true},
		{"a*b*c", "aXXbYY", false},
		{"**@x.com", "a@x.com", true},
		{"exact@x.com", "exact@x.com", true},
	}
	for _, tt := range tests {
		if got := globMatch(tt.pattern, tt.s); got != tt.want {
			t.Errorf("globMatch(%q, %q) = %v, want %v", tt.pattern, tt.s, got, tt.want)
		}
	}
}

func TestCompileListsErrors(t *testing.T) {
	tests := []struct {
		name  string
		lists Lists
	}{
		{"bad CIDR", Lists{BlockedIPs: []string{"203.0.113.0/33"}}},
		{"bad IP", Lists{DatacenterRanges: []string{"not-an-ip"}}},
		{"bad Tor entry", Lists{TorExitRanges: []string{"1.2.3"}}},
		{"bad country", Lists{BlockedCountries: []string{"France"}}},
	}
	for _, tt := range tests {
		_, err := NewEngine(Policy{HoldAt: 50, RejectAt: 80, Lists: tt.lists})
		if !errors.Is(err, ErrInvalidList) {
			t.Errorf("%s: err = %v, want ErrInvalidList", tt.name, err)
		}
	}
	// Comments and blank lines are ignored.
	if _, err := NewEngine(Policy{HoldAt: 50, RejectAt: 80, Lists: Lists{BlockedIPs: []string{"", "# office", " 203.0.113.0/24 "}}}); err != nil {
		t.Errorf("comments and blanks rejected: %v", err)
	}
}

func TestPrefixSet(t *testing.T) {
	ps, err := parsePrefixes("test", []string{"203.0.113.0/24", "198.51.100.7", "2001:db8::/32", "::ffff:192.0.2.0/120", "203.0.113.128/25"})
	if err != nil {
		t.Fatal(err)
	}
	tests := map[string]bool{
		"203.0.113.1":       true,
		"203.0.114.1":       false,
		"198.51.100.7":      true,
		"198.51.100.8":      false,
		"2001:db8:ff::1":    true,
		"2001:db9::1":       false,
		"192.0.2.44":        true, // IPv4-mapped range was unmapped
		"::ffff:192.0.2.44": true,
	}
	for s, want := range tests {
		a, _ := ParseIP(s)
		if _, got := ps.match(a); got != want {
			t.Errorf("match(%s) = %v, want %v", s, got, want)
		}
	}
	if _, hit := ps.match(netip.Addr{}); hit {
		t.Error("zero address matched")
	}
}

func TestCouponMatch(t *testing.T) {
	def, err := compileLists(Lists{})
	if err != nil {
		t.Fatal(err)
	}
	custom, err := compileLists(Lists{CouponDomains: []string{"mydeals.example", "forum.example/codes"}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name             string
		l                *compiledLists
		referer, landing string
		want             bool
	}{
		{"referer host", def, "https://www.retailmenot.com/view/shop.example", "", true},
		{"referer subdomain", def, "https://m.slickdeals.net/f/123", "", true},
		{"honey extension site", def, "https://www.joinhoney.com/shop/x", "", true},
		{"utm_source brand", def, "", "https://shop.example/r/X?utm_source=retailmenot", true},
		{"utm_source domain", def, "", "https://shop.example/r/X?utm_source=dealabs.com", true},
		{"generic utm_source word", def, "", "https://shop.example/r/X?utm_source=offers", false},
		{"path entry", def, "https://www.reddit.com/r/referralcodes/comments/abc", "", true},
		{"other path", def, "https://www.reddit.com/r/france/", "", false},
		{"organic", def, "https://l.facebook.com/", "https://shop.example/r/X?utm_source=referral", false},
		{"lookalike host", def, "https://retailmenot.com.evil.example/", "", false},
		{"garbage", def, "::::", "%%%", false},
		{"custom replaces default", custom, "https://www.retailmenot.com/", "", false},
		{"custom host", custom, "https://mydeals.example/x", "", true},
		{"custom path", custom, "https://forum.example/codes/shop", "", true},
	}
	for _, tt := range tests {
		if got := tt.l.couponMatch(tt.referer, tt.landing) != ""; got != tt.want {
			t.Errorf("%s: couponMatch(%q, %q) = %v, want %v", tt.name, tt.referer, tt.landing, got, tt.want)
		}
	}
	if d := DefaultCouponDomains(); len(d) == 0 || &d[0] == &defaultCouponDomains[0] {
		t.Error("DefaultCouponDomains must return a non-empty copy")
	}
}
