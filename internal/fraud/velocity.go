package fraud

import "math"

// DefaultVelocityAlpha is the EWMA smoothing factor used when
// [Velocity.Alpha] is zero: each hour weighs 5%, so the baseline has a
// memory of roughly 20 active hours and about a day and a half of quiet
// hours to halve.
const DefaultVelocityAlpha = 0.05

// maxIdleHours caps [Velocity.Idle]: after this many quiet hours the
// baseline is as good as zero anyway.
const maxIdleHours = 24 * 90

// Velocity is an exponentially weighted baseline of a count per hour (an
// advocate's referred signups, or the program's per-advocate rate): its
// moving mean and variance. The zero value is an empty baseline with the
// default smoothing. Velocity is a value: its methods return updated copies
// and never read the clock, so the same hourly counts always produce the
// same baseline.
type Velocity struct {
	// Alpha is the weight of each new hour, in (0, 1]; zero means
	// [DefaultVelocityAlpha].
	Alpha float64
	// Mean is the moving average count per hour.
	Mean float64
	// Var is the moving variance of the count per hour.
	Var float64
	// Hours is the number of hours observed.
	Hours int
}

func (v Velocity) alpha() float64 {
	if v.Alpha > 0 && v.Alpha <= 1 {
		return v.Alpha
	}
	return DefaultVelocityAlpha
}

// Update returns the baseline after one more complete hour with count
// events. The first hour sets the mean; later hours move the mean and
// variance by Alpha (West's EWMA variance update). Negative counts are
// treated as zero.
func (v Velocity) Update(count int) Velocity {
	x := float64(max(count, 0))
	if v.Hours <= 0 {
		v.Mean, v.Var, v.Hours = x, 0, 1
		return v
	}
	a := v.alpha()
	diff := x - v.Mean
	incr := a * diff
	v.Mean += incr
	v.Var = (1 - a) * (v.Var + diff*incr)
	v.Hours++
	return v
}

// UpdateAll folds [Velocity.Update] over hourly counts, oldest first.
func (v Velocity) UpdateAll(counts []int) Velocity {
	for _, c := range counts {
		v = v.Update(c)
	}
	return v
}

// Idle returns the baseline after the given number of hours with no events
// (at most 90 days' worth are applied).
func (v Velocity) Idle(hours int) Velocity {
	for range min(max(hours, 0), maxIdleHours) {
		v = v.Update(0)
	}
	return v
}

// StdDev returns the standard deviation used for z-scores: the square root
// of the larger of the moving variance, the mean (the variance of a Poisson
// count with that mean) and 1, so a quiet baseline is not infinitely
// surprised by a single event.
func (v Velocity) StdDev() float64 {
	return math.Sqrt(max(v.Var, v.Mean, 1))
}

// ZScore returns how many standard deviations count is above the mean.
func (v Velocity) ZScore(count int) float64 {
	return (float64(count) - v.Mean) / v.StdDev()
}
