// Package privacy holds the use cases of personal-data rights
// (docs/privacy.md): exporting everything Parrain holds on a person,
// erasing them (a tombstone the append-only ledger keeps referencing, every
// personal field blanked or pseudonymised, every copy in JSON payloads and
// logs redacted, hashed fraud evidence kept for a stated period), the CCPA
// "do not sell or share" choice, and the daily retention job.
//
// Each use case owns its transaction and writes its audit entry in it,
// under the actor the context carries. What to search and what to erase is
// driven by the store's data map (store.DataMap).
//
// It imports the domain, the store and the job runner (to register its
// kind); never an HTTP package.
package privacy

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/jobs"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// JobRetention is the daily retention job's kind.
const JobRetention = "privacy.retention"

// RetentionEvery is how often the retention job runs.
const RetentionEvery = 24 * time.Hour

// Config is the installation's privacy settings (flags and PARRAIN_*
// variables, see docs/privacy.md).
type Config struct {
	Retention store.RetentionPolicy
	// Evidence is how long an erased person's hashed fraud evidence is kept.
	Evidence time.Duration
}

// DefaultConfig is the documented defaults.
func DefaultConfig() Config {
	const day = 24 * time.Hour
	return Config{Retention: store.RetentionPolicy{RawPayloads: 365 * day, ClickIPs: 30 * day, EmailBodies: 90 * day, WebhookBodies: 30 * day},
		Evidence: 365 * day}
}

// Service runs the personal-data use cases.
type Service struct {
	st  *store.Store
	log *slog.Logger
	cfg Config
}

// New returns the personal-data use cases on st.
func New(st *store.Store, log *slog.Logger, cfg Config) *Service {
	return &Service{st: st, log: log, cfg: cfg}
}

// ExportFormat names the export document's version.
const ExportFormat = "parrain.person_export.v1"

// Export is everything Parrain holds on a person.
type Export struct {
	Format      string    `json:"format"`
	GeneratedAt time.Time `json:"generated_at"`
	// Records has one entry per participant (or partner without a
	// participant) of the person, across every program.
	Records []ExportRecord `json:"records"`
}

// ExportRecord is one participant (or partner) record of the person with
// the rows of every table about it, by table name.
type ExportRecord struct {
	ProgramID   string               `json:"program_id"`
	Participant *parrain.Participant `json:"participant,omitempty"`
	PartnerID   string               `json:"partner_id,omitempty"`
	Data        map[string]any       `json:"data"`
}

// Export returns the export document of the person a program's participant
// is, and audits that it was taken.
func (s *Service) Export(ctx context.Context, programID, externalID string) (Export, error) {
	out := Export{Format: ExportFormat, GeneratedAt: s.st.Clock().Now().UTC(), Records: []ExportRecord{}}
	person, err := s.st.FindPerson(ctx, programID, externalID)
	if err != nil {
		return out, err
	}
	rows := 0
	add := func(programID string, p *parrain.Participant, partnerID string) error {
		subject := parrain.Participant{ID: "-"}
		if p != nil {
			subject = *p
		} else {
			for _, x := range person.Partners {
				if x.ID == partnerID {
					subject.Email = x.Email
				}
			}
		}
		tables, err := s.st.PersonRows(ctx, subject, partnerID)
		if err != nil {
			return err
		}
		rec := ExportRecord{ProgramID: programID, Participant: p, PartnerID: partnerID, Data: map[string]any{}}
		for _, t := range tables {
			rec.Data[t.Table] = t.Rows
			rows += len(t.Rows)
		}
		out.Records = append(out.Records, rec)
		return nil
	}
	for i := range person.Participants {
		p := &person.Participants[i]
		if err := add(p.ProgramID, p, person.PartnerOf(p.ID)); err != nil {
			return out, err
		}
	}
	for _, x := range person.Partners {
		if x.ParticipantID == "" {
			if err := add(x.ProgramID, nil, x.ID); err != nil {
				return out, err
			}
		}
	}
	first := person.Participants[0]
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		return tx.Audit(ctx, store.ContextActor(ctx), store.AuditParticipantExported, "participant", first.ID, programID,
			map[string]any{"records": len(out.Records), "rows": rows})
	})
	return out, err
}

