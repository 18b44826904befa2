package app_test

// Benchmarks of the two hot paths, each reported against a bare baseline
// measured in the same run (see docs/performance.md):
//
//	go test -run XXX -bench . -benchtime 2000x ./internal/app/
//
// Every benchmark has a "baseline" sub-benchmark, measured first, and one
// sub-benchmark per database engine that reports x-baseline: its ns/op
// divided by the baseline's ns/op. Nothing here asserts on time; the only
// checks are on answers (status codes, recorded clicks), so a benchmark that
// silently measures an error path fails instead of looking fast.

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/access"
	"github.com/parrainhq/parrain/internal/referral"

	"github.com/parrainhq/parrain/internal/app"
	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/program"
	"github.com/parrainhq/parrain/internal/store"
)

const benchBrowserUA = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0 Safari/537.36"

// benchFixture is a real Main on a fresh database with one program, one
// advocate and an all-scopes API key.
type benchFixture struct {
	m       *app.Main
	h       http.Handler
	program parrain.Program
	code    string // the advocate's referral code
	key     string // API key secret
}

func newBenchFixture(b *testing.B, dbURL string) *benchFixture {
	b.Helper()
	ctx := context.Background()
	cfg := app.Config{
		Addr:          "127.0.0.1:0",
		DatabaseURL:   dbURL,
		BaseURL:       "http://localhost",
		FallbackURL:   "https://example.com/",
		JobInterval:   time.Second,
		PublicRate:    1e9, // the per-IP limiter must never answer 429 here
		PublicBurst:   1e9,
		ShutdownGrace: time.Second,
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	m, err := app.New(ctx, cfg, log, parrain.SystemClock{})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = m.Close() })
	st := m.Store()
	p, _, err := program.New(st).Create(ctx, parrain.Program{
		Name: "Bench", LandingURL: "https://shop.example/join?utm=bench", Currency: "EUR",
		Rules: []parrain.RewardRule{{ID: "signup", Trigger: parrain.TriggerSignup,
			Advocate: &parrain.RewardSpec{Kind: parrain.KindCash, Type: parrain.AmountFixed, Amount: 500}}},
	}, store.Idem{})
	if err != nil {
		b.Fatal(err)
	}
	adv, _, err := referral.New(st).UpsertParticipant(ctx, p.ID, parrain.ParticipantInput{ExternalID: "advocate", Email: "advocate@example.com"}, store.Idem{})
	if err != nil {
		b.Fatal(err)
	}
	key, _, err := access.New(st, nil, access.Config{}).CreateAPIKey(ctx, "bench", nil, "")
	if err != nil {
		b.Fatal(err)
	}
	return &benchFixture{m: m, h: m.Handler(), program: p, code: adv.Code, key: key}
}

// baselineNs holds the ns/op of a benchmark's baseline sub-benchmark, so
// that the sub-benchmarks after it can report their ratio to it.
type baselineNs struct{ ns float64 }

func (bl *baselineNs) record(b *testing.B) {
	bl.ns = nsPerOp(b)
	b.ReportMetric(1, "x-baseline")
}

func (bl *baselineNs) report(b *testing.B) {
	if bl.ns == 0 {
		b.Logf("no baseline in this run (was the baseline sub-benchmark filtered out by -bench?): x-baseline not reported")
		return
	}
	b.ReportMetric(nsPerOp(b)/bl.ns, "x-baseline")
}

// nsPerOp is the measured time per iteration, once b.Loop has returned
// false.
func nsPerOp(b *testing.B) float64 {
	if b.N == 0 {
		return 0
	}
	return float64(b.Elapsed().Nanoseconds()) / float64(b.N)
}

