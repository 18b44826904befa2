package fraud_test

import (
	"fmt"
	"time"

	"github.com/parrainhq/parrain/internal/fraud"
)

func ExampleEngine_Decide() {
	eng, err := fraud.NewEngine(fraud.DefaultPolicy())
	if err != nil {
		panic(err)
	}
	now := time.Date(2026, 3, 2, 12, 0, 0, 0, time.UTC)
	r := fraud.Referral{
		At:   now,
		Code: "JEAN42",
		Advocate: fraud.Party{ExternalID: "cus_1", Email: "jean.dupont@gmail.com", Name: "Jean Dupont",
			IP: "203.0.113.10", DeviceID: "dev_a"},
		Friend: fraud.Party{ExternalID: "cus_2", Email: "J.E.A.N.Dupont+ref@googlemail.com", Name: "J. Dupont",
			IP: "203.0.113.10", DeviceID: "dev_b", SignedUpAt: now},
	}
	d := eng.Decide(&r)
	fmt.Println(d.Action, d.Score)
	for _, line := range d.Reasons {
		fmt.Println(line)
	}
	// Output:
	// reject 96
	// reject: score 96 ≥ reject threshold 75
	// self.same_email [scored at weight 0.95]: friend email "J.E.A.N.Dupont+ref@googlemail.com" and advocate email "jean.dupont@gmail.com" are the same mailbox "jeandupont@gmail.com" once normalized
	// net.same_ip [scored at weight 0.25]: friend used 203.0.113.10, an IP the advocate used recently
}

func ExampleDecide_observe() {
	p := fraud.DefaultPolicy()
	p.Rules[fraud.IDRandomEmail] = fraud.Rule{Action: fraud.RuleObserve} // trial a rule before trusting it
	a := fraud.Score([]fraud.Signal{
		{Code: fraud.IDRandomEmail, Weight: 0.2, Reason: `friend email local part "x7qk2mz9wpl" looks machine generated`},
		{Code: fraud.NetSameIP, Weight: 0.25, Reason: "friend used 203.0.113.10, an IP the advocate used recently"},
	})
	d := fraud.Decide(p, a)
	fmt.Println(d.Action, d.Score, "raw", d.RawScore)
	for _, o := range d.Signals {
		fmt.Println(o.Code, o.Counted, o.Effect)
	}
	// Output:
	// approve 25 raw 40
	// net.same_ip true scored at weight 0.25
	// id.random_email false observed only: recorded, not scored
}

func ExampleVelocity() {
	// An advocate's referred signups per hour over the last day.
	hourly := []int{0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}
	v := fraud.Velocity{}.UpdateAll(hourly)
	fmt.Printf("mean %.2f/h, 9 signups this hour is z=%.1f\n", v.Mean, v.ZScore(9))
	// Output:
	// mean 0.04/h, 9 signups this hour is z=9.0
}
