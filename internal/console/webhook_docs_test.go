package console

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/parrainhq/parrain/internal/parrain"
)

// TestWebhookFormMatchesDocs: every event type the webhook form offers is
// documented in docs/integrations.md, and none is documented as not
// emitted (the form once offered fraud.flagged while the docs called it
// "not emitted yet").
func TestWebhookFormMatchesDocs(t *testing.T) {
	b, err := os.ReadFile("../../docs/integrations.md")
	if err != nil {
		t.Fatal(err)
	}
	rows := map[string]string{}
	for _, line := range strings.Split(string(b), "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.SplitN(line, "|", 4)
		for _, m := range regexp.MustCompile("`([a-z_]+\\.[a-z_]+|\\*)`").FindAllStringSubmatch(cells[1], -1) {
			rows[m[1]] = cells[2]
		}
	}
	offered := append([]string{parrain.WebhookAllEvents}, parrain.WebhookEventTypes...)
	for _, ev := range offered {
		doc, ok := rows[ev]
		if !ok {
			t.Errorf("the webhook form offers %s, which docs/integrations.md does not list", ev)
			continue
		}
		if strings.Contains(doc, "not emitted") || strings.Contains(doc, "reserved") {
			t.Errorf("the webhook form offers %s, which the docs call %q", ev, strings.TrimSpace(doc))
		}
	}
}
