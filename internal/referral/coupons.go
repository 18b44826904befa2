package referral

import (
	"context"
	"fmt"
	"strings"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// CreateCouponPool creates a code pool in a program, audits it, and
// resumes the deliveries of rewards that waited for it.
func (s *Service) CreateCouponPool(ctx context.Context, programID string, p store.CouponPool, idem store.Idem) (store.CouponPool, bool, error) {
	if err := p.Normalize(); err != nil {
		return p, false, err
	}
	return store.Idempotent(ctx, s.st, idem, func(tx *store.Tx) (store.CouponPool, error) {
		if _, err := tx.Program(ctx, programID); err != nil {
			return p, err
		}
		switch _, err := tx.CouponPool(ctx, programID, p.Name); {
		case err == nil:
			return p, &parrain.Error{Code: parrain.CodeConflict, Field: "name", Message: fmt.Sprintf("the pool %s already exists", p.Name)}
		case parrain.ErrorCode(err) != parrain.CodeNotFound:
			return p, err
		}
		out, err := tx.CreateCouponPool(ctx, programID, p)
		if err != nil {
			return out, err
		}
		if err := tx.Audit(ctx, store.ContextActor(ctx), store.AuditCouponPoolCreated, "coupon_pool", out.ID, programID,
			map[string]any{"name": out.Name, "generated": out.GenerateLength > 0}); err != nil {
			return out, err
		}
		// Rewards may have waited for this pool.
		return out, tx.ResumeFulfilments(ctx, programID, parrain.FulfilWaitingCodes, p.Name)
	})
}

// ImportCodes adds codes to an imported pool. Codes already in the program
// are reported as duplicates and skipped. Rewards waiting for codes of the
// pool are delivered; the pool's empty and low alerts are resolved when
// enough codes are available. The import is audited.
func (s *Service) ImportCodes(ctx context.Context, programID, poolName string, codes []string, idem store.Idem) (store.ImportResult, bool, error) {
	if len(codes) == 0 {
		return store.ImportResult{}, false, parrain.Invalid("codes", "at least one code is required")
	}
	if len(codes) > store.MaxImport {
		return store.ImportResult{}, false, parrain.Invalid("codes", "at most %d codes per request", store.MaxImport)
	}
	clean := make([]string, 0, len(codes))
	for i, c := range codes {
		c = strings.TrimSpace(c)
		if c == "" || len(c) > 100 {
			return store.ImportResult{}, false, parrain.Invalid(fmt.Sprintf("codes[%d]", i), "must be a non-empty code of at most 100 characters")
		}
		for _, r := range c {
			if r < 0x21 || r == 0x7f {
				return store.ImportResult{}, false, parrain.Invalid(fmt.Sprintf("codes[%d]", i), "must be printable without spaces")
			}
		}
		clean = append(clean, c)
	}
	return store.Idempotent(ctx, s.st, idem, func(tx *store.Tx) (store.ImportResult, error) {
		res := store.ImportResult{Duplicates: []string{}}
		pool, err := tx.CouponPool(ctx, programID, poolName)
		if err != nil {
			return res, err
		}
		if pool.GenerateLength > 0 {
			return res, parrain.Invalid("pool", "the pool %s generates its codes: nothing to import", poolName)
		}
		if err := tx.LockCouponPool(ctx, pool.ID); err != nil {
			return res, err
		}
		if res.Imported, res.Duplicates, err = tx.InsertCouponCodes(ctx, pool, clean); err != nil {
			return res, err
		}
		left, waiting, err := tx.CouponStock(ctx, pool)
		if err != nil {
			return res, err
		}
		if left > 0 {
			for _, kind := range []string{store.AlertPoolEmpty, store.AlertPoolMissing} {
				if err := tx.ResolveAlerts(ctx, programID, kind, poolName); err != nil {
					return res, err
				}
			}
		}
		if left-waiting >= int64(pool.LowWater) {
			if err := tx.ResolveAlerts(ctx, programID, store.AlertPoolLow, poolName); err != nil {
				return res, err
			}
		}
		if err := tx.ResumeFulfilments(ctx, programID, parrain.FulfilWaitingCodes, poolName); err != nil {
			return res, err
		}
		pool.Available = left
		res.Pool = pool
		return res, tx.Audit(ctx, store.ContextActor(ctx), store.AuditCouponCodesImported, "coupon_pool", pool.ID, programID,
			map[string]any{"name": pool.Name, "imported": res.Imported, "duplicates": len(res.Duplicates)})
	})
}
