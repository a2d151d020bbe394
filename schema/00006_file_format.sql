-- +goose Up

-- How each file writes numbers and dates, as decided from its own values: '' when no value
-- of the file told (each read the same either way), or when the file failed before it.
ALTER TABLE ingested_files
    ADD COLUMN number_format text NOT NULL DEFAULT ''
        CHECK (number_format IN ('', '1234.56', '1.234,56')),
    ADD COLUMN date_format text NOT NULL DEFAULT ''
        CHECK (date_format IN ('', 'YYYY-MM-DD', 'DD/MM/YYYY', 'MM/DD/YYYY'));

-- +goose Down
ALTER TABLE ingested_files DROP COLUMN date_format, DROP COLUMN number_format;
