#!/usr/bin/env bash
# The proof: every benchmark and fault test of salespulse, run against the real binary, the
# local PostgreSQL and the in-process Kafka and S3, with a markdown report of the machine, the
# date, and for each item what was done, what was checked, the figure, its reference measured
# in the same run, the target, and whether it was met (docs/PERFORMANCE.md).
#
#   make proof                                  # full sizes, about an hour on 2 cores (+15 min if the KPI database must be built)
#   PROOF_QUICK=1 scripts/proof.sh              # small sizes: checks the machinery, proves nothing
#   SECTIONS="load freshness" scripts/proof.sh  # some sections only
#
# Every section runs, whatever happened to the ones before (a failure is recorded in the
# report), each under a time limit (PROOF_TIMEOUT_SCALE=2 doubles them all). Settings, with
# their full (and PROOF_QUICK=1) values:
#
#   ROWS=1000000 (20000)      rows of the file `load` and `psql \copy` read; ROUNDS=3 rounds
#   MEM_ROWS=10000000 (200000) rows of the large file whose max RSS is measured (10M ≈ 2.1 GB)
#   WORKER_ROWS=ROWS          rows of the file loaded through the worker and by `load`
#   FRESH_FILES=100 (20)      1,000-row files put for the freshness percentiles
#   KPI_DB=salespulse_bench_kpi (salespulse_bench_kpi_quick), KPI_FILES=10 (2) files of
#   KPI_ROWS=1000000 (20000) sales, KPI_ROUNDS=200 (20): the KPI database is built once and
#                             reused (scripts/bench-kpi.sh); the full one takes ~15 minutes
#   CLIENTS=10000 (500), FANOUT_ROUNDS=5 (2), FANOUT_PORT=18431: WebSocket fan-out
#   KILLS=20 (5), STREAM_FILES=40 (12), STREAM_BIG_ROWS=200000 (30000): SIGKILL over a stream
#   PG_RESTART_ROWS=400000 (100000): the file in its COPY when PostgreSQL restarts;
#                             PROOF_PG_RESTART=0 skips that section (it restarts the shared
#                             server: run the proof alone on the machine)
#   REPLAY_FILES=12 (6)       daily files on the topic before the replay
#   ABUSE_IDLE=10000 (300), ABUSE_STALLED=200 (20), ABUSE_BIG=100 (10): WebSocket abuse
#   FUZZTIME=10m (20s)        per fuzz target
#   PROOF_REPORT=docs/PERFORMANCE.md (test-artifacts/PERFORMANCE.quick.md), PROOF_LOGS=
#   test-artifacts/proof/<time>: where the report and each section's whole output go
#   PG_URL=postgres://postgres@127.0.0.1:5432/postgres
#
# Needs go, psql, GNU time, curl, pg_ctlcluster (Debian's postgresql-common) and root or the
# postgres user for the restart, and a PostgreSQL server at PG_URL.
set -uo pipefail
cd "$(dirname "$0")/.."

QUICK=${PROOF_QUICK:-0}
pick() { if [ "$QUICK" = 1 ]; then echo "$1"; else echo "$2"; fi }

