package secretbox

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

// keyOf parses a fixed key from raw bytes, so ids are stable across runs.
func keyOf(t *testing.T, fill byte) Key {
	t.Helper()
	k, err := ParseKey(hex.EncodeToString([]byte(strings.Repeat(string(rune(fill)), KeySize))))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// Every spelling ParseKey accepts names one key: the same id, and each
// opens what the others seal.
func TestParseKeySpellings(t *testing.T) {
	raw := []byte("0123456789abcdef0123456789ABCDEF")
	spellings := map[string]string{
		"hex lower":      hex.EncodeToString(raw),
		"hex upper":      strings.ToUpper(hex.EncodeToString(raw)),
		"base64 std":     base64.StdEncoding.EncodeToString(raw),
		"base64 raw std": base64.RawStdEncoding.EncodeToString(raw),
		"base64 url":     base64.URLEncoding.EncodeToString(raw),
		"base64 raw url": base64.RawURLEncoding.EncodeToString(raw),
		"with blanks":    "  " + base64.StdEncoding.EncodeToString(raw) + "\r\n",
	}
	var ring *Keyring
	var sealed, id string
	for name, text := range spellings {
		k, err := ParseKey(text)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if ring == nil {
			ring, id = NewKeyring(k), k.ID()
			if sealed, err = ring.Seal("secret", "t.c:1"); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if k.ID() != id {
			t.Errorf("%s: id %s, want %s", name, k.ID(), id)
		}
		if got, err := NewKeyring(k).Open(sealed, "t.c:1"); err != nil || got != "secret" {
			t.Errorf("%s: open %q %v", name, got, err)
		}
	}
	if len(id) != 8 || strings.Trim(id, "0123456789abcdef") != "" {
		t.Errorf("id %q is not 8 hex digits", id)
	}
	// A key's id never shows the key.
	if strings.Contains(hex.EncodeToString(raw), id) {
		t.Errorf("id %q is a piece of the key", id)
	}
}

func TestParseKeyRefusals(t *testing.T) {
	for name, text := range map[string]string{
		"31 bytes":     base64.StdEncoding.EncodeToString(make([]byte, 31)),
		"33 bytes":     base64.StdEncoding.EncodeToString(make([]byte, 33)),
		"16 bytes hex": strings.Repeat("ab", 16),
		"63 hex":       strings.Repeat("a", 63),
		"64 not hex":   strings.Repeat("g", 64),
		"blank":        " \n",
		"inner space":  "cGFycmFp bi10ZXN0LWtleS0wMTIzNDU2Nzg5YWJjZGU=",
	} {
		_, err := ParseKey(text)
		if err == nil || !strings.Contains(err.Error(), "parrain secrets new-key") {
			t.Errorf("%s: %v, want the how-to error", name, err)
		}
	}
}

// NewKeyText makes a key ParseKey reads back, different each time.
func TestNewKeyText(t *testing.T) {
	seen := map[string]bool{}
	for range 8 {
		text, err := NewKeyText()
		if err != nil {
			t.Fatal(err)
		}
		b, err := base64.StdEncoding.DecodeString(text)
		if err != nil || len(b) != KeySize {
			t.Fatalf("%q: %d bytes, %v", text, len(b), err)
		}
		k, err := ParseKey(text)
		if err != nil {
			t.Fatal(err)
		}
		if seen[k.ID()] {
			t.Fatalf("key %s made twice", k.ID())
		}
		seen[k.ID()] = true
	}
}

// The ring: the primary seals, old keys open, a key given twice counts
// once, and a rotation keeps every key.
func TestKeyring(t *testing.T) {
	a, b, c := keyOf(t, 'a'), keyOf(t, 'b'), keyOf(t, 'c')
	r := NewKeyring(a, b, a, b)
	if r.PrimaryID() != a.ID() {
		t.Fatalf("primary %s, want %s", r.PrimaryID(), a.ID())
	}
	want := []string{a.ID(), b.ID()}
	if want[0] > want[1] {
		want[0], want[1] = want[1], want[0]
	}
	if got := r.IDs(); len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("ids %v, want %v", got, want)
	}
	for _, c := range []struct {
		id   string
		want bool
	}{{a.ID(), true}, {b.ID(), true}, {c.ID(), false}, {"", false}} {
		if r.Has(c.id) != c.want {
			t.Errorf("Has(%q) = %v", c.id, !c.want)
		}
	}
	sealedB, err := NewKeyring(b).Seal("under b", "p")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := r.Open(sealedB, "p"); err != nil || got != "under b" {
		t.Fatalf("an old key opens: %q %v", got, err)
	}
	rot := r.WithPrimary(c)
	if rot.PrimaryID() != c.ID() || len(rot.IDs()) != 3 || r.PrimaryID() != a.ID() || len(r.IDs()) != 2 {
		t.Fatalf("rotation: %s %v; the old ring %s %v", rot.PrimaryID(), rot.IDs(), r.PrimaryID(), r.IDs())
	}
	v, err := rot.Seal("x", "p")
	if err != nil {
		t.Fatal(err)
	}
	if id, _ := KeyID(v); id != c.ID() {
		t.Errorf("the rotation seals under %s, want %s", id, c.ID())
	}
	if _, err := r.Open(v, "p"); !errors.Is(err, ErrUnknownKey) {
		t.Errorf("the old ring opens the new key's value: %v", err)
	}
	// Rotating to a key already in the ring makes it primary without a
	// duplicate.
	back := rot.WithPrimary(a)
	if back.PrimaryID() != a.ID() || len(back.IDs()) != 3 {
		t.Errorf("rotation back: %s %v", back.PrimaryID(), back.IDs())
	}
}

// KeyID and IsSealed read the form of a value, nothing more.
func TestKeyIDForms(t *testing.T) {
	for _, c := range []struct {
		v, id string
		ok    bool
	}{
		{"ps1.0a1b2c3d.AAAA", "0a1b2c3d", true},
		{"ps1.k.", "k", true},
		{"ps1..AAAA", "", false},
		{"ps1.nodot", "", false},
		{"ps1.", "", false},
		{"ps2.0a1b2c3d.AAAA", "", false},
		{"PS1.0a1b2c3d.AAAA", "", false},
		{"FR7630006000011234567890189", "", false},
		{"", "", false},
	} {
		id, ok := KeyID(c.v)
		if (ok && id != c.id) || ok != c.ok || IsSealed(c.v) != c.ok {
			t.Errorf("%q: %q %v (sealed %v), want %q %v", c.v, id, ok, IsSealed(c.v), c.id, c.ok)
		}
	}
}

// Every way a value can fail to open says which way, with errors.Is.
func TestOpenFailures(t *testing.T) {
	a, b := keyOf(t, 'a'), keyOf(t, 'b')
	r := NewKeyring(a)
	v, err := r.Seal("IBAN", "payouts.bank:po_1")
	if err != nil {
		t.Fatal(err)
	}
	body := v[strings.LastIndex(v, ".")+1:]
	raw, err := base64.RawStdEncoding.DecodeString(body)
	if err != nil {
		t.Fatal(err)
	}
	flip := func(i int) string {
		c := append([]byte(nil), raw...)
		c[i] ^= 1
		return "ps1." + a.ID() + "." + base64.RawStdEncoding.EncodeToString(c)
	}
	for _, c := range []struct {
		name, v, place string
		want           error
	}{
		{"another row", v, "payouts.bank:po_2", ErrTampered},
		{"another column", v, "payouts.name:po_1", ErrTampered},
		{"no place", v, "", ErrTampered},
		{"nonce altered", flip(0), "payouts.bank:po_1", ErrTampered},
		{"ciphertext altered", flip(len(raw) / 2), "payouts.bank:po_1", ErrTampered},
		{"tag altered", flip(len(raw) - 1), "payouts.bank:po_1", ErrTampered},
		{"truncated below a nonce", "ps1." + a.ID() + ".AAAA", "payouts.bank:po_1", ErrTampered},
		{"not base64", "ps1." + a.ID() + ".!!!!", "payouts.bank:po_1", ErrTampered},
		{"empty body", "ps1." + a.ID() + ".", "payouts.bank:po_1", ErrTampered},
		{"another key", "ps1." + b.ID() + "." + body, "payouts.bank:po_1", ErrUnknownKey},
		{"clear text", "IBAN", "payouts.bank:po_1", ErrNotSealed},
		{"prefix only", "ps1.", "payouts.bank:po_1", ErrNotSealed},
		{"empty", "", "payouts.bank:po_1", ErrNotSealed},
	} {
		got, err := r.Open(c.v, c.place)
		if !errors.Is(err, c.want) || got != "" {
			t.Errorf("%s: %q %v, want %v", c.name, got, err, c.want)
		}
	}
	if got, err := r.Open(v, "payouts.bank:po_1"); err != nil || got != "IBAN" {
		t.Fatalf("the untouched value: %q %v", got, err)
	}
}

// Seal keeps any text, empty and non-ASCII included, and the sealed value
// reveals nothing of it but a length.
func TestSealRoundTrip(t *testing.T) {
	r := NewKeyring(keyOf(t, 'k'))
	for _, plain := range []string{"", "a", "DE89 3704 0044 0532 0130 00", "Zoë Ørsted — 東京", strings.Repeat("x", 4096), "with\x00nul"} {
		v, err := r.Seal(plain, "t.c:1")
		if err != nil {
			t.Fatal(err)
		}
		if !IsSealed(v) || (len(plain) > 3 && strings.Contains(v, plain[:4])) {
			t.Errorf("sealed %q as %q", plain, v)
		}
		got, err := r.Open(v, "t.c:1")
		if err != nil || got != plain {
			t.Errorf("round trip of %q: %q %v", plain, got, err)
		}
	}
}
