package fraud

import (
	"math"
	"testing"
)

func TestVelocity(t *testing.T) {
	var v Velocity
	if z := v.ZScore(0); z != 0 {
		t.Errorf("empty baseline ZScore(0) = %v", z)
	}
	v1 := v.Update(4)
	if v.Hours != 0 || v.Mean != 0 {
		t.Fatal("Update modified its receiver")
	}
	if v1.Mean != 4 || v1.Var != 0 || v1.Hours != 1 {
		t.Fatalf("first hour: %+v", v1)
	}

	constant := Velocity{}.UpdateAll([]int{2, 2, 2, 2, 2, 2, 2, 2})
	if constant.Mean != 2 || constant.Var != 0 || constant.Hours != 8 {
		t.Errorf("constant series: %+v", constant)
	}

	// West's EWMA update, by hand, for alpha 0.5.
	h := Velocity{Alpha: 0.5}.UpdateAll([]int{0, 4})
	if h.Mean != 2 || h.Var != 4 {
		t.Errorf("alpha 0.5 over [0 4]: %+v, want mean 2 var 4", h)
	}

	// Same counts, same baseline: the update is pure.
	counts := []int{0, 1, 0, 0, 3, 0, 1, -2, 0}
	a, b := Velocity{}.UpdateAll(counts), Velocity{}.UpdateAll(counts)
	if a != b {
		t.Error("UpdateAll not deterministic")
	}
	folded := Velocity{}
	for _, c := range counts {
		folded = folded.Update(c)
	}
	if folded != a {
		t.Error("UpdateAll differs from folding Update")
	}

	// StdDev floors: quiet baselines are surprised by 1 per hour at most.
	quiet := Velocity{}.UpdateAll(make([]int, 100))
	if quiet.StdDev() != 1 || quiet.ZScore(6) != 6 {
		t.Errorf("quiet baseline: sd %v z %v", quiet.StdDev(), quiet.ZScore(6))
	}
	busy := Velocity{Mean: 9, Var: 1, Hours: 50}
	if busy.StdDev() != 3 { // Poisson floor sqrt(mean)
		t.Errorf("busy StdDev = %v, want 3", busy.StdDev())
	}

	idle := Velocity{Mean: 10, Var: 4, Hours: 10}.Idle(48)
	if idle.Hours != 58 || idle.Mean >= 10*math.Pow(1-DefaultVelocityAlpha, 47) {
		t.Errorf("Idle(48) = %+v", idle)
	}
	if capped := (Velocity{}).Idle(1 << 30); capped.Hours != maxIdleHours {
		t.Errorf("Idle cap: %d hours", capped.Hours)
	}
	if v := (Velocity{Alpha: 7}).Update(1).Update(3); v.Mean != 1+DefaultVelocityAlpha*2 {
		t.Errorf("invalid Alpha not defaulted: %+v", v)
	}
}
