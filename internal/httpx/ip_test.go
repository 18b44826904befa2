package httpx

import (
	"crypto/tls"
	"net/http/httptest"
	"testing"
)

func TestClientIP(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		remote string
		xff    []string // X-Forwarded-For headers, in order
		trust  bool
		want   string
	}{
		{"no proxy", "203.0.113.9:5555", nil, false, "203.0.113.9"},
		{"untrusted header is ignored", "203.0.113.9:5555", []string{"198.51.100.1"}, false, "203.0.113.9"},
		{"remote without port", "203.0.113.9", nil, false, "203.0.113.9"},
		{"ipv6 peer", "[2001:db8::7]:443", nil, false, "2001:db8::7"},
		{"trusted, no header", "127.0.0.1:5555", nil, true, "127.0.0.1"},
		{"trusted, one hop", "127.0.0.1:5555", []string{"198.51.100.1"}, true, "198.51.100.1"},
		{"trusted, spaces", "127.0.0.1:5555", []string{"  198.51.100.1 "}, true, "198.51.100.1"},
		{"spoofed entry left of the real client", "127.0.0.1:5555", []string{"6.6.6.6, 198.51.100.1"}, true, "198.51.100.1"},
		{"spoofed garbage left of the real client", "127.0.0.1:5555", []string{"<script>, 198.51.100.1"}, true, "198.51.100.1"},
		{"multi-hop through internal proxies", "10.0.0.2:5555", []string{"198.51.100.1, 10.0.0.9, 172.16.4.4"}, true, "198.51.100.1"},
		{"multi-hop, spoofed and internal", "10.0.0.2:5555", []string{"1.1.1.1, 198.51.100.1, 192.168.1.1"}, true, "198.51.100.1"},
		{"several headers are one list", "127.0.0.1:5555", []string{"6.6.6.6", "198.51.100.1"}, true, "198.51.100.1"},
		{"client on the private network", "127.0.0.1:5555", []string{"192.168.1.20, 10.0.0.9"}, true, "192.168.1.20"},
		{"entry with a port", "127.0.0.1:5555", []string{"198.51.100.1:4711"}, true, "198.51.100.1"},
		{"ipv6 entry", "[::1]:5555", []string{"2001:db8::1"}, true, "2001:db8::1"},
		{"ipv4-mapped ipv6 entry", "127.0.0.1:5555", []string{"::ffff:198.51.100.1"}, true, "198.51.100.1"},
		{"garbage only: the peer", "127.0.0.1:5555", []string{"unknown"}, true, "127.0.0.1"},
		{"empty header: the peer", "127.0.0.1:5555", []string{""}, true, "127.0.0.1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = c.remote
			for _, h := range c.xff {
				r.Header.Add("X-Forwarded-For", h)
			}
			if got := (IPResolver{TrustProxy: c.trust}).ClientIP(r); got != c.want {
				t.Errorf("ClientIP = %q, want %q", got, c.want)
			}
		})
	}
}

func TestIsTLS(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name  string
		tls   bool
		proto string
		trust bool
		want  bool
	}{
		{"plain", false, "", false, false},
		{"tls connection", true, "", false, true},
		{"untrusted proto header", false, "https", false, false},
		{"trusted proto header", false, "https", true, true},
		{"trusted, plain http", false, "http", true, false},
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", "/", nil)
		if c.tls {
			r.TLS = &tls.ConnectionState{}
		}
		if c.proto != "" {
			r.Header.Set("X-Forwarded-Proto", c.proto)
		}
		if got := (IPResolver{TrustProxy: c.trust}).IsTLS(r); got != c.want {
			t.Errorf("%s: IsTLS = %v, want %v", c.name, got, c.want)
		}
	}
}
