// Package e2e builds the parrain binary, starts it on a fresh database
// (SQLite, then PostgreSQL) and drives the whole referral loop over HTTP,
// including replayed and concurrent duplicate events, a refund during the
// hold, approval by the background job, a crash right after a 2xx, and two
// server processes sharing one PostgreSQL database.
package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/dbtest"
)

var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "parrain-e2e")
	if err != nil {
		panic(err)
	}
	binary = filepath.Join(dir, "parrain")
	build := exec.Command("go", "build", "-o", binary, "../cmd/parrain")
	build.Stdout, build.Stderr = os.Stdout, os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building parrain:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// command runs the binary on db. A PostgreSQL database is given the
// tests' secret key (docs/secrets.md: PostgreSQL has no key file beside
// it); a SQLite one uses the key file its first start creates.
func command(db string, args ...string) *exec.Cmd {
	c := exec.Command(binary, args...)
	if strings.HasPrefix(db, "postgres") {
		c.Env = append(os.Environ(), "PARRAIN_SECRET_KEY="+dbtest.TestKey)
	}
	return c
}

// server is a running parrain process.
type server struct {
	t    *testing.T
	cmd  *exec.Cmd
	base string
	db   string
	log  *bytes.Buffer
}

func freePort(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

func start(t *testing.T, db string) *server {
	t.Helper()
	addr := freePort(t)
	s := &server{t: t, base: "http://" + addr, db: db, log: &bytes.Buffer{}}
	s.cmd = command(db, "serve", "--addr", addr, "--db", db, "--job-interval", "100ms")
	s.cmd.Stdout, s.cmd.Stderr = s.log, s.log
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.stop() })
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		res, err := http.Get(s.base + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				return s
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("server did not start:\n%s", s.log)
	return nil
}

func (s *server) stop() {
	if s.cmd.ProcessState == nil {
		_ = s.cmd.Process.Signal(syscall.SIGTERM)
		_ = s.cmd.Wait()
	}
}

// kill ends the process abruptly, as a crash would.
func (s *server) kill() {
	_ = s.cmd.Process.Kill()
	_ = s.cmd.Wait()
}

func apiKey(t *testing.T, db string) string {
	// Commands other than serve and migrate refuse to create a database;
	// the simulation makes its key before the first start.
	if out, err := command(db, "migrate", "--db", db).CombinedOutput(); err != nil {
		t.Fatalf("migrate: %v\n%s", err, out)
	}
	out, err := command(db, "apikey", "create", "--name", "e2e", "--db", db).Output()
	if err != nil {
		t.Fatalf("apikey create: %v", err)
	}
	key := strings.TrimSpace(string(out))
	if !strings.HasPrefix(key, "prn_") || strings.Contains(key, "\n") {
		t.Fatalf("apikey create printed %q", out)
	}
	return key
}

type client struct {
	t    *testing.T
	base string
	key  string
}

type reply struct {
	status int
	header http.Header
	body   map[string]any
}

func (c *client) call(method, path, idem string, body any) reply {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+c.key)
	if idem != "" {
		req.Header.Set("Idempotency-Key", idem)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	var m map[string]any
	data, _ := io.ReadAll(res.Body)
	if err := json.Unmarshal(data, &m); err != nil {
		c.t.Fatalf("%s %s: %d %q", method, path, res.StatusCode, data)
	}
	return reply{res.StatusCode, res.Header, m}
}

func (r reply) str(path ...string) string {
	var v any = r.body
	for _, p := range path {
		m, _ := v.(map[string]any)
		v = m[p]
	}
	s, _ := v.(string)
	return s
}

func (r reply) list(key string) []map[string]any {
	arr, _ := r.body[key].([]any)
	out := make([]map[string]any, len(arr))
	for i, a := range arr {
		out[i], _ = a.(map[string]any)
	}
	return out
}

