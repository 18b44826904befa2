package store

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
)

// Program settings, versions, full updates and program-as-code documents.

// decodeSettings reads the settings column into the program.
func decodeSettings(p *parrain.Program, settings string) error {
	if settings == "" || settings == "{}" {
		return nil
	}
	if err := json.Unmarshal([]byte(settings), &p.ProgramSettings); err != nil {
		return fmt.Errorf("decoding settings of program %s: %w", p.ID, err)
	}
	return nil
}

// encodeSettings returns the settings column of a program and takes the
// fulfilment secret out of it (the secret is stored encrypted in its own
// column, never in documents). SecretSet tells whether a secret was given.
func encodeSettings(p *parrain.Program) (string, string, error) {
	secret := ""
	if f := p.Fulfilment; f != nil {
		secret = f.Secret
		f.Secret = ""
		if secret != "" {
			f.SecretSet = true
		}
	}
	b, err := json.Marshal(p.ProgramSettings)
	if err != nil {
		return "", "", err
	}
	return string(b), secret, nil
}

// programSavedTx finishes a program write: its key, its encrypted
// fulfilment secret (when a new one was given) and its terms.
func (s *Store) programSavedTx(ctx context.Context, tx *sql.Tx, p *parrain.Program, secret string) error {
	if p.Key != "" {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM programs WHERE program_key = $1 AND id <> $2`, p.Key, p.ID).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return &parrain.Error{Code: parrain.CodeConflict, Field: "key", Message: fmt.Sprintf("another program has the key %s", p.Key)}
		}
	}
	if _, err := tx.ExecContext(ctx, `UPDATE programs SET program_key = $1 WHERE id = $2`, p.Key, p.ID); err != nil {
		return fmt.Errorf("storing program key: %w", err)
	}
	if secret != "" {
		enc, err := s.sealSecret(secret)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE programs SET fulfilment_secret = $1 WHERE id = $2`, enc, p.ID); err != nil {
			return fmt.Errorf("storing fulfilment secret: %w", err)
		}
	}
	if p.Fulfilment == nil {
		if _, err := tx.ExecContext(ctx, `UPDATE programs SET fulfilment_secret = '' WHERE id = $1`, p.ID); err != nil {
			return fmt.Errorf("clearing fulfilment secret: %w", err)
		}
	}
	_, err := s.currentTermsTx(ctx, tx, p)
	return err
}

// secretKey derives the key that encrypts secrets at rest from the
// installation secret.
func (s *Store) secretKey() []byte {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte("parrain fulfilment secret v1"))
	return m.Sum(nil)
}

// sealSecret encrypts a secret with AES-256-GCM under the installation
// secret: "v1:" + base64(nonce | ciphertext).
func (s *Store) sealSecret(plain string) (string, error) {
	block, err := aes.NewCipher(s.secretKey())
	if err != nil {
		return "", err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return "", err
	}
	nonce := make([]byte, gcm.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		return "", err
	}
	return "v1:" + base64.StdEncoding.EncodeToString(gcm.Seal(nonce, nonce, []byte(plain), nil)), nil
}

// openSecret decrypts a secret sealed by sealSecret.
func (s *Store) openSecret(sealed string) (string, error) {
	enc, ok := strings.CutPrefix(sealed, "v1:")
	if !ok {
		return "", errors.New("unknown secret encoding")
	}
	b, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return "", err
	}
	block, err := aes.NewCipher(s.secretKey())
	if err != nil {
		return "", err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return "", err
	}
	if len(b) < gcm.NonceSize() {
		return "", errors.New("sealed secret too short")
	}
	plain, err := gcm.Open(nil, b[:gcm.NonceSize()], b[gcm.NonceSize():], nil)
	if err != nil {
		return "", fmt.Errorf("decrypting secret: %w", err)
	}
	return string(plain), nil
}

// fulfilmentTarget returns a program's fulfilment URL and secret ("" when
// not configured).
func (s *Store) fulfilmentTarget(ctx context.Context, q querier, programID string) (url, secret string, err error) {
	p, err := s.programQ(ctx, q, programID, "")
	if err != nil {
		return "", "", err
	}
	if p.Fulfilment == nil || p.Fulfilment.URL == "" {
		return "", "", nil
	}
	var sealed string
	if err := q.QueryRowContext(ctx, `SELECT fulfilment_secret FROM programs WHERE id = $1`, programID).Scan(&sealed); err != nil {
		return "", "", err
	}
	if sealed == "" {
		return p.Fulfilment.URL, "", nil
	}
	secret, err = s.openSecret(sealed)
	return p.Fulfilment.URL, secret, err
}

