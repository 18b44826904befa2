// Command parrain-bench measures Parrain's hot paths against bare baselines
// in one run, on this machine (make bench; docs/performance.md):
//
//	parrain-bench run -parrain bin/parrain [-postgres URL] [-rounds 3] [-duration 10s]
//	parrain-bench baseline-redirect -addr 127.0.0.1:8081 -codes codes.txt
//
// run seeds each database once (1M referral codes by default, kept between
// runs), starts the baselines and `parrain serve`, then loads them with wrk
// in alternating rounds (baseline, product, baseline, product…) and prints
// a table of req/s, p50 and p99 per path and database with the ratio to the
// baseline. It fails only on wrong answers or lost clicks, never on times:
// after every product round it checks that each redirect answered became a
// click within a second, and at the end that none is lost when the server
// is stopped with SIGTERM right after a burst.
//
// Everything listens on 127.0.0.1. PostgreSQL rows need -postgres (or
// PARRAIN_BENCH_POSTGRES_URL): a database of its own, which it fills.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: parrain-bench run|baseline-redirect [flags]")
		os.Exit(2)
	}
	var err error
	switch os.Args[1] {
	case "run":
		err = runCmd(os.Args[2:])
	case "baseline-redirect":
		err = baselineRedirectCmd(os.Args[2:])
	default:
		err = fmt.Errorf("unknown command %q: want run or baseline-redirect", os.Args[1])
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "parrain-bench:", err)
		os.Exit(1)
	}
}

// config is what a run measures and how.
type config struct {
	parrain     string // the parrain binary
	self        string // this binary (it serves the baselines)
	dir         string // where seeded databases and logs are kept
	postgres    string
	sqlite      bool
	codes       int // referral codes in the database
	hot         int // codes the load cycles through
	rounds      int
	duration    time.Duration
	connections int
	threads     int
	paths       []string
	serveArgs   []string
}

