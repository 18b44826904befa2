package parrain

import (
	"errors"
	"strconv"
	"strings"
	"time"
)

// Touch is one referral link click remembered for a visitor.
type Touch struct {
	Code string    `json:"code"`
	At   time.Time `json:"clicked_at"`
}

// MaxCookieTouches is how many clicks the attribution cookie remembers.
const MaxCookieTouches = 5

// TouchCookie encodes touches as the parrain_ref cookie value:
// "CODE.unixseconds" items joined by "~", oldest first, at most
// MaxCookieTouches (the newest are kept).
func TouchCookie(ts []Touch) string {
	if len(ts) > MaxCookieTouches {
		ts = ts[len(ts)-MaxCookieTouches:]
	}
	parts := make([]string, len(ts))
	for i, t := range ts {
		parts[i] = t.Code + "." + strconv.FormatInt(t.At.Unix(), 10)
	}
	return strings.Join(parts, "~")
}

// ParseTouchCookie decodes a parrain_ref cookie value.
func ParseTouchCookie(v string) ([]Touch, error) {
	if v == "" {
		return nil, nil
	}
	items := strings.Split(v, "~")
	if len(items) > 20 {
		return nil, errors.New("too many touches")
	}
	out := make([]Touch, 0, len(items))
	for _, it := range items {
		code, ts, ok := strings.Cut(it, ".")
		if !ok || !ValidCodeSyntax(code) {
			return nil, errors.New("malformed cookie value")
		}
		sec, err := strconv.ParseInt(ts, 10, 64)
		if err != nil || sec <= 0 || sec > 1<<40 {
			return nil, errors.New("malformed cookie timestamp")
		}
		out = append(out, Touch{Code: NormalizeCode(code), At: time.Unix(sec, 0).UTC()})
	}
	return out, nil
}

// AddTouch appends a click to a visitor's touches (used by the redirect to
// update the cookie), keeping the newest MaxCookieTouches.
func AddTouch(ts []Touch, t Touch) []Touch {
	ts = append(ts, t)
	if len(ts) > MaxCookieTouches {
		ts = ts[len(ts)-MaxCookieTouches:]
	}
	return ts
}

// Candidate is a touch whose code resolved to an active advocate of the
// program.
type Candidate struct {
	Touch
	// Typed is true for a code typed by the user or passed without a click
	// time: it counts as a touch at the time of the event.
	Typed bool
}

// Attribute chooses which candidate gets the credit for an event at time at,
// following the program's model: touches older than the cookie window or
// later than the event are ignored; first_click takes the earliest remaining,
// last_click the latest. A typed code is an explicit statement by the friend
// and wins over cookie touches under both models. ok is false when no
// candidate is eligible.
func Attribute(model AttributionModel, window time.Duration, at time.Time, cands []Candidate) (Candidate, bool) {
	var best Candidate
	found := false
	for _, c := range cands {
		if c.Typed {
			return c, true
		}
		if c.At.After(at) || at.Sub(c.At) > window {
			continue
		}
		if !found {
			best, found = c, true
			continue
		}
		switch model {
		case FirstClick:
			if c.At.Before(best.At) {
				best = c
			}
		default:
			if !c.At.Before(best.At) {
				best = c
			}
		}
	}
	return best, found
}
