package fraud

import (
	"fmt"
	"net/netip"
	"net/url"
	"strings"
	"time"
)

// Tuning holds the detectors' numeric thresholds. Zero (or negative) fields
// take the defaults shown in parentheses, so Tuning{} is the default tuning.
type Tuning struct {
	// ClickWindow is the window of recent clicks examined (1h).
	ClickWindow time.Duration
	// ClickFloodPerIP is the number of clicks from one IP within the window
	// that counts as a flood (12).
	ClickFloodPerIP int
	// ClickFloodPerUA is the number of browser clicks with one User-Agent
	// within the window that counts as a flood (20) ...
	ClickFloodPerUA int
	// ClickFloodUAShare ... when they are also at least this share of the
	// browser clicks (0.6).
	ClickFloodUAShare float64
	// AutomatedClicks is the number of clicks from scripts, headless
	// browsers or empty User-Agents within the window that fires (5).
	AutomatedClicks int
	// VelocityMinCount is the fewest signups in the trailing hour that can
	// be a burst (5).
	VelocityMinCount int
	// VelocityZ is the z-score, against both the advocate's and the
	// program's baseline, above which the hour is a burst (4).
	VelocityZ float64
	// InactiveAfter is how long after signup a friend with no activity
	// fires the no-activity signal (7 days).
	InactiveAfter time.Duration
	// InactivePatternMin is the fewest judged earlier referrals for the
	// advocate's inactivity pattern (3) ...
	InactivePatternMin int
	// InactivePatternShare ... and the inactive share that fires (0.75).
	InactivePatternShare float64
	// RefundWindow is how soon after the reward a refund or cancellation
	// counts as quick (14 days).
	RefundWindow time.Duration
	// RefundPatternMin is the fewest judged earlier referrals for the
	// advocate's refund pattern (3) ...
	RefundPatternMin int
	// RefundPatternShare ... and the refunded share that fires (0.5).
	RefundPatternShare float64
	// SharedPaymentMin is the number of other referred friends on one
	// payment instrument that fires (2).
	SharedPaymentMin int
	// SharedAddressMin is the number of other referred friends at one
	// address that fires (3).
	SharedAddressMin int
}

// DefaultTuning returns the default detector thresholds.
func DefaultTuning() Tuning {
	return Tuning{
		ClickWindow:          time.Hour,
		ClickFloodPerIP:      12,
		ClickFloodPerUA:      20,
		ClickFloodUAShare:    0.6,
		AutomatedClicks:      5,
		VelocityMinCount:     5,
		VelocityZ:            4,
		InactiveAfter:        7 * 24 * time.Hour,
		InactivePatternMin:   3,
		InactivePatternShare: 0.75,
		RefundWindow:         14 * 24 * time.Hour,
		RefundPatternMin:     3,
		RefundPatternShare:   0.5,
		SharedPaymentMin:     2,
		SharedAddressMin:     3,
	}
}

// withDefaults fills zero fields from [DefaultTuning].
func (t Tuning) withDefaults() Tuning {
	d := DefaultTuning()
	setDur := func(v *time.Duration, def time.Duration) {
		if *v <= 0 {
			*v = def
		}
	}
	setInt := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	setF := func(v *float64, def float64) {
		if !(*v > 0) {
			*v = def
		}
	}
	setDur(&t.ClickWindow, d.ClickWindow)
	setInt(&t.ClickFloodPerIP, d.ClickFloodPerIP)
	setInt(&t.ClickFloodPerUA, d.ClickFloodPerUA)
	setF(&t.ClickFloodUAShare, d.ClickFloodUAShare)
	setInt(&t.AutomatedClicks, d.AutomatedClicks)
	setInt(&t.VelocityMinCount, d.VelocityMinCount)
	setF(&t.VelocityZ, d.VelocityZ)
	setDur(&t.InactiveAfter, d.InactiveAfter)
	setInt(&t.InactivePatternMin, d.InactivePatternMin)
	setF(&t.InactivePatternShare, d.InactivePatternShare)
	setDur(&t.RefundWindow, d.RefundWindow)
	setInt(&t.RefundPatternMin, d.RefundPatternMin)
	setF(&t.RefundPatternShare, d.RefundPatternShare)
	setInt(&t.SharedPaymentMin, d.SharedPaymentMin)
	setInt(&t.SharedAddressMin, d.SharedAddressMin)
	return t
}

