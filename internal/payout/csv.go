package payout

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/parrainhq/parrain/internal/parrain"
)

// ExportColumns are the columns of the bank transfer CSV, in order. The
// same file, with status set to paid or failed (and optionally a bank
// reference or a reason), can be imported back.
var ExportColumns = []string{"payout_id", "reference", "external_id", "name", "email", "holder_name", "iban", "bic",
	"account_number", "routing_number", "country", "amount", "amount_minor", "currency", "status", "bank_reference", "reason"}

// cell neutralises spreadsheet formulas: a value starting with = + - @ or a
// control character is prefixed with an apostrophe (names are typed by
// participants).
func cell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}

// WriteCSV writes the bank payouts of a batch as CSV: one row per transfer
// to make, with the full bank details and the payout's idempotency key as
// the reference to put on the transfer.
func WriteCSV(w io.Writer, rows []BankPayout) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(ExportColumns); err != nil {
		return err
	}
	for _, r := range rows {
		b := parrain.BankDetails{}
		if r.Bank != nil {
			b = *r.Bank
		}
		rec := []string{r.ID, r.IdempotencyKey, cell(r.ExternalID), cell(r.Name), cell(r.Email), cell(b.HolderName), b.IBAN, b.BIC,
			b.AccountNumber, b.RoutingNumber, b.Country, parrain.FormatMinor(r.Amount, r.Currency), strconv.FormatInt(r.Amount, 10),
			r.Currency, string(r.Status), cell(r.ProviderRef), ""}
		if err := cw.Write(rec); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// ImportRow is one line of an imported CSV.
type ImportRow struct {
	Line          int    `json:"line"`
	PayoutID      string `json:"payout_id"`
	Status        string `json:"status"` // paid or failed; other values are skipped
	BankReference string `json:"bank_reference,omitempty"`
	Reason        string `json:"reason,omitempty"`
}

// MaxImportRows bounds an import.
const MaxImportRows = 10000

// ParseImport reads a CSV with a header naming at least payout_id and
// status (and optionally bank_reference and reason; other columns, such as
// those of the export, are ignored).
func ParseImport(r io.Reader) ([]ImportRow, error) {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.TrimLeadingSpace = true
	head, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return nil, parrain.Invalid("body", "the CSV is empty: a header with payout_id and status is required")
	}
	if err != nil {
		return nil, parrain.Invalid("body", "not a CSV file: %v", err)
	}
	col := map[string]int{}
	for i, h := range head {
		col[strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))] = i
	}
	for _, need := range []string{"payout_id", "status"} {
		if _, ok := col[need]; !ok {
			return nil, parrain.Invalid("body", "the CSV header has no %s column", need)
		}
	}
	get := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return strings.TrimSpace(strings.TrimPrefix(rec[i], "'"))
		}
		return ""
	}
	var out []ImportRow
	for line := 2; ; line++ {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, parrain.Invalid("body", "line %d: %v", line, err)
		}
		if len(out) >= MaxImportRows {
			return nil, parrain.Invalid("body", "at most %d rows per import", MaxImportRows)
		}
		row := ImportRow{Line: line, PayoutID: get(rec, "payout_id"), Status: strings.ToLower(get(rec, "status")),
			BankReference: get(rec, "bank_reference"), Reason: get(rec, "reason")}
		if row.PayoutID == "" {
			continue
		}
		out = append(out, row)
	}
	return out, nil
}

// ImportResult says what an import did to one row.
type ImportResult struct {
	Line     int                  `json:"line"`
	PayoutID string               `json:"payout_id"`
	Result   string               `json:"result"` // paid, failed, skipped, error
	Status   parrain.PayoutStatus `json:"status,omitempty"`
	Error    string               `json:"error,omitempty"`
}

// Import applies an imported CSV to a batch's payouts: rows marked paid
// become paid (the ledger moves), rows marked failed return their rewards
// to the balance; other rows are skipped. Re-importing the same file
// changes nothing more. Each row is its own transaction, audited like a
// payout marked by hand.
func (s *Service) Import(ctx context.Context, programID, batchID string, rows []ImportRow) ([]ImportResult, error) {
	st := s.st
	if _, err := st.PayoutBatch(ctx, programID, batchID); err != nil {
		return nil, err
	}
	out := make([]ImportResult, 0, len(rows))
	for _, r := range rows {
		res := ImportResult{Line: r.Line, PayoutID: r.PayoutID}
		p, err := st.Payout(ctx, programID, r.PayoutID)
		switch {
		case err == nil && p.BatchID != batchID:
			err = parrain.Errorf(parrain.CodeNotFound, "payout %s is not in batch %s", r.PayoutID, batchID)
		case err == nil && r.Status == "paid":
			p, err = s.MarkPayoutPaid(ctx, programID, r.PayoutID, r.BankReference)
		case err == nil && r.Status == "failed":
			reason := r.Reason
			if reason == "" {
				reason = "bank transfer failed (CSV import)"
			}
			p, err = s.MarkPayoutFailed(ctx, programID, r.PayoutID, reason)
		case err == nil:
			res.Result, res.Status = "skipped", p.Status
			out = append(out, res)
			continue
		}
		if err != nil {
			if parrain.AsError(err) == nil {
				return out, fmt.Errorf("importing line %d: %w", r.Line, err)
			}
			res.Result, res.Error = "error", parrain.AsError(err).Message
		} else {
			res.Result, res.Status = string(p.Status), p.Status
		}
		out = append(out, res)
	}
	return out, nil
}
