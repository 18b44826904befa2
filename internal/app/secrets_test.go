package app

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/program"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/store"
)

// A SQLite database gets its key file at first start, loudly; without it,
// or with another key, the database does not open and the error says
// what to do; a rotation to a new key file makes the old one useless.
func TestSecretKeyFileAndRotation(t *testing.T) {
	t.Setenv("PARRAIN_SECRET_KEY", "") // set for the other tests by TestMain
	ctx := context.Background()
	dir := t.TempDir()
	db := filepath.Join(dir, "p.db")
	keyFile := db + ".key"
	code, _, errs := cli("migrate", "--db", db)
	if code != 0 || !strings.Contains(errs, "GENERATED A NEW SECRET KEY") || !strings.Contains(errs, keyFile) {
		t.Fatalf("migrate: %d %q", code, errs)
	}
	fi, err := os.Stat(keyFile)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi, err)
	}
	// Serve and the other commands use the key file beside the database.
	st, err := openStore(ctx, db, SecretKeyConfig{}, store.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	p, _, err := program.New(st).Create(ctx, parrain.Program{Name: "P", LandingURL: "https://shop.example/", Currency: "EUR",
		Rules: []parrain.RewardRule{{Trigger: parrain.TriggerSignup, Advocate: &parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountFixed, Amount: 100}}}}, store.Idem{})
	if err != nil {
		t.Fatal(err)
	}
	w, _, err := referral.New(st).RotateWidgetSecret(ctx, p.ID, store.Idem{})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	code, out, errs := cli("secrets", "status", "--db", db)
	if code != 0 || !strings.Contains(out, ": 2 secrets") {
		t.Fatalf("status: %d %q %q", code, out, errs)
	}

	// Without its key file the database does not open.
	if err := os.Rename(keyFile, keyFile+".away"); err != nil {
		t.Fatal(err)
	}
	if code, _, errs := cli("apikey", "list", "--db", db); code != 1 || !strings.Contains(errs, "key file "+keyFile+" is missing") {
		t.Errorf("missing key file: %d %q", code, errs)
	}
	if _, err := os.Stat(keyFile); !os.IsNotExist(err) {
		t.Errorf("a new key file was made over a database with secrets: %v", err)
	}
	if err := os.Rename(keyFile+".away", keyFile); err != nil {
		t.Fatal(err)
	}
	// Another key is refused, naming the key ids.
	other := filepath.Join(dir, "other.key")
	if code, _, errs := cli("secrets", "new-key", "--out", other); code != 0 {
		t.Fatalf("new-key: %q", errs)
	}
	t.Setenv("PARRAIN_SECRET_KEY_FILE", other)
	if code, _, errs := cli("apikey", "list", "--db", db); code != 1 || !strings.Contains(errs, "does not open this database's secrets") {
		t.Errorf("wrong key: %d %q", code, errs)
	}
	t.Setenv("PARRAIN_SECRET_KEY_FILE", "")

	// Rotation to the other key: resumable (a second run reseals nothing),
	// and the old key no longer opens the database.
	code, out, errs = cli("secrets", "rotate", "--new-key-file", other, "--db", db)
	if code != 0 || !strings.Contains(out, "resealed 2 secrets") {
		t.Fatalf("rotate: %d %q %q", code, out, errs)
	}
	code, out, errs = cli("secrets", "rotate", "--new-key-file", other, "--db", db)
	if code != 0 || !strings.Contains(out, "resealed 0 secrets") || !strings.Contains(out, "2 were already under it") {
		t.Fatalf("rotate again: %d %q %q", code, out, errs)
	}
	if code, _, errs := cli("apikey", "list", "--db", db); code != 1 || !strings.Contains(errs, "does not open this database's secrets") {
		t.Errorf("old key after rotation: %d %q", code, errs)
	}
	if err := os.Remove(keyFile); err != nil {
		t.Fatal(err)
	}
	st, err = openStore(ctx, db, SecretKeyConfig{File: other}, store.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if cur, _, err := st.WidgetSecrets(ctx, p.ID); err != nil || cur != w.Secret {
		t.Errorf("widget secret after rotation: %v", err)
	}
	if _, err := os.Stat(keyFile); !os.IsNotExist(err) {
		t.Errorf("a key file was made beside a database opened with a configured key: %v", err)
	}
}

// A PostgreSQL installation without a key starts, and refuses to store a
// secret with a 503 naming the setting.
func TestPostgresWithoutKeyRefusesSecrets(t *testing.T) {
	cfg := testConfig(dbtest.URL(t, "postgres"))
	cfg.SecretKeys = SecretKeyConfig{}
	h := newHarness(t, cfg)
	p := h.program()
	res, body := h.raw("POST", "/api/v1/programs/"+p.ID+"/webhook-endpoints", h.key, "", map[string]any{"url": "https://hooks.example/x", "event_types": []string{"reward.created"}})
	if res.StatusCode != 503 || !strings.Contains(string(body), `"unavailable"`) || !strings.Contains(string(body), "PARRAIN_SECRET_KEY") {
		t.Errorf("webhook without a key: %d %s", res.StatusCode, body)
	}
}
