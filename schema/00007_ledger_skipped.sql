-- +goose Up

-- Every attempt is visible: a file whose bytes were loaded before (or an object version
-- settled before) gets a ledger row of its own, "skipped", naming the file it repeats. It
-- loads nothing, so every row count stays 0 and rows_add_up holds.
ALTER TABLE ingested_files DROP CONSTRAINT ingested_files_status_check;
ALTER TABLE ingested_files
    ADD CONSTRAINT ingested_files_status_check CHECK (status IN ('loaded', 'failed', 'skipped')),
    -- the earlier ledger row whose bytes or object version this attempt repeats
    ADD COLUMN repeats_file_id bigint REFERENCES ingested_files (id),
    -- the event that announced the file: an object's sequencer ("s3:…") or the message's
    -- place in the topic ("kafka:topic/partition/offset"); '' for `load`. The same event
    -- seen again (redelivered, replayed, sent twice) finds its row and adds none.
    ADD COLUMN event_ref text NOT NULL DEFAULT '',
    ADD CONSTRAINT skipped_repeats CHECK ((status = 'skipped') = (repeats_file_id IS NOT NULL)),
    ADD CONSTRAINT skipped_loads_nothing CHECK (status <> 'skipped' OR rows_total = 0);

-- +goose Down
DELETE FROM ingested_files WHERE status = 'skipped';
ALTER TABLE ingested_files
    DROP CONSTRAINT skipped_loads_nothing,
    DROP CONSTRAINT skipped_repeats,
    DROP COLUMN event_ref,
    DROP COLUMN repeats_file_id,
    DROP CONSTRAINT ingested_files_status_check,
    ADD CONSTRAINT ingested_files_status_check CHECK (status IN ('loaded', 'failed'));
