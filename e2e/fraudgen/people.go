package fraudgen

import (
	"fmt"
	"math/rand/v2"
	"strings"
)

// person is what an integrator knows about one of its users: the account,
// and the request context of their browser or app.
type person struct {
	id      string // external id
	email   string
	name    string
	ip      string
	ua      string
	device  string
	card    string // payment fingerprint
	address string
	country string
}

func (p person) context() map[string]any {
	c := map[string]any{}
	for k, v := range map[string]string{"ip": p.ip, "user_agent": p.ua, "device_id": p.device, "country": p.country} {
		if v != "" {
			c[k] = v
		}
	}
	return c
}

var firstNames = []string{
	"emma", "louis", "jade", "gabriel", "alice", "raphael", "chloe", "arthur", "lea", "hugo",
	"olivia", "liam", "sophia", "noah", "ava", "ethan", "mia", "lucas", "amelia", "mason",
	"hannah", "felix", "lena", "jonas", "clara", "paul", "sofia", "mateo", "lucia", "diego",
	"aisha", "omar", "fatima", "yusuf", "priya", "arjun", "ananya", "rohan", "mei", "hiro",
	"yuki", "wei", "jiho", "minjun", "anna", "piotr", "zofia", "jakub", "eva", "tomas",
	"ines", "joao", "beatriz", "rafael", "nora", "erik", "astrid", "oskar", "freya", "samuel",
}

var lastNames = []string{
	"martin", "bernard", "dubois", "thomas", "robert", "richard", "petit", "durand", "leroy", "moreau",
	"smith", "johnson", "williams", "brown", "jones", "miller", "davis", "wilson", "anderson", "taylor",
	"muller", "schmidt", "schneider", "fischer", "weber", "meyer", "wagner", "becker", "hoffmann", "koch",
	"garcia", "rodriguez", "lopez", "hernandez", "gonzalez", "perez", "sanchez", "ramirez", "torres", "flores",
	"khan", "ali", "patel", "sharma", "singh", "chen", "wang", "li", "zhang", "liu",
	"tanaka", "suzuki", "kim", "lee", "park", "nowak", "kowalski", "silva", "santos", "nielsen",
}

// commonNames are full names many unrelated people share.
var commonNames = [][2]string{
	{"marie", "martin"}, {"john", "smith"}, {"maria", "garcia"}, {"james", "johnson"}, {"david", "miller"},
	{"thomas", "muller"}, {"anna", "schmidt"}, {"jose", "rodriguez"}, {"mohamed", "ali"}, {"wei", "zhang"},
	{"li", "wang"}, {"sarah", "brown"}, {"michael", "jones"}, {"laura", "lopez"}, {"nicolas", "bernard"},
	{"julie", "petit"}, {"kevin", "lee"}, {"jennifer", "davis"}, {"daniel", "kim"}, {"ahmed", "khan"},
}

// freeProviders with rough shares of consumer mailboxes.
var freeProviders = []struct {
	domain string
	weight int
}{
	{"gmail.com", 40}, {"outlook.com", 9}, {"hotmail.com", 6}, {"yahoo.com", 9}, {"icloud.com", 9},
	{"proton.me", 3}, {"gmx.de", 4}, {"web.de", 3}, {"orange.fr", 4}, {"free.fr", 3}, {"laposte.net", 2},
	{"fastmail.com", 2}, {"yahoo.co.uk", 3}, {"live.com", 3},
}

// disposableDomains are public throwaway services.
var disposableDomains = []string{
	"mailinator.com", "yopmail.com", "guerrillamail.com", "10minutemail.com", "sharklasers.com", "trashmail.com",
	"getnada.com", "maildrop.cc", "dispostable.com", "temp-mail.org", "mailnesia.com", "emailondeck.com",
}

// browserUAs are current desktop and mobile browsers.
var browserUAs = []string{
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36 Edg/130.0.0.0",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15",
	"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (iPhone; CPU iPhone OS 17_6 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.6 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Linux; Android 14; SM-S921B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36",
	"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Mobile Safari/537.36",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:132.0) Gecko/20100101 Firefox/132.0",
	"Mozilla/5.0 (X11; Linux x86_64; rv:132.0) Gecko/20100101 Firefox/132.0",
	"Mozilla/5.0 (iPad; CPU OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1",
	"Mozilla/5.0 (Linux; Android 13; SM-A536B) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36 SamsungBrowser/26.0",
}

// headlessUAs are what click farms and scripts send.
var headlessUAs = []string{
	"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/131.0.0.0 Safari/537.36",
	"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0.6099.109 Safari/537.36",
	"python-requests/2.32.3",
	"curl/8.5.0",
	"Go-http-client/1.1",
	"axios/1.7.7",
	"",
}

// previewUAs fetch a link when it is pasted in a chat.
var previewUAs = []string{
	"Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
	"WhatsApp/2.23.20.0",
	"facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
	"TelegramBot (like TwitterBot)",
	"Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
}

var acceptLanguages = []string{"en-US,en;q=0.9", "fr-FR,fr;q=0.9,en;q=0.8", "de-DE,de;q=0.9,en;q=0.7", "es-ES,es;q=0.9", "en-GB,en;q=0.9"}

