package store_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/parrainhq/parrain/internal/access"

	"github.com/parrainhq/parrain/internal/dbtest"
	"github.com/parrainhq/parrain/internal/store"
)

func TestBackupCopiesWhileOpen(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, filepath.Join(dir, "live.db"), store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if _, _, err := access.New(st, nil, access.Config{}).CreateAPIKey(ctx, "before backup", store.AllScopes, ""); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "copy.db")
	if err := st.Backup(ctx, out); err != nil {
		t.Fatal(err)
	}
	if err := st.Backup(ctx, out); err == nil {
		t.Error("a second backup over an existing file succeeded")
	}
	cp, err := store.Open(ctx, out, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer cp.Close()
	if err := cp.IntegrityCheck(ctx); err != nil {
		t.Fatal(err)
	}
	keys, err := cp.APIKeys(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || keys[0].Name != "before backup" {
		t.Errorf("keys in the copy: %+v", keys)
	}
	if string(cp.Secret()) != string(st.Secret()) {
		t.Error("the copy has another installation secret")
	}
}

func TestBackupRefusesPostgres(t *testing.T) {
	url := dbtest.URL(t, "postgres")
	st, err := store.Open(context.Background(), url, store.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Backup(context.Background(), filepath.Join(t.TempDir(), "x.db")); !errors.Is(err, store.ErrBackupPostgres) {
		t.Errorf("err = %v, want ErrBackupPostgres", err)
	}
}
