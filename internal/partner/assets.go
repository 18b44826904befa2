package partner

import (
	"context"
	"slices"
	"strings"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// MaxAssetSize bounds an asset file.
const MaxAssetSize = 5 << 20

var assetKinds = []string{"one_pager", "case_study", "email_template", "co_brandable", "presentation", "other"}

// CreateAsset stores an asset.
func (s *Service) CreateAsset(ctx context.Context, programID string, a store.Asset, idem store.Idem) (store.Asset, bool, error) {
	a.Title, a.Description, a.Filename = strings.TrimSpace(a.Title), strings.TrimSpace(a.Description), strings.TrimSpace(a.Filename)
	switch {
	case a.Title == "" || len(a.Title) > 200:
		return a, false, parrain.Invalid("title", "is required (at most 200 characters)")
	case !slices.Contains(assetKinds, a.Kind):
		return a, false, parrain.Invalid("kind", "must be one of %s", strings.Join(assetKinds, ", "))
	case a.Filename == "" || len(a.Filename) > 200 || strings.ContainsAny(a.Filename, "/\\\"\r\n"):
		return a, false, parrain.Invalid("filename", "is required: a file name without slashes or quotes")
	case len(a.Content) == 0:
		return a, false, parrain.Invalid("content", "is required (the file, base64-encoded)")
	case len(a.Content) > MaxAssetSize:
		return a, false, parrain.Invalid("content", "must be at most %d bytes", MaxAssetSize)
	case len(a.Description) > 2000:
		return a, false, parrain.Invalid("description", "must be at most 2000 characters")
	}
	if a.ContentType == "" {
		a.ContentType = "application/octet-stream"
	}
	return store.Idempotent(ctx, s.st, idem, func(tx *store.Tx) (store.Asset, error) {
		pp, err := tx.PartnerProgram(ctx, programID)
		if err != nil {
			return a, err
		}
		if _, ok := pp.Tier(a.MinTier); a.MinTier != "" && !ok {
			return a, parrain.Invalid("min_tier", "%q is not a tier of this program", a.MinTier)
		}
		a.ProgramID, a.Size, a.CreatedAt = programID, int64(len(a.Content)), s.now()
		err = tx.InsertAsset(ctx, &a)
		a.Content = nil
		if err != nil {
			return a, err
		}
		return a, tx.Audit(ctx, auditActor(ctx), AuditAssetCreated, "partner_asset", a.ID, programID,
			map[string]any{"title": a.Title, "kind": a.Kind, "min_tier": a.MinTier})
	})
}

// mayDownload reports whether partner p's tier reaches asset a's.
func mayDownload(pp store.PartnerProgram, p parrain.Partner, a store.Asset) bool {
	return a.MinTier == "" || pp.TierRank(p.Tier) >= pp.TierRank(a.MinTier)
}

// AssetsFor lists the assets a partner's tier may download.
func (s *Service) AssetsFor(ctx context.Context, pp store.PartnerProgram, p parrain.Partner) ([]store.Asset, error) {
	all, err := s.st.Assets(ctx, pp.ProgramID)
	if err != nil {
		return nil, err
	}
	out := []store.Asset{}
	for _, a := range all {
		if mayDownload(pp, p, a) {
			out = append(out, a)
		}
	}
	return out, nil
}

// DeleteAsset removes an asset and its download log.
func (s *Service) DeleteAsset(ctx context.Context, programID, id string) error {
	return s.st.InTx(ctx, func(tx *store.Tx) error {
		if err := tx.DeleteAsset(ctx, programID, id); err != nil {
			return err
		}
		return tx.Audit(ctx, auditActor(ctx), AuditAssetDeleted, "partner_asset", id, programID, nil)
	})
}

// DownloadAsset returns an asset's file for a partner whose tier allows
// it, and counts the download. Another program's asset or one above the
// partner's tier is not found.
func (s *Service) DownloadAsset(ctx context.Context, pp store.PartnerProgram, p parrain.Partner, id string) (store.Asset, error) {
	var a store.Asset
	err := s.st.InTx(ctx, func(tx *store.Tx) error {
		var err error
		if a, err = tx.AssetFile(ctx, p.ProgramID, id); err != nil {
			return err
		}
		if !mayDownload(pp, p, a) {
			a = store.Asset{}
			return parrain.Errorf(parrain.CodeNotFound, "asset not found")
		}
		return tx.RecordAssetDownload(ctx, id, p.ID, s.now())
	})
	return a, err
}
