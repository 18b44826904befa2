#!/usr/bin/env bash
# Runs the whole test suite. When a PostgreSQL server answers on
# 127.0.0.1:5432 (or PARRAIN_TEST_POSTGRES_ADMIN_URL), a throw-away database
# is created for this run and dropped afterwards; without one, the
# PostgreSQL half of the tests is skipped with a visible message (CI sets
# PARRAIN_TEST_POSTGRES_REQUIRED=1 to make that a failure instead).
set -euo pipefail
cd "$(dirname "$0")/.."

admin=${PARRAIN_TEST_POSTGRES_ADMIN_URL:-postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable}
if [ -z "${PARRAIN_TEST_POSTGRES_URL:-}" ]; then
  if command -v psql >/dev/null 2>&1 && psql "$admin" -Atqc 'SELECT 1' >/dev/null 2>&1; then
    db="parrain_test_$$_${RANDOM}"
    psql "$admin" -qc "CREATE DATABASE $db" >/dev/null
    trap 'psql "$admin" -qc "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true' EXIT
    export PARRAIN_TEST_POSTGRES_URL="${admin%%/postgres\?*}/$db?sslmode=disable"
    echo "test database: $db (dropped at exit)"
  else
    echo "NOTE: no PostgreSQL at $admin: PostgreSQL tests will be skipped (set PARRAIN_TEST_POSTGRES_URL)" >&2
  fi
fi

go vet ./...
go test -count=1 -timeout 15m ./...