// UpdateProgram replaces a program with a full document (PUT). The id,
// creation time and counters are kept; when the document differs from the
// current version, the version is bumped and the new document is stored in
// program_versions, so rewards made under earlier versions still explain
// themselves. An unchanged document is a no-op. A non-zero Version in the
// document must equal the current version (optimistic concurrency). A
// fulfilment secret left out keeps the stored one.
func (s *Store) UpdateProgram(ctx context.Context, id string, p parrain.Program, idem Idem) (parrain.Program, bool, error) {
	if err := p.Normalize(); err != nil {
		return parrain.Program{}, false, err
	}
	return idempotent(ctx, s, idem, func(tx *sql.Tx) (parrain.Program, error) {
		cur, err := s.programQ(ctx, tx, id, s.d.forUpdate)
		if err != nil {
			return p, err
		}
		return s.replaceProgramTx(ctx, tx, cur, p)
	})
}

// replaceProgramTx writes p over cur (see UpdateProgram).
func (s *Store) replaceProgramTx(ctx context.Context, tx *sql.Tx, cur, p parrain.Program) (parrain.Program, error) {
	if p.Version != 0 && p.Version != cur.Version {
		return p, &parrain.Error{Code: parrain.CodeConflict, Field: "version",
			Message: fmt.Sprintf("the program is at version %d, not %d: reload it and apply your change again", cur.Version, p.Version)}
	}
	if p.Rules == nil {
		p.Rules = []parrain.RewardRule{}
	}
	p.ID, p.CreatedAt, p.Version, p.UpdatedAt = cur.ID, cur.CreatedAt, cur.Version, cur.UpdatedAt
	if p.Fulfilment != nil && p.Fulfilment.Secret == "" && cur.Fulfilment != nil && cur.Fulfilment.SecretSet {
		p.Fulfilment.SecretSet = true // keep the stored secret
	}
	settings, secret, err := encodeSettings(&p)
	if err != nil {
		return p, err
	}
	if secret == "" && sameDocument(cur, p) {
		return cur, nil
	}
	now := s.clock.Now()
	p.Version, p.UpdatedAt = cur.Version+1, now
	rules, err := json.Marshal(p.Rules)
	if err != nil {
		return p, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE programs SET name = $1, landing_url = $2, currency = $3, cookie_window_days = $4,
		attribution_model = $5, hold_days = $6, status = $7, rules = $8, version = $9, updated_at = $10, settings = $11 WHERE id = $12`,
		p.Name, p.LandingURL, p.Currency, p.CookieWindowDays, p.AttributionModel, p.HoldDays, p.Status, string(rules), p.Version,
		ms(now), settings, p.ID); err != nil {
		return p, fmt.Errorf("updating program: %w", err)
	}
	doc, err := json.Marshal(p)
	if err != nil {
		return p, err
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO program_versions (program_id, version, document, created_at) VALUES ($1, $2, $3, $4)`,
		p.ID, p.Version, string(doc), ms(now)); err != nil {
		return p, fmt.Errorf("inserting program version: %w", err)
	}
	if err := s.programSavedTx(ctx, tx, &p, secret); err != nil {
		return p, err
	}
	// A fulfilment URL may unblock rewards that waited for one.
	if p.Fulfilment != nil && p.Fulfilment.URL != "" {
		if err := s.resumeFulfilmentsTx(ctx, tx, p.ID, parrain.FulfilWaitingConfig, ""); err != nil {
			return p, err
		}
	}
	return p, s.audit(ctx, tx, AuditProgramUpdated, "program", p.ID, p.ID,
		map[string]any{"name": p.Name, "from_version": cur.Version, "version": p.Version, "rules": len(p.Rules)})
}

// sameDocument reports whether two programs have the same configuration
// (ignoring identity, version and timestamps).
func sameDocument(a, b parrain.Program) bool {
	strip := func(p parrain.Program) []byte {
		// A deep copy, normalized, so that a program stored before a default
		// existed compares equal to the same document normalized today.
		var c parrain.Program
		if j, err := json.Marshal(p); err != nil || json.Unmarshal(j, &c) != nil {
			return nil
		}
		_ = c.Normalize()
		c.ID, c.Version, c.CreatedAt, c.UpdatedAt = "", 0, time.Time{}, time.Time{}
		if c.Rules == nil {
			c.Rules = []parrain.RewardRule{}
		}
		if c.Fulfilment != nil {
			c.Fulfilment.Secret, c.Fulfilment.SecretSet = "", false
		}
		j, _ := json.Marshal(c)
		return j
	}
	sa, sb := strip(a), strip(b)
	return sa != nil && bytes.Equal(sa, sb)
}

// ProgramVersion is one stored version of a program's document.
type ProgramVersion struct {
	Version   int             `json:"version"`
	Program   parrain.Program `json:"program"`
	CreatedAt time.Time       `json:"created_at"`
}

