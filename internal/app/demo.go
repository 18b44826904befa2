package app

import (
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// SeedDemo fills an empty database with a demo program: advocates, clicks,
// signups, purchases, a refund and rewards in every state, so that every
// screen has something to show. It does nothing if any program exists.
func SeedDemo(ctx context.Context, st *store.Store, log *slog.Logger) error {
	ps, _, err := st.Programs(ctx, store.Page{Limit: 1})
	if err != nil || len(ps) > 0 {
		return err
	}
	now := st.Clock().Now()
	prog, _, err := st.CreateProgram(ctx, parrain.Program{
		Name:       "Acme friends & family",
		LandingURL: "https://acme.example/signup",
		Currency:   "EUR",
		HoldDays:   30,
		Rules: []parrain.RewardRule{
			{ID: "welcome", Trigger: parrain.TriggerFirstPurchase,
				Advocate: &parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountFixed, Amount: 2000},
				Friend:   &parrain.RewardSpec{Kind: parrain.KindCoupon, Type: parrain.AmountFixed, Amount: 1000}},
			{ID: "loyalty", Trigger: parrain.TriggerPurchase,
				Advocate: &parrain.RewardSpec{Kind: parrain.KindCredit, Type: parrain.AmountPercent, PercentBps: 500, MaxAmount: 2500}},
		},
	}, store.Idem{})
	if err != nil {
		return err
	}
	r := rand.New(rand.NewPCG(42, 2026))
	names := []string{"Alice Martin", "Bruno Petit", "Chloé Bernard", "David Leroy", "Emma Moreau", "Farid Haddad", "Giulia Rossi",
		"Hugo Laurent", "Inès Garcia", "Jonas Weber", "Karin Olsen", "Léa Fontaine"}
	var advocates []parrain.Participant
	for i, n := range names {
		p, _, err := st.UpsertParticipant(ctx, prog.ID, parrain.ParticipantInput{
			ExternalID: fmt.Sprintf("cust_%03d", i+1), Name: n, Email: fmt.Sprintf("advocate%d@acme.example", i+1), Locale: []string{"en", "fr"}[i%2],
		}, store.Idem{})
		if err != nil {
			return err
		}
		advocates = append(advocates, p)
	}
	var clicks []store.Click
	friend := 0
	for day := 59; day >= 0; day-- {
		for range 2 + r.IntN(5) {
			a := advocates[r.IntN(len(advocates)/2+r.IntN(len(advocates)/2+1))%len(advocates)]
			at := now.Add(-time.Duration(day)*24*time.Hour - time.Duration(r.IntN(20*60))*time.Minute)
			clicks = append(clicks, store.Click{ProgramID: prog.ID, ParticipantID: a.ID, Code: a.Code, Valid: true,
				UserAgent: "Mozilla/5.0 (demo)", Referer: []string{"https://mail.example/", "https://social.example/", ""}[r.IntN(3)], At: at})
			if r.IntN(3) != 0 {
				continue
			}
			friend++
			fid := fmt.Sprintf("friend_%03d", friend)
			signup := at.Add(time.Duration(10+r.IntN(600)) * time.Minute)
			if signup.After(now) {
				signup = now
			}
			if _, _, err := st.IngestEvent(ctx, prog.ID, parrain.Event{Type: parrain.EventSignup, ExternalID: fid,
				Email: fmt.Sprintf("friend%d@mail.example", friend), Name: fmt.Sprintf("Friend %d", friend),
				Touches: []parrain.Touch{{Code: a.Code, At: at.Truncate(time.Second)}}, OccurredAt: signup}, store.Idem{}); err != nil {
				return err
			}
			if r.IntN(3) == 0 {
				continue
			}
			buy := signup.Add(time.Duration(1+r.IntN(72)) * time.Hour)
			if buy.After(now) {
				buy = now
			}
			order := fmt.Sprintf("demo_order_%03d", friend)
			if _, _, err := st.IngestEvent(ctx, prog.ID, parrain.Event{Type: parrain.EventPurchase, ExternalID: fid, OrderID: order,
				Amount: int64(2900 + 100*r.IntN(200)), Currency: "EUR", OccurredAt: buy}, store.Idem{}); err != nil {
				return err
			}
			if friend%9 == 0 {
				if _, _, err := st.IngestEvent(ctx, prog.ID, parrain.Event{Type: parrain.EventRefund, OrderID: order,
					Amount: 2900, OccurredAt: buy.Add(time.Hour)}, store.Idem{}); err != nil {
					return err
				}
			}
		}
	}
	// Visits of unknown codes count as invalid clicks.
	clicks = append(clicks, store.Click{Code: "NOSUCH1", Valid: false, UserAgent: "Mozilla/5.0 (demo)", At: now.Add(-time.Hour)})
	if err := st.InsertClicks(ctx, clicks); err != nil {
		return err
	}
	key, _, err := st.CreateAPIKey(ctx, "demo", nil, "")
	if err != nil {
		return err
	}
	log.Info("demo program created", "program_id", prog.ID, "advocates", len(advocates), "friends", friend, "clicks", len(clicks))
	log.Info("demo API key (shown once; create more with `parrain apikey create`)", "key", key)
	return nil
}
