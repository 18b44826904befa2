// Package referral owns the use cases of the referral loop: event
// ingestion (attribution, referrals, rewards, reversals, moment triggers),
// the reward engine's orchestration over the parrain.World port, dry runs
// and replays (one dispatch for all three), the fraud decisions taken
// while ingesting and before a reward matures, the review of rewards and
// referrals, the moment triggers' definitions, and contests (creation,
// leaderboards, picking the winners when they end). Each use case owns its
// transaction (store.Tx).
//
// It imports the domain (parrain), fraud scoring, the store and the
// metrics; it must not import the HTTP packages (api, console, portal,
// widget), jobs or app.
package referral
