// Package referral owns the use cases of the referral loop: event
// ingestion (attribution, referrals, rewards, reversals, moment triggers),
// the reward engine's orchestration over the parrain.World port, dry runs
// and replays (one dispatch for all three), the fraud decisions taken
// while ingesting and before a reward matures, the review of rewards and
// referrals, the moment triggers' definitions, and contests (creation,
// leaderboards, picking the winners when they end). It also owns what the
// advocate and the friend write through the API, the widget and the
// landing page — participants, consent answers, shares, invitations,
// notification reads, unsubscribes — with the program's experience
// settings and widget secret, the coupon pools rewards are paid from, and
// the console's review of pending rewards: they are the same loop's
// tables and rules (ingestion upserts the same participants and reads the
// same consents), so a separate package would only re-export them. Each
// use case owns its transaction (store.Tx) and, when a person, an API key
// or the command line changes a setting or decides a reward, its audit
// entry in it.
//
// It imports the domain (parrain), fraud scoring, the store and the
// metrics; it must not import the HTTP packages (api, console, portal,
// widget), jobs or app.
package referral
