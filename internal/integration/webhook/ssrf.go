package webhook

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"syscall"
	"time"
)

// ErrForbiddenAddress is returned (wrapped, inside the dial error) when an
// outgoing connection would reach an address that is not public unicast:
// loopback, private, link-local, unspecified, multicast, CGNAT, cloud metadata
// and similar ranges. See CheckAddr.
var ErrForbiddenAddress = errors.New("webhook: destination address not allowed")

// Dial and transport timeouts of SafeTransport.
const (
	dialTimeout           = 10 * time.Second
	tlsHandshakeTimeout   = 10 * time.Second
	responseHeaderTimeout = 30 * time.Second
)

// forbiddenPrefixes are the ranges refused in addition to what netip's
// predicates (loopback, private, link-local, multicast, unspecified) cover.
var forbiddenPrefixes = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"),          // "this network" (RFC 791); 0.x.y.z reaches localhost on Linux
	netip.MustParsePrefix("100.64.0.0/10"),      // carrier-grade NAT shared space (RFC 6598)
	netip.MustParsePrefix("169.254.169.254/32"), // cloud instance metadata (also link-local; listed explicitly)
	netip.MustParsePrefix("192.0.0.0/24"),       // IETF protocol assignments (RFC 6890)
	netip.MustParsePrefix("198.18.0.0/15"),      // benchmarking (RFC 2544)
	netip.MustParsePrefix("240.0.0.0/4"),        // reserved, including 255.255.255.255 broadcast
	netip.MustParsePrefix("100::/64"),           // IPv6 discard-only (RFC 6666)
	netip.MustParsePrefix("fec0::/10"),          // deprecated IPv6 site-local
}

// nat64Prefix is the well-known NAT64 prefix (RFC 6052): the last 32 bits are
// an IPv4 address, which is checked in turn.
var nat64Prefix = netip.MustParsePrefix("64:ff9b::/96")

// sixToFourPrefix is 6to4 (RFC 3056): bits 16–47 are an IPv4 address, which is
// checked in turn.
var sixToFourPrefix = netip.MustParsePrefix("2002::/16")

// CheckAddr returns nil if addr is a public unicast address a webhook may be
// delivered to, and an error wrapping ErrForbiddenAddress otherwise. Refused:
// unspecified, loopback, private (RFC 1918, fc00::/7), link-local unicast and
// multicast, all multicast, CGNAT 100.64.0.0/10, the 169.254.169.254 metadata
// address, 0.0.0.0/8, 192.0.0.0/24, 198.18.0.0/15, 240.0.0.0/4, 100::/64,
// fec0::/10, and IPv4-mapped, NAT64 (64:ff9b::/96) or 6to4 (2002::/16)
// addresses embedding any refused IPv4 address.
func CheckAddr(addr netip.Addr) error {
	if !addr.IsValid() {
		return fmt.Errorf("%w: invalid address", ErrForbiddenAddress)
	}
	addr = addr.Unmap().WithZone("")
	if addr.Is6() {
		b := addr.As16()
		switch {
		case nat64Prefix.Contains(addr):
			if err := CheckAddr(netip.AddrFrom4([4]byte(b[12:16]))); err != nil {
				return fmt.Errorf("%w: NAT64 address %s embeds a refused IPv4 address", ErrForbiddenAddress, addr)
			}
		case sixToFourPrefix.Contains(addr):
			if err := CheckAddr(netip.AddrFrom4([4]byte(b[2:6]))); err != nil {
				return fmt.Errorf("%w: 6to4 address %s embeds a refused IPv4 address", ErrForbiddenAddress, addr)
			}
		}
	}
	switch {
	case addr.IsUnspecified(),
		addr.IsLoopback(),
		addr.IsPrivate(),
		addr.IsLinkLocalUnicast(),
		addr.IsLinkLocalMulticast(),
		addr.IsInterfaceLocalMulticast(),
		addr.IsMulticast():
		return fmt.Errorf("%w: %s", ErrForbiddenAddress, addr)
	}
	for _, p := range forbiddenPrefixes {
		if p.Contains(addr) {
			return fmt.Errorf("%w: %s", ErrForbiddenAddress, addr)
		}
	}
	return nil
}

// DialControl returns a net.Dialer Control function that refuses, after DNS
// resolution and immediately before connect(2), any TCP connection to an
// address CheckAddr refuses. Because it sees the resolved IP of every attempt,
// DNS rebinding and hostnames resolving to internal addresses are covered.
// With allowPrivate it only requires a TCP network (for development and tests
// against loopback servers).
func DialControl(allowPrivate bool) func(network, address string, c syscall.RawConn) error {
	return func(network, address string, _ syscall.RawConn) error {
		switch network {
		case "tcp", "tcp4", "tcp6":
		default:
			return fmt.Errorf("%w: network %q", ErrForbiddenAddress, network)
		}
		if allowPrivate {
			return nil
		}
		ap, err := netip.ParseAddrPort(address)
		if err != nil {
			return fmt.Errorf("%w: unparsable address %q: %w", ErrForbiddenAddress, address, err)
		}
		return CheckAddr(ap.Addr())
	}
}

// SafeTransport returns an *http.Transport for delivering webhooks whose dialer
// applies DialControl(allowPrivate) to every connection. It never uses a proxy
// (a proxy would make the check apply to the proxy's address rather than the
// destination's). allowPrivate must be false in production.
func SafeTransport(allowPrivate bool) *http.Transport {
	dialer := &net.Dialer{
		Timeout:   dialTimeout,
		KeepAlive: 30 * time.Second,
		Control:   DialControl(allowPrivate),
	}
	return &http.Transport{
		Proxy:                  nil,
		DialContext:            dialer.DialContext,
		ForceAttemptHTTP2:      true,
		MaxIdleConns:           100,
		MaxIdleConnsPerHost:    4,
		IdleConnTimeout:        90 * time.Second,
		TLSHandshakeTimeout:    tlsHandshakeTimeout,
		ResponseHeaderTimeout:  responseHeaderTimeout,
		ExpectContinueTimeout:  time.Second,
		MaxResponseHeaderBytes: 64 << 10,
	}
}

// NewClient returns an *http.Client for Deliver: SafeTransport(allowPrivate),
// an overall timeout of DeliveryTimeout, and no redirect following (a 3xx
// response is returned as is and counts as a failed delivery, so a receiver
// cannot bounce Parrain to another host).
func NewClient(allowPrivate bool) *http.Client {
	return &http.Client{
		Transport: SafeTransport(allowPrivate),
		Timeout:   DeliveryTimeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}
