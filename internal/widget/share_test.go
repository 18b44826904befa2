package widget

import "testing"

func TestEncodeURIComponent(t *testing.T) {
	tests := map[string]string{
		"abc-_.!~*'()":          "abc-_.!~*'()",
		"a b&c=d/e?f#g":         "a%20b%26c%3Dd%2Fe%3Ff%23g",
		"10 % de réduction":     "10%20%25%20de%20r%C3%A9duction",
		"https://x.example/r/A": "https%3A%2F%2Fx.example%2Fr%2FA",
	}
	for in, want := range tests {
		if got := EncodeURIComponent(in); got != want {
			t.Errorf("EncodeURIComponent(%q) = %q, want %q", in, got, want)
		}
	}
	msg := "Try Acme: https://r.example/r/K7 (I may get a reward if you join.)"
	if got := ShareURL("x", "https://r.example/r/K7", "s", msg); got != "https://x.com/intent/tweet?text="+EncodeURIComponent(msg) {
		t.Errorf("x = %q", got)
	}
	if got := ShareURL("linkedin", "https://r.example/r/K7", "s", msg); got != "https://www.linkedin.com/sharing/share-offsite/?url=https%3A%2F%2Fr.example%2Fr%2FK7" {
		t.Errorf("linkedin = %q", got)
	}
	if got := WithDisclosure("Hi", "(I may get a reward.)"); got != "Hi (I may get a reward.)" {
		t.Errorf("disclosure appended: %q", got)
	}
	if got := WithDisclosure("Hi (I may get a reward.) bye", "(I may get a reward.)"); got != "Hi (I may get a reward.) bye" {
		t.Errorf("disclosure kept: %q", got)
	}
}