LOAD_ROWS=${ROWS:-$(pick 20000 1000000)}
LOAD_ROUNDS=${ROUNDS:-3}
MEM_ROWS=${MEM_ROWS:-$(pick 200000 10000000)}
WORKER_ROWS=${WORKER_ROWS:-$LOAD_ROWS}
FRESH_FILES=${FRESH_FILES:-$(pick 20 100)}
KPI_DB=${KPI_DB:-$(pick salespulse_bench_kpi_quick salespulse_bench_kpi)}
KPI_FILES=${KPI_FILES:-$(pick 2 10)}
KPI_ROWS=${KPI_ROWS:-$(pick 20000 1000000)}
KPI_ROUNDS=${KPI_ROUNDS:-$(pick 20 200)}
CLIENTS=${CLIENTS:-$(pick 500 10000)}
FANOUT_ROUNDS=${FANOUT_ROUNDS:-$(pick 2 5)}
FANOUT_PORT=${FANOUT_PORT:-18431}
KILLS=${KILLS:-$(pick 5 20)}
STREAM_FILES=${STREAM_FILES:-$(pick 12 40)}
STREAM_BIG_ROWS=${STREAM_BIG_ROWS:-$(pick 30000 200000)}
PG_RESTART_ROWS=${PG_RESTART_ROWS:-$(pick 100000 400000)}
PG_RESTART=${PROOF_PG_RESTART:-1}
REPLAY_FILES=${REPLAY_FILES:-$(pick 6 12)}
ABUSE_IDLE=${ABUSE_IDLE:-$(pick 300 10000)}
ABUSE_STALLED=${ABUSE_STALLED:-$(pick 20 200)}
ABUSE_BIG=${ABUSE_BIG:-$(pick 10 100)}
FUZZTIME=${FUZZTIME:-$(pick 20s 10m)}
SCALE=${PROOF_TIMEOUT_SCALE:-1}
PG_URL=${PG_URL:-postgres://postgres@127.0.0.1:5432/postgres}
SECTIONS=${SECTIONS:-load memory worker freshness kpi fanout kill replay abuse fuzz pgrestart}
REPORT=${PROOF_REPORT:-$(pick test-artifacts/PERFORMANCE.quick.md docs/PERFORMANCE.md)}
STAMP=$(date -u +%Y%m%dT%H%M%SZ)
LOGS=${PROOF_LOGS:-test-artifacts/proof/$STAMP}
export PG_TEST_URL=${PG_TEST_URL:-$PG_URL}

# --- the memory section runs as its own process (under `timeout`) ---------------------------
if [ "${1:-}" = "_memory" ]; then
  set -e
  work=$(mktemp -d)
  trap 'rm -rf "$work"; psql "$PG_URL" -qAt -c "DROP DATABASE IF EXISTS proof_mem WITH (FORCE)" >/dev/null 2>&1 || true' EXIT
  go build -o "$work/salespulse" .
  url="${PG_URL%/*}/proof_mem"
  small=$((MEM_ROWS / 10))
  for rows in "$small" "$MEM_ROWS"; do
    "$work/salespulse" generate --rows "$rows" --seed 43 --date 2024-06-03 --out "$work/mem.csv"
    psql "$PG_URL" -qAt -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS proof_mem WITH (FORCE)" -c "CREATE DATABASE proof_mem"
    "$work/salespulse" migrate --database-url "$url" >/dev/null
    start=$(date +%s.%N)
    /usr/bin/time -f '%M' -o "$work/rss" "$work/salespulse" load --json --database-url "$url" "$work/mem.csv" > "$work/load.json"
    end=$(date +%s.%N)
    cat "$work/load.json"
    grep -q '"status":"loaded"' "$work/load.json"
    printf 'MEM rows=%d bytes=%d rss_kib=%d seconds=%.1f\n' "$rows" "$(stat -c %s "$work/mem.csv")" "$(cat "$work/rss")" "$(echo "$end - $start" | bc)"
    rm -f "$work/mem.csv"
  done
  exit 0
fi

mkdir -p "$LOGS" "$(dirname "$REPORT")"
LOGS=$(cd "$LOGS" && pwd)
PROOF_START=$(date -u '+%Y-%m-%d %H:%M:%S UTC')
T0=$(date +%s)

# --- helpers -----------------------------------------------------------------------------------
declare -A RC SECS LOADAVG TITLE DONE CHECKED FIGURE REFERENCE TARGET VERDICT NOTE RERUN EXCERPT
ORDER=()

loadavg() { cut -d' ' -f1-3 /proc/loadavg; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && a + 0 >= b + 0) }'; }
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && a + 0 <= b + 0) }'; }
lt() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && a + 0 < b + 0) }'; }
# limit MINUTES: a duration for timeout, scaled
limit() { awk -v m="$1" -v s="$SCALE" 'BEGIN { printf "%ds", m * s * 60 }'; }
# kv LINE KEY: the value of key=value in a line
kv() { tr ' ' '\n' <<<"$1" | sed -n "s/^$2=//p" | head -1; }
# metric LOG UNIT: the value before a benchmark unit ("123.4 p95_ms")
metric() { awk -v u="$2" '/^Benchmark/ { for (i = 2; i <= NF; i++) if ($i == u) v = $(i - 1) } END { print v }' "$1"; }
size_of() { awk -v b="$1" 'BEGIN { if (b == "") print "?"; else if (b >= 1e9) printf "%.2f GB", b / 1e9; else printf "%.0f MB", b / 1e6 }'; }
escape() { sed 's/|/\\|/g' <<<"$1"; }

# run ID MINUTES COMMAND...: runs one section's command under a time limit, its whole output
# in $LOGS/ID.log; the exit status, duration and load average are kept for the report.
run() {
  local id=$1 minutes=$2
  shift 2
  local before start
  before=$(loadavg)
  start=$(date +%s)
  printf '[%s] %-10s started (limit %s min): %s\n' "$(date +%H:%M:%S)" "$id" "$(awk -v m="$minutes" -v s="$SCALE" 'BEGIN{print m*s}')" "$*" | tee -a "$LOGS/proof.log"
  timeout --kill-after=60s "$(limit "$minutes")" "$@" > "$LOGS/$id.log" 2>&1
  RC[$id]=$?
  SECS[$id]=$(( $(date +%s) - start ))
  LOADAVG[$id]="$before → $(loadavg)"
}

# failure ID: what went wrong, from the exit status and the log
failure() {
  local id=$1 rc=${RC[$1]}
  if [ "$rc" = 124 ] || [ "$rc" = 137 ]; then
    echo "timed out after ${SECS[$id]} s (limit)"
  else
    local why
    why=$(grep -E -- '--- FAIL|^FAIL|panic:|Error|error:|_test.go:[0-9]+:|^FAIL:' "$LOGS/$id.log" | grep -v '^time=' | head -6 | cut -c1-300 | tr '\n' ' ')
    echo "exit status $rc${why:+: $why}"
  fi
}

# record ID TITLE DONE CHECKED FIGURE REFERENCE TARGET VERDICT NOTE RERUN
record() {
  local id=$1
  ORDER+=("$id")
  TITLE[$id]=$2 DONE[$id]=$3 CHECKED[$id]=$4 FIGURE[$id]=$5 REFERENCE[$id]=$6 TARGET[$id]=$7 VERDICT[$id]=$8 NOTE[$id]=$9 RERUN[$id]=${10}
  EXCERPT[$id]=$(grep -v -E '^time=|^\s*$|^=== (RUN|PAUSE|CONT)' "$LOGS/$id.log" 2>/dev/null | tail -40)
  printf '[%s] %-10s %s (%s s)\n' "$(date +%H:%M:%S)" "$id" "$8" "${SECS[$id]:-0}" | tee -a "$LOGS/proof.log"
}

