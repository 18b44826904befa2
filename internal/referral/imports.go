package referral

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/parrainhq/parrain/internal/jobs"
	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// Bulk import of existing customers (docs/api.md, "Importing
// participants"): a CSV or JSON-lines file is read as a stream, each line
// checked as PUT …/participants/{external_id} would check it, and stored
// with the import in one transaction (with the idempotency record). The
// participants.import job then upserts the accepted lines by external id,
// a batch per transaction, counting progress; a dry run does the same in
// transactions it rolls back, so its counts say what the import would do.

// JobImportParticipants runs an import.
const JobImportParticipants = "participants.import"

// Import formats.
const (
	FormatCSV   = "csv"
	FormatJSONL = "jsonl"
)

// MaxImportBytes bounds the size of one import file (the routes' body
// cap): about 200,000 lines of a typical CSV.
const MaxImportBytes = 32 << 20

// MaxImportRows bounds the lines of one import file.
const MaxImportRows = 200_000

// importBatch is how many lines one job transaction upserts.
const importBatch = 500

// importSlice is how long one job run works before it yields (and runs
// again at once): a long import never holds a worker past its lease.
const importSlice = 20 * time.Second

// ImportArgs is the participants.import job's payload.
type ImportArgs struct {
	ImportID string `json:"import_id"`
}

// importLine is a line of a JSON-lines file, and how accepted lines are
// kept until the job reaches them.
type importLine struct {
	ExternalID string                    `json:"external_id"`
	Email      string                    `json:"email,omitempty"`
	Name       string                    `json:"name,omitempty"`
	Locale     string                    `json:"locale,omitempty"`
	Code       string                    `json:"code,omitempty"`
	Status     parrain.ParticipantStatus `json:"status,omitempty"`
	Attributes *parrain.Attributes       `json:"attributes,omitempty"`
	DoNotSell  *bool                     `json:"do_not_sell,omitempty"`
}

func (l importLine) input() parrain.ParticipantInput {
	return parrain.ParticipantInput{ExternalID: l.ExternalID, Email: l.Email, Name: l.Name, Locale: l.Locale, Code: l.Code,
		Status: l.Status, Attributes: l.Attributes, DoNotSell: l.DoNotSell}
}

// ImportRequest is an import to start.
type ImportRequest struct {
	ProgramID string
	Format    string // csv or jsonl
	DryRun    bool
	// Body is the file, read once as a stream.
	Body io.Reader
	// Idem identifies the request; its Hash is completed with the
	// file's digest (Hash is the method, path and query's).
	Idem store.Idem
}

// StartImport reads an import file, checks each line and stores the
// import with its lines, queued for the participants.import job, in one
// transaction with the idempotency record and the audit entry. The bool is
// true when the answer is a replay.
func (s *Service) StartImport(ctx context.Context, req ImportRequest) (store.ParticipantImport, bool, error) {
	if req.Format != FormatCSV && req.Format != FormatJSONL {
		return store.ParticipantImport{}, false, parrain.Invalid("format", "must be csv or jsonl")
	}
	if _, err := s.st.Program(ctx, req.ProgramID); err != nil {
		return store.ParticipantImport{}, false, err
	}
	h := sha256.New()
	fmt.Fprintf(h, "%s\n%s %t\n", req.Idem.Hash, req.Format, req.DryRun)
	rows, err := parseImport(io.TeeReader(req.Body, h), req.Format)
	if err != nil {
		return store.ParticipantImport{}, false, err
	}
	idem := req.Idem
	if idem.Key != "" {
		idem.Hash = hex.EncodeToString(h.Sum(nil))
	}
	actor := store.ContextActor(ctx)
	return store.Idempotent(ctx, s.st, idem, func(tx *store.Tx) (store.ParticipantImport, error) {
		im := store.ParticipantImport{ProgramID: req.ProgramID, Format: req.Format, DryRun: req.DryRun, CreatedBy: actor.Email}
		if err := tx.InsertImport(ctx, &im, rows); err != nil {
			return im, err
		}
		if err := tx.Enqueue(ctx, JobImportParticipants, im.ID, mustJSON(ImportArgs{ImportID: im.ID}), tx.Now()); err != nil {
			return im, err
		}
		return im, tx.Audit(ctx, actor, store.AuditParticipantsImported, "import", im.ID, req.ProgramID,
			map[string]any{"format": im.Format, "dry_run": im.DryRun, "rows": im.TotalRows, "rejected_on_reading": im.Rejected})
	})
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only fixed, encodable types are passed
	}
	return b
}

