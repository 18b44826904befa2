package app

import (
	"os"
	"testing"

	"github.com/parrainhq/parrain/internal/dbtest"
)

// TestMain gives the commands the tests run (CLI, which reads the key from
// the environment like every command but serve) the key testConfig gives
// the server, so that they open the databases the tests' servers sealed.
// Tests of the key's absence unset it (t.Setenv).
func TestMain(m *testing.M) {
	if os.Getenv("PARRAIN_SECRET_KEY") == "" && os.Getenv("PARRAIN_SECRET_KEY_FILE") == "" {
		os.Setenv("PARRAIN_SECRET_KEY", dbtest.TestKey)
	}
	os.Exit(m.Run())
}
