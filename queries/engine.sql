-- What the KPI engine (server/kpi) reads besides the sales themselves, which it streams with
-- COPY (engine_sales.sql).

-- name: EngineFiles :many
-- The loaded files of the ledger: the engine counts each one's sales once, and shows the
-- newest as "as of" and "last file".
SELECT id, object_key, finished_at
FROM ingested_files
WHERE status = 'loaded'
ORDER BY id;

-- name: EngineFile :one
-- One file of the ledger, once its commit is announced: with how many sales it brought and
-- the heap blocks of sales they were written to (NULL for files loaded before those were
-- recorded).
SELECT id, object_key, finished_at, status, rows_loaded, sales_from_block, sales_end_block
FROM ingested_files
WHERE id = $1;
