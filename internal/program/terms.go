package program

import (
	"context"
	"fmt"

	"github.com/parrainhq/parrain/internal/fraud"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// Program terms are rendered from the program's configuration, its payout
// settings and its fraud policy in words (parrain.RenderTerms), versioned
// by content — a new version is recorded whenever the rendered text
// changes, whatever changed it (rules, payout settings or the fraud
// policy) — and accepted by participants version by version.

// termsInputTx gathers what a program's terms are rendered from.
func termsInputTx(ctx context.Context, tx *store.Tx, p *parrain.Program) (parrain.TermsInput, error) {
	in := parrain.TermsInput{Program: p}
	doc, err := tx.FraudPolicyDoc(ctx, p.ID)
	if err != nil {
		return in, err
	}
	eng, err := fraud.Compiled(doc)
	if err != nil {
		return in, err
	}
	in.FraudRules = eng.Policy().Terms()
	ps, found, err := tx.ConfiguredPayoutSettings(ctx, p.ID)
	if err != nil {
		return in, err
	}
	if found {
		in.Payouts = &ps
	}
	return in, nil
}

// currentTermsTx renders a program's terms and records them as a new
// version when the text is new.
func currentTermsTx(ctx context.Context, tx *store.Tx, p *parrain.Program) (store.Terms, error) {
	in, err := termsInputTx(ctx, tx, p)
	if err != nil {
		return store.Terms{}, err
	}
	md := parrain.RenderTerms(in)
	sha := parrain.TermsDigest(md)
	t, found, err := tx.TermsByDigest(ctx, p.ID, sha)
	if err != nil {
		return t, err
	}
	if found {
		t.Current = true
		return withHTML(t), nil
	}
	last, err := tx.LastTermsVersion(ctx, p.ID)
	if err != nil {
		return t, err
	}
	t = store.Terms{ProgramID: p.ID, Version: last + 1, ProgramVersion: p.Version, SHA256: sha, Markdown: md,
		Current: true, CreatedAt: tx.Now()}
	if err := tx.InsertTerms(ctx, t); err != nil {
		return t, err
	}
	return withHTML(t), nil
}

// withHTML renders the terms' Markdown as HTML.
func withHTML(t store.Terms) store.Terms {
	t.HTML = parrain.MarkdownHTML(t.Markdown)
	return t
}

// noTermsVersion is the error of a terms version the program does not have.
func noTermsVersion(version int) error {
	return &parrain.Error{Code: parrain.CodeNotFound, Field: "version", Message: fmt.Sprintf("no terms version %d", version)}
}

// CurrentTerms returns the terms of a program as its configuration
// renders them now, recording a new version if the text changed.
func (s *Service) CurrentTerms(ctx context.Context, programID string) (store.Terms, error) {
	var t store.Terms
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		p, err := tx.Program(ctx, programID)
		if err != nil {
			return err
		}
		t, err = currentTermsTx(ctx, tx, &p)
		return err
	})
	return t, err
}

// TermsVersion returns one version of a program's terms.
func (s *Service) TermsVersion(ctx context.Context, programID string, version int) (store.Terms, error) {
	cur, err := s.CurrentTerms(ctx, programID)
	if err != nil {
		return cur, err
	}
	if version == cur.Version {
		return cur, nil
	}
	t, found, err := s.st.TermsAt(ctx, programID, version)
	if err != nil {
		return t, err
	}
	if !found {
		return t, noTermsVersion(version)
	}
	return withHTML(t), nil
}

// AcceptTerms records a participant's acceptance of a terms version (the
// current one when version is 0). Accepting the same version again keeps
// the first acceptance. The bool is true when the answer is a replay of
// idem.
func (s *Service) AcceptTerms(ctx context.Context, programID, externalID string, version int, idem store.Idem) (store.TermsAcceptance, bool, error) {
	if _, err := parrain.AcceptedTermsVersion(version, 0); err != nil {
		return store.TermsAcceptance{}, false, err
	}
	return store.Idempotent(ctx, s.st, idem, func(tx *store.Tx) (store.TermsAcceptance, error) {
		p, err := tx.Program(ctx, programID)
		if err != nil {
			return store.TermsAcceptance{}, err
		}
		cur, err := currentTermsTx(ctx, tx, &p)
		if err != nil {
			return store.TermsAcceptance{}, err
		}
		v, err := parrain.AcceptedTermsVersion(version, cur.Version)
		if err != nil {
			return store.TermsAcceptance{}, err
		}
		if _, found, err := tx.TermsAt(ctx, programID, v); err != nil {
			return store.TermsAcceptance{}, err
		} else if !found {
			return store.TermsAcceptance{}, noTermsVersion(v)
		}
		part, found, err := tx.ParticipantByExternalID(ctx, programID, externalID)
		if err != nil {
			return store.TermsAcceptance{}, err
		}
		if !found {
			return store.TermsAcceptance{}, parrain.Errorf(parrain.CodeNotFound, "participant not found")
		}
		at, err := tx.AcceptTerms(ctx, programID, part.ID, v, tx.Now())
		if err != nil {
			return store.TermsAcceptance{}, err
		}
		return store.TermsAcceptance{ExternalID: externalID, TermsVersion: v, AcceptedAt: at, Current: v == cur.Version}, nil
	})
}

// TermsAcceptances lists a participant's acceptances, newest version
// first, with the current terms.
func (s *Service) TermsAcceptances(ctx context.Context, programID, externalID string) ([]store.TermsAcceptance, store.Terms, error) {
	cur, err := s.CurrentTerms(ctx, programID)
	if err != nil {
		return nil, cur, err
	}
	p, err := s.st.Participant(ctx, programID, externalID)
	if err != nil {
		return nil, cur, err
	}
	accs, err := s.st.TermsAcceptancesOf(ctx, p.ID)
	if err != nil {
		return nil, cur, err
	}
	for i := range accs {
		accs[i].ExternalID, accs[i].Current = externalID, accs[i].TermsVersion == cur.Version
	}
	return accs, cur, nil
}