func TestReferralLoop(t *testing.T) {
	for _, engine := range dbtest.Engines {
		t.Run(engine, func(t *testing.T) {
			db := dbtest.URL(t, engine)
			srv := start(t, db)
			c := &client{t: t, base: srv.base, key: apiKey(t, db)}

			prog := c.call("POST", "/api/v1/programs", "p1", map[string]any{
				"name": "Friends", "landing_url": "https://shop.example/welcome", "currency": "EUR", "hold_days": 30,
				"rules": []any{map[string]any{"trigger": "first_purchase",
					"advocate": map[string]any{"kind": "cash", "type": "percent", "percent_bps": 1000},
					"friend":   map[string]any{"kind": "coupon", "type": "fixed", "amount": 1000}}},
			})
			if prog.status != 201 {
				t.Fatalf("create program: %+v", prog)
			}
			pid := prog.str("id")
			adv := c.call("PUT", "/api/v1/programs/"+pid+"/participants/alice", "", map[string]any{"email": "alice@example.com", "name": "Alice"})
			code := adv.str("code")
			if adv.status != 201 || adv.str("link") != srv.base+"/r/"+code {
				t.Fatalf("advocate: %+v", adv)
			}

			// The friend clicks the link: 302 with ref, cookie set.
			jar, _ := cookiejar.New(nil)
			browser := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
			req, _ := http.NewRequest("GET", srv.base+"/r/"+strings.ToLower(code), nil)
			req.Header.Set("User-Agent", "Mozilla/5.0 (Macintosh) Safari/605")
			res, err := browser.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			res.Body.Close()
			if res.StatusCode != 302 || res.Header.Get("Location") != "https://shop.example/welcome?ref="+code {
				t.Fatalf("redirect: %d %s", res.StatusCode, res.Header.Get("Location"))
			}
			var cookie string
			for _, ck := range res.Cookies() {
				if ck.Name == "parrain_ref" {
					cookie = ck.Value
				}
			}
			if cookie == "" {
				t.Fatal("no attribution cookie")
			}

			// Signup with the cookie value: Alice is credited.
			signup := map[string]any{"type": "signup", "external_id": "bob", "email": "bob@example.org", "referral_cookie": cookie}
			r := c.call("POST", "/api/v1/programs/"+pid+"/events", "signup-bob", signup)
			if r.status != 201 || r.str("credited", "external_id") != "alice" || r.str("referral", "status") != "signed_up" {
				t.Fatalf("signup: %+v", r)
			}
			// Replay: same answer, flagged, nothing new.
			again := c.call("POST", "/api/v1/programs/"+pid+"/events", "signup-bob", signup)
			if again.status != 201 || again.header.Get("Idempotent-Replayed") != "true" || again.str("event_id") != r.str("event_id") {
				t.Fatalf("replay: %+v", again)
			}
			signup["email"] = "other@example.org"
			if bad := c.call("POST", "/api/v1/programs/"+pid+"/events", "signup-bob", signup); bad.status != 422 || bad.str("error", "code") != "idempotency_key_reused" {
				t.Fatalf("reused key: %+v", bad)
			}

			// Concurrent duplicates of one purchase (same key): one effect.
			purchase := map[string]any{"type": "purchase", "external_id": "bob", "order_id": "A-1", "amount": 12345, "currency": "EUR"}
			var wg sync.WaitGroup
			ids := make([]string, 12)
			for i := range ids {
				wg.Add(1)
				go func() {
					defer wg.Done()
					ids[i] = c.call("POST", "/api/v1/programs/"+pid+"/events", "buy-A-1", purchase).str("event_id")
				}()
			}
			wg.Wait()
			for _, id := range ids {
				if id == "" || id != ids[0] {
					t.Fatalf("concurrent duplicates answered differently: %v", ids)
				}
			}
			// The same order under a new key is recognised as a duplicate.
			dup := c.call("POST", "/api/v1/programs/"+pid+"/events", "buy-A-1-retry", purchase)
			if dup.body["duplicate"] != true || len(dup.list("rewards")) != 0 {
				t.Fatalf("duplicate order: %+v", dup)
			}
			rw := c.call("GET", "/api/v1/programs/"+pid+"/participants/alice/rewards?status=pending", "", nil)
			rewards := rw.list("data")
			if len(rewards) != 1 || rewards[0]["amount"].(float64) != 1235 { // 10% of 123.45 € = 12.345 → 12.35 €
				t.Fatalf("advocate rewards: %+v", rewards)
			}

			// Refund during the hold: both rewards are reversed.
			ref := c.call("POST", "/api/v1/programs/"+pid+"/events", "refund-A-1", map[string]any{"type": "refund", "order_id": "A-1", "amount": 12345})
			revs := ref.list("reversals")
			if ref.status != 201 || len(revs) != 2 || revs[0]["entry_type"] != "reversal" || revs[0]["status"] != "reversed" {
				t.Fatalf("refund: %+v", ref)
			}
			p := c.call("GET", "/api/v1/programs/"+pid+"/participants/alice", "", nil)
			stats, _ := p.body["stats"].(map[string]any)
			if stats["signups"].(float64) != 1 || stats["purchases"].(float64) != 1 {
				t.Fatalf("stats: %+v", stats)
			}
			list := c.call("GET", "/api/v1/programs/"+pid+"/referrals?status=converted", "", nil)
			if n := len(list.list("data")); n != 1 {
				t.Fatalf("converted referrals: %d", n)
			}

			// A program without hold: the background job approves.
			fast := c.call("POST", "/api/v1/programs", "p2", map[string]any{"name": "Fast", "landing_url": "https://shop.example/", "currency": "USD", "hold_days": 0,
				"rules": []any{map[string]any{"trigger": "signup", "advocate": map[string]any{"kind": "credit", "type": "fixed", "amount": 500}}}}).str("id")
			fc := c.call("PUT", "/api/v1/programs/"+fast+"/participants/carol", "", nil).str("code")
			c.call("POST", "/api/v1/programs/"+fast+"/events", "dave", map[string]any{"type": "signup", "external_id": "dave", "referral_code": fc})
			deadline := time.Now().Add(15 * time.Second)
			for {
				got := c.call("GET", "/api/v1/programs/"+fast+"/participants/carol/rewards?status=approved", "", nil).list("data")
				if len(got) == 1 {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("reward not approved by the job; server log:\n%s", srv.log)
				}
				time.Sleep(100 * time.Millisecond)
			}

			// Crash right after a 2xx: the write survives.
			ok := c.call("POST", "/api/v1/programs/"+fast+"/events", "erin", map[string]any{"type": "signup", "external_id": "erin", "referral_code": fc})
			if ok.status != 201 {
				t.Fatalf("erin: %+v", ok)
			}
			srv.kill()
			srv2 := start(t, db)
			c.base = srv2.base
			refs := c.call("GET", "/api/v1/programs/"+fast+"/referrals", "", nil).list("data")
			if len(refs) != 2 {
				t.Fatalf("after crash: %d referrals, want 2", len(refs))
			}
			replay := c.call("POST", "/api/v1/programs/"+fast+"/events", "erin", map[string]any{"type": "signup", "external_id": "erin", "referral_code": fc})
			if replay.header.Get("Idempotent-Replayed") != "true" {
				t.Fatalf("idempotency record lost in the crash")
			}

			if engine == "postgres" {
				twoProcesses(t, c, srv2, db)
			}
		})
	}
}