# verdict ID MET(0/1) [MISS-EXPLANATION]: met, missed, or failed when the command failed
verdict() {
  local id=$1 met=$2
  if [ "${RC[$id]}" != 0 ]; then
    echo "**failed** — $(failure "$id")"
  elif [ "$met" = 1 ]; then
    echo "met"
  else
    echo "**missed**"
  fi
}

skipped() { record "$1" "$2" "$3" "$4" "—" "—" "$5" "skipped: $6" "" "$7"; }

want() { [[ " $SECTIONS " == *" $1 "* ]]; }

ensure_postgres() {
  local ver cluster
  read -r ver cluster _ < <(pg_lsclusters --no-header 2>/dev/null | head -1)
  if [ -n "${ver:-}" ] && ! pg_ctlcluster "$ver" "$cluster" status >/dev/null 2>&1; then
    echo "PostgreSQL $ver/$cluster is down: starting it" | tee -a "$LOGS/proof.log"
    pg_ctlcluster --skip-systemctl-redirect "$ver" "$cluster" start 2>&1 | tee -a "$LOGS/proof.log"
  fi
  for _ in $(seq 120); do
    psql "$PG_URL" -qAtc 'SELECT 1' >/dev/null 2>&1 && return 0
    sleep 0.5
  done
  echo "PostgreSQL does not answer at $PG_URL" | tee -a "$LOGS/proof.log"
  return 1
}
trap ensure_postgres EXIT

GOTEST=(go test -count=1)

# --- the sections --------------------------------------------------------------------------