// ErasedRecord is a participant or partner record turned into a tombstone.
type ErasedRecord struct {
	ProgramID     string `json:"program_id"`
	ParticipantID string `json:"participant_id,omitempty"`
	PartnerID     string `json:"partner_id,omitempty"`
}

// Erasure is what an erasure did.
type Erasure struct {
	Erased []ErasedRecord `json:"erased"`
	// Forfeited is what was owed and reversed (forced erasures only).
	Forfeited []store.Owed `json:"forfeited,omitempty"`
	// Rows counts the rows changed per table.
	Rows map[string]int64 `json:"rows"`
	// EvidenceKept hashed values are kept until EvidenceUntil.
	EvidenceKept  int       `json:"evidence_kept"`
	EvidenceUntil time.Time `json:"evidence_until"`
}

// ErasedWebhook is the participant.erased webhook's data. The external id
// is not sent (it would be stored again in the delivery log): its SHA-256
// lets the receiver find the person in its own systems.
type ErasedWebhook struct {
	ParticipantID    string    `json:"participant_id"`
	ProgramID        string    `json:"program_id"`
	ExternalIDSHA256 string    `json:"external_id_sha256"`
	ErasedAt         time.Time `json:"erased_at"`
}

// ForfeitMemo is the ledger memo of rewards forfeited by a forced erasure.
const ForfeitMemo = "forfeited: participant erased"

// Erase erases the person a program's participant is, in every program
// (docs/privacy.md). Money owed refuses the erasure unless force, which
// forfeits it; an open payout always refuses it.
func (s *Service) Erase(ctx context.Context, programID, externalID string, force bool) (Erasure, error) {
	var out Erasure
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		out = Erasure{Erased: []ErasedRecord{}, Rows: map[string]int64{}}
		person, err := tx.FindPerson(ctx, programID, externalID)
		if err != nil {
			return err
		}
		var owed []string
		for _, p := range person.Participants {
			o, open, err := tx.Owed(ctx, p.ID)
			if err != nil {
				return err
			}
			if open > 0 {
				return parrain.Errorf(parrain.CodeConflict, "a payout to this person is open (pending approval, queued, being sent or awaiting "+
					"confirmation): cancel it or let it settle, then erase")
			}
			for _, x := range o {
				owed = append(owed, fmt.Sprintf("%s %d pending, %d approved (minor units, program %s)", x.Currency, x.Pending, x.Approved, p.ProgramID))
			}
			out.Forfeited = append(out.Forfeited, o...)
		}
		if len(owed) > 0 && !force {
			return &parrain.Error{Code: parrain.CodeConflict, Field: "force", Message: "this person is owed money not yet paid (" +
				strings.Join(owed, "; ") + "): pay it out first, or erase with force=true to forfeit it (reversed in the ledger)"}
		}
		if !force {
			out.Forfeited = nil
		}
		var ids []string
		for _, p := range person.Participants {
			if force {
				if err := tx.ForfeitRewards(ctx, p.ID, ForfeitMemo); err != nil {
					return err
				}
			}
			var partner store.PersonPartner
			for _, x := range person.Partners {
				if x.ParticipantID == p.ID {
					partner = x
				}
			}
			more, err := tx.PersonIdentifiers(ctx, p, partner)
			if err != nil {
				return err
			}
			ids = append(ids, more...)
		}
		for _, x := range person.Partners {
			ids = append(ids, x.Email, x.Name)
		}
		until := tx.Now().Add(s.cfg.Evidence)
		out.EvidenceUntil = until.UTC()
		for _, p := range person.Participants {
			if s.cfg.Evidence > 0 {
				n, err := tx.KeepErasedEvidence(ctx, p, until)
				if err != nil {
					return err
				}
				out.EvidenceKept += n
			}
			counts, err := tx.EraseParticipantRecords(ctx, p)
			if err != nil {
				return err
			}
			merge(out.Rows, counts)
			out.Erased = append(out.Erased, ErasedRecord{ProgramID: p.ProgramID, ParticipantID: p.ID, PartnerID: person.PartnerOf(p.ID)})
		}
		for _, x := range person.Partners {
			counts, err := tx.ErasePartnerRecord(ctx, x.ID)
			if err != nil {
				return err
			}
			merge(out.Rows, counts)
			if x.ParticipantID == "" {
				out.Erased = append(out.Erased, ErasedRecord{ProgramID: x.ProgramID, PartnerID: x.ID})
			}
		}
		swept, err := tx.SweepPersonalData(ctx, parrain.NewRedactor(ids...))
		if err != nil {
			return err
		}
		merge(out.Rows, swept)
		// Announce and audit last: neither carries the erased data.
		sum := sha256.Sum256([]byte(externalID))
		hash := hex.EncodeToString(sum[:])
		for _, p := range person.Participants {
			ext := hash
			if p.ExternalID != externalID {
				s := sha256.Sum256([]byte(p.ExternalID))
				ext = hex.EncodeToString(s[:])
			}
			if err := tx.Emit(ctx, p.ProgramID, parrain.WebhookParticipantErased, ErasedWebhook{ParticipantID: p.ID, ProgramID: p.ProgramID,
				ExternalIDSHA256: ext, ErasedAt: tx.Now().UTC()}); err != nil {
				return err
			}
		}
		var target string
		if len(person.Participants) > 0 {
			target = person.Participants[0].ID
		}
		return tx.Audit(ctx, store.ContextActor(ctx), store.AuditParticipantErased, "participant", target, programID, map[string]any{
			"erased": out.Erased, "forced": force, "forfeited": out.Forfeited, "rows": out.Rows, "evidence_kept": out.EvidenceKept,
			"evidence_until": out.EvidenceUntil})
	})
	return out, err
}

