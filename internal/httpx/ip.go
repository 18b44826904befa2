package httpx

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// IPResolver finds the client of a request. It is built once from the
// --trust-proxy setting and handed to every HTTP package, so that rate
// limits, the audit log, consents and the fraud signals of clicks all see
// the same address.
type IPResolver struct {
	// TrustProxy says Parrain runs behind a reverse proxy that appends the
	// address it received the request from to X-Forwarded-For (and sets
	// X-Forwarded-Proto). Without it both headers are ignored: anybody
	// can send them.
	TrustProxy bool
}

// ClientIP returns the client's address. Without TrustProxy it is the
// connection's peer. With it, X-Forwarded-For is read from the right:
// entries that are private, loopback or link-local addresses are proxies
// of the installation and skipped; the first other address is the client.
// Entries left of it were written by the client itself and are never
// believed, so a forged header cannot choose the address. When every entry
// is internal, the leftmost one is the client (an office network).
func (p IPResolver) ClientIP(r *http.Request) string {
	ip := peer(r)
	if !p.TrustProxy {
		return ip
	}
	hops := forwardedFor(r)
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHop(hops[i])
		if !ok {
			break // garbage is not something a proxy of ours wrote
		}
		ip = a.String()
		if !internal(a) {
			break
		}
	}
	return ip
}

// IsTLS reports whether the client reached Parrain over HTTPS: the
// connection is TLS, or a trusted proxy says it terminated TLS.
func (p IPResolver) IsTLS(r *http.Request) bool {
	return r.TLS != nil || (p.TrustProxy && r.Header.Get("X-Forwarded-Proto") == "https")
}

// peer is the connection's remote address without its port.
func peer(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

// forwardedFor lists the X-Forwarded-For entries of every such header, in
// order.
func forwardedFor(r *http.Request) []string {
	var hops []string
	for _, h := range r.Header.Values("X-Forwarded-For") {
		for _, e := range strings.Split(h, ",") {
			if e = strings.TrimSpace(e); e != "" {
				hops = append(hops, e)
			}
		}
	}
	return hops
}

// parseHop reads one X-Forwarded-For entry: an address, possibly with a
// port ("203.0.113.7:4711", "[2001:db8::1]:443").
func parseHop(s string) (netip.Addr, bool) {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap(), true
	}
	if ap, err := netip.ParseAddrPort(s); err == nil {
		return ap.Addr().Unmap(), true
	}
	return netip.Addr{}, false
}

// internal reports whether a is an address of a private network, where
// the installation's own proxies live.
func internal(a netip.Addr) bool {
	return a.IsPrivate() || a.IsLoopback() || a.IsLinkLocalUnicast() || a.IsUnspecified()
}