// facts are the parsed and normalized parts of a Referral that several
// detectors use, computed once per assessment.
type facts struct {
	r *Referral

	advEmail, advLocal, advDomain string
	friEmail, friLocal, friDomain string

	advIPs    []netip.Addr // comparable advocate addresses
	friIP     netip.Addr   // friend's signup address (may be invalid)
	clickIP   netip.Addr   // attributed click's address (may be invalid)
	friendIPs []netip.Addr // comparable friend addresses: signup, click

	landingQuery url.Values // query of the attributed click's landing URL, nil if none
}

func splitNormalized(email string) (n, local, domain string) {
	n, ok := NormalizeEmail(email)
	if !ok {
		return "", "", ""
	}
	at := strings.IndexByte(n, '@')
	return n, n[:at], n[at+1:]
}

func newFacts(r *Referral) *facts {
	f := &facts{r: r}
	f.advEmail, f.advLocal, f.advDomain = splitNormalized(r.Advocate.Email)
	f.friEmail, f.friLocal, f.friDomain = splitNormalized(r.Friend.Email)
	addAdv := func(s string) {
		if a, ok := ParseIP(s); ok && comparableIP(a) {
			f.advIPs = append(f.advIPs, a)
		}
	}
	addAdv(r.Advocate.IP)
	for _, s := range r.Advocate.RecentIPs {
		addAdv(s)
	}
	f.friIP, _ = ParseIP(r.Friend.IP)
	if comparableIP(f.friIP) {
		f.friendIPs = append(f.friendIPs, f.friIP)
	}
	if r.Click != nil {
		f.clickIP, _ = ParseIP(r.Click.IP)
		if comparableIP(f.clickIP) && f.clickIP != f.friIP {
			f.friendIPs = append(f.friendIPs, f.clickIP)
		}
		if strings.Contains(r.Click.LandingURL, "?") {
			if u, err := url.Parse(strings.TrimSpace(r.Click.LandingURL)); err == nil {
				f.landingQuery = u.Query()
			}
		}
	}
	return f
}

// detector appends the signals it finds for a referral.
type detector func(e *Engine, f *facts, out []Signal) []Signal

// detectors run in this order; each emits each of its codes at most once.
var detectors = []detector{
	detectSameAccount,
	detectEmailIdentity,
	detectSameName,
	detectSamePayment,
	detectSameDevice,
	detectSharedNetwork,
	detectClickFlood,
	detectBotClick,
	detectBotSignup,
	detectHostingIP,
	detectDisposable,
	detectRandomEmail,
	detectBlocklists,
	detectVelocity,
	detectInactivity,
	detectRefunds,
	detectConvergence,
	detectCouponSite,
	detectAdClick,
	detectExistingCustomer,
}

func same(a, b string) bool {
	a, b = strings.TrimSpace(a), strings.TrimSpace(b)
	return a != "" && a == b
}

// detectSameAccount: the friend's external id is the advocate's.
func detectSameAccount(_ *Engine, f *facts, out []Signal) []Signal {
	if same(f.r.Advocate.ExternalID, f.r.Friend.ExternalID) {
		out = append(out, newSignal(SelfSameAccount,
			fmt.Sprintf("friend and advocate share the external id %q", strings.TrimSpace(f.r.Friend.ExternalID))))
	}
	return out
}

