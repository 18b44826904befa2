package store

import (
	"context"
	"database/sql"
	"encoding/base64"
	"errors"
	"fmt"
	"time"
)

// Asset is a sales or marketing file of the partner program.
type Asset struct {
	ID          string    `json:"id"`
	ProgramID   string    `json:"program_id"`
	Title       string    `json:"title"`
	Kind        string    `json:"kind"` // one_pager, case_study, email_template, co_brandable, other
	Description string    `json:"description,omitempty"`
	Filename    string    `json:"filename"`
	ContentType string    `json:"content_type"`
	Size        int64     `json:"size"`
	MinTier     string    `json:"min_tier,omitempty"` // the lowest tier that may download it ("" = all)
	Downloads   int64     `json:"downloads"`
	CreatedAt   time.Time `json:"created_at"`
	// Content is the file, base64-encoded in JSON (uploads only).
	Content []byte `json:"content,omitempty"`
}

// Assets lists a program's assets (without their content).
func (s *Store) Assets(ctx context.Context, programID string) ([]Asset, error) {
	rows, err := s.r.QueryContext(ctx, `SELECT id, program_id, title, kind, description, filename, content_type, size, min_tier, downloads, created_at
		FROM partner_assets WHERE program_id = $1 ORDER BY id DESC`, programID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Asset{}
	for rows.Next() {
		var a Asset
		var at int64
		if err := rows.Scan(&a.ID, &a.ProgramID, &a.Title, &a.Kind, &a.Description, &a.Filename, &a.ContentType, &a.Size, &a.MinTier, &a.Downloads, &at); err != nil {
			return nil, err
		}
		a.CreatedAt = fromMS(at)
		out = append(out, a)
	}
	return out, rows.Err()
}

// InsertAsset stores an asset (a.ProgramID, a.Size and a.CreatedAt set)
// and sets its id.
func (t *Tx) InsertAsset(ctx context.Context, a *Asset) error {
	a.ID = newID("pas")
	_, err := t.tx.ExecContext(ctx, `INSERT INTO partner_assets (id, program_id, title, kind, description, filename, content_type, size, content, min_tier, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`, a.ID, a.ProgramID, a.Title, a.Kind, a.Description, a.Filename, a.ContentType, a.Size,
		base64.StdEncoding.EncodeToString(a.Content), a.MinTier, ms(a.CreatedAt))
	return err
}

// DeleteAsset removes a program's asset and its download log.
func (t *Tx) DeleteAsset(ctx context.Context, programID, id string) error {
	if _, err := t.tx.ExecContext(ctx, `DELETE FROM partner_asset_downloads WHERE asset_id IN (SELECT id FROM partner_assets WHERE program_id = $1 AND id = $2)`, programID, id); err != nil {
		return err
	}
	res, err := t.tx.ExecContext(ctx, `DELETE FROM partner_assets WHERE program_id = $1 AND id = $2`, programID, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return notFound("asset")
	}
	return nil
}

// AssetFile returns a program's asset with its content (ID, Title,
// Filename, ContentType, Size, MinTier, Content).
func (t *Tx) AssetFile(ctx context.Context, programID, id string) (Asset, error) {
	var a Asset
	var content string
	err := t.tx.QueryRowContext(ctx, `SELECT id, title, filename, content_type, size, min_tier, content FROM partner_assets WHERE program_id = $1 AND id = $2`,
		programID, id).Scan(&a.ID, &a.Title, &a.Filename, &a.ContentType, &a.Size, &a.MinTier, &content)
	if errors.Is(err, sql.ErrNoRows) {
		return a, notFound("asset")
	}
	if err != nil {
		return a, err
	}
	if a.Content, err = base64.StdEncoding.DecodeString(content); err != nil {
		return a, fmt.Errorf("decoding asset: %w", err)
	}
	return a, nil
}

// RecordAssetDownload counts a partner's download of an asset.
func (t *Tx) RecordAssetDownload(ctx context.Context, assetID, partnerID string, now time.Time) error {
	if _, err := t.tx.ExecContext(ctx, `UPDATE partner_assets SET downloads = downloads + 1 WHERE id = $1`, assetID); err != nil {
		return err
	}
	_, err := t.tx.ExecContext(ctx, `INSERT INTO partner_asset_downloads (id, asset_id, partner_id, created_at) VALUES ($1, $2, $3, $4)`,
		newID("pad"), assetID, partnerID, ms(now))
	return err
}
