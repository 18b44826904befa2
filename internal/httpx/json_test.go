package httpx

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
)

type sample struct {
	Name   string    `json:"name"`
	Amount int64     `json:"amount"`
	Tags   []string  `json:"tags"`
	At     time.Time `json:"at"`
	Nested struct {
		On bool `json:"on"`
	} `json:"nested"`
}

func TestDecodeJSON(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name      string
		body      string
		wantField string // "" = no error
		wantMsg   string // part of the message
	}{
		{"ok", `{"name":"a","amount":5,"tags":["x"],"nested":{"on":true}}`, "", ""},
		{"ok with spaces after", `{"name":"a"}  ` + "\n", "", ""},
		{"empty", ``, "body", "a JSON object is required"},
		{"blank", "  \n", "body", "a JSON object is required"},
		{"syntax", `{"name":}`, "body", "malformed JSON at byte"},
		{"truncated", `{"name":"a"`, "body", "truncated JSON"},
		{"trailing data", `{"name":"a"} {}`, "body", "unexpected data after the JSON object"},
		{"unknown field", `{"nmae":"a"}`, "nmae", "is not a known field"},
		{"wrong type integer", `{"amount":"ten"}`, "amount", "must be an integer, not string"},
		{"wrong type string", `{"name":3}`, "name", "must be a string, not number"},
		{"wrong type array", `{"tags":"x"}`, "tags", "must be an array, not string"},
		{"wrong type nested", `{"nested":{"on":"yes"}}`, "nested.on", "must be a boolean, not string"},
		{"not an object", `[1]`, "body", "must be an object, not array"},
		{"bad time", `{"at":"yesterday"}`, "body", "parsing time"},
		{"trailing closing bracket", `{"name":"a"}]`, "body", "unexpected data after the JSON object"},
		{"trailing garbage", `{"name":"a"}x`, "body", "unexpected data after the JSON object"},
		{"trailing scalar", `{"name":"a"} 1`, "body", "unexpected data after the JSON object"},
		{"null body", `null`, "body", "a JSON object is required, not null"},
		{"null body with spaces", " null \n", "body", "a JSON object is required, not null"},
		{"null field is fine", `{"name":null}`, "", ""},
		{"duplicate key", `{"name":"a","amount":1,"name":"b"}`, "name", "is given more than once"},
		{"duplicate nested key", `{"nested":{"on":true,"on":false}}`, "nested.on", "is given more than once"},
		{"same key in two objects is fine", `{"nested":{"on":true},"tags":["on"]}`, "", ""},
		{"NUL escape in a string", `{"name":"a\u0000b"}`, "name", "must not contain NUL characters"},
		{"NUL escape in an array", `{"tags":["ok","\u0000"]}`, "tags[1]", "must not contain NUL characters"},
		{"NUL escape in a key", `{"na\u0000me":"a"}`, "body", "holds a key with a NUL character"},
		{"invalid UTF-8 in a string", "{\"name\":\"caf\xe9\"}", "name", "must be valid UTF-8 text"},
		{"invalid UTF-8 nested", "{\"nested\":{\"on\":true},\"tags\":[\"x\",\"\xff\xfe\"]}", "tags[1]", "must be valid UTF-8 text"},
		{"invalid UTF-8 in a key", "{\"n\xffme\":1}", "body", "holds a key that is not valid UTF-8 text"},
		{"valid multibyte text", `{"name":"Zoë 🎉 東京"}`, "", ""},
		{"escaped replacement character is fine", `{"name":"\ufffd"}`, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var v sample
			err := DecodeJSON([]byte(c.body), &v)
			if c.wantField == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			e := parrain.AsError(err)
			if e == nil || e.Code != parrain.CodeInvalid || e.Field != c.wantField || !strings.Contains(e.Message, c.wantMsg) {
				t.Fatalf("got %#v, want invalid_argument on %q containing %q", e, c.wantField, c.wantMsg)
			}
		})
	}
}

func TestReadJSON(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name     string
		body     string
		limit    int64
		wantCode parrain.Code
	}{
		{"within the limit", `{"name":"a"}`, 64, ""},
		{"exactly the limit", `{"name":"` + strings.Repeat("x", 53) + `"}`, 64, ""},
		{"over the limit", `{"name":"` + strings.Repeat("x", 54) + `"}`, 64, parrain.CodeTooLarge},
		{"default limit", `{"name":"` + strings.Repeat("x", MaxBody) + `"}`, 0, parrain.CodeTooLarge},
		{"invalid", `{"name":1}`, 0, parrain.CodeInvalid},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			r := httptest.NewRequest("POST", "/", strings.NewReader(c.body))
			var v sample
			raw, err := ReadJSON(w, r, c.limit, &v)
			if got := parrain.ErrorCode(err); got != c.wantCode {
				t.Fatalf("error %v, want code %q", err, c.wantCode)
			}
			if c.wantCode == "" && (string(raw) != c.body || v.Name == "") {
				t.Errorf("raw %q, decoded %+v", raw, v)
			}
		})
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("connection reset") }

func TestReadBodyError(t *testing.T) {
	t.Parallel()
	r := httptest.NewRequest("POST", "/", failingReader{})
	_, err := ReadBody(httptest.NewRecorder(), r, 10)
	if e := parrain.AsError(err); e == nil || e.Code != parrain.CodeInvalid || e.Field != "body" {
		t.Fatalf("got %v", err)
	}
}

func TestWriteJSON(t *testing.T) {
	t.Parallel()
	w := httptest.NewRecorder()
	WriteJSON(w, 201, map[string]int{"n": 1})
	if w.Code != 201 || w.Header().Get("Content-Type") != "application/json" || w.Body.String() != "{\n  \"n\": 1\n}\n" {
		t.Fatalf("%d %q %q", w.Code, w.Header().Get("Content-Type"), w.Body.String())
	}
}
