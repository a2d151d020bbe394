#!/usr/bin/env bash
# Benchmark: KPI snapshot latency with 10 million sales loaded.
#
# Builds (once) a dedicated database of FILES files of ROWS sales each, spread over two years
# (`salespulse generate` with different seeds, loaded with `salespulse load`: the real bulk
# path, rollups included), then runs the server package's gated latency test, which computes
# whole snapshots (every query of one, uncached) ROUNDS times for five views, on one
# connection and on two (the server's default), in alternation, and prints p50/p95/max and
# the median time of each query; it writes EXPLAIN (ANALYZE, BUFFERS) of every query of every
# view to OUT and fails if any plan reads the sales table.
#
#   scripts/bench-kpi.sh                        # 10 x 1,000,000 sales, reused when present
#   FILES=2 ROWS=500000 DB=bench_kpi_small scripts/bench-kpi.sh
#   FRESH=1 scripts/bench-kpi.sh                # drop and rebuild the database
#
# Building the 10-million-sale database takes 10 to 15 minutes on 2 cores (once). Needs go, psql and a PostgreSQL
# server at PG_URL.
set -euo pipefail

FILES=${FILES:-10}
ROWS=${ROWS:-1000000}
SPAN=${SPAN:-2023-01-01..2024-12-31}
DB=${DB:-salespulse_bench_kpi}
ROUNDS=${ROUNDS:-200}
FRESH=${FRESH:-0}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
WORK=${WORK:-$(mktemp -d)}
OUT=${OUT:-$WORK/explain}
cd "$(dirname "$0")/.."

base=${PG_URL%/*}
URL="$base/$DB"
psql_admin() { psql "$PG_URL" -qAt -v ON_ERROR_STOP=1 "$@"; }

go build -o "$WORK/salespulse" .
SP="$WORK/salespulse"

# The database is reused while the schema it was built with is the one in schema/ (the
# rollup migration is edited in place until the first release); otherwise it is rebuilt.
fingerprint="salespulse schema $(cat schema/*.sql | md5sum | cut -d' ' -f1)"
built=$(psql_admin -c "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = '$DB'")
if [ "$FRESH" = 1 ] || { [ -n "$built" ] && [ "$built" != "$fingerprint" ]; }; then
  echo "rebuilding $DB (FRESH=1, or the schema changed since it was built)"
  psql_admin -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)"
fi
if [ -z "$(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$DB'")" ]; then
  psql_admin -c "CREATE DATABASE $DB"
fi
"$SP" migrate --database-url "$URL" >/dev/null

# Files are told apart by their seed; one already loaded (same bytes) is skipped by load
# itself, so an interrupted build resumes where it stopped.
loaded=$(psql "$URL" -qAt -c "SELECT count(*) FROM ingested_files WHERE status = 'loaded'")
if [ "$loaded" -lt "$FILES" ]; then
  for i in $(seq "$FILES"); do
    csv="$WORK/sales_$i.csv"
    "$SP" generate --rows "$ROWS" --seed "$((1000 + i))" --date "$SPAN" --out "$csv" 2>/dev/null
    start=$(date +%s.%N)
    "$SP" load --json --database-url "$URL" "$csv" > "$WORK/load.json"
    end=$(date +%s.%N)
    grep -Eq '"status":"(loaded|skipped)"' "$WORK/load.json" || { cat "$WORK/load.json"; exit 1; }
    printf 'file %d/%d: %s (%.1f s)\n' "$i" "$FILES" "$(grep -o '"status":"[a-z]*"' "$WORK/load.json")" "$(echo "$end - $start" | bc)"
    rm -f "$csv"
  done
  psql "$URL" -qc "VACUUM ANALYZE"
  psql_admin -c "COMMENT ON DATABASE $DB IS '$fingerprint'"
fi
psql "$URL" -qAt -c "SELECT 'sales loaded: ' || sum(rows_loaded) || ' in ' || count(*) || ' files' FROM ingested_files WHERE status = 'loaded'"
psql "$URL" -qAt -c "SELECT 'rollup rows: cube ' || (SELECT count(*) FROM kpi_cube) || ', product ' || (SELECT count(*) FROM kpi_product) || ', rep ' || (SELECT count(*) FROM kpi_rep)"

mkdir -p "$OUT"
KPI_BENCH_DATABASE_URL="$URL" KPI_BENCH_ROUNDS="$ROUNDS" KPI_BENCH_EXPLAIN_DIR="$OUT" \
  go test ./server -run '^TestKPILatency$' -count=1 -v -timeout 30m | grep -v '^=== RUN'
echo "EXPLAIN (ANALYZE, BUFFERS) of every query: $OUT"
if grep -l 'on sales\b' "$OUT"/*.txt >/dev/null 2>&1; then
  echo "FAIL: a plan reads the sales table:"; grep -l 'on sales\b' "$OUT"/*.txt; exit 1
fi
