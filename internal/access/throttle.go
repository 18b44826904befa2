package access

import (
	"context"
	"errors"
	"math"
	"strconv"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
)

// Backoff is how failed sign-ins counted under one key slow the next
// attempt: Free failures cost nothing, then each one makes the key wait
// Base, doubled by every further failure, up to Max, counted from the last
// failure. Failures older than Forget are forgotten; a success clears them.
type Backoff struct {
	Free   int
	Base   time.Duration
	Max    time.Duration
	Forget time.Duration
}

// Wait is how long a key with n failures, the last at last, still waits
// at now (0: it may try).
func (b Backoff) Wait(n int, last, now time.Time) time.Duration {
	if b.Base <= 0 || n < b.Free || now.Sub(last) >= b.Forget {
		return 0
	}
	d := b.Max
	if shift := n - b.Free; shift < 30 {
		if x := b.Base * time.Duration(math.Pow(2, float64(shift))); x < b.Max {
			d = x
		}
	}
	if left := last.Add(d).Sub(now); left > 0 {
		return left
	}
	return 0
}

// Throttle is a sign-in's throttle: failures are counted per account and
// source address (the one that stops a guesser without locking anyone
// else out), per account whatever the address (against guessing from many
// addresses; zero: not counted), and per address whatever the account.
type Throttle struct {
	PerSource, PerAccount, PerAddress Backoff
}

// IsZero reports whether t is unset.
func (t Throttle) IsZero() bool { return t == Throttle{} }

// Default throttles. The console counts no per-account limit: a stranger
// failing on an administrator's email from their own address must not
// slow the administrator down from theirs. The portal counts one, high
// enough that a stranger needs twenty failures to trigger it, and a
// partner it slows can still sign in by magic link.
var (
	DefaultConsoleThrottle = Throttle{
		PerSource:  Backoff{Free: 5, Base: 30 * time.Second, Max: 15 * time.Minute, Forget: 24 * time.Hour},
		PerAddress: Backoff{Free: 20, Base: time.Minute, Max: time.Hour, Forget: 24 * time.Hour},
	}
	DefaultPortalThrottle = Throttle{
		PerSource:  Backoff{Free: 5, Base: 30 * time.Second, Max: 15 * time.Minute, Forget: 24 * time.Hour},
		PerAccount: Backoff{Free: 20, Base: time.Minute, Max: time.Hour, Forget: 24 * time.Hour},
		PerAddress: Backoff{Free: 20, Base: time.Minute, Max: time.Hour, Forget: 24 * time.Hour},
	}
)

// ThrottledError answers a sign-in attempt made while one of its keys
// waits. Its code is rate_limited.
type ThrottledError struct {
	RetryAfter time.Duration
	err        *parrain.Error
}

func (e *ThrottledError) Error() string { return e.err.Error() }
func (e *ThrottledError) Unwrap() error { return e.err }

// RetryAfter is how long a throttled attempt must wait (0 when err is not
// a throttle).
func RetryAfter(err error) time.Duration {
	var t *ThrottledError
	if errors.As(err, &t) {
		return t.RetryAfter
	}
	return 0
}

// counter is one key of a sign-in and its backoff.
type counter struct {
	key   string
	b     Backoff
	clear bool // cleared by a successful sign-in
}

// counters are the keys an attempt on account from ip counts under.
func (s *Service) counters(scope string, t Throttle, account, ip string) []counter {
	cs := []counter{{s.throttleKey(scope, "source", account, ip), t.PerSource, true}}
	if t.PerAccount.Base > 0 {
		cs = append(cs, counter{s.throttleKey(scope, "account", account), t.PerAccount, true})
	}
	if t.PerAddress.Base > 0 && ip != "" {
		cs = append(cs, counter{s.throttleKey(scope, "address", ip), t.PerAddress, false})
	}
	return cs
}

// admit refuses an attempt while one of its counters waits.
func (s *Service) admit(ctx context.Context, cs []counter) error {
	now := s.now()
	var wait time.Duration
	for _, c := range cs {
		n, last, err := s.st.SignInFailures(ctx, c.key)
		if err != nil {
			return err
		}
		wait = max(wait, c.b.Wait(n, last, now))
	}
	if wait > 0 {
		secs := int64(math.Ceil(wait.Seconds()))
		return &ThrottledError{RetryAfter: time.Duration(secs) * time.Second,
			err: parrain.Errorf(parrain.CodeRateLimited, "too many failed sign-ins: try again in %s", humanWait(secs))}
	}
	return nil
}

// failed counts a failed attempt under every counter.
func (s *Service) failed(ctx context.Context, cs []counter) error {
	now := s.now()
	for _, c := range cs {
		if _, err := s.st.AddSignInFailure(ctx, c.key, now, now.Add(-c.b.Forget)); err != nil {
			return err
		}
	}
	return nil
}

// succeeded clears the source's and the account's counters (not the
// address's: a guesser who owns one account must not wash away the
// failures they made on others).
func (s *Service) succeeded(ctx context.Context, cs []counter) error {
	for _, c := range cs {
		if !c.clear {
			continue
		}
		if err := s.st.ClearSignInFailures(ctx, c.key); err != nil {
			return err
		}
	}
	return nil
}

func humanWait(secs int64) string {
	switch {
	case secs < 60:
		return "a minute"
	case secs < 3600:
		m := (secs + 59) / 60
		if m == 1 {
			return "a minute"
		}
		return strconv.FormatInt(m, 10) + " minutes"
	}
	h := (secs + 3599) / 3600
	if h == 1 {
		return "an hour"
	}
	return strconv.FormatInt(h, 10) + " hours"
}