// parseImport reads a file into its lines: accepted ones carry their
// participant as JSON, rejected ones their field and reason. A file that
// cannot be read at all (not CSV, no external_id column, too many lines,
// too large) is an error.
func parseImport(r io.Reader, format string) ([]store.ImportRow, error) {
	var rows []store.ImportRow
	seenID, seenCode := map[string]int64{}, map[string]int64{}
	add := func(n int64, l importLine, err error) error {
		if len(rows) >= MaxImportRows {
			return parrain.Invalid("body", "has more than %d lines: split the file", MaxImportRows)
		}
		if err == nil {
			in := l.input()
			if err = in.Normalize(); err == nil {
				l = importLine{ExternalID: in.ExternalID, Email: in.Email, Name: in.Name, Locale: in.Locale, Code: in.Code,
					Status: in.Status, Attributes: in.Attributes, DoNotSell: in.DoNotSell}
				if first, dup := seenID[l.ExternalID]; dup {
					err = parrain.Invalid("external_id", "repeats row %d: each participant once per file", first)
				} else if first, dup := seenCode[strings.ToUpper(l.Code)]; dup && l.Code != "" {
					err = parrain.Invalid("code", "repeats the code of row %d", first)
				}
			}
		}
		if err != nil {
			row := store.ImportRow{Row: n, State: store.RowRejected, Field: "body", Message: err.Error()}
			if e := parrain.AsError(err); e != nil {
				row.Field, row.Message = e.Field, e.Message
			}
			if row.Field == "" {
				row.Field = "body"
			}
			rows = append(rows, row)
			return nil
		}
		seenID[l.ExternalID] = n
		if l.Code != "" {
			seenCode[strings.ToUpper(l.Code)] = n
		}
		rows = append(rows, store.ImportRow{Row: n, State: store.RowPending, Data: string(mustJSON(l))})
		return nil
	}
	var err error
	if format == FormatCSV {
		err = parseCSV(r, add)
	} else {
		err = parseJSONL(r, add)
	}
	if err != nil {
		return nil, err
	}
	return rows, nil
}

// readError turns a failed read of the body into the error to answer: the
// body cap (413) stays what it is.
func readError(err error) error {
	if parrain.AsError(err) != nil {
		return err
	}
	return parrain.Invalid("body", "reading the file: %v", err)
}

// csvColumns are the columns a CSV may have; attributes.<name> columns set
// attributes (as text).
var csvColumns = map[string]bool{"external_id": true, "email": true, "name": true, "locale": true, "code": true, "status": true, "do_not_sell": true}

func parseCSV(r io.Reader, add func(int64, importLine, error) error) error {
	cr := csv.NewReader(bufio.NewReader(r))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		return parrain.Invalid("body", "is empty: a CSV starts with a header line naming its columns (external_id, email, name, …)")
	}
	if err != nil {
		return readError(err)
	}
	cols := make([]string, len(header))
	hasID := false
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(strings.TrimPrefix(h, "\ufeff")))
		cols[i] = h
		switch {
		case csvColumns[h]:
			hasID = hasID || h == "external_id"
		case strings.HasPrefix(h, "attributes.") && len(h) > len("attributes."):
		default:
			return parrain.Invalid("body", "column %d of the header, %q, is not one of external_id, email, name, locale, code, status, do_not_sell or attributes.<name>", i+1, h)
		}
	}
	if !hasID {
		return parrain.Invalid("body", "the header has no external_id column: each line must name the customer's user id")
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		line, _ := cr.FieldPos(0)
		var pe *csv.ParseError
		if errors.As(err, &pe) && !errors.Is(pe.Err, csv.ErrFieldCount) {
			if e := add(int64(pe.StartLine), importLine{}, parrain.Invalid("body", "is not valid CSV: %v", pe.Err)); e != nil {
				return e
			}
			continue
		}
		if err != nil {
			return readError(err)
		}
		l, lerr := csvLine(cols, rec)
		if e := add(int64(line), l, lerr); e != nil {
			return e
		}
	}
}