// twoProcesses sends concurrent duplicates to two server processes sharing
// one PostgreSQL database: exactly one effect.
func twoProcesses(t *testing.T, c *client, a *server, db string) {
	b := start(t, db)
	prog := c.call("POST", "/api/v1/programs", "p3", map[string]any{"name": "Two", "landing_url": "https://shop.example/", "currency": "EUR",
		"rules": []any{map[string]any{"trigger": "signup", "advocate": map[string]any{"kind": "cash", "type": "fixed", "amount": 100}}}}).str("id")
	code := c.call("PUT", "/api/v1/programs/"+prog+"/participants/zoe", "", nil).str("code")
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cc := &client{t: t, base: []string{a.base, b.base}[i%2], key: c.key}
			// Half share one key; the other half use their own keys for the
			// same friend: still one referral and one reward.
			key := "same"
			if i%4 == 3 {
				key = fmt.Sprintf("own-%d", i)
			}
			r := cc.call("POST", "/api/v1/programs/"+prog+"/events", key, map[string]any{"type": "signup", "external_id": "yann", "referral_code": code})
			if r.status != 201 {
				t.Errorf("event: %+v", r)
			}
		}()
	}
	wg.Wait()
	rewards := c.call("GET", "/api/v1/programs/"+prog+"/participants/zoe/rewards", "", nil).list("data")
	if len(rewards) != 1 {
		t.Fatalf("two processes: %d rewards, want 1", len(rewards))
	}
}
