package referral_test

import (
	"context"
	"testing"

	"github.com/parrainhq/parrain/internal/storetest"
)

// env is one test's store on a fresh database with a fake clock
// (internal/storetest).
type env struct{ *storetest.Env }

func open(t *testing.T, url string) *env { return &env{storetest.Open(t, url)} }

func each(t *testing.T, fn func(t *testing.T, e *env)) {
	storetest.Each(t, func(t *testing.T, e *storetest.Env) { fn(t, &env{e}) })
}

var ctx = context.Background()
