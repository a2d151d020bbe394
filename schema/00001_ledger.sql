-- +goose Up

-- The ingestion ledger: one row per file attempt that reached a decision.
-- A file whose exact bytes were loaded before gets no new row (it is "skipped").
CREATE TABLE ingested_files (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source          text        NOT NULL CHECK (source IN ('file', 's3', 'upload')),
    bucket          text        NOT NULL DEFAULT '',
    object_key      text        NOT NULL,
    etag            text        NOT NULL DEFAULT '',
    content_sha256  bytea,
    size_bytes      bigint      NOT NULL DEFAULT 0,
    status          text        NOT NULL CHECK (status IN ('loaded', 'failed')),
    load_path       text        NOT NULL DEFAULT '' CHECK (load_path IN ('', 'copy', 'merge')),
    rows_total      bigint      NOT NULL DEFAULT 0,
    rows_loaded     bigint      NOT NULL DEFAULT 0,
    rows_rejected   bigint      NOT NULL DEFAULT 0,
    rows_duplicate  bigint      NOT NULL DEFAULT 0,
    header_shape    text        NOT NULL DEFAULT '',
    encoding        text        NOT NULL DEFAULT '',
    delimiter       text        NOT NULL DEFAULT '',
    unknown_columns text[]      NOT NULL DEFAULT '{}',
    error           text        NOT NULL DEFAULT '',
    event_time      timestamptz,
    started_at      timestamptz NOT NULL,
    finished_at     timestamptz NOT NULL,
    CONSTRAINT rows_add_up CHECK (rows_total = rows_loaded + rows_rejected + rows_duplicate)
);

-- The same bytes are loaded at most once, whatever their name; concurrent loaders of
-- identical files serialise here and all but one end "skipped".
CREATE UNIQUE INDEX ingested_files_loaded_content
    ON ingested_files (content_sha256) WHERE status = 'loaded';

-- An object version already loaded is recognised from its event before it is fetched.
CREATE INDEX ingested_files_object ON ingested_files (bucket, object_key, etag);

-- "as of" and "last file" of the KPI snapshot: the newest loaded file.
CREATE INDEX ingested_files_loaded_recent
    ON ingested_files (finished_at DESC) WHERE status = 'loaded';

-- Rows that broke a rule, one entry per row: the first failing column, and every reason.
CREATE TABLE rejected_rows (
    file_id     bigint NOT NULL REFERENCES ingested_files (id) ON DELETE CASCADE,
    line        bigint NOT NULL,
    column_name text   NOT NULL DEFAULT '',
    reason      text   NOT NULL,
    raw_line    text   NOT NULL,
    PRIMARY KEY (file_id, line)
);

-- +goose Down
DROP TABLE rejected_rows;
DROP TABLE ingested_files;
