package parrain

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"
)

func TestTouchCookieRoundTrip(t *testing.T) {
	ts := []Touch{
		{Code: "MARIE", At: time.Unix(1741600000, 0).UTC()},
		{Code: "BOB-1", At: time.Unix(1741600100, 0).UTC()},
	}
	v := TouchCookie(ts)
	if v != "MARIE.1741600000~BOB-1.1741600100" {
		t.Fatalf("TouchCookie = %q", v)
	}
	got, err := ParseTouchCookie(v)
	if err != nil {
		t.Fatalf("ParseTouchCookie: %v", err)
	}
	if !slices.Equal(got, ts) {
		t.Fatalf("round trip = %v, want %v", got, ts)
	}
	// Sub-second precision is dropped.
	got, _ = ParseTouchCookie(TouchCookie([]Touch{{Code: "ABC", At: t0.Add(999 * time.Millisecond)}}))
	if len(got) != 1 || !got[0].At.Equal(t0) {
		t.Errorf("sub-second round trip = %v", got)
	}
	if TouchCookie(nil) != "" {
		t.Error("TouchCookie(nil) not empty")
	}
	if got, err := ParseTouchCookie(""); got != nil || err != nil {
		t.Errorf("ParseTouchCookie(\"\") = %v, %v", got, err)
	}
}

func TestTouchCookieKeepsNewest(t *testing.T) {
	var ts []Touch
	for i := range 8 {
		ts = append(ts, Touch{Code: fmt.Sprintf("CODE%d", i), At: t0.Add(time.Duration(i) * time.Minute)})
	}
	got, err := ParseTouchCookie(TouchCookie(ts))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != MaxCookieTouches || MaxCookieTouches != 5 {
		t.Fatalf("kept %d touches, want 5", len(got))
	}
	for i, tc := range got {
		if want := fmt.Sprintf("CODE%d", i+3); tc.Code != want {
			t.Errorf("touch %d = %s, want %s", i, tc.Code, want)
		}
	}
}

func TestParseTouchCookieLowercase(t *testing.T) {
	got, err := ParseTouchCookie("marie.1741600000")
	if err != nil || len(got) != 1 || got[0].Code != "MARIE" || got[0].At.Location() != time.UTC {
		t.Errorf("got %v, %v", got, err)
	}
}

func TestParseTouchCookieMalformed(t *testing.T) {
	tooMany := strings.TrimSuffix(strings.Repeat("ABC.1741600000~", 21), "~")
	tests := []string{
		"garbage",
		"ABC",
		"ABC.",
		".1741600000",
		"AB.1741600000",            // code too short
		"A B.1741600000",           // bad code
		"ABC.x",                    // non-numeric time
		"ABC.0",                    // zero time
		"ABC.-5",                   // negative time
		"ABC.1741600000.5",         // extra dot
		"ABC.1.5",                  // fractional
		"ABC.99999999999999999999", // int64 overflow
		"ABC.1099511627777",        // beyond 1<<40
		"ABC.1741600000~",          // empty item
		"~ABC.1741600000",          // empty item
		"ABC.1741600000~~DEF.1",    // empty item
		"ABC.1741600000;DEF.1",     // wrong separator
		tooMany,
	}
	for _, v := range tests {
		got, err := ParseTouchCookie(v)
		if err == nil || got != nil {
			t.Errorf("ParseTouchCookie(%q) = %v, %v; want error", v, got, err)
		}
	}
	// Exactly 20 items and the 1<<40 bound are accepted.
	ok := strings.TrimSuffix(strings.Repeat("ABC.1741600000~", 20), "~")
	if got, err := ParseTouchCookie(ok); err != nil || len(got) != 20 {
		t.Errorf("20 touches: %d, %v", len(got), err)
	}
	if _, err := ParseTouchCookie("ABC.1099511627776"); err != nil {
		t.Errorf("1<<40: %v", err)
	}
}

func TestAddTouch(t *testing.T) {
	var ts []Touch
	for i := range 7 {
		ts = AddTouch(ts, Touch{Code: fmt.Sprintf("C%02d", i), At: t0.Add(time.Duration(i) * time.Second)})
		if want := min(i+1, 5); len(ts) != want {
			t.Fatalf("after %d adds len = %d, want %d", i+1, len(ts), want)
		}
	}
	var codes []string
	for _, tc := range ts {
		codes = append(codes, tc.Code)
	}
	if want := []string{"C02", "C03", "C04", "C05", "C06"}; !slices.Equal(codes, want) {
		t.Errorf("codes = %v, want %v", codes, want)
	}
}

