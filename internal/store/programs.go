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

const programCols = `id, name, landing_url, currency, cookie_window_days, attribution_model, hold_days, status, rules, version, created_at, updated_at, settings`

type scanner interface{ Scan(...any) error }

func scanProgram(sc scanner) (parrain.Program, error) {
	var p parrain.Program
	var rules, settings string
	var created, updated int64
	if err := sc.Scan(&p.ID, &p.Name, &p.LandingURL, &p.Currency, &p.CookieWindowDays, &p.AttributionModel, &p.HoldDays,
		&p.Status, &rules, &p.Version, &created, &updated, &settings); err != nil {
		return p, err
	}
	if err := json.Unmarshal([]byte(rules), &p.Rules); err != nil {
		return p, fmt.Errorf("decoding rules of program %s: %w", p.ID, err)
	}
	if err := decodeSettings(&p, settings); err != nil {
		return p, err
	}
	p.CreatedAt, p.UpdatedAt = fromMS(created), fromMS(updated)
	return p, nil
}

// CreateProgram validates and stores a new program.
func (s *Store) CreateProgram(ctx context.Context, p parrain.Program, idem Idem) (parrain.Program, bool, error) {
	if err := p.Normalize(); err != nil {
		return parrain.Program{}, false, err
	}
	return idempotent(ctx, s, idem, func(tx *sql.Tx) (parrain.Program, error) {
		now := s.clock.Now()
		p.ID, p.Version, p.CreatedAt, p.UpdatedAt = newID("prog"), 1, now, now
		if p.Rules == nil {
			p.Rules = []parrain.RewardRule{}
		}
		rules, err := json.Marshal(p.Rules)
		if err != nil {
			return p, err
		}
		settings, secret, err := encodeSettings(&p)
		if err != nil {
			return p, err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO programs (`+programCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
			p.ID, p.Name, p.LandingURL, p.Currency, p.CookieWindowDays, p.AttributionModel, p.HoldDays, p.Status, string(rules),
			p.Version, ms(now), ms(now), settings); err != nil {
			return p, fmt.Errorf("inserting program: %w", err)
		}
		if err := s.programSavedTx(ctx, tx, &p, secret); err != nil {
			return p, err
		}
		doc, err := json.Marshal(p)
		if err != nil {
			return p, err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO program_versions (program_id, version, document, created_at) VALUES ($1, $2, $3, $4)`,
			p.ID, p.Version, string(doc), ms(now)); err != nil {
			return p, fmt.Errorf("inserting program version: %w", err)
		}
		return p, s.audit(ctx, tx, AuditProgramCreated, "program", p.ID, p.ID,
			map[string]any{"name": p.Name, "version": p.Version, "rules": len(p.Rules)})
	})
}

// SetProgramStatus pauses or resumes a program.
func (s *Store) SetProgramStatus(ctx context.Context, id string, st parrain.ProgramStatus) (parrain.Program, error) {
	if st != parrain.ProgramActive && st != parrain.ProgramPaused {
		return parrain.Program{}, parrain.Invalid("status", "must be active or paused")
	}
	var p parrain.Program
	err := s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE programs SET status = $1, updated_at = $2 WHERE id = $3`, st, ms(s.clock.Now()), id)
		if err != nil {
			return fmt.Errorf("updating program: %w", err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return notFound("program")
		}
		if p, err = s.programQ(ctx, tx, id, ""); err != nil {
			return err
		}
		action := AuditProgramResumed
		if st == parrain.ProgramPaused {
			action = AuditProgramPaused
		}
		return s.audit(ctx, tx, action, "program", p.ID, p.ID, map[string]any{"name": p.Name})
	})
	return p, err
}

// Program returns a program by id.
func (s *Store) Program(ctx context.Context, id string) (parrain.Program, error) {
	return s.programQ(ctx, s.r, id, "")
}

func (s *Store) programQ(ctx context.Context, q querier, id, lock string) (parrain.Program, error) {
	p, err := scanProgram(q.QueryRowContext(ctx, `SELECT `+programCols+` FROM programs WHERE id = $1`+lock, id))
	if errors.Is(err, sql.ErrNoRows) {
		return p, notFound("program")
	}
	if err != nil {
		return p, fmt.Errorf("loading program: %w", err)
	}
	return p, nil
}

// Programs lists programs, newest first.
func (s *Store) Programs(ctx context.Context, pg Page) ([]parrain.Program, string, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+programCols+` FROM programs WHERE ($1 = '' OR id < $1) ORDER BY id DESC LIMIT $2`,
		pg.Cursor, pg.limit()+1)
	if err != nil {
		return nil, "", fmt.Errorf("listing programs: %w", err)
	}
	defer rows.Close()
	var out []parrain.Program
	for rows.Next() {
		p, err := scanProgram(rows)
		if err != nil {
			return nil, "", err
		}
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	return pageOf(out, pg.limit(), func(p parrain.Program) string { return p.ID })
}

// pageOf trims a limit+1 result to limit and returns the next cursor.
func pageOf[T any](items []T, limit int, id func(T) string) ([]T, string, error) {
	if len(items) > limit {
		items = items[:limit]
		return items, id(items[len(items)-1]), nil
	}
	return items, "", nil
}

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// Program returns a program, read in the transaction.
func (t *Tx) Program(ctx context.Context, id string) (parrain.Program, error) {
	return t.s.programQ(ctx, t.tx, id, "")
}

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

// ProgramDocumentFormat identifies the program-as-code document format.
const ProgramDocumentFormat = "parrain.program/v1"
