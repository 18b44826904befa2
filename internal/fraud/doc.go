// Package fraud owns Parrain's fraud signals and risk scoring for referral
// programs.
//
// It is pure: callers describe a referral as plain facts (a [Referral]: the
// advocate, the referred friend, the attributed click, recent clicks on the
// advocate's code, the advocate's history, the conversion, ...) and the
// package answers with explainable [Signal]s, an [Assessment] (a 0..100 risk
// score) and a [Decision] (approve, flag, hold, reject or suspend) under a
// per-program [Policy]. Time is always passed in by the caller; nothing here
// reads the clock, the network or a database.
//
// The package imports only the standard library and performs no I/O except
// reading its embedded data (the disposable-email-domain list in data/).
//
// Typical use:
//
//	eng, err := fraud.NewEngine(fraud.DefaultPolicy())
//	if err != nil { ... }
//	d := eng.Decide(&referral)
//	switch d.Action { case fraud.ActionApprove: ... }
//
// The signals, their weights and the default policy are documented in
// docs/fraud.md together with the measured recall and false-positive rate on
// the synthetic program produced by [Simulate].
package fraud
