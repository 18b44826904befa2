package e2e

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	parrainclient "github.com/parrainhq/parrain/clients/go"
	"github.com/parrainhq/parrain/internal/dbtest"
)

// TestGoClient drives the real binary through the generated Go client
// (clients/go): a program, an advocate, a friend's signup with the
// advocate's code, a purchase, its refund, and the program's referrals.
func TestGoClient(t *testing.T) {
	for _, engine := range dbtest.Engines {
		t.Run(engine, func(t *testing.T) {
			db := dbtest.URL(t, engine)
			key := apiKey(t, db)
			srv := startWith(t, db)
			ctx := context.Background()
			c, err := parrainclient.NewClientWithResponses(srv.base, parrainclient.WithRequestEditorFn(
				func(_ context.Context, req *http.Request) error {
					req.Header.Set("Authorization", "Bearer "+key)
					return nil
				}))
			if err != nil {
				t.Fatal(err)
			}

			created, err := c.CreateProgramWithResponse(ctx, &parrainclient.CreateProgramParams{IdempotencyKey: new("prog-1")},
				parrainclient.ProgramInput{Name: "Friends", LandingUrl: "https://shop.example/welcome", Currency: "EUR", HoldDays: new(30),
					Rules: &[]parrainclient.RewardRule{{
						Trigger:  parrainclient.RewardRuleTriggerFirstPurchase,
						Advocate: &parrainclient.RewardSpec{Kind: parrainclient.RewardSpecKindCash, Type: parrainclient.RewardSpecTypePercent, PercentBps: new(1000)},
						Friend:   &parrainclient.RewardSpec{Kind: parrainclient.RewardSpecKindCoupon, Type: parrainclient.RewardSpecTypeFixed, Amount: new(int64(1000))},
					}}})
			if err != nil {
				t.Fatal(err)
			}
			if created.StatusCode() != 201 || created.JSON201 == nil || created.JSON201.Id == nil {
				t.Fatalf("create program: %d %s", created.StatusCode(), created.Body)
			}
			pid := *created.JSON201.Id
			got, err := c.GetProgramWithResponse(ctx, pid, nil)
			if err != nil {
				t.Fatal(err)
			}
			if got.StatusCode() != 200 || got.JSON200 == nil || got.JSON200.Name != "Friends" {
				t.Fatalf("get program: %d %s", got.StatusCode(), got.Body)
			}

			adv, err := c.UpsertParticipantWithResponse(ctx, pid, "alice", nil, parrainclient.ParticipantInput{Name: new("Alice")})
			if err != nil {
				t.Fatal(err)
			}
			if adv.StatusCode() != 201 || adv.JSON201 == nil || adv.JSON201.Code == nil {
				t.Fatalf("advocate: %d %s", adv.StatusCode(), adv.Body)
			}
			code := *adv.JSON201.Code

			event := func(idem string, ev parrainclient.Event) *parrainclient.EventResult {
				t.Helper()
				r, err := c.CreateEventWithResponse(ctx, pid, &parrainclient.CreateEventParams{IdempotencyKey: idem}, ev)
				if err != nil {
					t.Fatal(err)
				}
				if r.StatusCode() != 201 || r.JSON201 == nil {
					t.Fatalf("event %s: %d %s", idem, r.StatusCode(), r.Body)
				}
				return r.JSON201
			}
			signup := event("signup-bob", parrainclient.Event{Type: parrainclient.EventTypeSignup, ExternalId: new("bob"), ReferralCode: new(code)})
			if signup.Credited == nil || signup.Credited.ExternalId == nil || *signup.Credited.ExternalId != "alice" {
				t.Fatalf("signup not credited to alice: %+v", signup)
			}
			purchase := event("buy-A-1", parrainclient.Event{Type: parrainclient.EventTypePurchase, ExternalId: new("bob"), OrderId: new("A-1"), Amount: new(int64(12345)), Currency: new("EUR")})
			if purchase.Rewards == nil || len(*purchase.Rewards) != 2 {
				t.Fatalf("purchase rewards: %+v", purchase.Rewards)
			}
			var advocateReward int64
			for _, r := range *purchase.Rewards {
				if r.ExternalId != nil && *r.ExternalId == "alice" && r.Amount != nil {
					advocateReward = *r.Amount
				}
			}
			if advocateReward != 1235 { // 10% of 123.45 € = 12.345 → 12.35 €
				t.Fatalf("advocate reward = %d, want 1235", advocateReward)
			}
			refund := event("refund-A-1", parrainclient.Event{Type: parrainclient.EventTypeRefund, OrderId: new("A-1"), Amount: new(int64(12345))})
			if refund.Reversals == nil || len(*refund.Reversals) != 2 {
				t.Fatalf("refund reversals: %+v", refund.Reversals)
			}
			for _, rv := range *refund.Reversals {
				if rv.EntryType == nil || *rv.EntryType != "reversal" || rv.Status == nil || *rv.Status != "reversed" {
					t.Fatalf("reversal: %+v", rv)
				}
			}

			list, err := c.ListReferralsWithResponse(ctx, pid, &parrainclient.ListReferralsParams{Advocate: new("alice")})
			if err != nil {
				t.Fatal(err)
			}
			if list.StatusCode() != 200 || list.JSON200 == nil || len(list.JSON200.Data) != 1 {
				t.Fatalf("referrals: %d %s", list.StatusCode(), list.Body)
			}
			ref := list.JSON200.Data[0]
			if ref.FriendExternalId == nil || *ref.FriendExternalId != "bob" || ref.Status == nil || *ref.Status != parrainclient.ReferralStatusConverted {
				t.Fatalf("referral: %+v", ref)
			}

			// An error answer is typed too: code, message, field.
			bad, err := c.CreateEventWithResponse(ctx, pid, &parrainclient.CreateEventParams{IdempotencyKey: "bad"},
				parrainclient.Event{Type: parrainclient.EventTypePurchase, ExternalId: new("bob"), OrderId: new("A-2"), Amount: new(int64(-1)), Currency: new("EUR")})
			if err != nil {
				t.Fatal(err)
			}
			if bad.StatusCode() < 400 || bad.StatusCode() >= 500 || bad.JSONDefault == nil || bad.JSONDefault.Error.Code == "" {
				t.Fatalf("bad event: %d %s", bad.StatusCode(), bad.Body)
			}
		})
	}
}