func runCmd(args []string) error {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	var c config
	var paths, serveArgs string
	fs.StringVar(&c.parrain, "parrain", "bin/parrain", "the parrain binary to measure")
	fs.StringVar(&c.dir, "dir", filepath.Join(os.TempDir(), "parrain-bench"), "directory of the seeded SQLite databases (kept between runs) and the server logs")
	fs.StringVar(&c.postgres, "postgres", os.Getenv("PARRAIN_BENCH_POSTGRES_URL"), "PostgreSQL URL of a database the bench may fill (PARRAIN_BENCH_POSTGRES_URL); empty: SQLite only")
	fs.BoolVar(&c.sqlite, "sqlite", true, "measure on SQLite")
	fs.IntVar(&c.codes, "codes", 1_000_000, "referral codes in the database")
	fs.IntVar(&c.hot, "hot", 10_000, "distinct codes the load cycles through")
	fs.IntVar(&c.rounds, "rounds", 3, "rounds of each (baseline and product alternate); the table shows medians")
	fs.DurationVar(&c.duration, "duration", 10*time.Second, "length of one round")
	fs.IntVar(&c.connections, "connections", 64, "wrk connections")
	fs.IntVar(&c.threads, "threads", 2, "wrk threads")
	fs.StringVar(&paths, "paths", "redirect", "comma-separated paths to measure: "+strings.Join(pathNames(), ", "))
	fs.StringVar(&serveArgs, "serve-args", "", "extra arguments for parrain serve, space-separated")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if _, err := exec.LookPath("wrk"); err != nil {
		return errors.New("wrk is not installed (Debian: apt-get install -y wrk)")
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	c.self = self
	c.paths = strings.Split(paths, ",")
	c.serveArgs = strings.Fields(serveArgs)
	if c.hot > c.codes {
		c.hot = c.codes
	}
	if err := os.MkdirAll(c.dir, 0o750); err != nil {
		return err
	}
	ctx := context.Background()
	var dbs []database
	if c.sqlite {
		dbs = append(dbs, database{name: "sqlite", dsn: filepath.Join(c.dir, fmt.Sprintf("bench-%d.db", c.codes))})
	}
	if c.postgres != "" {
		dbs = append(dbs, database{name: "postgres", dsn: c.postgres})
	}
	if len(dbs) == 0 {
		return errors.New("no database to measure: -sqlite=false and no -postgres")
	}
	var rows []row
	var failures []string
	for _, db := range dbs {
		for _, name := range c.paths {
			p, ok := benchPaths[name]
			if !ok {
				return fmt.Errorf("unknown path %q: want one of %s", name, strings.Join(pathNames(), ", "))
			}
			fmt.Printf("== %s on %s\n", name, db.name)
			r, fails, err := p(ctx, &c, db)
			if err != nil {
				return fmt.Errorf("%s on %s: %w", name, db.name, err)
			}
			rows = append(rows, r...)
			failures = append(failures, fails...)
		}
	}
	printTable(os.Stdout, &c, rows)
	if len(failures) > 0 {
		for _, f := range failures {
			fmt.Fprintln(os.Stderr, "FAIL:", f)
		}
		return fmt.Errorf("%d check(s) failed", len(failures))
	}
	return nil
}

// database is one database a path is measured on.
type database struct{ name, dsn string }

// A benchPath measures one path on one database: it prepares the data,
// starts its baseline and the product, alternates wrk rounds (runRounds),
// checks the product's answers and effects, and returns its table rows and
// the checks that failed. Ingestion paths add themselves to benchPaths.
type benchPath func(ctx context.Context, c *config, db database) ([]row, []string, error)

var benchPaths = map[string]benchPath{
	"redirect": benchRedirect,
}

func pathNames() []string {
	var out []string
	for k := range benchPaths {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// row is one line of the result table: a path on a database, its baseline
// and the product, medians over the rounds.
type row struct {
	path, db, baseline string
	base, prod         result
	note               string
}

// result is what wrk measured in one round, or the medians of rounds.
type result struct {
	requests int64
	errors   int64 // non-2xx/3xx answers and socket errors
	rps      float64
	p50, p99 time.Duration
}

func printTable(w io.Writer, c *config, rows []row) {
	fmt.Fprintf(w, "\n== %s, %d CPUs, wrk -t%d -c%d, %s rounds ×%d (medians), %d codes in the database, load over %d of them\n",
		time.Now().UTC().Format("2006-01-02T15:04Z"), numCPU(), c.threads, c.connections, c.duration, c.rounds, c.codes, c.hot)
	fmt.Fprintf(w, "%-10s %-9s %-22s %10s %8s %8s %10s %8s %8s %8s %8s\n",
		"path", "db", "baseline", "base r/s", "p50", "p99", "prod r/s", "p50", "p99", "ratio", "p99 ×")
	for _, r := range rows {
		ratio, p99x := 0.0, 0.0
		if r.base.rps > 0 {
			ratio = r.prod.rps / r.base.rps
		}
		if r.base.p99 > 0 {
			p99x = float64(r.prod.p99) / float64(r.base.p99)
		}
		fmt.Fprintf(w, "%-10s %-9s %-22s %10.0f %8s %8s %10.0f %8s %8s %7.2f× %7.2f×\n",
			r.path, r.db, r.baseline, r.base.rps, dur(r.base.p50), dur(r.base.p99), r.prod.rps, dur(r.prod.p50), dur(r.prod.p99), ratio, p99x)
		if r.note != "" {
			fmt.Fprintf(w, "           %s\n", r.note)
		}
	}
}

func dur(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + "ms"
}

func numCPU() int {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return 0
	}
	return strings.Count(string(b), "\nprocessor") + 1
}

// runWrk loads base with script for d and parses wrk's report.
func runWrk(c *config, base, script string, d time.Duration) (result, error) {
	cmd := exec.Command("wrk", "-t", strconv.Itoa(c.threads), "-c", strconv.Itoa(c.connections), "-d", fmt.Sprintf("%ds", int(d.Seconds())),
		"--latency", "-s", script, base)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return result{}, fmt.Errorf("wrk: %w: %s", err, out)
	}
	return parseWrk(string(out))
}

// parseWrk reads the figures of a `wrk --latency` report.
func parseWrk(out string) (result, error) {
	var r result
	for _, line := range strings.Split(out, "\n") {
		f := strings.Fields(line)
		switch {
		case len(f) == 2 && f[0] == "50%":
			r.p50 = parseDur(f[1])
		case len(f) == 2 && f[0] == "99%":
			r.p99 = parseDur(f[1])
		case len(f) >= 2 && f[0] == "Requests/sec:":
			r.rps, _ = strconv.ParseFloat(f[1], 64)
		case len(f) >= 3 && f[1] == "requests" && f[2] == "in":
			r.requests, _ = strconv.ParseInt(f[0], 10, 64)
		case strings.HasPrefix(strings.TrimSpace(line), "Non-2xx or 3xx responses:"):
			n, _ := strconv.ParseInt(f[len(f)-1], 10, 64)
			r.errors += n
		case strings.HasPrefix(strings.TrimSpace(line), "Socket errors:"):
			// Socket errors: connect 0, read 0, write 0, timeout 0
			for i := 2; i+1 < len(f); i += 2 {
				n, _ := strconv.ParseInt(strings.TrimSuffix(f[i+1], ","), 10, 64)
				r.errors += n
			}
		}
	}
	if r.requests == 0 || r.rps == 0 {
		return r, fmt.Errorf("no requests in wrk's report:\n%s", out)
	}
	return r, nil
}

func parseDur(s string) time.Duration {
	for _, u := range []struct {
		suffix string
		unit   time.Duration
	}{{"us", time.Microsecond}, {"ms", time.Millisecond}, {"s", time.Second}, {"m", time.Minute}} {
		if v, ok := strings.CutSuffix(s, u.suffix); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err == nil {
				return time.Duration(f * float64(u.unit))
			}
		}
	}
	return 0
}