// detectEmailIdentity: the same normalized mailbox, or else two mailboxes
// built from the same words.
func detectEmailIdentity(_ *Engine, f *facts, out []Signal) []Signal {
	if f.advEmail == "" || f.friEmail == "" {
		return out
	}
	if f.advEmail == f.friEmail {
		return append(out, newSignal(SelfSameEmail,
			fmt.Sprintf("friend email %q and advocate email %q are the same mailbox %q once normalized",
				f.r.Friend.Email, f.r.Advocate.Email, f.friEmail)))
	}
	ac, fc := localCore(f.advLocal), localCore(f.friLocal)
	if len(ac) >= 8 && ac == fc {
		return append(out, newSignal(SelfSimilarEmail,
			fmt.Sprintf("friend email %q and advocate email %q share the local part %q apart from digits and punctuation",
				f.friEmail, f.advEmail, fc)))
	}
	ft := localTokens(f.friLocal)
	if at := localTokens(f.advLocal); at != "" && at == ft {
		return append(out, newSignal(SelfSimilarEmail,
			fmt.Sprintf("friend email %q and advocate email %q are made of the same words %q",
				f.friEmail, f.advEmail, ft)))
	}
	if words := nameWords(f.r.Advocate.Name); len(words) >= 2 {
		joined := strings.Join(words, "")
		reversed := strings.Join(words[len(words)-1:], "") + strings.Join(words[:len(words)-1], "")
		sortStrings(words)
		if (len(joined) >= 8 && (fc == joined || fc == reversed)) || ft == strings.Join(words, " ") {
			return append(out, newSignal(SelfSimilarEmail,
				fmt.Sprintf("friend email %q is built from the advocate's name %q", f.friEmail, f.r.Advocate.Name)))
		}
	}
	return out
}

// detectSameName: the same full name, strong when a non-free email domain or
// the postal address is also shared.
func detectSameName(_ *Engine, f *facts, out []Signal) []Signal {
	an := normalizeName(f.r.Advocate.Name)
	if an == "" || an != normalizeName(f.r.Friend.Name) {
		return out
	}
	if f.advDomain != "" && f.friDomain != "" {
		ar, fr := RegistrableDomain(f.advDomain), RegistrableDomain(f.friDomain)
		if ar == fr && !IsFreeEmailProvider(fr) {
			return append(out, newSignal(SelfSameNameDomain,
				fmt.Sprintf("friend and advocate are both named %q and both use the non-free email domain %s", an, fr)))
		}
	}
	if aa := normalizeAddress(f.r.Advocate.Address); aa != "" && aa == normalizeAddress(f.r.Friend.Address) {
		return append(out, newSignal(SelfSameNameAddress,
			fmt.Sprintf("friend and advocate are both named %q and share the address %q", an, shorten(f.r.Friend.Address))))
	}
	return append(out, newSignal(SelfSameName,
		fmt.Sprintf("friend and advocate are both named %q", an)))
}

// detectSamePayment: the friend paid with the advocate's instrument.
func detectSamePayment(_ *Engine, f *facts, out []Signal) []Signal {
	if same(f.r.Advocate.PaymentFingerprint, f.r.Friend.PaymentFingerprint) {
		out = append(out, newSignal(SelfSamePayment,
			fmt.Sprintf("friend paid with the advocate's payment instrument (fingerprint %s)", shorten(f.r.Friend.PaymentFingerprint))))
	}
	return out
}

// detectSameDevice: the friend signed up on the advocate's device.
func detectSameDevice(_ *Engine, f *facts, out []Signal) []Signal {
	if same(f.r.Advocate.DeviceID, f.r.Friend.DeviceID) {
		out = append(out, newSignal(SelfSameDevice,
			fmt.Sprintf("friend signed up on the advocate's device %s", shorten(f.r.Friend.DeviceID))))
	}
	return out
}

