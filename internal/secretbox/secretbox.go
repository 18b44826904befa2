// Package secretbox seals Parrain's secrets at rest — bank details,
// signing secrets — with AES-256-GCM under keys kept outside the database
// (a key file or the environment). Each sealed value names the key that
// sealed it, so that keys can be rotated, and is bound by its associated
// data to the place it was stored in (table, column, row), so that a
// sealed value copied to another row or column no longer opens.
//
// It imports nothing of ours: the store calls it, the wiring loads keys.
package secretbox

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// KeySize is the size of a key in bytes (AES-256).
const KeySize = 32

// prefix starts every sealed value: "ps1." + key id + "." + base64 of
// nonce and ciphertext.
const prefix = "ps1."

// Errors of Open, to be told apart with errors.Is.
var (
	// ErrUnknownKey: the value was sealed under a key the keyring lacks.
	ErrUnknownKey = errors.New("sealed under a key that is not configured")
	// ErrTampered: the key is known but the value does not open — it was
	// altered, or moved from the row or column it was sealed for.
	ErrTampered = errors.New("does not decrypt: altered, or moved from another row")
	// ErrNotSealed: the value is not a sealed value (clear text).
	ErrNotSealed = errors.New("not a sealed value")
)

// Key is one AES-256-GCM key with its id.
type Key struct {
	id   string
	aead cipher.AEAD
}

// ID names the key in the values it seals: the first 8 hex digits of a
// SHA-256 of the key (it says which key, never anything of the key).
func (k Key) ID() string { return k.id }

// ParseKey reads a key written as 32 bytes in base64 (standard or URL
// alphabet, padded or not) or in 64 hex digits; surrounding blanks are
// ignored, so a key file may end with a newline.
func ParseKey(text string) (Key, error) {
	text = strings.TrimSpace(text)
	var raw []byte
	if len(text) == 2*KeySize {
		if b, err := hex.DecodeString(text); err == nil {
			raw = b
		}
	}
	if raw == nil {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
			if b, err := enc.DecodeString(text); err == nil {
				raw = b
				break
			}
		}
	}
	if len(raw) != KeySize {
		return Key{}, fmt.Errorf("a secret key is %d random bytes in base64 or hex (make one with `parrain secrets new-key`)", KeySize)
	}
	return newKey(raw)
}

func newKey(raw []byte) (Key, error) {
	block, err := aes.NewCipher(raw)
	if err != nil {
		return Key{}, err
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return Key{}, err
	}
	sum := sha256.Sum256(append([]byte("parrain secret key id\x00"), raw...))
	return Key{id: hex.EncodeToString(sum[:4]), aead: aead}, nil
}

// NewKeyText returns a fresh random key in base64, as a key file holds it.
func NewKeyText() (string, error) {
	b := make([]byte, KeySize)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generating a secret key: %w", err)
	}
	return base64.StdEncoding.EncodeToString(b), nil
}

// Keyring is the primary key, which seals, and older keys that still open
// what they sealed until a rotation has resealed it.
type Keyring struct {
	primary Key
	keys    map[string]Key
}

// NewKeyring returns a keyring sealing under primary and opening with
// primary and old.
func NewKeyring(primary Key, old ...Key) *Keyring {
	r := &Keyring{primary: primary, keys: map[string]Key{primary.id: primary}}
	for _, k := range old {
		if _, ok := r.keys[k.id]; !ok {
			r.keys[k.id] = k
		}
	}
	return r
}

// WithPrimary returns a keyring sealing under k and opening with k and
// every key of r: the keyring of a rotation to k.
func (r *Keyring) WithPrimary(k Key) *Keyring {
	old := make([]Key, 0, len(r.keys))
	for _, id := range r.IDs() {
		old = append(old, r.keys[id])
	}
	return NewKeyring(k, old...)
}

// PrimaryID is the id of the key that seals.
func (r *Keyring) PrimaryID() string { return r.primary.id }

// IDs lists the ids of every key of the ring, sorted.
func (r *Keyring) IDs() []string {
	ids := make([]string, 0, len(r.keys))
	for id := range r.keys {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Has reports whether the ring holds the key with id.
func (r *Keyring) Has(id string) bool { _, ok := r.keys[id]; return ok }

func aadOf(place string) []byte { return []byte("parrain " + prefix + " " + place) }

// Seal encrypts plain under the primary key for place (for instance
// "payouts.bank:po_123"): only Open with the same place opens it.
func (r *Keyring) Seal(plain, place string) (string, error) {
	k := r.primary
	nonce := make([]byte, k.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", fmt.Errorf("sealing: %w", err)
	}
	return prefix + k.id + "." + base64.RawStdEncoding.EncodeToString(k.aead.Seal(nonce, nonce, []byte(plain), aadOf(place))), nil
}

// KeyID returns the id of the key that sealed v, and false when v is not a
// sealed value.
func KeyID(v string) (string, bool) {
	rest, ok := strings.CutPrefix(v, prefix)
	if !ok {
		return "", false
	}
	id, _, ok := strings.Cut(rest, ".")
	return id, ok && id != ""
}

// IsSealed reports whether v has the form of a sealed value.
func IsSealed(v string) bool { _, ok := KeyID(v); return ok }

// Open decrypts a value sealed for place.
func (r *Keyring) Open(sealed, place string) (string, error) {
	rest, ok := strings.CutPrefix(sealed, prefix)
	id, body, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 {
		return "", ErrNotSealed
	}
	k, found := r.keys[id]
	if !found {
		return "", fmt.Errorf("key %s: %w (configured: %s)", id, ErrUnknownKey, strings.Join(r.IDs(), ", "))
	}
	b, err := base64.RawStdEncoding.DecodeString(body)
	if err != nil || len(b) < k.aead.NonceSize() {
		return "", ErrTampered
	}
	plain, err := k.aead.Open(nil, b[:k.aead.NonceSize()], b[k.aead.NonceSize():], aadOf(place))
	if err != nil {
		return "", ErrTampered
	}
	return string(plain), nil
}
