package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
)

// NewTriggerID returns a fresh trigger id.
func (t *Tx) NewTriggerID() string { return newID("trg") }

// InsertTrigger stores a new moment trigger.
func (t *Tx) InsertTrigger(ctx context.Context, tr parrain.MomentTrigger) error {
	doc, err := json.Marshal(tr)
	if err != nil {
		return fmt.Errorf("encoding trigger: %w", err)
	}
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO moment_triggers (id, program_id, kind, status, definition, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		tr.ID, tr.ProgramID, tr.Kind, tr.Status, string(doc), ms(tr.CreatedAt), ms(tr.UpdatedAt)); err != nil {
		return fmt.Errorf("inserting trigger: %w", err)
	}
	return nil
}

// Trigger returns a program's trigger (not deleted), locked until the
// transaction ends.
func (t *Tx) Trigger(ctx context.Context, programID, id string) (parrain.MomentTrigger, error) {
	tr, err := scanTrigger(t.tx.QueryRowContext(ctx, `SELECT definition FROM moment_triggers WHERE id = $1 AND program_id = $2 AND deleted_at IS NULL`+t.s.d.forUpdate,
		id, programID))
	if errors.Is(err, sql.ErrNoRows) {
		return tr, notFound("trigger")
	}
	return tr, err
}

