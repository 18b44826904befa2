package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/program"
	"github.com/parrainhq/parrain/internal/store"
)

const (
	benchLanding = "https://shop.example/join"
	browserUA    = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0 Safari/537.36"
	cookieDays   = 30
)

// benchCode is the i-th seeded code (1-based): B0000001…
func benchCode(i int) string { return fmt.Sprintf("B%07d", i) }

// seedCodes makes sure the database holds a program with n advocates whose
// codes are benchCode(1…n), adding what is missing, and returns the program.
func seedCodes(ctx context.Context, st *store.Store, n int) (string, error) {
	t, err := st.ResolveCode(ctx, benchCode(1))
	progID := t.ProgramID
	if err != nil {
		if parrain.ErrorCode(err) != parrain.CodeNotFound {
			return "", err
		}
		var p parrain.Program
		if err := json.Unmarshal([]byte(`{"name": "Bench", "landing_url": "`+benchLanding+`", "currency": "EUR", "cookie_window_days": 30,
			"rules": [{"trigger": "signup", "advocate": {"kind": "cash", "type": "fixed", "amount": 100}}]}`), &p); err != nil {
			return "", err
		}
		p, _, err := program.New(st).Create(ctx, p, store.Idem{})
		if err != nil {
			return "", fmt.Errorf("creating the bench program: %w", err)
		}
		progID = p.ID
	}
	if _, err := st.ResolveCode(ctx, benchCode(n)); err == nil {
		return progID, nil // seeded by an earlier run
	}
	start := time.Now()
	now := time.Now().UnixMilli()
	const batch = 100_000
	for from := 1; from <= n; from += batch {
		to := min(from+batch-1, n)
		var q string
		if st.Dialect() == "postgres" {
			q = `INSERT INTO participants (id, program_id, external_id, email, email_canonical, name, code, status, created_at, updated_at)
				SELECT 'part_bench_' || i, $1, 'bench' || i, 'bench' || i || '@mail.example', 'bench' || i || '@mail.example', 'Bench ' || i,
				'B' || lpad(i::text, 7, '0'), 'active', $2, $2 FROM generate_series(CAST($3 AS BIGINT), CAST($4 AS BIGINT)) AS i
				ON CONFLICT DO NOTHING`
		} else {
			q = `WITH RECURSIVE c(i) AS (SELECT $3 UNION ALL SELECT i+1 FROM c WHERE i < $4)
				INSERT INTO participants (id, program_id, external_id, email, email_canonical, name, code, status, created_at, updated_at)
				SELECT 'part_bench_' || i, $1, 'bench' || i, 'bench' || i || '@mail.example', 'bench' || i || '@mail.example', 'Bench ' || i,
				printf('B%07d', i), 'active', $2, $2 FROM c WHERE true ON CONFLICT DO NOTHING`
		}
		if _, err := st.DB().ExecContext(ctx, q, progID, now, from, to); err != nil {
			return "", fmt.Errorf("seeding codes %d–%d: %w", from, to, err)
		}
	}
	if _, err := st.DB().ExecContext(ctx, `ANALYZE`); err != nil {
		return "", fmt.Errorf("analyzing: %w", err)
	}
	fmt.Printf("seeded %d codes in %v\n", n, time.Since(start).Round(time.Second))
	return progID, nil
}

// hotCodes returns hot codes spread evenly over the n seeded ones.
func hotCodes(n, hot int) []string {
	out := make([]string, hot)
	step := n / hot
	for k := range out {
		out[k] = benchCode(1 + k*step)
	}
	return out
}

// writeScript writes the wrk script that cycles through codes with a
// browser User-Agent (so that every redirect is a counted click).
func writeScript(path string, codes []string) error {
	var b strings.Builder
	b.WriteString("local codes = {")
	for i, c := range codes {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(`"` + c + `"`)
	}
	b.WriteString("}\nlocal n = #codes\nlocal i = math.random(n)\n")
	b.WriteString(`wrk.headers["User-Agent"] = "` + browserUA + `"` + "\n")
	b.WriteString("request = function()\n  i = i + 1\n  if i > n then i = 1 end\n  return wrk.format(nil, \"/r/\" .. codes[i])\nend\n")
	return os.WriteFile(path, []byte(b.String()), 0o600)
}

