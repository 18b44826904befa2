package parrain

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestExportProgram(t *testing.T) {
	p := savedProgram(t)
	p.Key = "spring"
	p.Fulfilment = &Fulfilment{URL: "https://crm.example/hook", Secret: "whsec_leak", SecretSet: true}
	doc := ExportProgram(p)
	if doc.Format != ProgramDocumentFormat || doc.Version != 3 {
		t.Fatalf("format %q version %d", doc.Format, doc.Version)
	}
	q := doc.Program
	if q.ID != "" || q.Version != 0 || !q.CreatedAt.IsZero() || !q.UpdatedAt.IsZero() || q.Key != "spring" || q.Name != p.Name {
		t.Errorf("exported program %+v", q)
	}
	b, err := json.Marshal(doc)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "whsec_leak") || strings.Contains(string(b), "secret_set") || !strings.Contains(string(b), "crm.example/hook") {
		t.Errorf("document %s", b)
	}
	if p.Fulfilment.Secret != "whsec_leak" || !p.Fulfilment.SecretSet {
		t.Errorf("the exported program changed: %+v", p.Fulfilment)
	}
}

func TestProgramToApply(t *testing.T) {
	valid := func() ProgramDocument {
		p := validProgram()
		p.Version = 7
		return ProgramDocument{Format: ProgramDocumentFormat, Version: 7, Program: p}
	}
	tests := []struct {
		name  string
		mod   func(*ProgramDocument)
		field string // "" when valid
	}{
		{"valid", func(d *ProgramDocument) {}, ""},
		{"no format", func(d *ProgramDocument) { d.Format = "" }, "format"},
		{"another format", func(d *ProgramDocument) { d.Format = "parrain.program/v0" }, "format"},
		{"an id", func(d *ProgramDocument) { d.Program.ID = "prog_1" }, "program.id"},
		{"no name", func(d *ProgramDocument) { d.Program.Name = " " }, "program.name"},
		{"a bad rule", func(d *ProgramDocument) { d.Program.Rules[0].Trigger = "nope" }, "program.rules[0].trigger"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := valid()
			tt.mod(&d)
			p, err := d.ProgramToApply()
			if tt.field != "" {
				wantInvalid(t, err, tt.field)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Version != 0 || p.Name != "Spring referral" || p.Currency != "EUR" || p.CookieWindowDays != 30 {
				t.Errorf("program to apply %+v", p)
			}
		})
	}
}
