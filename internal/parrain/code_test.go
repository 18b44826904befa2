package parrain

import (
	"strings"
	"testing"
)

func TestCodeAlphabet(t *testing.T) {
	if len(CodeAlphabet) != 31 {
		t.Fatalf("len(CodeAlphabet) = %d, want 31", len(CodeAlphabet))
	}
	seen := map[rune]bool{}
	for _, r := range CodeAlphabet {
		if seen[r] {
			t.Fatalf("duplicate %q in alphabet", r)
		}
		seen[r] = true
	}
	for _, r := range "0O1IL" {
		if seen[r] {
			t.Errorf("alphabet contains ambiguous %q", r)
		}
	}
}

func TestNewCode(t *testing.T) {
	const draws = 20000
	seen := make(map[string]bool, draws)
	used := map[byte]int{}
	for range draws {
		c := NewCode()
		if len(c) != CodeLength || CodeLength != 7 {
			t.Fatalf("NewCode() = %q, len %d, want %d", c, len(c), 7)
		}
		for i := 0; i < len(c); i++ {
			if strings.IndexByte(CodeAlphabet, c[i]) < 0 {
				t.Fatalf("NewCode() = %q contains %q outside the alphabet", c, c[i])
			}
			if strings.IndexByte("0O1IL", c[i]) >= 0 {
				t.Fatalf("NewCode() = %q contains ambiguous %q", c, c[i])
			}
			used[c[i]]++
		}
		if !ValidCodeSyntax(c) {
			t.Fatalf("NewCode() = %q fails ValidCodeSyntax", c)
		}
		if v, err := ValidateVanityCode("code", c); err != nil || v != c {
			t.Fatalf("NewCode() = %q not a valid canonical code: %q, %v", c, v, err)
		}
		if NormalizeCode(c) != c {
			t.Fatalf("NewCode() = %q not canonical", c)
		}
		// 31^7 ≈ 2.7e10: a collision among 2e4 draws has probability ~7e-3;
		// more than one would point at a broken generator.
		seen[c] = true
	}
	if len(seen) < draws-1 {
		t.Errorf("only %d distinct codes in %d draws", len(seen), draws)
	}
	// Every symbol should appear; expected count per symbol is 140000/31 ≈ 4516.
	for i := 0; i < len(CodeAlphabet); i++ {
		n := used[CodeAlphabet[i]]
		if n < 3500 || n > 5500 {
			t.Errorf("symbol %q drawn %d times, expected about 4516", CodeAlphabet[i], n)
		}
	}
}

func TestNormalizeCode(t *testing.T) {
	tests := []struct{ in, want string }{
		{"abc123", "ABC123"},
		{"  Summer-Sale \t", "SUMMER-SALE"},
		{"ABC", "ABC"},
		{"", ""},
	}
	for _, tc := range tests {
		if got := NormalizeCode(tc.in); got != tc.want {
			t.Errorf("NormalizeCode(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if NormalizeCode("marie-2025") != NormalizeCode("MARIE-2025") {
		t.Error("codes must be case-insensitive")
	}
}

func TestValidateVanityCode(t *testing.T) {
	valid := []struct{ in, want string }{
		{"abc", "ABC"},
		{"MARIE", "MARIE"},
		{" marie-2025 ", "MARIE-2025"},
		{"a-b", "A-B"},
		{"123", "123"},
		{"a--b", "A--B"},
		{strings.Repeat("x", 32), strings.Repeat("X", 32)},
	}
	for _, tc := range valid {
		got, err := ValidateVanityCode("code", tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ValidateVanityCode(%q) = %q, %v; want %q", tc.in, got, err, tc.want)
		}
	}
	invalid := []struct{ name, in string }{
		{"empty", ""},
		{"too short", "ab"},
		{"too short after trim", "  ab  "},
		{"too long", strings.Repeat("x", 33)},
		{"space inside", "ab cd"},
		{"underscore", "ab_cd"},
		{"dot", "ab.cd"},
		{"tilde", "ab~cd"},
		{"accent", "café"},
		{"emoji", "ab😀"},
		{"leading hyphen", "-abc"},
		{"trailing hyphen", "abc-"},
		{"only hyphens", "---"},
		{"slash", "ab/cd"},
	}
	for _, tc := range invalid {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ValidateVanityCode("participant.code", tc.in)
			if got != "" {
				t.Errorf("got %q on error", got)
			}
			wantInvalid(t, err, "participant.code")
		})
	}
}

func TestValidCodeSyntax(t *testing.T) {
	tests := []struct {
		in   string
		want bool
	}{
		{"ABC", true},
		{"abc", true},
		{"Ab-9", true},
		{strings.Repeat("a", 32), true},
		{"ab", false},
		{"", false},
		{strings.Repeat("a", 33), false},
		{"ab c", false},
		{" abc", false}, // not trimmed: the caller normalises first
		{"abc.123", false},
		{"abc~def", false},
		{"ab_c", false},
		{"abé", false},
		{"abc'--", false},
	}
	for _, tc := range tests {
		if got := ValidCodeSyntax(tc.in); got != tc.want {
			t.Errorf("ValidCodeSyntax(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}
