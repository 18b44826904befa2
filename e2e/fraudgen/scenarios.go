package fraudgen

import (
	"fmt"
	"math/rand/v2"
	"net/url"
	"strings"
)

// friendPlan is one referred person and what they do.
type friendPlan struct {
	p        person
	clicks   []clickReq // in order; the last cookie the redirect set is reported
	activity int        // activity events after signup
	purchase bool
	refund   bool // right after the purchase
}

// instance is one advocate and the referrals made through their code,
// all of one scenario and one arrival.
type instance struct {
	scenario string
	fraud    bool
	arrival  Arrival
	advocate person
	noise    []clickReq // clicks that lead to no signup
	friends  []friendPlan
}

// Scenario describes one kind of traffic.
type Scenario struct {
	Name      string
	Fraud     bool
	Instances int // at scale 1
	What      string
	build     func(g *gen, in *instance)
}

// Scenarios lists the benign look-alikes and the fraud, in report order.
var Scenarios = []Scenario{
	{"ordinary", false, 50, "unrelated friends, each on their own network and device", buildOrdinary},
	{"household", false, 25, "1–3 relatives on the advocate's home IP, often one surname, same phone model, same postal address", buildHousehold},
	{"office_nat", false, 9, "3–7 colleagues behind the office NAT after a team-chat post (Slack preview), often one company domain and identical managed laptops", buildOffice},
	{"newsletter", false, 2, "a popular advocate's newsletter: 24–32 signups within minutes from all over", buildNewsletter},
	{"homonym", false, 40, "a different person with the advocate's common full name and an address made of it", buildHomonym},
	{"plus_address", false, 40, "friends with +tag addresses that are not the advocate's", buildPlus},
	{"mobile_carrier", false, 40, "advocate and friend behind one mobile carrier's shared addresses, often the same phone", buildCarrier},
	{"quick_refund_genuine", false, 40, "a friend who used the product, bought, and refunded at once", buildGenuineRefund},
	{"self_referral", true, 50, "the advocate again: Gmail alias, same-words address, same device, own card, incognito", buildSelf},
	{"disposable_farm", true, 5, "5–8 accounts on throwaway domains, scripted or from hosting IPs", buildDisposable},
	{"click_farm", true, 5, "25–50 headless clicks from rotating hosting IPs (some forging X-Forwarded-For), 3–5 fake signups", buildClickFarm},
	{"velocity_burst", true, 4, "6–12 signups of random-looking addresses within a minute", buildBurst},
	{"coupon_leak", true, 6, "4–7 strangers arriving from a coupon or deal site", buildCoupon},
	{"never_active_refund", true, 8, "3–5 accounts that buy and refund at once and never use the product", buildNeverActive},
}