// writeCodes writes one code a line, for the baseline server.
func writeCodes(path string, codes []string) error {
	return os.WriteFile(path, []byte(strings.Join(codes, "\n")+"\n"), 0o600)
}

// clicksSince counts the program's clicks made at or after from, through
// the clicks_program_participant index (a count of the whole table would
// scan millions of rows and disturb what is measured).
func clicksSince(ctx context.Context, st *store.Store, programID string, from time.Time) (int64, error) {
	var n int64
	err := st.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM clicks WHERE program_id = $1 AND created_at >= $2`, programID, from.UnixMilli()).Scan(&n)
	return n, err
}

// waitClicks waits up to a second for the clicks made since from to reach
// want and returns how many there are.
func waitClicks(ctx context.Context, st *store.Store, programID string, from time.Time, want int64) (int64, error) {
	deadline := time.Now().Add(time.Second)
	for {
		time.Sleep(250 * time.Millisecond)
		n, err := clicksSince(ctx, st, programID, from)
		if err != nil || n >= want || time.Now().After(deadline) {
			return n, err
		}
	}
}

// checkAnswer checks one redirect's answer: 302 to the landing with the
// code, the attribution cookie set.
func checkAnswer(base, code string) error {
	req, _ := http.NewRequest(http.MethodHead, base+"/r/"+code, nil) // HEAD: answered, never recorded
	req.Header.Set("User-Agent", browserUA)
	resp, err := noFollow.Do(req)
	if err != nil {
		return err
	}
	resp.Body.Close()
	want := benchLanding + "?ref=" + code
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != want {
		return fmt.Errorf("%s/r/%s answered %d to %q, want 302 to %q", base, code, resp.StatusCode, resp.Header.Get("Location"), want)
	}
	ck := resp.Header.Get("Set-Cookie")
	if !strings.HasPrefix(ck, "parrain_ref="+code+".") || !strings.Contains(ck, "Max-Age="+strconv.Itoa(cookieDays*24*3600)) {
		return fmt.Errorf("%s/r/%s set the cookie %q", base, code, ck)
	}
	return nil
}

// benchRedirect measures GET /r/{code} against the bare 302 server.
func benchRedirect(ctx context.Context, c *config, db database) ([]row, []string, error) {
	st, err := store.Open(ctx, db.dsn, store.Options{})
	if err != nil {
		return nil, nil, err
	}
	defer st.Close()
	progID, err := seedCodes(ctx, st, c.codes)
	if err != nil {
		return nil, nil, err
	}
	codes := hotCodes(c.codes, c.hot)
	script := filepath.Join(c.dir, "redirect.lua")
	codesFile := filepath.Join(c.dir, "codes.txt")
	if err := writeScript(script, codes); err != nil {
		return nil, nil, err
	}
	if err := writeCodes(codesFile, codes); err != nil {
		return nil, nil, err
	}
	base, err := start(filepath.Join(c.dir, "baseline-redirect.log"), "/r/"+codes[0], "-addr", c.self, "baseline-redirect", "-codes", codesFile)
	if err != nil {
		return nil, nil, err
	}
	defer base.kill()
	serve := func() (*server, error) {
		args := append([]string{"serve", "--db", db.dsn, "--public-rate", "1000000000", "--public-burst", "1000000000"}, c.serveArgs...)
		return start(filepath.Join(c.dir, "parrain-"+db.name+".log"), "/healthz", "--addr", c.parrain, args...)
	}
	prod, err := serve()
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if prod != nil {
			prod.kill()
		}
	}()
	var fails []string
	for _, s := range []*server{base, prod} {
		for _, code := range []string{codes[0], codes[len(codes)-1]} {
			if err := checkAnswer(s.base, code); err != nil {
				fails = append(fails, err.Error())
			}
		}
	}
	// A short warm-up of each, not measured.
	for _, s := range []*server{base, prod} {
		if _, err := runWrk(c, s.base, script, 2*time.Second); err != nil {
			return nil, nil, err
		}
	}
	var bs, ps []result
	var lost int64
	for round := 1; round <= c.rounds; round++ {
		b, err := runWrk(c, base.base, script, c.duration)
		if err != nil {
			return nil, nil, err
		}
		bs = append(bs, b)
		from := time.Now().Truncate(time.Millisecond)
		p, err := runWrk(c, prod.base, script, c.duration)
		if err != nil {
			return nil, nil, err
		}
		ps = append(ps, p)
		answered := p.requests - p.errors
		n, err := waitClicks(ctx, st, progID, from, answered)
		if err != nil {
			return nil, nil, err
		}
		fmt.Printf("round %d: baseline %.0f req/s p99 %s, parrain %.0f req/s p99 %s (%d errors), %d redirects → %d clicks within 1 s\n",
			round, b.rps, dur(b.p99), p.rps, dur(p.p99), p.errors, answered, n)
		if n < answered {
			lost += answered - n
		}
		if p.errors > 0 {
			fails = append(fails, fmt.Sprintf("redirect on %s, round %d: %d wrong answers or socket errors", db.name, round, p.errors))
		}
	}
	if lost > 0 {
		fails = append(fails, fmt.Sprintf("redirect on %s: %d redirects answered were not clicks yet 1 s after their burst (late, or lost)", db.name, lost))
	}
	// SIGTERM right after a burst: the clicks still buffered must be written.
	time.Sleep(2 * time.Second) // the last round's clicks are written
	from := time.Now().Truncate(time.Millisecond)
	p, err := runWrk(c, prod.base, script, 3*time.Second)
	if err != nil {
		return nil, nil, err
	}
	if err := prod.stop(); err != nil {
		fails = append(fails, fmt.Sprintf("redirect on %s: parrain serve stopped badly on SIGTERM: %v", db.name, err))
	}
	prod = nil
	n, err := clicksSince(ctx, st, progID, from)
	if err != nil {
		return nil, nil, err
	}
	answered := p.requests - p.errors
	note := fmt.Sprintf("SIGTERM right after a 3 s burst: %d redirects answered, %d clicks written", answered, n)
	fmt.Println(note)
	if n < answered {
		fails = append(fails, fmt.Sprintf("redirect on %s: %d clicks lost on SIGTERM", db.name, answered-n))
	}
	r := row{path: "redirect", db: db.name, baseline: "bare net/http 302", base: median(bs), prod: median(ps),
		note: fmt.Sprintf("clicks: %d not written within 1 s over %d rounds; %s", lost, c.rounds, note)}
	return []row{r}, fails, nil
}

// baselineRedirectCmd serves the bare baseline of the redirect: a net/http
// server that looks the code up in a map, sets the attribution cookie and
// answers 302 with the same headers as Parrain, and nothing else.
func baselineRedirectCmd(args []string) error {
	fs := flag.NewFlagSet("baseline-redirect", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8081", "listen address (loopback)")
	codesPath := fs.String("codes", "", "file of the known codes, one a line")
	if err := fs.Parse(args); err != nil {
		return err
	}
	f, err := os.Open(*codesPath)
	if err != nil {
		return err
	}
	targets := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if code := strings.TrimSpace(sc.Text()); code != "" {
			targets[code] = benchLanding + "?ref=" + code
		}
	}
	f.Close()
	if err := sc.Err(); err != nil {
		return err
	}
	if len(targets) == 0 {
		return errors.New("no codes")
	}
	tail := "; Path=/; Max-Age=" + strconv.Itoa(cookieDays*24*3600) + "; SameSite=Lax"
	mux := http.NewServeMux()
	mux.HandleFunc("GET /r/{code}", func(w http.ResponseWriter, r *http.Request) {
		code := r.PathValue("code")
		target, ok := targets[code]
		h := w.Header()
		if ok {
			h.Set("Set-Cookie", "parrain_ref="+code+"."+strconv.FormatInt(time.Now().Unix(), 10)+tail)
		} else {
			target = benchLanding
		}
		h.Set("Cache-Control", "no-store")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		h.Set("Location", target)
		w.WriteHeader(http.StatusFound)
	})
	return (&http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}).ListenAndServe()
}
