package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Import states.
const (
	ImportQueued  = "queued"
	ImportRunning = "running"
	ImportDone    = "done"
)

// Import row states: pending until the job reaches the row, then what
// happened to it (or would have, in a dry run).
const (
	RowPending   = "pending"
	RowCreated   = "created"
	RowUpdated   = "updated"
	RowUnchanged = "unchanged"
	RowRejected  = "rejected"
)

// ParticipantImport is one bulk import of existing customers: its counts
// show the job's progress.
type ParticipantImport struct {
	ID        string `json:"id"`
	ProgramID string `json:"program_id"`
	Format    string `json:"format"`
	DryRun    bool   `json:"dry_run"`
	Status    string `json:"status"`
	// TotalRows is the number of data rows in the file (the CSV header
	// excluded); Processed how many the job has handled, rejected ones
	// included.
	TotalRows  int64      `json:"total_rows"`
	Processed  int64      `json:"processed_rows"`
	Created    int64      `json:"created"`
	Updated    int64      `json:"updated"`
	Unchanged  int64      `json:"unchanged"`
	Rejected   int64      `json:"rejected"`
	CreatedBy  string     `json:"created_by,omitempty"`
	CreatedAt  time.Time  `json:"created_at"`
	UpdatedAt  time.Time  `json:"updated_at"`
	FinishedAt *time.Time `json:"finished_at,omitempty"`
}

// ImportRow is one data row of an import file. Row is its 1-based number
// among the file's lines (a CSV's header is line 1).
type ImportRow struct {
	Row     int64  `json:"row"`
	State   string `json:"-"`
	Data    string `json:"-"`
	Field   string `json:"field"`
	Message string `json:"message"`
}

const importCols = `id, program_id, format, dry_run, status, total_rows, processed, created, updated, unchanged, rejected, created_by,
	created_at, updated_at, finished_at`

func scanImport(sc scanner) (ParticipantImport, error) {
	var im ParticipantImport
	var created, updated int64
	var finished sql.NullInt64
	err := sc.Scan(&im.ID, &im.ProgramID, &im.Format, &im.DryRun, &im.Status, &im.TotalRows, &im.Processed, &im.Created,
		&im.Updated, &im.Unchanged, &im.Rejected, &im.CreatedBy, &created, &updated, &finished)
	im.CreatedAt, im.UpdatedAt, im.FinishedAt = fromMS(created), fromMS(updated), fromNullMS(finished)
	return im, err
}

// InsertImport stores a new import and its rows (pending or already
// rejected), filling in its id, counts and times.
func (t *Tx) InsertImport(ctx context.Context, im *ParticipantImport, rows []ImportRow) error {
	now := t.s.clock.Now()
	im.ID, im.Status, im.CreatedAt, im.UpdatedAt = newID("imp"), ImportQueued, now, now
	im.TotalRows, im.Rejected, im.Processed = int64(len(rows)), 0, 0
	for _, r := range rows {
		if r.State == RowRejected {
			im.Rejected++
			im.Processed++
		}
	}
	if _, err := t.tx.ExecContext(ctx, `INSERT INTO participant_imports (`+importCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, 0, 0, 0, $8, $9, $10, $10, NULL)`,
		im.ID, im.ProgramID, im.Format, im.DryRun, im.Status, im.TotalRows, im.Processed, im.Rejected, im.CreatedBy, ms(now)); err != nil {
		return fmt.Errorf("inserting import: %w", err)
	}
	// Many rows per statement: a file of 100,000 lines is 1,000 round trips.
	const chunk = 100
	for i := 0; i < len(rows); i += chunk {
		part := rows[i:min(i+chunk, len(rows))]
		var q strings.Builder
		q.WriteString(`INSERT INTO participant_import_rows (import_id, row_number, state, data, field, message) VALUES `)
		args := make([]any, 0, len(part)*6)
		for j, r := range part {
			if j > 0 {
				q.WriteString(", ")
			}
			n := len(args)
			fmt.Fprintf(&q, "($%d, $%d, $%d, $%d, $%d, $%d)", n+1, n+2, n+3, n+4, n+5, n+6)
			args = append(args, im.ID, r.Row, r.State, r.Data, r.Field, r.Message)
		}
		if _, err := t.tx.ExecContext(ctx, q.String(), args...); err != nil {
			return fmt.Errorf("inserting import rows: %w", err)
		}
	}
	return nil
}

// Import returns one import of a program.
func (s *Store) Import(ctx context.Context, programID, id string) (ParticipantImport, error) {
	return s.importQ(ctx, s.r, programID, id)
}

// ImportForUpdate returns an import, read in the transaction.
func (t *Tx) ImportForUpdate(ctx context.Context, id string) (ParticipantImport, error) {
	im, err := scanImport(t.tx.QueryRowContext(ctx, `SELECT `+importCols+` FROM participant_imports WHERE id = $1`+t.s.d.forUpdate, id))
	if errors.Is(err, sql.ErrNoRows) {
		return im, notFound("import")
	}
	if err != nil {
		return im, fmt.Errorf("loading import: %w", err)
	}
	return im, nil
}

func (s *Store) importQ(ctx context.Context, q querier, programID, id string) (ParticipantImport, error) {
	im, err := scanImport(q.QueryRowContext(ctx, `SELECT `+importCols+` FROM participant_imports WHERE id = $1 AND program_id = $2`, id, programID))
	if errors.Is(err, sql.ErrNoRows) {
		return im, notFound("import")
	}
	if err != nil {
		return im, fmt.Errorf("loading import: %w", err)
	}
	return im, nil
}

// Imports lists a program's imports, newest first.
func (s *Store) Imports(ctx context.Context, programID string, limit int) ([]ParticipantImport, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT `+importCols+` FROM participant_imports WHERE program_id = $1 ORDER BY id DESC LIMIT $2`,
		programID, limit)
	if err != nil {
		return nil, fmt.Errorf("listing imports: %w", err)
	}
	defer rows.Close()
	out := []ParticipantImport{}
	for rows.Next() {
		im, err := scanImport(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, im)
	}
	return out, rows.Err()
}

