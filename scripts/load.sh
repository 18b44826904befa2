#!/usr/bin/env bash
# Load test of a real Parrain binary on this machine, reported against a
# bare HTTP baseline measured in the same run (see docs/performance.md).
#
# Builds parrain and parrain-load into a temporary directory, starts
# `parrain serve --demo` on a free loopback port with a throw-away SQLite
# database, creates an API key and an advocate, then loads, one after the
# other for LOAD_SECONDS each (default 5, at most 60):
#
#   baseline  a bare in-process server answering 302 (parrain-load itself)
#   redirect  GET /r/{code} with a browser User-Agent (click recorded)
#   events    POST /api/v1/programs/{id}/events, one new signup per request
#
# LOAD_CONCURRENCY sets the number of concurrent clients (default 8).
# Everything stays on 127.0.0.1; the temporary directory is removed and the
# server stopped on exit.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${LOAD_SECONDS:-5}
concurrency=${LOAD_CONCURRENCY:-8}
case "$seconds" in '' | *[!0-9]*) echo "LOAD_SECONDS must be a whole number of seconds" >&2; exit 2 ;; esac
if [ "$seconds" -lt 1 ] || [ "$seconds" -gt 60 ]; then
  echo "LOAD_SECONDS must be between 1 and 60" >&2
  exit 2
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/parrain-load.XXXXXX")
server_pid=""
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

echo "building into $tmp"
CGO_ENABLED=0 go build -o "$tmp/parrain" ./cmd/parrain
CGO_ENABLED=0 go build -o "$tmp/parrain-load" ./cmd/parrain-load

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
base="http://127.0.0.1:$port"
db="$tmp/load.db"

"$tmp/parrain" serve --demo --addr "127.0.0.1:$port" --db "$db" \
  --public-rate 1000000 --public-burst 1000000 >"$tmp/server.log" 2>&1 &
server_pid=$!

curl_() { curl --noproxy '*' -fsS --max-time 10 "$@"; }

for _ in $(seq 1 100); do
  if curl_ -o /dev/null "$base/healthz" 2>/dev/null; then break; fi
  if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "parrain exited during start-up:" >&2
    cat "$tmp/server.log" >&2
    exit 1
  fi
  sleep 0.1
done
curl_ -o /dev/null "$base/healthz" || { echo "parrain did not become healthy:" >&2; cat "$tmp/server.log" >&2; exit 1; }
echo "parrain serving on $base (SQLite $db)"

key=$("$tmp/parrain" apikey create --name load --db "$db")
# A program of its own, so demo settings (such as the friend's landing page,
# which answers 200 instead of redirecting) never change what is measured.
program=$(curl_ -X POST -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
  -d '{"name":"Load test","landing_url":"https://shop.example/join","currency":"EUR","rules":[{"trigger":"signup","advocate":{"kind":"cash","type":"fixed","amount":100}}]}' \
  "$base/api/v1/programs" | python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])')
advocate="$base/api/v1/programs/$program/participants/load_advocate"
code=$(curl_ -X PUT -H "Authorization: Bearer $key" -H 'Content-Type: application/json' \
  -d '{"email":"load-advocate@example.com","name":"Load Advocate"}' "$advocate" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["code"])')
echo "program $program, advocate code $code; ${seconds}s per mode, $concurrency clients"
echo

field() { tr ' ' '\n' | sed -n "s/^$1=//p"; }
declare -A rps p50 p99 errs reqs
for mode in baseline redirect events; do
  echo "== $mode"
  out=$("$tmp/parrain-load" -mode "$mode" -url "$base" -key "$key" -program "$program" -code "$code" \
    -duration "${seconds}s" -concurrency "$concurrency")
  echo "$out" | grep -v '^RESULT '
  line=$(echo "$out" | grep '^RESULT ')
  rps[$mode]=$(field rps <<<"$line")
  p50[$mode]=$(field p50_ms <<<"$line")
  p99[$mode]=$(field p99_ms <<<"$line")
  errs[$mode]=$(field errors <<<"$line")
  reqs[$mode]=$(field requests <<<"$line")
  echo
done

# Redirects answer before their click is written (clicks are batched every
# 200 ms): give the batch writer a moment, then check none was lost.
sleep 1
clicks=$(curl_ -H "Authorization: Bearer $key" "$advocate" | python3 -c 'import json, sys; print(json.load(sys.stdin)["stats"]["clicks"])')

echo "== summary ($(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, ${seconds}s per mode, $concurrency clients, SQLite)"
echo "x-baseline = baseline req/s ÷ mode req/s: how many times the bare 302 server's cost per request"
printf '%-10s %12s %8s %10s %10s %12s\n' mode req/s errors p50_ms p99_ms x-baseline
for mode in baseline redirect events; do
  ratio=$(python3 -c 'import sys; b, r = float(sys.argv[1]), float(sys.argv[2]); print("%.2f" % (b / r) if r > 0 else "n/a")' "${rps[baseline]}" "${rps[$mode]}")
  printf '%-10s %12s %8s %10s %10s %12s\n' "$mode" "${rps[$mode]}" "${errs[$mode]}" "${p50[$mode]}" "${p99[$mode]}" "$ratio"
done
echo "clicks recorded for the advocate: $clicks for ${reqs[redirect]} redirects answered 302"
echo "(a few more clicks than answers is normal: requests cut by the end of the run still reached the server)"