// BenchmarkRedirect measures GET /r/{code} through the real handler stack
// (request id, security headers, per-IP limiter, code lookup, cookie,
// click queued for the batch writer) against a handler that only answers
// http.Redirect to a fixed URL.
func BenchmarkRedirect(b *testing.B) {
	var bl baselineNs
	const fixedTarget = "https://shop.example/join?utm=bench&ref=ABCDEFG"
	serve := func(b *testing.B, h http.Handler, path, location string) {
		for b.Loop() {
			req := httptest.NewRequest(http.MethodGet, path, nil)
			req.Header.Set("User-Agent", benchBrowserUA)
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			if rec.Code != http.StatusFound {
				b.Fatalf("GET %s: status %d, want 302", path, rec.Code)
			}
			if loc := rec.Header().Get("Location"); loc != location {
				b.Fatalf("GET %s: Location %q, want %q", path, loc, location)
			}
		}
	}

	b.Run("baseline", func(b *testing.B) {
		bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			http.Redirect(w, r, fixedTarget, http.StatusFound)
		})
		serve(b, bare, "/r/ABCDEFG", fixedTarget)
		bl.record(b)
	})

	for _, engine := range dbtest.Engines {
		runEngine(b, engine, func(b *testing.B, dbURL string) {
			f := newBenchFixture(b, dbURL)
			want := "https://shop.example/join?ref=" + f.code + "&utm=bench"
			before, _, err := f.m.Store().ClickCounts(context.Background())
			if err != nil {
				b.Fatal(err)
			}
			serve(b, f.h, "/r/"+f.code, want)
			bl.report(b)
			// Not timed: every redirect must have become a click row. Clicks
			// are written by the background batch writer, so wait for it to
			// catch up; a click dropped by a full buffer is reported, not
			// hidden.
			sent := int64(b.N)
			got := waitClicks(b, f.m.Store(), before+sent) - before
			b.ReportMetric(float64(sent-got), "clicks-dropped")
		})
	}
}

// runEngine runs fn as the sub-benchmark named engine on a fresh database
// of that engine. When the engine is unavailable dbtest skips it; benchmark
// output hides skips unless -v, so the skip is also noted on stderr.
func runEngine(b *testing.B, engine string, fn func(b *testing.B, dbURL string)) {
	started, ready := false, false
	b.Run(engine, func(b *testing.B) {
		started = true
		url := dbtest.URL(b, engine)
		ready = true
		fn(b, url)
	})
	if started && !ready && !b.Failed() {
		fmt.Fprintf(os.Stderr, "NOTE: %s/%s skipped: %s is not reachable (set PARRAIN_TEST_POSTGRES_URL; -v shows why)\n", b.Name(), engine, engine)
	}
}

// waitClicks polls the valid click count until it reaches want or stops
// growing for a second (dropped clicks never arrive), and returns it.
func waitClicks(b *testing.B, st *store.Store, want int64) int64 {
	b.Helper()
	var last int64 = -1
	stale := 0
	for {
		n, _, err := st.ClickCounts(context.Background())
		if err != nil {
			b.Fatal(err)
		}
		if n >= want {
			return n
		}
		if n == last {
			stale++
			if stale >= 10 {
				return n
			}
		} else {
			stale = 0
		}
		last = n
		time.Sleep(100 * time.Millisecond)
	}
}

// BenchmarkIngestEvent measures POST /api/v1/programs/{id}/events (a
// signup credited to the advocate: API key check, idempotency record,
// friend, referral, reward and event rows, one durable transaction)
// against a handler that only decodes the same JSON body and answers 201.
func BenchmarkIngestEvent(b *testing.B) {
	var bl baselineNs
	b.Run("baseline", func(b *testing.B) {
		mux := http.NewServeMux()
		mux.HandleFunc("POST /api/v1/programs/{program_id}/events", func(w http.ResponseWriter, r *http.Request) {
			var ev struct {
				Type         string `json:"type"`
				ExternalID   string `json:"external_id"`
				Email        string `json:"email"`
				ReferralCode string `json:"referral_code"`
			}
			if err := json.NewDecoder(r.Body).Decode(&ev); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusCreated)
			_, _ = io.WriteString(w, `{"type":"`+ev.Type+`","external_id":"`+ev.ExternalID+`"}`)
		})
		benchPostEvents(b, mux, "prog_bench", "key", "ABCDEFG")
		bl.record(b)
	})
	for _, engine := range dbtest.Engines {
		runEngine(b, engine, func(b *testing.B, dbURL string) {
			f := newBenchFixture(b, dbURL)
			benchPostEvents(b, f.h, f.program.ID, f.key, f.code)
			bl.report(b)
		})
	}
}

// benchPostEvents posts one signup per iteration, each with a new friend
// and a new Idempotency-Key (so none is a replay), referred by code.
func benchPostEvents(b *testing.B, h http.Handler, programID, key, code string) {
	path := "/api/v1/programs/" + programID + "/events"
	i := 0
	for b.Loop() {
		i++
		n := strconv.Itoa(i)
		body := `{"type":"signup","external_id":"friend_` + n + `","email":"friend` + n + `@mail.example","referral_code":"` + code + `"}`
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("Idempotency-Key", "bench-"+n)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != http.StatusCreated {
			b.Fatalf("POST %s #%d: status %d, want 201: %s", path, i, rec.Code, rec.Body.String())
		}
	}
}
