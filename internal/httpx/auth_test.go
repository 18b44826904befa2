package httpx

import (
	"net/http/httptest"
	"testing"
)

func TestBearerToken(t *testing.T) {
	for _, c := range []struct {
		header, want string
		ok           bool
	}{
		{"Bearer prn_abc", "prn_abc", true},
		{"bearer prn_abc", "prn_abc", true},
		{"BEARER prn_abc", "prn_abc", true},
		{"BeArEr prn_abc", "prn_abc", true},
		{"Bearer   prn_abc  ", "prn_abc", true},
		{"  Bearer prn_abc", "prn_abc", true},
		{"Bearer\tprn_abc", "", false}, // the scheme ends at a space
		{"Bearer ", "", false},
		{"Bearer", "", false},
		{"", "", false},
		{"Basic dXNlcjpwYXNz", "", false},
		{"Bearerprn_abc", "", false},
		{"Token prn_abc", "", false},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		if c.header != "" {
			r.Header.Set("Authorization", c.header)
		}
		got, ok := BearerToken(r)
		if got != c.want || ok != c.ok {
			t.Errorf("%q: got %q, %v; want %q, %v", c.header, got, ok, c.want, c.ok)
		}
	}
}
