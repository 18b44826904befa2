package fraud

import (
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits from RFC 5321 (local part 64 octets, domain 255, path 256) with a
// little slack for a trailing dot and surrounding whitespace.
const (
	maxLocalLen  = 64
	maxDomainLen = 253
	maxEmailLen  = 320
	maxLabelLen  = 63
)

// NormalizeEmail returns the canonical form of an email address used to
// compare identities, and false when s is not a plausible address.
//
// It trims surrounding whitespace, lowercases, drops a trailing dot of the
// domain, strips a "+tag" suffix of the local part for every provider,
// removes dots from the local part for gmail.com and googlemail.com and maps
// googlemail.com to gmail.com. So " Jean.Dupont+promo@GoogleMail.com " becomes
// "jeandupont@gmail.com". Quoted local parts, domain literals ("[1.2.3.4]"),
// addresses without a dot in the domain and invalid UTF-8 are rejected. The
// result is idempotent: normalizing a normalized address returns it unchanged.
func NormalizeEmail(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > maxEmailLen || !utf8.ValidString(s) {
		return "", false
	}
	s = strings.ToLower(s)
	at := strings.IndexByte(s, '@')
	if at <= 0 || at != strings.LastIndexByte(s, '@') {
		return "", false
	}
	local, domain := s[:at], s[at+1:]
	domain = strings.TrimSuffix(domain, ".")
	if !validDomain(domain) {
		return "", false
	}
	if i := strings.IndexByte(local, '+'); i >= 0 {
		local = local[:i]
	}
	if !validLocal(local) {
		return "", false
	}
	if domain == "googlemail.com" {
		domain = "gmail.com"
	}
	if domain == "gmail.com" {
		local = strings.ReplaceAll(local, ".", "")
	}
	return local + "@" + domain, true
}

// SplitEmail normalizes s with [NormalizeEmail] and returns its local part
// and domain, or ok=false for an invalid address.
func SplitEmail(s string) (local, domain string, ok bool) {
	n, ok := NormalizeEmail(s)
	if !ok {
		return "", "", false
	}
	at := strings.IndexByte(n, '@')
	return n[:at], n[at+1:], true
}

// validLocal reports whether a (lowercased, tag-stripped) local part is an
// acceptable unquoted dot-atom: 1..64 bytes, no leading, trailing or doubled
// dot, RFC 5322 atext characters or non-ASCII letters and digits (SMTPUTF8).
func validLocal(local string) bool {
	if local == "" || len(local) > maxLocalLen {
		return false
	}
	if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return false
	}
	for _, r := range local {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
		case r < utf8.RuneSelf:
			if !strings.ContainsRune("!#$%&'*-/=?^_`{|}~.", r) {
				return false
			}
		default:
			if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r) {
				return false
			}
		}
	}
	return true
}

// validDomain reports whether d (lowercased, no trailing dot) is a host name
// with at least two labels of 1..63 bytes made of letters, digits and inner
// hyphens (non-ASCII letters are accepted for internationalised names), whose
// last label is not purely numeric.
func validDomain(d string) bool {
	if d == "" || len(d) > maxDomainLen {
		return false
	}
	labels := 0
	for label := range strings.SplitSeq(d, ".") {
		labels++
		if label == "" || len(label) > maxLabelLen || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			switch {
			case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '-':
			case r < utf8.RuneSelf:
				return false
			default:
				if !unicode.IsLetter(r) && !unicode.IsDigit(r) && !unicode.IsMark(r) {
					return false
				}
			}
		}
	}
	if labels < 2 {
		return false
	}
	tld := d[strings.LastIndexByte(d, '.')+1:]
	return strings.IndexFunc(tld, func(r rune) bool { return r < '0' || r > '9' }) >= 0
}

// knownSLDs are second-level labels under which registrations happen one
// level deeper (bbc.co.uk, not co.uk). It is a deliberately small heuristic,
// not the Public Suffix List: enough for the email providers and disposable
// services seen in practice.
var knownSLDs = map[string]struct{}{
	"co.uk": {}, "org.uk": {}, "me.uk": {}, "ac.uk": {}, "gov.uk": {}, "ltd.uk": {}, "plc.uk": {}, "net.uk": {},
	"com.au": {}, "net.au": {}, "org.au": {}, "edu.au": {}, "gov.au": {}, "id.au": {},
	"co.nz": {}, "net.nz": {}, "org.nz": {},
	"co.jp": {}, "ne.jp": {}, "or.jp": {}, "ac.jp": {},
	"co.kr": {}, "or.kr": {}, "co.za": {}, "org.za": {}, "co.in": {}, "net.in": {}, "org.in": {},
	"co.id": {}, "co.il": {}, "co.th": {}, "com.br": {}, "net.br": {}, "com.mx": {}, "com.ar": {},
	"com.cn": {}, "net.cn": {}, "org.cn": {}, "com.tw": {}, "com.hk": {}, "com.sg": {}, "com.my": {},
	"com.tr": {}, "com.ua": {}, "pp.ua": {}, "com.pl": {}, "com.co": {}, "com.pe": {}, "com.ph": {},
}

