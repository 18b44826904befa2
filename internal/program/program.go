// Package program holds the use cases of programs, their versions and their
// terms: creating a program, saving a document over it as a new version
// (only when its configuration changed), pausing and resuming it, programs
// as code (export and apply), and the terms — rendered from the program's
// configuration, its payout settings and the words of its fraud policy,
// versioned by content — with their acceptance by participants.
//
// Each use case owns its transaction (store.InTx or store.Idempotent), in
// which it writes its rows and its audit entry under the actor the context
// carries. The rules it applies are the domain's (internal/parrain:
// program.go, program_save.go, program_document.go, terms.go) and the
// fraud policy's wording is internal/fraud's; the SQL is the store's.
//
// It imports the domain, the fraud policies and the store; never an HTTP
// package or the wiring.
package program

import (
	"context"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// Service runs the use cases of programs and their terms.
type Service struct {
	st *store.Store
}

// New returns the program use cases on st (timed by the store's clock).
func New(st *store.Store) *Service { return &Service{st: st} }

// Create validates and stores a new program at version 1, with its first
// version document and its terms. The bool is true when the answer is a
// replay of idem.
func (s *Service) Create(ctx context.Context, p parrain.Program, idem store.Idem) (parrain.Program, bool, error) {
	if err := p.Normalize(); err != nil {
		return parrain.Program{}, false, err
	}
	return store.Idempotent(ctx, s.st, idem, func(tx *store.Tx) (parrain.Program, error) {
		p, secret := parrain.NewProgram(p, tx.Now())
		id, err := tx.InsertProgram(ctx, p)
		if err != nil {
			return p, err
		}
		p.ID = id
		if err := s.savedTx(ctx, tx, &p, secret); err != nil {
			return p, err
		}
		if err := tx.InsertProgramVersion(ctx, p, p.CreatedAt); err != nil {
			return p, err
		}
		return p, tx.Audit(ctx, store.ContextActor(ctx), store.AuditProgramCreated, "program", p.ID, p.ID,
			map[string]any{"name": p.Name, "version": p.Version, "rules": len(p.Rules)})
	})
}

// Update replaces a program with a full document (PUT). The id, creation
// time and counters are kept; when the document differs from the current
// version, the version is bumped and the new document is stored in
// program_versions, so rewards made under earlier versions still explain
// themselves. An unchanged document is a no-op. A non-zero Version in the
// document must equal the current version (optimistic concurrency). A
// fulfilment secret left out keeps the stored one.
func (s *Service) Update(ctx context.Context, id string, p parrain.Program, idem store.Idem) (parrain.Program, bool, error) {
	if err := p.Normalize(); err != nil {
		return parrain.Program{}, false, err
	}
	return store.Idempotent(ctx, s.st, idem, func(tx *store.Tx) (parrain.Program, error) {
		cur, err := tx.ProgramForUpdate(ctx, id)
		if err != nil {
			return p, err
		}
		return s.replaceTx(ctx, tx, cur, p)
	})
}

// ReviseTx saves the normalized document p as the program's next version
// inside the caller's transaction (an experiment's promotion), exactly as
// Update does in its own: versioned, terms renewed, audited.
func (s *Service) ReviseTx(ctx context.Context, tx *store.Tx, programID string, p parrain.Program) (parrain.Program, error) {
	cur, err := tx.ProgramForUpdate(ctx, programID)
	if err != nil {
		return p, err
	}
	p.Version = cur.Version
	return s.replaceTx(ctx, tx, cur, p)
}

// replaceTx saves p over cur (see Update).
func (s *Service) replaceTx(ctx context.Context, tx *store.Tx, cur, p parrain.Program) (parrain.Program, error) {
	p, secret, changed, err := parrain.ReviseProgram(cur, p, tx.Now())
	if err != nil || !changed {
		return p, err
	}
	if err := tx.UpdateProgram(ctx, p); err != nil {
		return p, err
	}
	if err := tx.InsertProgramVersion(ctx, p, p.UpdatedAt); err != nil {
		return p, err
	}
	if err := s.savedTx(ctx, tx, &p, secret); err != nil {
		return p, err
	}
	// A fulfilment URL may unblock rewards that waited for one.
	if p.Fulfilment != nil && p.Fulfilment.URL != "" {
		if err := tx.ResumeFulfilments(ctx, p.ID, parrain.FulfilWaitingConfig, ""); err != nil {
			return p, err
		}
	}
	return p, tx.Audit(ctx, store.ContextActor(ctx), store.AuditProgramUpdated, "program", p.ID, p.ID,
		map[string]any{"name": p.Name, "from_version": cur.Version, "version": p.Version, "rules": len(p.Rules)})
}

// savedTx finishes a program write: its key (unique among programs), its
// sealed fulfilment secret (when a new one was given; cleared with the
// fulfilment settings) and its terms.
func (s *Service) savedTx(ctx context.Context, tx *store.Tx, p *parrain.Program, secret string) error {
	if p.Key != "" {
		taken, err := tx.ProgramKeyTaken(ctx, p.Key, p.ID)
		if err != nil {
			return err
		}
		if taken {
			return parrain.ProgramKeyTaken(p.Key)
		}
	}
	if err := tx.SetProgramKey(ctx, p.ID, p.Key); err != nil {
		return err
	}
	switch {
	case secret != "":
		if err := tx.SetFulfilmentSecret(ctx, p.ID, secret); err != nil {
			return err
		}
	case p.Fulfilment == nil:
		if err := tx.SetFulfilmentSecret(ctx, p.ID, ""); err != nil {
			return err
		}
	}
	_, err := currentTermsTx(ctx, tx, p)
	return err
}

// SetStatus pauses or resumes a program.
func (s *Service) SetStatus(ctx context.Context, id string, st parrain.ProgramStatus) (parrain.Program, error) {
	if err := parrain.SettableStatus(st); err != nil {
		return parrain.Program{}, err
	}
	var p parrain.Program
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.SetProgramStatus(ctx, id, st, tx.Now()); err != nil {
			return err
		}
		var err error
		if p, err = tx.Program(ctx, id); err != nil {
			return err
		}
		action := store.AuditProgramResumed
		if st == parrain.ProgramPaused {
			action = store.AuditProgramPaused
		}
		return tx.Audit(ctx, store.ContextActor(ctx), action, "program", p.ID, p.ID, map[string]any{"name": p.Name})
	})
	return p, err
}