// detectSharedNetwork: same IP, else same /24 or /64; plus the same
// User-Agent when the network matched.
func detectSharedNetwork(_ *Engine, f *facts, out []Signal) []Signal {
	var exact, subnet netip.Addr
	var subnetKey netip.Prefix
	for _, fa := range f.friendIPs {
		for _, aa := range f.advIPs {
			if fa == aa {
				exact = fa
				break
			}
			if !subnet.IsValid() && NetworkKey(fa) == NetworkKey(aa) {
				subnet, subnetKey = fa, NetworkKey(fa)
			}
		}
		if exact.IsValid() {
			break
		}
	}
	switch {
	case exact.IsValid():
		out = append(out, newSignal(NetSameIP,
			fmt.Sprintf("friend used %s, an IP the advocate used recently", exact)))
	case subnet.IsValid():
		out = append(out, newSignal(NetSameSubnet,
			fmt.Sprintf("friend used %s, in the advocate's network %s", subnet, subnetKey)))
	default:
		return out
	}
	ua := strings.TrimSpace(f.r.Advocate.UserAgent)
	if ua == "" {
		return out
	}
	if same(ua, f.r.Friend.UserAgent) || (f.r.Click != nil && same(ua, f.r.Click.UserAgent)) {
		out = append(out, newSignal(NetSameUserAgent,
			fmt.Sprintf("friend, on the advocate's network, also has the advocate's exact User-Agent %q", shorten(ua))))
	}
	return out
}

// inWindow reports whether t is within [at-window, at]; zero times are.
func inWindow(t, at time.Time, window time.Duration) bool {
	if t.IsZero() || at.IsZero() {
		return true
	}
	return !t.Before(at.Add(-window)) && !t.After(at)
}

// detectClickFlood: many clicks from one IP, one User-Agent or from
// automation on the advocate's code in the click window.
func detectClickFlood(e *Engine, f *facts, out []Signal) []Signal {
	r := f.r
	if len(r.RecentClicks) < min(e.tuning.ClickFloodPerIP, e.tuning.AutomatedClicks) {
		return out
	}
	perIP := make(map[netip.Addr]int, len(r.RecentClicks))
	perUA := make(map[string]int, 8)
	classes := make(map[string]UserAgentClass, 8) // the same few User-Agents repeat
	browser, automated := 0, 0
	for i := range r.RecentClicks {
		c := &r.RecentClicks[i]
		if !inWindow(c.At, r.At, e.tuning.ClickWindow) {
			continue
		}
		class, ok := classes[c.UserAgent]
		if !ok {
			class = ClassifyUserAgent(c.UserAgent)
			classes[c.UserAgent] = class
		}
		switch class {
		case UAPreview, UACrawler:
			continue // sharing a link in a chat or being indexed is not abuse
		case UABrowser:
			browser++
			perUA[strings.TrimSpace(c.UserAgent)]++
		default:
			automated++
		}
		if a, ok := ParseIP(c.IP); ok && comparableIP(a) {
			perIP[a]++
		}
	}
	var topIP netip.Addr
	topIPn := 0
	for a, n := range perIP {
		if n > topIPn || (n == topIPn && a.Less(topIP)) {
			topIP, topIPn = a, n
		}
	}
	var topUA string
	topUAn := 0
	for ua, n := range perUA {
		if n > topUAn || (n == topUAn && ua < topUA) {
			topUA, topUAn = ua, n
		}
	}
	w := days(e.tuning.ClickWindow)
	if topIPn >= e.tuning.ClickFloodPerIP {
		out = append(out, newSignal(NetClickFloodIP,
			fmt.Sprintf("%d clicks on code %q from %s within %s (flood threshold %d)", topIPn, r.Code, topIP, w, e.tuning.ClickFloodPerIP)))
	}
	if browser > 0 && topUAn >= e.tuning.ClickFloodPerUA && float64(topUAn) >= e.tuning.ClickFloodUAShare*float64(browser) {
		out = append(out, newSignal(NetClickFloodUA,
			fmt.Sprintf("%d of %d browser clicks on code %q within %s share the User-Agent %q (flood threshold %d and %.0f%%)",
				topUAn, browser, r.Code, w, shorten(topUA), e.tuning.ClickFloodPerUA, 100*e.tuning.ClickFloodUAShare)))
	}
	if automated >= e.tuning.AutomatedClicks {
		out = append(out, newSignal(NetAutomatedClicks,
			fmt.Sprintf("%d clicks on code %q within %s came from scripts, headless browsers or no User-Agent (threshold %d)",
				automated, r.Code, w, e.tuning.AutomatedClicks)))
	}
	return out
}

