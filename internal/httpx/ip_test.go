package httpx

import (
	"crypto/tls"
	"net/http/httptest"
	"net/netip"
	"reflect"
	"testing"
)

func TestClientIP(t *testing.T) {
	t.Parallel()
	lb := IPResolver{Trusted: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16"), netip.MustParsePrefix("2001:db8:ff::/48")}}
	alias := IPResolver{TrustProxy: true}
	none := IPResolver{}
	cases := []struct {
		name   string
		ips    IPResolver
		remote string
		xff    []string // X-Forwarded-For headers, in order
		want   string
	}{
		{"no proxy", none, "203.0.113.9:5555", nil, "203.0.113.9"},
		{"nothing trusted: header ignored", none, "203.0.113.9:5555", []string{"198.51.100.1"}, "203.0.113.9"},
		{"remote without port", none, "203.0.113.9", nil, "203.0.113.9"},
		{"ipv6 peer", none, "[2001:db8::7]:443", nil, "2001:db8::7"},
		{"untrusted peer: its header is ignored", lb, "203.0.113.9:5555", []string{"198.51.100.1"}, "203.0.113.9"},
		{"untrusted private peer: its header is ignored", lb, "10.2.0.1:5555", []string{"198.51.100.1"}, "10.2.0.1"},
		{"trusted peer, no header", lb, "10.1.0.5:5555", nil, "10.1.0.5"},
		{"trusted peer, one hop", lb, "10.1.0.5:5555", []string{"198.51.100.1"}, "198.51.100.1"},
		{"trusted, spaces", lb, "10.1.0.5:5555", []string{"  198.51.100.1 "}, "198.51.100.1"},
		{"client's own entries left of it are not believed", lb, "10.1.0.5:5555", []string{"6.6.6.6, 198.51.100.1"}, "198.51.100.1"},
		{"a forged private entry is not believed either", lb, "10.1.0.5:5555", []string{"10.1.9.9, 198.51.100.1"}, "198.51.100.1"},
		{"garbage left of the client", lb, "10.1.0.5:5555", []string{"<script>, 198.51.100.1"}, "198.51.100.1"},
		{"several trusted hops are skipped", lb, "10.1.0.5:5555", []string{"1.1.1.1, 198.51.100.1, 10.1.3.3, 10.1.4.4"}, "198.51.100.1"},
		{"an untrusted private hop is the client", lb, "10.1.0.5:5555", []string{"198.51.100.1, 192.168.1.1"}, "192.168.1.1"},
		{"several headers are one list", lb, "10.1.0.5:5555", []string{"6.6.6.6", "198.51.100.1"}, "198.51.100.1"},
		{"every hop trusted: the leftmost", lb, "10.1.0.5:5555", []string{"10.1.7.7, 10.1.8.8"}, "10.1.7.7"},
		{"entry with a port", lb, "10.1.0.5:5555", []string{"198.51.100.1:4711"}, "198.51.100.1"},
		{"ipv6 trusted proxy", lb, "[2001:db8:ff::2]:5555", []string{"2001:db8::1"}, "2001:db8::1"},
		{"ipv4-mapped ipv6 entry", lb, "10.1.0.5:5555", []string{"::ffff:198.51.100.1"}, "198.51.100.1"},
		{"ipv4-mapped trusted peer", lb, "[::ffff:10.1.0.5]:5555", []string{"198.51.100.1"}, "198.51.100.1"},
		{"garbage only: the peer", lb, "10.1.0.5:5555", []string{"unknown"}, "10.1.0.5"},
		{"empty header: the peer", lb, "10.1.0.5:5555", []string{""}, "10.1.0.5"},
		{"alias trusts loopback", alias, "127.0.0.1:5555", []string{"198.51.100.1"}, "198.51.100.1"},
		{"alias trusts private networks", alias, "10.0.0.2:5555", []string{"198.51.100.1, 10.0.0.9, 172.16.4.4"}, "198.51.100.1"},
		{"alias: public peer's header ignored", alias, "203.0.113.9:5555", []string{"198.51.100.1"}, "203.0.113.9"},
		{"alias: client on the private network", alias, "127.0.0.1:5555", []string{"192.168.1.20, 10.0.0.9"}, "192.168.1.20"},
		{"alias: ipv6 loopback", alias, "[::1]:5555", []string{"2001:db8::1"}, "2001:db8::1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = c.remote
			for _, h := range c.xff {
				r.Header.Add("X-Forwarded-For", h)
			}
			if got := c.ips.ClientIP(r); got != c.want {
				t.Errorf("ClientIP = %q, want %q", got, c.want)
			}
		})
	}
}

func TestIsTLS(t *testing.T) {
	t.Parallel()
	lb := IPResolver{Trusted: []netip.Prefix{netip.MustParsePrefix("10.1.0.0/16")}}
	cases := []struct {
		name   string
		ips    IPResolver
		remote string
		tls    bool
		proto  string
		want   bool
	}{
		{"plain", IPResolver{}, "203.0.113.9:1", false, "", false},
		{"tls connection", IPResolver{}, "203.0.113.9:1", true, "", true},
		{"untrusted proto header", IPResolver{}, "203.0.113.9:1", false, "https", false},
		{"proto header from an untrusted peer", lb, "203.0.113.9:1", false, "https", false},
		{"trusted proto header", lb, "10.1.0.5:1", false, "https", true},
		{"alias: loopback proxy", IPResolver{TrustProxy: true}, "127.0.0.1:1", false, "https", true},
		{"trusted, plain http", lb, "10.1.0.5:1", false, "http", false},
	}
	for _, c := range cases {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		if c.tls {
			r.TLS = &tls.ConnectionState{}
		}
		if c.proto != "" {
			r.Header.Set("X-Forwarded-Proto", c.proto)
		}
		if got := c.ips.IsTLS(r); got != c.want {
			t.Errorf("%s: IsTLS = %v, want %v", c.name, got, c.want)
		}
	}
}

func TestParseProxies(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in      string
		want    []string
		wantErr bool
	}{
		{"", nil, false},
		{"10.0.0.0/8", []string{"10.0.0.0/8"}, false},
		{"10.0.0.7, 2001:db8::/32 192.168.1.0/24", []string{"10.0.0.7/32", "2001:db8::/32", "192.168.1.0/24"}, false},
		{"10.1.2.3/16", []string{"10.1.0.0/16"}, false},
		{"::1", []string{"::1/128"}, false},
		{"::ffff:10.0.0.1", []string{"10.0.0.1/32"}, false},
		{"proxy.internal", nil, true},
		{"10.0.0.0/33", nil, true},
	}
	for _, c := range cases {
		got, err := ParseProxies(c.in)
		if (err != nil) != c.wantErr {
			t.Errorf("%q: error %v, want error %v", c.in, err, c.wantErr)
			continue
		}
		var s []string
		for _, p := range got {
			s = append(s, p.String())
		}
		if !reflect.DeepEqual(s, c.want) {
			t.Errorf("%q: %v, want %v", c.in, s, c.want)
		}
	}
}