// RegistrableDomain returns the registrable part of a host name: its last two
// labels, or its last three when the last two form a known second-level
// suffix such as co.uk or com.au ("mail.bbc.co.uk" → "bbc.co.uk",
// "a.b.example.com" → "example.com"). The input is lowercased and a trailing
// dot removed; names with fewer labels are returned as they are.
func RegistrableDomain(domain string) string {
	d := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(domain)), ".")
	last := strings.LastIndexByte(d, '.')
	if last < 0 {
		return d
	}
	second := strings.LastIndexByte(d[:last], '.')
	if second < 0 {
		return d
	}
	if _, ok := knownSLDs[d[second+1:]]; ok {
		if third := strings.LastIndexByte(d[:second], '.'); third >= 0 {
			return d[third+1:]
		}
		return d
	}
	return d[second+1:]
}

// freeProviders are consumer mailbox providers: sharing one of these domains
// says nothing about two people being related, unlike sharing a company or
// family domain.
var freeProviders = map[string]struct{}{
	"gmail.com": {}, "googlemail.com": {}, "icloud.com": {}, "me.com": {}, "mac.com": {},
	"msn.com": {}, "ymail.com": {}, "rocketmail.com": {}, "protonmail.com": {}, "proton.me": {},
	"pm.me": {}, "tutanota.com": {}, "tuta.io": {}, "fastmail.com": {}, "hey.com": {}, "zoho.com": {},
	"mail.com": {}, "gmx.net": {}, "web.de": {}, "t-online.de": {}, "freenet.de": {}, "orange.fr": {},
	"wanadoo.fr": {}, "free.fr": {}, "laposte.net": {}, "sfr.fr": {}, "neuf.fr": {}, "bbox.fr": {},
	"btinternet.com": {}, "sky.com": {}, "virginmedia.com": {}, "mail.ru": {}, "bk.ru": {}, "inbox.ru": {},
	"list.ru": {}, "qq.com": {}, "163.com": {}, "126.com": {}, "naver.com": {}, "daum.net": {},
	"libero.it": {}, "virgilio.it": {}, "seznam.cz": {}, "wp.pl": {}, "o2.pl": {}, "interia.pl": {},
	"comcast.net": {}, "verizon.net": {}, "att.net": {}, "privaterelay.appleid.com": {}, "duck.com": {},
	"skynet.be": {}, "telenet.be": {}, "bluewin.ch": {}, "ziggo.nl": {}, "kpnmail.nl": {}, "rediffmail.com": {},
}

// freeProviderBrands are providers operating under many country domains
// (yahoo.fr, hotmail.co.uk, gmx.de, ...), matched on the first label of the
// registrable domain.
var freeProviderBrands = map[string]struct{}{
	"yahoo": {}, "hotmail": {}, "outlook": {}, "live": {}, "aol": {}, "gmx": {}, "yandex": {}, "gmail": {},
}

// IsFreeEmailProvider reports whether domain (or its registrable domain)
// belongs to a consumer mailbox provider such as gmail.com, outlook.com,
// yahoo.fr or orange.fr. Two people on such a domain are not related by it.
func IsFreeEmailProvider(domain string) bool {
	d := strings.TrimSuffix(strings.ToLower(strings.TrimSpace(domain)), ".")
	if _, ok := freeProviders[d]; ok {
		return true
	}
	reg := RegistrableDomain(d)
	if _, ok := freeProviders[reg]; ok {
		return true
	}
	brand, _, _ := strings.Cut(reg, ".")
	_, ok := freeProviderBrands[brand]
	return ok
}