// detectBotClick: the attributed click was not made by a browser.
func detectBotClick(_ *Engine, f *facts, out []Signal) []Signal {
	if f.r.Click == nil {
		return out
	}
	if c := ClassifyUserAgent(f.r.Click.UserAgent); c != UABrowser {
		out = append(out, newSignal(NetBotClick,
			fmt.Sprintf("the click this referral is attributed to came from a non-browser client (%s, User-Agent %q)", c, shorten(f.r.Click.UserAgent))))
	}
	return out
}

// detectBotSignup: the friend's signup came from a non-browser client. An
// empty User-Agent is treated as unknown here.
func detectBotSignup(_ *Engine, f *facts, out []Signal) []Signal {
	ua := strings.TrimSpace(f.r.Friend.UserAgent)
	if ua == "" {
		return out
	}
	if c := ClassifyUserAgent(ua); c != UABrowser {
		out = append(out, newSignal(NetBotSignup,
			fmt.Sprintf("the friend's signup came from a non-browser client (%s, User-Agent %q)", c, shorten(ua))))
	}
	return out
}

// detectHostingIP: the friend came from operator-listed Tor or datacenter
// ranges.
func detectHostingIP(e *Engine, f *facts, out []Signal) []Signal {
	var tor, dc bool
	for _, a := range []netip.Addr{f.friIP, f.clickIP} {
		if !a.IsValid() {
			continue
		}
		if p, ok := e.lists.tor.match(a); ok && !tor {
			tor = true
			out = append(out, newSignal(NetTorExit, fmt.Sprintf("friend used %s, a listed Tor exit (%s)", a, p)))
		}
		if p, ok := e.lists.datacenter.match(a); ok && !dc {
			dc = true
			out = append(out, newSignal(NetDatacenterIP, fmt.Sprintf("friend used %s, inside the listed hosting/VPN range %s", a, p)))
		}
	}
	return out
}

// detectDisposable: the friend's email domain is disposable.
func detectDisposable(e *Engine, f *facts, out []Signal) []Signal {
	if f.friDomain == "" {
		return out
	}
	if m := e.lists.isDisposable(f.friDomain); m != "" {
		out = append(out, newSignal(IDDisposableEmail,
			fmt.Sprintf("friend email domain %s is a disposable-email service (list entry %s)", f.friDomain, m)))
	}
	return out
}

// relayDomains hand out random addresses by design (Apple's Hide My Email,
// Firefox Relay, ...); randomness there is a privacy feature, not a signal.
var relayDomains = map[string]struct{}{
	"privaterelay.appleid.com": {}, "mozmail.com": {}, "duck.com": {}, "simplelogin.com": {},
	"simplelogin.co": {}, "anonaddy.me": {}, "addy.io": {}, "passmail.net": {}, "passinbox.com": {},
}

// detectRandomEmail: the friend's local part looks machine generated.
func detectRandomEmail(_ *Engine, f *facts, out []Signal) []Signal {
	if f.friLocal == "" {
		return out
	}
	if _, relay := relayDomains[f.friDomain]; relay {
		return out
	}
	if RandomLookingLocalPart(f.friLocal) {
		out = append(out, newSignal(IDRandomEmail,
			fmt.Sprintf("friend email local part %q looks machine generated", f.friLocal)))
	}
	return out
}