// tsClient is the TypeScript client's folder, from e2e/.
const tsClient = "../clients/ts"

// requireNode skips the TypeScript client's tests when node or the client's
// node_modules (npm ci --prefix clients/ts) are missing, except in CI
// (PARRAIN_TEST_POSTGRES_REQUIRED=1), where they fail.
func requireNode(t *testing.T) {
	t.Helper()
	missing := ""
	if _, err := exec.LookPath("node"); err != nil {
		missing = "node is not installed"
	} else if _, err := os.Stat(filepath.Join(tsClient, "node_modules", ".bin", "tsc")); err != nil {
		missing = "clients/ts/node_modules is missing (run: npm ci --prefix clients/ts)"
	}
	if missing == "" {
		return
	}
	if os.Getenv("PARRAIN_TEST_POSTGRES_REQUIRED") == "1" {
		t.Fatal("TypeScript client test: " + missing)
	}
	t.Skip("SKIPPING the TypeScript client test: " + missing)
}

// TestTSClient compiles the TypeScript client with its pinned tsc and runs
// clients/ts/src/e2e.ts with node against the real binary: a program, an
// advocate, a signup, a purchase, its refund and the referrals.
func TestTSClient(t *testing.T) {
	requireNode(t)
	build := exec.Command(filepath.Join("node_modules", ".bin", "tsc"), "-p", "tsconfig.json")
	build.Dir = tsClient
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("tsc: %v\n%s", err, out)
	}
	for _, engine := range dbtest.Engines {
		t.Run(engine, func(t *testing.T) {
			db := dbtest.URL(t, engine)
			key := apiKey(t, db)
			srv := startWith(t, db)
			run := exec.Command("node", filepath.Join("dist", "e2e.js"))
			run.Dir = tsClient
			run.Env = append(os.Environ(), "PARRAIN_URL="+srv.base, "PARRAIN_API_KEY="+key)
			out, err := run.CombinedOutput()
			if err != nil {
				t.Fatalf("node dist/e2e.js: %v\n%s", err, out)
			}
			t.Logf("%s", out)
		})
	}
}
