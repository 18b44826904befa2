package fraud

import (
	"net/netip"
	"testing"
)

func TestNormalizeEmail(t *testing.T) {
	tests := []struct {
		in   string
		want string
		ok   bool
	}{
		{"jean.dupont@example.com", "jean.dupont@example.com", true},
		{"  Jean.Dupont@Example.COM  ", "jean.dupont@example.com", true},
		{"jean.dupont+promo@example.com", "jean.dupont@example.com", true},
		{"jean+a+b@example.com", "jean@example.com", true},
		{"j.e.a.n.dupont@gmail.com", "jeandupont@gmail.com", true},
		{"Jean.Dupont+ref@GoogleMail.com", "jeandupont@gmail.com", true},
		{"jeandupont@googlemail.com", "jeandupont@gmail.com", true},
		{"jean.dupont@gmail.com.", "jeandupont@gmail.com", true},
		{"jean.dupont@outlook.com", "jean.dupont@outlook.com", true}, // dots only matter on Gmail
		{"o'brien@example.ie", "o'brien@example.ie", true},
		{"user_name-1@sub.example.co.uk", "user_name-1@sub.example.co.uk", true},
		{"δοκιμή@παράδειγμα.δοκιμή", "δοκιμή@παράδειγμα.δοκιμή", true},
		{"", "", false},
		{"   ", "", false},
		{"no-at-sign", "", false},
		{"@example.com", "", false},
		{"user@", "", false},
		{"a@b@example.com", "", false},
		{"+tag@example.com", "", false},
		{".jean@example.com", "", false},
		{"jean.@example.com", "", false},
		{"jean.+tag@example.com", "", false},
		{"je..an@example.com", "", false},
		{"jean dupont@example.com", "", false},
		{"\"quoted\"@example.com", "", false},
		{"user@localhost", "", false},
		{"user@[192.0.2.1]", "", false},
		{"user@192.0.2.1", "", false},
		{"user@-example.com", "", false},
		{"user@example-.com", "", false},
		{"user@exa_mple.com", "", false},
		{"user@example..com", "", false},
		{"user@example.com..", "", false},
		{"user\x00@example.com", "", false},
		{"\xff@example.com", "", false},
	}
	for _, tt := range tests {
		got, ok := NormalizeEmail(tt.in)
		if got != tt.want || ok != tt.ok {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q, %v", tt.in, got, ok, tt.want, tt.ok)
		}
		if ok {
			again, ok2 := NormalizeEmail(got)
			if !ok2 || again != got {
				t.Errorf("NormalizeEmail not idempotent on %q: %q, %v", got, again, ok2)
			}
		}
	}
}

func TestSplitEmail(t *testing.T) {
	l, d, ok := SplitEmail("J.Smith+News@GMail.com")
	if !ok || l != "jsmith" || d != "gmail.com" {
		t.Fatalf("SplitEmail = %q, %q, %v", l, d, ok)
	}
	if _, _, ok := SplitEmail("nope"); ok {
		t.Fatal("SplitEmail accepted an invalid address")
	}
}