func merge(dst, src map[string]int64) {
	for k, v := range src {
		if v != 0 {
			dst[k] += v
		}
	}
}

// SetDoNotSell records a participant's CCPA "do not sell or share" choice,
// audited under the context's actor (the person themselves through the
// widget, or the customer).
func (s *Service) SetDoNotSell(ctx context.Context, programID, externalID string, doNotSell bool) (parrain.Participant, error) {
	var out parrain.Participant
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		p, found, err := tx.ParticipantByExternalID(ctx, programID, externalID)
		if err != nil {
			return err
		}
		if !found {
			return parrain.Errorf(parrain.CodeNotFound, "participant not found")
		}
		if p.DoNotSell == doNotSell {
			out = p
			return nil
		}
		if out, _, err = tx.UpsertParticipant(ctx, programID, parrain.ParticipantInput{ExternalID: externalID, DoNotSell: &doNotSell}); err != nil {
			return err
		}
		return tx.Audit(ctx, store.ContextActor(ctx), store.AuditDoNotSell, "participant", p.ID, programID, map[string]any{"do_not_sell": doNotSell})
	})
	return out, err
}

// RegisterJobs installs the daily retention job.
func (s *Service) RegisterJobs(r *jobs.Runner) {
	r.Handle(JobRetention, func(ctx context.Context, _ []byte) error {
		if err := s.st.ScheduleRecurring(ctx, JobRetention, RetentionEvery, s.st.Clock().Now().Add(RetentionEvery)); err != nil {
			return err
		}
		_, err := s.Retention(ctx)
		return err
	})
}

// EnsureSchedules seeds the retention job's daily chain (each run enqueues
// the next; this restarts it after downtime).
func (s *Service) EnsureSchedules(ctx context.Context) error {
	return s.st.EnsureRecurring(ctx, JobRetention, RetentionEvery)
}

// Retention removes what the installation's retention periods no longer
// allow, and expired evidence; it logs what it removed.
func (s *Service) Retention(ctx context.Context) (map[string]int64, error) {
	n, err := s.st.ApplyRetention(ctx, s.cfg.Retention)
	if err != nil {
		return n, err
	}
	keys := make([]string, 0, len(n))
	for k := range n {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	args := []any{}
	for _, k := range keys {
		args = append(args, k, n[k])
	}
	s.log.InfoContext(ctx, "retention periods applied", args...)
	return n, nil
}
