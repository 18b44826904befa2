package fraud

import (
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestClassifyUserAgentPrecedence(t *testing.T) {
	tests := []struct {
		ua   string
		want UserAgentClass
	}{
		// A link preview wins over anything else in the header.
		{"WhatsApp/2.23 curl/8.7.1", UAPreview},
		{"Mozilla/5.0 (compatible; Googlebot/2.1) facebookexternalhit/1.1", UAPreview},
		{"Mastodon/4.2.1 (http.rb/5.1.1; +https://mastodon.social/)", UAPreview},
		// Automation wins over crawler words.
		{"Mozilla/5.0 (compatible; Googlebot/2.1) HeadlessChrome/120", UAAutomation},
		{"Scrapy/2.11 (+https://scrapy.org)", UAAutomation},
		{"PostmanRuntime/7.39.0", UAAutomation},
		{"Java/17.0.2", UAAutomation},
		{"python/3.12 aiohttp/3.9", UAAutomation},
		{"Mozilla/5.0 (X11; Linux) Selenium", UAAutomation},
		// Scripting tools count only when announced as name/version.
		{"Mozilla/5.0 (Windows NT 10.0) python", UABrowser},
		{"Mozilla/5.0 (Macintosh) Curl", UABrowser},
		// Crawler words and "bot" anywhere in a token, the Cubot phone excepted.
		{"Mozilla/5.0 (compatible; Bytespider; spider-feedback@bytedance.com)", UACrawler},
		{"Chrome-Lighthouse", UACrawler},
		{"MyRobot/1.0", UACrawler},
		{"Mozilla/5.0 (Linux; Android 12; CUBOT KINGKONG 7) Chrome/120 Mobile", UABrowser},
		{"Mozilla/5.0 (Linux; Android 12; cubot-x50) Chrome/120 cubotbot", UACrawler},
		// Tokens of one or two letters are never markers.
		{"bo t", UABrowser},
		{"\t Mozilla/5.0 \n", UABrowser},
		{"\x00\x01\x02", UABrowser},
	}
	for _, tt := range tests {
		if got := ClassifyUserAgent(tt.ua); got != tt.want {
			t.Errorf("ClassifyUserAgent(%q) = %s, want %s", tt.ua, got, tt.want)
		}
	}
	if s := UserAgentClass(42).String(); s != "unknown" {
		t.Errorf("String of an unknown class = %q", s)
	}
	names := map[string]bool{}
	for c := UABrowser; c <= UAAutomation; c++ {
		if names[c.String()] {
			t.Errorf("two classes are named %q", c)
		}
		names[c.String()] = true
	}
}

func TestRandomnessPoints(t *testing.T) {
	tests := []struct {
		local string
		want  int
	}{
		{"abcd", 0},               // fewer than 5 letters and digits
		{"0612345678", 0},         // a phone number
		{"élodie7xqz", 0},         // non-ASCII is never judged
		{"xkcd7q", 3},             // short, vowelless, digits: random whatever the length
		{"bcdfg", 0},              // five letters without digits: too short for the vowelless rule
		{"bcdfgh", 3},             // six without digits: random
		{"b4ssm4n", 0},            // leetspeak reads as a word
		{"marie.7a", 0},           // 7 letters and digits: too short for the points
		{"marie.77ab", 1},         // one digit run followed by a letter
		{"a1b2c3d4", 3},           // digits scattered between letters
		{"strengths", 2},          // a six-consonant run (ngths) in a real word: 2 points, under 3
		{"jean5bcdfgx", 2 + 1},    // a digit before a letter and a six-consonant run
		{"aeiouaei", 0},           // all vowels
		{"mnbvcxzl9", 3},          // no vowel, digits next to it
		{"x7qk2mz9wpl+tag", 3},    // the tag is dropped first
		{"X7QK2MZ9WPL@ex.com", 3}, // so is a domain
	}
	for _, tt := range tests {
		if got := randomnessPoints(tt.local); got != tt.want {
			t.Errorf("randomnessPoints(%q) = %d, want %d", tt.local, got, tt.want)
		}
		if RandomLookingLocalPart(tt.local) != (tt.want >= 3) {
			t.Errorf("RandomLookingLocalPart(%q) disagrees with its %d points", tt.local, tt.want)
		}
	}
}

func TestDomainHelpers(t *testing.T) {
	for _, tt := range []struct {
		d    string
		want string
	}{
		{"mailinator.com", "mailinator.com"},
		{"a.b.mailinator.com", "mailinator.com"},
		{"gmail.com", ""},            // a parent that is a bare TLD never matches
		{"mailinator", "mailinator"}, // the name itself matches when listed
		{"notmailinator.com", ""},
		{"", ""},
	} {
		set := map[string]struct{}{"mailinator.com": {}, "com": {}, "mailinator": {}}
		if got := domainInSet(tt.d, set); got != tt.want {
			t.Errorf("domainInSet(%q) = %q, want %q", tt.d, got, tt.want)
		}
	}
	if domainInSet("x.mailinator.com", nil) != "" {
		t.Error("empty set matched")
	}
	for in, want := range map[string]bool{" MAILINATOR.com. ": true, "eu.mailinator.com": true, "gmail.com": false, "": false} {
		if got := IsDisposableDomain(in); got != want {
			t.Errorf("IsDisposableDomain(%q) = %v, want %v", in, got, want)
		}
	}
	if n := DisposableDomainCount(); n < 1000 {
		t.Errorf("embedded disposable list has %d entries", n)
	}
	d := DefaultCouponDomains()
	d[0] = "changed.example"
	if DefaultCouponDomains()[0] == "changed.example" {
		t.Error("DefaultCouponDomains returned the package's own slice")
	}
}

// FuzzRandomLookingLocalPart checks the documented invariants of the
// heuristic on arbitrary strings: case and a +tag never matter, digits
// alone and short parts are never random, and nothing panics.
func FuzzRandomLookingLocalPart(f *testing.F) {
	for _, s := range []string{"x7qk2mz9wpl", "jean.dupont", "marie92", "b4ssm4n", "0612345678", "a+b", "++", "@", "é7x", "\xff\xfe", "bcdfgh", strings.Repeat("z9", 40)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got := RandomLookingLocalPart(s)
		if p := randomnessPoints(s); p < 0 {
			t.Fatalf("negative points %d for %q", p, s)
		}
		if RandomLookingLocalPart(strings.ToUpper(s)) != got && utf8.ValidString(s) && isASCII(s) {
			t.Fatalf("case changed the verdict for %q", s)
		}
		if !strings.ContainsAny(s, "+@") && RandomLookingLocalPart(s+"+promo") != got {
			t.Fatalf("a +tag changed the verdict for %q", s)
		}
		alnum, digits := 0, 0
		for i := 0; i < len(s); i++ {
			c := s[i] | 0x20
			if c >= 'a' && c <= 'z' {
				alnum++
			}
			if s[i] >= '0' && s[i] <= '9' {
				alnum++
				digits++
			}
			if s[i] == '+' || s[i] == '@' {
				break
			}
		}
		if got && (alnum < 5 || alnum == digits) {
			t.Fatalf("%q called random with %d letters and digits (%d digits)", s, alnum, digits)
		}
	})
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// FuzzGlobMatch checks globMatch against a regular expression built from
// the same pattern.
func FuzzGlobMatch(f *testing.F) {
	for _, c := range [][2]string{
		{"*@competitor.example", "bob@competitor.example"}, {"fraud*@gmail.com", "fraudster@gmail.com"},
		{"a*b*c", "abc"}, {"a*b*c", "acb"}, {"*", ""}, {"", ""}, {"", "a"}, {"**", "x"}, {"a*", "a"},
		{"*a", "ba"}, {"*aa*", "abab"}, {"é*", "éclair"}, {"x.y", "xzy"},
	} {
		f.Add(c[0], c[1])
	}
	f.Fuzz(func(t *testing.T, pattern, s string) {
		if !utf8.ValidString(pattern) || !utf8.ValidString(s) || len(pattern) > 64 || len(s) > 256 {
			t.Skip()
		}
		parts := strings.Split(pattern, "*")
		for i, p := range parts {
			parts[i] = regexp.QuoteMeta(p)
		}
		re := regexp.MustCompile(`(?s)\A` + strings.Join(parts, ".*") + `\z`)
		if got, want := globMatch(pattern, s), re.MatchString(s); got != want {
			t.Fatalf("globMatch(%q, %q) = %v, regexp says %v", pattern, s, got, want)
		}
	})
}

// FuzzSignals runs every detector over referrals whose free-text fields
// come from the fuzzer: no panic, each code at most once and known to the
// catalogue, every reason non-empty and valid UTF-8 when the inputs are,
// and a decision whose score stays in 0..100.
func FuzzSignals(f *testing.F) {
	f.Add("marie.curie@outlook.com", "Marie Curie", uaIPhone, "198.51.100.20", "https://shop.example/?gclid=1", "https://www.retailmenot.com/x", "1 Main St")
	f.Add("jean.dupont+x@gmail.com", "Dupont Jean", uaChromeWin, "203.0.113.10:80", "?fbclid=1&utm_medium=cpc", "", "12 rue de la Paix, Paris")
	f.Add("x7qk2mz9wpl@mailinator.com", "", "curl/8", "::1", "%zz?", "http://[::1", "")
	f.Add("@", "\xff", "\xff", "[::ffff:1.2.3.4]:1", "https://a/?utm_source=slickdeals", "https://reddit.com/r/referralcodes", strings.Repeat("é", 100))
	eng, err := NewEngine(DefaultPolicy())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, email, name, ua, ip, landing, referer, address string) {
		r := cleanReferral()
		r.Friend.Email, r.Friend.Name, r.Friend.UserAgent, r.Friend.IP, r.Friend.Address = email, name, ua, ip, address
		r.Click = &Click{At: t0, IP: ip, UserAgent: ua, Referer: referer, LandingURL: landing}
		r.RecentClicks = append(r.RecentClicks, repeat(12, *r.Click)...)
		valid := utf8.ValidString(email + name + ua + ip + landing + referer + address)
		seen := map[Code]bool{}
		for _, s := range eng.Signals(&r) {
			if seen[s.Code] {
				t.Fatalf("%s emitted twice", s.Code)
			}
			seen[s.Code] = true
			if _, ok := Info(s.Code); !ok {
				t.Fatalf("unknown code %s", s.Code)
			}
			if s.Reason == "" || (valid && !utf8.ValidString(s.Reason)) {
				t.Fatalf("%s reason %q", s.Code, s.Reason)
			}
		}
		d := eng.Decide(&r)
		if d.Score < 0 || d.Score > 100 || d.RawScore < 0 || d.RawScore > 100 {
			t.Fatalf("scores %d/%d out of range", d.Score, d.RawScore)
		}
		if d.Action.severity() == 0 && d.Action != ActionApprove {
			t.Fatalf("unknown action %q", d.Action)
		}
	})
}

// FuzzNormalizeName: the folded form of a name is stable (folding it again
// gives it back) and order-free (the words in reverse give the same form).
func FuzzNormalizeName(f *testing.F) {
	for _, s := range []string{"Jean Dupont", "Dupont, Jean", "Seán O'Brien", "Élodie Léger", "a b", "İlker Çelik", "ǅemal Ǆ", "  ", "x y z w", "Straße Groß"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		if !utf8.ValidString(name) {
			t.Skip()
		}
		n := normalizeName(name)
		if n == "" {
			return
		}
		if again := normalizeName(n); again != n {
			t.Fatalf("normalizeName(%q) = %q, then %q", name, n, again)
		}
		w := strings.Fields(n)
		for i, j := 0, len(w)-1; i < j; i, j = i+1, j-1 {
			w[i], w[j] = w[j], w[i]
		}
		if rev := normalizeName(strings.Join(w, " ")); rev != n {
			t.Fatalf("reversed words of %q give %q, want %q", name, rev, n)
		}
	})
}
