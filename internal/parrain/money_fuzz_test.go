package parrain

import (
	"math"
	"math/big"
	"strconv"
	"strings"
	"testing"
)

// FuzzMulDiv checks MulDiv against exact rational arithmetic: the result
// is within half a unit of a×num/den, and a tie goes away from zero
// (half-up) or to the even neighbour (half-even).
func FuzzMulDiv(f *testing.F) {
	for _, c := range [][3]int64{{5, 1, 2}, {-5, 1, 2}, {15, 1, 10}, {25, 1, 10}, {-25, 1, 10}, {1999, 1250, 10000}, {math.MaxInt64, 2, 3},
		{math.MinInt64, 1, -1}, {7, 0, 3}, {1, 1, 0}, {math.MaxInt64, math.MaxInt64, 1}} {
		f.Add(c[0], c[1], c[2], false)
		f.Add(c[0], c[1], c[2], true)
	}
	f.Fuzz(func(t *testing.T, a, num, den int64, even bool) {
		mode := RoundHalfUp
		if even {
			mode = RoundHalfEven
		}
		q, err := MulDiv(a, num, den, mode)
		if den == 0 {
			if ErrorCode(err) != CodeInvalid {
				t.Fatalf("division by zero: %v", err)
			}
			return
		}
		x := new(big.Rat).SetFrac(new(big.Int).Mul(big.NewInt(a), big.NewInt(num)), big.NewInt(den))
		if err != nil {
			// Only an overflow may fail: the rounded value is outside int64.
			lo := new(big.Rat).SetInt64(math.MinInt64)
			hi := new(big.Rat).SetInt64(math.MaxInt64)
			if ErrorCode(err) != CodeInvalid || (x.Cmp(new(big.Rat).Sub(lo, big.NewRat(1, 1))) > 0 && x.Cmp(new(big.Rat).Add(hi, big.NewRat(1, 1))) < 0) {
				t.Fatalf("MulDiv(%d, %d, %d) = %v for a value %s in range", a, num, den, err, x.FloatString(3))
			}
			return
		}
		diff := new(big.Rat).Sub(new(big.Rat).SetInt64(q), x)
		half := big.NewRat(1, 2)
		abs := new(big.Rat).Abs(diff)
		if abs.Cmp(half) > 0 {
			t.Fatalf("MulDiv(%d, %d, %d) = %d, exact %s: more than half a unit off", a, num, den, q, x.FloatString(3))
		}
		if abs.Cmp(half) == 0 {
			if mode == RoundHalfUp && new(big.Rat).Abs(new(big.Rat).SetInt64(q)).Cmp(new(big.Rat).Abs(x)) < 0 {
				t.Fatalf("half-up MulDiv(%d, %d, %d) = %d rounded a tie toward zero", a, num, den, q)
			}
			if mode == RoundHalfEven && q%2 != 0 {
				t.Fatalf("half-even MulDiv(%d, %d, %d) = %d is odd on a tie", a, num, den, q)
			}
		}
	})
}

// FuzzFormatMinor: the rendering has exactly the currency's digits after
// the point, and removing the point gives the amount back.
func FuzzFormatMinor(f *testing.F) {
	for _, a := range []int64{0, 5, -5, 1250, -1250, 100, math.MaxInt64, math.MinInt64, 999} {
		f.Add(a)
	}
	f.Fuzz(func(t *testing.T, amount int64) {
		for _, cur := range []string{"EUR", "JPY", "KWD", "CLF", "XXX"} {
			s := FormatMinor(amount, cur)
			digits, known := CurrencyDigits(cur)
			_, frac, hasPoint := strings.Cut(s, ".")
			if hasPoint != (known && digits > 0) || len(frac) != digits && hasPoint {
				t.Fatalf("FormatMinor(%d, %s) = %q: want %d digits after the point", amount, cur, s, digits)
			}
			back, err := strconv.ParseInt(strings.Replace(s, ".", "", 1), 10, 64)
			if err != nil || back != amount {
				t.Fatalf("FormatMinor(%d, %s) = %q reads back as %d (%v)", amount, cur, s, back, err)
			}
		}
	})
}

// FuzzReversal replays refunds of one order: each reversal is
// non-negative, the total reversed never exceeds the reward, a refund in
// full reverses everything, and a fixed reward is reversed only then.
func FuzzReversal(f *testing.F) {
	f.Add(int64(1000), int64(10000), true, int64(2500), int64(2500), int64(5000))
	f.Add(int64(333), int64(999), true, int64(1), int64(1), int64(997))
	f.Add(int64(500), int64(10000), false, int64(9999), int64(1), int64(0))
	f.Add(int64(1), int64(3), true, int64(1), int64(1), int64(1))
	f.Fuzz(func(t *testing.T, amount, purchase int64, percent bool, r1, r2, r3 int64) {
		if amount <= 0 || amount > MaxAmount || purchase <= 0 || purchase > MaxAmount {
			t.Skip()
		}
		typ := AmountFixed
		if percent {
			typ = AmountPercent
		}
		r := &Reward{Amount: amount, AmountType: typ}
		total := int64(0)
		for _, step := range []int64{r1, r2, r3} {
			if step < 0 || step > purchase {
				t.Skip()
			}
			total = min(total+step, purchase)
			rev, err := Reversal(r, purchase, total)
			if err != nil {
				t.Fatalf("Reversal: %v", err)
			}
			if rev < 0 || rev > r.Outstanding() {
				t.Fatalf("reversal %d with %d outstanding", rev, r.Outstanding())
			}
			if typ == AmountFixed && total < purchase && rev != 0 {
				t.Fatalf("a fixed reward reversed %d on a partial refund", rev)
			}
			r.Reversed += rev
			if typ == AmountPercent && total < purchase {
				want, err := MulDiv(amount, total, purchase, RoundHalfUp)
				if err != nil {
					t.Fatal(err)
				}
				if r.Reversed != want {
					t.Fatalf("after refunds of %d/%d, reversed %d, want the proportional %d", total, purchase, r.Reversed, want)
				}
			}
		}
		if r.Reversed > r.Amount {
			t.Fatalf("reversed %d of a %d reward", r.Reversed, r.Amount)
		}
		rev, err := Reversal(r, purchase, purchase)
		if err != nil {
			t.Fatal(err)
		}
		if r.Reversed+rev != r.Amount {
			t.Fatalf("a full refund left %d of %d unreversed", r.Amount-r.Reversed-rev, r.Amount)
		}
	})
}

func TestErrorText(t *testing.T) {
	for _, tt := range []struct {
		err  *Error
		want string
	}{
		{Invalid("rules[0].amount", "must be positive"), "invalid_argument: rules[0].amount: must be positive"},
		{Errorf(CodeNotFound, "program %s not found", "p1"), "not_found: program p1 not found"},
	} {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q, want %q", got, tt.want)
		}
	}
	wrapped := wrap(wrap(Invalid("currency", "bad")))
	if ErrorCode(wrapped) != CodeInvalid || AsError(wrapped).Field != "currency" {
		t.Errorf("code and field lost through wrapping: %v", wrapped)
	}
	if ErrorCode(nil) != "" || AsError(nil) != nil {
		t.Error("nil error has a code")
	}
	if ErrorCode(strconv.ErrRange) != CodeInternal || AsError(strconv.ErrRange) != nil {
		t.Error("a foreign error is not internal")
	}
}

func wrap(err error) error { return &wrapped{err} }

type wrapped struct{ err error }

func (w *wrapped) Error() string { return "context: " + w.err.Error() }
func (w *wrapped) Unwrap() error { return w.err }