// detectBlocklists: operator blocklists for emails, domains, IPs and
// countries, checked for both parties (friend first).
func detectBlocklists(e *Engine, f *facts, out []Signal) []Signal {
	l := e.lists
	type party struct {
		role, rawEmail, email, domain, country string
		ips                                    []netip.Addr
	}
	friendIPs := []netip.Addr{f.friIP}
	if f.clickIP.IsValid() {
		friendIPs = append(friendIPs, f.clickIP)
	}
	advIP, _ := ParseIP(f.r.Advocate.IP)
	parties := [2]party{
		{"friend", f.r.Friend.Email, f.friEmail, f.friDomain, f.r.Friend.Country, friendIPs},
		{"advocate", f.r.Advocate.Email, f.advEmail, f.advDomain, f.r.Advocate.Country, []netip.Addr{advIP}},
	}
	var email, domain, ip, country bool
	for _, p := range parties {
		if !email && len(l.blockedExact)+len(l.blockedGlobs) > 0 && p.rawEmail != "" {
			if m := l.blockedEmail(p.rawEmail, p.email); m != "" {
				email = true
				out = append(out, newSignal(IDBlockedEmail, fmt.Sprintf("%s email %q matches blocklist entry %q", p.role, p.rawEmail, m)))
			}
		}
		if !domain && p.domain != "" {
			if m := domainInSet(p.domain, l.blockedDomains); m != "" {
				domain = true
				out = append(out, newSignal(IDBlockedDomain, fmt.Sprintf("%s email domain %s matches blocked domain %s", p.role, p.domain, m)))
			}
		}
		if !ip {
			for _, a := range p.ips {
				if pr, ok := l.blockedIPs.match(a); ok {
					ip = true
					out = append(out, newSignal(IDBlockedIP, fmt.Sprintf("%s IP %s is inside blocked range %s", p.role, a, pr)))
					break
				}
			}
		}
		if !country && p.country != "" && len(l.countries) > 0 {
			cc := strings.ToUpper(strings.TrimSpace(p.country))
			if _, ok := l.countries[cc]; ok {
				country = true
				out = append(out, newSignal(IDBlockedCountry, fmt.Sprintf("%s country %s is blocked", p.role, cc)))
			}
		}
	}
	return out
}

// detectVelocity: the advocate's signups in the trailing hour against
// their own EWMA baseline and the program's per-active-advocate one.
func detectVelocity(e *Engine, f *facts, out []Signal) []Signal {
	h := f.r.AdvocateHistory
	n := h.ThisHour
	if n < e.tuning.VelocityMinCount {
		return out
	}
	za := h.Hourly.ZScore(n)
	if za < e.tuning.VelocityZ {
		return out
	}
	if personLike(f) {
		// A burst is evidence about the advocate's traffic; it holds the
		// friends that look manufactured, not people arriving from a
		// newsletter, a viral post or a team chat (issue 14).
		return out
	}
	prog := ""
	if p := f.r.ProgramHourly; p.Hours > 0 {
		zp := p.ZScore(n)
		if zp < e.tuning.VelocityZ {
			return out
		}
		prog = fmt.Sprintf(" and the program's %.1f±%.1f per advocate (z=%.1f)", p.Mean, p.StdDev(), zp)
	}
	return append(out, newSignal(BehVelocityBurst,
		fmt.Sprintf("advocate has %d referred signups in the last hour against their baseline %.1f±%.1f/h (z=%.1f)%s; threshold z≥%.1f",
			n, h.Hourly.Mean, h.Hourly.StdDev(), za, prog, e.tuning.VelocityZ)))
}

// personLike reports whether the friend looks like a person rather than a
// manufactured account: an address made of their own name (a name word of
// at least 3 letters, or initial + surname), not random-looking, not on a
// throwaway domain, a browser signup and click, and a device that is not
// the advocate's. Fake accounts made in bulk use generated or throwaway
// addresses and scripts; the people a newsletter or a viral post brings
// in use the address they always use.
func personLike(f *facts) bool {
	r := f.r
	if f.friLocal == "" || RandomLookingLocalPart(f.friLocal) || IsDisposableDomain(f.friDomain) || !OwnNameAddress(f.friLocal, r.Friend.Name) {
		return false
	}
	if ua := strings.TrimSpace(r.Friend.UserAgent); ua != "" && IsBotUserAgent(ua) {
		return false
	}
	if r.Click != nil && IsBotUserAgent(r.Click.UserAgent) {
		return false
	}
	return !same(r.Friend.DeviceID, r.Advocate.DeviceID)
}