func TestAttribute(t *testing.T) {
	const window = 30 * 24 * time.Hour
	at := t0
	touch := func(code string, ago time.Duration) Candidate {
		return Candidate{Touch: Touch{Code: code, At: at.Add(-ago)}}
	}
	typed := Candidate{Touch: Touch{Code: "TYPED", At: at}, Typed: true}
	tests := []struct {
		name  string
		model AttributionModel
		cands []Candidate
		want  string // "" = none
	}{
		{"none", LastClick, nil, ""},
		{"single", LastClick, []Candidate{touch("A", time.Hour)}, "A"},
		{"last click", LastClick, []Candidate{touch("A", 48*time.Hour), touch("B", time.Hour), touch("C", 24*time.Hour)}, "B"},
		{"first click", FirstClick, []Candidate{touch("A", 24*time.Hour), touch("B", 48*time.Hour), touch("C", time.Hour)}, "B"},
		{"empty model is last click", "", []Candidate{touch("A", 48*time.Hour), touch("B", time.Hour)}, "B"},
		{"last click tie goes to later entry", LastClick, []Candidate{touch("A", time.Hour), touch("B", time.Hour)}, "B"},
		{"first click tie keeps earlier entry", FirstClick, []Candidate{touch("A", time.Hour), touch("B", time.Hour)}, "A"},
		{"exactly at window edge counts", LastClick, []Candidate{touch("A", window)}, "A"},
		{"one second beyond window", LastClick, []Candidate{touch("A", window+time.Second)}, ""},
		{"first click ignores expired", FirstClick, []Candidate{touch("OLD", window+time.Second), touch("A", window), touch("B", time.Hour)}, "A"},
		{"touch at event time counts", LastClick, []Candidate{touch("A", time.Hour), touch("NOW", 0)}, "NOW"},
		{"touch after event ignored", LastClick, []Candidate{touch("A", time.Hour), touch("LATER", -time.Second)}, "A"},
		{"only future touches", FirstClick, []Candidate{touch("LATER", -time.Hour)}, ""},
		{"typed wins last click", LastClick, []Candidate{touch("A", time.Minute), typed}, "TYPED"},
		{"typed wins first click", FirstClick, []Candidate{touch("A", 10*24*time.Hour), typed, touch("B", time.Hour)}, "TYPED"},
		{"typed wins with nothing else", FirstClick, []Candidate{typed}, "TYPED"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := Attribute(tc.model, window, at, tc.cands)
			if tc.want == "" {
				if ok {
					t.Fatalf("got %v, want none", got)
				}
				return
			}
			if !ok || got.Code != tc.want {
				t.Fatalf("got %q (ok=%v), want %q", got.Code, ok, tc.want)
			}
		})
	}
}

func TestAttributeWindowFromProgram(t *testing.T) {
	p := Program{CookieWindowDays: 7}
	c := Candidate{Touch: Touch{Code: "A", At: t0.Add(-7 * 24 * time.Hour)}}
	if _, ok := Attribute(LastClick, p.Window(), t0, []Candidate{c}); !ok {
		t.Error("touch exactly 7 days old should count in a 7-day window")
	}
	if _, ok := Attribute(LastClick, p.Window(), t0.Add(time.Second), []Candidate{c}); ok {
		t.Error("touch 7 days + 1s old should not count")
	}
}

func TestSelfReferral(t *testing.T) {
	adv := Participant{ExternalID: "u1", Email: "Marie.Curie@gmail.com"}
	tests := []struct {
		name     string
		adv      Participant
		friendID string
		email    string
		want     bool
	}{
		{"same external id", adv, "u1", "", true},
		{"same external id other email", adv, "u1", "bob@example.com", true},
		{"same email", adv, "u2", "Marie.Curie@gmail.com", true},
		{"gmail dots and case", adv, "u2", "mariecurie@GMAIL.com", true},
		{"gmail plus tag", adv, "u2", "marie.curie+ref@gmail.com", true},
		{"googlemail", adv, "u2", "m.ariecurie@googlemail.com", true},
		{"different person", adv, "u2", "bob@gmail.com", false},
		{"no friend email", adv, "u2", "", false},
		{"no advocate email", Participant{ExternalID: "u1"}, "u2", "marie@example.com", false},
		{"both emails empty", Participant{ExternalID: "u1"}, "u2", "", false},
		{"dots matter outside gmail", Participant{ExternalID: "u1", Email: "ma.rie@example.com"}, "u2", "marie@example.com", false},
		{"plus tag outside gmail", Participant{ExternalID: "u1", Email: "marie@example.com"}, "u2", "Marie+x@Example.com", true},
		{"external id is case-sensitive", adv, "U1", "", false},
	}
	for _, tc := range tests {
		if got := SelfReferral(tc.adv, tc.friendID, tc.email); got != tc.want {
			t.Errorf("%s: SelfReferral = %v, want %v", tc.name, got, tc.want)
		}
	}
}
