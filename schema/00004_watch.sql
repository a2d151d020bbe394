-- +goose Up

-- What `salespulse watch` has announced: one row per object version it published an event
-- for, so a restarted watcher does not announce the whole bucket again. (It would be
-- harmless: the worker skips object versions already loaded.)
CREATE TABLE watched_objects (
    bucket       text        NOT NULL,
    object_key   text        NOT NULL,
    etag         text        NOT NULL,
    size_bytes   bigint      NOT NULL,
    announced_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (bucket, object_key, etag)
);

-- +goose Down
DROP TABLE watched_objects;
