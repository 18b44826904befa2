package store_test

import (
	"bytes"
	"testing"
	"time"

	"github.com/parrainhq/parrain/internal/parrain"
	"github.com/parrainhq/parrain/internal/store"
)

// Partner assets: stored with their content (any bytes), listed newest
// first without it, read with it only through their program, downloads
// counted and logged, deleted with their log.
func TestAssetRows(t *testing.T) {
	each(t, func(t *testing.T, e *env) {
		prog, other := e.Program(nil), e.Program(nil)
		ann := e.partner(prog.ID, "ann@example.com", "Ann")
		pdf := []byte("%PDF-1.7\x00\xff\xfe binary")
		as := []store.Asset{
			{ProgramID: prog.ID, Title: "One pager", Kind: "one_pager", Description: "the pitch", Filename: "pitch.pdf", ContentType: "application/pdf", Size: int64(len(pdf)), Content: pdf, CreatedAt: t0},
			{ProgramID: prog.ID, Title: "Case", Kind: "case_study", Filename: "case.txt", ContentType: "text/plain", Size: 0, Content: []byte{}, MinTier: "gold", CreatedAt: t0.Add(time.Hour)},
			{ProgramID: other.ID, Title: "Elsewhere", Kind: "other", Filename: "x.txt", ContentType: "text/plain", Size: 1, Content: []byte("x"), CreatedAt: t0},
		}
		e.inTx(func(tx *store.Tx) error {
			for i := range as {
				if err := tx.InsertAsset(ctx, &as[i]); err != nil {
					return err
				}
			}
			return nil
		})
		list, err := e.St.Assets(ctx, prog.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(list) != 2 || list[0].ID != as[1].ID || list[1].ID != as[0].ID {
			t.Fatalf("assets %+v", list)
		}
		if a := list[1]; a.Title != "One pager" || a.Kind != "one_pager" || a.Description != "the pitch" || a.Filename != "pitch.pdf" ||
			a.ContentType != "application/pdf" || a.Size != int64(len(pdf)) || a.MinTier != "" || a.Downloads != 0 || a.Content != nil || !a.CreatedAt.Equal(t0) {
			t.Errorf("listed as %+v", a)
		}
		if list[0].MinTier != "gold" {
			t.Errorf("min tier %q", list[0].MinTier)
		}

		for _, c := range []struct {
			name, prog, id string
			content        []byte
		}{
			{"binary content", prog.ID, as[0].ID, pdf},
			{"empty content", prog.ID, as[1].ID, []byte{}},
			{"through another program", other.ID, as[0].ID, nil},
			{"unknown", prog.ID, "pas_none", nil},
		} {
			e.inTx(func(tx *store.Tx) error {
				a, err := tx.AssetFile(ctx, c.prog, c.id)
				if c.content == nil {
					if parrain.ErrorCode(err) != parrain.CodeNotFound {
						t.Errorf("%s: %v", c.name, err)
					}
					return nil
				}
				if a.ID != c.id || !bytes.Equal(a.Content, c.content) || a.Size != int64(len(c.content)) {
					t.Errorf("%s: %+v", c.name, a)
				}
				return err
			})
		}

		for range 3 {
			e.inTx(func(tx *store.Tx) error { return tx.RecordAssetDownload(ctx, as[0].ID, ann, tx.Now()) })
		}
		list, err = e.St.Assets(ctx, prog.ID)
		if err != nil {
			t.Fatal(err)
		}
		if list[1].Downloads != 3 || list[0].Downloads != 0 {
			t.Errorf("downloads %d %d", list[1].Downloads, list[0].Downloads)
		}
		downloads := func() int {
			var n int
			if err := e.St.DB().QueryRow(`SELECT COUNT(*) FROM partner_asset_downloads WHERE asset_id = $1 AND partner_id = $2`, as[0].ID, ann).Scan(&n); err != nil {
				t.Fatal(err)
			}
			return n
		}
		if n := downloads(); n != 3 {
			t.Fatalf("%d downloads logged", n)
		}

		if err := e.St.InTx(ctx, func(tx *store.Tx) error { return tx.DeleteAsset(ctx, other.ID, as[0].ID) }); parrain.ErrorCode(err) != parrain.CodeNotFound {
			t.Fatalf("deleting through another program: %v", err)
		}
		if n := downloads(); n != 3 {
			t.Fatalf("a refused delete removed the log: %d", n)
		}
		e.inTx(func(tx *store.Tx) error { return tx.DeleteAsset(ctx, prog.ID, as[0].ID) })
		if n := downloads(); n != 0 {
			t.Fatalf("%d downloads left after deleting", n)
		}
		if l, err := e.St.Assets(ctx, prog.ID); err != nil || len(l) != 1 || l[0].ID != as[1].ID {
			t.Fatalf("after delete: %+v %v", l, err)
		}
		if l, err := e.St.Assets(ctx, other.ID); err != nil || len(l) != 1 {
			t.Fatalf("the other program's: %+v %v", l, err)
		}
	})
}
