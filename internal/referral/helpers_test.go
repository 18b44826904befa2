package referral_test

import (
	"context"
	"testing"

	"github.com/parrainhq/parrain/internal/storetest"
)

// env is one test's store on a fresh database with a fake clock
// (internal/storetest).
type env struct{ *storetest.Env }

func each(t *testing.T, fn func(t *testing.T, e *env)) {
	storetest.Each(t, func(t *testing.T, e *storetest.Env) { fn(t, &env{e}) })
}

var ctx = context.Background()
