package parrain

import (
	"sort"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Refer by name: a friend who arrives without a link names the person who
// recommended them. Only a unique, exact-enough match is credited, so that
// the lookup confirms a name the friend already knows without revealing
// anyone else.

// foldTable maps accented Latin letters to their base letters.
var foldTable = func() map[rune]string {
	m := map[rune]string{}
	add := func(base string, runes string) {
		for _, r := range runes {
			m[r] = base
		}
	}
	add("a", "àáâãäåāăąǎ")
	add("c", "çćĉċč")
	add("d", "ďđð")
	add("e", "èéêëēĕėęě")
	add("g", "ĝğġģ")
	add("h", "ĥħ")
	add("i", "ìíîïĩīĭįı")
	add("j", "ĵ")
	add("k", "ķ")
	add("l", "ĺļľŀł")
	add("n", "ñńņňŉ")
	add("o", "òóôõöøōŏőǒ")
	add("r", "ŕŗř")
	add("s", "śŝşšș")
	add("t", "ţťŧț")
	add("u", "ùúûüũūŭůűųǔ")
	add("w", "ŵ")
	add("y", "ýÿŷ")
	add("z", "źżž")
	m['ß'] = "ss"
	m['æ'] = "ae"
	m['œ'] = "oe"
	m['þ'] = "th"
	return m
}()

// NameKey returns the comparison key of a person's name: lower case,
// accents and punctuation removed, words sorted (so "Martin, Alice" and
// "alice martin" are the same). It returns "" for names of fewer than two
// words, which are never specific enough to credit.
func NameKey(name string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(name) {
		if f, ok := foldTable[r]; ok {
			b.WriteString(f)
			continue
		}
		switch {
		case r < utf8.RuneSelf && (r >= 'a' && r <= 'z' || r >= '0' && r <= '9'):
			b.WriteRune(r)
		case r >= utf8.RuneSelf && unicode.IsLetter(r):
			b.WriteRune(r)
		case r == '\'' || r == '’':
			// O'Brien = OBrien
		default:
			b.WriteByte(' ')
		}
	}
	words := strings.Fields(b.String())
	if len(words) < 2 {
		return ""
	}
	sort.Strings(words)
	key := strings.Join(words, " ")
	if len(key) > 200 {
		return ""
	}
	return key
}

// LookupQuery is a parsed refer-by-name query: an email address or a full
// name.
type LookupQuery struct {
	Email   string // canonical email, when the query is an address
	NameKey string // NameKey of the query, when it is a name
}

// ParseLookup classifies what a friend typed. It fails when the text is
// neither an email address nor a name of at least two words.
func ParseLookup(q string) (LookupQuery, error) {
	q = strings.TrimSpace(q)
	if q == "" {
		return LookupQuery{}, Invalid("query", "is required: the name or email of the person who recommended us")
	}
	if len(q) > 254 {
		return LookupQuery{}, Invalid("query", "must be at most 254 characters")
	}
	if strings.Contains(q, "@") {
		e, err := NormalizeEmailField("query", q)
		if err != nil {
			return LookupQuery{}, err
		}
		return LookupQuery{Email: CanonicalEmail(e)}, nil
	}
	k := NameKey(q)
	if k == "" {
		return LookupQuery{}, Invalid("query", "type the person's full name (first and last name) or their email address")
	}
	return LookupQuery{NameKey: k}, nil
}

// ShortName returns how a person is named to others: the first name and
// the initial of the last ("Alice M."), or the first name alone.
func ShortName(name string) string {
	words := strings.Fields(name)
	switch len(words) {
	case 0:
		return ""
	case 1:
		return words[0]
	}
	last := words[len(words)-1]
	r, _ := utf8.DecodeRuneInString(last)
	return words[0] + " " + string(unicode.ToUpper(r)) + "."
}

// FirstName returns the first word of a name.
func FirstName(name string) string {
	words := strings.Fields(name)
	if len(words) == 0 {
		return ""
	}
	return words[0]
}

// MaskEmail hides most of an address ("b•••@example.org") so a list of
// referred friends shows who they are without exposing their address.
func MaskEmail(email string) string {
	at := strings.LastIndexByte(email, '@')
	if at <= 0 {
		return ""
	}
	r, _ := utf8.DecodeRuneInString(email)
	return string(r) + "•••" + email[at:]
}
