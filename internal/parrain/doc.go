// Package parrain holds Parrain's domain: programs, participants, referrals,
// events, rewards and the ledger rules, with attribution and reward
// computation as pure functions.
//
// It imports only the standard library and performs no I/O: storage, HTTP and
// background jobs live in their own packages and call into this one. Time is
// always passed in explicitly (see Clock) so that windows and hold periods are
// testable.
package parrain
