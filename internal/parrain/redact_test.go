package parrain

import "testing"

func TestRedactor(t *testing.T) {
	r := NewRedactor("alice@example.com", "Alice Martin", "Alice", "10.0.0.1", "FR14 2004 1010", "user_42", "ab", "Zoë & Co")
	cases := []struct{ name, in, want string }{
		{"email in text", "Hi alice@example.com!", "Hi [erased]!"},
		{"case-insensitive", "ALICE@EXAMPLE.COM", "[erased]"},
		{"not inside a longer token", "malice@example.com", "malice@example.com"},
		{"name longest first", "Dear Alice Martin,", "Dear [erased],"},
		{"word alone", "Alice and Bob", "[erased] and Bob"},
		{"not inside a word", "Malice", "Malice"},
		{"repeated", "Alice Alice", "[erased] [erased]"},
		{"ip", "from 10.0.0.1 and 10.0.0.12", "from [erased] and 10.0.0.12"},
		{"iban without spaces", "FR1420041010", "[erased]"},
		{"too short needles are ignored", "ab cd", "ab cd"},
		{"json keeps numbers and structure", `{"email":"alice@example.com","amount":10,"n":[1,"user_42"],"ok":true}`,
			`{"amount":10,"email":"[erased]","n":[1,"[erased]"],"ok":true}`},
		{"json keys", `{"alice@example.com":{"v":1}}`, `{"[erased]":{"v":1}}`},
		{"json-escaped form in non-JSON text", `"name":"Zo\u00eb \u0026 Co"`, `"name":"Zo\u00eb \u0026 Co"`},
		{"html-escaped form", "<p>Zoë &amp; Co</p>", "<p>[erased]</p>"},
		{"untouched", `{"a":"b"}`, `{"a":"b"}`},
	}
	for _, c := range cases {
		got, _ := r.Value(c.in)
		if got != c.want {
			t.Errorf("%s: %q → %q, want %q", c.name, c.in, got, c.want)
		}
	}
	if _, changed := r.Value(`{"a":"b"}`); changed {
		t.Error("an untouched value reports a change")
	}
	if !NewRedactor().Empty() || NewRedactor("x").Empty() != true {
		t.Error("a redactor without needles of at least three characters is empty")
	}
}