func csvLine(cols, rec []string) (importLine, error) {
	var l importLine
	if len(rec) != len(cols) {
		return l, parrain.Invalid("body", "has %d fields where the header names %d", len(rec), len(cols))
	}
	for i, v := range rec {
		switch c := cols[i]; c {
		case "external_id":
			l.ExternalID = v
		case "email":
			l.Email = v
		case "name":
			l.Name = v
		case "locale":
			l.Locale = v
		case "code":
			l.Code = v
		case "status":
			l.Status = parrain.ParticipantStatus(strings.TrimSpace(v))
		case "do_not_sell":
			switch strings.ToLower(strings.TrimSpace(v)) {
			case "":
			case "true", "yes", "1":
				b := true
				l.DoNotSell = &b
			case "false", "no", "0":
				b := false
				l.DoNotSell = &b
			default:
				return l, parrain.Invalid("do_not_sell", "must be true or false")
			}
		default:
			if v == "" {
				continue
			}
			if l.Attributes == nil {
				l.Attributes = &parrain.Attributes{}
			}
			(*l.Attributes)[strings.TrimPrefix(c, "attributes.")] = v
		}
	}
	return l, nil
}

// maxJSONLine bounds one line of a JSON-lines file.
const maxJSONLine = 64 << 10

func parseJSONL(r io.Reader, add func(int64, importLine, error) error) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), maxJSONLine)
	var n int64
	for sc.Scan() {
		n++
		b := sc.Bytes()
		if len(strings.TrimSpace(string(b))) == 0 {
			continue
		}
		var l importLine
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.DisallowUnknownFields()
		err := dec.Decode(&l)
		if err == nil && dec.More() {
			err = errors.New("trailing data after the object")
		}
		if err != nil {
			field, msg := "body", "is not a JSON object of a participant: "+err.Error()
			var te *json.UnmarshalTypeError
			if errors.As(err, &te) && te.Field != "" {
				field, msg = te.Field, "must be a "+te.Type.String()
			}
			if strings.Contains(err.Error(), "unknown field") {
				msg = "has " + strings.TrimPrefix(err.Error(), "json: ") + ": use external_id, email, name, locale, code, status, attributes, do_not_sell"
			}
			if e := add(n, importLine{}, parrain.Invalid(field, "%s", msg)); e != nil {
				return e
			}
			continue
		}
		if e := add(n, l, nil); e != nil {
			return e
		}
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return parrain.Invalid("body", "line %d is longer than %d bytes", n+1, maxJSONLine)
		}
		return readError(err)
	}
	if n == 0 {
		return parrain.Invalid("body", "is empty: one JSON object per line")
	}
	return nil
}

// errDryRun rolls back a dry run's batch once its outcomes are known.
var errDryRun = errors.New("dry run")

// RunImport processes an import's pending lines, a batch per transaction,
// for at most importSlice; it returns true when lines are left (the job
// runs again at once).
func (s *Service) RunImport(ctx context.Context, importID string) (more bool, err error) {
	start := time.Now()
	for time.Since(start) < importSlice {
		done, err := s.importBatch(ctx, importID)
		if err != nil || done {
			return false, err
		}
	}
	return true, nil
}

