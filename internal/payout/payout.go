// Package payout holds the use cases of paying participants: payout
// accounts and settings, payout runs (on demand and on the program's
// schedule) and their approval or cancellation, the payout state machine
// (sending, the provider's outcome, settling or cancelling by hand), the
// re-validation of what is still owed before money leaves, and the CSV
// export and import of manual bank transfers. It sends payouts to their
// provider: Stripe Transfers to connected accounts, PayPal Payouts (polled
// until final).
//
// Each use case owns its transaction (store.InTx or store.Idempotent), in
// which it writes its rows, its audit entry (under the actor the context
// carries), its webhooks, its ledger movements and its jobs: they commit
// together or not at all. The rules it applies are the domain's
// (internal/parrain: payout.go, payout_flow.go); the SQL is the store's.
//
// Exactly once: a payout is marked "sending" in the database before any
// provider call, and every call carries the payout's idempotency key
// (derived from its batch, participant and currency). A send interrupted by
// a crash resumes as "sending": it first looks for what the earlier attempt
// may have created (Stripe: a transfer in the payout's transfer_group;
// PayPal: the original batch of a duplicate sender_batch_id), then resends
// with the same key, which the provider deduplicates. The ledger moves in
// the transaction that records the provider's reference, and only from an
// open status, so it moves once. A refused payout is recorded with the
// provider's reason and its rewards return to the balance.
//
// It imports the domain, the store, the job runner's registration API, the
// provider clients and the metrics; never an HTTP package (internal/app
// wires it and registers its job kinds).
package payout

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/parrainhq/parrain/internal/integration/paypal"
	"github.com/parrainhq/parrain/internal/integration/stripe"
	"github.com/parrainhq/parrain/internal/metrics"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// Config holds the provider clients; a nil client means the provider is
// not configured (its payouts wait, with an error saying so).
type Config struct {
	Stripe *stripe.Client
	PayPal *paypal.Client
	// PayPalSubject is the subject of PayPal's email to the participant.
	PayPalSubject string
	// CoolingOff is how long payouts to a changed destination wait
	// (0: parrain.DefaultPayoutCoolingOff, 72 h; negative: none). The
	// first payout account a participant ever sets is not held.
	CoolingOff time.Duration
}

// Service runs the payout use cases.
type Service struct {
	st  *store.Store
	log *slog.Logger
	cfg Config
}

// New returns a Service.
func New(st *store.Store, log *slog.Logger, cfg Config) *Service {
	if cfg.PayPalSubject == "" {
		cfg.PayPalSubject = "You have received a referral reward payout"
	}
	if cfg.CoolingOff == 0 {
		cfg.CoolingOff = parrain.DefaultPayoutCoolingOff
	}
	return &Service{st: st, log: log, cfg: cfg}
}

// Audit actions of payouts.
const (
	AuditPayoutAccountSet     = "payout_account.updated"
	AuditPayoutAccountDeleted = "payout_account.deleted"
	AuditPayoutSettings       = "payout_settings.updated"
	AuditPayoutBatchCreated   = "payout.batch_created"
	AuditPayoutBatchApproved  = "payout.batch_approved"
	AuditPayoutBatchCancelled = "payout.batch_cancelled"
	AuditPayoutMarkedPaid     = "payout.marked_paid"
	AuditPayoutMarkedFailed   = "payout.marked_failed"
	AuditPayoutCancelled      = "payout.cancelled"
)

// audit writes an audit entry in tx under the actor ctx carries.
func audit(ctx context.Context, tx *store.Tx, action, targetType, targetID, programID string, details map[string]any) error {
	return tx.Audit(ctx, store.ContextActor(ctx), action, targetType, targetID, programID, details)
}

// ErrNotConfigured is returned (wrapped) when a payout's provider has no
// credentials.
var ErrNotConfigured = errors.New("payout provider not configured")

// NotConfiguredRetry is how often a payout whose provider has no
// credentials is looked at again (it waits, queued, for the configuration).
const NotConfiguredRetry = time.Hour

