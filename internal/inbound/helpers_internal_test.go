package inbound

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/integration/stripehook"
	"github.com/parrainhq/parrain/internal/store"
)

// badText names the two ways a signed payload cannot be stored as text
// and lets everything else through (a body that is not JSON is the
// parser's to refuse).
func TestBadText(t *testing.T) {
	for _, c := range []struct {
		name, body, want string
	}{
		{"clean", `{"id":"evt_1","name":"Zoë"}`, ""},
		{"escaped unicode", `{"name":"\u00e9\u4e2d"}`, ""},
		{"an escaped backslash before u0000", `{"path":"C:\\u0000"}`, ""},
		{"NUL in a value", `{"name":"a\u0000b"}`, "the payload holds a NUL character"},
		{"NUL in a key", `{"a\u0000":"b"}`, "the payload holds a NUL character"},
		{"NUL deep in an array", `{"lines":[{"x":["ok","\u0000"]}]}`, "the payload holds a NUL character"},
		{"not UTF-8", "{\"name\":\"\xff\xfe\"}", "the payload is not valid UTF-8"},
		{"not JSON but NUL-like", `\u0000 not json`, ""},
		{"empty", ``, ""},
	} {
		if got := badText([]byte(c.body)); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

func TestHasNUL(t *testing.T) {
	for _, c := range []struct {
		v    any
		want bool
	}{
		{nil, false},
		{1.5, false},
		{true, false},
		{"", false},
		{"\x00", true},
		{[]any{"a", []any{"b", "c\x00"}}, true},
		{map[string]any{"k": map[string]any{"k2": []any{"x"}}}, false},
		{map[string]any{"k": map[string]any{"k\x002": "x"}}, true},
	} {
		if got := hasNUL(c.v); got != c.want {
			t.Errorf("hasNUL(%#v) = %v", c.v, got)
		}
	}
}

func TestCleaners(t *testing.T) {
	for in, want := range map[string]string{"evt_1": "evt_1", "evt\x00_2": "evt_2", "a\xffb": "a\uFFFDb", "": ""} {
		if got := cleanText(in); got != want {
			t.Errorf("cleanText(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"bob@Example.COM":   "bob@example.com",
		"  ann@shop.test ":  "ann@shop.test",
		"not an email":      "",
		"Bob <bob@x.test>":  "",
		"":                  "",
		"@nodomain":         "",
		"two@@signs.test":   "",
		"ok+tag@shop.test":  "ok+tag@shop.test",
		"Case@Local.Domain": "Case@local.domain",
	} {
		if got := cleanEmail(in); got != want {
			t.Errorf("cleanEmail(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{
		"k7mpr2x":               "K7MPR2X",
		" bob-vip ":             "BOB-VIP",
		"ab":                    "",
		"has space":             "",
		"émile":                 "",
		"x_y_z":                 "",
		"":                      "",
		strings.Repeat("A", 33): "",
	} {
		if got := cleanCode(in); got != want {
			t.Errorf("cleanCode(%q) = %q, want %q", in, got, want)
		}
	}
}

// A delivery's idempotency identity: the provider's scope, the event id,
// the body's hash (a changed body under one id is another request).
func TestIdemFor(t *testing.T) {
	a := idemFor(ProviderStripe, "evt_1", []byte(`{"a":1}`))
	want := store.Idem{Scope: "inbound:stripe", Key: "evt_1", Hash: "015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862"}
	if a != want {
		t.Fatalf("idemFor = %+v, want %+v", a, want)
	}
	if b := idemFor(ProviderStripe, "evt_1", []byte(`{"a":2}`)); b.Hash == a.Hash || b.Key != a.Key {
		t.Errorf("another body: %+v", b)
	}
	if c := idemFor(ProviderShopify, "evt_1", []byte(`{"a":1}`)); c.Scope != "inbound:shopify" || c.Hash != a.Hash {
		t.Errorf("another provider: %+v", c)
	}
}

func TestStripeHelpers(t *testing.T) {
	now := time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		created, want time.Time
	}{
		{now.Add(-time.Hour), now.Add(-time.Hour)},
		{now, now},
		{now.Add(time.Minute), now}, // a clock ahead of ours is not trusted
		{time.Unix(0, 0), now},
		{time.Time{}, now},
	} {
		if got := occurred(stripehook.Event{Created: c.created}, now); !got.Equal(c.want) {
			t.Errorf("occurred(%v) = %v, want %v", c.created, got, c.want)
		}
	}
	for raw, want := range map[string]string{`"pi_1"`: "pi_1", `{"id":"ch_2","amount":5}`: "ch_2", `null`: "", `5`: "", `{"amount":5}`: "", `[]`: ""} {
		if got := idOf(json.RawMessage(raw)); got != want {
			t.Errorf("idOf(%s) = %q, want %q", raw, got, want)
		}
	}
	if got := idOf(nil); got != "" {
		t.Errorf("idOf(nil) = %q", got)
	}
	if got := merged(map[string]string{"a": "1", "b": "1"}, nil, map[string]string{"b": "2"}); !reflect.DeepEqual(got, map[string]string{"a": "1", "b": "2"}) {
		t.Errorf("merged: later maps win: %v", got)
	}
	if got := merged(); got == nil || len(got) != 0 {
		t.Errorf("merged() = %#v", got)
	}
	if got := nonEmpty("", "a", "", "b"); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("nonEmpty = %q", got)
	}
	if got := nonEmpty("", ""); got != nil {
		t.Errorf("nonEmpty of blanks = %q", got)
	}
	if got := prefixed("order:", []string{"pi_1", "ch_2"}); !reflect.DeepEqual(got, []string{"order:pi_1", "order:ch_2"}) {
		t.Errorf("prefixed = %q", got)
	}
	if got := prefixed("x", nil); len(got) != 0 {
		t.Errorf("prefixed(nil) = %q", got)
	}
	for _, c := range []struct {
		in   []string
		want string
	}{{[]string{"", "b", "c"}, "b"}, {[]string{"a"}, "a"}, {[]string{"", ""}, ""}, {nil, ""}} {
		if got := firstOf(c.in...); got != c.want {
			t.Errorf("firstOf(%q) = %q", c.in, got)
		}
	}
	if got := deref(nil); !reflect.DeepEqual(got, result{}) {
		t.Errorf("deref(nil) = %+v", got)
	}
	r := ignored("no %s for %d", "program", 3)
	if got := deref(&r); got.status != store.InboundIgnored || got.detail != "no program for 3" {
		t.Errorf("deref(ignored) = %+v", got)
	}
}