// UpdateTrigger replaces a trigger's definition.
func (t *Tx) UpdateTrigger(ctx context.Context, tr parrain.MomentTrigger) error {
	doc, err := json.Marshal(tr)
	if err != nil {
		return fmt.Errorf("encoding trigger: %w", err)
	}
	res, err := t.tx.ExecContext(ctx, `UPDATE moment_triggers SET kind = $1, status = $2, definition = $3, updated_at = $4 WHERE id = $5 AND program_id = $6 AND deleted_at IS NULL`,
		tr.Kind, tr.Status, string(doc), ms(tr.UpdatedAt), tr.ID, tr.ProgramID)
	if err != nil {
		return fmt.Errorf("updating trigger: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("trigger")
	}
	return nil
}

// DeleteTrigger marks a trigger deleted (and disabled) at now; its firings
// stay on record.
func (t *Tx) DeleteTrigger(ctx context.Context, programID, id string, now time.Time) error {
	res, err := t.tx.ExecContext(ctx, `UPDATE moment_triggers SET deleted_at = $1, status = 'disabled' WHERE id = $2 AND program_id = $3 AND deleted_at IS NULL`,
		ms(now), id, programID)
	if err != nil {
		return fmt.Errorf("deleting trigger: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("trigger")
	}
	return nil
}

func scanTrigger(sc scanner) (parrain.MomentTrigger, error) {
	var t parrain.MomentTrigger
	var doc string
	if err := sc.Scan(&doc); err != nil {
		return t, err
	}
	if err := json.Unmarshal([]byte(doc), &t); err != nil {
		return t, fmt.Errorf("decoding trigger: %w", err)
	}
	return t, nil
}

// Trigger returns a program's trigger.
func (s *Store) Trigger(ctx context.Context, programID, id string) (parrain.MomentTrigger, error) {
	t, err := scanTrigger(s.r.QueryRowContext(ctx, `SELECT definition FROM moment_triggers WHERE id = $1 AND program_id = $2 AND deleted_at IS NULL`, id, programID))
	if errors.Is(err, sql.ErrNoRows) {
		return t, notFound("trigger")
	}
	return t, err
}

// Triggers lists a program's triggers, oldest first.
func (s *Store) Triggers(ctx context.Context, programID string) ([]parrain.MomentTrigger, error) {
	return s.triggersQ(ctx, s.r, programID, false)
}

func (s *Store) triggersQ(ctx context.Context, q querier, programID string, activeOnly bool) ([]parrain.MomentTrigger, error) {
	rows, err := q.QueryContext(ctx, `SELECT definition FROM moment_triggers WHERE program_id = $1 AND deleted_at IS NULL AND ($2 = 0 OR status = 'active') ORDER BY id`,
		programID, boolInt(activeOnly))
	if err != nil {
		return nil, fmt.Errorf("listing triggers: %w", err)
	}
	defer rows.Close()
	out := []parrain.MomentTrigger{}
	for rows.Next() {
		t, err := scanTrigger(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// Effect outcome states recorded on a firing.
const (
	EffectPending = "pending"
	EffectDone    = "done"
	EffectSkipped = "skipped"
	EffectFailed  = "failed"
)

// EffectOutcome is what became of one effect of a firing.
type EffectOutcome struct {
	Effect parrain.Effect `json:"effect"`
	Status string         `json:"status"`
	Detail string         `json:"detail,omitempty"`
	At     *time.Time     `json:"at,omitempty"`
}

// Firing is one time a trigger fired for a participant.
type Firing struct {
	ID            string          `json:"id"`
	TriggerID     string          `json:"trigger_id"`
	ProgramID     string          `json:"program_id"`
	ParticipantID string          `json:"-"`
	ExternalID    string          `json:"external_id"`
	EventID       string          `json:"event_id"`
	Effects       []EffectOutcome `json:"effects"`
	CreatedAt     time.Time       `json:"created_at"`
}

// TriggerFiredPayload is the data of a trigger.fired webhook.
type TriggerFiredPayload struct {
	FiringID    string    `json:"firing_id"`
	TriggerID   string    `json:"trigger_id"`
	TriggerName string    `json:"trigger_name"`
	Event       string    `json:"event"`
	ExternalID  string    `json:"external_id"`
	Email       string    `json:"email,omitempty"`
	Code        string    `json:"code"`
	EventID     string    `json:"event_id"`
	FiredAt     time.Time `json:"fired_at"`
}

// subscribedEndpointsTx counts the program's active webhook endpoints
// subscribed to eventType.
func (s *Store) subscribedEndpointsTx(ctx context.Context, tx *sql.Tx, programID, eventType string) (int, error) {
	rows, err := tx.QueryContext(ctx, `SELECT event_types FROM webhook_endpoints WHERE program_id = $1 AND status = 'active'`, programID)
	if err != nil {
		return 0, fmt.Errorf("finding webhook endpoints: %w", err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var e parrain.WebhookEndpoint
		var types string
		if err := rows.Scan(&types); err != nil {
			return 0, err
		}
		if err := json.Unmarshal([]byte(types), &e.EventTypes); err != nil {
			return 0, fmt.Errorf("decoding endpoint event types: %w", err)
		}
		if e.Subscribed(eventType) {
			n++
		}
	}
	return n, rows.Err()
}

const firingSelect = `SELECT f.id, f.trigger_id, f.program_id, f.participant_id, p.external_id, f.event_id, f.effects, f.created_at
	FROM moment_firings f JOIN participants p ON p.id = f.participant_id`

func scanFiring(sc scanner) (Firing, error) {
	var f Firing
	var effects string
	var created int64
	if err := sc.Scan(&f.ID, &f.TriggerID, &f.ProgramID, &f.ParticipantID, &f.ExternalID, &f.EventID, &effects, &created); err != nil {
		return f, err
	}
	f.CreatedAt = fromMS(created)
	return f, json.Unmarshal([]byte(effects), &f.Effects)
}

// FiringByID returns a firing.
func (s *Store) FiringByID(ctx context.Context, id string) (Firing, error) {
	f, err := scanFiring(s.r.QueryRowContext(ctx, firingSelect+` WHERE f.id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return f, notFound("firing")
	}
	return f, err
}

// Firings lists a trigger's firings, newest first.
func (s *Store) Firings(ctx context.Context, programID, triggerID string, pg Page) ([]Firing, string, error) {
	rows, err := s.r.QueryContext(ctx, firingSelect+` WHERE f.trigger_id = $1 AND f.program_id = $2 AND ($3 = '' OR f.id < $3) ORDER BY f.id DESC LIMIT $4`,
		triggerID, programID, pg.Cursor, pg.limit()+1)
	if err != nil {
		return nil, "", fmt.Errorf("listing firings: %w", err)
	}
	defer rows.Close()
	out := []Firing{}
	for rows.Next() {
		f, err := scanFiring(rows)
		if err != nil {
			return nil, "", err
		}
		out = append(out, f)
	}
	if err := rows.Err(); err != nil {
		return nil, "", err
	}
	return pageOf(out, pg.limit(), func(f Firing) string { return f.ID })
}

// SetFiringEffect records the outcome of one effect of a firing.
func (s *Store) SetFiringEffect(ctx context.Context, firingID string, e parrain.Effect, status, detail string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var doc string
		if err := tx.QueryRowContext(ctx, `SELECT effects FROM moment_firings WHERE id = $1`+s.d.forUpdate, firingID).Scan(&doc); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return notFound("firing")
			}
			return fmt.Errorf("loading firing: %w", err)
		}
		var effects []EffectOutcome
		if err := json.Unmarshal([]byte(doc), &effects); err != nil {
			return err
		}
		now := s.clock.Now()
		for i := range effects {
			if effects[i].Effect == e {
				effects[i].Status, effects[i].Detail, effects[i].At = status, truncateStr(detail, 500), &now
			}
		}
		b, _ := json.Marshal(effects)
		_, err := tx.ExecContext(ctx, `UPDATE moment_firings SET effects = $1 WHERE id = $2`, string(b), firingID)
		return err
	})
}

// ActiveTriggers lists a program's active triggers, oldest first.
func (t *Tx) ActiveTriggers(ctx context.Context, programID string) ([]parrain.MomentTrigger, error) {
	return t.s.triggersQ(ctx, t.tx, programID, true)
}

// StartTriggerCooldown records that a trigger fires for a participant now,
// unless it last fired for them after cutoff (still cooling down): false
// then. The conditional upsert holds under concurrency.
func (t *Tx) StartTriggerCooldown(ctx context.Context, triggerID, participantID string, now, cutoff time.Time) (bool, error) {
	res, err := t.tx.ExecContext(ctx, `INSERT INTO moment_trigger_state (trigger_id, participant_id, last_fired_at) VALUES ($1, $2, $3)
		ON CONFLICT (trigger_id, participant_id) DO UPDATE SET last_fired_at = excluded.last_fired_at
		WHERE moment_trigger_state.last_fired_at <= $4`, triggerID, participantID, ms(now), ms(cutoff))
	if err != nil {
		return false, fmt.Errorf("recording trigger cooldown: %w", err)
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

// SubscribedEndpoints counts a program's active webhook endpoints
// subscribed to eventType.
func (t *Tx) SubscribedEndpoints(ctx context.Context, programID, eventType string) (int, error) {
	return t.s.subscribedEndpointsTx(ctx, t.tx, programID, eventType)
}

// InsertFiring records a trigger's firing with its effects.
func (t *Tx) InsertFiring(ctx context.Context, f Firing) error {
	doc, _ := json.Marshal(f.Effects)
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO moment_firings (id, trigger_id, program_id, participant_id, event_id, effects, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, f.ID, f.TriggerID, f.ProgramID, f.ParticipantID, f.EventID, string(doc), ms(f.CreatedAt)); err != nil {
		return fmt.Errorf("recording firing: %w", err)
	}
	return nil
}