section_load() {
  local t="ETL: \`load\` against \`psql \\copy\`"
  run load 60 env -u WORK -u OUT ROWS="$LOAD_ROWS" ROUNDS="$LOAD_ROUNDS" MEMORY=0 SPAN=2024-06-03 PG_URL="$PG_URL" scripts/bench-load.sh
  local log=$LOGS/load.log lm cm ratio size
  lm=$(awk '/^salespulse load:/ { print $4 }' "$log")
  cm=$(awk '/^psql .copy:/ { print $4 }' "$log")
  ratio=$(grep -oP 'load time\): \K[0-9.]+' "$log")
  size=$(grep -oP '^file: [0-9]+ rows, \K[0-9]+' "$log")
  local met=0 note=""
  ge "$ratio" 1.0 && met=1
  [ "$met" = 0 ] && [ -n "$ratio" ] && note="\`load\` took $lm s where \`\\copy\` took $cm s. \`load\` parses and validates every row in Go, computes the sale keys, folds the rollups and writes the ledger in the same transaction; \`\\copy\` only parses into untyped columns. Run it alone with \`LOG_LEVEL=debug\` to see the phases."
  record load "$t" \
    "$(printf "%'d" "$LOAD_ROWS")-row daily file ($size MiB, \`salespulse generate --seed 42\`); $LOAD_ROUNDS alternating rounds, each into a fresh database after a CHECKPOINT: \`salespulse load\` (typed table, keys, rollups, ledger, one transaction) and \`psql \\copy\` into the original project's table (24 FLOAT/VARCHAR columns, VARCHAR primary key)" \
    "every row loaded (\`\"status\":\"loaded\"\`); medians of the wall times" \
    "${ratio:-?}× (\`load\` ${lm:-?} s)" \
    "\`psql \\copy\` ${cm:-?} s" \
    "≥ 1.0×" "$(verdict load $met)" "$note" \
    "\`ROWS=$LOAD_ROWS ROUNDS=$LOAD_ROUNDS MEMORY=0 scripts/bench-load.sh\`"
}

section_memory() {
  local t="ETL: memory for a large file"
  run memory 60 env MEM_ROWS="$MEM_ROWS" PG_URL="$PG_URL" "$0" _memory
  local log=$LOGS/memory.log small big
  small=$(grep '^MEM ' "$log" | head -1)
  big=$(grep '^MEM ' "$log" | sed -n 2p)
  local bmb smb bsize ssize met=0
  bmb=$(awk -v k="$(kv "$big" rss_kib)" 'BEGIN { if (k != "") printf "%.0f", k * 1024 / 1e6 }')
  smb=$(awk -v k="$(kv "$small" rss_kib)" 'BEGIN { if (k != "") printf "%.0f", k * 1024 / 1e6 }')
  bsize=$(size_of "$(kv "$big" bytes)")
  ssize=$(size_of "$(kv "$small" bytes)")
  lt "$bmb" 200 && met=1
  record memory "$t" \
    "\`salespulse load\` of a $(printf "%'d" "$MEM_ROWS")-row file (${bsize:-?}) and of one ten times smaller (${ssize:-?}), each into a fresh database, under GNU time" \
    "both loaded whole; maximum resident set size (\`%M\`) of the process" \
    "${bmb:-?} MB max RSS for ${bsize:-?} ($(kv "$big" seconds) s)" \
    "${smb:-?} MB max RSS for the file ten times smaller (${ssize:-?})" \
    "< 200 MB" "$(verdict memory $met)" "" \
    "\`MEM_ROWS=$MEM_ROWS scripts/proof.sh _memory\`"
}

section_worker() {
  local t="ETL: worker path against \`load\`"
  run worker 60 env BENCH_ROWS="$WORKER_ROWS" "${GOTEST[@]}" ./etl -run '^$' -bench '^BenchmarkWorkerThroughput$' -benchtime 1x -timeout "$(limit 55)"
  local log=$LOGS/worker.log ratio lr wr met=0 note=""
  ratio=$(metric "$log" worker/local)
  lr=$(metric "$log" local_rows/s)
  wr=$(metric "$log" worker_rows/s)
  ge "$ratio" 0.8 && met=1
  [ "$met" = 0 ] && [ -n "$ratio" ] && note="The worker path adds the S3 GetObject stream (in-process S3 on loopback, sharing the 2 cores), hashing while reading, the Kafka event and the consumer group; see the per-round times in the output."
  record worker "$t" \
    "the same $(printf "%'d" "$WORKER_ROWS")-row file, 3 alternating rounds into an emptied database: loaded from a local file by the loader, and put into the in-process S3, whose event on the in-process Kafka makes the worker stream and load it (PutObject returned → commit heard by LISTEN)" \
    "the committed file is the one put; medians" \
    "${ratio:-?}× (worker ${wr:-?} rows/s)" \
    "local \`load\` ${lr:-?} rows/s" \
    "≥ 0.8×" "$(verdict worker $met)" "$note" \
    "\`BENCH_ROWS=$WORKER_ROWS go test ./etl -run '^\$' -bench WorkerThroughput -benchtime 1x\`"
}

section_freshness() {
  local t="Freshness: PUT → snapshot on a dashboard"
  run freshness 20 env BENCH_FILES="$FRESH_FILES" "${GOTEST[@]}" ./internal/cli -run '^$' -bench '^BenchmarkFreshness$' -benchtime 1x -timeout "$(limit 18)"
  local log=$LOGS/freshness.log p50 p95 p99 mx c50 c95 s50 s95 met=0 note=""
  p50=$(metric "$log" p50_ms) p95=$(metric "$log" p95_ms) p99=$(metric "$log" p99_ms) mx=$(metric "$log" max_ms)
  c50=$(metric "$log" commit_p50_ms) c95=$(metric "$log" commit_p95_ms) s50=$(metric "$log" push_p50_ms) s95=$(metric "$log" push_p95_ms)
  le "$p95" 250 && met=1
  [ "$met" = 0 ] && [ -n "$p95" ] && note="Of p95 $p95 ms, PUT → commit (event, fetch, load, commit) is p95 $c95 ms and commit → snapshot on the client (NOTIFY, coalescing, snapshot, push) p95 $s95 ms: the larger share is what limits it."
  record freshness "$t" \
    "the demo stack in one process (in-process S3 and Kafka, worker, server); a WebSocket client connected; $FRESH_FILES daily files of 1,000 rows put one after another, each timed from PutObject returning to the first snapshot frame whose \`last_file\` names it" \
    "each file's snapshot arrives (within a minute); the commit of each file is also heard on a LISTEN connection, to split the time" \
    "p50 ${p50:-?} ms, p95 ${p95:-?} ms, p99 ${p99:-?} ms (max ${mx:-?} ms)" \
    "of which PUT → commit p50 ${c50:-?} / p95 ${c95:-?} ms, commit → snapshot p50 ${s50:-?} / p95 ${s95:-?} ms" \
    "p95 ≤ 250 ms" "$(verdict freshness $met)" "$note" \
    "\`BENCH_FILES=$FRESH_FILES go test ./internal/cli -run '^\$' -bench Freshness -benchtime 1x\`"
}

section_kpi() {
  local t="KPI snapshot latency"
  run kpi 75 env -u WORK -u OUT DB="$KPI_DB" FILES="$KPI_FILES" ROWS="$KPI_ROWS" ROUNDS="$KPI_ROUNDS" FRESH=0 SPAN=2023-01-01..2024-12-31 PG_URL="$PG_URL" scripts/bench-kpi.sh
  local log=$LOGS/kpi.log sales worst worst50 worstview worst1 db
  sales=$(grep -oP '^sales loaded: \K[0-9]+' "$log")
  read -r worst worstview worst50 < <(awk '$2 == 2 && NF == 7 && $3 ~ /^[0-9.]+$/ { if ($4 + 0 >= w + 0) { w = $4; v = $1; p = $3 } } END { print w, v, p }' "$log")
  worst1=$(awk '$2 == 1 && NF == 7 && $3 ~ /^[0-9.]+$/ { if ($4 + 0 >= w + 0) w = $4 } END { print w }' "$log")
  db=$(awk -v w="$worstview" 'NF == 7 && $2 == 2 { cur = $1 } /database time of the whole snapshot/ && cur == w { v = $NF == "ms" ? $(NF - 1) : $NF } END { print v }' "$log")
  local met=0 note=""
  le "$worst" 10 && [ "${RC[kpi]}" = 0 ] && met=1
  [ "$met" = 0 ] && [ -n "$worst" ] && note="The slowest view's queries sum to ${db:-?} ms of database execution time (EXPLAIN ANALYZE); the rest is round trips and decoding. The per-query medians are in the output."
  record kpi "$t" \
    "a database of $(printf "%'d" "${sales:-0}") sales over two years, built once with \`salespulse load\` (rollups included) and reused; whole snapshots (every query, uncached) computed $KPI_ROUNDS times for each of five views (all time, latest day, last 30 days, a category, a region + channel + date range), on one connection and on two (the server's default), in alternation" \
    "no query plan reads the \`sales\` table (EXPLAIN of each); p50/p95 per view" \
    "worst view ($worstview) at $(printf "%'d" "${sales:-0}") sales: p50 ${worst50:-?} ms, p95 ${worst:-?} ms" \
    "on one connection: worst p95 ${worst1:-?} ms; database execution time of the slowest view's queries ${db:-?} ms" \
    "p95 ≤ 10 ms at 10 million sales" "$(verdict kpi $met)" "$note" \
    "\`DB=$KPI_DB FILES=$KPI_FILES ROWS=$KPI_ROWS ROUNDS=$KPI_ROUNDS scripts/bench-kpi.sh\`"
}

section_fanout() {
  local t="Fan-out to WebSocket clients"
  run fanout 40 env -u WORK CLIENTS="$CLIENTS" ROUNDS="$FANOUT_ROUNDS" DAYS=30 ROWS=1000 COMPRESS=0 PORT="$FANOUT_PORT" DB=salespulse_bench_fanout PG_URL="$PG_URL" scripts/bench-fanout.sh
  local log=$LOGS/fanout.log all rssline hist p50 p99 lost per met=0 note=""
  all=$(grep '^all rounds:' "$log")
  rssline=$(grep '^server RSS:' "$log")
  hist=$(grep -oP 'server push latency histogram.*: \K.*' "$log")
  p50=$(grep -oP 'p50 \K[0-9.]+' <<<"$all") p99=$(grep -oP 'p99 \K[0-9.]+' <<<"$all") lost=$(grep -oP 'lost \K[0-9]+' <<<"$all")
  per=$(grep -oP '[0-9.]+(?= KiB per client)' <<<"$rssline")
  le "$p99" 500 && [ "$lost" = 0 ] && met=1
  [ "$met" = 0 ] && [ -n "$p99" ] && note="The server's own histogram (change noticed → frame written) says ${hist:-?}; the rest is the benchmark process, on the same 2 cores, reading $CLIENTS sockets."
  record fanout "$t" \
    "\`salespulse serve\` on a database of 30 days × 1,000 sales; $(printf "%'d" "$CLIENTS") WebSocket clients in one Go process; a 1,000-row file loaded $FANOUT_ROUNDS times; per client, from the commit's NOTIFY (heard on a LISTEN connection of the benchmark) to the whole new snapshot read" \
    "every client receives every change (none lost within 10 s); the server's RSS before and after connecting" \
    "p50 ${p50:-?} ms, p99 ${p99:-?} ms, lost ${lost:-?}; ${per:-?} KiB of server RSS per client" \
    "server-side histogram, noticed → frame written: ${hist:-?}" \
    "p99 ≤ 500 ms, none lost" "$(verdict fanout $met)" "$note" \
    "\`CLIENTS=$CLIENTS ROUNDS=$FANOUT_ROUNDS scripts/bench-fanout.sh\`"
}

# fault ID TEST MINUTES ENV...: runs one of the proof's Go fault tests
fault() {
  local id=$1 test=$2 minutes=$3
  shift 3
  run "$id" "$minutes" env PROOF=1 "$@" "${GOTEST[@]}" ./internal/faults -run "^$test\$" -v -timeout "$(limit $((minutes - 2)))"
}

fault_verdict() {
  local id=$1 result
  result=$(grep -oP "^PROOF $id-result failed=\K\w+" "$LOGS/$id.log")
  if [ "${RC[$id]}" = 0 ] && [ "$result" = false ]; then
    echo met
  elif [ -n "$result" ]; then
    echo "**missed** — $(failure "$id")"
  else
    echo "**failed** — $(failure "$id")"
  fi
}

section_kill() {
  local t="Fault: worker SIGKILLed over a stream of files"
  fault kill TestProofWorkerKilledOverAStreamOfFiles 45 KILLS="$KILLS" STREAM_FILES="$STREAM_FILES" STREAM_BIG_ROWS="$STREAM_BIG_ROWS"
  local line truth
  line=$(grep '^PROOF kill ' "$LOGS/kill.log")
  truth=$(grep '^PROOF kill-truth ' "$LOGS/kill.log")
  record kill "$t" \
    "$STREAM_FILES files ($(printf "%'d" "$STREAM_BIG_ROWS")-row ones, a growing family that repeats sale ids in both header shapes, exact copies under new names, daily files) put into the in-process S3 one by one at random intervals while the real \`salespulse etl\` was killed with SIGKILL $KILLS times (half at a random moment after start, half at a random point of a load) and restarted each time; then a last worker until every file settled, stopped with SIGTERM" \
    "every event consumed (committed offsets = events); one loaded ledger row per distinct file, none failed; the set of sale ids in \`sales\` equals the distinct ids of the input bytes (none missing, none doubled), total value to the cent; every row of kpi_cube, kpi_product and kpi_rep equals a recomputation from the input bytes (a CSV reader of the test's own); \`salespulse verify\` exits 0" \
    "$(kv "$line" kills) kills ($(kv "$line" kills_during_load) during a load, $(kv "$line" files_put_during_kills) of $(kv "$line" files) files put meanwhile); $(kv "$truth" sales) sales, $(kv "$truth" missing) missing, $(kv "$truth" doubled) doubled; $(kv "$truth" rollup_diffs) of $(kv "$truth" rollup_rows) rollup rows differ; verify exit $(kv "$truth" verify_exit)" \
    "from the input bytes: $(kv "$truth" want) distinct sales, $(kv "$truth" want_cents) cents" \
    "nothing lost or doubled; rollups = recomputation" "$(fault_verdict kill)" "seed $(kv "$line" seed) (\`KILL_SEED\` repeats the plan); settled $(kv "$line" until_settled) after the first start" \
    "\`PROOF=1 KILLS=$KILLS STREAM_FILES=$STREAM_FILES go test ./internal/faults -run TestProofWorkerKilledOverAStreamOfFiles -v\`"
}

section_pgrestart() {
  local t="Fault: PostgreSQL restarted mid-load"
  local what="a real \`salespulse etl\` and \`salespulse serve\`, a dashboard (WebSocket) connected; a $(printf "%'d" "$PG_RESTART_ROWS")-row file put and, while its COPY ran, \`pg_ctlcluster --skip-systemctl-redirect <version> main restart\`; another file put after the restart"
  local checks="both processes still running, unaided; all files loaded once; sales and every rollup row equal a recomputation from the input bytes, \`verify\` exits 0; the dashboard connected before the restart is shown a file loaded after it with the final order count; /readyz back to 200"
  if [ "$PG_RESTART" != 1 ]; then
    RC[pgrestart]=0 SECS[pgrestart]=0
    skipped pgrestart "$t" "$what" "$checks" "recover unaided, nothing lost" "PROOF_PG_RESTART=0" "PROOF_PG_RESTART=1 SECTIONS=pgrestart scripts/proof.sh"
    return
  fi
  local others
  others=$(psql "$PG_URL" -qAt -c "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()" 2>/dev/null)
  fault pgrestart TestProofPostgresRestartedMidLoad 15 PROOF_PG_RESTART=1 PG_RESTART_ROWS="$PG_RESTART_ROWS"
  ensure_postgres
  local line truth
  line=$(grep '^PROOF pgrestart ' "$LOGS/pgrestart.log")
  truth=$(grep '^PROOF pgrestart-truth ' "$LOGS/pgrestart.log")
  record pgrestart "$t" "$what" "$checks" \
    "restart took $(kv "$line" restart_took); all files loaded $(kv "$line" all_loaded_after) after it; dashboard shown the final state $(kv "$line" dashboard_final_after) after it ($(kv "$line" dashboard_reconnects) reconnects); $(kv "$truth" sales) sales, $(kv "$truth" missing) missing, $(kv "$truth" doubled) doubled, $(kv "$truth" rollup_diffs) rollup rows differ; /readyz: $(kv "$line" readyz)" \
    "from the input bytes: $(kv "$truth" want) distinct sales; worker retries logged $(kv "$line" worker_retries_logged), server LISTEN reconnects $(kv "$line" listener_reconnects_logged)" \
    "recover unaided, nothing lost, dashboards updated" "$(fault_verdict pgrestart)" "${others:-?} other client sessions were connected to the server when the section started (the restart cut them too)" \
    "\`PROOF_PG_RESTART=1 SECTIONS=pgrestart scripts/proof.sh\` (alone on the machine)"
}

section_replay() {
  local t="Fault: topic replayed with a new consumer group"
  fault replay TestProofReplayFromTheStartChangesNothing 15 REPLAY_FILES="$REPLAY_FILES"
  local line note=""
  line=$(grep '^PROOF replay ' "$LOGS/replay.log")
  [ "$(kv "$line" new_failed_rows)" != 0 ] && [ -n "$line" ] && note="A file that had *failed* (over the reject ratio) is not \"loaded\", so the replay tries it again: it fails the same way, adding $(kv "$line" new_failed_rows) \`failed\` ledger row(s) and $(kv "$line" dlq_messages_added) dead letter(s). No sale or rollup changes."
  record replay "$t" \
    "$(kv "$line" events) objects put (daily files with 3 % bad rows, a family repeating sale ids, a copy under another name, the same object uploaded twice, a .txt, a file over the reject ratio); a worker settled them all and stopped; then a worker of a new consumer group read the topic from the start" \
    "MD5 digests of sales, kpi_cube, kpi_product, kpi_rep, the ledger rows and the rejected rows before and after; every file that loaded in the first pass is settled \`skipped\` by the replay; \`verify\`" \
    "$(kv "$line" digests_changed) of 6 digests changed; replay settled $(kv "$line" replay_skipped) skipped, $(kv "$line" replay_loaded) loaded, $(kv "$line" replay_failed) failed; $(kv "$line" new_loaded_rows) new loaded ledger rows" \
    "the state after the first pass: $(kv "$line" ledger_rows) ledger rows, sales $(kv "$line" sales) (rows:digest)" \
    "nothing changes" "$(fault_verdict replay)" "$note" \
    "\`PROOF=1 go test ./internal/faults -run TestProofReplayFromTheStartChangesNothing -v\`"
}

section_abuse() {
  local t="Fault: WebSocket abuse"
  fault abuse TestProofWebSocketAbuse 40 ABUSE_IDLE="$ABUSE_IDLE" ABUSE_STALLED="$ABUSE_STALLED" ABUSE_BIG="$ABUSE_BIG"
  local line lat mem during base p99 note=""
  line=$(grep '^PROOF abuse ' "$LOGS/abuse.log")
  lat=$(grep '^PROOF abuse-latency ' "$LOGS/abuse.log")
  mem=$(grep '^PROOF abuse-rss ' "$LOGS/abuse.log")
  during=$(kv "$lat" abuse | tr '/' ' ')
  base=$(kv "$lat" baseline | tr '/' ' ')
  p99=$(grep -oP 'p99:\K[0-9.]+' <<<"$during")
  local v
  v=$(fault_verdict abuse)
  if [ "$v" = met ] && ! le "$p99" 500; then
    v="**missed** — the well-behaved client's p99 during the abuse is $p99 ms"
    note="Latency per phase: idle $(kv "$lat" idle), 1 MB frames $(kv "$lat" big_frames), non-readers $(kv "$lat" stalled). With $ABUSE_IDLE idle clients every push is also a fan-out to them (see the fan-out item)."
  fi
  record abuse "$t" \
    "a real \`salespulse serve\`; one well-behaved dashboard; a 200-row file loaded every second throughout; in turn: $(printf "%'d" "$ABUSE_IDLE") idle connections (never send, read what is pushed), $ABUSE_BIG clients each sending a 1 MB frame, $ABUSE_STALLED clients with a 4 KiB receive buffer that never read; then the idle ones leave" \
    "the well-behaved client is pushed every file (none missed within 10 s); every 1 MB sender is disconnected within 10 s (close code) and /healthz stays 200; every non-reader is dropped (\`salespulse_ws_dropped_total\`); the server's RSS peak during the abuse stays within 256 MB of its RSS with the idle clients" \
    "well-behaved client during the abuse: $(sed 's/ /, /g' <<<"$during"), missed $(kv "$line" missed_pushes); 1 MB senders closed by the server $(kv "$line" big_closed_by_server)/$ABUSE_BIG (codes $(kv "$line" close_codes)); non-readers dropped $(kv "$line" stalled_dropped)/$(kv "$line" stalled) after $(kv "$line" all_stalled_dropped_after); RSS $(kv "$mem" base_mib) MiB → $(kv "$mem" with_idle_mib) MiB with the idle clients ($(kv "$mem" per_idle_kib) KiB each), peak $(kv "$mem" peak_stalled_mib) MiB, $(kv "$mem" end_mib) MiB at the end" \
    "the same client before any abuse: $(sed 's/ /, /g' <<<"$base")" \
    "others unaffected (p99 ≤ 500 ms, none missed), memory bounded, abusers disconnected" "$v" "$note" \
    "\`PROOF=1 ABUSE_IDLE=$ABUSE_IDLE go test ./internal/faults -run TestProofWebSocketAbuse -v\`"
}

section_fuzz() {
  local t="Fuzzing: CSV row reader and event parser" id
  for id in fuzz-csv fuzz-event; do
    local pkg=./etl target=FuzzTransform
    [ "$id" = fuzz-event ] && pkg=./etl/s3event target=FuzzParse
    run "$id" "$(awk -v f="$FUZZTIME" 'BEGIN { m = f + 0; if (f ~ /h$/) m *= 60; else if (f ~ /s$/ && f !~ /m/) m /= 60; printf "%d", m + 10 }')" \
      "${GOTEST[@]}" "$pkg" -run '^$' -fuzz "^$target\$" -fuzztime "$FUZZTIME"
  done
  local a b ea eb crash
  a=$(grep -oP 'execs: \K[0-9]+' "$LOGS/fuzz-csv.log" | tail -1)
  b=$(grep -oP 'execs: \K[0-9]+' "$LOGS/fuzz-event.log" | tail -1)
  crash=$(grep -h -oP 'Failing input written to \K\S+' "$LOGS/fuzz-csv.log" "$LOGS/fuzz-event.log" | tr '\n' ' ')
  RC[fuzz]=${RC[fuzz-csv]}
  [ "${RC[fuzz]}" = 0 ] && RC[fuzz]=${RC[fuzz-event]}
  SECS[fuzz]=$(( ${SECS[fuzz-csv]} + ${SECS[fuzz-event]} ))
  LOADAVG[fuzz]="${LOADAVG[fuzz-csv]}; ${LOADAVG[fuzz-event]}"
  cat "$LOGS/fuzz-csv.log" "$LOGS/fuzz-event.log" > "$LOGS/fuzz.log"
  local v=met
  [ "${RC[fuzz]}" != 0 ] && v="**failed** — csv: $(failure fuzz-csv | cut -c1-200); event: $(failure fuzz-event | cut -c1-200)${crash:+; failing inputs: $crash}"
  record fuzz "$t" \
    "\`go test -fuzz\` for $FUZZTIME each: FuzzTransform (etl: arbitrary bytes through decoding, CSV scanning, header mapping and the row rules) and FuzzParse (s3event: arbitrary event bodies)" \
    "no panic, and each target's invariants (every record a sale or a reject, lines go forward, rejects storable, sales obey the rules; parsed objects have a bucket, a key and no negative size)" \
    "FuzzTransform ${a:-?} execs, FuzzParse ${b:-?} execs, no crash" "the seed corpora (fixtures and hand-written cases) pass first" \
    "no crash in $FUZZTIME each" "$v" "" \
    "\`go test ./etl -run '^\$' -fuzz FuzzTransform -fuzztime $FUZZTIME\`; \`go test ./etl/s3event -run '^\$' -fuzz FuzzParse -fuzztime $FUZZTIME\`"
}

# --- run ---------------------------------------------------------------------------------------
echo "proof: sections: $SECTIONS; logs in $LOGS; report to $REPORT" | tee "$LOGS/proof.log"
[ "$QUICK" = 1 ] && echo "proof: PROOF_QUICK=1: small sizes" | tee -a "$LOGS/proof.log"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
ensure_postgres
for s in $SECTIONS; do
  if declare -F "section_$s" >/dev/null; then
    "section_$s"
  else
    echo "proof: no section $s" | tee -a "$LOGS/proof.log"
  fi
done
ensure_postgres

# --- the report --------------------------------------------------------------------------------
cpu=$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//')
mem=$(awk '/MemTotal/ { printf "%.1f GiB", $2 / 1048576 }' /proc/meminfo)
os=$(. /etc/os-release 2>/dev/null && echo "$PRETTY_NAME")
kernel=$(uname -r)
pgv=$(psql "$PG_URL" -qAt -c 'SHOW server_version' 2>/dev/null)
commit=$(git rev-parse --short HEAD 2>/dev/null)$( [ -n "$(git status --porcelain 2>/dev/null)" ] && echo " (with uncommitted changes)")
total=$(( $(date +%s) - T0 ))
met=0 missed=0 failed=0 skips=0
for id in "${ORDER[@]}"; do
  case ${VERDICT[$id]} in
    met) met=$((met + 1)) ;;
    \*\*missed*) missed=$((missed + 1)) ;;
    \*\*failed*) failed=$((failed + 1)) ;;
    skipped*) skips=$((skips + 1)) ;;
  esac
done

{
  echo "# Performance and fault report"
  echo
  if [ "$QUICK" = 1 ]; then
    echo "> **PROOF_QUICK=1: reduced sizes.** This run checks that the proof works; its figures are not the"
    echo "> targets' sizes and prove nothing about them. Run \`make proof\` for the real report."
    echo
  fi
  echo "Written by \`make proof\` (\`scripts/proof.sh\`), which runs every benchmark and fault test against the"
  echo "real \`salespulse\` binary, the local PostgreSQL and the in-process Kafka and S3 (\`devstack\`), each"
  echo "figure next to a reference measured in the same run. Rerun everything with \`make proof\`, one item"
  echo "with the command under it, or \`SECTIONS=\"…\" scripts/proof.sh\`; \`PROOF_QUICK=1\` for a fast check."
  echo "Timings depend on the machine being otherwise idle: each item notes the load average around it."
  echo
  echo "| | |"
  echo "|---|---|"
  echo "| date | $PROOF_START, $((total / 60)) min $((total % 60)) s |"
  echo "| CPU | $cpu, $(nproc) cores |"
  echo "| memory | $mem |"
  echo "| OS | $os, Linux $kernel |"
  echo "| Go | $(go env GOVERSION) |"
  echo "| PostgreSQL | ${pgv:-?} (local, default settings of the Debian package) |"
  echo "| commit | ${commit:-?} |"
  echo "| result | $met met, $missed missed, $failed failed, $skips skipped, of ${#ORDER[@]} |"
  echo
  echo "## Summary"
  echo
  echo "| # | item | figure | reference (same run) | target | result |"
  echo "|---|---|---|---|---|---|"
  n=0
  for id in "${ORDER[@]}"; do
    n=$((n + 1))
    short=${VERDICT[$id]%% — *}
    echo "| $n | [$(escape "${TITLE[$id]}")](#$n-$id) | $(escape "${FIGURE[$id]}") | $(escape "${REFERENCE[$id]}") | $(escape "${TARGET[$id]}") | $short |"
  done
  echo
  echo "## Details"
  n=0
  for id in "${ORDER[@]}"; do
    n=$((n + 1))
    echo
    echo "<a id=\"$n-$id\"></a>"
    echo "### $n. ${TITLE[$id]}"
    echo
    echo "- **Done:** ${DONE[$id]}."
    echo "- **Checked:** ${CHECKED[$id]}."
    echo "- **Figure:** ${FIGURE[$id]}."
    echo "- **Reference, same run:** ${REFERENCE[$id]}."
    echo "- **Target:** ${TARGET[$id]}. **Result:** ${VERDICT[$id]}."
    [ -n "${NOTE[$id]}" ] && echo "- **Note:** ${NOTE[$id]}"
    echo "- **Conditions:** ${SECS[$id]:-0} s; load average (1, 5, 15 min) ${LOADAVG[$id]:-?}; exit status ${RC[$id]:-?}; whole output \`${LOGS#"$PWD"/}/$id.log\`."
    echo "- **Rerun alone:** ${RERUN[$id]}"
    if [ -n "${EXCERPT[$id]}" ]; then
      echo
      echo "<details><summary>end of the output</summary>"
      echo
      echo '```'
      echo "${EXCERPT[$id]}" | cut -c1-400
      echo '```'
      echo "</details>"
    fi
  done
  echo
  echo "## Settings of this run"
  echo
  echo '```'
  echo "PROOF_QUICK=$QUICK SECTIONS=\"$SECTIONS\""
  echo "ROWS=$LOAD_ROWS ROUNDS=$LOAD_ROUNDS MEM_ROWS=$MEM_ROWS WORKER_ROWS=$WORKER_ROWS FRESH_FILES=$FRESH_FILES"
  echo "KPI_DB=$KPI_DB KPI_FILES=$KPI_FILES KPI_ROWS=$KPI_ROWS KPI_ROUNDS=$KPI_ROUNDS CLIENTS=$CLIENTS FANOUT_ROUNDS=$FANOUT_ROUNDS"
  echo "KILLS=$KILLS STREAM_FILES=$STREAM_FILES STREAM_BIG_ROWS=$STREAM_BIG_ROWS PG_RESTART_ROWS=$PG_RESTART_ROWS PROOF_PG_RESTART=$PG_RESTART"
  echo "REPLAY_FILES=$REPLAY_FILES ABUSE_IDLE=$ABUSE_IDLE ABUSE_STALLED=$ABUSE_STALLED ABUSE_BIG=$ABUSE_BIG FUZZTIME=$FUZZTIME PROOF_TIMEOUT_SCALE=$SCALE"
  echo '```'
} > "$REPORT"

echo "proof: $met met, $missed missed, $failed failed; report $REPORT; logs $LOGS" | tee -a "$LOGS/proof.log"
[ "$failed" = 0 ] && [ "$missed" = 0 ]
