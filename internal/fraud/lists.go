package fraud

import (
	_ "embed"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"sort"
	"strings"
	"sync"
)

//go:embed data/disposable-email-domains.txt
var disposableData string

var (
	disposableOnce sync.Once
	disposableSet  map[string]struct{}
)

// embeddedDisposable returns the embedded disposable-domain set, parsing it
// on first use.
func embeddedDisposable() map[string]struct{} {
	disposableOnce.Do(func() {
		disposableSet = make(map[string]struct{}, 9000)
		for line := range strings.SplitSeq(disposableData, "\n") {
			line = strings.ToLower(strings.TrimSpace(line))
			if line == "" || line[0] == '#' {
				continue
			}
			disposableSet[line] = struct{}{}
		}
	})
	return disposableSet
}

// DisposableDomainCount returns the number of domains on the embedded
// disposable-email list.
func DisposableDomainCount() int { return len(embeddedDisposable()) }

// IsDisposableDomain reports whether domain is a throwaway email domain
// according to the embedded list. A domain matches when it or any of its
// parent domains (down to the registrable domain) is listed, so
// "x.mailinator.com" matches "mailinator.com". Operator additions and
// exemptions ([Lists]) are applied by [Engine], not here.
func IsDisposableDomain(domain string) bool {
	return domainInSet(cleanDomain(domain), embeddedDisposable()) != ""
}

// cleanDomain lowercases, trims and drops a trailing dot.
func cleanDomain(d string) string {
	return strings.TrimSuffix(strings.ToLower(strings.TrimSpace(d)), ".")
}

// domainInSet returns the entry of set matching d or one of its parent
// domains with at least two labels, or "" when none does.
func domainInSet(d string, set map[string]struct{}) string {
	if len(set) == 0 || d == "" {
		return ""
	}
	for {
		if _, ok := set[d]; ok {
			return d
		}
		i := strings.IndexByte(d, '.')
		if i < 0 {
			return ""
		}
		d = d[i+1:]
		if strings.IndexByte(d, '.') < 0 {
			return "" // never match a bare TLD
		}
	}
}

// defaultCouponDomains are coupon, cashback and deal sites where leaked
// referral codes are commonly posted.
var defaultCouponDomains = []string{
	"retailmenot.com", "retailmenot.ca", "couponfollow.com", "slickdeals.net", "joinhoney.com",
	"dealabs.com", "groupon.com", "groupon.fr", "groupon.co.uk", "coupons.com",
	"rakuten.com", "ebates.com", "topcashback.com", "topcashback.co.uk", "vouchercodes.co.uk",
	"hotukdeals.com", "mydealz.de", "pepper.com", "promodescuentos.com", "wethrift.com",
	"dealspotr.com", "knoji.com", "couponbirds.com", "couponcabin.com", "dontpayfull.com",
	"savings.com", "offers.com", "capitaloneshopping.com", "wikibuy.com", "igraal.com", "poulpeo.com",
	"ma-reduc.com", "radins.com", "cuponation.com", "cuponation.fr", "picodi.com", "promocodie.com",
	"referralcodes.com", "refer.codes", "reddit.com/r/referralcodes",
	"ozbargain.com.au", "redflagdeals.com", "dealsplus.com", "bradsdeals.com", "brickseek.com",
}

// DefaultCouponDomains returns the built-in list of coupon and deal sites
// used when [Lists.CouponDomains] is nil. Entries may carry a path
// ("reddit.com/r/referralcodes"), matched as a prefix of the referer path.
func DefaultCouponDomains() []string {
	return append([]string(nil), defaultCouponDomains...)
}

// Lists are the operator-supplied lists an [Engine] checks referrals
// against. Entries are case-insensitive; blank entries and entries starting
// with '#' are ignored so lists can be pasted from files.
type Lists struct {
	// ExtraDisposableDomains are throwaway domains to treat as disposable in
	// addition to the embedded list (subdomains match).
	ExtraDisposableDomains []string `json:"extra_disposable_domains"`
	// AllowedDomains are never treated as disposable, even when listed
	// (for a domain wrongly on the upstream list).
	AllowedDomains []string `json:"allowed_domains"`

	// BlockedEmails are addresses to block. '*' matches any run of
	// characters ("*@competitor.example", "fraudster*@gmail.com"). Entries
	// are matched against both the address as given (lowercased) and its
	// normalized form, and entries without '*' are normalized first.
	BlockedEmails []string `json:"blocked_emails"`
	// BlockedDomains are email domains to block (subdomains match).
	BlockedDomains []string `json:"blocked_domains"`
	// BlockedIPs are addresses or CIDR ranges ("198.51.100.7",
	// "203.0.113.0/24", "2001:db8::/32") to block.
	BlockedIPs []string `json:"blocked_ips"`
	// BlockedCountries are ISO 3166-1 alpha-2 codes ("KP") to block.
	BlockedCountries []string `json:"blocked_countries"`

	// DatacenterRanges are hosting and VPN provider ranges (addresses or
	// CIDRs) as published by the providers or a vendor; people rarely sign up
	// from them.
	DatacenterRanges []string `json:"datacenter_ranges"`
	// TorExitRanges are Tor exit node addresses or ranges (for example from
	// the Tor Project's bulk exit list).
	TorExitRanges []string `json:"tor_exit_ranges"`

	// CouponDomains are coupon, cashback and deal sites; a click whose
	// referer or utm_source points at one is a leaked code. Nil means
	// [DefaultCouponDomains]; to add sites, append to that list.
	CouponDomains []string `json:"coupon_domains"`
}

