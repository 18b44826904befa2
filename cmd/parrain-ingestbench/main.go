// Command parrain-ingestbench measures event ingestion
// (POST /api/v1/programs/{id}/events) against the raw group-commit limit of
// the same database, in one run, and prints the ratio.
//
//	parrain-ingestbench                                  # SQLite, 64 and 1 clients
//	parrain-ingestbench -db sqlite,postgres -clients 64 -duration 10s -rounds 3
//	parrain-ingestbench -json                            # one JSON object per measurement
//
// Two servers run in this process, each on its own loopback port and its own
// fresh database, and one load generator drives them alternately, round
// after round, with the same requests:
//
//   - raw: a bare net/http handler that decodes the event and, group-committed
//     by one writer (many requests in one transaction, each answered after
//     the commit), writes an idempotency row, an event row and a ledger row and
//     updates the advocate's balance — the least any durable, idempotent
//     ingestion can do, on SQLite (WAL, synchronous=FULL) or PostgreSQL
//     (synchronous_commit=on as configured by the server).
//   - parrain: the real app.Main (routes, API key, ingestion with
//     attribution, fraud scoring, rewards, ledger, notices and webhooks, and
//     the job runner running beside it) on a program with a signup reward
//     and a first-purchase reward, advocates each referring new friends.
//
// Every request is a new friend (signup events) or a guest checkout of a new
// friend (purchase events) with its own Idempotency-Key, credited by
// referral code to one of -advocates advocates. A request that is not
// answered 201 fails the run: it never measures an error path.
//
// The PostgreSQL databases are throw-away schemas in the database named by
// -pg (or PARRAIN_TEST_POSTGRES_URL), dropped at the end; SQLite files live
// in a temporary directory, removed at the end.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime/pprof"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/parrainhq/parrain/internal/access"
	"github.com/parrainhq/parrain/internal/app"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/program"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/store"
)

