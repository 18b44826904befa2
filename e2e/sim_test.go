package e2e

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/integration/stripe/stripemock"
)

// TestLedgerSimulation is a randomized model check of the ledger and of
// payouts (issue 12). A seeded driver generates a list of steps — program
// versions, clicks, signups, purchases in three currencies, partial and full
// refunds, cancellations, stages and contract changes, maturation by the
// approval job, review decisions, payout runs, approvals and rejections,
// provider refusals and lost answers, SIGKILLs of a server, replayed and
// concurrent duplicate events — and runs them one by one against the real
// binary: one server on SQLite, two servers on one PostgreSQL database.
// After every step it reads the whole program back through the API and
// checks it against a model built from the acknowledged answers (see
// model.check). A failure is shrunk by delta debugging on fresh databases
// and reported with its seed and the shortest step list found.
//
// CI runs three fixed seeds from 8 (seed 8, on the code before the fix of
// issue 12, pays a clawed-back reward at step 25) for 80 steps each per
// database; PARRAIN_SIM_SEEDS=N sets how many. PARRAIN_SIM_SECONDS=N
// runs successive seeds for N seconds per database, PARRAIN_SIM_SEED=S
// starts from (replays) seed S, PARRAIN_SIM_STEPS=K sets the steps per seed,
// PARRAIN_SIM_SHRINK_SECONDS bounds the shrinking of a failure (default 180).
func TestLedgerSimulation(t *testing.T) {
	cfg := simConfig{seed: 8, seeds: 3, steps: 80, shrink: 3 * time.Minute}
	if v := os.Getenv("PARRAIN_SIM_SEEDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			t.Fatalf("PARRAIN_SIM_SEEDS=%q: want a positive number", v)
		}
		cfg.seeds = n
	}
	if v := os.Getenv("PARRAIN_SIM_SECONDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			t.Fatalf("PARRAIN_SIM_SECONDS=%q: want a positive number of seconds", v)
		}
		cfg.duration, cfg.steps = time.Duration(n)*time.Second, 200
	}
	if v := os.Getenv("PARRAIN_SIM_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			t.Fatalf("PARRAIN_SIM_SEED=%q: %v", v, err)
		}
		cfg.seed = n
	}
	if v := os.Getenv("PARRAIN_SIM_STEPS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			t.Fatalf("PARRAIN_SIM_STEPS=%q: want a positive number", v)
		}
		cfg.steps = n
	}
	if v := os.Getenv("PARRAIN_SIM_SHRINK_SECONDS"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			t.Fatalf("PARRAIN_SIM_SHRINK_SECONDS=%q: want a number of seconds", v)
		}
		cfg.shrink = time.Duration(n) * time.Second
	}
	mock := stripemock.Start(t)
	for _, engine := range dbtest.Engines {
		t.Run(engine, func(t *testing.T) {
			began := time.Now()
			seeds, steps, checks := 0, 0, 0
			for seed := cfg.seed; ; seed++ {
				list := generate(seed, cfg.steps)
				res := simulate(t, engine, mock, list)
				seeds++
				steps += res.steps
				checks += res.checks
				if res.failure != nil {
					reportFailure(t, engine, mock, cfg, seed, list, res)
					break
				}
				if cfg.duration == 0 && seeds >= cfg.seeds || cfg.duration > 0 && time.Since(began) > cfg.duration {
					break
				}
			}
			line := fmt.Sprintf("ledger simulation on %s: %d seed(s) from %d, %d steps, %d invariant checks, %s",
				engine, seeds, cfg.seed, steps, checks, time.Since(began).Round(time.Millisecond))
			t.Log(line)
			fmt.Println(line)
		})
	}
}

// verbose logs every step (PARRAIN_SIM_VERBOSE=1).
var verbose = os.Getenv("PARRAIN_SIM_VERBOSE") == "1"

type simConfig struct {
	seed     uint64
	seeds    int // seeds run one after another when duration is zero
	steps    int
	duration time.Duration
	shrink   time.Duration
}

// simFailure is a violated invariant (or a server error) at one step.
type simFailure struct {
	step       int
	violations []string
}

type simResult struct {
	steps, checks int
	failure       *simFailure
}

