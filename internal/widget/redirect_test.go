package widget

import (
	"net/http/httptest"
	"testing"
)

func TestIsBot(t *testing.T) {
	cases := map[string]bool{
		"": true,
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36": false,
		"Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148 Safari/604.1":      false,
		"Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)":                                    true,
		"facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)":                                   true,
		"Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)":                                                  true,
		"WhatsApp/2.23.20.0": true,
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0 Safari/537.36": true,
		"curl/8.5.0":           true,
		"python-requests/2.31": true,
		"Go-http-client/1.1":   true,
		"Twitterbot/1.0":       true,
		"LinkedInBot/1.0 (compatible; Mozilla/5.0)": true,
	}
	for ua, want := range cases {
		if got := IsBot(ua); got != want {
			t.Errorf("IsBot(%q) = %v, want %v", ua, got, want)
		}
	}
}

func TestIsPrefetch(t *testing.T) {
	cases := []struct {
		header, value string
		want          bool
	}{
		{"Sec-Purpose", "prefetch", true},
		{"Sec-Purpose", "prefetch;prerender", true},
		{"Purpose", "prefetch", true},
		{"X-Moz", "prefetch", true},
		{"X-Purpose", "preview", true},
		{"Accept", "text/html", false},
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", "/r/ABC", nil)
		r.Header.Set(c.header, c.value)
		if got := IsPrefetch(r); got != c.want {
			t.Errorf("%s: %s → %v, want %v", c.header, c.value, got, c.want)
		}
	}
}

func TestWithRef(t *testing.T) {
	cases := map[string]string{
		"https://shop.example/":                    "https://shop.example/?ref=ABC2345",
		"https://shop.example/join?utm=mail":       "https://shop.example/join?ref=ABC2345&utm=mail",
		"https://shop.example/join?ref=OLD#signup": "https://shop.example/join?ref=ABC2345#signup",
	}
	for in, want := range cases {
		if got := withRef(in, "ABC2345"); got != want {
			t.Errorf("withRef(%q) = %q, want %q", in, got, want)
		}
	}
}
