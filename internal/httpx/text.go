package httpx

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/parrainhq/parrain/internal/parrain"
)

// ValidText reports whether s is text every database stores as given:
// valid UTF-8 without NUL characters. PostgreSQL refuses both in TEXT
// columns; SQLite would store bytes no client can read back as text.
func ValidText(s string) bool {
	return utf8.ValidString(s) && !strings.ContainsRune(s, 0)
}

// CheckText returns an invalid_argument error naming field unless s is
// ValidText.
func CheckText(field, s string) error {
	if !utf8.ValidString(s) {
		return parrain.Invalid(field, "must be valid UTF-8 text")
	}
	if strings.ContainsRune(s, 0) {
		return parrain.Invalid(field, "must not contain NUL characters")
	}
	return nil
}

// checkJSON walks one JSON document before it is decoded and refuses, naming
// the field, what encoding/json would accept silently: a key given twice
// in one object (the last would win, so two readers of the body could see
// different requests), a NUL character or invalid UTF-8 in a key or string
// (json replaces invalid bytes with U+FFFD, PostgreSQL refuses NUL), a
// top-level null (it decodes into a zero request), and data after the
// value. Syntax errors are left to the decoder, which words them better.
func checkJSON(b []byte) error {
	bad := -1 // offset of the first invalid UTF-8 byte
	if !utf8.Valid(b) {
		for i := 0; i < len(b); {
			r, n := utf8.DecodeRune(b[i:])
			if r == utf8.RuneError && n <= 1 {
				bad = i
				break
			}
			i += n
		}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	type frame struct {
		object bool
		keys   map[string]bool
		key    string // the current key of an object
		index  int    // the next index of an array
		path   string
		expect bool // an object expects a key next
	}
	var stack []*frame
	child := func(f *frame) string {
		if f.object {
			if f.path == "" {
				return f.key
			}
			return f.path + "." + f.key
		}
		return fmt.Sprintf("%s[%d]", f.path, f.index)
	}
	var top int // values completed at the top level
	for {
		start := dec.InputOffset()
		tok, err := dec.Token()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			if top > 0 {
				return parrain.Invalid("body", "unexpected data after the JSON object")
			}
			return nil // a syntax error: the decoder reports it
		}
		if top > 0 {
			return parrain.Invalid("body", "unexpected data after the JSON object")
		}
		end := dec.InputOffset()
		var f *frame
		if len(stack) > 0 {
			f = stack[len(stack)-1]
		}
		// The field this token is (or is a key of).
		field := "body"
		isKey := f != nil && f.object && f.expect
		if f != nil && !isKey {
			field = child(f)
		}
		if s, ok := tok.(string); ok {
			name := field
			if isKey {
				name = f.path
				if name == "" {
					name = "body"
				}
			}
			if bad >= 0 && int64(bad) >= start && int64(bad) < end {
				if isKey {
					return parrain.Invalid(name, "holds a key that is not valid UTF-8 text")
				}
				return parrain.Invalid(name, "must be valid UTF-8 text")
			}
			if strings.ContainsRune(s, 0) {
				if isKey {
					return parrain.Invalid(name, "holds a key with a NUL character")
				}
				return parrain.Invalid(name, "must not contain NUL characters")
			}
			if isKey {
				if f.keys[s] {
					p := s
					if f.path != "" {
						p = f.path + "." + s
					}
					return parrain.Invalid(p, "is given more than once")
				}
				f.keys[s] = true
				f.key, f.expect = s, false
				continue
			}
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			p := ""
			if f != nil {
				p = field
			}
			stack = append(stack, &frame{object: tok == json.Delim('{'), keys: map[string]bool{}, path: p, expect: tok == json.Delim('{')})
			continue
		case json.Delim('}'), json.Delim(']'):
			stack = stack[:len(stack)-1]
		case nil:
			if f == nil {
				return parrain.Invalid("body", "a JSON object is required, not null")
			}
		}
		// A value is complete: advance its container.
		if len(stack) == 0 {
			top++
			continue
		}
		g := stack[len(stack)-1]
		if g.object {
			g.expect = true
		} else {
			g.index++
		}
	}
}
