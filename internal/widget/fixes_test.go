package widget

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/httpx"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/program"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/store"
)

// TestWidgetWording: a percentage paid on the friend's first purchase only
// says so in the headline (it once read "get 10 % of their purchases"),
// and an advocate without a name gets a share subject that reads well (it
// once read " invites you to try …").
func TestWidgetWording(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, httpx.IPResolver{})
		ctx := context.Background()
		p := e.prog
		p.Rules = []parrain.RewardRule{{Trigger: parrain.TriggerFirstPurchase,
			Advocate: &parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountPercent, PercentBps: 1000},
			Friend:   &parrain.RewardSpec{Kind: parrain.KindCoupon, Type: parrain.AmountPercent, PercentBps: 1000}}}
		if _, _, err := program.New(e.st).Update(ctx, p.ID, p, store.Idem{}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.ref.SetExperience(ctx, e.prog.ID, parrain.Experience{SenderName: "Acme Shop"}); err != nil {
			t.Fatal(err)
		}
		if _, _, err := referral.New(e.st).UpsertParticipant(ctx, e.prog.ID, parrain.ParticipantInput{ExternalID: "anon"}, store.Idem{}); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct {
			ext, lang, headline, subject string
		}{
			{"alice", "en", "Give 10% off, get 10% of their first purchase", "Alice invites you to try Acme Shop"},
			{"alice", "fr", "Offrez 10 % de réduction, recevez 10 % de leur premier achat", "Alice t'invite à essayer Acme Shop"},
			{"anon", "en", "Give 10% off, get 10% of their first purchase", "A friend invites you to try Acme Shop"},
			{"anon", "fr", "Offrez 10 % de réduction, recevez 10 % de leur premier achat", "Un ami t'invite à essayer Acme Shop"},
		} {
			me := e.me(t, c.ext, "?locale="+c.lang, nil)
			if me.Headline != c.headline || me.Share.Subject != c.subject {
				t.Errorf("%s in %s: headline %q, subject %q; want %q, %q", c.ext, c.lang, me.Headline, me.Share.Subject, c.headline, c.subject)
			}
		}
	})
}

// TestWidgetPayoutSectionStyled: the payout section is a card like the
// others, its select and email input and its button styled (it was once
// plain HTML).
func TestWidgetPayoutSectionStyled(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, dbURL string) {
		e := newEnv(t, dbURL, httpx.IPResolver{})
		w := e.serve(request("GET", "/widget?program="+e.prog.ID, "203.0.113.5:1", nil, ""))
		body := w.Body.String()
		if w.Code != http.StatusOK {
			t.Fatalf("widget page: %d", w.Code)
		}
		for _, want := range []string{`<section class="card" aria-labelledby="payout-title">`, `id="payout-save" type="submit" class="primary"`, `id="payout-status" class="status"`} {
			if !strings.Contains(body, want) {
				t.Errorf("widget page lacks %s", want)
			}
		}
		css := string(staticFiles["widget.css"].body)
		for _, sel := range []string{"input[type=email]", "select"} {
			if !strings.Contains(css, sel) {
				t.Errorf("widget.css does not style %s", sel)
			}
		}
	})
}
