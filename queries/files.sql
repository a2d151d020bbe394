-- The ingestion ledger as the server shows it: pages of files, one file, its rejected rows,
-- and the aggregates behind /metrics.

-- name: ListFiles :many
-- A page of the ledger, newest first: ids below @before (0 = from the newest), a backward
-- scan of the primary key.
SELECT * FROM ingested_files
WHERE id < coalesce(nullif(sqlc.arg(before)::bigint, 0), 9223372036854775807)
ORDER BY id DESC
LIMIT sqlc.arg(lim)::int;

-- name: GetFile :one
SELECT * FROM ingested_files WHERE id = $1;

-- name: ListRejects :many
-- A page of a file's rejected rows by line: lines after @after.
SELECT line, column_name, reason, raw_line FROM rejected_rows
WHERE file_id = sqlc.arg(file_id) AND line > sqlc.arg(after)::bigint
ORDER BY line
LIMIT sqlc.arg(lim)::int;

-- name: LedgerTotals :many
-- Files and rows by status (loaded, failed, skipped), for /metrics at scrape time: one row
-- per file status. The ledger has one row per file attempt, so this stays cheap for years of
-- daily files.
SELECT status, count(*)::bigint AS files,
       coalesce(sum(rows_total), 0)::bigint AS rows_total,
       coalesce(sum(rows_loaded), 0)::bigint AS rows_loaded,
       coalesce(sum(rows_rejected), 0)::bigint AS rows_rejected,
       coalesce(sum(rows_duplicate), 0)::bigint AS rows_duplicate
FROM ingested_files
GROUP BY status
ORDER BY status;

-- name: FileTimings :many
-- When the files just announced started, finished and were announced by their event: the
-- load-seconds and event-to-commit histograms.
SELECT id, status, started_at, finished_at, event_time
FROM ingested_files
WHERE id = ANY(sqlc.arg(ids)::bigint[]);