func TestRegistrableDomain(t *testing.T) {
	tests := map[string]string{
		"example.com":              "example.com",
		"mail.example.com":         "example.com",
		"a.b.c.example.com":        "example.com",
		"EXAMPLE.COM.":             "example.com",
		"bbc.co.uk":                "bbc.co.uk",
		"mail.bbc.co.uk":           "bbc.co.uk",
		"shop.example.com.au":      "example.com.au",
		"x.yopmail.kro.kr":         "kro.kr", // kro.kr is not on the short SLD list: heuristic, not the PSL
		"co.uk":                    "co.uk",
		"localhost":                "localhost",
		"":                         "",
		"privaterelay.appleid.com": "appleid.com",
	}
	for in, want := range tests {
		if got := RegistrableDomain(in); got != want {
			t.Errorf("RegistrableDomain(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIsFreeEmailProvider(t *testing.T) {
	for _, d := range []string{"gmail.com", "GMAIL.com", "yahoo.fr", "yahoo.co.uk", "hotmail.co.uk", "outlook.fr", "gmx.de", "orange.fr", "icloud.com", "privaterelay.appleid.com"} {
		if !IsFreeEmailProvider(d) {
			t.Errorf("IsFreeEmailProvider(%q) = false", d)
		}
	}
	for _, d := range []string{"acme-corp.com", "parrain.dev", "ed.ac.uk", "example.co.uk", ""} {
		if IsFreeEmailProvider(d) {
			t.Errorf("IsFreeEmailProvider(%q) = true", d)
		}
	}
}

func TestParseIPAndNetworkKey(t *testing.T) {
	tests := []struct {
		in      string
		addr    string
		network string
		ok      bool
	}{
		{"203.0.113.7", "203.0.113.7", "203.0.113.0/24", true},
		{" 203.0.113.7 ", "203.0.113.7", "203.0.113.0/24", true},
		{"203.0.113.7:8443", "203.0.113.7", "203.0.113.0/24", true},
		{"::ffff:203.0.113.7", "203.0.113.7", "203.0.113.0/24", true},
		{"2001:db8:1:2:3:4:5:6", "2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64", true},
		{"[2001:db8::1]:443", "2001:db8::1", "2001:db8::/64", true},
		{"fe80::1%eth0", "fe80::1", "fe80::/64", true},
		{"", "", "", false},
		{"not-an-ip", "", "", false},
		{"203.0.113", "", "", false},
		{"203.0.113.7/24", "", "", false},
		{"2001:db8::g", "", "", false},
	}
	for _, tt := range tests {
		a, ok := ParseIP(tt.in)
		if ok != tt.ok || (ok && a.String() != tt.addr) {
			t.Errorf("ParseIP(%q) = %v, %v; want %s, %v", tt.in, a, ok, tt.addr, tt.ok)
			continue
		}
		p, ok := ParseNetworkKey(tt.in)
		if ok != tt.ok || (ok && p.String() != tt.network) {
			t.Errorf("ParseNetworkKey(%q) = %v, %v; want %s", tt.in, p, ok, tt.network)
		}
	}
	if p := NetworkKey(netip.Addr{}); p.IsValid() {
		t.Errorf("NetworkKey(zero) = %v, want invalid", p)
	}
}

func TestComparableIP(t *testing.T) {
	for in, want := range map[string]bool{
		"203.0.113.7": true, "2a01:e0a::1": true, "10.0.0.1": false, "192.168.1.1": false,
		"127.0.0.1": false, "0.0.0.0": false, "::1": false, "fe80::1": false, "fd00::1": false, "224.0.0.1": false,
	} {
		a, _ := ParseIP(in)
		if got := comparableIP(a); got != want {
			t.Errorf("comparableIP(%s) = %v, want %v", in, got, want)
		}
	}
}

func TestClassifyUserAgent(t *testing.T) {
	tests := []struct {
		ua   string
		want UserAgentClass
	}{
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 19_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/19.1 Mobile/15E148 Safari/604.1", UABrowser},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36", UABrowser},
		{"Mozilla/5.0 (Linux; Android 13; CUBOT P80) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/139.0.0.0 Mobile Safari/537.36", UABrowser},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 19_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/520.0.0.38.100]", UABrowser},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 19_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 402.0.0.32.76", UABrowser},
		{"", UAEmpty},
		{"   ", UAEmpty},
		{"Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)", UAPreview},
		{"facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)", UAPreview},
		{"WhatsApp/2.25.21.80 A", UAPreview},
		{"Twitterbot/1.0", UAPreview},
		{"LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)", UAPreview},
		{"Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)", UAPreview},
		{"TelegramBot (like TwitterBot)", UAPreview},
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/142.0.0.0 Safari/537.36", UAAutomation},
		{"curl/8.7.1", UAAutomation},
		{"Wget/1.21.4", UAAutomation},
		{"python-requests/2.32.3", UAAutomation},
		{"Go-http-client/2.0", UAAutomation},
		{"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)", UACrawler},
		{"Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)", UACrawler},
		{"Mozilla/5.0 (compatible; YandexBot/3.0)", UACrawler},
		{"Baiduspider+(+http://www.baidu.com/search/spider.htm)", UACrawler},
		{"SomeCrawler/1.0", UACrawler},
		{"Mozilla/5.0 (compatible; AhrefsBot/7.0)", UACrawler},
	}
	for _, tt := range tests {
		got := ClassifyUserAgent(tt.ua)
		if got != tt.want {
			t.Errorf("ClassifyUserAgent(%q) = %v, want %v", tt.ua, got, tt.want)
		}
		if bot := IsBotUserAgent(tt.ua); bot != (tt.want != UABrowser) {
			t.Errorf("IsBotUserAgent(%q) = %v", tt.ua, bot)
		}
	}
	for c := UABrowser; c <= UAAutomation; c++ {
		if c.String() == "unknown" {
			t.Errorf("class %d has no name", c)
		}
	}
}

