// Package dbtest gives tests a fresh database on each engine Parrain
// supports: a SQLite file in a temporary directory, and a throw-away schema
// on the PostgreSQL server named by PARRAIN_TEST_POSTGRES_URL (default
// postgres://postgres@127.0.0.1:5432/postgres). When PostgreSQL is not
// reachable the PostgreSQL half is skipped with a visible message, unless
// PARRAIN_TEST_POSTGRES_REQUIRED=1 (as in CI), where it fails.
package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"path/filepath"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // PostgreSQL driver

	"github.com/parrainhq/parrain/internal/secretbox"
)

// DefaultPostgresURL is used when PARRAIN_TEST_POSTGRES_URL is unset.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// PoolMaxConns caps the connection pool of each store opened on a test
// PostgreSQL URL (store.Open reads the pool_max_conns URL parameter).
const PoolMaxConns = "4"

// Engines are the database engines tests run against.
var Engines = []string{"sqlite", "postgres"}

// URL returns the database URL of a fresh, empty database on engine, or
// skips (or fails) the test when the engine is unavailable.
func URL(t testing.TB, engine string) string {
	t.Helper()
	switch engine {
	case "sqlite":
		return filepath.Join(t.TempDir(), "parrain.db")
	case "postgres":
		return postgresSchema(t)
	}
	t.Fatalf("unknown engine %q", engine)
	return ""
}

// Each runs fn as a subtest once per engine, each with a fresh database URL.
func Each(t *testing.T, fn func(t *testing.T, dbURL string)) {
	for _, e := range Engines {
		t.Run(e, func(t *testing.T) { fn(t, URL(t, e)) })
	}
}

func postgresSchema(t testing.TB) string {
	base := os.Getenv("PARRAIN_TEST_POSTGRES_URL")
	if base == "" {
		base = DefaultPostgresURL
	}
	db, err := sql.Open("pgx", base)
	if err == nil {
		db.SetMaxOpenConns(1)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		err = db.PingContext(ctx)
		cancel()
	}
	if err != nil {
		if os.Getenv("PARRAIN_TEST_POSTGRES_REQUIRED") == "1" {
			t.Fatalf("PostgreSQL required but not reachable at %s: %v", base, err)
		}
		t.Skipf("SKIP PostgreSQL half: not reachable at %s (%v); set PARRAIN_TEST_POSTGRES_URL", base, err)
	}
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	schema := "t_" + hex.EncodeToString(b)
	if _, err := db.Exec(`CREATE SCHEMA ` + schema); err != nil {
		t.Fatalf("creating schema: %v", err)
	}
	t.Cleanup(func() {
		_, _ = db.Exec(`DROP SCHEMA ` + schema + ` CASCADE`)
		db.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("parsing %s: %v", base, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	// Keep every test store's pool small: packages run in parallel and the
	// whole suite must stay well under PostgreSQL's default 100 connections.
	q.Set("pool_max_conns", PoolMaxConns)
	if q.Get("sslmode") == "" {
		q.Set("sslmode", "disable")
	}
	u.RawQuery = q.Encode()
	return u.String()
}

// TestKey is the secret key (internal/secretbox) tests open their stores
// with: fixed, so that a test may reopen a database.
const TestKey = "cGFycmFpbi10ZXN0LWtleS0wMTIzNDU2Nzg5YWJjZGU="

// Keys returns a keyring holding TestKey, for store.Options.Keys.
func Keys() *secretbox.Keyring {
	k, err := secretbox.ParseKey(TestKey)
	if err != nil {
		panic(err)
	}
	return secretbox.NewKeyring(k)
}