// Send is the payout.send job: it sends one approved payout. A non-zero
// retryAt asks to run again then; an error is retried with backoff.
func (s *Service) Send(ctx context.Context, payoutID string) (retryAt time.Time, err error) {
	cur, err := s.st.Payout(ctx, "", payoutID)
	if parrain.ErrorCode(err) == parrain.CodeNotFound {
		return time.Time{}, nil
	}
	if err != nil {
		return time.Time{}, err
	}
	if cur.Status != parrain.PayoutQueued && cur.Status != parrain.PayoutSending {
		return time.Time{}, nil
	}
	// Check the configuration before recording a send that cannot happen.
	switch cur.Method {
	case parrain.PayoutStripe:
		if s.cfg.Stripe == nil {
			return s.notConfigured(ctx, cur, "Stripe is not configured: set PARRAIN_STRIPE_SECRET_KEY")
		}
	case parrain.PayoutPayPal:
		if s.cfg.PayPal == nil {
			return s.notConfigured(ctx, cur, "PayPal is not configured: set PARRAIN_PAYPAL_CLIENT_ID and PARRAIN_PAYPAL_SECRET")
		}
	default:
		return time.Time{}, nil // bank payouts are paid by hand
	}
	p, resumed, ok, err := s.BeginPayoutSend(ctx, payoutID)
	if err != nil || !ok {
		return time.Time{}, err
	}
	log := s.log.With("payout", p.ID, "method", p.Method, "attempt", p.Attempts)
	switch p.Method {
	case parrain.PayoutStripe:
		err = s.sendStripe(ctx, log, p, resumed)
	case parrain.PayoutPayPal:
		err = s.sendPayPal(ctx, log, p)
	}
	outcome := "sent"
	if err != nil {
		outcome = "failed"
	}
	metrics.Payouts.WithLabelValues(string(p.Method), outcome).Inc()
	if err != nil {
		log.Warn("payout send failed; will retry", "err", err)
		if rerr := s.RecordPayoutError(ctx, p.ID, err.Error()); rerr != nil {
			log.Error("recording payout error", "err", rerr)
		}
	}
	return time.Time{}, err
}

// notConfigured records why a payout waits and looks again later, without
// using up the job's attempts: the payout is sent once the server runs
// with the provider's credentials.
func (s *Service) notConfigured(ctx context.Context, p parrain.Payout, msg string) (time.Time, error) {
	if err := s.RecordPayoutError(ctx, p.ID, msg); err != nil {
		return time.Time{}, err
	}
	metrics.Payouts.WithLabelValues(string(p.Method), "not_configured").Inc()
	s.log.Warn("payout waiting for its provider's configuration", "payout", p.ID, "err", fmt.Errorf("%w: %s", ErrNotConfigured, msg))
	return s.st.Clock().Now().Add(NotConfiguredRetry), nil
}

func (s *Service) sendStripe(ctx context.Context, log *slog.Logger, p parrain.Payout, resumed bool) error {
	req := stripe.TransferRequest{
		IdempotencyKey: p.IdempotencyKey,
		Destination:    p.Destination,
		Amount:         p.Amount,
		Currency:       p.Currency,
		Description:    "Referral rewards (Parrain payout " + p.ID + ")",
		Metadata:       map[string]string{"parrain_payout_id": p.ID, "parrain_batch_id": p.BatchID, "parrain_participant": p.ExternalID},
	}
	if resumed {
		// An earlier attempt may have reached Stripe: find its transfer
		// (also past Stripe's 24-hour idempotency window).
		tr, found, err := s.cfg.Stripe.FindTransfer(ctx, req)
		if err != nil {
			return fmt.Errorf("looking for an earlier transfer: %w", err)
		}
		if found {
			log.Info("payout reconciled with an earlier transfer", "transfer", tr.ID)
			_, err := s.CompletePayout(ctx, p.ID, tr.ID, "paid")
			return err
		}
	}
	tr, err := s.cfg.Stripe.Transfer(ctx, req)
	var se *stripe.Error
	if errors.As(err, &se) && se.Permanent {
		reason := se.Message
		if se.Code != "" {
			reason = se.Code + ": " + se.Message
		}
		log.Warn("payout refused by Stripe; rewards return to the balance", "reason", reason)
		_, err := s.FailPayout(ctx, p.ID, reason, se.Type)
		return err
	}
	if err != nil {
		return err
	}
	log.Info("payout paid", "transfer", tr.ID, "amount", p.Amount, "currency", p.Currency)
	_, err = s.CompletePayout(ctx, p.ID, tr.ID, "paid")
	return err
}

func (s *Service) sendPayPal(ctx context.Context, log *slog.Logger, p parrain.Payout) error {
	req := paypal.CreateRequest{
		SenderBatchHeader: paypal.SenderBatchHeader{SenderBatchID: p.IdempotencyKey, EmailSubject: s.cfg.PayPalSubject},
		Items: []paypal.Item{{RecipientType: "EMAIL", Amount: paypal.Money{Value: parrain.FormatMinor(p.Amount, p.Currency), Currency: p.Currency},
			Receiver: p.Destination, SenderItemID: p.IdempotencyKey, Note: "Referral rewards (Parrain payout " + p.ID + ")"}},
	}
	h, err := s.cfg.PayPal.CreatePayout(ctx, req)
	var pe *paypal.Error
	if errors.As(err, &pe) {
		switch {
		case pe.DuplicateBatch():
			// An earlier attempt created the batch: follow it.
			if id := pe.OriginalBatchID(); id != "" {
				log.Info("payout reconciled with an earlier PayPal batch", "batch", id)
				return s.MarkPayoutProcessing(ctx, p.ID, id, "DUPLICATE", s.st.Clock().Now())
			}
			return fmt.Errorf("PayPal already has a batch %s but did not link it: check the PayPal dashboard, then mark the payout paid or failed: %w",
				p.IdempotencyKey, err)
		case pe.Permanent():
			log.Warn("payout refused by PayPal; rewards return to the balance", "reason", pe.Error())
			_, err := s.FailPayout(ctx, p.ID, pe.Error(), pe.Name)
			return err
		}
	}
	if err != nil {
		return err
	}
	log.Info("payout accepted by PayPal", "batch", h.PayoutBatchID, "status", h.BatchStatus)
	return s.MarkPayoutProcessing(ctx, p.ID, h.PayoutBatchID, h.BatchStatus, s.st.Clock().Now().Add(time.Minute))
}

