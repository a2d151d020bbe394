-- The ingestion ledger and its rejected rows.

-- name: FindLoadedByContent :one
-- A file with these exact bytes that loaded before, if any.
SELECT id, object_key FROM ingested_files
WHERE content_sha256 = $1 AND status = 'loaded';

-- name: FindSettledObject :one
-- The newest ledger row of this bucket, key and ETag: the object version an event announces
-- was settled before (loaded, or refused as a whole) and need not be fetched again.
SELECT id, status, error FROM ingested_files
WHERE bucket = $1 AND object_key = $2 AND etag = $3 AND status <> 'skipped'
ORDER BY (status = 'loaded') DESC, id DESC
LIMIT 1;

-- name: FindEventAttempt :one
-- The ledger row an event of this object already produced, if any: the event is seen again
-- (redelivered after a crash, replayed, or sent twice) and adds nothing. The (bucket,
-- object_key, etag) index narrows it to the object's few rows.
SELECT id, status, repeats_file_id FROM ingested_files
WHERE bucket = $1 AND object_key = $2 AND event_ref = $3
ORDER BY id
LIMIT 1;

-- name: InsertSkippedFile :one
-- Records an attempt that loaded nothing because an earlier file settled the same bytes or
-- the same object version: its own ledger row, naming that file.
INSERT INTO ingested_files (
    source, bucket, object_key, etag, content_sha256, size_bytes, status, repeats_file_id,
    event_ref, event_time, started_at, finished_at
) VALUES (
    $1, $2, $3, $4, $5, $6, 'skipped', $7, $8, $9, $10, clock_timestamp()
)
RETURNING id;

-- name: InsertFile :one
-- Opens the ledger row of a load; its counts and status are settled by FinishFile in the
-- same transaction. With the content hash already known, a concurrent load of the same bytes
-- waits here and then fails on the unique index. It runs before the load writes any sale:
-- sales_from_block is the last block of sales then, where the load's first sales may go.
INSERT INTO ingested_files (
    source, bucket, object_key, etag, content_sha256, size_bytes, status,
    event_ref, event_time, started_at, finished_at, sales_from_block
) VALUES (
    $1, $2, $3, $4, $5, $6, 'loaded', $7, $8, $9, clock_timestamp(),
    greatest(pg_relation_size('sales') / current_setting('block_size')::bigint - 1, 0)
)
RETURNING id;

-- name: FinishFile :exec
-- Settles the ledger row: outcome, counts, what the file looked like, and when it finished.
-- It runs after the load's last sale: a loaded file's sales lie below sales_end_block.
UPDATE ingested_files SET
    status          = $2,
    load_path       = $3,
    content_sha256  = $4,
    size_bytes      = $5,
    rows_total      = $6,
    rows_loaded     = $7,
    rows_rejected   = $8,
    rows_duplicate  = $9,
    header_shape    = $10,
    encoding        = $11,
    delimiter       = $12,
    unknown_columns = $13,
    error           = $14,
    etag            = $15,
    number_format   = $16,
    date_format     = $17,
    finished_at     = clock_timestamp(),
    sales_from_block = CASE WHEN $2 = 'loaded' THEN sales_from_block END,
    sales_end_block  = CASE WHEN $2 = 'loaded' THEN pg_relation_size('sales') / current_setting('block_size')::bigint END
WHERE id = $1;

-- name: CopyRejects :copyfrom
INSERT INTO rejected_rows (file_id, line, column_name, reason, raw_line)
VALUES ($1, $2, $3, $4, $5);

-- name: DaysOfFiles :many
-- The sale dates the given files brought sales for: the days a backfill changes.
SELECT DISTINCT sale_date FROM sales WHERE file_id = ANY(sqlc.arg(file_ids)::bigint[]) ORDER BY sale_date;