// ParseIP parses an IPv4 or IPv6 address as found in logs and headers. It
// accepts surrounding whitespace, an optional port ("1.2.3.4:443",
// "[2001:db8::1]:443") and an IPv6 zone, which it drops; IPv4-mapped IPv6
// addresses are unmapped to IPv4. It returns false when s is not an address.
func ParseIP(s string) (netip.Addr, bool) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 128 {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, perr := netip.ParseAddrPort(s)
		if perr != nil {
			return netip.Addr{}, false
		}
		a = ap.Addr()
	}
	return a.WithZone("").Unmap(), true
}

// NetworkKey returns the network an address is grouped by when comparing
// people: its /24 for IPv4 and its /64 for IPv6 (the usual per-household or
// per-office allocation). It returns the zero Prefix for the zero Addr.
func NetworkKey(a netip.Addr) netip.Prefix {
	bits := 64
	if a.Is4() {
		bits = 24
	}
	p, err := a.WithZone("").Prefix(bits)
	if err != nil {
		return netip.Prefix{}
	}
	return p
}

// ParseNetworkKey parses s with [ParseIP] and returns its [NetworkKey].
func ParseNetworkKey(s string) (netip.Prefix, bool) {
	a, ok := ParseIP(s)
	if !ok {
		return netip.Prefix{}, false
	}
	return NetworkKey(a), true
}

// comparableIP reports whether an address identifies a network on the
// public internet, so that two people sharing it means something. Private,
// loopback, link-local, multicast and unspecified addresses are usually a
// misconfigured proxy or a test value and never produce network signals.
func comparableIP(a netip.Addr) bool {
	return a.IsValid() && a.IsGlobalUnicast() && !a.IsPrivate()
}

// UserAgentClass is the coarse kind of client behind a User-Agent header.
type UserAgentClass int

// User-agent classes returned by [ClassifyUserAgent].
const (
	// UABrowser is a regular (possibly mobile or in-app) browser.
	UABrowser UserAgentClass = iota
	// UAEmpty is a missing or blank User-Agent; browsers always send one.
	UAEmpty
	// UAPreview is a link-preview fetcher (Slackbot, facebookexternalhit,
	// WhatsApp, Twitterbot, LinkedInBot, Discordbot, TelegramBot, ...): benign
	// traffic caused by someone sharing a link in a chat or feed.
	UAPreview
	// UACrawler is a search-engine or generic crawler, bot or spider.
	UACrawler
	// UAAutomation is a scripted client or headless browser (curl, wget,
	// python-requests, Go-http-client, HeadlessChrome, Selenium, ...).
	UAAutomation
)

// String returns the class name used in reasons and metrics.
func (c UserAgentClass) String() string {
	switch c {
	case UABrowser:
		return "browser"
	case UAEmpty:
		return "empty"
	case UAPreview:
		return "link-preview"
	case UACrawler:
		return "crawler"
	case UAAutomation:
		return "automation"
	}
	return "unknown"
}

// User-Agent markers, lowercase. A header is split into tokens (runs of
// letters, digits and "-_.:"); a token starting with a preview or automation
// prefix, equal to a scripting-tool name followed by '/' (see
// classifyUAToken), or containing a crawler word classifies the header.
var (
	previewPrefixes = []string{
		"facebookexternalhit", "facebookcatalog", "meta-externalagent", "slackbot", "slack-imgproxy",
		"whatsapp", "twitterbot", "linkedinbot", "discordbot", "telegrambot", "skypeuripreview",
		"pinterestbot", "redditbot", "embedly", "iframely", "vkshare", "bitlybot", "mastodon",
		"microsoftpreview", "google-pagerenderer",
	}
	automationPrefixes = []string{
		"headlesschrome", "headless", "phantomjs", "selenium", "webdriver", "puppeteer", "playwright",
		"python-requests", "python-urllib", "aiohttp", "httpx", "go-http-client", "apache-httpclient",
		"libwww-perl", "lwp::", "scrapy", "node-fetch", "undici", "postmanruntime", "insomnia", "httpie",
		"guzzlehttp", "rest-client", "powershell", "winhttp", "zgrab", "masscan", "nmap",
	}
	automationWords = words("headless", "selenium", "webdriver", "puppeteer", "playwright", "phantomjs")
	crawlerWords    = words("crawl", "spider", "slurp", "scraper", "archiver", "bingpreview", "lighthouse", "pagespeed")
	botWord         = letterMask("bot")

	prefixIndex = func() (m [256][]prefixRule) {
		for _, p := range previewPrefixes {
			m[p[0]] = append(m[p[0]], prefixRule{p, UAPreview})
		}
		for _, p := range automationPrefixes {
			m[p[0]] = append(m[p[0]], prefixRule{p, UAAutomation})
		}
		return m
	}()
)

