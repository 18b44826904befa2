package parrain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"
)

// Erased replaces every redacted occurrence of an erased person's data.
const Erased = "[erased]"

// Redactor finds and replaces one person's identifiers (email, name,
// external id, IPs, bank details, …) in text and JSON, for erasure
// (docs/privacy.md). A needle matches case-insensitively and only as a
// whole token: not preceded or followed by a letter or digit, so erasing
// "alice@example.com" leaves "malice@example.com" alone and erasing the IP
// 10.0.0.1 leaves 10.0.0.12 alone.
type Redactor struct {
	needles []string
	re      *regexp.Regexp
}

// MinNeedle is the shortest identifier searched for: shorter ones (a
// two-letter name) would redact unrelated text.
const MinNeedle = 3

// NewRedactor returns a redactor for the identifiers given. Each is also
// searched in its JSON-escaped and HTML-escaped forms, and with its spaces
// removed (IBANs are typed with and without them).
func NewRedactor(identifiers ...string) *Redactor {
	set := map[string]bool{}
	add := func(s string) {
		s = strings.TrimSpace(s)
		if utf8.RuneCountInString(s) >= MinNeedle && s != Erased {
			set[s] = true
		}
	}
	for _, id := range identifiers {
		add(id)
		if strings.Contains(id, " ") {
			add(strings.ReplaceAll(id, " ", ""))
		}
		if b, err := json.Marshal(id); err == nil {
			add(string(b[1 : len(b)-1]))
		}
		add(html.EscapeString(id))
	}
	r := &Redactor{}
	for s := range set {
		r.needles = append(r.needles, s)
	}
	// Longest first, so "Alice Martin" wins over "Alice".
	sort.Slice(r.needles, func(i, j int) bool {
		if len(r.needles[i]) != len(r.needles[j]) {
			return len(r.needles[i]) > len(r.needles[j])
		}
		return r.needles[i] < r.needles[j]
	})
	if len(r.needles) > 0 {
		alts := make([]string, len(r.needles))
		for i, n := range r.needles {
			alts[i] = regexp.QuoteMeta(n)
		}
		r.re = regexp.MustCompile(`(^|[^\p{L}\p{N}])(?i:` + strings.Join(alts, "|") + `)($|[^\p{L}\p{N}])`)
	}
	return r
}

// Needles returns the strings searched for (for a database prefilter:
// every value the redactor would change contains one of them, ignoring
// case).
func (r *Redactor) Needles() []string { return slices.Clone(r.needles) }

// Empty reports whether there is nothing to search for.
func (r *Redactor) Empty() bool { return r.re == nil }

// Text redacts plain text, returning whether it changed.
func (r *Redactor) Text(s string) (string, bool) {
	if r.re == nil {
		return s, false
	}
	out := s
	// A match consumes the character after it, which may begin the next
	// occurrence ("alice alice"): repeat until nothing changes.
	for range 8 {
		next := r.re.ReplaceAllString(out, "${1}"+Erased+"${2}")
		if next == out {
			break
		}
		out = next
	}
	return out, out != s
}

// Value redacts a stored value: a JSON object or array is decoded, its
// strings and keys redacted (numbers, booleans and structure untouched) and
// encoded again; anything else is redacted as text.
func (r *Redactor) Value(s string) (string, bool) {
	if r.re == nil {
		return s, false
	}
	t := strings.TrimSpace(s)
	if strings.HasPrefix(t, "{") || strings.HasPrefix(t, "[") {
		dec := json.NewDecoder(strings.NewReader(t))
		dec.UseNumber()
		var v any
		if err := dec.Decode(&v); err == nil && !dec.More() {
			v2, changed := r.walk(v)
			if !changed {
				return s, false
			}
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			if err := enc.Encode(v2); err == nil {
				return strings.TrimSuffix(buf.String(), "\n"), true
			}
		}
	}
	return r.Text(s)
}

func (r *Redactor) walk(v any) (any, bool) {
	switch x := v.(type) {
	case string:
		return r.Text(x)
	case []any:
		changed := false
		for i, e := range x {
			var c bool
			x[i], c = r.walk(e)
			changed = changed || c
		}
		return x, changed
	case map[string]any:
		changed := false
		out := make(map[string]any, len(x))
		for k, e := range x {
			k2, ck := r.Text(k)
			e2, ce := r.walk(e)
			for n := 2; ck && out[k2] != nil; n++ {
				k2 = fmt.Sprintf("%s#%d", Erased, n) // two keys redacted alike: keep both values
			}
			out[k2] = e2
			changed = changed || ck || ce
		}
		return out, changed
	}
	return v, false
}
