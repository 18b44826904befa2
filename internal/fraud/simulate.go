package fraud

import (
	"fmt"
	"math"
	"math/rand/v2"
	"net/netip"
	"strings"
	"sync"
	"time"
)

// Label is the ground truth of a simulated case: genuine, or the kind of
// abuse it is.
type Label string

// Labels of simulated cases.
const (
	LabelGenuine          Label = "genuine"
	LabelSelfReferral     Label = "self_referral"
	LabelDisposable       Label = "disposable_email"
	LabelClickFlood       Label = "click_flood"
	LabelVelocity         Label = "velocity_burst"
	LabelCouponLeak       Label = "coupon_leak"
	LabelPaidAds          Label = "paid_ads"
	LabelNoActivity       Label = "no_activity"
	LabelRefund           Label = "refund_abuse"
	LabelExistingCustomer Label = "existing_customer"
)

// Labels returns every label, genuine first, in report order.
func Labels() []Label {
	return []Label{LabelGenuine, LabelSelfReferral, LabelDisposable, LabelClickFlood, LabelVelocity,
		LabelCouponLeak, LabelPaidAds, LabelNoActivity, LabelRefund, LabelExistingCustomer}
}

// LabelledCase is one simulated referral with its ground truth. Detectors
// only ever see Referral; Label and Scenario are for measuring.
type LabelledCase struct {
	// Referral holds the facts a real system would have.
	Referral Referral
	// Label is the ground truth.
	Label Label
	// Scenario names the sub-case, e.g. "household", "office",
	// "gmail-alias", "flood-one-ip".
	Scenario string
}

// abuseMix is the share of all cases for each abuse kind (11.9% in total);
// the rest are genuine.
var abuseMix = []struct {
	label Label
	rate  float64
}{
	{LabelSelfReferral, 0.035},
	{LabelDisposable, 0.012},
	{LabelClickFlood, 0.012},
	{LabelVelocity, 0.012},
	{LabelCouponLeak, 0.010},
	{LabelPaidAds, 0.008},
	{LabelNoActivity, 0.012},
	{LabelRefund, 0.008},
	{LabelExistingCustomer, 0.010},
}

// Simulate generates n labelled referrals of a synthetic program,
// reproducibly from seed (math/rand/v2 PCG): the same seed and n always give
// the same cases.
//
// About 88% of cases are genuine, including benign look-alikes a naive
// detector would punish: households and offices sharing an IP, colleagues
// on one company domain, relatives with the same name, people with digits
// or random-looking addresses, Apple relay addresses, mobile carriers
// sharing subnets, popular advocates with heavy click traffic, link-preview
// fetchers, Facebook shares carrying fbclid, a few genuine refunds,
// inactive users, viral bursts and privacy-minded disposable-address users.
// The rest is abuse at the rates of the mix above: self-referrals (Gmail
// dot/+tag aliases, second addresses, same device, browser, network or
// card), fake accounts with disposable or random addresses, click floods,
// velocity bursts, coupon-site leaks, paid ads, fake accounts that never
// become active, refund abuse and existing customers posing as new. Abusers
// are imperfect and inconsistent as in real life: some use VPNs, new
// devices, unlisted disposable domains or stripped referers, and those cases
// are deliberately hard or impossible to catch. The label is never encoded
// in a field detectors read.
func Simulate(seed int64, n int) []LabelledCase {
	if n <= 0 {
		return nil
	}
	s := newSim(seed)
	cases := make([]LabelledCase, 0, n)
	for i := range n {
		at := s.base.Add(time.Duration(i) * 7 * time.Minute).Add(time.Duration(s.rng.IntN(400)) * time.Second)
		label := s.pickLabel()
		cases = append(cases, s.build(at, label))
	}
	return cases
}

type sim struct {
	rng     *rand.Rand
	base    time.Time
	program Velocity
	ids     int
	domains []string // embedded disposable domains, file order
}

func newSim(seed int64) *sim {
	s := &sim{
		rng:     rand.New(rand.NewPCG(uint64(seed), 0x5eed_0f_9a22a1)),
		base:    time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC),
		domains: disposableList(),
	}
	// Program baseline: referred signups per active advocate per hour over
	// four weeks of active advocate-hours.
	for range 24 * 28 {
		n := 1 + s.poisson(0.2)
		if s.rng.Float64() < 0.05 {
			n = 1 + s.poisson(3)
		}
		s.program = s.program.Update(n)
	}
	return s
}

var (
	disposableListOnce sync.Once
	disposableSlice    []string
)

// disposableList returns the embedded disposable domains in file order.
func disposableList() []string {
	disposableListOnce.Do(func() {
		for line := range strings.SplitSeq(disposableData, "\n") {
			if line = strings.TrimSpace(line); line != "" && line[0] != '#' {
				disposableSlice = append(disposableSlice, line)
			}
		}
	})
	return disposableSlice
}

func (s *sim) pickLabel() Label {
	x := s.rng.Float64()
	for _, m := range abuseMix {
		if x < m.rate {
			return m.label
		}
		x -= m.rate
	}
	return LabelGenuine
}

// ---- random helpers -------------------------------------------------------

func (s *sim) chance(p float64) bool { return s.rng.Float64() < p }

func (s *sim) between(lo, hi int) int { return lo + s.rng.IntN(hi-lo+1) }

func (s *sim) dur(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(s.rng.Int64N(int64(hi-lo)+1))
}

func pick[T any](s *sim, xs []T) T { return xs[s.rng.IntN(len(xs))] }

type weighted[T any] struct {
	w float64
	v T
}

func pickW[T any](s *sim, xs []weighted[T]) T {
	total := 0.0
	for _, x := range xs {
		total += x.w
	}
	r := s.rng.Float64() * total
	for _, x := range xs {
		if r < x.w {
			return x.v
		}
		r -= x.w
	}
	return xs[len(xs)-1].v
}

func (s *sim) poisson(lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	if lambda > 30 {
		return max(0, int(math.Round(lambda+math.Sqrt(lambda)*s.rng.NormFloat64())))
	}
	l, k, p := math.Exp(-lambda), 0, 1.0
	for {
		p *= s.rng.Float64()
		if p < l {
			return k
		}
		k++
	}
}

