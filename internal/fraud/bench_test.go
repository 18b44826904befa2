package fraud

import (
	"fmt"
	"math"
	"testing"
	"time"
)

// benchInput is what an ingestion handler has in hand: request fields and
// rows it already loaded.
type benchInput struct {
	advEmail, friEmail, advIP, friIP string
	clickIPs                         []string
	at                               time.Time
}

var benchIn = func() benchInput {
	in := benchInput{
		advEmail: "jean.dupont@gmail.com", friEmail: "marie.curie+promo@outlook.com",
		advIP: "203.0.113.10", friIP: "198.51.100.20", at: t0,
	}
	for i := range 12 {
		in.clickIPs = append(in.clickIPs, fmt.Sprintf("192.0.2.%d", i+1))
	}
	return in
}()

// buildReferral assembles the Referral from the input, as the caller must
// do whether or not it runs fraud checks.
func buildReferral(in *benchInput) Referral {
	r := Referral{
		At:   in.at,
		Code: "JEAN42",
		Advocate: Party{ExternalID: "cus_1", Email: in.advEmail, Name: "Jean Dupont", IP: in.advIP,
			UserAgent: uaChromeWin, DeviceID: "dev_adv", PaymentFingerprint: "fp_adv", Country: "FR"},
		Friend: Party{ExternalID: "cus_2", Email: in.friEmail, Name: "Marie Curie", IP: in.friIP,
			UserAgent: uaIPhone, DeviceID: "dev_fri", Country: "FR", SignedUpAt: in.at},
		Click: &Click{At: in.at.Add(-10 * time.Minute), IP: in.friIP, UserAgent: uaIPhone,
			Referer: "https://l.facebook.com/", LandingURL: "https://shop.example/r/JEAN42?utm_source=referral&fbclid=IwAR0"},
		AdvocateHistory: History{Hourly: quietBaseline, ThisHour: 1, Referrals: 4, InactiveReferrals: 1},
		ProgramHourly:   programBaseline,
		RecentClicks:    make([]Click, 0, len(in.clickIPs)),
	}
	for i, ip := range in.clickIPs {
		ua := uaAndroid
		if i%3 == 0 {
			ua = "WhatsApp/2.25.21.80 A"
		}
		r.RecentClicks = append(r.RecentClicks, Click{At: in.at.Add(-time.Duration(i) * time.Minute), IP: ip, UserAgent: ua})
	}
	return r
}

var sinkReferral Referral

// BenchmarkAssessBaseline builds the input struct only: the cost the caller
// pays anyway.
func BenchmarkAssessBaseline(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		sinkReferral = buildReferral(&benchIn)
	}
}

// baselineNsPerOp times buildReferral directly, keeping the fastest of
// several rounds to damp scheduling noise. (testing.Benchmark cannot be
// called from inside a benchmark.)
func baselineNsPerOp() float64 {
	const n, rounds = 20000, 7
	best := math.Inf(1)
	for range rounds {
		start := time.Now()
		for range n {
			sinkReferral = buildReferral(&benchIn)
		}
		best = min(best, float64(time.Since(start).Nanoseconds())/n)
	}
	return best
}

// BenchmarkAssess builds the input and decides it under DefaultPolicy; it
// reports its cost as a multiple of the baseline (x_baseline) and the
// difference (ns_fraud/op).
func BenchmarkAssess(b *testing.B) {
	e, err := NewEngine(DefaultPolicy())
	if err != nil {
		b.Fatal(err)
	}
	base := baselineNsPerOp()
	var d Decision
	b.ReportAllocs()
	for b.Loop() {
		r := buildReferral(&benchIn)
		d = e.Decide(&r)
	}
	if len(d.Signals) != 1 || d.Action != ActionApprove { // fbclid, observed
		b.Fatalf("unexpected decision %s %v", d.Action, d.Reasons)
	}
	perOp := float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	b.ReportMetric(perOp/base, "x_baseline")
	b.ReportMetric(perOp-base, "ns_fraud/op")
}

// BenchmarkSignalsOnly runs the detectors without scoring or explaining.
func BenchmarkSignalsOnly(b *testing.B) {
	e, err := NewEngine(DefaultPolicy())
	if err != nil {
		b.Fatal(err)
	}
	r := buildReferral(&benchIn)
	b.ReportAllocs()
	for b.Loop() {
		_ = e.Signals(&r)
	}
}

// BenchmarkClassifyUserAgent classifies a typical browser header, the
// common case for every click.
func BenchmarkClassifyUserAgent(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if ClassifyUserAgent(uaIPhone) != UABrowser {
			b.Fatal("misclassified")
		}
	}
}
