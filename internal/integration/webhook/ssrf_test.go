package webhook

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"testing"
)

func TestCheckAddr(t *testing.T) {
	tests := []struct {
		addr    string
		allowed bool
	}{
		// Public unicast.
		{"93.184.215.14", true},
		{"8.8.8.8", true},
		{"1.1.1.1", true},
		{"100.63.255.255", true}, // just below CGNAT
		{"100.128.0.0", true},    // just above CGNAT
		{"172.32.0.1", true},     // just above 172.16/12
		{"2606:4700:4700::1111", true},
		{"2a00:1450:4007:80e::200e", true},
		{"64:ff9b::808:808", true}, // NAT64 of 8.8.8.8
		{"2002:808:808::1", true},  // 6to4 of 8.8.8.8

		// Refused.
		{"127.0.0.1", false},
		{"127.255.255.254", false},
		{"::1", false},
		{"0.0.0.0", false},
		{"0.1.2.3", false},
		{"::", false},
		{"10.0.0.1", false},
		{"172.16.0.1", false},
		{"172.31.255.255", false},
		{"192.168.1.1", false},
		{"fc00::1", false},
		{"fd12:3456:789a::1", false},
		{"fd00:ec2::254", false}, // AWS IMDS over IPv6
		{"169.254.169.254", false},
		{"169.254.1.1", false},
		{"fe80::1", false},
		{"fe80::1%eth0", false},
		{"100.64.0.1", false},
		{"100.127.255.255", false},
		{"224.0.0.1", false},
		{"239.255.255.250", false},
		{"ff02::1", false},
		{"ff05::2", false},
		{"255.255.255.255", false},
		{"240.0.0.1", false},
		{"198.18.0.1", false},
		{"192.0.0.170", false},
		{"fec0::1", false},
		{"100::1", false},
		{"::ffff:127.0.0.1", false},       // IPv4-mapped loopback
		{"::ffff:169.254.169.254", false}, // IPv4-mapped metadata
		{"::ffff:10.1.2.3", false},
		{"64:ff9b::a00:1", false},    // NAT64 of 10.0.0.1
		{"64:ff9b::7f00:1", false},   // NAT64 of 127.0.0.1
		{"2002:a9fe:a9fe::1", false}, // 6to4 of 169.254.169.254
		{"2002:c0a8:101::", false},   // 6to4 of 192.168.1.1
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			err := CheckAddr(netip.MustParseAddr(tt.addr))
			if tt.allowed && err != nil {
				t.Fatalf("CheckAddr(%s) = %v, want allowed", tt.addr, err)
			}
			if !tt.allowed && !errors.Is(err, ErrForbiddenAddress) {
				t.Fatalf("CheckAddr(%s) = %v, want ErrForbiddenAddress", tt.addr, err)
			}
		})
	}
	if err := CheckAddr(netip.Addr{}); !errors.Is(err, ErrForbiddenAddress) {
		t.Fatalf("zero Addr: err = %v, want ErrForbiddenAddress", err)
	}
}

func TestDialControl(t *testing.T) {
	tests := []struct {
		name         string
		network      string
		address      string
		allowPrivate bool
		allowed      bool
	}{
		{"public v4", "tcp4", "8.8.8.8:443", false, true},
		{"public v6", "tcp6", "[2606:4700:4700::1111]:443", false, true},
		{"loopback", "tcp4", "127.0.0.1:80", false, false},
		{"loopback allowed", "tcp4", "127.0.0.1:80", true, true},
		{"metadata", "tcp4", "169.254.169.254:80", false, false},
		{"link-local v6 with zone", "tcp6", "[fe80::1%lo]:80", false, false},
		{"udp refused", "udp4", "8.8.8.8:53", false, false},
		{"udp refused even when private allowed", "udp4", "127.0.0.1:53", true, false},
		{"unparsable", "tcp", "example.com:80", false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := DialControl(tt.allowPrivate)(tt.network, tt.address, nil)
			if tt.allowed && err != nil {
				t.Fatalf("err = %v, want nil", err)
			}
			if !tt.allowed && !errors.Is(err, ErrForbiddenAddress) {
				t.Fatalf("err = %v, want ErrForbiddenAddress", err)
			}
		})
	}
}

func TestSafeTransportDial(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	_, port, err := net.SplitHostPort(srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}

	urls := []string{
		srv.URL,                          // http://127.0.0.1:port
		"http://localhost:" + port + "/", // resolved by DNS, checked on the IP
		"http://[::ffff:127.0.0.1]:" + port + "/", // IPv4-mapped spelling of loopback
	}
	for _, u := range urls {
		t.Run(u, func(t *testing.T) {
			refused := &http.Client{Transport: SafeTransport(false)}
			resp, err := refused.Get(u)
			if err == nil {
				resp.Body.Close()
				t.Fatal("connection to loopback succeeded, want refusal")
			}
			if !errors.Is(err, ErrForbiddenAddress) {
				t.Fatalf("err = %v, want ErrForbiddenAddress", err)
			}
		})
	}

	allowed := &http.Client{Transport: SafeTransport(true)}
	resp, err := allowed.Get(srv.URL)
	if err != nil {
		t.Fatalf("allowPrivate: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNoContent {
		t.Fatalf("status = %d, want 204", resp.StatusCode)
	}

	// The Dialer level, without HTTP.
	d := &net.Dialer{Control: DialControl(false)}
	if c, err := d.DialContext(context.Background(), "tcp", srv.Listener.Addr().String()); err == nil {
		c.Close()
		t.Fatal("raw dial to loopback succeeded")
	} else if !errors.Is(err, ErrForbiddenAddress) {
		t.Fatalf("raw dial: err = %v, want ErrForbiddenAddress", err)
	}
}

func TestSafeTransportIgnoresProxy(t *testing.T) {
	t.Setenv("HTTP_PROXY", "http://192.0.2.1:3128")
	t.Setenv("HTTPS_PROXY", "http://192.0.2.1:3128")
	if tr := SafeTransport(false); tr.Proxy != nil {
		t.Fatal("SafeTransport uses a proxy")
	}
}