// word is a marker searched inside tokens, with the set of letters it needs
// so that most tokens are ruled out by one AND.
type word struct {
	s    string
	mask uint32
}

func words(ws ...string) []word {
	out := make([]word, len(ws))
	for i, w := range ws {
		out[i] = word{w, letterMask(w)}
	}
	return out
}

// letterMask has bit i set when the lowercase ASCII string contains 'a'+i.
func letterMask(s string) uint32 {
	var m uint32
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'a' && c <= 'z' {
			m |= 1 << (c - 'a')
		}
	}
	return m
}

type prefixRule struct {
	prefix string
	class  UserAgentClass
}

// uaFold maps a User-Agent byte to its lowercase form when it can be part of
// a token (letters, digits, "-_.:") and to 0 when it separates tokens.
var uaFold = func() (t [256]byte) {
	for c := 0; c < 256; c++ {
		switch b := byte(c); {
		case b >= 'a' && b <= 'z', b >= '0' && b <= '9', b == '-', b == '_', b == '.', b == ':':
			t[c] = b
		case b >= 'A' && b <= 'Z':
			t[c] = b + 'a' - 'A'
		}
	}
	return t
}()

// uaRank orders classes by precedence when several tokens match.
func uaRank(c UserAgentClass) int {
	switch c {
	case UAPreview:
		return 3
	case UAAutomation:
		return 2
	case UACrawler:
		return 1
	}
	return 0
}

// ClassifyUserAgent sorts a User-Agent header into a [UserAgentClass]. It is
// a token heuristic over the header: link-preview fetchers win over
// automation clients and headless browsers, which win over anything
// mentioning bot, crawler or spider ("Cubot" phones excepted). It does not
// allocate for ordinary headers.
func ClassifyUserAgent(ua string) UserAgentClass {
	ua = strings.TrimSpace(ua)
	if ua == "" {
		return UAEmpty
	}
	best := UABrowser
	var buf [48]byte
	for i := 0; i < len(ua); {
		if uaFold[ua[i]] == 0 {
			i++
			continue
		}
		n := 0
		j := i
		var mask uint32
		for ; j < len(ua); j++ {
			c := uaFold[ua[j]]
			if c == 0 {
				break
			}
			if n < len(buf) {
				if c >= 'a' {
					mask |= 1 << (c - 'a')
				}
				buf[n] = c
				n++
			}
		}
		var next byte
		if j < len(ua) {
			next = ua[j]
		}
		if c := classifyUAToken(buf[:n], mask, next); uaRank(c) > uaRank(best) {
			best = c
			if best == UAPreview {
				return best
			}
		}
		i = j
	}
	return best
}

// classifyUAToken classifies one lowercased token; mask is its
// [letterMask] and next the byte after it.
func classifyUAToken(tok []byte, mask uint32, next byte) UserAgentClass {
	if len(tok) < 3 {
		return UABrowser
	}
	t := string(tok) // does not escape: tokens up to 32 bytes are converted on the stack
	best := UABrowser
	for _, r := range prefixIndex[tok[0]] {
		if strings.HasPrefix(t, r.prefix) && uaRank(r.class) > uaRank(best) {
			best = r.class
		}
	}
	if best != UABrowser {
		return best
	}
	if next == '/' {
		switch t { // scripting tools announce themselves as "curl/8.7.1"
		case "curl", "wget", "python", "java", "axios", "php", "ruby", "perl":
			return UAAutomation
		}
	}
	for _, w := range automationWords {
		if mask&w.mask == w.mask && strings.Contains(t, w.s) {
			return UAAutomation
		}
	}
	for _, w := range crawlerWords {
		if mask&w.mask == w.mask && strings.Contains(t, w.s) {
			return UACrawler
		}
	}
	if mask&botWord != botWord {
		return UABrowser
	}
	for k := 0; ; {
		j := strings.Index(t[k:], "bot")
		if j < 0 {
			break
		}
		j += k
		if !(j >= 2 && t[j-2:j] == "cu") { // "CUBOT" is a phone brand
			return UACrawler
		}
		k = j + 3
	}
	return UABrowser
}

// IsBotUserAgent reports whether ua is anything but a regular browser: empty,
// a link-preview fetcher, a crawler or an automation client.
func IsBotUserAgent(ua string) bool {
	return ClassifyUserAgent(ua) != UABrowser
}

