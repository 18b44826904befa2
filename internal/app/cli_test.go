package app

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/store"
)

// cli runs the command line and returns its exit code, stdout and stderr.
func cli(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := CLI(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestCommandsRefuseToCreateADatabase(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "elsewhere", "parrain.db")
	for _, args := range [][]string{
		{"apikey", "create", "--name", "k", "--db", missing},
		{"apikey", "list", "--db", missing},
		{"user", "list", "--db", missing},
		{"backup", "--out", filepath.Join(dir, "b.db"), "--db", missing},
		{"payout", "run", "--program", "prog_x", "--db", missing},
		{"program", "export", "--program", "prog_x", "--db", missing},
	} {
		code, out, errs := cli(args...)
		if code != 1 || out != "" || !strings.Contains(errs, "no database at "+missing) || !strings.Contains(errs, "--db") ||
			!strings.Contains(errs, "PARRAIN_DATABASE_URL") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q", args, code, out, errs)
		}
	}
	if _, err := os.Stat(filepath.Dir(missing)); !os.IsNotExist(err) {
		t.Errorf("a command created %s (%v)", filepath.Dir(missing), err)
	}
	// migrate prepares a database (before a first API key, in a deploy
	// pipeline) and says that it created it.
	code, out, errs := cli("migrate", "--db", missing)
	if code != 0 || !strings.HasSuffix(errs, "parrain: created SQLite database "+missing+"\n") || !strings.Contains(out, "up to date") {
		t.Fatalf("migrate on a new file: %d %q %q", code, out, errs)
	}
	if code, _, errs := cli("apikey", "list", "--db", missing); code != 0 || errs != "parrain: using SQLite database "+missing+"\n" {
		t.Errorf("apikey list after migrate: %d %q", code, errs)
	}
}

