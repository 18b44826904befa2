package payout_test

import (
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/integration/smtp"
	"github.com/parrainhq/parrain/internal/integration/smtp/smtptest"
	"github.com/parrainhq/parrain/internal/jobs"
	"github.com/parrainhq/parrain/internal/notify"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/payout"
	"github.com/parrainhq/parrain/internal/referral"
	"github.com/parrainhq/parrain/internal/store"
)

// TestCoolingOff (issue 13, item 6): a stolen 24-hour widget token that
// changes the IBAN does not redirect the next run's money: the run skips
// the advocate and says why until the cooling-off period has passed, and
// the advocate is told by email (a real SMTP server), even after
// unsubscribing from the program's emails. The first account ever set is
// not held.
func TestCoolingOff(t *testing.T) {
	each(t, func(t *testing.T, e *uc) {
		srv := smtptest.Start(t, smtptest.Options{})
		mailer, err := smtp.New(smtp.Config{Host: srv.Host, Port: srv.Port, TLS: smtp.TLSNone, From: "Acme <rewards@acme.example>"})
		if err != nil {
			t.Fatal(err)
		}
		ns := notify.New(e.St, quiet, mailer, &mail.Address{Address: "rewards@acme.example"}, "https://refer.acme.example")
		runner := jobs.NewRunner(e.St, quiet)
		runner.Handle(parrain.JobNotify, ns.HandleNotify)
		runner.Handle(parrain.JobSendEmail, ns.HandleSend)
		runJobs := func() {
			t.Helper()
			for range 20 {
				n, err := runner.RunOnce(ctx)
				if err != nil {
					t.Fatal(err)
				}
				if n == 0 {
					return
				}
			}
		}
		mails := func() []smtptest.Parsed {
			t.Helper()
			var out []smtptest.Parsed
			for _, m := range srv.Messages() {
				p, err := m.Parse()
				if err != nil {
					t.Fatal(err)
				}
				if len(m.To) == 1 && m.To[0] == "alice@example.com" && strings.Contains(p.Header.Get("X-Parrain-Kind"), "payout_account_changed") {
					out = append(out, p)
				}
			}
			return out
		}

		prog := e.payoutProgram()
		alice := e.Advocate(prog.ID, "alice", "alice@example.com")
		e.earn(prog, alice, "f1", 5000)
		// Alice sets her own IBAN: the first account is paid at once, and
		// she is told.
		widget := parrain.WithActor(ctx, parrain.Actor{Kind: parrain.ActorAdvocate, ID: alice.ID, IP: "192.0.2.1"})
		own := parrain.PayoutAccountInput{Method: parrain.PayoutBank, Bank: &parrain.BankDetails{HolderName: "Alice", IBAN: "FR7630006000011234567890189"}}
		if _, _, err := e.svc.SetPayoutAccount(widget, prog.ID, "alice", own, store.Idem{}); err != nil {
			t.Fatal(err)
		}
		first, _, err := e.svc.CreatePayoutBatch(ctx, prog.ID, store.Idem{})
		if err != nil || first.PayoutCount != 1 || !strings.HasSuffix(first.Payouts[0].Destination, "0189") {
			t.Fatalf("first run: %+v %v", first, err)
		}
		runJobs()
		if got := mails(); len(got) != 1 || !strings.Contains(got[0].Text, "IBAN FR") || strings.Contains(got[0].Text, "wait until") {
			t.Fatalf("first-account email: %+v", got)
		}
		if err := referral.New(e.St).Unsubscribe(ctx, prog.ID, "alice@example.com", "link"); err != nil {
			t.Fatal(err)
		}

		// A thief with Alice's widget token puts in their own IBAN.
		e.earn(prog, alice, "f2", 7000)
		thief := parrain.WithActor(ctx, parrain.Actor{Kind: parrain.ActorAdvocate, ID: alice.ID, IP: "203.0.113.66"})
		stolen := parrain.PayoutAccountInput{Method: parrain.PayoutBank, Bank: &parrain.BankDetails{HolderName: "Alice", IBAN: "DE89370400440532013000"}}
		if _, _, err := e.svc.SetPayoutAccount(thief, prog.ID, "alice", stolen, store.Idem{}); err != nil {
			t.Fatal(err)
		}
		second, _, err := e.svc.CreatePayoutBatch(ctx, prog.ID, store.Idem{})
		if err != nil || second.PayoutCount != 0 || len(second.Skipped) != 1 || second.Skipped[0].Reason != parrain.SkipCoolingOff ||
			second.Skipped[0].ExternalID != "alice" || second.Skipped[0].Amount != 700 {
			t.Fatalf("run after the change: %+v %v", second, err)
		}
		// Alice is told, though she unsubscribed, with the date payouts resume.
		runJobs()
		got := mails()
		if len(got) != 2 || !strings.Contains(got[1].Text, "IBAN DE") || !strings.Contains(got[1].Text, "wait until") ||
			!strings.Contains(got[1].Text, "If you did not make this change") {
			t.Fatalf("change email: %d %+v", len(got), got)
		}
		// The change is audited with the thief's address and the hold.
		log, _, err := e.St.AuditLog(ctx, store.AuditFilter{Action: "payout_account.updated"}, store.Page{})
		if err != nil || len(log) != 2 || log[0].IP != "203.0.113.66" || log[0].Details["destination_changed"] != true || log[0].Details["payouts_held_until"] == nil {
			t.Fatalf("audit %+v %v", log, err)
		}
		// Still held a second before the end; paid once it has passed.
		e.Clock.Advance(parrain.DefaultPayoutCoolingOff - time.Second)
		if b, _, err := e.svc.CreatePayoutBatch(ctx, prog.ID, store.Idem{}); err != nil || b.PayoutCount != 0 || b.Skipped[0].Reason != parrain.SkipCoolingOff {
			t.Fatalf("run just before the end: %+v %v", b, err)
		}
		e.Clock.Advance(time.Second)
		b, _, err := e.svc.CreatePayoutBatch(ctx, prog.ID, store.Idem{})
		if err != nil || b.PayoutCount != 1 || b.Payouts[0].Amount != 700 {
			t.Fatalf("run after the cooling-off: %+v %v", b, err)
		}
		// Saving the same destination again (a corrected holder name) is no
		// new change; deleting and setting again is one.
		e.earn(prog, alice, "f3", 1000)
		same := parrain.PayoutAccountInput{Method: parrain.PayoutBank, Bank: &parrain.BankDetails{HolderName: "Alice Martin", IBAN: "DE89 3704 0044 0532 0130 00"}}
		e.account(prog.ID, "alice", same)
		if b, _, err := e.svc.CreatePayoutBatch(ctx, prog.ID, store.Idem{}); err != nil || b.PayoutCount != 1 {
			t.Fatalf("same destination: %+v %v", b, err)
		}
		if err := e.svc.DeletePayoutAccount(ctx, prog.ID, "alice"); err != nil {
			t.Fatal(err)
		}
		e.earn(prog, alice, "f4", 1000)
		e.account(prog.ID, "alice", own)
		if b, _, err := e.svc.CreatePayoutBatch(ctx, prog.ID, store.Idem{}); err != nil || b.PayoutCount != 0 || b.Skipped[0].Reason != parrain.SkipCoolingOff {
			t.Fatalf("deleted and set again: %+v %v", b, err)
		}
		// An installation without cooling-off pays at once.
		e.earn(prog, alice, "f5", 1000)
		e.account(prog.ID, "alice", same)
		if b, _, err := payout.New(e.St, quiet, payout.Config{CoolingOff: -1}).CreatePayoutBatch(ctx, prog.ID, store.Idem{}); err != nil || b.PayoutCount != 1 {
			t.Fatalf("without cooling-off: %+v %v", b, err)
		}
	})
}
