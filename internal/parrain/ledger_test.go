package parrain

import (
	"math/rand/v2"
	"slices"
	"testing"
)

func TestAccrue(t *testing.T) {
	got := Accrue(1234)
	want := []Movement{{EntryAccrual, BucketPending, 1234}}
	if !slices.Equal(got, want) {
		t.Errorf("Accrue = %+v, want %+v", got, want)
	}
}

func TestApprove(t *testing.T) {
	tests := []struct {
		name       string
		r          Reward
		want       []Movement
		wantStatus RewardStatus
		wantOK     bool
	}{
		{"pending", Reward{Status: RewardPending, Amount: 1000},
			[]Movement{{EntryApproval, BucketPending, -1000}, {EntryApproval, BucketApproved, 1000}}, RewardApproved, true},
		{"pending partly reversed approves the rest", Reward{Status: RewardPending, Amount: 1000, Reversed: 300},
			[]Movement{{EntryApproval, BucketPending, -700}, {EntryApproval, BucketApproved, 700}}, RewardApproved, true},
		{"pending fully reversed", Reward{Status: RewardPending, Amount: 1000, Reversed: 1000}, nil, RewardPending, false},
		{"already approved", Reward{Status: RewardApproved, Amount: 1000}, nil, RewardApproved, false},
		{"paid", Reward{Status: RewardPaid, Amount: 1000}, nil, RewardPaid, false},
		{"reversed", Reward{Status: RewardReversed, Amount: 1000, Reversed: 1000}, nil, RewardReversed, false},
		{"clawed back", Reward{Status: RewardClawedBack, Amount: 1000, Reversed: 1000}, nil, RewardClawedBack, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mv, st, ok := Approve(&tc.r)
			if !slices.Equal(mv, tc.want) || st != tc.wantStatus || ok != tc.wantOK {
				t.Errorf("Approve = %+v, %q, %v; want %+v, %q, %v", mv, st, ok, tc.want, tc.wantStatus, tc.wantOK)
			}
			if sumMovements(mv) != 0 {
				t.Errorf("approval must move value between buckets, net %d", sumMovements(mv))
			}
		})
	}
}

func TestReverse(t *testing.T) {
	tests := []struct {
		name       string
		status     RewardStatus
		amount     int64
		reversed   int64
		x          int64
		want       []Movement
		wantStatus RewardStatus
	}{
		{"pending partial", RewardPending, 1000, 0, 400, []Movement{{EntryReversal, BucketPending, -400}}, RewardPending},
		{"pending full", RewardPending, 1000, 0, 1000, []Movement{{EntryReversal, BucketPending, -1000}}, RewardReversed},
		{"pending rest after partial", RewardPending, 1000, 600, 400, []Movement{{EntryReversal, BucketPending, -400}}, RewardReversed},
		{"approved partial", RewardApproved, 1000, 0, 1, []Movement{{EntryClawback, BucketApproved, -1}}, RewardApproved},
		{"approved full", RewardApproved, 1000, 0, 1000, []Movement{{EntryClawback, BucketApproved, -1000}}, RewardClawedBack},
		{"approved rest after partial", RewardApproved, 1000, 999, 1, []Movement{{EntryClawback, BucketApproved, -1}}, RewardClawedBack},
		{"paid partial", RewardPaid, 1000, 0, 500, []Movement{{EntryClawback, BucketApproved, -500}}, RewardPaid},
		{"paid full", RewardPaid, 1000, 0, 1000, []Movement{{EntryClawback, BucketApproved, -1000}}, RewardClawedBack},
		{"zero is a no-op", RewardPending, 1000, 0, 0, nil, RewardPending},
		{"negative is a no-op", RewardApproved, 1000, 0, -5, nil, RewardApproved},
		{"reversed is terminal", RewardReversed, 1000, 1000, 10, nil, RewardReversed},
		{"clawed back is terminal", RewardClawedBack, 1000, 1000, 10, nil, RewardClawedBack},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &Reward{Status: tc.status, Amount: tc.amount, Reversed: tc.reversed}
			mv, st := Reverse(r, tc.x)
			if !slices.Equal(mv, tc.want) || st != tc.wantStatus {
				t.Errorf("Reverse(%d) = %+v, %q; want %+v, %q", tc.x, mv, st, tc.want, tc.wantStatus)
			}
		})
	}
}

func sumMovements(ms []Movement) int64 {
	var s int64
	for _, m := range ms {
		s += m.Amount
	}
	return s
}

func bucketSum(ms []Movement, b Bucket) int64 {
	var s int64
	for _, m := range ms {
		if m.Bucket == b {
			s += m.Amount
		}
	}
	return s
}