func TestAPIKeyCommandsNameTheirDatabaseAndTakeFlagsAnywhere(t *testing.T) {
	db := filepath.Join(t.TempDir(), "p.db")
	st, err := openStore(context.Background(), db, envSecretKeys(), store.Options{}, nil) // as serve would
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	code, key, errs := cli("apikey", "create", "--name", "ci", "--db", db)
	if code != 0 || len(strings.TrimSpace(key)) < 20 || strings.Count(key, "\n") != 1 {
		t.Fatalf("create: %d %q %q", code, key, errs)
	}
	if want := "parrain: using SQLite database " + db + "\n"; errs != want {
		t.Errorf("create's stderr %q, want %q", errs, want)
	}
	if strings.Contains(key, "using") {
		t.Error("the database line went to stdout, where scripts capture the key")
	}
	st, err = openStore(context.Background(), db, envSecretKeys(), store.Options{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := st.APIKeys(context.Background())
	st.Close()
	if err != nil || len(keys) != 1 {
		t.Fatalf("keys %v %v", keys, err)
	}
	// Flags after the id, as the help text shows them.
	if code, out, errs := cli("apikey", "revoke", keys[0].ID, "--db", db); code != 0 || out != "revoked "+keys[0].ID+"\n" {
		t.Fatalf("revoke ID --db F: %d %q %q", code, out, errs)
	}
	if code, out, _ := cli("apikey", "list", "--db", db); code != 0 || !strings.Contains(out, keys[0].ID) {
		t.Errorf("list after revoke: %d %q", code, out)
	}
	st, _ = openStore(context.Background(), db, envSecretKeys(), store.Options{}, nil)
	keys, err = st.APIKeys(context.Background())
	st.Close()
	if err != nil || len(keys) != 1 || keys[0].RevokedAt == nil {
		t.Errorf("the key is not revoked: %+v %v", keys, err)
	}
}

func TestDescribePostgresHidesPassword(t *testing.T) {
	where, path := describeDB("postgres://parrain:hunter2@db.internal:5432/parrain?sslmode=require")
	if strings.Contains(where, "hunter2") || !strings.Contains(where, "db.internal:5432/parrain") || path != "" {
		t.Errorf("describeDB: %q %q", where, path)
	}
}

func TestVersionCommand(t *testing.T) {
	code, out, _ := cli("version")
	if code != 0 || !strings.HasPrefix(out, "parrain ") || !strings.Contains(out, "\ncommit ") || !strings.Contains(out, runtime.Version()) {
		t.Errorf("version: %d %q", code, out)
	}
	old := version
	version, commit = "v9.8.7", "abc1234"
	defer func() { version, commit = old, "" }()
	if b := Build(); b.Version != "v9.8.7" || b.Commit != "abc1234" {
		t.Errorf("link-time version not used: %+v", b)
	}
}

// TestBackupRestoreDrill is the drill docs/operations.md describes: back up
// the SQLite database with `parrain backup` while the server runs and
// takes writes, then restore the copy into a fresh place, start a server
// on it and find the data through the API.
func TestBackupRestoreDrill(t *testing.T) {
	dir := t.TempDir()
	live := filepath.Join(dir, "live.db")
	h := newHarness(t, testConfig(live))
	p := h.program()
	for i := range 20 {
		h.do("PUT", fmt.Sprintf("/api/v1/programs/%s/participants/adv_%02d", p.ID, i), h.key, "", map[string]any{"email": fmt.Sprintf("a%d@example.com", i)}, nil)
	}
	// Writes keep coming while the backup runs.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			req, _ := http.NewRequest("PUT", fmt.Sprintf("%s/api/v1/programs/%s/participants/late_%04d", h.srv.URL, p.ID, i), strings.NewReader(`{}`))
			req.Header.Set("Authorization", "Bearer "+h.key)
			if res, err := http.DefaultClient.Do(req); err == nil {
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
			}
		}
	}()
	time.Sleep(50 * time.Millisecond)
	copyPath := filepath.Join(dir, "backups", "parrain-1.db")
	if err := os.MkdirAll(filepath.Dir(copyPath), 0o700); err != nil {
		t.Fatal(err)
	}
	code, out, errs := cli("backup", "--out", copyPath, "--db", live)
	close(stop)
	wg.Wait()
	if code != 0 || !strings.Contains(out, "backed up to "+copyPath) {
		t.Fatalf("backup: %d %q %q", code, out, errs)
	}
	if code, _, errs := cli("backup", "--out", copyPath, "--db", live); code != 1 || !strings.Contains(errs, "already exists") {
		t.Errorf("backup over an existing file: %d %q", code, errs)
	}
	// Restore: the copy becomes the database of a new server.
	restored := filepath.Join(dir, "restored", "parrain.db")
	if err := os.MkdirAll(filepath.Dir(restored), 0o700); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(copyPath)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(restored, b, 0o600); err != nil {
		t.Fatal(err)
	}
	r := newHarness(t, testConfig(restored))
	if err := r.m.Store().IntegrityCheck(context.Background()); err != nil {
		t.Fatal(err)
	}
	var got struct {
		ExternalID string `json:"external_id"`
		Code       string `json:"code"`
	}
	if res := r.do("GET", "/api/v1/programs/"+p.ID+"/participants/adv_07", r.key, "", nil, &got); res.StatusCode != 200 || got.ExternalID != "adv_07" {
		t.Fatalf("participant after restore: %d %+v", res.StatusCode, got)
	}
	// The restored installation keeps its secret: referral links and
	// signatures made before still verify (the code resolves).
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Get(r.srv.URL + "/r/" + got.Code)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if loc := res.Header.Get("Location"); !strings.Contains(loc, "ref="+got.Code) {
		t.Errorf("restored link lands on %q", loc)
	}
	if string(r.m.Store().Secret()) != string(h.m.Store().Secret()) {
		t.Error("the restored database has another installation secret")
	}
}

func TestBackupRefusesPostgresWithAHint(t *testing.T) {
	url := dbtest.URL(t, "postgres")
	code, _, errs := cli("backup", "--out", filepath.Join(t.TempDir(), "x.db"), "--db", url)
	if code != 1 || !strings.Contains(errs, "pg_dump") {
		t.Errorf("backup on PostgreSQL: %d %q", code, errs)
	}
}
