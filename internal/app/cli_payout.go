package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"text/tabwriter"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/payout"
	"github.com/parrainhq/parrain/internal/store"
)

// payoutCmd runs `parrain payout run|export|import`: a payout run from the
// command line (a cron-driven alternative to the built-in schedule), and the
// bank transfer CSV. Sending is done by the server's job runner.
func payoutCmd(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("payout: expected run, export or import")
	}
	fs := flag.NewFlagSet("payout "+args[0], flag.ContinueOnError)
	db := dbFlag(fs)
	program := fs.String("program", "", "program id (required)")
	batch := fs.String("batch", "", "payout batch id (export, import)")
	approve := fs.Bool("approve", false, "approve the batch at once (run): the server sends it")
	out := fs.String("out", "", "write the CSV to this file instead of stdout (export)")
	pos, err := parseInterspersed(fs, args[1:])
	if err != nil {
		return err
	}
	if *program == "" {
		return errors.New("payout: --program is required")
	}
	st, err := openExisting(ctx, *db, stderr)
	if err != nil {
		return err
	}
	defer st.Close()
	svc := payout.New(st, slog.New(slog.DiscardHandler), payout.Config{})
	switch args[0] {
	case "run":
		b, _, err := svc.CreatePayoutBatch(ctx, *program, store.Idem{})
		if err != nil {
			return err
		}
		if *approve && b.Status == parrain.BatchPendingApproval {
			if b, err = svc.ApprovePayoutBatch(ctx, *program, b.ID, "cli"); err != nil {
				return err
			}
		}
		fmt.Fprintf(stdout, "batch %s: %s, %d payouts, totals %v\n", b.ID, b.Status, b.PayoutCount, b.Totals)
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "PARTICIPANT\tMETHOD\tDESTINATION\tAMOUNT\tSTATUS")
		for _, p := range b.Payouts {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s %s\t%s\n", p.ExternalID, p.Method, p.Destination, parrain.FormatMinor(p.Amount, p.Currency), p.Currency, p.Status)
		}
		for _, s := range b.Skipped {
			fmt.Fprintf(tw, "%s\t-\t-\t%s %s\tskipped: %s\n", s.ExternalID, parrain.FormatMinor(s.Amount, s.Currency), s.Currency, s.Reason)
		}
		return tw.Flush()
	case "export":
		rows, err := svc.BatchBankPayouts(ctx, *program, *batch)
		if err != nil {
			return err
		}
		w := stdout
		if *out != "" {
			f, err := os.OpenFile(*out, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600) // bank details: owner only
			if err != nil {
				return err
			}
			defer f.Close()
			w = f
		}
		return payout.WriteCSV(w, rows)
	case "import":
		if len(pos) != 1 {
			return errors.New("payout import: expected a CSV file (or - for stdin)")
		}
		in := stdin
		if pos[0] != "-" {
			f, err := os.Open(pos[0])
			if err != nil {
				return err
			}
			defer f.Close()
			in = f
		}
		rows, err := payout.ParseImport(in)
		if err != nil {
			return err
		}
		res, err := svc.Import(ctx, *program, *batch, rows)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "LINE\tPAYOUT\tRESULT\tERROR")
		for _, r := range res {
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\n", r.Line, r.PayoutID, r.Result, r.Error)
		}
		return tw.Flush()
	}
	return fmt.Errorf("payout: unknown subcommand %q", args[0])
}

// parseInterspersed parses flags placed before or after positional
// arguments and returns the positional ones.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}
