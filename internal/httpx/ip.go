package httpx

import (
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// PrivateNetworks are the loopback and private ranges (RFC 1918, RFC 4193)
// that the --trust-proxy alias trusts: a reverse proxy on the same host or
// on the installation's private network.
var PrivateNetworks = []netip.Prefix{
	netip.MustParsePrefix("127.0.0.0/8"),
	netip.MustParsePrefix("10.0.0.0/8"),
	netip.MustParsePrefix("172.16.0.0/12"),
	netip.MustParsePrefix("192.168.0.0/16"),
	netip.MustParsePrefix("::1/128"),
	netip.MustParsePrefix("fc00::/7"),
}

// ParseProxies reads a comma- or space-separated list of trusted proxy
// addresses: CIDR ranges ("10.0.0.0/8") or single addresses ("10.0.0.7",
// taken as /32 or /128).
func ParseProxies(s string) ([]netip.Prefix, error) {
	var out []netip.Prefix
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' }) {
		if p, err := netip.ParsePrefix(f); err == nil {
			out = append(out, p.Masked())
			continue
		}
		a, err := netip.ParseAddr(f)
		if err != nil {
			return nil, fmt.Errorf("trusted proxy %q is neither an address nor a CIDR range", f)
		}
		a = a.Unmap()
		out = append(out, netip.PrefixFrom(a, a.BitLen()))
	}
	return out, nil
}

// IPResolver finds the client of a request. It is built once from the
// --trusted-proxies setting and handed to every HTTP package, so that rate
// limits, the audit log, consents and the fraud signals of clicks all see
// the same address.
type IPResolver struct {
	// Trusted lists the reverse proxies of the installation: each appends
	// the address it received the request from to X-Forwarded-For (and
	// sets X-Forwarded-Proto). A request whose peer is not one of them has
	// both headers ignored: anybody can send them.
	Trusted []netip.Prefix
	// TrustProxy is the --trust-proxy alias: it adds PrivateNetworks to
	// Trusted.
	TrustProxy bool
}

// trusts reports whether a is one of the installation's proxies.
func (p IPResolver) trusts(a netip.Addr) bool {
	for _, n := range p.Trusted {
		if n.Contains(a) {
			return true
		}
	}
	if p.TrustProxy {
		for _, n := range PrivateNetworks {
			if n.Contains(a) {
				return true
			}
		}
	}
	return false
}

// ClientIP returns the client's address. When the connection's peer is not
// a trusted proxy, it is the peer. When it is, X-Forwarded-For is read from
// the right: each entry a trusted proxy wrote is skipped, and the first
// entry that is not a trusted proxy is the client. Entries left of it were
// written by the client itself and are never believed, so a forged header
// cannot choose the address. An entry that is not an address stops the
// walk (no proxy of ours writes garbage): the last trusted hop is then the
// client, as it is when every entry is a trusted proxy.
func (p IPResolver) ClientIP(r *http.Request) string {
	ip := peer(r)
	a, ok := parseHop(ip)
	if !ok || !p.trusts(a) {
		return ip
	}
	hops := forwardedFor(r)
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := parseHop(hops[i])
		if !ok {
			break
		}
		ip = a.String()
		if !p.trusts(a) {
			break
		}
	}
	return ip
}

// IsTLS reports whether the client reached Parrain over HTTPS: the
// connection is TLS, or a trusted proxy says it terminated TLS.
func (p IPResolver) IsTLS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	a, ok := parseHop(peer(r))
	return ok && p.trusts(a) && r.Header.Get("X-Forwarded-Proto") == "https"
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
