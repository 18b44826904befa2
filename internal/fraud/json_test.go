package fraud

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestPolicyJSONRoundTrip(t *testing.T) {
	p := DefaultPolicy()
	p.ReviewWindow = 48 * time.Hour
	p.Rules[SelfSameEmail] = Rule{Action: RuleHold, Weight: 0.5}
	p.Lists.BlockedEmails = []string{"*@competitor.example"}
	p.Lists.BlockedIPs = []string{"203.0.113.0/24"}
	b, err := json.Marshal(p)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"review_window_hours":48`, `"hold_at":45`, `"blocked_ips":["203.0.113.0/24"]`, `"self.same_email":{"action":"hold","weight":0.5}`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON %s lacks %s", b, want)
		}
	}
	var q Policy
	if err := json.Unmarshal(b, &q); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(p, q) {
		t.Errorf("round trip:\n%+v\n%+v", p, q)
	}
}