// residentialFirstOctets are first octets of consumer ISP allocations.
var residentialFirstOctets = []int{2, 5, 24, 31, 37, 46, 62, 68, 71, 73, 76, 77, 78, 81, 82, 86, 88, 90, 92, 98, 109, 176, 178, 188, 212, 217}

// hostingFirstOctets are first octets of cloud and VPS providers.
var hostingFirstOctets = []int{3, 13, 18, 34, 35, 45, 52, 54, 104, 138, 139, 159, 161, 167}

type gen struct {
	r *rand.Rand
}

func (g *gen) pick(list []string) string { return list[g.r.IntN(len(list))] }
func (g *gen) chance(p float64) bool     { return g.r.Float64() < p }
func (g *gen) between(lo, hi int) int    { return lo + g.r.IntN(hi-lo+1) }

func (g *gen) hex(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[g.r.IntN(16)]
	}
	return string(b)
}

func (g *gen) residentialIP() string {
	return fmt.Sprintf("%d.%d.%d.%d", residentialFirstOctets[g.r.IntN(len(residentialFirstOctets))], g.r.IntN(256), g.r.IntN(256), 1+g.r.IntN(254))
}

func (g *gen) hostingIP() string {
	return fmt.Sprintf("%d.%d.%d.%d", hostingFirstOctets[g.r.IntN(len(hostingFirstOctets))], g.r.IntN(256), g.r.IntN(256), 1+g.r.IntN(254))
}

func (g *gen) device() string { return "d_" + g.hex(16) }
func (g *gen) card() string   { return "fp_" + g.hex(16) }

func (g *gen) address() string {
	streets := []string{"Main St", "rue de la Paix", "Hauptstrasse", "Calle Mayor", "High Street", "Oak Avenue", "avenue Foch"}
	return fmt.Sprintf("%d %s, %05d", 1+g.r.IntN(180), g.pick(streets), g.r.IntN(99999))
}

func (g *gen) provider() string {
	total := 0
	for _, p := range freeProviders {
		total += p.weight
	}
	n := g.r.IntN(total)
	for _, p := range freeProviders {
		if n < p.weight {
			return p.domain
		}
		n -= p.weight
	}
	return "gmail.com"
}

func title(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// localPart is how people build their own address from their name.
func (g *gen) localPart(first, last string) string {
	switch g.r.IntN(9) {
	case 0:
		return first + "." + last
	case 1:
		return first + last
	case 2:
		return first[:1] + "." + last
	case 3:
		return first[:1] + last
	case 4:
		return fmt.Sprintf("%s.%s%d", first, last, 1960+g.r.IntN(47))
	case 5:
		return fmt.Sprintf("%s%d", first, 10+g.r.IntN(90))
	case 6:
		return first + "_" + last
	case 7:
		return last + "." + first
	default:
		return fmt.Sprintf("%s%s%d", first, last[:1], 1+g.r.IntN(999))
	}
}

// human is a new, unrelated person on a residential connection.
func (g *gen) human(id string) person {
	first, last := g.pick(firstNames), g.pick(lastNames)
	p := person{
		id: id, name: title(first) + " " + title(last),
		ip: g.residentialIP(), ua: g.pick(browserUAs), device: g.device(), card: g.card(), address: g.address(),
	}
	switch {
	case g.chance(0.04):
		// Apple's Hide My Email: random by design.
		p.email = g.randomLocal(10) + "@privaterelay.appleid.com"
	case g.chance(0.05):
		p.email = g.localPart(first, last) + "@" + g.companyDomain()
	default:
		p.email = g.localPart(first, last) + "@" + g.provider()
	}
	return p
}

func (g *gen) companyDomain() string {
	a := []string{"northwind", "contoso", "globex", "initech", "umbrella", "hooli", "vandelay", "wayne", "stark", "acme", "tyrell", "soylent"}
	b := []string{"logistics", "labs", "consulting", "group", "systems", "partners", "studio", "health"}
	tld := []string{"com", "io", "fr", "de", "co.uk"}
	return g.pick(a) + "-" + g.pick(b) + "." + g.pick(tld)
}

// randomLocal is a machine-made local part: letters and digits mixed.
func (g *gen) randomLocal(n int) string {
	const letters = "abcdefghijklmnopqrstuvwxyz"
	const alnum = "abcdefghijklmnopqrstuvwxyz0123456789"
	b := make([]byte, n)
	b[0] = letters[g.r.IntN(len(letters))]
	for i := 1; i < n; i++ {
		b[i] = alnum[g.r.IntN(len(alnum))]
	}
	return string(b)
}

// gmailAlias is another spelling of the same Gmail mailbox.
func (g *gen) gmailAlias(email string) string {
	local, domain, _ := strings.Cut(email, "@")
	if g.chance(0.5) && len(local) > 2 {
		i := 1 + g.r.IntN(len(local)-1)
		if local[i-1] != '.' && local[i] != '.' {
			local = local[:i] + "." + local[i:]
		}
	}
	if g.chance(0.7) {
		local += "+" + g.pick([]string{"ref", "promo", "2", "new", "shop"})
	}
	if domain == "gmail.com" && g.chance(0.3) {
		domain = "googlemail.com"
	}
	return local + "@" + domain
}