// ProgramVersions lists a program's versions, newest first.
func (s *Store) ProgramVersions(ctx context.Context, programID string) ([]ProgramVersion, error) {
	if _, err := s.Program(ctx, programID); err != nil {
		return nil, err
	}
	rows, err := s.r.QueryContext(ctx, `SELECT version, document, created_at FROM program_versions WHERE program_id = $1 ORDER BY version DESC`, programID)
	if err != nil {
		return nil, fmt.Errorf("listing program versions: %w", err)
	}
	defer rows.Close()
	out := []ProgramVersion{}
	for rows.Next() {
		var v ProgramVersion
		var doc string
		var created int64
		if err := rows.Scan(&v.Version, &doc, &created); err != nil {
			return nil, err
		}
		if err := json.Unmarshal([]byte(doc), &v.Program); err != nil {
			return nil, fmt.Errorf("decoding program version %d: %w", v.Version, err)
		}
		v.CreatedAt = fromMS(created)
		out = append(out, v)
	}
	return out, rows.Err()
}

// programAtVersion returns the program document of a version.
func (s *Store) programAtVersion(ctx context.Context, q querier, programID string, version int) (parrain.Program, error) {
	var doc string
	err := q.QueryRowContext(ctx, `SELECT document FROM program_versions WHERE program_id = $1 AND version = $2`, programID, version).Scan(&doc)
	if errors.Is(err, sql.ErrNoRows) {
		return parrain.Program{}, notFound("program version")
	}
	if err != nil {
		return parrain.Program{}, fmt.Errorf("loading program version: %w", err)
	}
	var p parrain.Program
	if err := json.Unmarshal([]byte(doc), &p); err != nil {
		return p, fmt.Errorf("decoding program version %d: %w", version, err)
	}
	return p, nil
}

// ProgramDocumentFormat identifies the program-as-code document format.
const ProgramDocumentFormat = "parrain.program/v1"

// ProgramDocument is a program as code: everything that configures it,
// without identity, counters or secrets, so it can live in git and be
// applied to several installations (matched by key).
type ProgramDocument struct {
	Format string `json:"format"`
	// Version is informational: the version the document was exported from.
	Version int             `json:"version,omitempty"`
	Program parrain.Program `json:"program"`
}

// ExportProgram returns a program as a document.
func (s *Store) ExportProgram(ctx context.Context, programID string) (ProgramDocument, error) {
	p, err := s.Program(ctx, programID)
	if err != nil {
		return ProgramDocument{}, err
	}
	v := p.Version
	p.ID, p.Version, p.CreatedAt, p.UpdatedAt = "", 0, time.Time{}, time.Time{}
	if p.Fulfilment != nil {
		f := *p.Fulfilment
		f.Secret, f.SecretSet = "", false
		p.Fulfilment = &f
	}
	return ProgramDocument{Format: ProgramDocumentFormat, Version: v, Program: p}, nil
}

// ApplyResult says what applying a program document did.
type ApplyResult struct {
	Program parrain.Program `json:"program"`
	// Action is created, updated or unchanged.
	Action string `json:"action"`
}

// ApplyProgram creates or updates a program from a document: the program
// with the document's key when there is one (or programID when given),
// a new program otherwise. Applying the same document twice changes
// nothing the second time.
func (s *Store) ApplyProgram(ctx context.Context, doc ProgramDocument, programID string) (ApplyResult, error) {
	if doc.Format != ProgramDocumentFormat {
		return ApplyResult{}, parrain.Invalid("format", "must be %q", ProgramDocumentFormat)
	}
	p := doc.Program
	if p.ID != "" {
		return ApplyResult{}, parrain.Invalid("program.id", "a program document carries no id: it is matched by key (or --program)")
	}
	p.Version = 0
	if err := p.Normalize(); err != nil {
		if e := parrain.AsError(err); e != nil && e.Field != "" {
			e.Field = "program." + e.Field
		}
		return ApplyResult{}, err
	}
	var res ApplyResult
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res = ApplyResult{} // a retried attempt starts afresh
		id := programID
		if id == "" && p.Key != "" {
			err := tx.QueryRowContext(ctx, `SELECT id FROM programs WHERE program_key = $1`, p.Key).Scan(&id)
			if err != nil && !errors.Is(err, sql.ErrNoRows) {
				return err
			}
		}
		if id == "" {
			return nil
		}
		cur, err := s.programQ(ctx, tx, id, s.d.forUpdate)
		if err != nil {
			return err
		}
		out, err := s.replaceProgramTx(ctx, tx, cur, p)
		if err != nil {
			return err
		}
		res = ApplyResult{Program: out, Action: "updated"}
		if out.Version == cur.Version {
			res.Action = "unchanged"
		}
		return nil
	})
	if err != nil || res.Action != "" {
		return res, err
	}
	created, _, err := s.CreateProgram(ctx, p, Idem{})
	return ApplyResult{Program: created, Action: "created"}, err
}
