// End-to-end check of the TypeScript client against a running server, run by
// e2e/clients_test.go (TestTSClient): PARRAIN_URL and PARRAIN_API_KEY name the
// server and a key. It exits non-zero with a message on the first mismatch.
import { createParrainClient } from "./index.js";

// Node's globals, declared here rather than pulling in @types/node.
declare const process: { env: Record<string, string | undefined>; exit(code: number): never };

function check(cond: unknown, what: string, detail?: unknown): asserts cond {
  if (!cond) {
    console.error(`FAIL ${what}`, detail === undefined ? "" : JSON.stringify(detail));
    process.exit(1);
  }
}

const base = process.env.PARRAIN_URL;
const key = process.env.PARRAIN_API_KEY;
check(base && key, "PARRAIN_URL and PARRAIN_API_KEY must be set");
const api = createParrainClient(base, key);

const created = await api.POST("/api/v1/programs", {
  params: { header: { "Idempotency-Key": "ts-prog-1" } },
  body: {
    name: "Friends (TS)",
    landing_url: "https://shop.example/welcome",
    currency: "EUR",
    hold_days: 30,
    rules: [
      {
        trigger: "first_purchase",
        advocate: { kind: "cash", type: "percent", percent_bps: 1000 },
        friend: { kind: "coupon", type: "fixed", amount: 1000 },
      },
    ],
  },
});
check(created.response.status === 201 && created.data?.id, "create program", created.error);
const pid = created.data.id;

const got = await api.GET("/api/v1/programs/{program_id}", { params: { path: { program_id: pid } } });
check(got.data?.name === "Friends (TS)", "get program", got.error ?? got.data);

const adv = await api.PUT("/api/v1/programs/{program_id}/participants/{external_id}", {
  params: { path: { program_id: pid, external_id: "alice" } },
  body: { name: "Alice" },
});
check(adv.response.status === 201 && adv.data?.code, "advocate", adv.error);
const code = adv.data.code;

const eventPath = "/api/v1/programs/{program_id}/events" as const;
const signup = await api.POST(eventPath, {
  params: { path: { program_id: pid }, header: { "Idempotency-Key": "ts-signup-bob" } },
  body: { type: "signup", external_id: "bob", referral_code: code },
});
check(signup.data?.credited?.external_id === "alice", "signup credited to alice", signup.error ?? signup.data);

const purchase = await api.POST(eventPath, {
  params: { path: { program_id: pid }, header: { "Idempotency-Key": "ts-buy-A-1" } },
  body: { type: "purchase", external_id: "bob", order_id: "A-1", amount: 12345, currency: "EUR" },
});
const rewards = purchase.data?.rewards ?? [];
const advocateReward = rewards.find((r) => r.external_id === "alice");
check(rewards.length === 2 && advocateReward?.amount === 1235, "purchase rewards (10% of 123.45 € = 12.35 €)", purchase.error ?? rewards);

const refund = await api.POST(eventPath, {
  params: { path: { program_id: pid }, header: { "Idempotency-Key": "ts-refund-A-1" } },
  body: { type: "refund", order_id: "A-1", amount: 12345 },
});
const reversals = refund.data?.reversals ?? [];
check(
  reversals.length === 2 && reversals.every((r) => r.entry_type === "reversal" && r.status === "reversed"),
  "refund reversals",
  refund.error ?? reversals,
);

const list = await api.GET("/api/v1/programs/{program_id}/referrals", {
  params: { path: { program_id: pid }, query: { advocate: "alice" } },
});
const refs = list.data?.data ?? [];
check(refs.length === 1 && refs[0].friend_external_id === "bob" && refs[0].status === "converted", "referrals", list.error ?? refs);

const bad = await api.POST(eventPath, {
  params: { path: { program_id: pid }, header: { "Idempotency-Key": "ts-bad" } },
  body: { type: "purchase", external_id: "bob", order_id: "A-2", amount: -1, currency: "EUR" },
});
check(bad.response.status >= 400 && bad.response.status < 500 && bad.error?.error?.code, "typed error", bad.error);

console.log("ok: program, signup, purchase, refund, referrals through the TypeScript client");