// median returns the medians of rounds' figures (requests and errors are
// summed).
func median(rs []result) result {
	var out result
	pick := func(get func(result) float64) float64 {
		v := make([]float64, len(rs))
		for i, r := range rs {
			v[i] = get(r)
		}
		sort.Float64s(v)
		return v[len(v)/2]
	}
	out.rps = pick(func(r result) float64 { return r.rps })
	out.p50 = time.Duration(pick(func(r result) float64 { return float64(r.p50) }))
	out.p99 = time.Duration(pick(func(r result) float64 { return float64(r.p99) }))
	for _, r := range rs {
		out.requests += r.requests
		out.errors += r.errors
	}
	return out
}

// server is a process serving HTTP on a loopback port.
type server struct {
	cmd  *exec.Cmd
	base string
	done chan error
}

// noFollow is an HTTP client that measures redirects, never follows them.
var noFollow = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }, Timeout: 10 * time.Second}

// freePort returns a loopback port nobody listens on.
func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// start runs name with args (the port is given by addrArg, "--addr" or
// "-addr") and waits until health answers.
func start(logPath, health, addrArg, name string, args ...string) (*server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(name, append(args, addrArg, addr)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	s := &server{cmd: cmd, base: "http://" + addr, done: make(chan error, 1)}
	go func() { s.done <- cmd.Wait(); logf.Close() }()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case err := <-s.done:
			s.done <- err
			return nil, fmt.Errorf("%s exited during start-up (%v): see %s", name, err, logPath)
		default:
		}
		resp, err := noFollow.Get(s.base + health)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode < 500 {
				return s, nil
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	s.kill()
	return nil, fmt.Errorf("%s did not answer %s within a minute: see %s", name, health, logPath)
}

// stop sends SIGTERM and waits for the process to exit.
func (s *server) stop() error {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-s.done:
		return err
	case <-time.After(60 * time.Second):
		s.kill()
		return errors.New("did not stop within a minute of SIGTERM")
	}
}

func (s *server) kill() {
	_ = s.cmd.Process.Kill()
	<-s.done
}