// importBatch upserts the next batch of lines and records their outcomes;
// done when none is left.
func (s *Service) importBatch(ctx context.Context, importID string) (done bool, err error) {
	var im store.ParticipantImport
	var outcomes []store.ImportRow
	run := func(tx *store.Tx) error {
		var err error
		if im, err = tx.ImportForUpdate(ctx, importID); err != nil {
			return err
		}
		if im.Status == store.ImportDone {
			return nil
		}
		pending, err := tx.PendingImportRows(ctx, importID, importBatch)
		if err != nil {
			return err
		}
		outcomes = outcomes[:0]
		for _, r := range pending {
			var l importLine
			if err := json.Unmarshal([]byte(r.Data), &l); err != nil {
				return fmt.Errorf("decoding import row %d: %w", r.Row, err)
			}
			out := store.ImportRow{Row: r.Row}
			before, found, err := tx.ParticipantByExternalID(ctx, im.ProgramID, l.ExternalID)
			if err != nil {
				return err
			}
			p, created, err := tx.UpsertParticipant(ctx, im.ProgramID, l.input())
			switch {
			case parrain.ErrorCode(err) == parrain.CodeInternal:
				return err
			case err != nil:
				out.State, out.Field, out.Message = store.RowRejected, "body", err.Error()
				if e := parrain.AsError(err); e != nil {
					out.Field, out.Message = e.Field, e.Message
				}
			case created:
				out.State = store.RowCreated
			case found && string(mustJSON(p)) != string(mustJSON(before)):
				out.State = store.RowUpdated
			default:
				out.State = store.RowUnchanged
			}
			outcomes = append(outcomes, out)
		}
		if im.DryRun {
			return errDryRun
		}
		im, err = tx.FinishImportRows(ctx, importID, outcomes)
		if err != nil {
			return err
		}
		if im.Status == store.ImportDone {
			return tx.Audit(ctx, store.SystemActor("import"), store.AuditImportFinished, "import", im.ID, im.ProgramID, importSummary(im))
		}
		return nil
	}
	if err := s.st.InTx(ctx, run); err != nil && !errors.Is(err, errDryRun) {
		return false, err
	}
	if im.Status == store.ImportDone {
		return true, nil
	}
	if im.DryRun {
		// The upserts were rolled back: record what they would have done.
		if err := s.st.InTx(ctx, func(tx *store.Tx) error {
			var err error
			if im, err = tx.FinishImportRows(ctx, importID, outcomes); err != nil {
				return err
			}
			if im.Status == store.ImportDone {
				return tx.Audit(ctx, store.SystemActor("import"), store.AuditImportFinished, "import", im.ID, im.ProgramID, importSummary(im))
			}
			return nil
		}); err != nil {
			return false, err
		}
	}
	return im.Status == store.ImportDone, nil
}

func importSummary(im store.ParticipantImport) map[string]any {
	return map[string]any{"dry_run": im.DryRun, "created": im.Created, "updated": im.Updated, "unchanged": im.Unchanged, "rejected": im.Rejected}
}

// Import returns an import of a program and its first rejected lines (at
// most limit).
func (s *Service) Import(ctx context.Context, programID, id string, limit int) (store.ParticipantImport, []store.ImportRow, error) {
	im, err := s.st.Import(ctx, programID, id)
	if err != nil {
		return im, nil, err
	}
	rej, err := s.st.ImportRejections(ctx, id, 0, limit)
	return im, rej, err
}

// ImportRejections returns an import's rejected lines after the line
// number after, at most limit, in line order (a page of the report).
func (s *Service) ImportRejections(ctx context.Context, importID string, after int64, limit int) ([]store.ImportRow, error) {
	return s.st.ImportRejections(ctx, importID, after, limit)
}

// registerImportJobs registers the participants.import job.
func (s *Service) registerImportJobs(r *jobs.Runner) {
	r.Handle(JobImportParticipants, jobs.WithArgs(JobImportParticipants, func(ctx context.Context, a ImportArgs) (time.Time, error) {
		more, err := s.RunImport(ctx, a.ImportID)
		if err != nil || !more {
			return time.Time{}, err
		}
		return s.st.Clock().Now(), nil
	}))
}