// TestLedgerRefundProperty drives rewards through random sequences of partial
// refunds, approvals and payouts and checks the ledger invariants after every
// step: the movements of a reward sum to amount minus reversals, outstanding
// never goes negative, the buckets hold what the status says, and a full
// refund reverses the reward exactly.
func TestLedgerRefundProperty(t *testing.T) {
	rng := rand.New(rand.NewPCG(20250310, 42))
	for iter := range 3000 {
		purchase := 1 + rng.Int64N(1_000_000)
		r := &Reward{Status: RewardPending, Currency: "EUR"}
		if rng.IntN(2) == 0 {
			r.AmountType = AmountPercent
			bps := 1 + rng.Int64N(10000)
			amt, err := PercentOf(purchase, bps)
			if err != nil {
				t.Fatal(err)
			}
			if c := rng.Int64N(3) * rng.Int64N(50000); c > 0 && amt > c { // sometimes capped
				amt = c
			}
			if amt == 0 {
				amt = 1
			}
			r.Amount = amt
		} else {
			r.AmountType = AmountFixed
			r.Amount = 1 + rng.Int64N(100000)
		}
		ledger := Accrue(r.Amount)
		approved, paid := false, false
		var refunded int64

		check := func(step string) {
			t.Helper()
			if got, want := sumMovements(ledger), r.Amount-r.Reversed; got != want {
				t.Fatalf("iter %d %s: ledger sum %d, want amount-reversed %d (%+v)", iter, step, got, want, r)
			}
			if r.Outstanding() < 0 || r.Reversed < 0 {
				t.Fatalf("iter %d %s: outstanding %d, reversed %d", iter, step, r.Outstanding(), r.Reversed)
			}
			pending, appr, pd := bucketSum(ledger, BucketPending), bucketSum(ledger, BucketApproved), bucketSum(ledger, BucketPaid)
			if approved {
				if pending != 0 || appr+pd != r.Outstanding() {
					t.Fatalf("iter %d %s: buckets pending %d approved %d paid %d, outstanding %d", iter, step, pending, appr, pd, r.Outstanding())
				}
			} else if pending != r.Outstanding() || appr != 0 || pd != 0 {
				t.Fatalf("iter %d %s: buckets pending %d approved %d paid %d, outstanding %d", iter, step, pending, appr, pd, r.Outstanding())
			}
			var wantStatus RewardStatus
			switch {
			case r.Outstanding() == 0 && approved:
				wantStatus = RewardClawedBack
			case r.Outstanding() == 0:
				wantStatus = RewardReversed
			case paid:
				wantStatus = RewardPaid
			case approved:
				wantStatus = RewardApproved
			default:
				wantStatus = RewardPending
			}
			if r.Status != wantStatus {
				t.Fatalf("iter %d %s: status %q, want %q (%+v)", iter, step, r.Status, wantStatus, r)
			}
			// Reversed is exactly what the refunded share calls for.
			var wantRev int64
			switch {
			case refunded >= purchase:
				wantRev = r.Amount
			case r.AmountType == AmountPercent:
				wantRev, _ = MulDiv(r.Amount, refunded, purchase, RoundHalfUp)
			}
			if r.Reversed != wantRev {
				t.Fatalf("iter %d %s: reversed %d after refunding %d of %d, want %d", iter, step, r.Reversed, refunded, purchase, wantRev)
			}
		}
		check("accrual")

		for step := 0; refunded < purchase; step++ {
			switch rng.IntN(5) {
			case 0: // the hold elapses
				mv, st, ok := Approve(r)
				if ok != (r.Status == RewardPending && r.Outstanding() > 0) {
					t.Fatalf("iter %d: Approve ok=%v for %+v", iter, ok, r)
				}
				if ok {
					ledger = append(ledger, mv...)
					r.Status = st
					approved = true
				}
			case 1: // payout of the approved balance
				if r.Status == RewardApproved {
					x := bucketSum(ledger, BucketApproved)
					if x > 0 {
						ledger = append(ledger, Movement{EntryPayout, BucketApproved, -x}, Movement{EntryPayout, BucketPaid, x})
						r.Status = RewardPaid
						paid = true
					}
				}
			default: // a refund: new cumulative total, possibly a duplicate or an over-refund
				var inc int64
				switch rng.IntN(6) {
				case 0:
					inc = 0
				case 1:
					inc = purchase // finishes it, often with an over-refund
				default:
					inc = 1 + rng.Int64N(max(1, purchase/4))
				}
				refunded += inc
				before := r.Outstanding()
				x, err := Reversal(r, purchase, refunded)
				if err != nil {
					t.Fatalf("iter %d: Reversal: %v", iter, err)
				}
				if x < 0 || x > before {
					t.Fatalf("iter %d: Reversal %d outside [0, %d]", iter, x, before)
				}
				mv, st := Reverse(r, x)
				if x == 0 && mv != nil {
					t.Fatalf("iter %d: Reverse(0) produced %+v", iter, mv)
				}
				ledger = append(ledger, mv...)
				r.Reversed += x
				r.Status = st
			}
			check("step")
		}
		if r.Reversed != r.Amount || sumMovements(ledger) != 0 {
			t.Fatalf("iter %d: after full refund reversed %d of %d, ledger sum %d", iter, r.Reversed, r.Amount, sumMovements(ledger))
		}
		// Nothing more can happen to a fully reversed reward.
		if x, _ := Reversal(r, purchase, refunded+1); x != 0 {
			t.Fatalf("iter %d: reversal %d after full refund", iter, x)
		}
		if _, _, ok := Approve(r); ok {
			t.Fatalf("iter %d: approved a fully reversed reward", iter)
		}
	}
}
