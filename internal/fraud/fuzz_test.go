package fraud

import (
	"net/netip"
	"strings"
	"testing"
	"unicode/utf8"
)

// Run a target with e.g. go test -fuzz=FuzzNormalizeEmail -fuzztime=30s ./internal/fraud/
// Without -fuzz the seeds below run as ordinary tests.

func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{
		"jean.dupont@example.com", "J.E.A.N+x@GoogleMail.com", "a@b.c", "", "@", "a@", "@b.com",
		"a+@b.com", "+@b.com", ".a@b.com", "a..b@b.com", "a@b..com", "a@b.com.", "a@-b.com",
		"δοκιμή@παράδειγμα.δοκιμή", "İ@example.com", "ß@EXAMPLE.com", "\xff@x.com", "a@b.123",
		strings.Repeat("a", 70) + "@x.com", "a@" + strings.Repeat("b.", 130) + "com", "\"q\"@x.com",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n, ok := NormalizeEmail(s)
		if !ok {
			if n != "" {
				t.Fatalf("invalid %q returned %q", s, n)
			}
			return
		}
		if strings.Count(n, "@") != 1 || strings.ContainsAny(n, "+ \t\r\n") || !utf8.ValidString(n) {
			t.Fatalf("NormalizeEmail(%q) = %q: malformed result", s, n)
		}
		again, ok := NormalizeEmail(n)
		if !ok || again != n {
			t.Fatalf("not idempotent: %q → %q → %q (%v)", s, n, again, ok)
		}
		local, domain, _ := strings.Cut(n, "@")
		if domain == "gmail.com" && strings.Contains(local, ".") {
			t.Fatalf("gmail local part kept dots: %q", n)
		}
		_ = RegistrableDomain(domain)
		_ = IsFreeEmailProvider(domain)
		_ = IsDisposableDomain(domain)
		_ = RandomLookingLocalPart(local)
	})
}

func FuzzParseIP(f *testing.F) {
	for _, s := range []string{
		"203.0.113.7", "203.0.113.7:80", "[2001:db8::1]:443", "2001:db8::1", "::ffff:1.2.3.4", "fe80::1%eth0",
		"::", "0.0.0.0", "", " ", "1.2.3", "1.2.3.4/24", "[::1]", "::ffff:1.2.3.4%zone", "1.2.3.4:99999",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, ok := ParseIP(s)
		if !ok {
			if a.IsValid() {
				t.Fatalf("ParseIP(%q) failed but returned %v", s, a)
			}
			return
		}
		if !a.IsValid() || a.Zone() != "" || a.Is4In6() {
			t.Fatalf("ParseIP(%q) = %v: want a valid, unzoned, unmapped address", s, a)
		}
		b, ok := ParseIP(a.String())
		if !ok || a != b {
			t.Fatalf("round trip %q → %v → %v", s, a, b)
		}
		p := NetworkKey(a)
		want := 64
		if a.Is4() {
			want = 24
		}
		if !p.IsValid() || p.Bits() != want || !p.Contains(a) || p != p.Masked() {
			t.Fatalf("NetworkKey(%v) = %v", a, p)
		}
		if q, ok := ParseNetworkKey(s); !ok || q != p {
			t.Fatalf("ParseNetworkKey(%q) = %v, %v; want %v", s, q, ok, p)
		}
		_ = comparableIP(a)
	})
}

func FuzzParsePrefix(f *testing.F) {
	for _, s := range []string{
		"203.0.113.0/24", "198.51.100.7", "2001:db8::/32", "::ffff:203.0.113.0/120", "0.0.0.0/0", "::/0",
		"1.2.3.4/33", "garbage", "", "# comment", "10.0.0.0/8\n", "2001:db8::1/128",
	} {
		f.Add(s, "203.0.113.9")
	}
	f.Fuzz(func(t *testing.T, entry, ip string) {
		ps, err := parsePrefixes("fuzz", []string{entry})
		if err != nil {
			return
		}
		a, ok := ParseIP(ip)
		if !ok {
			return
		}
		p, hit := ps.match(a)
		if hit && !p.Contains(a) {
			t.Fatalf("match(%v) returned %v, which does not contain it", a, p)
		}
		// A listed exact address always matches itself.
		if e, ok := ParseIP(strings.TrimSpace(entry)); ok && !strings.Contains(entry, "/") && !strings.HasPrefix(strings.TrimSpace(entry), "#") {
			if _, hit := ps.match(e); !hit {
				t.Fatalf("listed address %v does not match itself", e)
			}
		}
		// Any address inside a listed prefix matches.
		if pp, err := netip.ParsePrefix(strings.TrimSpace(strings.ToLower(entry))); err == nil && !pp.Addr().Is4In6() {
			if _, hit := ps.match(pp.Masked().Addr().WithZone("")); !hit {
				t.Fatalf("network address of %v does not match", pp)
			}
		}
	})
}

func FuzzUserAgent(f *testing.F) {
	for _, s := range []string{
		"", " ", "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36",
		"Googlebot/2.1", "CUBOT", "cubotbot", "bot", "curl/8.7.1", "facebookexternalhit/1.1", "HeadlessChrome", "\xff\xfe",
		"Mozilla/5.0 (Linux; Android 13; CUBOT P80)",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, ua string) {
		c := ClassifyUserAgent(ua)
		if c < UABrowser || c > UAAutomation {
			t.Fatalf("ClassifyUserAgent(%q) = %d", ua, c)
		}
		if IsBotUserAgent(ua) != (c != UABrowser) {
			t.Fatalf("IsBotUserAgent disagrees with ClassifyUserAgent on %q", ua)
		}
		if strings.TrimSpace(ua) == "" && c != UAEmpty {
			t.Fatalf("blank UA %q classified %v", ua, c)
		}
		_ = shorten(ua)
	})
}
