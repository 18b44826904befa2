package parrain

import "time"

// ProgramDocumentFormat identifies the program-as-code document format.
const ProgramDocumentFormat = "parrain.program/v1"

// ProgramDocument is a program as code: everything that configures it,
// without identity, counters or secrets, so it can live in git and be
// applied to several installations (matched by key).
type ProgramDocument struct {
	Format string `json:"format"`
	// Version is informational: the version the document was exported from.
	Version int     `json:"version,omitempty"`
	Program Program `json:"program"`
}

// ExportProgram returns a program as a document: no id, version,
// timestamps or fulfilment secret (not even whether one is set).
func ExportProgram(p Program) ProgramDocument {
	v := p.Version
	p.ID, p.Version, p.CreatedAt, p.UpdatedAt = "", 0, time.Time{}, time.Time{}
	if p.Fulfilment != nil {
		f := *p.Fulfilment
		f.Secret, f.SecretSet = "", false
		p.Fulfilment = &f
	}
	return ProgramDocument{Format: ProgramDocumentFormat, Version: v, Program: p}
}

// ProgramToApply checks a document before it is applied and returns its
// program, normalized, without a version (a document is applied whatever
// the current version is). Errors name their field in the document
// ("format", "program.rules[0].stage").
func (d ProgramDocument) ProgramToApply() (Program, error) {
	if d.Format != ProgramDocumentFormat {
		return Program{}, Invalid("format", "must be %q", ProgramDocumentFormat)
	}
	p := d.Program
	if p.ID != "" {
		return Program{}, Invalid("program.id", "a program document carries no id: it is matched by key (or --program)")
	}
	p.Version = 0
	if err := p.Normalize(); err != nil {
		if e := AsError(err); e != nil && e.Field != "" {
			e.Field = "program." + e.Field
		}
		return Program{}, err
	}
	return p, nil
}