// ImportRejections returns the rejected rows of an import in row order,
// after the row number after (0 for the first page), at most limit.
func (s *Store) ImportRejections(ctx context.Context, importID string, after int64, limit int) ([]ImportRow, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT row_number, field, message FROM participant_import_rows
		WHERE import_id = $1 AND state = 'rejected' AND row_number > $2 ORDER BY row_number LIMIT $3`, importID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("listing rejected rows: %w", err)
	}
	defer rows.Close()
	out := []ImportRow{}
	for rows.Next() {
		r := ImportRow{State: RowRejected}
		if err := rows.Scan(&r.Row, &r.Field, &r.Message); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// PendingImportRows returns the next rows the job has to process, in row
// order.
func (t *Tx) PendingImportRows(ctx context.Context, importID string, limit int) ([]ImportRow, error) {
	rows, err := t.tx.QueryContext(ctx, `SELECT row_number, data FROM participant_import_rows
		WHERE import_id = $1 AND state = 'pending' ORDER BY row_number LIMIT $2`, importID, limit)
	if err != nil {
		return nil, fmt.Errorf("reading import rows: %w", err)
	}
	defer rows.Close()
	out := []ImportRow{}
	for rows.Next() {
		r := ImportRow{State: RowPending}
		if err := rows.Scan(&r.Row, &r.Data); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// FinishImportRows records what happened to processed rows (their data
// blanked) and adds them to the import's counts; the import is done when
// no row is left pending.
func (t *Tx) FinishImportRows(ctx context.Context, importID string, rows []ImportRow) (ParticipantImport, error) {
	var created, updated, unchanged, rejected int64
	for _, r := range rows {
		res, err := t.tx.ExecContext(ctx, `UPDATE participant_import_rows SET state = $1, data = '', field = $2, message = $3
			WHERE import_id = $4 AND row_number = $5 AND state = 'pending'`, r.State, r.Field, r.Message, importID, r.Row)
		if err != nil {
			return ParticipantImport{}, fmt.Errorf("recording import row: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil || n == 0 {
			continue // processed already (a retried job)
		}
		switch r.State {
		case RowCreated:
			created++
		case RowUpdated:
			updated++
		case RowUnchanged:
			unchanged++
		case RowRejected:
			rejected++
		}
	}
	now := ms(t.s.clock.Now())
	var pending int64
	if err := t.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM participant_import_rows WHERE import_id = $1 AND state = 'pending'`,
		importID).Scan(&pending); err != nil {
		return ParticipantImport{}, fmt.Errorf("counting pending rows: %w", err)
	}
	status, finished := ImportRunning, sql.NullInt64{}
	if pending == 0 {
		status, finished = ImportDone, sql.NullInt64{Int64: now, Valid: true}
	}
	if _, err := t.tx.ExecContext(ctx, `UPDATE participant_imports SET created = created + $1, updated = updated + $2,
		unchanged = unchanged + $3, rejected = rejected + $4, processed = processed + $5, status = $6, updated_at = $7,
		finished_at = COALESCE(finished_at, $8) WHERE id = $9`,
		created, updated, unchanged, rejected, created+updated+unchanged+rejected, status, now, finished, importID); err != nil {
		return ParticipantImport{}, fmt.Errorf("updating import progress: %w", err)
	}
	return t.ImportForUpdate(ctx, importID)
}
