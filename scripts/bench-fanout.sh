#!/usr/bin/env bash
# Benchmark: one change pushed to 10,000 WebSocket clients of one server, over loopback.
#
# Starts `salespulse serve` on a fresh database holding DAYS days of sales (ROWS a day), then
# runs the server package's gated fan-out test, which connects CLIENTS clients (one Go
# process holding all the connections), loads a 1,000-row file ROUNDS times and times, per
# client, from the load's NOTIFY to the whole new snapshot read; it prints p50/p90/p99/max,
# clients that never got it, and the server's RSS per client.
#
#   scripts/bench-fanout.sh
#   CLIENTS=2000 ROUNDS=3 scripts/bench-fanout.sh
#   COMPRESS=1 scripts/bench-fanout.sh       # clients negotiate permessage-deflate, as browsers do
#
# Needs go, psql and a PostgreSQL server at PG_URL; raises the open-files limit (as root it
# may raise the hard limit too).
set -euo pipefail

CLIENTS=${CLIENTS:-10000}
ROUNDS=${ROUNDS:-5}
DAYS=${DAYS:-30}
ROWS=${ROWS:-1000}
COMPRESS=${COMPRESS:-0}
PORT=${PORT:-18431}
DB=${DB:-salespulse_bench_fanout}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
WORK=${WORK:-$(mktemp -d)}
cd "$(dirname "$0")/.."

need=$((CLIENTS + 1024))
if [ "$(ulimit -n)" -lt "$need" ]; then
  ulimit -n "$need" 2>/dev/null || ulimit -Hn "$need" && ulimit -n "$need"
fi
echo "open files limit: $(ulimit -n)"

base=${PG_URL%/*}
URL="$base/$DB"
psql "$PG_URL" -qAt -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" -c "CREATE DATABASE $DB"

go build -o "$WORK/salespulse" .
SP="$WORK/salespulse"
last=$(date -d "2024-12-31" +%F)
first=$(date -d "$last - $((DAYS - 1)) days" +%F)
"$SP" generate --rows $((DAYS * ROWS)) --seed 7 --date "$first..$last" --out "$WORK/base.csv" 2>/dev/null
"$SP" load --database-url "$URL" "$WORK/base.csv"

"$SP" serve --database-url "$URL" --addr "127.0.0.1:$PORT" > "$WORK/serve.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break
  sleep 0.1
done

FANOUT_BENCH_ADDR="127.0.0.1:$PORT" FANOUT_SERVER_PID="$server" FANOUT_DATABASE_URL="$URL" \
FANOUT_CLIENTS="$CLIENTS" FANOUT_ROUNDS="$ROUNDS" FANOUT_COMPRESS="$COMPRESS" \
  go test ./server -run '^TestFanout$' -count=1 -v -timeout 30m | grep -v '^=== RUN'
curl -s "http://127.0.0.1:$PORT/metrics" | grep -E '^salespulse_(push_latency_seconds_(sum|count)|ws_dropped_total|ws_clients|snapshot_compute_seconds_(sum|count))'