// detectInactivity: the friend never used the product, and the advocate's
// friends usually do not.
func detectInactivity(e *Engine, f *facts, out []Signal) []Signal {
	r := f.r
	if a := r.FriendActivity; a != nil && a.Events <= 0 && !r.Friend.SignedUpAt.IsZero() && !r.At.IsZero() {
		if age := r.At.Sub(r.Friend.SignedUpAt); age >= e.tuning.InactiveAfter {
			out = append(out, newSignal(BehNoActivity,
				fmt.Sprintf("friend has had no product activity in the %s since signing up (threshold %s)", days(age), days(e.tuning.InactiveAfter))))
		}
	}
	h := r.AdvocateHistory
	if h.Referrals >= e.tuning.InactivePatternMin && float64(h.InactiveReferrals) >= e.tuning.InactivePatternShare*float64(h.Referrals) {
		out = append(out, newSignal(BehInactiveReferrals,
			fmt.Sprintf("%d of the advocate's %d earlier referred friends never used the product (threshold %.0f%%)",
				h.InactiveReferrals, h.Referrals, 100*e.tuning.InactivePatternShare)))
	}
	return out
}

// detectRefunds: refund or cancellation soon after the reward, and the
// advocate's history of them.
func detectRefunds(e *Engine, f *facts, out []Signal) []Signal {
	r := f.r
	if c := r.Conversion; c != nil {
		undo, what := c.RefundedAt, "refunded"
		if undo.IsZero() || (!c.CancelledAt.IsZero() && c.CancelledAt.Before(undo)) {
			undo, what = c.CancelledAt, "cancelled"
		}
		base, baseWhat := c.RewardedAt, "the reward"
		if base.IsZero() {
			base, baseWhat = c.At, "converting"
		}
		used := r.FriendActivity != nil && r.FriendActivity.Events > 0
		if used && r.AdvocateHistory.RefundedReferrals == 0 {
			// A customer who used the product and changed their mind; the
			// refunded order's rewards are reversed by the refund itself.
			// A cash-out account never uses the product, and an advocate
			// whose friends keep refunding has earlier refunds.
			undo = time.Time{}
		}
		if !undo.IsZero() && !base.IsZero() {
			if d := undo.Sub(base); d <= e.tuning.RefundWindow {
				when := fmt.Sprintf("%s after %s", days(d), baseWhat)
				if d < 0 {
					when = fmt.Sprintf("%s before %s", days(-d), baseWhat)
				}
				out = append(out, newSignal(BehQuickRefund,
					fmt.Sprintf("the friend's conversion was %s %s (window %s)", what, when, days(e.tuning.RefundWindow))))
			}
		}
	}
	h := r.AdvocateHistory
	if h.Referrals >= e.tuning.RefundPatternMin && float64(h.RefundedReferrals) >= e.tuning.RefundPatternShare*float64(h.Referrals) {
		out = append(out, newSignal(BehRefundPattern,
			fmt.Sprintf("%d of the advocate's %d earlier referred friends refunded or cancelled (threshold %.0f%%)",
				h.RefundedReferrals, h.Referrals, 100*e.tuning.RefundPatternShare)))
	}
	return out
}

// detectConvergence: several referred friends behind one payment
// instrument or address.
func detectConvergence(e *Engine, f *facts, out []Signal) []Signal {
	c := f.r.Convergence
	if c.SamePaymentFriends >= e.tuning.SharedPaymentMin && strings.TrimSpace(f.r.Friend.PaymentFingerprint) != "" {
		out = append(out, newSignal(BehSharedPayment,
			fmt.Sprintf("%d other referred friends paid with this friend's payment instrument (threshold %d)", c.SamePaymentFriends, e.tuning.SharedPaymentMin)))
	}
	if c.SameAddressFriends >= e.tuning.SharedAddressMin && strings.TrimSpace(f.r.Friend.Address) != "" {
		out = append(out, newSignal(BehSharedAddress,
			fmt.Sprintf("%d other referred friends share this friend's address (threshold %d)", c.SameAddressFriends, e.tuning.SharedAddressMin)))
	}
	return out
}