// RandomLookingLocalPart reports whether an email local part looks machine
// generated ("x7qk2mz9wpl", "a3f9e1c07b", "qwrtzpsdfg") rather than chosen by
// a person ("jean.dupont", "marie92", "j.smith+news", "jschmidt"). The local
// part is lowercased and a "+tag" dropped first. Parts with fewer than 5
// letters and digits, all-digit parts (phone numbers) and non-ASCII parts
// are never called random.
//
// A part whose four or more letters contain no vowel, next to digits
// ("xk7q2m", "gfpfh5635"; a digit inside a word reads as a vowel, so
// "b4ssm4n" is a word), is random whatever its length. Otherwise parts
// shorter than 8 characters are not, and the heuristic adds up evidence and
// says random at 3 points or more:
//   - one point per run of digits followed by a letter ("7q", "2m"): people
//     put digits at the end ("marie92"), generators scatter them;
//   - two points for a run of 6 or more consonants within a word, one point
//     for a run of 5 ("y" counts as a vowel);
//   - one point when fewer than 15% of 6 or more letters are vowels.
func RandomLookingLocalPart(local string) bool {
	return randomnessPoints(local) >= 3
}

// randomnessPoints implements [RandomLookingLocalPart].
func randomnessPoints(local string) int {
	local = strings.ToLower(strings.TrimSpace(local))
	if i := strings.IndexByte(local, '+'); i >= 0 {
		local = local[:i]
	}
	if i := strings.IndexByte(local, '@'); i >= 0 {
		local = local[:i]
	}
	alnum, letters, vowels, digits := 0, 0, 0, 0
	for i := 0; i < len(local); i++ {
		c := local[i]
		switch {
		case c >= utf8.RuneSelf:
			return 0
		case c >= 'a' && c <= 'z':
			alnum++
			letters++
			if isVowel(c) {
				vowels++
			}
		case c >= '0' && c <= '9':
			alnum++
			digits++
		}
	}
	if digits == alnum || alnum < 5 {
		return 0
	}
	if shortVowelless(local, letters, digits) {
		return 3
	}
	if alnum < 8 {
		return 0
	}
	points := 0
	run := 0
	flushRun := func() {
		switch {
		case run >= 6:
			points += 2
		case run == 5:
			points++
		}
		run = 0
	}
	for i := 0; i < len(local); i++ {
		c := local[i]
		switch {
		case c >= 'a' && c <= 'z':
			if isVowel(c) {
				flushRun()
			} else {
				run++
			}
			if i > 0 && local[i-1] >= '0' && local[i-1] <= '9' {
				points++
			}
		default:
			flushRun()
		}
	}
	flushRun()
	if letters >= 6 && vowels*100 < letters*15 {
		points++
	}
	return points
}

// shortVowelless reports a local part whose letters carry no vowel at all
// once leetspeak is read back ("b4ssm4n" is "bassman"): at least four such
// letters next to digits ("xk7q2m", "gfpfh5635"), or six without digits.
// Generators of throwaway accounts produce these; people choose words,
// names and initials, which have vowels or fewer letters.
func shortVowelless(local string, letters, digits int) bool {
	if letters < 4 || (digits == 0 && letters < 6) {
		return false
	}
	isLetter := func(i int) bool { return i >= 0 && i < len(local) && local[i] >= 'a' && local[i] <= 'z' }
	isLeet := func(c byte) bool { return c == '0' || c == '1' || c == '3' || c == '4' }
	for i := 0; i < len(local); i++ {
		c := local[i]
		if c >= 'a' && c <= 'z' && isVowel(c) {
			return false
		}
		if isLeet(c) && isLetter(i-1) {
			j := i
			for j < len(local) && isLeet(local[j]) {
				j++
			}
			if isLetter(j) {
				return false // digits standing for vowels inside a word ("l33t")
			}
		}
	}
	return true
}

func isVowel(c byte) bool {
	switch c {
	case 'a', 'e', 'i', 'o', 'u', 'y':
		return true
	}
	return false
}

// normalizeName folds a person's name for comparison: lowercase, common Latin
// accents removed, punctuation dropped and the words sorted, so "Dupont,
// Jean" and "jean DUPONT" compare equal. It returns "" for names with fewer
// than two words or fewer than five letters, which are too common to compare.
func normalizeName(name string) string {
	var b strings.Builder
	b.Grow(len(name))
	words := 0
	letters := 0
	inWord := false
	for _, r := range strings.ToLower(name) {
		r = foldAccent(r)
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if !inWord && b.Len() > 0 {
				b.WriteByte(' ')
			}
			if !inWord {
				words++
			}
			inWord = true
			letters++
			b.WriteRune(r)
			continue
		}
		if r == '\'' || r == '’' || unicode.IsMark(r) {
			continue // O'Brien = OBrien
		}
		inWord = false
	}
	if words < 2 || letters < 5 {
		return ""
	}
	fields := strings.Fields(b.String())
	sortStrings(fields)
	return strings.Join(fields, " ")
}

