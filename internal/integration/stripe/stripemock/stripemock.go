// Package stripemock runs stripe-mock, Stripe's official API mock, for tests:
// it installs the pinned version once into the user's cache directory with
// `go install`, starts it on loopback ports and stops it when the test ends.
// When it cannot be installed (no network, no module proxy) the test is
// skipped with a visible message.
//
// stripe-mock is stateless: it validates requests against Stripe's OpenAPI
// specification and answers fixtures, so it proves that requests are well
// formed, not that they are deduplicated — that is Parrain's own job.
package stripemock

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"
)

// Version is the stripe-mock release the tests use.
const Version = "v0.203.0"

// Binary returns the path of the stripe-mock binary, installing it first if
// needed, or skips the test.
func Binary(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("PARRAIN_TEST_TOOLS")
	if dir == "" {
		cache, err := os.UserCacheDir()
		if err != nil {
			cache = os.TempDir()
		}
		dir = filepath.Join(cache, "parrain-test-tools", "stripe-mock-"+Version)
	}
	bin := filepath.Join(dir, "stripe-mock")
	if _, err := os.Stat(bin); err == nil {
		return bin
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Skipf("SKIP stripe-mock: cannot create %s: %v", dir, err)
	}
	// Install into a private directory, then rename: concurrent test
	// packages never see a half-written binary.
	tmp, err := os.MkdirTemp(dir, "install-")
	if err != nil {
		t.Skipf("SKIP stripe-mock: %v", err)
	}
	defer os.RemoveAll(tmp)
	cmd := exec.Command("go", "install", "github.com/stripe/stripe-mock@"+Version)
	cmd.Env = append(os.Environ(), "GOBIN="+tmp)
	cmd.Dir = tmp // outside any module
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Run(); err != nil {
		t.Skipf("SKIP stripe-mock: `go install github.com/stripe/stripe-mock@%s` failed (offline?): %v\n%s", Version, err, out.String())
	}
	if err := os.Rename(filepath.Join(tmp, "stripe-mock"), bin); err != nil {
		if _, serr := os.Stat(bin); serr != nil {
			t.Skipf("SKIP stripe-mock: installing: %v", err)
		}
	}
	return bin
}

func freePort(t testing.TB) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Start runs stripe-mock on loopback and returns its HTTP base URL
// ("http://127.0.0.1:P"). It is stopped when the test ends.
func Start(t testing.TB) string {
	t.Helper()
	bin := Binary(t)
	for try := 0; try < 3; try++ {
		httpPort, httpsPort := freePort(t), freePort(t)
		// Both addresses are given: with one alone, stripe-mock also opens
		// the other on every interface.
		cmd := exec.Command(bin, "-http-addr", "127.0.0.1:"+strconv.Itoa(httpPort), "-https-addr", "127.0.0.1:"+strconv.Itoa(httpsPort))
		var log bytes.Buffer
		cmd.Stdout, cmd.Stderr = &log, &log
		if err := cmd.Start(); err != nil {
			t.Fatalf("starting stripe-mock: %v", err)
		}
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		stop := func() {
			_ = cmd.Process.Kill()
			<-done
		}
		base := fmt.Sprintf("http://127.0.0.1:%d", httpPort)
		if ready(base, done) {
			t.Cleanup(stop)
			return base
		}
		stop()
		t.Logf("stripe-mock did not start (attempt %d): %s", try+1, log.String())
	}
	t.Fatal("stripe-mock did not start")
	return ""
}

// ready waits until stripe-mock answers an authenticated request, or exits.
func ready(base string, exited <-chan struct{}) bool {
	client := &http.Client{Timeout: time.Second}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return false
		default:
		}
		req, _ := http.NewRequest(http.MethodGet, base+"/v1/balance", nil)
		req.SetBasicAuth("sk_test_parrain", "")
		if res, err := client.Do(req); err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return true
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

// Proxy sits between Parrain and stripe-mock like Stripe's own edge: it
// keeps the answer to every Idempotency-Key of POST /v1/transfers
// (stripe-mock itself is stateless) and answers a retry with it, counts the
// transfers actually made, and can lose the answer to the next transfer
// after making it — what a network failure or a crash between the provider
// call and the ledger write looks like to Parrain.
type Proxy struct {
	*httptest.Server
	upstream string
	mu       sync.Mutex
	answers  map[string][]byte
	keys     []string
	forms    []url.Values
	created  int
	lose     int
	lostKey  string
	onMade   func()
}

// NewProxy starts a proxy to upstream (a stripe-mock base URL); it is
// closed when the test ends.
func NewProxy(t testing.TB, upstream string) *Proxy {
	p := &Proxy{upstream: upstream, answers: map[string][]byte{}}
	p.Server = httptest.NewServer(http.HandlerFunc(p.serve))
	t.Cleanup(p.Close)
	return p
}

// LoseNext makes the answer to the next transfer made, and to the n-1
// requests that follow with the same key, a 502 — after the transfer is
// made: what the caller sees when the connection drops on the way back.
func (p *Proxy) LoseNext(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.lose, p.lostKey = n, ""
}

// OnTransferMade calls f after each new transfer is made and before its
// answer is sent (for crash tests: f may kill the caller).
func (p *Proxy) OnTransferMade(f func()) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.onMade = f
}

// Keys returns the Idempotency-Key of every transfer request, in order.
func (p *Proxy) Keys() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.keys...)
}

// Forms returns the form of every transfer request, in order.
func (p *Proxy) Forms() []url.Values {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]url.Values(nil), p.forms...)
}

// Created returns how many transfers were actually made (new keys).
func (p *Proxy) Created() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.created
}

func (p *Proxy) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	key := r.Header.Get("Idempotency-Key")
	transfer := r.Method == http.MethodPost && r.URL.Path == "/v1/transfers"
	if transfer {
		p.mu.Lock()
		p.keys = append(p.keys, key)
		f, _ := url.ParseQuery(string(body))
		p.forms = append(p.forms, f)
		ans, ok := p.answers[key]
		lose := ok && p.lose > 0 && key == p.lostKey
		if lose {
			p.lose--
		}
		p.mu.Unlock()
		if lose {
			http.Error(w, "upstream connection reset", http.StatusBadGateway)
			return
		}
		if ok {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Idempotent-Replayed", "true")
			_, _ = w.Write(ans)
			return
		}
	}
	req, _ := http.NewRequest(r.Method, p.upstream+r.URL.RequestURI(), bytes.NewReader(body))
	req.Header = r.Header.Clone()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer res.Body.Close()
	ans, _ := io.ReadAll(res.Body)
	lose := false
	var onMade func()
	if transfer && res.StatusCode == http.StatusOK {
		p.mu.Lock()
		p.answers[key] = ans
		p.created++
		if p.lose > 0 && p.lostKey == "" {
			lose, p.lostKey = true, key
			p.lose--
		}
		onMade = p.onMade
		p.mu.Unlock()
	}
	if onMade != nil {
		onMade()
	}
	if lose {
		http.Error(w, "upstream connection reset", http.StatusBadGateway)
		return
	}
	w.Header().Set("Content-Type", res.Header.Get("Content-Type"))
	w.WriteHeader(res.StatusCode)
	_, _ = w.Write(ans)
}