func reportFailure(t *testing.T, engine, mock string, cfg simConfig, seed uint64, list []simStep, res simResult) {
	t.Helper()
	f := res.failure
	// Steps after the failing one cannot matter.
	list = list[:f.step+1]
	deadline := time.Now().Add(cfg.shrink)
	runs := 0
	shrunk := ddmin(list, func(l []simStep) bool {
		runs++
		return simulate(t, engine, mock, l).failure != nil
	}, func() bool { return time.Now().Before(deadline) })
	final := simulate(t, engine, mock, shrunk)
	var b strings.Builder
	fmt.Fprintf(&b, "ledger simulation failed on %s, seed %d, at step %d of %d:\n", engine, seed, f.step+1, cfg.steps)
	for _, v := range f.violations {
		fmt.Fprintf(&b, "  %s\n", v)
	}
	fmt.Fprintf(&b, "replay: PARRAIN_SIM_SEED=%d PARRAIN_SIM_STEPS=%d go test -count=1 -run 'TestLedgerSimulation/%s' -v ./e2e\n", seed, cfg.steps, engine)
	fmt.Fprintf(&b, "shortest failing step list found (%d steps, %d shrink runs):\n", len(shrunk), runs)
	for i, s := range shrunk {
		fmt.Fprintf(&b, "  %2d. %s\n", i+1, s)
	}
	if final.failure != nil {
		b.WriteString("which fails with:\n")
		for _, v := range final.failure.violations {
			fmt.Fprintf(&b, "  %s\n", v)
		}
	} else {
		b.WriteString("(the shortened list did not fail again on its last run: timing-dependent)\n")
	}
	fmt.Print(b.String())
	t.Error(b.String())
}

// ---- the provider: stripe-mock behind a stateful, fault-injecting proxy ----

// transfer is one transfer the provider made.
type transfer struct {
	id       string
	amount   int64
	currency string
	made     int
}

// faultStripe sits in front of stripe-mock like Stripe's edge: it keeps
// the answer to each Idempotency-Key (a retry gets it back), answers a
// concurrent request with the same key 409 idempotency_key_in_use, counts
// the transfers made per key, and on demand refuses the next transfer
// (account_invalid, nothing made) or loses the answers to it after making
// it (what a timeout looks like to the caller).
type faultStripe struct {
	*httptest.Server
	upstream string
	mu       sync.Mutex
	answers  map[string][]byte
	made     map[string]*transfer
	inflight map[string]bool
	refuse   int
	lose     int
	loseKey  string
}

func newFaultStripe(t *testing.T, upstream string) *faultStripe {
	f := &faultStripe{upstream: upstream, answers: map[string][]byte{}, made: map[string]*transfer{}, inflight: map[string]bool{}}
	f.Server = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.Close)
	return f
}

func stripeError(w http.ResponseWriter, status int, typ, code, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]any{"error": map[string]any{"type": typ, "code": code, "message": msg}})
	_, _ = w.Write(b)
}

func (f *faultStripe) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	key := r.Header.Get("Idempotency-Key")
	isTransfer := r.Method == http.MethodPost && r.URL.Path == "/v1/transfers"
	if isTransfer {
		f.mu.Lock()
		if ans, ok := f.answers[key]; ok {
			lost := f.lose > 0 && f.loseKey == key
			if lost {
				f.lose--
			}
			f.mu.Unlock()
			if lost {
				http.Error(w, "upstream timeout", http.StatusGatewayTimeout)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Idempotent-Replayed", "true")
			_, _ = w.Write(ans)
			return
		}
		if f.inflight[key] {
			f.mu.Unlock()
			stripeError(w, http.StatusConflict, "invalid_request_error", "idempotency_key_in_use", "a request with this key is in progress")
			return
		}
		if f.refuse > 0 {
			f.refuse--
			f.mu.Unlock()
			stripeError(w, http.StatusBadRequest, "invalid_request_error", "account_invalid", "simulated refusal")
			return
		}
		f.inflight[key] = true
		f.mu.Unlock()
		defer func() { f.mu.Lock(); delete(f.inflight, key); f.mu.Unlock() }()
	}
	req, _ := http.NewRequest(r.Method, f.upstream+r.URL.RequestURI(), bytes.NewReader(body))
	req.Header = r.Header.Clone()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer res.Body.Close()
	ans, _ := io.ReadAll(res.Body)
	if isTransfer && res.StatusCode == http.StatusOK {
		form, _ := url.ParseQuery(string(body))
		var tr struct {
			ID string `json:"id"`
		}
		_ = json.Unmarshal(ans, &tr)
		amount, _ := strconv.ParseInt(form.Get("amount"), 10, 64)
		f.mu.Lock()
		f.answers[key] = ans
		if f.made[key] == nil {
			f.made[key] = &transfer{id: tr.ID, amount: amount, currency: form.Get("currency")}
		}
		f.made[key].made++
		lost := false
		if f.lose > 0 && f.loseKey == "" {
			f.loseKey, lost = key, true
			f.lose--
		}
		f.mu.Unlock()
		if lost {
			http.Error(w, "upstream timeout", http.StatusGatewayTimeout)
			return
		}
	}
	w.Header().Set("Content-Type", res.Header.Get("Content-Type"))
	w.WriteHeader(res.StatusCode)
	_, _ = w.Write(ans)
}