// plan builds every instance of a run, reproducibly from the seed.
func plan(seed uint64, scale int) []*instance {
	g := &gen{r: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	var all []*instance
	for _, sc := range Scenarios {
		for i := range sc.Instances * scale {
			in := &instance{scenario: sc.Name, fraud: sc.Fraud, arrival: Arrivals[g.r.IntN(len(Arrivals))]}
			in.advocate = g.human(fmt.Sprintf("%s-%d-adv", sc.Name, i))
			sc.build(g, in)
			for j := range in.friends {
				in.friends[j].p.id = fmt.Sprintf("%s-%d-f%d", sc.Name, i, j)
			}
			all = append(all, in)
		}
	}
	g.r.Shuffle(len(all), func(i, j int) { all[i], all[j] = all[j], all[i] })
	return all
}

func (g *gen) browserClick(p person, referer string, q url.Values) clickReq {
	return clickReq{ip: p.ip, ua: p.ua, referer: referer, query: q}
}

// socialReferer is where a friend opens a shared link.
func (g *gen) socialReferer() (string, url.Values) {
	switch g.r.IntN(8) {
	case 0:
		return "https://mail.google.com/", nil
	case 1:
		return "https://www.facebook.com/", url.Values{"fbclid": {"IwAR" + g.hex(20)}}
	case 2:
		return "https://t.co/", nil
	case 3:
		return "https://www.linkedin.com/", nil
	default:
		return "", nil // apps (WhatsApp, SMS, Messenger) send no Referer
	}
}

func (g *gen) shopper(f *friendPlan, buy float64) {
	f.activity = g.between(0, 3)
	f.purchase = g.chance(buy)
}

func buildOrdinary(g *gen, in *instance) {
	for range g.between(1, 2) {
		f := friendPlan{p: g.human("")}
		if g.chance(0.5) {
			f.clicks = append(f.clicks, clickReq{ip: g.hostingIP(), ua: g.pick(previewUAs)})
		}
		ref, q := g.socialReferer()
		f.clicks = append(f.clicks, g.browserClick(f.p, ref, q))
		g.shopper(&f, 0.5)
		in.friends = append(in.friends, f)
	}
}

func buildHousehold(g *gen, in *instance) {
	a := &in.advocate
	last := strings.Fields(a.name)[1]
	for range g.between(1, 3) {
		f := friendPlan{p: g.human("")}
		f.p.ip = a.ip
		if g.chance(0.7) {
			first := g.pick(firstNames)
			f.p.name = title(first) + " " + last
			f.p.email = g.localPart(first, strings.ToLower(last)) + "@" + g.provider()
		}
		if g.chance(0.3) {
			f.p.ua = a.ua
		}
		if g.chance(0.6) {
			f.p.address = a.address
		}
		if g.chance(0.5) {
			f.clicks = append(f.clicks, clickReq{ip: g.hostingIP(), ua: "WhatsApp/2.23.20.0"})
		}
		f.clicks = append(f.clicks, g.browserClick(f.p, "", nil))
		g.shopper(&f, 0.5)
		in.friends = append(in.friends, f)
	}
}

func buildOffice(g *gen, in *instance) {
	a := &in.advocate
	a.ip = g.residentialIP()
	company := g.companyDomain()
	oneDomain := g.chance(0.6)
	if oneDomain {
		first, last := strings.ToLower(strings.Fields(a.name)[0]), strings.ToLower(strings.Fields(a.name)[1])
		a.email = first + "." + last + "@" + company
	}
	managed := g.chance(0.4)
	if managed {
		a.ua = browserUAs[0]
	}
	officeAddress := g.address()
	in.noise = append(in.noise, clickReq{ip: g.hostingIP(), ua: previewUAs[0]})
	for range g.between(3, 7) {
		f := friendPlan{p: g.human("")}
		f.p.ip = a.ip
		if oneDomain {
			first, last := g.pick(firstNames), g.pick(lastNames)
			f.p.name = title(first) + " " + title(last)
			f.p.email = first + "." + last + "@" + company
		}
		if managed && g.chance(0.8) {
			f.p.ua = a.ua
		}
		if g.chance(0.3) {
			f.p.address = officeAddress
		}
		ref := ""
		if g.chance(0.6) {
			ref = "https://app.slack.com/"
		}
		f.clicks = append(f.clicks, g.browserClick(f.p, ref, nil))
		g.shopper(&f, 0.4)
		in.friends = append(in.friends, f)
	}
}

func buildNewsletter(g *gen, in *instance) {
	refs := []string{"https://mail.google.com/", "https://outlook.live.com/", "https://substack.com/", "", ""}
	for range g.between(24, 32) {
		f := friendPlan{p: g.human("")}
		q := url.Values{"utm_source": {"newsletter"}, "utm_medium": {"email"}, "utm_campaign": {"december"}}
		f.clicks = append(f.clicks, g.browserClick(f.p, g.pick(refs), q))
		g.shopper(&f, 0.4)
		in.friends = append(in.friends, f)
	}
}

func buildHomonym(g *gen, in *instance) {
	n := commonNames[g.r.IntN(len(commonNames))]
	a := &in.advocate
	a.name = title(n[0]) + " " + title(n[1])
	a.email = g.localPart(n[0], n[1]) + "@" + g.provider()
	f := friendPlan{p: g.human("")}
	f.p.name = a.name
	for f.p.email == "" || f.p.email == a.email {
		f.p.email = g.localPart(n[0], n[1]) + "@" + g.provider()
	}
	ref, q := g.socialReferer()
	f.clicks = append(f.clicks, g.browserClick(f.p, ref, q))
	g.shopper(&f, 0.5)
	in.friends = append(in.friends, f)
}

func buildPlus(g *gen, in *instance) {
	if g.chance(0.3) {
		l, d, _ := strings.Cut(in.advocate.email, "@")
		in.advocate.email = l + "+shopping@" + d
	}
	f := friendPlan{p: g.human("")}
	l, d, _ := strings.Cut(f.p.email, "@")
	f.p.email = l + "+" + g.pick([]string{"shop", "deals", "signup", "ref", "news"}) + "@" + d
	ref, q := g.socialReferer()
	f.clicks = append(f.clicks, g.browserClick(f.p, ref, q))
	g.shopper(&f, 0.5)
	in.friends = append(in.friends, f)
}

func buildCarrier(g *gen, in *instance) {
	pool := fmt.Sprintf("80.%d.%d.", 214+g.r.IntN(3), g.r.IntN(256))
	a := &in.advocate
	a.ip = pool + fmt.Sprint(1+g.r.IntN(8))
	phone := browserUAs[4]
	if g.chance(0.5) {
		a.ua = phone
	}
	f := friendPlan{p: g.human("")}
	if g.chance(0.5) {
		f.p.ip = a.ip
	} else {
		f.p.ip = pool + fmt.Sprint(9+g.r.IntN(200))
	}
	if g.chance(0.5) {
		f.p.ua = phone
	}
	ref, q := g.socialReferer()
	f.clicks = append(f.clicks, g.browserClick(f.p, ref, q))
	g.shopper(&f, 0.5)
	in.friends = append(in.friends, f)
}

func buildGenuineRefund(g *gen, in *instance) {
	f := friendPlan{p: g.human("")}
	ref, q := g.socialReferer()
	f.clicks = append(f.clicks, g.browserClick(f.p, ref, q))
	f.activity = g.between(2, 5)
	f.purchase, f.refund = true, true
	in.friends = append(in.friends, f)
}

func buildSelf(g *gen, in *instance) {
	a := &in.advocate
	if g.chance(0.5) {
		first, last := strings.ToLower(strings.Fields(a.name)[0]), strings.ToLower(strings.Fields(a.name)[1])
		a.email = first + "." + last + "@gmail.com"
	}
	f := friendPlan{p: g.human("")}
	first, last := strings.ToLower(strings.Fields(a.name)[0]), strings.ToLower(strings.Fields(a.name)[1])
	keepName := g.chance(0.55)
	sameWords := func() string {
		return g.pick([]string{first + last, last + "." + first, first + "_" + last, first + "." + last}) + fmt.Sprint(g.between(1, 99)) + "@" + g.provider()
	}
	switch v := g.r.IntN(20); {
	case v < 4: // Gmail alias, same browser
		f.p.email, f.p.ip, f.p.ua, f.p.device = g.gmailAlias(a.email), a.ip, a.ua, a.device
		if !strings.HasSuffix(a.email, "@gmail.com") {
			l, d, _ := strings.Cut(a.email, "@")
			f.p.email = l + "+ref@" + d
		}
		keepName = true
	case v < 8: // same-words address, incognito window
		f.p.email, f.p.ip, f.p.ua = sameWords(), a.ip, a.ua
	case v < 11: // unrelated address, same device
		f.p.ip, f.p.ua, f.p.device = a.ip, a.ua, a.device
	case v < 15: // unrelated address, phone on the home Wi-Fi, pays with own card
		f.p.ip = a.ip
		f.p.card = a.card
		f.purchase = true
	case v < 18: // unrelated address, another network, own card
		f.p.card = a.card
		f.purchase = true
	case v < 19: // same name on the same company domain
		dom := g.companyDomain()
		a.email = first + "." + last + "@" + dom
		f.p.email = first[:1] + last + "@" + dom
		keepName = true
	default: // a relative's card and a new laptop on another network: no shared fact
		f.purchase = true
	}
	if keepName {
		f.p.name = a.name
	}
	f.clicks = append(f.clicks, g.browserClick(f.p, "", nil))
	if !f.purchase {
		f.purchase = g.chance(0.6)
	}
	in.friends = append(in.friends, f)
}

func buildDisposable(g *gen, in *instance) {
	scripted := g.chance(0.5)
	ua := g.pick(browserUAs)
	ip := g.hostingIP()
	for range g.between(5, 8) {
		f := friendPlan{p: g.human("")}
		local := g.localPart(g.pick(firstNames), g.pick(lastNames))
		if g.chance(0.5) {
			local = g.randomLocal(g.between(7, 11))
		}
		f.p.email = local + "@" + g.pick(disposableDomains)
		f.p.device = ""
		if scripted {
			f.p.ua = headlessUAs[g.r.IntN(2)]
			f.p.ip = g.hostingIP()
		} else {
			f.p.ua = ua
			f.p.ip = ip
		}
		f.clicks = append(f.clicks, clickReq{ip: f.p.ip, ua: f.p.ua, headless: scripted})
		f.purchase = g.chance(0.3)
		in.friends = append(in.friends, f)
	}
}

func buildClickFarm(g *gen, in *instance) {
	clicks := g.between(25, 50)
	spoof := g.chance(0.5)
	for range clicks {
		c := clickReq{ip: g.hostingIP(), ua: g.pick(headlessUAs), headless: true}
		if spoof {
			c.spoofXFF = g.residentialIP()
		}
		in.noise = append(in.noise, c)
	}
	for range g.between(3, 5) {
		f := friendPlan{p: g.human("")}
		if g.chance(0.5) {
			f.p.email = g.randomLocal(g.between(6, 10)) + "@" + g.provider()
		}
		f.p.ip = g.hostingIP()
		f.p.ua = g.pick(browserUAs)
		c := clickReq{ip: f.p.ip, ua: headlessUAs[g.r.IntN(len(headlessUAs))], headless: true}
		if spoof {
			c.spoofXFF = g.residentialIP()
		}
		f.clicks = append(f.clicks, c)
		in.friends = append(in.friends, f)
	}
}

func buildBurst(g *gen, in *instance) {
	oneUA := g.chance(0.6)
	ua := g.pick(browserUAs)
	oneIP := g.chance(0.4)
	ip := g.residentialIP()
	for range g.between(6, 12) {
		f := friendPlan{p: g.human("")}
		f.p.email = g.randomLocal(g.between(6, 11)) + "@" + g.pick([]string{"gmail.com", "outlook.com", "yahoo.com", "hotmail.com"})
		if oneUA {
			f.p.ua = ua
		}
		if oneIP {
			f.p.ip = ip
		} else {
			f.p.ip = g.hostingIP()
		}
		f.clicks = append(f.clicks, g.browserClick(f.p, "", nil))
		f.purchase = g.chance(0.3)
		in.friends = append(in.friends, f)
	}
}

func buildCoupon(g *gen, in *instance) {
	sites := []string{"https://www.retailmenot.com/", "https://slickdeals.net/", "https://couponfollow.com/", "https://www.dealabs.com/",
		"https://www.hotukdeals.com/", "https://www.mydealz.de/", "https://www.reddit.com/"}
	site := g.pick(sites)
	viaUTM := g.chance(0.3)
	for range g.between(4, 7) {
		f := friendPlan{p: g.human("")}
		var q url.Values
		ref := site
		if viaUTM {
			host := strings.TrimSuffix(strings.TrimPrefix(strings.TrimPrefix(site, "https://"), "www."), "/")
			q = url.Values{"utm_source": {host}}
			ref = ""
		}
		f.clicks = append(f.clicks, g.browserClick(f.p, ref, q))
		g.shopper(&f, 0.6)
		in.friends = append(in.friends, f)
	}
}

func buildNeverActive(g *gen, in *instance) {
	sameIP := g.chance(0.3)
	for range g.between(3, 5) {
		f := friendPlan{p: g.human("")}
		if sameIP {
			f.p.ip = in.advocate.ip
		}
		f.clicks = append(f.clicks, g.browserClick(f.p, "", nil))
		f.purchase, f.refund = true, true
		in.friends = append(in.friends, f)
	}
}
