// Command parrain-fraudgen measures Parrain's fraud checks on labelled
// traffic written from the public documentation only (package
// e2e/fraudgen): it builds and starts the parrain binary on a temporary
// SQLite database, drives it over HTTP (clicks on /r/{code} directly and
// through a trusted reverse proxy, signups with the cookie only and with
// code and cookie, purchases, refunds, activity), reads every referral's
// decision back through the API and prints the per-scenario table.
//
//	go run ./cmd/parrain-fraudgen                 # the CI run (seed 1, scale 1)
//	go run ./cmd/parrain-fraudgen -scale 5 -seed 7
//	go run ./cmd/parrain-fraudgen -bin ./parrain  # an already built binary
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"github.com/parrainhq/parrain/e2e/fraudgen"
)

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("parrain-fraudgen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	seed := fs.Uint64("seed", 1, "seed of the generated traffic")
	scale := fs.Int("scale", 1, "instances per scenario × scale")
	workers := fs.Int("workers", 4, "instances driven concurrently")
	dump := fs.Bool("referrals", false, "also print every referral: scenario, arrival, decision, score, whether a click was linked, signals")
	bin := fs.String("bin", "", "parrain binary (default: go build ./cmd/parrain of this module)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "parrain-fraudgen: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	if *scale < 1 || *workers < 1 {
		fmt.Fprintln(stderr, "parrain-fraudgen: -scale and -workers must be at least 1")
		return 2
	}
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "parrain-fraudgen")
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	if *bin == "" {
		root, err := exec.Command("go", "env", "GOMOD").Output()
		if err != nil || strings.TrimSpace(string(root)) == "" {
			fmt.Fprintln(stderr, "run inside the parrain module, or pass -bin")
			return 1
		}
		if *bin, err = fraudgen.Build(ctx, filepath.Dir(strings.TrimSpace(string(root))), dir); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
	}
	srv, err := fraudgen.Start(ctx, *bin, filepath.Join(dir, "fraudgen.db"))
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	defer srv.Stop()
	rep, err := fraudgen.Run(ctx, srv.Target, fraudgen.Config{Seed: *seed, Scale: *scale, Workers: *workers})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	fmt.Fprint(stdout, rep.Table())
	if *dump {
		printReferrals(stdout, rep.Referrals)
	}
	return 0
}

// printReferrals prints one line per referral: scenario, arrival, decision,
// score, whether a click was linked, the friend and the signals.
func printReferrals(w io.Writer, refs []fraudgen.Referral) {
	for _, r := range refs {
		fmt.Fprintf(w, "%-22s %-20s %-7s %3d clicked=%-5v %s %v\n", r.Scenario, r.Arrival, r.Decision, r.Outcome.RiskScore,
			r.Outcome.ClickedAt != "", r.Outcome.Friend, r.Signals)
	}
}