func (f *faultStripe) fault(kind int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if kind == 0 {
		f.refuse = 1
	} else {
		f.lose, f.loseKey = 3, ""
	}
}

func (f *faultStripe) transfers() map[string]transfer {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[string]transfer{}
	for k, v := range f.made {
		out[k] = *v
	}
	return out
}

// ---- the driver ----

type simEnv struct {
	t       *testing.T
	db      string
	key     string
	flags   []string
	servers []*server
	stripe  *faultStripe
	prog    string
	http    *http.Client
	m       *model
	refs    map[string]bool // referral ids seen in acknowledged answers
	items   map[string][]payoutItem
}

type answer struct {
	status   int
	replayed bool
	body     map[string]any
	raw      string
}

func (a answer) ok() bool { return a.status >= 200 && a.status < 300 }

func (a answer) str(key string) string { s, _ := a.body[key].(string); return s }

func (e *simEnv) do(via int, method, path, idem string, body any) (answer, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	srv := e.servers[via%len(e.servers)]
	req, _ := http.NewRequest(method, srv.base+path, rd)
	req.Header.Set("Authorization", "Bearer "+e.key)
	if idem != "" {
		req.Header.Set("Idempotency-Key", idem)
	}
	res, err := e.http.Do(req)
	if err != nil {
		return answer{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	a := answer{status: res.StatusCode, replayed: res.Header.Get("Idempotent-Replayed") == "true", raw: string(data)}
	if err := json.Unmarshal(data, &a.body); err != nil {
		return a, fmt.Errorf("%s %s: %d %q", method, path, res.StatusCode, data)
	}
	return a, nil
}

// get decodes a 200 answer into v.
func (e *simEnv) get(path string, v any) error {
	srv := e.servers[0]
	req, _ := http.NewRequest("GET", srv.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+e.key)
	res, err := e.http.Do(req)
	if err != nil {
		return fmt.Errorf("GET %s: %w", path, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		return fmt.Errorf("GET %s: %d %s", path, res.StatusCode, data)
	}
	return json.Unmarshal(data, v)
}

// list reads every page of a list endpoint.
func list[T any](e *simEnv, path string) ([]T, error) {
	var all []T
	cursor := ""
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	for range 100 {
		var page struct {
			Data       []T    `json:"data"`
			NextCursor string `json:"next_cursor"`
		}
		p := path + sep + "limit=200"
		if cursor != "" {
			p += "&cursor=" + url.QueryEscape(cursor)
		}
		if err := e.get(p, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Data...)
		if page.NextCursor == "" {
			return all, nil
		}
		cursor = page.NextCursor
	}
	return nil, fmt.Errorf("%s: too many pages", path)
}

// simulate runs one step list on a fresh database and checks the
// invariants after every step.
func simulate(t *testing.T, engine, mock string, steps []simStep) (res simResult) {
	t.Helper()
	e := &simEnv{t: t, db: dbtest.URL(t, engine), stripe: newFaultStripe(t, mock), http: &http.Client{Timeout: 30 * time.Second},
		m: newModel(), refs: map[string]bool{}, items: map[string][]payoutItem{}}
	e.key = apiKey(t, e.db)
	e.flags = []string{"--job-lease", "2s", "--stripe-secret-key", "sk_test_sim", "--stripe-api-url", e.stripe.URL}
	n := 1
	if engine == "postgres" {
		n = 2 // two processes on one database
	}
	for range n {
		e.servers = append(e.servers, startWith(t, e.db, e.flags...))
	}
	defer func() {
		for _, s := range e.servers {
			s.stop()
		}
	}()
	if err := e.setup(); err != nil {
		res.failure = &simFailure{step: -1, violations: []string{"setup: " + err.Error()}}
		return res
	}
	for i, s := range steps {
		res.steps++
		began := time.Now()
		violations, err := e.step(i, s)
		if verbose {
			t.Logf("step %d: %s (%s)", i+1, s, time.Since(began).Round(time.Millisecond))
		}
		if err != nil {
			violations = append(violations, err.Error())
		}
		if len(violations) == 0 {
			var w *world
			w, err = e.fetch()
			if err == nil {
				res.checks++
				violations = e.m.check(w)
				if len(violations) > 0 {
					// Read again: report only what persists (the jobs run
					// while the world is being read).
					time.Sleep(300 * time.Millisecond)
					if w, err = e.fetch(); err == nil {
						violations = e.m.check(w)
					}
				}
			}
			if err != nil {
				violations = append(violations, err.Error())
			}
		}
		if len(violations) > 0 {
			res.failure = &simFailure{step: i, violations: violations}
			return res
		}
	}
	return res
}

func (e *simEnv) setup() error {
	prog, err := e.do(0, "POST", "/api/v1/programs", "sim-program", e.m.programDoc())
	if err != nil || prog.status != 201 {
		return fmt.Errorf("creating the program: %v %s", err, prog.raw)
	}
	e.prog = "/api/v1/programs/" + prog.str("id")
	for i := range advocates {
		who := fmt.Sprintf("adv%d", i)
		a, err := e.do(0, "PUT", e.prog+"/participants/"+who, "", map[string]any{"email": who + "@advocates.example", "name": "Advocate " + strconv.Itoa(i)})
		if err != nil || !a.ok() {
			return fmt.Errorf("advocate %s: %v %s", who, err, a.raw)
		}
		e.m.codes[who] = a.str("code")
		if i == 2 {
			continue // no payout account: skipped by runs
		}
		acct := fmt.Sprintf("acct_1Sim%dAAAAAAAAAAA", i)
		if r, err := e.do(0, "PUT", e.prog+"/participants/"+who+"/payout-account", "", map[string]any{"method": "stripe", "stripe_account": acct}); err != nil || !r.ok() {
			return fmt.Errorf("payout account of %s: %v %s", who, err, r.raw)
		}
	}
	return nil
}

// step runs one step. It returns violations noticed in the answers
// themselves (a 5xx, disagreeing duplicates, a replay that is not one).
func (e *simEnv) step(i int, s simStep) ([]string, error) {
	m := e.m
	switch s.Kind {
	case stProgram:
		m2 := *m
		m2.hold, m2.bps, m2.capped = holdChoices[s.A%len(holdChoices)], bpsChoices[s.B%len(bpsChoices)], s.C == 1
		a, err := e.do(s.Via, "PUT", e.prog, fmt.Sprintf("prog-%d", i), m2.programDoc())
		if err != nil {
			return nil, err
		}
		if !a.ok() {
			return []string{fmt.Sprintf("PUT program: %d %s", a.status, a.raw)}, nil
		}
		m.hold, m.bps, m.capped = m2.hold, m2.bps, m2.capped
		return nil, nil
	case stClick:
		srv := e.servers[s.Via%len(e.servers)]
		req, _ := http.NewRequest("GET", srv.base+"/r/"+m.codes[fmt.Sprintf("adv%d", s.A%advocates)], nil)
		req.Header.Set("User-Agent", "Mozilla/5.0 (Macintosh) Safari/605")
		c := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		res, err := c.Do(req)
		if err != nil {
			return nil, err
		}
		res.Body.Close()
		if res.StatusCode != 302 {
			return []string{fmt.Sprintf("click: %d", res.StatusCode)}, nil
		}
		return nil, nil
	case stSignup, stPurchase, stRefund, stCancel, stStage, stContract:
		return e.event(i, s)
	case stReplay:
		if len(m.events) == 0 {
			return nil, nil
		}
		ev := m.events[s.A%len(m.events)]
		a, err := e.do(s.Via, "POST", ev.path, ev.key, ev.body)
		if err != nil {
			return nil, err
		}
		if !a.ok() || !a.replayed || a.str("event_id") != ev.eventID || !sameStrings(rewardIDs(a), ev.rewardIDs) {
			return []string{fmt.Sprintf("replay of %s: %d replayed=%v event %s (was %s) rewards %v (were %v)",
				ev.key, a.status, a.replayed, a.str("event_id"), ev.eventID, rewardIDs(a), ev.rewardIDs)}, nil
		}
		return nil, nil
	case stMature:
		return nil, e.mature()
	case stReview:
		return nil, e.review(s)
	case stRun:
		if s.A == 1 {
			if err := e.mature(); err != nil {
				return nil, err
			}
		}
		a, err := e.do(s.Via, "POST", e.prog+"/payout-batches", fmt.Sprintf("run-%d", i), nil)
		if err != nil {
			return nil, err
		}
		if a.status != 201 {
			return []string{fmt.Sprintf("payout run: %d %s", a.status, a.raw)}, nil
		}
		m.batches = append(m.batches, a.str("id"))
		return nil, nil
	case stApprove, stCancelBatch:
		order := m.batches
		if s.Kind == stCancelBatch {
			order = reversed(m.batches)
		}
		for _, id := range order {
			var b struct {
				Status string `json:"status"`
			}
			if err := e.get(e.prog+"/payout-batches/"+id, &b); err != nil {
				return nil, err
			}
			if b.Status != "pending_approval" {
				continue
			}
			verb := map[string]string{stApprove: "approve", stCancelBatch: "cancel"}[s.Kind]
			a, err := e.do(s.Via, "POST", e.prog+"/payout-batches/"+id+"/"+verb, "", nil)
			if err != nil {
				return nil, err
			}
			if !a.ok() {
				return []string{fmt.Sprintf("%s batch %s: %d %s", verb, id, a.status, a.raw)}, nil
			}
			if s.Kind == stApprove {
				e.waitSends(id, 5*time.Second)
			}
			return nil, nil
		}
		return nil, nil
	case stFault:
		e.stripe.fault(s.A)
		return nil, nil
	case stCrash:
		k := s.A % len(e.servers)
		e.servers[k].kill()
		e.servers[k] = startWith(e.t, e.db, e.flags...)
		return nil, nil
	}
	return nil, fmt.Errorf("unknown step %q", s.Kind)
}

// mature waits (bounded) for the approval job to approve what is due:
// until nothing due is left, or nothing more got approved for a while (a
// referral held by the fraud review keeps its rewards pending).
func (e *simEnv) mature() error {
	deadline := time.Now().Add(3 * time.Second)
	last, still := -1, 0
	for time.Now().Before(deadline) && still < 4 {
		rws, err := list[srvRewardHold](e, e.prog+"/rewards?status=pending")
		if err != nil {
			return err
		}
		due := 0
		for _, r := range rws {
			if !r.HoldUntil.After(time.Now()) && r.Review == "" {
				due++
			}
		}
		if due == 0 {
			break
		}
		if due == last {
			still++
		} else {
			last, still = due, 0
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil
}

type srvRewardHold struct {
	ID        string    `json:"id"`
	HoldUntil time.Time `json:"hold_until"`
	Review    string    `json:"review"`
}

// waitSends waits (bounded) until none of a batch's payouts is queued or
// sending: a lost answer leaves one sending until the job's next attempt.
func (e *simEnv) waitSends(batch string, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		var b struct {
			Payouts []srvPayout `json:"payouts"`
		}
		if e.get(e.prog+"/payout-batches/"+batch, &b) != nil {
			return
		}
		open := false
		for _, p := range b.Payouts {
			open = open || p.Status == "queued" || p.Status == "sending"
		}
		if !open {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (e *simEnv) review(s simStep) error {
	m := e.m
	if s.A == 0 {
		rws, err := list[srvReward](e, e.prog+"/rewards?review=waiting")
		if err != nil || len(rws) == 0 {
			return err
		}
		r := rws[len(rws)-1]
		a, err := e.do(s.Via, "POST", e.prog+"/rewards/"+r.ID+"/review", "", map[string]any{"decision": []string{"approve", "reject"}[s.B], "reason": "simulation"})
		if err != nil {
			return err
		}
		if a.ok() && m.rewards[r.ID] != nil {
			m.rewards[r.ID].reviewed = true
			delete(m.lines, r.ReferralID)
		}
		return nil
	}
	var q struct {
		Data []struct {
			Referral struct {
				ID string `json:"id"`
			} `json:"referral"`
		} `json:"data"`
	}
	if err := e.get(e.prog+"/reviews", &q); err != nil || len(q.Data) == 0 {
		return err
	}
	ref := q.Data[len(q.Data)-1].Referral.ID
	a, err := e.do(s.Via, "POST", e.prog+"/referrals/"+ref+"/review", "", map[string]any{"decision": []string{"clear", "reject"}[s.B], "reason": "simulation"})
	if err != nil {
		return err
	}
	if a.ok() {
		for _, r := range m.rewards {
			if r.referral == ref {
				r.reviewed = true
			}
		}
		delete(m.lines, ref)
	}
	return nil
}

// event sends one event (to every process at once when s.Dup) and records
// what its acknowledged answer says into the model.
func (e *simEnv) event(i int, s simStep) ([]string, error) {
	m := e.m
	friend := fmt.Sprintf("f%d", s.A)
	body := map[string]any{"type": s.Kind, "external_id": friend}
	var refund int64
	switch s.Kind {
	case stSignup:
		body["email"] = friend + "@friends.example"
		body["referral_code"] = m.codes[fmt.Sprintf("adv%d", s.B%advocates)]
	case stPurchase:
		body["order_id"], body["amount"], body["currency"] = fmt.Sprintf("o%d", s.B), s.C, s.S
		if s.S == "GBP" && s.C%2 == 0 {
			body["fx_rate"] = "1.17"
		}
	case stRefund:
		delete(body, "external_id")
		body["order_id"] = fmt.Sprintf("o%d", s.A)
		refund = 100
		if o := m.orders[s.A]; o != nil {
			left := o.amount - o.refunded
			refund = left
			if s.B < 1000 {
				refund = max(1, left*int64(s.B)/1000)
			}
			if left == 0 {
				refund = 1 // refused: nothing left
			}
		}
		body["amount"] = refund
	case stStage:
		body["stage"], body["value"], body["currency"] = "closed_won", s.B, "EUR"
	case stContract:
		body["value"], body["currency"] = s.B, "EUR"
	}
	key := fmt.Sprintf("ev-%d", i)
	path := e.prog + "/events"
	var answers []answer
	if s.Dup {
		n := max(2, len(e.servers))
		answers = make([]answer, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for k := range n {
			wg.Go(func() { answers[k], errs[k] = e.do(k, "POST", path, key, body) })
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return nil, err
			}
		}
	} else {
		a, err := e.do(s.Via, "POST", path, key, body)
		if err != nil {
			return nil, err
		}
		answers = []answer{a}
	}
	a := answers[0]
	for _, b := range answers[1:] {
		if b.status != a.status || b.str("event_id") != a.str("event_id") || !sameStrings(rewardIDs(a), rewardIDs(b)) {
			return []string{fmt.Sprintf("concurrent duplicates of %s answered differently: %d %s / %d %s", key, a.status, a.raw, b.status, b.raw)}, nil
		}
	}
	if a.status >= 500 {
		return []string{fmt.Sprintf("%s %s: %d %s", s.Kind, key, a.status, a.raw)}, nil
	}
	if !a.ok() {
		return nil, nil // refused (a refund of nothing left, an unknown order…): nothing to record
	}
	if a.replayed && !s.Dup {
		return []string{fmt.Sprintf("a new key %s was answered as a replay", key)}, nil
	}
	e.record(s, a, refund)
	m.events = append(m.events, mEvent{key: key, path: path, body: body, eventID: a.str("event_id"), rewardIDs: rewardIDs(a)})
	return nil, nil
}

func (e *simEnv) record(s simStep, a answer, refund int64) {
	m := e.m
	friend := fmt.Sprintf("f%d", s.A)
	if ref, ok := a.body["referral"].(map[string]any); ok {
		if id, _ := ref["id"].(string); id != "" {
			e.refs[id] = true
			m.referrals = len(e.refs)
			if s.Kind == stSignup || m.referred[friend] == "" {
				m.referred[friend] = id
			}
		}
	}
	dup, _ := a.body["duplicate"].(bool)
	if s.Kind == stPurchase && !dup {
		m.orders[s.B] = &mOrder{friend: friend, amount: int64(s.C), currency: s.S, acknowledged: true}
	}
	if s.Kind == stRefund {
		if o := m.orders[s.A]; o != nil {
			o.refunded += refund
		}
	}
	if s.Kind == stCancel {
		delete(m.lines, m.referred[friend])
	}
	rws, _ := a.body["rewards"].([]any)
	for _, x := range rws {
		r, _ := x.(map[string]any)
		id, _ := r["id"].(string)
		amount := num(r["amount"])
		mr := &mReward{id: id, amount: amount, want: -1}
		mr.external, _ = r["external_id"].(string)
		mr.rule, _ = r["rule_id"].(string)
		mr.order, _ = r["order_id"].(string)
		mr.referral, _ = r["referral_id"].(string)
		trigger, _ := r["trigger"].(string)
		switch {
		case mr.rule == "buy" && s.Kind == stPurchase:
			rate := ""
			if s.S == "GBP" && s.C%2 == 0 {
				rate = "1.17"
			}
			if base, ok := convert(int64(s.C), s.S, rate); ok {
				mr.want = halfUp(base*m.bps, 10000)
			}
		case mr.rule == "first":
			mr.want = 500
		case mr.rule == "won" && trigger == "stage":
			mr.want = halfUp(int64(s.B)*1500, 10000)
			m.lines[mr.referral] = mr.want
		}
		m.rewards[id] = mr
	}
	if s.Kind == stContract {
		if ref := m.referred[friend]; ref != "" {
			if _, ok := m.lines[ref]; ok {
				m.lines[ref] = halfUp(int64(s.B)*1500, 10000)
			}
		}
	}
	revs, _ := a.body["reversals"].([]any)
	for _, x := range revs {
		r, _ := x.(map[string]any)
		id, _ := r["reward_id"].(string)
		if mr := m.rewards[id]; mr != nil {
			mr.reversedAck += num(r["amount"])
		}
	}
}

func rewardIDs(a answer) []string {
	var ids []string
	rws, _ := a.body["rewards"].([]any)
	for _, x := range rws {
		r, _ := x.(map[string]any)
		id, _ := r["id"].(string)
		ids = append(ids, id)
	}
	return ids
}

func sameStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func reversed[T any](s []T) []T {
	out := make([]T, len(s))
	for i, v := range s {
		out[len(s)-1-i] = v
	}
	return out
}

// fetch reads the program back through the API.
func (e *simEnv) fetch() (*world, error) {
	w := &world{rewards: map[string]*srvReward{}, balances: map[string]map[string]map[string]int64{}, transfers: e.stripe.transfers()}
	rws, err := list[srvReward](e, e.prog+"/rewards")
	if err != nil {
		return nil, err
	}
	people := map[string]bool{}
	for i := range advocates {
		people[fmt.Sprintf("adv%d", i)] = true
	}
	for _, r := range rws {
		var full srvReward
		if err := e.get(e.prog+"/rewards/"+r.ID, &full); err != nil {
			return nil, err
		}
		w.rewards[r.ID] = &full
		people[full.ExternalID] = true
	}
	for who := range people {
		var p struct {
			Stats struct {
				Balances map[string]map[string]int64 `json:"balances"`
			} `json:"stats"`
		}
		if err := e.get(e.prog+"/participants/"+who, &p); err != nil {
			return nil, err
		}
		w.balances[who] = p.Stats.Balances
	}
	// Lists carry no items; a payout's items never change once made.
	payouts, err := list[srvPayout](e, e.prog+"/payouts")
	if err != nil {
		return nil, err
	}
	for _, p := range payouts {
		if _, ok := e.items[p.ID]; !ok {
			var full srvPayout
			if err := e.get(e.prog+"/payouts/"+p.ID, &full); err != nil {
				return nil, err
			}
			e.items[p.ID] = full.Items
		}
		p.Items = e.items[p.ID]
		w.payouts = append(w.payouts, p)
	}
	refs, err := list[struct {
		ID           string `json:"id"`
		Status       string `json:"status"`
		ReviewStatus string `json:"review_status"`
	}](e, e.prog+"/referrals")
	if err != nil {
		return nil, err
	}
	w.referrals = len(refs)
	w.rejected = map[string]bool{}
	for _, r := range refs {
		if r.Status == "rejected" || r.ReviewStatus == "rejected" {
			w.rejected[r.ID] = true
		}
	}
	return w, nil
}