// ErrInvalidList reports an unparsable entry in [Lists].
var ErrInvalidList = errors.New("invalid list entry")

// compiledLists are [Lists] parsed for fast matching.
type compiledLists struct {
	extraDisposable map[string]struct{}
	allowed         map[string]struct{}
	blockedExact    map[string]string // normalized or raw address → entry
	blockedGlobs    []string
	blockedDomains  map[string]struct{}
	blockedIPs      prefixSet
	countries       map[string]struct{}
	datacenter      prefixSet
	tor             prefixSet
	coupon          map[string]struct{} // host → present
	couponPaths     map[string][]string // host → path prefixes
	couponBrands    map[string]string   // first label ("retailmenot") → domain, for utm_source
}

func listEntries(in []string) []string {
	out := make([]string, 0, len(in))
	for _, s := range in {
		s = strings.ToLower(strings.TrimSpace(s))
		if s == "" || s[0] == '#' {
			continue
		}
		out = append(out, s)
	}
	return out
}

func domainSet(in []string) map[string]struct{} {
	m := make(map[string]struct{}, len(in))
	for _, s := range listEntries(in) {
		s = strings.TrimPrefix(s, "@")
		s = strings.TrimPrefix(s, "*.")
		m[strings.TrimSuffix(s, ".")] = struct{}{}
	}
	return m
}

func compileLists(l Lists) (*compiledLists, error) {
	c := &compiledLists{
		extraDisposable: domainSet(l.ExtraDisposableDomains),
		allowed:         domainSet(l.AllowedDomains),
		blockedExact:    map[string]string{},
		blockedDomains:  domainSet(l.BlockedDomains),
		countries:       map[string]struct{}{},
		coupon:          map[string]struct{}{},
		couponPaths:     map[string][]string{},
		couponBrands:    map[string]string{},
	}
	for _, e := range listEntries(l.BlockedEmails) {
		if strings.Contains(e, "*") {
			c.blockedGlobs = append(c.blockedGlobs, e)
			continue
		}
		if n, ok := NormalizeEmail(e); ok {
			c.blockedExact[n] = e
		}
		c.blockedExact[e] = e
	}
	var err error
	if c.blockedIPs, err = parsePrefixes("blocked IP", l.BlockedIPs); err != nil {
		return nil, &FieldError{Field: "lists.blocked_ips", Err: err}
	}
	if c.datacenter, err = parsePrefixes("datacenter range", l.DatacenterRanges); err != nil {
		return nil, &FieldError{Field: "lists.datacenter_ranges", Err: err}
	}
	if c.tor, err = parsePrefixes("Tor exit range", l.TorExitRanges); err != nil {
		return nil, &FieldError{Field: "lists.tor_exit_ranges", Err: err}
	}
	for _, cc := range listEntries(l.BlockedCountries) {
		if len(cc) != 2 || cc[0] < 'a' || cc[0] > 'z' || cc[1] < 'a' || cc[1] > 'z' {
			return nil, &FieldError{Field: "lists.blocked_countries", Err: fmt.Errorf("fraud: blocked country %q is not an ISO 3166-1 alpha-2 code: %w", cc, ErrInvalidList)}
		}
		c.countries[strings.ToUpper(cc)] = struct{}{}
	}
	coupons := l.CouponDomains
	if coupons == nil {
		coupons = defaultCouponDomains
	}
	for _, d := range listEntries(coupons) {
		d = strings.TrimPrefix(strings.TrimPrefix(d, "https://"), "http://")
		d = strings.TrimPrefix(d, "www.")
		host, path, hasPath := strings.Cut(d, "/")
		host = strings.TrimSuffix(host, ".")
		if host == "" {
			continue
		}
		if hasPath {
			c.couponPaths[host] = append(c.couponPaths[host], "/"+strings.TrimSuffix(path, "/"))
		} else {
			c.coupon[host] = struct{}{}
		}
		brand, _, _ := strings.Cut(RegistrableDomain(host), ".")
		if _, generic := genericBrands[brand]; len(brand) >= 5 && !generic && !hasPath {
			if _, dup := c.couponBrands[brand]; !dup {
				c.couponBrands[brand] = host
			}
		}
	}
	return c, nil
}

// genericBrands are coupon-site names that are also ordinary words, so a
// utm_source carrying them is not evidence of a coupon site.
var genericBrands = map[string]struct{}{"offers": {}, "savings": {}, "coupons": {}, "pepper": {}, "reddit": {}, "deals": {}}

// isDisposable returns the matching disposable entry for an email domain,
// honouring operator additions and exemptions.
func (c *compiledLists) isDisposable(domain string) string {
	if domainInSet(domain, c.allowed) != "" {
		return ""
	}
	if m := domainInSet(domain, c.extraDisposable); m != "" {
		return m
	}
	return domainInSet(domain, embeddedDisposable())
}

