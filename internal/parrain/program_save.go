package parrain

import (
	"bytes"
	"encoding/json"
	"fmt"
	"time"
)

// The rules of saving a program: a new program starts at version 1; a
// document saved over the current one makes a new version only when its
// configuration differs (rewards keep the version that made them, so a
// version is never rewritten); a client that read an older version is
// refused; the fulfilment secret is never part of a document (it is sealed
// in a column of its own) and a document that leaves it out keeps the
// stored one.

// NewProgram prepares a normalized program for its first save at now:
// version 1, no rules rather than a null list, and the fulfilment secret
// taken out of the document (returned, "" when none was given).
func NewProgram(p Program, now time.Time) (Program, string) {
	p.Version, p.CreatedAt, p.UpdatedAt = 1, now, now
	if p.Rules == nil {
		p.Rules = []RewardRule{}
	}
	secret := p.takeSecret()
	return p, secret
}

// ReviseProgram prepares the normalized document p to replace cur at now.
// It keeps cur's identity and creation time, refuses a non-zero Version
// other than cur's (optimistic concurrency: the field "version"), keeps the
// stored fulfilment secret when the document leaves it out and takes a new
// one out of the document (returned). changed is false when the document
// configures the program exactly as cur does and carries no new secret:
// then next is cur and nothing is to be saved. Otherwise next is at the
// following version.
func ReviseProgram(cur, p Program, now time.Time) (next Program, secret string, changed bool, err error) {
	if p.Version != 0 && p.Version != cur.Version {
		return p, "", false, &Error{Code: CodeConflict, Field: "version",
			Message: fmt.Sprintf("the program is at version %d, not %d: reload it and apply your change again", cur.Version, p.Version)}
	}
	if p.Rules == nil {
		p.Rules = []RewardRule{}
	}
	p.ID, p.CreatedAt, p.Version, p.UpdatedAt = cur.ID, cur.CreatedAt, cur.Version, cur.UpdatedAt
	if p.Fulfilment != nil {
		f := *p.Fulfilment // the caller's document is left as it was
		p.Fulfilment = &f
		if f.Secret == "" && cur.Fulfilment != nil && cur.Fulfilment.SecretSet {
			p.Fulfilment.SecretSet = true // keep the stored secret
		}
	}
	secret = p.takeSecret()
	if secret == "" && SameDocument(cur, p) {
		return cur, "", false, nil
	}
	p.Version, p.UpdatedAt = cur.Version+1, now
	return p, secret, true, nil
}

// takeSecret removes the fulfilment secret from the document (on a copy of
// its fulfilment settings, so the caller's document keeps it) and returns
// it; SecretSet tells that one was given.
func (p *Program) takeSecret() string {
	if p.Fulfilment == nil {
		return ""
	}
	f := *p.Fulfilment
	secret := f.Secret
	f.Secret = ""
	if secret != "" {
		f.SecretSet = true
	}
	p.Fulfilment = &f
	return secret
}

// SameDocument reports whether two programs have the same configuration,
// ignoring identity, version, timestamps and the fulfilment secret. Both
// are compared normalized, so that a program stored before a default
// existed equals the same document normalized today.
func SameDocument(a, b Program) bool {
	sa, sb := canonical(a), canonical(b)
	return sa != nil && bytes.Equal(sa, sb)
}

// canonical is the JSON of a program's configuration (nil when
// it cannot be encoded).
func canonical(p Program) []byte {
	var c Program // a deep copy: normalizing must not touch p
	if j, err := json.Marshal(p); err != nil || json.Unmarshal(j, &c) != nil {
		return nil
	}
	_ = c.Normalize() // an invalid stored program compares as it is
	c.ID, c.Version, c.CreatedAt, c.UpdatedAt = "", 0, time.Time{}, time.Time{}
	if c.Rules == nil {
		c.Rules = []RewardRule{}
	}
	if c.Fulfilment != nil {
		c.Fulfilment.Secret, c.Fulfilment.SecretSet = "", false
	}
	j, err := json.Marshal(c)
	if err != nil {
		return nil
	}
	return j
}

// SettableStatus checks a status a client sets on a program.
func SettableStatus(s ProgramStatus) error {
	if s != ProgramActive && s != ProgramPaused {
		return Invalid("status", "must be active or paused")
	}
	return nil
}

// ProgramKeyTaken is the error of a program key another program has.
func ProgramKeyTaken(key string) error {
	return &Error{Code: CodeConflict, Field: "key", Message: fmt.Sprintf("another program has the key %s", key)}
}