type options struct {
	dbs       []string
	pgURL     string
	clients   []int
	seconds   time.Duration
	rounds    int
	event     string
	advocates int
	json      bool
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("parrain-ingestbench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	dbs := fs.String("db", "sqlite", "databases, comma-separated: sqlite, postgres")
	fs.StringVar(&o.pgURL, "pg", env("PARRAIN_TEST_POSTGRES_URL", "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"), "PostgreSQL database in which throw-away schemas are made (PARRAIN_TEST_POSTGRES_URL)")
	clients := fs.String("clients", "64,1", "concurrent clients, comma-separated")
	fs.DurationVar(&o.seconds, "duration", 10*time.Second, "length of each round of each side")
	fs.IntVar(&o.rounds, "rounds", 3, "rounds per database and client count (baseline and product alternate); medians are reported")
	fs.StringVar(&o.event, "event", "signup", "event type sent: signup or purchase (guest checkout of a new referred friend)")
	fs.IntVar(&o.advocates, "advocates", 200, "advocates the friends are credited to, round robin")
	fs.BoolVar(&o.json, "json", false, "print one JSON object per measurement instead of the table")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the whole run (both servers and the load) to this file")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	o.dbs = strings.Split(*dbs, ",")
	for _, c := range strings.Split(*clients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(c))
		if err != nil || n < 1 || n > 512 {
			fmt.Fprintf(stderr, "parrain-ingestbench: -clients: %q is not a number from 1 to 512\n", c)
			return 2
		}
		o.clients = append(o.clients, n)
	}
	if o.event != "signup" && o.event != "purchase" {
		fmt.Fprintf(stderr, "parrain-ingestbench: -event must be signup or purchase\n")
		return 2
	}
	if o.rounds < 1 || o.advocates < 1 || o.seconds <= 0 {
		fmt.Fprintf(stderr, "parrain-ingestbench: -rounds, -advocates and -duration must be positive\n")
		return 2
	}
	for _, d := range o.dbs {
		if d != "sqlite" && d != "postgres" {
			fmt.Fprintf(stderr, "parrain-ingestbench: unknown database %q\n", d)
			return 2
		}
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			fmt.Fprintln(stderr, "parrain-ingestbench:", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintln(stderr, "parrain-ingestbench:", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	tmp, err := os.MkdirTemp("", "parrain-ingestbench-")
	if err != nil {
		fmt.Fprintln(stderr, "parrain-ingestbench:", err)
		return 1
	}
	defer os.RemoveAll(tmp)
	var rows []result
	for _, d := range o.dbs {
		r, err := benchDB(context.Background(), o, d, tmp, stderr)
		rows = append(rows, r...)
		if err != nil {
			fmt.Fprintf(stderr, "parrain-ingestbench: %s: %v\n", d, err)
			return 1
		}
	}
	if o.json {
		enc := json.NewEncoder(stdout)
		for _, r := range rows {
			_ = enc.Encode(r)
		}
		return 0
	}
	printTable(stdout, o, rows)
	return 0
}

func env(k, def string) string {
	if v := os.Getenv(k); v != "" {
		return v
	}
	return def
}

// result is one side of one round.
type result struct {
	Path     string  `json:"path"`
	Database string  `json:"database"`
	Clients  int     `json:"clients"`
	Side     string  `json:"side"` // raw or parrain
	Round    int     `json:"round"`
	Requests int     `json:"requests"`
	ReqPerS  float64 `json:"req_per_s"`
	P50ms    float64 `json:"p50_ms"`
	P99ms    float64 `json:"p99_ms"`
}

// target is one server to load: its events URL and how to make a request.
type target struct {
	url     string
	key     string
	codes   []string
	counter *atomic.Int64 // unique friend numbers, shared by both sides
}

func benchDB(ctx context.Context, o options, db, tmp string, logw io.Writer) ([]result, error) {
	var rawDSN, appDSN string
	var cleanup []func()
	defer func() {
		for _, f := range slices.Backward(cleanup) {
			f()
		}
	}()
	switch db {
	case "sqlite":
		rawDSN = tmp + "/raw.db"
		appDSN = tmp + "/parrain.db"
	case "postgres":
		for _, dst := range []*string{&rawDSN, &appDSN} {
			u, drop, err := pgSchema(ctx, o.pgURL)
			if err != nil {
				return nil, err
			}
			cleanup = append(cleanup, drop)
			*dst = u
		}
	}
	raw, err := startRaw(ctx, db, rawDSN)
	if err != nil {
		return nil, fmt.Errorf("raw server: %w", err)
	}
	cleanup = append(cleanup, raw.close)
	prod, err := startParrain(ctx, appDSN, o.advocates)
	if err != nil {
		return nil, fmt.Errorf("parrain server: %w", err)
	}
	cleanup = append(cleanup, prod.close)
	var counter atomic.Int64
	rawT := target{url: raw.url, key: "raw", codes: prod.codes, counter: &counter}
	prodT := target{url: prod.url, key: prod.key, codes: prod.codes, counter: &counter}

	var out []result
	path := "events/" + o.event
	for _, c := range o.clients {
		for round := 1; round <= o.rounds; round++ {
			for _, side := range []struct {
				name string
				t    target
			}{{"raw", rawT}, {"parrain", prodT}} {
				r, err := load(ctx, side.t, o.event, c, o.seconds)
				if err != nil {
					return out, fmt.Errorf("%s, %d clients, round %d: %w", side.name, c, round, err)
				}
				r.Path, r.Database, r.Clients, r.Side, r.Round = path, db, c, side.name, round
				fmt.Fprintf(logw, "%s %s %d clients round %d %-7s %8.0f req/s  p50 %6.2f ms  p99 %7.2f ms\n",
					db, path, c, round, side.name, r.ReqPerS, r.P50ms, r.P99ms)
				out = append(out, r)
			}
		}
	}
	return out, nil
}

// load sends events from clients goroutines for d and measures them.
func load(ctx context.Context, t target, event string, clients int, d time.Duration) (result, error) {
	tr := &http.Transport{MaxIdleConnsPerHost: clients, MaxConnsPerHost: clients, DisableCompression: true}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	deadline := time.Now().Add(d)
	var (
		mu    sync.Mutex
		lat   []time.Duration
		first error
		wg    sync.WaitGroup
	)
	start := time.Now()
	for range clients {
		wg.Go(func() {
			var mine []time.Duration
			for time.Now().Before(deadline) {
				n := t.counter.Add(1)
				code := t.codes[int(n)%len(t.codes)]
				ns := strconv.FormatInt(n, 10)
				body := `{"type":"signup","external_id":"friend_` + ns + `","email":"friend` + ns + `@mail.example","referral_code":"` + code + `"}`
				if event == "purchase" {
					body = `{"type":"purchase","external_id":"friend_` + ns + `","email":"friend` + ns + `@mail.example","referral_code":"` + code +
						`","order_id":"order_` + ns + `","amount":5000,"currency":"EUR"}`
				}
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, t.url, strings.NewReader(body))
				if err != nil {
					mu.Lock()
					first = cmpOr(first, err)
					mu.Unlock()
					return
				}
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+t.key)
				req.Header.Set("Idempotency-Key", "bench-"+ns)
				t0 := time.Now()
				resp, err := hc.Do(req)
				if err == nil {
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if resp.StatusCode != http.StatusCreated {
						err = fmt.Errorf("status %d, want 201: %s", resp.StatusCode, bytes.TrimSpace(b))
					}
				}
				if err != nil {
					mu.Lock()
					first = cmpOr(first, err)
					mu.Unlock()
					return
				}
				mine = append(mine, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, mine...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if first != nil {
		return result{}, first
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	pct := func(p float64) float64 {
		if len(lat) == 0 {
			return 0
		}
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	return result{Requests: len(lat), ReqPerS: float64(len(lat)) / elapsed.Seconds(), P50ms: pct(0.50), P99ms: pct(0.99)}, nil
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// pgSchema makes a throw-away schema in the database of base and returns a
// URL whose search_path selects it, and a function that drops it.
func pgSchema(ctx context.Context, base string) (string, func(), error) {
	db, err := sql.Open("pgx", base)
	if err != nil {
		return "", nil, err
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "ingestbench_" + hex.EncodeToString(b)
	if _, err := db.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		db.Close()
		return "", nil, fmt.Errorf("creating schema (is PostgreSQL reachable at %s?): %w", base, err)
	}
	u, err := url.Parse(base)
	if err != nil {
		db.Close()
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), func() {
		_, _ = db.ExecContext(context.Background(), `DROP SCHEMA `+schema+` CASCADE`)
		db.Close()
	}, nil
}

type server struct {
	url   string
	key   string
	codes []string
	close func()
}

// startParrain runs the real app.Main on dsn (HTTP and job runner) with a
// program, advocates and an API key.
func startParrain(ctx context.Context, dsn string, advocates int) (*server, error) {
	cfg := app.Config{
		Addr:          "127.0.0.1:0",
		DatabaseURL:   dsn,
		BaseURL:       "http://localhost",
		FallbackURL:   "https://example.com/",
		JobInterval:   time.Second,
		PublicRate:    1e9,
		PublicBurst:   1e9,
		ShutdownGrace: 5 * time.Second,
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	m, err := app.New(ctx, cfg, log, parrain.SystemClock{})
	if err != nil {
		return nil, err
	}
	st := m.Store()
	p, _, err := program.New(st).Create(ctx, parrain.Program{
		Name: "Ingest bench", LandingURL: "https://shop.example/join", Currency: "EUR",
		Rules: []parrain.RewardRule{
			{ID: "signup", Trigger: parrain.TriggerSignup,
				Advocate: &parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountFixed, Amount: 500}},
			{ID: "purchase", Trigger: parrain.TriggerPurchase,
				Friend: &parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountFixed, Amount: 1000}},
		},
	}, store.Idem{})
	if err != nil {
		m.Close()
		return nil, err
	}
	var codes []string
	for i := range advocates {
		adv, _, err := referral.New(st).UpsertParticipant(ctx, p.ID, parrain.ParticipantInput{
			ExternalID: fmt.Sprintf("advocate_%d", i), Email: fmt.Sprintf("advocate%d@example.com", i)}, store.Idem{})
		if err != nil {
			m.Close()
			return nil, err
		}
		codes = append(codes, adv.Code)
	}
	key, _, err := access.New(st, nil, access.Config{}).CreateAPIKey(ctx, "bench", nil, "")
	if err != nil {
		m.Close()
		return nil, err
	}
	if err := m.Listen(); err != nil {
		m.Close()
		return nil, err
	}
	rctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(rctx) }()
	return &server{url: "http://" + m.Addr() + "/api/v1/programs/" + p.ID + "/events", key: key, codes: codes,
		close: func() { cancel(); <-done; m.Close() }}, nil
}

func printTable(w io.Writer, o options, rows []result) {
	type key struct {
		path, db string
		clients  int
	}
	med := map[key]map[string][]result{}
	var order []key
	for _, r := range rows {
		k := key{r.Path, r.Database, r.Clients}
		if med[k] == nil {
			med[k] = map[string][]result{}
			order = append(order, k)
		}
		med[k][r.Side] = append(med[k][r.Side], r)
	}
	fmt.Fprintf(w, "\nmedians of %d rounds of %s each, alternating raw and parrain\n\n", o.rounds, o.seconds)
	fmt.Fprintln(w, "| path | database | clients | raw req/s | raw p50 / p99 ms | parrain req/s | parrain p50 / p99 ms | ratio |")
	fmt.Fprintln(w, "|---|---|---:|---:|---:|---:|---:|---:|")
	for _, k := range order {
		r, p := median(med[k]["raw"]), median(med[k]["parrain"])
		ratio := 0.0
		if r.ReqPerS > 0 {
			ratio = p.ReqPerS / r.ReqPerS
		}
		fmt.Fprintf(w, "| %s | %s | %d | %.0f | %.2f / %.2f | %.0f | %.2f / %.2f | %.3f× |\n",
			k.path, k.db, k.clients, r.ReqPerS, r.P50ms, r.P99ms, p.ReqPerS, p.P50ms, p.P99ms, ratio)
	}
}

// median returns, field by field, the median of the rounds.
func median(rs []result) result {
	if len(rs) == 0 {
		return result{}
	}
	m := func(f func(result) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = f(r)
		}
		sort.Float64s(v)
		return v[len(v)/2]
	}
	return result{ReqPerS: m(func(r result) float64 { return r.ReqPerS }),
		P50ms: m(func(r result) float64 { return r.P50ms }), P99ms: m(func(r result) float64 { return r.P99ms })}
}

// listen serves h on a free loopback port.
func listen(h http.Handler) (string, func(), error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return "http://" + ln.Addr().String(), func() { _ = srv.Close() }, nil
}