// Export returns a program as a document (program as code).
func (s *Service) Export(ctx context.Context, programID string) (parrain.ProgramDocument, error) {
	p, err := s.st.Program(ctx, programID)
	if err != nil {
		return parrain.ProgramDocument{}, err
	}
	return parrain.ExportProgram(p), nil
}

// ApplyResult says what applying a program document did.
type ApplyResult struct {
	Program parrain.Program `json:"program"`
	// Action is created, updated or unchanged.
	Action string `json:"action"`
}

// Apply creates or updates a program from a document: the program with
// the document's key when there is one (or programID when given), a new
// program otherwise. Applying the same document twice changes nothing the
// second time.
func (s *Service) Apply(ctx context.Context, doc parrain.ProgramDocument, programID string) (ApplyResult, error) {
	p, err := doc.ProgramToApply()
	if err != nil {
		return ApplyResult{}, err
	}
	var res ApplyResult
	err = s.st.InTx(ctx, func(tx *store.Tx) error {
		res = ApplyResult{} // a retried attempt starts afresh
		id := programID
		if id == "" && p.Key != "" {
			var err error
			if id, err = tx.ProgramIDByKey(ctx, p.Key); err != nil {
				return err
			}
		}
		if id == "" {
			return nil
		}
		cur, err := tx.ProgramForUpdate(ctx, id)
		if err != nil {
			return err
		}
		out, err := s.replaceTx(ctx, tx, cur, p)
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
	created, _, err := s.Create(ctx, p, store.Idem{})
	return ApplyResult{Program: created, Action: "created"}, err
}