// Final PayPal item statuses that mean the money did not reach the
// participant.
var paypalFailed = map[string]bool{"FAILED": true, "RETURNED": true, "BLOCKED": true, "REFUNDED": true, "REVERSED": true, "DENIED": true, "CANCELED": true}

// Poll is the payout.poll job: it reads the status of a payout PayPal
// accepted and records it once final. retryAt is when to look again.
func (s *Service) Poll(ctx context.Context, payoutID string) (retryAt time.Time, err error) {
	p, err := s.st.Payout(ctx, "", payoutID)
	if parrain.ErrorCode(err) == parrain.CodeNotFound {
		return time.Time{}, nil
	}
	if err != nil || p.Status != parrain.PayoutProcessing || p.Method != parrain.PayoutPayPal {
		return time.Time{}, err
	}
	if s.cfg.PayPal == nil {
		return s.notConfigured(ctx, p, "PayPal is not configured: set PARRAIN_PAYPAL_CLIENT_ID and PARRAIN_PAYPAL_SECRET")
	}
	b, err := s.cfg.PayPal.GetPayout(ctx, p.ProviderRef)
	if err != nil {
		return time.Time{}, err
	}
	var item *paypal.BatchItem
	for i := range b.Items {
		if b.Items[i].PayoutItem.SenderItemID == p.IdempotencyKey || len(b.Items) == 1 {
			item = &b.Items[i]
		}
	}
	log := s.log.With("payout", p.ID, "batch", p.ProviderRef)
	switch {
	case b.BatchHeader.BatchStatus == "DENIED" || b.BatchHeader.BatchStatus == "CANCELED":
		log.Warn("PayPal batch denied; rewards return to the balance", "status", b.BatchHeader.BatchStatus)
		_, err := s.FailPayout(ctx, p.ID, "PayPal "+b.BatchHeader.BatchStatus+" the batch", b.BatchHeader.BatchStatus)
		return time.Time{}, err
	case item == nil:
		return s.pollAgain(p), nil
	case item.TransactionStatus == "SUCCESS":
		log.Info("payout paid", "item", item.PayoutItemID)
		_, err := s.CompletePayout(ctx, p.ID, p.ProviderRef+"/"+item.PayoutItemID, "SUCCESS")
		return time.Time{}, err
	case paypalFailed[item.TransactionStatus]:
		reason := item.TransactionStatus
		if item.Errors != nil {
			reason = item.Errors.Name + ": " + item.Errors.Message
		}
		log.Warn("payout refused by PayPal; rewards return to the balance", "reason", reason)
		_, err := s.FailPayout(ctx, p.ID, reason, item.TransactionStatus)
		return time.Time{}, err
	}
	// PENDING, UNCLAIMED (the receiver has 30 days to claim), ONHOLD…
	return s.pollAgain(p), nil
}

// pollAgain spaces status reads out: every minute for the first hour, every
// 15 minutes for a day, then every 6 hours (unclaimed payouts take weeks).
func (s *Service) pollAgain(p parrain.Payout) time.Time {
	now := s.st.Clock().Now()
	since := time.Duration(0)
	if p.SentAt != nil {
		since = now.Sub(*p.SentAt)
	}
	switch {
	case since < time.Hour:
		return now.Add(time.Minute)
	case since < 24*time.Hour:
		return now.Add(15 * time.Minute)
	}
	return now.Add(6 * time.Hour)
}

// Schedule is the payout.schedule job: it runs a program's scheduled payout
// run for slot at and schedules the next.
func (s *Service) Schedule(ctx context.Context, programID string, at time.Time) (retryAt time.Time, err error) {
	b, notBefore, err := s.RunScheduledPayout(ctx, programID, at)
	if err != nil {
		return time.Time{}, err
	}
	if b != nil {
		s.log.Info("scheduled payout run", "program", programID, "batch", b.ID, "payouts", b.PayoutCount, "status", b.Status, "totals", b.Totals)
	}
	return notBefore, nil
}
