package parrain

import (
	"testing"
	"time"
)

// savedProgram is a program as the store returns it: normalized, at
// version 3, with a fulfilment secret set.
func savedProgram(t *testing.T) Program {
	t.Helper()
	p := validProgram()
	if err := p.Normalize(); err != nil {
		t.Fatal(err)
	}
	p.ID, p.Version, p.CreatedAt, p.UpdatedAt = "prog_1", 3, t0, t0.Add(time.Hour)
	p.Fulfilment = &Fulfilment{URL: "https://crm.example/hook", SecretSet: true}
	return p
}

func TestNewProgram(t *testing.T) {
	tests := []struct {
		name       string
		mod        func(*Program)
		wantSecret string
		wantSet    bool
	}{
		{"no fulfilment", func(p *Program) {}, "", false},
		{"fulfilment without secret", func(p *Program) { p.Fulfilment = &Fulfilment{URL: "https://x.example"} }, "", false},
		{"fulfilment with secret", func(p *Program) { p.Fulfilment = &Fulfilment{URL: "https://x.example", Secret: "whsec_1"} }, "whsec_1", true},
		{"null rules", func(p *Program) { p.Rules = nil }, "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := validProgram()
			tt.mod(&in)
			var given *Fulfilment
			if in.Fulfilment != nil {
				f := *in.Fulfilment
				given = &f
			}
			p, secret := NewProgram(in, t0)
			if p.Version != 1 || !p.CreatedAt.Equal(t0) || !p.UpdatedAt.Equal(t0) || p.Rules == nil {
				t.Errorf("new program: version %d, created %v, updated %v, rules %v", p.Version, p.CreatedAt, p.UpdatedAt, p.Rules)
			}
			if secret != tt.wantSecret {
				t.Errorf("secret = %q, want %q", secret, tt.wantSecret)
			}
			if p.Fulfilment != nil && (p.Fulfilment.Secret != "" || p.Fulfilment.SecretSet != tt.wantSet) {
				t.Errorf("fulfilment in the document: %+v", p.Fulfilment)
			}
			if given != nil && *in.Fulfilment != *given {
				t.Errorf("the caller's document changed: %+v, was %+v", in.Fulfilment, given)
			}
		})
	}
}

