package secretbox

import (
	"errors"
	"strings"
	"testing"
)

func mustKey(t *testing.T) Key {
	t.Helper()
	text, err := NewKeyText()
	if err != nil {
		t.Fatal(err)
	}
	k, err := ParseKey(text + "\n")
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func TestParseKey(t *testing.T) {
	for _, c := range []struct {
		name, text string
		ok         bool
	}{
		{"base64", "cGFycmFpbi10ZXN0LWtleS0wMTIzNDU2Nzg5YWJjZGU=", true},
		{"base64 raw url", "cGFycmFpbi10ZXN0LWtleS0wMTIzNDU2Nzg5YWJjZGU", true},
		{"hex", strings.Repeat("ab", 32), true},
		{"short", "c2hvcnQ=", false},
		{"passphrase", "correct horse battery staple", false},
		{"empty", "", false},
	} {
		_, err := ParseKey(c.text)
		if (err == nil) != c.ok {
			t.Errorf("%s: %v", c.name, err)
		}
	}
	a, _ := ParseKey("cGFycmFpbi10ZXN0LWtleS0wMTIzNDU2Nzg5YWJjZGU=")
	b, _ := ParseKey("cGFycmFpbi10ZXN0LWtleS0wMTIzNDU2Nzg5YWJjZGU")
	if a.ID() != b.ID() || len(a.ID()) != 8 {
		t.Errorf("one key, two ids: %q %q", a.ID(), b.ID())
	}
}

func TestSealOpen(t *testing.T) {
	k1, k2 := mustKey(t), mustKey(t)
	r1 := NewKeyring(k1)
	v, err := r1.Seal("FR7630006000011234567890189", "payouts.bank:po_1")
	if err != nil {
		t.Fatal(err)
	}
	if id, ok := KeyID(v); !ok || id != k1.ID() || strings.Contains(v, "FR76") {
		t.Fatalf("sealed %q", v)
	}
	if w, _ := r1.Seal("FR7630006000011234567890189", "payouts.bank:po_1"); w == v {
		t.Error("two seals of one value are equal: the nonce is not random")
	}
	if p, err := r1.Open(v, "payouts.bank:po_1"); err != nil || p != "FR7630006000011234567890189" {
		t.Errorf("open: %q %v", p, err)
	}
	if _, err := r1.Open(v, "payouts.bank:po_2"); !errors.Is(err, ErrTampered) {
		t.Errorf("another row: %v", err)
	}
	if _, err := r1.Open(v[:len(v)-2]+"AA", "payouts.bank:po_1"); !errors.Is(err, ErrTampered) {
		t.Errorf("altered: %v", err)
	}
	if _, err := NewKeyring(k2).Open(v, "payouts.bank:po_1"); !errors.Is(err, ErrUnknownKey) || !strings.Contains(err.Error(), k1.ID()) {
		t.Errorf("unknown key: %v", err)
	}
	if _, err := r1.Open("FR7630006000011234567890189", "payouts.bank:po_1"); !errors.Is(err, ErrNotSealed) {
		t.Errorf("clear text: %v", err)
	}
	// A rotation's ring seals under the new key and opens both.
	r2 := r1.WithPrimary(k2)
	if p, err := r2.Open(v, "payouts.bank:po_1"); err != nil || p != "FR7630006000011234567890189" {
		t.Errorf("old key in the new ring: %v", err)
	}
	w, _ := r2.Seal("x", "p")
	if id, _ := KeyID(w); id != k2.ID() || r2.PrimaryID() != k2.ID() || len(r2.IDs()) != 2 {
		t.Errorf("new ring seals under %s, ids %v", id, r2.IDs())
	}
}