// detectCouponSite: the attributed click came from a coupon or deal site.
func detectCouponSite(e *Engine, f *facts, out []Signal) []Signal {
	c := f.r.Click
	if c == nil || (c.Referer == "" && c.LandingURL == "") {
		return out
	}
	if m := e.lists.couponMatchQuery(c.Referer, f.landingQuery); m != "" {
		src := "referer " + shorten(c.Referer)
		if c.Referer == "" || !strings.Contains(strings.ToLower(c.Referer), strings.SplitN(m, "/", 2)[0]) {
			src = "landing URL " + shorten(c.LandingURL)
		}
		out = append(out, newSignal(LeakCouponSite,
			fmt.Sprintf("the click came from coupon/deal site %s (%s)", m, src)))
	}
	return out
}

// adClickParams are query parameters that ad platforms append to paid
// clicks only.
var adClickParams = []string{
	"gclid", "gbraid", "wbraid", "dclid", "msclkid", "ttclid", "twclid", "li_fat_id", "yclid",
	"epik", "sccid", "rdt_cid",
}

// paidMediums are utm_medium values that mean bought traffic.
var paidMediums = map[string]struct{}{
	"cpc": {}, "ppc": {}, "paid": {}, "paidsearch": {}, "paid_search": {}, "paid-search": {},
	"paidsocial": {}, "paid_social": {}, "paid-social": {}, "cpm": {}, "display": {}, "sem": {}, "ads": {},
}

// detectAdClick: the landing URL carries paid-ad click ids or a paid medium;
// fbclid alone is reported separately because Facebook also adds it to
// organic shares.
func detectAdClick(_ *Engine, f *facts, out []Signal) []Signal {
	q := f.landingQuery
	if len(q) == 0 {
		return out
	}
	var found []string
	for _, p := range adClickParams {
		if q.Get(p) != "" {
			found = append(found, p)
		}
	}
	medium := strings.ToLower(strings.TrimSpace(q.Get("utm_medium")))
	if _, paid := paidMediums[medium]; paid {
		found = append(found, "utm_medium="+medium)
	}
	fb := q.Get("fbclid") != ""
	switch {
	case len(found) > 0:
		if fb {
			found = append(found, "fbclid")
		}
		out = append(out, newSignal(LeakAdClick,
			fmt.Sprintf("the landing URL carries paid-traffic markers %s", strings.Join(found, ", "))))
	case fb:
		out = append(out, newSignal(LeakFBCLID, "the landing URL carries fbclid (Facebook adds it to organic shares and ads alike)"))
	}
	return out
}

// detectExistingCustomer: the friend was already a customer, by the
// caller's records or by their payment instrument.
func detectExistingCustomer(_ *Engine, f *facts, out []Signal) []Signal {
	if f.r.Friend.AlreadyCustomer {
		out = append(out, newSignal(LeakExistingCustomer, "the friend was already a customer before this referral"))
	}
	if n := f.r.Convergence.CustomersSamePayment; n > 0 && strings.TrimSpace(f.r.Friend.PaymentFingerprint) != "" {
		out = append(out, newSignal(LeakExistingPayment,
			fmt.Sprintf("the friend's payment instrument was already used by %d existing customer account(s)", n)))
	}
	return out
}

// shorten trims long values in reasons.
func shorten(s string) string {
	s = strings.TrimSpace(s)
	const maxLen = 80
	if len(s) <= maxLen {
		return s
	}
	cut := maxLen
	for cut > 0 && s[cut]&0xC0 == 0x80 { // do not split a UTF-8 sequence
		cut--
	}
	return s[:cut] + "…"
}

// days formats a duration for reasons: in days from a day up ("7d",
// "20.1d"), else in whole hours ("1h"), minutes ("1h30m", "45m") or
// seconds.
func days(d time.Duration) string {
	switch {
	case d >= 24*time.Hour:
		n := d.Hours() / 24
		if n == float64(int(n)) {
			return fmt.Sprintf("%dd", int(n))
		}
		return fmt.Sprintf("%.1fd", n)
	case d%time.Hour == 0:
		return fmt.Sprintf("%dh", int(d.Hours()))
	case d < time.Minute:
		return d.Round(time.Second).String()
	}
	return strings.TrimSuffix(d.Round(time.Minute).String(), "0s")
}