// sortStrings is an insertion sort: names have two to four words.
func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// foldAccent maps common accented Latin letters to their base letter.
func foldAccent(r rune) rune {
	if r < 0xC0 {
		return r
	}
	switch r {
	case 'à', 'á', 'â', 'ã', 'ä', 'å', 'ā', 'ă', 'ą':
		return 'a'
	case 'ç', 'ć', 'č', 'ĉ':
		return 'c'
	case 'ď', 'đ':
		return 'd'
	case 'è', 'é', 'ê', 'ë', 'ē', 'ė', 'ę', 'ě':
		return 'e'
	case 'ğ':
		return 'g'
	case 'ì', 'í', 'î', 'ï', 'ī', 'į', 'ı':
		return 'i'
	case 'ł', 'ľ', 'ĺ':
		return 'l'
	case 'ñ', 'ń', 'ň':
		return 'n'
	case 'ò', 'ó', 'ô', 'õ', 'ö', 'ø', 'ō', 'ő':
		return 'o'
	case 'ř', 'ŕ':
		return 'r'
	case 'ś', 'š', 'ş', 'ș':
		return 's'
	case 'ť', 'ţ', 'ț':
		return 't'
	case 'ù', 'ú', 'û', 'ü', 'ū', 'ů', 'ű', 'ų':
		return 'u'
	case 'ý', 'ÿ':
		return 'y'
	case 'ž', 'ź', 'ż':
		return 'z'
	case 'ß':
		return 's'
	}
	return r
}

// nameWords returns the words of a name folded to ASCII letters, in order
// ("Jean-Luc Dupont" → [jean luc dupont]).
func nameWords(name string) []string {
	var words []string
	var b strings.Builder
	flush := func() {
		if b.Len() > 0 {
			words = append(words, b.String())
			b.Reset()
		}
	}
	for _, r := range strings.ToLower(name) {
		r = foldAccent(r)
		switch {
		case r >= 'a' && r <= 'z':
			b.WriteRune(r)
		case r == '\'' || r == '’':
		default:
			flush()
		}
	}
	flush()
	return words
}

// OwnNameAddress reports whether a normalized local part is made of the
// person's own name: it contains a word of the name of at least 3 letters
// ("jean.dupont84", "dupont.j", "jeanne92" for Jeanne Petit), or starts
// with the first initial and the last word ("jdupont"). Names are folded
// like nameWords; an empty name never matches.
func OwnNameAddress(local, name string) bool {
	core := localCore(strings.ToLower(local))
	ws := nameWords(name)
	if core == "" || len(ws) == 0 {
		return false
	}
	for _, w := range ws {
		if len(w) >= 3 && strings.Contains(core, w) {
			return true
		}
	}
	return len(ws) >= 2 && strings.HasPrefix(core, ws[0][:1]+ws[len(ws)-1])
}

// normalizeAddress folds a postal address for equality: lowercase, accents
// folded, every run of other characters collapsed to one space.
func normalizeAddress(addr string) string {
	var b strings.Builder
	space := false
	for _, r := range strings.ToLower(addr) {
		r = foldAccent(r)
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
			continue
		}
		space = true
	}
	return b.String()
}

// localCore reduces a normalized local part to its letters, so that
// "jean.dupont", "jeandupont84" and "jean_dupont" share the core
// "jeandupont". Used to spot an advocate's second address.
func localCore(local string) string {
	var b strings.Builder
	b.Grow(len(local))
	for i := 0; i < len(local); i++ {
		c := local[i]
		if c >= 'a' && c <= 'z' {
			b.WriteByte(c)
		} else if c >= utf8.RuneSelf {
			b.WriteByte(c)
		}
	}
	return b.String()
}

// localTokens splits a local part into its sorted alphabetic words, so that
// "dupont.jean" and "jean_dupont2" share the tokens [dupont jean].
func localTokens(local string) string {
	f := strings.FieldsFunc(local, func(r rune) bool { return !unicode.IsLetter(r) })
	if len(f) < 2 {
		return ""
	}
	sortStrings(f)
	return strings.Join(f, " ")
}