func (s *sim) binomial(n int, p float64) int {
	k := 0
	for range n {
		if s.chance(p) {
			k++
		}
	}
	return k
}

func (s *sim) hex(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[s.rng.IntN(16)]
	}
	return string(b)
}

func (s *sim) randomLocal(n int) string {
	const chars = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	for i := range b {
		b[i] = chars[s.rng.IntN(len(chars))]
	}
	return string(b)
}

// ---- world data -------------------------------------------------------------

var (
	simFirst = []string{"Jean", "Marie", "Pierre", "Sophie", "Lucas", "Emma", "Louis", "Léa", "Hugo", "Chloé",
		"Thomas", "Camille", "Nicolas", "Julie", "Antoine", "Sarah", "Paul", "Laura", "James", "Olivia", "John",
		"Emily", "Michael", "Jessica", "David", "Anna", "Daniel", "Sofia", "Lukas", "Mia", "Jonas", "Lena",
		"Mateo", "Lucía", "Pablo", "Carmen", "Marco", "Giulia", "Ahmed", "Fatima", "Yuki", "Wei", "Priya",
		"Arjun", "Noah", "Zoé", "Léo", "Inès", "Nathan", "Manon", "Oscar", "Alice", "Gabriel", "Jade", "Adam",
		"Louise", "Raphaël", "Ambre", "Arthur", "Rose"}
	simLast = []string{"Martin", "Bernard", "Dubois", "Thomas", "Robert", "Richard", "Petit", "Durand", "Leroy",
		"Moreau", "Simon", "Laurent", "Lefebvre", "Michel", "Garcia", "Smith", "Johnson", "Williams", "Brown",
		"Jones", "Miller", "Davis", "Wilson", "Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Rossi",
		"Russo", "Ferrari", "Fernández", "López", "Martínez", "Sánchez", "Nguyen", "Kowalski", "Novak", "Jansen",
		"De Vries", "Dupont", "Lambert", "Fontaine", "Chevalier", "Roux", "Girard", "Bonnet", "Mercier", "Blanc",
		"Faure", "O'Brien", "Kaur", "Haddad", "Costa", "Silva", "Berg", "Lindqvist", "Horvath", "Papadopoulos", "Yilmaz"}
	simNicks   = []string{"lolo", "titou", "gamer", "skater", "sunny", "bluebird", "coolcat", "ninja", "doudou", "kiki", "momo", "zaza", "pixel", "rider"}
	simCompany = []string{"acme-logistics", "northwind", "contoso", "globex", "initech", "umbrella-labs", "blueriver",
		"lumen-studio", "atelier-moreau", "kestrel", "hooli", "vandelay", "soylent", "wayne-ent", "stark-ind", "tyrell",
		"cyberdyne", "aperture-sci", "massive-dynamic", "oscorp", "pied-piper", "dunder-mifflin", "prestige-ww", "gringotts"}
	simCompanyTLD = []string{".com", ".fr", ".de", ".co.uk", ".io", ".eu"}
	simStreets    = []string{"rue de la Paix", "avenue Victor Hugo", "High Street", "Hauptstraße", "Main Street",
		"rue du Moulin", "Calle Mayor", "Via Roma", "Station Road", "boulevard Voltaire", "Church Lane", "Kirchweg"}
	simCities = []string{"Paris", "Lyon", "Lille", "London", "Leeds", "Berlin", "Hamburg", "Madrid", "Rome", "Boston", "Nantes", "Brussels"}

	simDomains = []weighted[string]{
		{36, "gmail.com"}, {1, "googlemail.com"}, {5, "outlook.com"}, {4, "hotmail.com"}, {2, "hotmail.fr"},
		{1, "live.fr"}, {4, "yahoo.com"}, {2, "yahoo.fr"}, {1, "yahoo.co.uk"}, {5, "icloud.com"}, {1, "me.com"},
		{4, "orange.fr"}, {3, "free.fr"}, {2, "laposte.net"}, {1, "sfr.fr"}, {2, "gmx.de"}, {2, "web.de"},
		{1, "t-online.de"}, {1, "btinternet.com"}, {2, "protonmail.com"}, {1, "proton.me"},
		{12, "@company"}, {3, "privaterelay.appleid.com"}, {1, "@university"},
	}

	simBrowserUAs = []weighted[string]{
		{18, "Mozilla/5.0 (iPhone; CPU iPhone OS 19_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/19.1 Mobile/15E148 Safari/604.1"},
		{16, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36"},
		{12, "Mozilla/5.0 (Linux; Android 15; SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Mobile Safari/537.36"},
		{8, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36"},
		{7, "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/19.1 Safari/605.1.15"},
		{7, "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/142.0.0.0 Safari/537.36 Edg/142.0.0.0"},
		{5, "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.6 Mobile/15E148 Safari/604.1"},
		{5, "Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/141.0.0.0 Mobile Safari/537.36"},
		{4, "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:144.0) Gecko/20100101 Firefox/144.0"},
		{4, "Mozilla/5.0 (Linux; Android 14; SAMSUNG SM-A546B) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/28.0 Chrome/130.0.0.0 Mobile Safari/537.36"},
		{3, "Mozilla/5.0 (iPhone; CPU iPhone OS 19_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 402.0.0.32.76"},
		{3, "Mozilla/5.0 (iPhone; CPU iPhone OS 19_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 [FBAN/FBIOS;FBAV/520.0.0.38.100]"},
		{3, "Mozilla/5.0 (iPad; CPU OS 19_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/19.1 Mobile/15E148 Safari/604.1"},
		{2, "Mozilla/5.0 (X11; Linux x86_64; rv:144.0) Gecko/20100101 Firefox/144.0"},
		{2, "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.7; rv:144.0) Gecko/20100101 Firefox/144.0"},
		{1, "Mozilla/5.0 (Linux; Android 13; CUBOT P80) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/139.0.0.0 Mobile Safari/537.36"},
	}
	simMobileUAs = []weighted[string]{
		{18, simBrowserUAs[0].v}, {12, simBrowserUAs[2].v}, {5, simBrowserUAs[6].v}, {5, simBrowserUAs[7].v},
		{4, simBrowserUAs[9].v}, {3, simBrowserUAs[10].v}, {3, simBrowserUAs[11].v}, {1, simBrowserUAs[15].v},
	}
	simPreviewUAs = []string{
		"facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
		"Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
		"WhatsApp/2.25.21.80 A",
		"Twitterbot/1.0",
		"LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
		"Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
		"TelegramBot (like TwitterBot)",
	}
	simAutomationUAs = []string{
		"python-requests/2.32.3", "curl/8.7.1", "Go-http-client/2.0", "Wget/1.21.4", "",
		"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/142.0.0.0 Safari/537.36",
	}
	simReferers = []weighted[string]{
		{45, ""}, {12, "https://l.facebook.com/"}, {5, "https://t.co/"}, {5, "https://www.instagram.com/"},
		{4, "https://www.linkedin.com/"}, {5, "https://mail.google.com/"}, {3, "https://outlook.live.com/"},
		{2, "https://www.reddit.com/"}, {3, "https://blog.example.net/my-favourite-tools"}, {2, "https://www.google.com/"},
		{14, "android-app://com.whatsapp/"},
	}
	simCouponReferers = []string{
		"https://www.retailmenot.com/view/shop.example", "https://slickdeals.net/f/18273645-shop-example-referral",
		"https://www.dealabs.com/codes-promo/shop-example", "https://couponfollow.com/site/shop.example",
		"https://www.groupon.com/coupons/shop-example", "https://www.hotukdeals.com/vouchers/shop.example",
		"https://www.mydealz.de/gutscheine/shop-example", "https://www.vouchercodes.co.uk/shop.example",
		"https://www.wethrift.com/shop-example", "https://www.joinhoney.com/shop/shop-example",
	}
)

// ---- people -----------------------------------------------------------------

type simPerson struct {
	id, first, last, email string
	home, mobile, office   netip.Addr
	ua, mobileUA           string
	device, card, address  string
	country                string
}

func (p *simPerson) name() string { return p.first + " " + p.last }

func (s *sim) nextID() string {
	s.ids++
	return fmt.Sprintf("cus_%06d", s.ids)
}

func asciiFold(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		r = foldAccent(r)
		if r >= 'a' && r <= 'z' {
			b.WriteRune(r)
		}
	}
	return b.String()
}

// publicV4 draws a public IPv4 address outside private, shared and special
// ranges.
func (s *sim) publicV4() netip.Addr {
	for {
		a := netip.AddrFrom4([4]byte{byte(s.between(2, 223)), byte(s.rng.IntN(256)), byte(s.rng.IntN(256)), byte(s.between(1, 254))})
		if comparableIP(a) && a.As4()[0] != 100 && a.As4()[0] != 127 {
			return a
		}
	}
}

// homeAddr is a household's address: IPv4 behind NAT or an IPv6 /64.
func (s *sim) homeAddr() netip.Addr {
	if s.chance(0.8) {
		return s.publicV4()
	}
	return s.v6In(netip.MustParseAddr(fmt.Sprintf("2a01:e0a:%x:%x::", s.rng.IntN(0xffff), s.rng.IntN(0xffff))))
}

// v6In returns a random interface address inside the /64 of base (privacy
// extensions give every device its own).
func (s *sim) v6In(base netip.Addr) netip.Addr {
	b := base.As16()
	for i := 8; i < 16; i++ {
		b[i] = byte(s.rng.IntN(256))
	}
	return netip.AddrFrom16(b)
}

// carrierPools are mobile carriers' CGNAT egress networks: many unrelated
// people share them.
var carrierPools = []string{"80.215.12", "80.215.96", "92.184.100", "92.184.107", "37.170.4", "176.160.9", "82.132.218", "31.94.31"}

func (s *sim) mobileAddr() netip.Addr {
	return netip.MustParseAddr(fmt.Sprintf("%s.%d", pick(s, carrierPools), s.between(1, 254)))
}

func (s *sim) emailDomain() string {
	switch d := pickW(s, simDomains); d {
	case "@company":
		return pick(s, simCompany) + pick(s, simCompanyTLD)
	case "@university":
		return pick(s, []string{"ed.ac.uk", "ucl.ac.uk", "univ-lyon1.fr", "tum.de"})
	default:
		return d
	}
}

// localPart draws how a person built their address from their name.
func (s *sim) localPart(first, last string) string {
	f, l := asciiFold(first), asciiFold(last)
	yy := fmt.Sprintf("%02d", s.between(60, 105)%100)
	yyyy := fmt.Sprint(s.between(1960, 2007))
	switch x := s.rng.Float64(); {
	case x < 0.24:
		return f + "." + l
	case x < 0.34:
		return f + l
	case x < 0.42:
		return f + "." + l + yy
	case x < 0.52:
		return f + pick(s, []string{yy, yyyy})
	case x < 0.61:
		return f[:1] + l
	case x < 0.66:
		return f[:1] + "." + l
	case x < 0.71:
		return f + "_" + l
	case x < 0.75:
		return l + "." + f
	case x < 0.79:
		return f + "." + l + "." + yyyy
	case x < 0.87:
		return pick(s, simNicks) + fmt.Sprint(s.between(1, 9999))
	case x < 0.92:
		return f + l[:1] + yy
	case x < 0.93:
		return s.randomLocal(s.between(8, 12)) // legacy or generated address, still a real person
	default:
		return f + "." + l
	}
}

func (s *sim) emailFor(first, last string) string {
	d := s.emailDomain()
	if d == "privaterelay.appleid.com" {
		return s.randomLocal(10) + "@" + d
	}
	return s.localPart(first, last) + "@" + d
}

func (s *sim) newPerson() *simPerson {
	p := &simPerson{
		id:      s.nextID(),
		first:   pick(s, simFirst),
		last:    pick(s, simLast),
		home:    s.homeAddr(),
		mobile:  s.mobileAddr(),
		device:  "dev_" + s.hex(16),
		card:    "fp_" + s.hex(12),
		country: pickW(s, []weighted[string]{{40, "FR"}, {15, "GB"}, {15, "DE"}, {15, "US"}, {5, "ES"}, {5, "IT"}, {5, "BE"}}),
	}
	p.email = s.emailFor(p.first, p.last)
	p.ua = pickW(s, simBrowserUAs)
	p.mobileUA = pickW(s, simMobileUAs)
	p.address = fmt.Sprintf("%d %s, %s", s.between(1, 180), pick(s, simStreets), pick(s, simCities))
	return p
}

// ---- the referral skeleton ---------------------------------------------------

// caseBuilder accumulates one referral.
type caseBuilder struct {
	s        *sim
	r        Referral
	adv, fri *simPerson
	scenario string

	friendOnMobile bool
}

func (s *sim) skeleton(at time.Time, adv, fri *simPerson) *caseBuilder {
	b := &caseBuilder{s: s, adv: adv, fri: fri}
	b.r.At = at
	b.r.Code = strings.ToUpper(asciiFold(adv.first)) + fmt.Sprint(s.between(10, 99))
	b.r.ProgramHourly = s.program
	return b
}

// fillParties copies the people into the referral: the advocate's last
// login (home, phone or office) and recent addresses, the friend's signup
// context.
func (b *caseBuilder) fillParties() {
	s, adv, fri := b.s, b.adv, b.fri
	advIPs := []netip.Addr{adv.home, adv.mobile}
	if adv.office.IsValid() {
		advIPs = append(advIPs, adv.office)
	}
	last, lastUA := adv.home, adv.ua
	switch x := s.rng.Float64(); {
	case x < 0.3:
		last, lastUA = adv.mobile, adv.mobileUA
	case x < 0.45 && adv.office.IsValid():
		last = adv.office
	}
	b.r.Advocate = Party{
		ExternalID: adv.id, Email: adv.email, Name: adv.name(), IP: last.String(), UserAgent: lastUA,
		DeviceID: adv.device, PaymentFingerprint: adv.card, Address: adv.address, Country: adv.country,
		SignedUpAt: b.r.At.Add(-s.dur(30*24*time.Hour, 900*24*time.Hour)),
	}
	for _, a := range advIPs {
		if a != last && s.chance(0.85) {
			b.r.Advocate.RecentIPs = append(b.r.Advocate.RecentIPs, a.String())
		}
	}
	ip, ua := fri.home, fri.ua
	if b.friendOnMobile {
		ip, ua = fri.mobile, fri.mobileUA
	} else if fri.office.IsValid() && s.chance(0.6) {
		ip = fri.office
	}
	b.r.Friend = Party{
		ExternalID: fri.id, Email: fri.email, Name: fri.name(), IP: ip.String(), UserAgent: ua,
		DeviceID: fri.device, Country: fri.country, SignedUpAt: b.r.At,
	}
}

// clickFromFriend records the friend's click on the link, some time before
// signup, and usually a few repeat visits.
func (b *caseBuilder) clickFromFriend(referer, landing string) {
	s := b.s
	at := b.r.Friend.SignedUpAt.Add(-time.Duration(math.Min(s.rng.ExpFloat64()*float64(40*time.Minute), float64(72*time.Hour))))
	if landing == "" {
		landing = b.landingURL(referer)
	}
	c := Click{At: at, IP: b.r.Friend.IP, UserAgent: b.r.Friend.UserAgent, Referer: referer, LandingURL: landing}
	b.r.Click = &c
	for range 1 + s.poisson(0.6) {
		cc := c
		cc.At = at.Add(s.dur(0, 30*time.Minute))
		if cc.At.After(b.r.At) {
			cc.At = b.r.At
		}
		b.addRecent(cc)
	}
}

func (b *caseBuilder) landingURL(referer string) string {
	s := b.s
	u := "https://shop.example/r/" + b.r.Code
	var q []string
	if s.chance(0.6) {
		q = append(q, "utm_source=referral", "utm_medium="+pick(s, []string{"share", "referral", "social", "email"}), "utm_campaign=refer-a-friend")
	}
	if strings.Contains(referer, "facebook.com") && s.chance(0.85) {
		q = append(q, "fbclid=IwAR"+s.randomLocal(40))
	}
	if len(q) > 0 {
		u += "?" + strings.Join(q, "&")
	}
	return u
}

// addRecent appends a click if it is in the last two hours before At (the
// caller's recent window; the engine narrows it to its own).
func (b *caseBuilder) addRecent(c Click) {
	if c.At.After(b.r.At) || c.At.Before(b.r.At.Add(-2*time.Hour)) {
		return
	}
	b.r.RecentClicks = append(b.r.RecentClicks, c)
}

// backgroundClicks adds other people's clicks on the code, and link-preview
// fetches when the link was shared in chats.
func (b *caseBuilder) backgroundClicks(lambda float64) {
	s := b.s
	for range s.poisson(lambda) {
		ua := pickW(s, simBrowserUAs)
		ip := s.homeAddr()
		if s.chance(0.4) {
			ip = s.mobileAddr()
		}
		c := Click{At: b.r.At.Add(-s.dur(0, time.Hour)), IP: ip.String(), UserAgent: ua, Referer: pickW(s, simReferers)}
		c.LandingURL = b.landingURL(c.Referer)
		for range 1 + s.poisson(0.3) {
			b.addRecent(c)
		}
	}
	if s.chance(0.35) {
		ua := pick(s, simPreviewUAs)
		ip := s.publicV4()
		for range s.between(1, 12) {
			b.addRecent(Click{At: b.r.At.Add(-s.dur(0, time.Hour)), IP: ip.String(), UserAgent: ua, LandingURL: "https://shop.example/r/" + b.r.Code})
			if s.chance(0.3) {
				ip = s.publicV4()
			}
		}
	}
}

// history draws the advocate's baseline and past referrals.
// rate is the advocate's usual referred signups per hour.
func (b *caseBuilder) history(rate float64, priorMean float64, inactiveP, refundP float64) {
	s := b.s
	counts := make([]int, 24*7)
	for i := range counts {
		counts[i] = s.poisson(rate)
	}
	h := History{Hourly: Velocity{}.UpdateAll(counts)}
	h.ThisHour = 1 + s.poisson(rate)
	h.Referrals = s.poisson(priorMean)
	h.InactiveReferrals = s.binomial(h.Referrals, inactiveP)
	h.RefundedReferrals = s.binomial(h.Referrals-h.InactiveReferrals, refundP)
	b.r.AdvocateHistory = h
}

// Stages of assessment.
const (
	stageSignup = iota
	stageConverted
	stageMatured
)

func (s *sim) stage() int {
	return pickW(s, []weighted[int]{{50, stageSignup}, {30, stageConverted}, {20, stageMatured}})
}

// applyStage moves the assessment to the given stage: the friend signed up
// earlier, may have converted, been rewarded, used the product, refunded.
// refundP is the chance a matured conversion was refunded. Call it before
// adding the friend's clicks, which happen before signup.
func (b *caseBuilder) applyStage(stage int, inactiveP, convertP, refundP float64) {
	s := b.s
	r := &b.r
	switch stage {
	case stageSignup:
		return
	case stageConverted:
		signup := r.At.Add(-s.dur(time.Hour, 10*24*time.Hour))
		r.Friend.SignedUpAt = signup
		r.Conversion = &Conversion{At: r.At.Add(-s.dur(0, 10*time.Minute))}
		r.Friend.PaymentFingerprint = b.fri.card
		r.Friend.Address = b.fri.address // billing/shipping details arrive with the purchase
		events := 1 + s.poisson(6)
		if s.chance(inactiveP / 4) {
			events = 0 // bought without touching the product
		}
		r.FriendActivity = &Activity{Events: events, LastSeen: r.At}
	case stageMatured:
		signup := r.At.Add(-s.dur(14*24*time.Hour, 45*24*time.Hour))
		r.Friend.SignedUpAt = signup
		act := &Activity{}
		if !s.chance(inactiveP) {
			act.Events = 1 + s.poisson(25)
			act.LastSeen = r.At.Add(-s.dur(0, 10*24*time.Hour))
		}
		r.FriendActivity = act
		if s.chance(convertP) && act.Events > 0 || s.chance(convertP/5) {
			conv := signup.Add(s.dur(time.Hour, 10*24*time.Hour))
			c := &Conversion{At: conv, RewardedAt: conv.Add(s.dur(0, 24*time.Hour))}
			if s.chance(refundP) {
				ref := c.RewardedAt.Add(s.dur(2*time.Hour, 40*24*time.Hour))
				if ref.Before(r.At) {
					c.RefundedAt = ref
				}
			}
			r.Conversion = c
			r.Friend.PaymentFingerprint = b.fri.card
			r.Friend.Address = b.fri.address
		}
	}
}

// ---- genuine cases ------------------------------------------------------------

func (s *sim) build(at time.Time, label Label) LabelledCase {
	var b *caseBuilder
	switch label {
	case LabelSelfReferral:
		b = s.selfReferral(at)
	case LabelDisposable:
		b = s.fakeAccountCase(at, "disposable")
	case LabelClickFlood:
		b = s.clickFlood(at)
	case LabelVelocity:
		b = s.fakeAccountCase(at, "velocity")
	case LabelCouponLeak:
		b = s.couponLeak(at)
	case LabelPaidAds:
		b = s.paidAds(at)
	case LabelNoActivity:
		b = s.fakeAccountCase(at, "inactive")
	case LabelRefund:
		b = s.refundAbuse(at)
	case LabelExistingCustomer:
		b = s.existingCustomer(at)
	default:
		b = s.genuine(at)
	}
	return LabelledCase{Referral: b.r, Label: label, Scenario: b.scenario}
}

func (s *sim) genuine(at time.Time) *caseBuilder {
	adv, fri := s.newPerson(), s.newPerson()
	scenario := pickW(s, []weighted[string]{
		{74.5, "friend"}, {8, "household"}, {7, "office"}, {5, "popular-advocate"}, {4, "friend-on-mobile"},
		{0.4, "viral-post"}, {0.3, "relative-same-name"}, {0.3, "privacy-disposable"}, {0.5, "inactive-friend"},
	})
	b := s.skeleton(at, adv, fri)
	b.scenario = scenario
	rate, prior := 0.03, 3.0
	lambda := 0.5
	switch scenario {
	case "household", "relative-same-name":
		if adv.home.Is4() {
			fri.home = adv.home
		} else {
			fri.home = s.v6In(adv.home)
		}
		fri.address = adv.address
		fri.country = adv.country
		if scenario == "relative-same-name" {
			fri.first, fri.last = adv.first, adv.last
			fri.email = s.emailFor(fri.first, fri.last)
		} else if s.chance(0.7) {
			fri.last = adv.last
			fri.email = s.emailFor(fri.first, fri.last)
		}
		if s.chance(0.04) {
			fri.device, fri.ua = adv.device, adv.ua // one family computer
			b.scenario = "household-shared-computer"
		}
		if s.chance(0.03) {
			fri.card = adv.card // joint account
			b.scenario = "household-shared-card"
		}
		b.friendOnMobile = s.chance(0.2)
	case "office":
		office := s.publicV4()
		adv.office, fri.office = office, office
		if s.chance(0.6) {
			d := pick(s, simCompany) + pick(s, simCompanyTLD)
			adv.email = s.localPart(adv.first, adv.last) + "@" + d
			fri.email = s.localPart(fri.first, fri.last) + "@" + d
			b.scenario = "office-same-domain"
		}
		if s.chance(0.35) {
			fri.ua = adv.ua // managed laptops, one image
		}
		lambda = 2 // colleagues clicking from the office NAT
	case "popular-advocate":
		rate, prior = s.rng.Float64()*4+1, 80
		lambda = float64(s.between(30, 400))
	case "friend-on-mobile":
		b.friendOnMobile = true
	case "viral-post":
		lambda = float64(s.between(30, 150))
	case "privacy-disposable":
		fri.email = s.localPart(fri.first, fri.last) + "@" + pick(s, s.domains)
	}
	if !b.friendOnMobile {
		b.friendOnMobile = s.chance(0.3)
	}
	for sameMailbox(fri.email, adv.email) { // two people never share a mailbox
		fri.email = "x" + fri.email
	}
	b.fillParties()
	if scenario == "office" || scenario == "office-same-domain" {
		// Colleagues in the office all click from the same NAT address.
		for range s.between(1, 8) {
			b.addRecent(Click{At: at.Add(-s.dur(0, time.Hour)), IP: adv.office.String(), UserAgent: pickW(s, simBrowserUAs), Referer: "https://outlook.office.com/"})
		}
	}
	inactive := 0.18
	if scenario == "inactive-friend" {
		inactive = 1
	}
	b.applyStage(s.stage(), inactive, 0.6, 0.04)
	if s.chance(0.8) {
		b.clickFromFriend(pickW(s, simReferers), "")
	}
	b.backgroundClicks(lambda)
	b.history(rate, prior, 0.18, 0.03)
	if scenario == "viral-post" {
		b.r.AdvocateHistory.ThisHour = s.between(5, 15)
	}
	return b
}

// ---- abuse -------------------------------------------------------------------

// selfReferral: the advocate creates a second account for themselves.
func (s *sim) selfReferral(at time.Time) *caseBuilder {
	adv := s.newPerson()
	me := *adv
	fri := &me
	fri.id = s.nextID()
	b := s.skeleton(at, adv, fri)
	var parts []string

	// Which address for the second account.
	advLocal, advDomain, _ := strings.Cut(adv.email, "@")
	switch x := s.rng.Float64(); {
	case x < 0.32:
		if (advDomain == "gmail.com" || advDomain == "googlemail.com") && s.chance(0.6) {
			fri.email = gmailDotVariant(s, advLocal) + "@" + pick(s, []string{"gmail.com", "googlemail.com"})
		} else {
			fri.email = advLocal + "+" + pick(s, []string{"ref", "2", "promo", "test", "bonus", s.hex(3)}) + "@" + advDomain
		}
		parts = append(parts, "alias-email")
	case x < 0.55:
		fri.email = similarLocal(s, adv) + "@" + pick(s, []string{"gmail.com", "outlook.com", "yahoo.fr", "hotmail.com", advDomain})
		parts = append(parts, "similar-email")
	default:
		switch y := s.rng.Float64(); {
		case y < 0.15:
			fri.email = s.localPart(adv.first, adv.last) + "@" + pick(s, s.domains)
		case y < 0.25:
			fri.email = s.randomLocal(s.between(8, 12)) + "@" + pick(s, []string{"gmail.com", "outlook.com"})
		default:
			fri.email = s.localPart(pick(s, simFirst), pick(s, simLast)) + fmt.Sprint(s.between(1, 99)) + "@" + pick(s, []string{"gmail.com", "outlook.com", "yahoo.com", "icloud.com"})
		}
		parts = append(parts, "new-email")
	}
	// Which name.
	switch x := s.rng.Float64(); {
	case x < 0.55:
	case x < 0.75:
		fri.first = string([]rune(fri.first)[:1]) + "." // "J. Dupont"
	default:
		fri.first, fri.last = pick(s, simFirst), pick(s, simLast)
	}
	// Which device and network.
	mode := pickW(s, []weighted[string]{{40, "same-browser"}, {25, "incognito"}, {20, "phone-same-wifi"}, {15, "other-network"}})
	parts = append(parts, mode)
	advocateAtHome := true
	switch mode {
	case "same-browser":
	case "incognito":
		fri.device = "dev_" + s.hex(16)
		if s.chance(0.3) {
			fri.ua = pickW(s, simBrowserUAs)
		}
	case "phone-same-wifi":
		fri.device = "dev_" + s.hex(16)
		fri.ua = adv.mobileUA
	case "other-network":
		fri.device = "dev_" + s.hex(16)
		fri.home = s.homeAddr() // VPN or a friend's wifi
		fri.mobile = s.mobileAddr()
		fri.ua = adv.mobileUA
		advocateAtHome = false
	}
	if s.chance(0.02) {
		fri.id = adv.id // the integration passed the advocate's own id
	}
	b.scenario = strings.Join(parts, "+")
	b.fillParties()
	if advocateAtHome {
		b.r.Advocate.IP, b.r.Advocate.UserAgent = adv.home.String(), adv.ua
	}
	b.r.Friend.UserAgent = fri.ua
	b.applyStage(s.stage(), 0.3, 0.6, 0.06)
	if s.chance(0.85) {
		b.clickFromFriend(pickW(s, simReferers), "")
	}
	b.backgroundClicks(0.5)
	b.history(0.03, 3, 0.25, 0.05)
	if b.r.Conversion != nil {
		switch x := s.rng.Float64(); {
		case x < 0.55:
			b.r.Friend.PaymentFingerprint = adv.card
		case x < 0.8:
			b.r.Friend.PaymentFingerprint = "fp_" + s.hex(12) // a prepaid card reused for every fake
			b.r.Convergence.SamePaymentFriends = s.between(0, 4)
		default:
			b.r.Friend.PaymentFingerprint = "fp_" + s.hex(12)
		}
	}
	return b
}

func sameMailbox(a, b string) bool {
	na, ok := NormalizeEmail(a)
	nb, _ := NormalizeEmail(b)
	return ok && na == nb
}

// gmailDotVariant inserts or moves dots in a Gmail local part.
func gmailDotVariant(s *sim, local string) string {
	plain := strings.ReplaceAll(local, ".", "")
	if len(plain) < 2 {
		return plain + "."
	}
	var b strings.Builder
	for i := range len(plain) {
		b.WriteByte(plain[i])
		if i < len(plain)-1 && s.chance(0.25) {
			b.WriteByte('.')
		}
	}
	v := b.String()
	if v == local {
		v = plain[:1] + "." + plain[1:]
	}
	return v
}

// similarLocal builds a second address from the same words.
func similarLocal(s *sim, p *simPerson) string {
	f, l := asciiFold(p.first), asciiFold(p.last)
	switch s.rng.IntN(5) {
	case 0:
		return f + l + fmt.Sprint(s.between(1, 99))
	case 1:
		return l + "." + f
	case 2:
		return f + "_" + l + fmt.Sprint(s.between(1, 9))
	case 3:
		return f + "." + l + "." + fmt.Sprint(s.between(1960, 2007))
	default:
		return f + "-" + l
	}
}

// fakeFriend is an account the advocate invented.
func (s *sim) fakeFriend(adv *simPerson, disposable bool) (*simPerson, string) {
	p := s.newPerson()
	var parts []string
	if s.chance(0.15) {
		p.last = adv.last
	}
	switch x := s.rng.Float64(); {
	case disposable || x < 0.2:
		local := s.localPart(p.first, p.last)
		if s.chance(0.4) {
			local = s.randomLocal(s.between(8, 12))
		}
		if s.chance(0.85) {
			p.email = local + "@" + pick(s, s.domains)
			parts = append(parts, "disposable-listed")
		} else {
			p.email = local + "@" + "mail" + s.randomLocal(5) + pick(s, []string{".com", ".net", ".xyz"})
			parts = append(parts, "disposable-unlisted")
		}
	case x < 0.5:
		p.email = s.randomLocal(s.between(8, 12)) + "@" + pick(s, []string{"gmail.com", "outlook.com", "yahoo.com"})
		parts = append(parts, "random-email")
	default:
		p.email = s.localPart(p.first, p.last) + fmt.Sprint(s.between(1, 999)) + "@" + pick(s, []string{"gmail.com", "outlook.com", "yahoo.com", "hotmail.com"})
		parts = append(parts, "plausible-email")
	}
	switch x := s.rng.Float64(); {
	case x < 0.3:
		p.home, p.mobile = adv.home, adv.home
		if s.chance(0.75) {
			p.ua, p.mobileUA = adv.ua, adv.ua
		}
		parts = append(parts, "advocate-network")
	case x < 0.55:
		p.home = s.publicV4() // VPN or hosting; no operator ranges in the default policy
		p.mobile = p.home
		parts = append(parts, "vpn")
	default:
		parts = append(parts, "residential-proxy")
	}
	if s.chance(0.15) {
		p.device = adv.device
	}
	if s.chance(0.08) {
		p.ua = simAutomationUAs[5]
		p.mobileUA = p.ua
	}
	return p, strings.Join(parts, "+")
}

// fakeAccountCase: fake friends with disposable addresses, in a velocity
// burst, or never active.
func (s *sim) fakeAccountCase(at time.Time, kind string) *caseBuilder {
	adv := s.newPerson()
	fri, detail := s.fakeFriend(adv, kind == "disposable")
	b := s.skeleton(at, adv, fri)
	b.scenario = kind + ":" + detail
	b.fillParties()
	b.r.Friend.UserAgent = fri.ua
	switch kind {
	case "velocity":
		b.applyStage(stageSignup, 0.9, 0.05, 0)
	case "inactive":
		b.applyStage(stageMatured, 1, 0.05, 0)
	default:
		b.applyStage(s.stage(), 0.85, 0.1, 0.1)
	}
	if s.chance(0.5) {
		b.clickFromFriend("", "")
	}
	b.backgroundClicks(0.5)
	b.history(0.03, 3, 0.2, 0.03)
	switch kind {
	case "velocity":
		size := s.between(6, 40)
		pos := s.between(1, size)
		b.r.AdvocateHistory.ThisHour = pos
		// The fakes' own clicks, from the same automation or proxy pool.
		ua := pickW(s, simBrowserUAs)
		for range pos {
			b.addRecent(Click{At: at.Add(-s.dur(0, time.Hour)), IP: s.publicV4().String(), UserAgent: ua, LandingURL: "https://shop.example/r/" + b.r.Code})
		}
	case "inactive":
		b.r.AdvocateHistory.Referrals = s.between(0, 10)
		b.r.AdvocateHistory.InactiveReferrals = s.binomial(b.r.AdvocateHistory.Referrals, 0.9)
	}
	if b.r.Conversion != nil && s.chance(0.5) {
		b.r.Convergence.SamePaymentFriends = s.between(0, 3)
	}
	return b
}

// clickFlood: the advocate's code is flooded with clicks (cookie stuffing,
// click farms); the friend may be a stranger whose signup the stuffed
// cookie captured.
func (s *sim) clickFlood(at time.Time) *caseBuilder {
	adv, fri := s.newPerson(), s.newPerson()
	b := s.skeleton(at, adv, fri)
	mode := pickW(s, []weighted[string]{{50, "flood-one-ip"}, {28, "flood-one-ua"}, {14, "flood-scripts"}, {8, "flood-distributed"}})
	b.scenario = mode
	b.friendOnMobile = s.chance(0.3)
	b.fillParties()
	b.backgroundClicks(0.5)
	var flood []Click
	n := 0
	switch mode {
	case "flood-one-ip":
		n = s.between(15, 200)
		ip := s.publicV4().String()
		ua := pickW(s, simBrowserUAs)
		rotate := s.chance(0.4)
		for range n {
			if rotate {
				ua = pickW(s, simBrowserUAs)
			}
			flood = append(flood, Click{IP: ip, UserAgent: ua})
		}
	case "flood-one-ua":
		n = s.between(25, 200)
		ua := pickW(s, simBrowserUAs)
		for range n {
			flood = append(flood, Click{IP: s.homeAddr().String(), UserAgent: ua})
		}
	case "flood-scripts":
		n = s.between(8, 100)
		ips := []string{s.publicV4().String(), s.publicV4().String(), s.publicV4().String()}
		for range n {
			flood = append(flood, Click{IP: pick(s, ips), UserAgent: pick(s, simAutomationUAs)})
		}
	case "flood-distributed":
		n = s.between(30, 200)
		uas := make([]string, s.between(4, 6))
		for i := range uas {
			uas[i] = pickW(s, simBrowserUAs)
		}
		for range n {
			flood = append(flood, Click{IP: s.homeAddr().String(), UserAgent: pick(s, uas)})
		}
	}
	for i := range flood {
		flood[i].At = at.Add(-s.dur(0, 55*time.Minute))
		flood[i].LandingURL = "https://shop.example/r/" + b.r.Code
		if s.chance(0.5) {
			flood[i].Referer = "https://" + pick(s, []string{"free-games-online.example", "best-recipes.example", "tinyurl.com"}) + "/"
		}
		b.addRecent(flood[i])
	}
	if s.chance(0.5) {
		c := flood[s.rng.IntN(len(flood))] // the stuffed cookie won the attribution
		b.r.Click = &c
	} else {
		b.clickFromFriend(pickW(s, simReferers), "")
	}
	b.history(0.03, 3, 0.18, 0.03)
	b.applyStage(stageSignup, 0.18, 0.6, 0.04)
	return b
}

func (s *sim) couponLeak(at time.Time) *caseBuilder {
	adv, fri := s.newPerson(), s.newPerson()
	b := s.skeleton(at, adv, fri)
	b.friendOnMobile = s.chance(0.3)
	b.fillParties()
	b.applyStage(s.stage(), 0.2, 0.7, 0.05)
	ref := pick(s, simCouponReferers)
	switch x := s.rng.Float64(); {
	case x < 0.75:
		b.scenario = "coupon-referer"
		b.clickFromFriend(ref, "")
	case x < 0.85:
		b.scenario = "coupon-utm-no-referer"
		brand := strings.SplitN(strings.TrimPrefix(strings.TrimPrefix(ref, "https://"), "www."), ".", 2)[0]
		b.clickFromFriend("", "https://shop.example/r/"+b.r.Code+"?utm_source="+brand)
	case x < 0.92:
		b.scenario = "coupon-referer-stripped"
		b.clickFromFriend("", "")
	default:
		b.scenario = "coupon-code-typed"
	}
	b.backgroundClicks(1.5)
	b.history(0.15, 15, 0.2, 0.05)
	return b
}

func (s *sim) paidAds(at time.Time) *caseBuilder {
	adv, fri := s.newPerson(), s.newPerson()
	b := s.skeleton(at, adv, fri)
	b.friendOnMobile = s.chance(0.4)
	b.fillParties()
	landing := "https://shop.example/r/" + b.r.Code + "?"
	referer := "https://www.google.com/"
	kind := pickW(s, []weighted[string]{{45, "gclid"}, {10, "msclkid"}, {10, "gbraid"}, {8, "ttclid"}, {7, "fbclid+paid"},
		{8, "fbclid-only"}, {4, "li_fat_id"}, {3, "twclid"}, {2, "yclid"}, {3, "dclid"}})
	b.scenario = "ads-" + kind
	switch kind {
	case "fbclid+paid":
		landing += "utm_source=facebook&utm_medium=paid_social&fbclid=IwAR" + s.randomLocal(40)
		referer = "https://l.facebook.com/"
	case "fbclid-only":
		landing += "fbclid=IwAR" + s.randomLocal(40)
		referer = "https://l.facebook.com/"
	case "msclkid":
		landing += "msclkid=" + s.hex(32)
		referer = "https://www.bing.com/"
	default:
		landing += kind + "=" + s.randomLocal(30)
		if kind == "ttclid" {
			referer = "https://www.tiktok.com/"
		}
	}
	b.applyStage(s.stage(), 0.2, 0.7, 0.05)
	b.clickFromFriend(referer, landing)
	b.backgroundClicks(1)
	b.history(0.1, 10, 0.2, 0.05)
	return b
}

// refundAbuse: a friend (or the advocate's second account) buys to trigger
// the reward and refunds soon after.
func (s *sim) refundAbuse(at time.Time) *caseBuilder {
	adv := s.newPerson()
	fri := s.newPerson()
	scenario := "colluding-friend"
	if s.chance(0.3) {
		fri, scenario = s.fakeFriend(adv, false)
		scenario = "own-account:" + scenario
	}
	b := s.skeleton(at, adv, fri)
	b.scenario = scenario
	b.fillParties()
	b.r.Friend.UserAgent = fri.ua
	b.history(0.03, 4, 0.2, 0.1)
	refs := s.between(0, 8)
	b.r.AdvocateHistory.Referrals = refs
	b.r.AdvocateHistory.RefundedReferrals = s.binomial(refs, 0.7)
	b.r.AdvocateHistory.InactiveReferrals = s.binomial(refs-b.r.AdvocateHistory.RefundedReferrals, 0.3)
	signup := at.Add(-s.dur(5*24*time.Hour, 30*24*time.Hour))
	b.r.Friend.SignedUpAt = signup
	conv := signup.Add(s.dur(time.Hour, 3*24*time.Hour))
	c := &Conversion{At: conv, RewardedAt: conv.Add(s.dur(0, 24*time.Hour))}
	if s.chance(0.9) {
		c.RefundedAt = c.RewardedAt.Add(s.dur(2*time.Hour, 10*24*time.Hour))
	} else {
		c.CancelledAt = c.RewardedAt.Add(s.dur(10*24*time.Hour, 25*24*time.Hour))
	}
	undo := c.RefundedAt
	if undo.IsZero() {
		undo = c.CancelledAt
	}
	b.r.At = undo.Add(s.dur(0, 48*time.Hour)) // assessed on the refund event
	b.r.Conversion = c
	b.r.Friend.PaymentFingerprint = fri.card
	b.r.Friend.Address = fri.address
	b.r.FriendActivity = &Activity{Events: s.poisson(2), LastSeen: conv}
	if s.chance(0.7) {
		b.clickFromFriend(pickW(s, simReferers), "")
	}
	b.backgroundClicks(0.5)
	return b
}

// existingCustomer: someone who already buys poses as a new customer to get
// the friend reward.
func (s *sim) existingCustomer(at time.Time) *caseBuilder {
	adv, fri := s.newPerson(), s.newPerson()
	b := s.skeleton(at, adv, fri)
	b.friendOnMobile = s.chance(0.3)
	b.fillParties()
	b.applyStage(s.stage(), 0.1, 0.8, 0.04)
	if s.chance(0.8) {
		b.clickFromFriend(pickW(s, simReferers), "")
	}
	b.backgroundClicks(0.5)
	b.history(0.03, 3, 0.18, 0.03)
	switch x := s.rng.Float64(); {
	case x < 0.75:
		b.r.Friend.AlreadyCustomer = true // same email or customer record
		b.scenario = "known-customer"
	case x < 0.9 && b.r.Conversion != nil:
		b.r.Convergence.CustomersSamePayment = 1 // new email, old card
		b.scenario = "new-email-old-card"
	default:
		b.scenario = "new-email-unmatched"
	}
	return b
}
