package fraudgen

import (
	"math/rand/v2"
	"net"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func newGen(seed uint64) *gen { return &gen{r: rand.New(rand.NewPCG(seed, seed))} }

func TestTitle(t *testing.T) {
	for in, want := range map[string]string{"": "", "emma": "Emma", "E": "E", "o'neil": "O'neil", "1st": "1st"} {
		if got := title(in); got != want {
			t.Errorf("title(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPersonContext(t *testing.T) {
	tests := []struct {
		p    person
		want map[string]any
	}{
		{person{}, map[string]any{}},
		{person{ip: "1.2.3.4", email: "a@b.c", name: "A"}, map[string]any{"ip": "1.2.3.4"}},
		{person{ip: "1.2.3.4", ua: "UA", device: "d_1", country: "FR", card: "fp_1"},
			map[string]any{"ip": "1.2.3.4", "user_agent": "UA", "device_id": "d_1", "country": "FR"}},
	}
	for _, tt := range tests {
		if got := tt.p.context(); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%+v.context() = %v, want %v", tt.p, got, tt.want)
		}
	}
}

// TestGenerators draws many values from each generator and checks their form.
func TestGenerators(t *testing.T) {
	g := newGen(3)
	inOctets := func(ip string, octets []int) bool {
		v4 := net.ParseIP(ip).To4()
		return v4 != nil && slices.Contains(octets, int(v4[0])) && v4[3] >= 1 && v4[3] <= 254
	}
	providers := map[string]bool{}
	hexRe := regexp.MustCompile(`^[0-9a-f]{16}$`)
	localRe := regexp.MustCompile(`^[a-z][a-z0-9]*$`)
	addrRe := regexp.MustCompile(`^\d{1,3} [A-Za-z ]+, \d{5}$`)
	for range 2000 {
		if ip := g.residentialIP(); !inOctets(ip, residentialFirstOctets) {
			t.Fatalf("residentialIP %q", ip)
		}
		if ip := g.hostingIP(); !inOctets(ip, hostingFirstOctets) {
			t.Fatalf("hostingIP %q", ip)
		}
		if d := g.device(); !strings.HasPrefix(d, "d_") || !hexRe.MatchString(d[2:]) {
			t.Fatalf("device %q", d)
		}
		if c := g.card(); !strings.HasPrefix(c, "fp_") || !hexRe.MatchString(c[3:]) {
			t.Fatalf("card %q", c)
		}
		if l := g.randomLocal(8); len(l) != 8 || !localRe.MatchString(l) {
			t.Fatalf("randomLocal %q", l)
		}
		if a := g.address(); !addrRe.MatchString(a) {
			t.Fatalf("address %q", a)
		}
		if n := g.between(3, 5); n < 3 || n > 5 {
			t.Fatalf("between(3, 5) = %d", n)
		}
		providers[g.provider()] = true
	}
	for p := range providers {
		if !slices.ContainsFunc(freeProviders, func(f struct {
			domain string
			weight int
		}) bool {
			return f.domain == p
		}) {
			t.Errorf("provider %q is not a free provider", p)
		}
	}
	if !providers["gmail.com"] || len(providers) < len(freeProviders)/2 {
		t.Errorf("2000 draws reached only %d providers: %v", len(providers), providers)
	}
	if h := g.hex(0); h != "" {
		t.Errorf("hex(0) = %q", h)
	}
}

func TestLocalPart(t *testing.T) {
	g := newGen(5)
	forms := []*regexp.Regexp{
		regexp.MustCompile(`^emma\.martin$`), regexp.MustCompile(`^emmamartin$`), regexp.MustCompile(`^e\.martin$`),
		regexp.MustCompile(`^emartin$`), regexp.MustCompile(`^emma\.martin(19[6-9]\d|200[0-6])$`), regexp.MustCompile(`^emma[1-9]\d$`),
		regexp.MustCompile(`^emma_martin$`), regexp.MustCompile(`^martin\.emma$`), regexp.MustCompile(`^emmam\d{1,3}$`),
	}
	seen := make([]bool, len(forms))
	for range 1000 {
		l := g.localPart("emma", "martin")
		i := slices.IndexFunc(forms, func(re *regexp.Regexp) bool { return re.MatchString(l) })
		if i < 0 {
			t.Fatalf("localPart = %q, matches no known form", l)
		}
		seen[i] = true
	}
	for i, ok := range seen {
		if !ok {
			t.Errorf("form %s never drawn in 1000 tries", forms[i])
		}
	}
}

func TestGmailAlias(t *testing.T) {
	g := newGen(9)
	canon := func(email string) string {
		local, domain, _ := strings.Cut(email, "@")
		local, _, _ = strings.Cut(local, "+")
		if domain == "googlemail.com" {
			domain = "gmail.com"
		}
		return strings.ReplaceAll(local, ".", "") + "@" + domain
	}
	changed := 0
	for range 500 {
		for _, email := range []string{"emma.martin@gmail.com", "jd@gmail.com", "hugo@outlook.com"} {
			alias := g.gmailAlias(email)
			if canon(alias) != canon(email) {
				t.Fatalf("gmailAlias(%q) = %q: another mailbox", email, alias)
			}
			if strings.HasSuffix(email, "@outlook.com") && !strings.HasSuffix(alias, "@outlook.com") {
				t.Fatalf("gmailAlias(%q) = %q changed a non-Gmail domain", email, alias)
			}
			if strings.Contains(alias, "..") {
				t.Fatalf("gmailAlias(%q) = %q has two dots in a row", email, alias)
			}
			if alias != email {
				changed++
			}
		}
	}
	if changed == 0 {
		t.Error("gmailAlias never changed an address")
	}
}

func TestHuman(t *testing.T) {
	g := newGen(13)
	nameRe := regexp.MustCompile(`^[A-Z][a-z]+ [A-Z][a-z]+$`)
	for i := range 500 {
		p := g.human("id")
		if p.id != "id" || !nameRe.MatchString(p.name) {
			t.Fatalf("person %d: id %q name %q", i, p.id, p.name)
		}
		local, domain, ok := strings.Cut(p.email, "@")
		if !ok || local == "" || domain == "" {
			t.Fatalf("person %d: email %q", i, p.email)
		}
		if !slices.Contains(browserUAs, p.ua) || p.ip == "" || p.device == "" || p.card == "" || p.address == "" {
			t.Fatalf("person %d: %+v", i, p)
		}
	}
	if a, b := newGen(1).human("x"), newGen(1).human("x"); a != b {
		t.Errorf("one seed, two people: %+v and %+v", a, b)
	}
}
