#!/usr/bin/env bash
# Benchmark: `salespulse load` against `psql \copy` of the same CSV file, in the same run.
#
# The reference is the original project's table: the same 24 columns as FLOAT and VARCHAR with
# a VARCHAR primary key, filled by psql's \copy (the server parses the CSV). Rounds alternate
# between the two, each into a fresh database, and medians are compared, because timings on
# a shared 2-core machine vary from run to run. Then memory: max RSS of `load` for the file
# and for one ten times larger.
#
#   scripts/bench-load.sh                     # 1,000,000 rows, 3 rounds
#   ROWS=200000 ROUNDS=5 scripts/bench-load.sh
#   SPAN=2024-01-01..2024-12-31 scripts/bench-load.sh   # one year of sales in one file
#
# Needs: go, psql, GNU time (/usr/bin/time), a PostgreSQL server at PG_URL.
set -euo pipefail

ROWS=${ROWS:-1000000}
ROUNDS=${ROUNDS:-3}
SPAN=${SPAN:-2024-06-03}          # a daily file, as salespulse receives them
MEMORY=${MEMORY:-1}               # also measure max RSS at ROWS and 10 x ROWS
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
WORK=${WORK:-$(mktemp -d)}
cd "$(dirname "$0")/.."

base=${PG_URL%/*}
db_url() { echo "$base/$1"; }
psql_admin() { psql "$PG_URL" -qAt -v ON_ERROR_STOP=1 "$@"; }
fresh_db() { psql_admin -c "DROP DATABASE IF EXISTS $1 WITH (FORCE)" -c "CREATE DATABASE $1"; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

go build -o "$WORK/salespulse" .
SP="$WORK/salespulse"
CSV="$WORK/sales.csv"
"$SP" generate --rows "$ROWS" --seed 42 --date "$SPAN" --out "$CSV"
size_mb=$(( $(stat -c %s "$CSV") / 1048576 ))

REF_TABLE="CREATE TABLE sales_reference (sale_date varchar, sale_id varchar PRIMARY KEY,
 product_id varchar, product_name varchar, product_category varchar, quantity_sold float,
 unit_price float, discount float, total_value float, unit_cost float, total_cost float,
 gross_profit float, payment_method varchar, payment_status varchar, payment_date varchar,
 customer_id varchar, customer_name varchar, sales_channel varchar, sales_region varchar,
 sales_rep varchar, customer_rating varchar, shipping_cost float, delivery_status varchar,
 delivery_date varchar)"

load_times=() copy_times=()
for round in $(seq "$ROUNDS"); do
  fresh_db bench_load
  "$SP" migrate --database-url "$(db_url bench_load)" >/dev/null
  psql "$(db_url bench_load)" -qc CHECKPOINT
  start=$(date +%s.%N)
  "$SP" load --json --database-url "$(db_url bench_load)" "$CSV" > "$WORK/load.json"
  end=$(date +%s.%N)
  grep -q '"status":"loaded"' "$WORK/load.json" || { cat "$WORK/load.json"; exit 1; }
  load_times+=("$(echo "$end - $start" | bc)")

  fresh_db bench_copy
  psql "$(db_url bench_copy)" -qc "$REF_TABLE" -c CHECKPOINT
  start=$(date +%s.%N)
  psql "$(db_url bench_copy)" -qc "\\copy sales_reference FROM '$CSV' WITH (FORMAT csv, HEADER true)"
  end=$(date +%s.%N)
  copy_times+=("$(echo "$end - $start" | bc)")
  printf 'round %d: load %.2f s, \\copy %.2f s\n' "$round" "${load_times[-1]}" "${copy_times[-1]}"
done
load_med=$(printf '%s\n' "${load_times[@]}" | median)
copy_med=$(printf '%s\n' "${copy_times[@]}" | median)

echo
echo "file: $ROWS rows, $size_mb MiB, sale dates $SPAN"
printf 'salespulse load: median %.2f s  (%.0f rows/s)\n' "$load_med" "$(echo "$ROWS / $load_med" | bc -l)"
printf 'psql \\copy:      median %.2f s  (%.0f rows/s)\n' "$copy_med" "$(echo "$ROWS / $copy_med" | bc -l)"
printf 'ratio (\\copy time / load time): %.2f  (target >= 1.0)\n' "$(echo "$copy_med / $load_med" | bc -l)"

if [ "$MEMORY" = 1 ]; then
  big="$WORK/sales10x.csv"
  "$SP" generate --rows $((ROWS * 10)) --seed 43 --date "$SPAN" --out "$big"
  for f in "$CSV" "$big"; do
    fresh_db bench_load
    /usr/bin/time -f '%M' -o "$WORK/rss" "$SP" load --json --database-url "$(db_url bench_load)" "$f" > "$WORK/load.json"
    grep -q '"status":"loaded"' "$WORK/load.json" || { cat "$WORK/load.json"; exit 1; }
    printf 'max RSS of load, %d MiB file: %d MiB\n' $(( $(stat -c %s "$f") / 1048576 )) $(( $(cat "$WORK/rss") / 1024 ))
  done
  rm -f "$big"
fi
psql_admin -c "DROP DATABASE IF EXISTS bench_load WITH (FORCE)" -c "DROP DATABASE IF EXISTS bench_copy WITH (FORCE)"
rm -rf "$WORK"
