package e2e

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/parrainhq/parrain/e2e/fraudgen"
)

// TestFraudGenFloors drives the real binary with e2e/fraudgen's labelled
// traffic (written from the public docs only: clicks directly and through
// a trusted proxy, signups with the cookie only and with code + cookie)
// and enforces the default policy's floors on it. FRAUDGEN_SCALE=N runs N
// times more instances per scenario; FRAUDGEN_SEED changes the traffic.
func TestFraudGenFloors(t *testing.T) {
	if testing.Short() {
		t.Skip("drives the binary with ~600 referrals")
	}
	cfg := fraudgen.Config{Seed: 1, Scale: 1, Workers: 4}
	if v, err := strconv.Atoi(os.Getenv("FRAUDGEN_SCALE")); err == nil && v > 0 {
		cfg.Scale = v
	}
	if v, err := strconv.ParseUint(os.Getenv("FRAUDGEN_SEED"), 10, 64); err == nil {
		cfg.Seed = v
	}
	db := filepath.Join(t.TempDir(), "fraudgen.db")
	key := apiKey(t, db)
	srv := startWith(t, db, fraudgen.ServeFlags()...)
	rep, err := fraudgen.Run(context.Background(), fraudgen.Target{BaseURL: srv.base, Key: key, ProxyFrom: fraudgen.ProxyAddr}, cfg)
	if err != nil {
		t.Fatalf("%v\nserver log:\n%s", err, srv.log)
	}
	t.Logf("\n%s", rep.Table())
	if rep.Fraud.Cases < 150 || rep.Benign.Cases < 300 {
		t.Fatalf("too few referrals to measure: %d fraud, %d benign", rep.Fraud.Cases, rep.Benign.Cases)
	}
	if rep.Fraud.Missing+rep.Benign.Missing > 0 {
		t.Errorf("%d labelled signups have no referral: attribution failed", rep.Fraud.Missing+rep.Benign.Missing)
	}
	if got := rep.Recall(); got < 0.9 {
		t.Errorf("hold-or-worse recall on fraud %.3f < 0.9", got)
	}
	if got := rep.FalsePositiveRate(); got > 0.02 {
		t.Errorf("hold-or-worse false-positive rate on benign traffic %.4f > 0.02", got)
	}
	for _, s := range rep.Scenarios {
		if !s.Fraud && s.HeldRate() > 0.05 {
			t.Errorf("look-alike %s: %d of %d held (%.3f > 0.05)", s.Name, s.Held(), s.Cases, s.HeldRate())
		}
	}
	if got := rep.RejectPrecision(); got < 0.999 {
		t.Errorf("auto-reject precision %.4f < 0.999 (%d benign rejected)", got, rep.Benign.Reject)
	}
	// Every way traffic arrives is measured.
	for _, a := range rep.Arrivals {
		if a.Cases == 0 {
			t.Errorf("no %s traffic", a.Name)
		}
	}
}