func TestReviseProgram(t *testing.T) {
	now := t0.Add(24 * time.Hour)
	tests := []struct {
		name        string
		mod         func(*Program)
		wantChanged bool
		wantSecret  string
		wantSet     bool // SecretSet in the next document (when it has fulfilment)
		wantConfl   bool
	}{
		{"same document, no version", func(p *Program) { p.Version = 0 }, false, "", true, false},
		{"same document at the current version", func(p *Program) {}, false, "", true, false},
		{"same document without identity", func(p *Program) {
			p.ID, p.Version, p.CreatedAt, p.UpdatedAt = "", 0, time.Time{}, time.Time{}
		}, false, "", true, false},
		{"stale version", func(p *Program) { p.Version = 2 }, false, "", false, true},
		{"newer version", func(p *Program) { p.Version = 4 }, false, "", false, true},
		{"changed hold", func(p *Program) { p.Version, p.HoldDays = 0, 14 }, true, "", true, false},
		{"changed rule amount", func(p *Program) {
			p.Rules = append([]RewardRule(nil), p.Rules...)
			a := *p.Rules[0].Advocate
			a.Amount = 900
			p.Rules[0].Advocate = &a
		}, true, "", true, false},
		{"new secret, same configuration", func(p *Program) {
			p.Fulfilment = &Fulfilment{URL: "https://crm.example/hook", Secret: "whsec_new"}
		}, true, "whsec_new", true, false},
		{"secret left out keeps the stored one", func(p *Program) {
			p.Fulfilment = &Fulfilment{URL: "https://crm.example/hook"}
		}, false, "", true, false},
		{"new fulfilment URL keeps the stored secret", func(p *Program) {
			p.Fulfilment = &Fulfilment{URL: "https://crm.example/other"}
		}, true, "", true, false},
		{"fulfilment removed", func(p *Program) { p.Fulfilment = nil }, true, "", false, false},
		{"defaults spelled out", func(p *Program) { p.CookieWindowDays, p.AttributionModel = 30, LastClick }, false, "", true, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cur := savedProgram(t)
			doc := savedProgram(t)
			tt.mod(&doc)
			var given *Fulfilment
			if doc.Fulfilment != nil {
				f := *doc.Fulfilment
				given = &f
			}
			next, secret, changed, err := ReviseProgram(cur, doc, now)
			if tt.wantConfl {
				if e := AsError(err); e == nil || e.Code != CodeConflict || e.Field != "version" || e.Message == "" {
					t.Fatalf("stale document: %v, want a conflict on version", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if changed != tt.wantChanged || secret != tt.wantSecret {
				t.Fatalf("changed %v secret %q, want %v %q", changed, secret, tt.wantChanged, tt.wantSecret)
			}
			if next.ID != cur.ID || !next.CreatedAt.Equal(cur.CreatedAt) {
				t.Errorf("identity not kept: %s %v", next.ID, next.CreatedAt)
			}
			if changed {
				if next.Version != cur.Version+1 || !next.UpdatedAt.Equal(now) {
					t.Errorf("changed: version %d updated %v, want %d %v", next.Version, next.UpdatedAt, cur.Version+1, now)
				}
			} else if next.Version != cur.Version || !next.UpdatedAt.Equal(cur.UpdatedAt) {
				t.Errorf("unchanged: version %d updated %v, want the current ones", next.Version, next.UpdatedAt)
			}
			if f := next.Fulfilment; f != nil && (f.Secret != "" || f.SecretSet != tt.wantSet) {
				t.Errorf("fulfilment %+v, want no secret and secret_set %v", f, tt.wantSet)
			}
			if given != nil && *doc.Fulfilment != *given {
				t.Errorf("the caller's document changed: %+v, was %+v", doc.Fulfilment, given)
			}
		})
	}
}

func TestSameDocument(t *testing.T) {
	base := func(t *testing.T) Program { return savedProgram(t) }
	tests := []struct {
		name string
		mod  func(*Program)
		want bool
	}{
		{"identical", func(p *Program) {}, true},
		{"identity, version and times differ", func(p *Program) {
			p.ID, p.Version, p.CreatedAt, p.UpdatedAt = "prog_2", 9, t0.Add(time.Hour), t0.Add(2*time.Hour)
		}, true},
		{"secret differs", func(p *Program) { p.Fulfilment = &Fulfilment{URL: "https://crm.example/hook", Secret: "s"} }, true},
		{"rules removed", func(p *Program) { p.Rules = nil }, false},
		{"name differs", func(p *Program) { p.Name = "Other" }, false},
		{"key differs", func(p *Program) { p.Key = "k" }, false},
		{"defaults left out", func(p *Program) { p.CookieWindowDays, p.AttributionModel, p.Status = 0, "", "" }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := base(t), base(t)
			tt.mod(&b)
			if got := SameDocument(a, b); got != tt.want {
				t.Errorf("SameDocument = %v, want %v", got, tt.want)
			}
		})
	}
	t.Run("empty rules on both sides", func(t *testing.T) {
		a, b := base(t), base(t)
		a.Rules, b.Rules = nil, []RewardRule{}
		if !SameDocument(a, b) {
			t.Error("a program without rules differs from itself")
		}
	})
}

func TestSettableStatus(t *testing.T) {
	for _, st := range []ProgramStatus{ProgramActive, ProgramPaused} {
		if err := SettableStatus(st); err != nil {
			t.Errorf("%s: %v", st, err)
		}
	}
	for _, st := range []ProgramStatus{"", "archived", "Active"} {
		wantInvalid(t, SettableStatus(st), "status")
	}
}

func TestProgramKeyTaken(t *testing.T) {
	e := AsError(ProgramKeyTaken("spring"))
	if e == nil || e.Code != CodeConflict || e.Field != "key" || e.Message != "another program has the key spring" {
		t.Fatalf("%+v", e)
	}
}