// blockedEmail returns the blocklist entry matching an address, trying the
// raw lowercased form and the normalized form.
func (c *compiledLists) blockedEmail(raw, normalized string) string {
	raw = strings.ToLower(strings.TrimSpace(raw))
	if e, ok := c.blockedExact[normalized]; ok && normalized != "" {
		return e
	}
	if e, ok := c.blockedExact[raw]; ok && raw != "" {
		return e
	}
	for _, g := range c.blockedGlobs {
		if (normalized != "" && globMatch(g, normalized)) || (raw != "" && globMatch(g, raw)) {
			return g
		}
	}
	return ""
}

// couponMatch returns the coupon-site entry a referer URL or utm_source
// value points at, or "".
func (c *compiledLists) couponMatch(referer, landing string) string {
	var q url.Values
	if landing != "" {
		if u, err := url.Parse(strings.TrimSpace(landing)); err == nil {
			q = u.Query()
		}
	}
	return c.couponMatchQuery(referer, q)
}

// couponMatchQuery is couponMatch with the landing URL's query parsed.
func (c *compiledLists) couponMatchQuery(referer string, q url.Values) string {
	if referer != "" {
		if u, err := url.Parse(strings.TrimSpace(referer)); err == nil && u.Host != "" {
			host := cleanDomain(u.Hostname())
			if m := domainInSet(host, c.coupon); m != "" {
				return m
			}
			for h := host; h != ""; {
				for _, p := range c.couponPaths[h] {
					if strings.HasPrefix(strings.ToLower(u.Path), p) {
						return h + p
					}
				}
				i := strings.IndexByte(h, '.')
				if i < 0 {
					break
				}
				h = h[i+1:]
			}
		}
	}
	for _, key := range []string{"utm_source", "ref", "source"} {
		v := cleanDomain(q.Get(key))
		if v == "" {
			continue
		}
		v = strings.TrimPrefix(v, "www.")
		if m := domainInSet(v, c.coupon); m != "" {
			return m
		}
		if m, ok := c.couponBrands[v]; ok {
			return m
		}
	}
	return ""
}

// globMatch reports whether s matches pattern, where '*' matches any run of
// bytes (including none) and every other byte matches itself. It runs in
// O(len(pattern)·len(s)) worst case without recursion.
func globMatch(pattern, s string) bool {
	p, i := 0, 0
	star, mark := -1, 0
	for i < len(s) {
		switch {
		case p < len(pattern) && pattern[p] == '*':
			star, mark = p, i
			p++
		case p < len(pattern) && pattern[p] == s[i]:
			p++
			i++
		case star >= 0:
			p = star + 1
			mark++
			i = mark
		default:
			return false
		}
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

// prefixSet answers "is this address inside any of these ranges" with one
// map lookup per distinct prefix length present, so large lists (thousands
// of Tor exits or cloud ranges) stay cheap.
type prefixSet struct {
	bits4, bits6 []int
	m            map[netip.Prefix]struct{}
}

func parsePrefixes(what string, entries []string) (prefixSet, error) {
	ps := prefixSet{m: map[netip.Prefix]struct{}{}}
	seen4, seen6 := map[int]bool{}, map[int]bool{}
	for _, e := range listEntries(entries) {
		var p netip.Prefix
		if strings.Contains(e, "/") {
			var err error
			p, err = netip.ParsePrefix(e)
			if err != nil {
				return prefixSet{}, fmt.Errorf("fraud: %s %q: %w: %w", what, e, ErrInvalidList, err)
			}
			if p.Addr().Is4In6() {
				p = netip.PrefixFrom(p.Addr().Unmap(), max(p.Bits()-96, 0))
			}
		} else {
			a, ok := ParseIP(e)
			if !ok {
				return prefixSet{}, fmt.Errorf("fraud: %s %q is not an IP address or CIDR range: %w", what, e, ErrInvalidList)
			}
			p = netip.PrefixFrom(a, a.BitLen())
		}
		p = p.Masked()
		ps.m[p] = struct{}{}
		if p.Addr().Is4() {
			if !seen4[p.Bits()] {
				seen4[p.Bits()] = true
				ps.bits4 = append(ps.bits4, p.Bits())
			}
		} else if !seen6[p.Bits()] {
			seen6[p.Bits()] = true
			ps.bits6 = append(ps.bits6, p.Bits())
		}
	}
	sort.Ints(ps.bits4)
	sort.Ints(ps.bits6)
	return ps, nil
}

// match returns the range containing a, if any.
func (ps prefixSet) match(a netip.Addr) (netip.Prefix, bool) {
	if !a.IsValid() || len(ps.m) == 0 {
		return netip.Prefix{}, false
	}
	bits := ps.bits6
	if a.Is4() {
		bits = ps.bits4
	}
	for _, b := range bits {
		p, err := a.Prefix(b)
		if err != nil {
			continue
		}
		if _, ok := ps.m[p]; ok {
			return p, true
		}
	}
	return netip.Prefix{}, false
}