func TestRandomLookingLocalPart(t *testing.T) {
	random := []string{
		"x7qk2mz9wpl",                      // scattered digits, no vowels
		"a3f9e1c07b",                       // hex
		"5f4dcc3b5aa765d61d8327deb882cf99", // hash
		"k8d2jx9q",                         // short but all noise
		"qwrtzpsdfg",                       // consonant soup
		"zxcvbnmlkj",                       // keyboard walk
		"dx7q9kz2mp",                       // relay-style token
		"X7QK2MZ9WPL",                      // case does not matter
		"x7qk2mz9wpl+promo",                // the tag is ignored
		"xk7q2m",                           // short, no vowel, digits scattered
		"gfpfh5635",                        // consonants and a digit suffix
		"zqxw4821",                         // the same, shorter
		"tkrbvm",                           // six letters without a vowel
	}
	human := []string{
		"jean.dupont", "marie92", "j.smith+news", "jschmidt", "john.smith1985", "lucas1987", "jdupont",
		"krzysztof", "wlodzimierz", "przemyslaw", "user12345", "0612345678", "mx2000", "jd1985paris",
		"marie.dupont.1984", "lolo1234", "b4ssm4n", "ab", "", "élodie.martin", "zaza_69", "gamerpro42",
		"van.der.berg", "nguyen.thanh.huong", "schwarzschild", "a.b.c.d.e.f",
		"jmb1985", "tj1990", "mr2000", "h4ck3r", "l33tsp34k", "nathan42", "sky2020", "bjrk",
	}
	for _, s := range random {
		if !RandomLookingLocalPart(s) {
			t.Errorf("RandomLookingLocalPart(%q) = false, want true (points %d)", s, randomnessPoints(s))
		}
	}
	for _, s := range human {
		if RandomLookingLocalPart(s) {
			t.Errorf("RandomLookingLocalPart(%q) = true, want false (points %d)", s, randomnessPoints(s))
		}
	}
}

func TestNameHelpers(t *testing.T) {
	for _, tt := range []struct{ a, b string }{
		{"Jean Dupont", "jean DUPONT"},
		{"Dupont, Jean", "Jean Dupont"},
		{"Élodie Léger", "elodie leger"},
		{"Seán O'Brien", "Sean OBrien"},
	} {
		if na, nb := normalizeName(tt.a), normalizeName(tt.b); na == "" || na != nb {
			t.Errorf("normalizeName(%q)=%q, normalizeName(%q)=%q; want equal", tt.a, na, tt.b, nb)
		}
	}
	for _, s := range []string{"Jean", "Al Bo", "", "  "} {
		if n := normalizeName(s); n != "" {
			t.Errorf("normalizeName(%q) = %q, want \"\" (too short to compare)", s, n)
		}
	}
	if got := nameWords("Jean-Luc O'Brien"); len(got) != 3 || got[0] != "jean" || got[2] != "obrien" {
		t.Errorf("nameWords = %q", got)
	}
	if a, b := normalizeAddress("12, Rue de la Paix  PARIS"), normalizeAddress("12 rue de la paix, Paris"); a != b {
		t.Errorf("normalizeAddress: %q != %q", a, b)
	}
	if localCore("jean.dupont84") != "jeandupont" || localTokens("dupont.jean") != localTokens("jean_dupont2") {
		t.Error("localCore/localTokens do not fold separators and digits")
	}
}

func TestOwnNameAddress(t *testing.T) {
	tests := []struct {
		local, name string
		want        bool
	}{
		{"jean.dupont84", "Jean Dupont", true},
		{"dupontj", "Jean Dupont", true},
		{"jdupont", "Jean Dupont", true},
		{"jeanne92", "Jeanne Petit", true},
		{"helenemuller", "Hélène Müller", true},
		{"tigerlily77", "Marie Curie", false},
		{"xk7q2m", "Marie Curie", false},
		{"li", "Li Wang", false}, // words under 3 letters never match alone
		{"wang.li", "Li Wang", true},
		{"marie", "", false},
		{"", "Marie Curie", false},
	}
	for _, tt := range tests {
		if got := OwnNameAddress(tt.local, tt.name); got != tt.want {
			t.Errorf("OwnNameAddress(%q, %q) = %v, want %v", tt.local, tt.name, got, tt.want)
		}
	}
}
