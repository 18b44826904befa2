package parrain

import (
	"reflect"
	"testing"
)

func TestNormalizeWebhookURL(t *testing.T) {
	cases := []struct {
		in, want string
		ok       bool
	}{
		{" https://hooks.example.com/parrain#x ", "https://hooks.example.com/parrain", true},
		{"http://hooks.example.com:8080/in?a=1", "http://hooks.example.com:8080/in?a=1", true},
		{"", "", false},
		{"ftp://hooks.example.com/", "", false},
		{"/relative", "", false},
		{"https://user:pw@hooks.example.com/", "", false},
		{"https://", "", false},
		{"javascript:alert(1)", "", false},
	}
	for _, c := range cases {
		got, err := NormalizeWebhookURL("url", c.in)
		if c.ok {
			if err != nil || got != c.want {
				t.Errorf("%q: %q %v, want %q", c.in, got, err, c.want)
			}
			continue
		}
		wantInvalid(t, err, "url")
	}
}

func TestNormalizeEventTypes(t *testing.T) {
	got, err := NormalizeEventTypes("event_types", []string{"reward.paid", " referral.created", "reward.paid"})
	if err != nil || !reflect.DeepEqual(got, []string{"referral.created", "reward.paid"}) {
		t.Errorf("got %v %v", got, err)
	}
	if got, err := NormalizeEventTypes("event_types", []string{"*"}); err != nil || len(got) != 1 {
		t.Errorf("star: %v %v", got, err)
	}
	_, err = NormalizeEventTypes("event_types", nil)
	wantInvalid(t, err, "event_types")
	_, err = NormalizeEventTypes("event_types", []string{"reward.eaten"})
	wantInvalid(t, err, "event_types")
	e := WebhookEndpoint{EventTypes: []string{"reward.paid"}}
	if !e.Subscribed("reward.paid") || e.Subscribed("reward.created") {
		t.Error("Subscribed")
	}
	all := WebhookEndpoint{EventTypes: []string{"*"}}
	if !all.Subscribed("fraud.flagged") {
		t.Error("star does not subscribe")
	}
	for _, typ := range WebhookEventTypes {
		if !ValidWebhookEventType(typ) {
			t.Errorf("%s not valid", typ)
		}
	}
}

func TestCRMConnectionNormalize(t *testing.T) {
	h := CRMConnection{Provider: CRMHubSpot}
	if err := h.Normalize(); err != nil || h.Pipeline != "default" || h.DealStage != "closedwon" || h.LeadStage == "" {
		t.Errorf("hubspot defaults: %+v %v", h, err)
	}
	s := CRMConnection{Provider: CRMSalesforce, DealStage: " Won "}
	if err := s.Normalize(); err != nil || s.DealStage != "Won" || s.LeadStage != "Prospecting" {
		t.Errorf("salesforce: %+v %v", s, err)
	}
	bad := CRMConnection{Provider: "pipedrive"}
	wantInvalid(t, bad.Normalize(), "provider")
	none := CRMConnection{}
	wantInvalid(t, none.Normalize(), "provider")
}

func TestNormalizeDomain(t *testing.T) {
	cases := map[string]string{
		"Acme.com":                     "acme.com",
		"https://www.acme.com/about?x": "acme.com",
		"http://shop.acme.co.uk:8080":  "shop.acme.co.uk",
		"jane@Acme.com":                "acme.com",
		"acme.com.":                    "acme.com",
		"localhost":                    "",
		"":                             "",
		"ac me.com":                    "",
		"acme.com/<script>":            "acme.com",
	}
	for in, want := range cases {
		if got := NormalizeDomain(in); got != want {
			t.Errorf("NormalizeDomain(%q) = %q, want %q", in, got, want)
		}
	}
}
