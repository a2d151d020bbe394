-- +goose Up

-- A server reads each committed file's sales by the heap blocks the load wrote them to,
-- recorded in the ledger, instead of by a btree on file_id. That btree took one WAL record
-- per sale, about 15 % of a bulk load.
--
-- sales_from_block is the last block of sales when the load began (it may still have had
-- room), sales_end_block the number of blocks when it finished: every sale of the file lies
-- in [sales_from_block, sales_end_block) unless some went into room freed earlier in the
-- table (a vacuumed, aborted load's pages). The ledger's rows_loaded tells the reader when
-- that happened; it then looks for the rest through the BRIN index, which a load barely
-- pays for. Both are NULL for files loaded before, and for attempts that loaded nothing.
ALTER TABLE ingested_files
    ADD COLUMN sales_from_block bigint,
    ADD COLUMN sales_end_block bigint,
    ADD CONSTRAINT sales_blocks_ordered CHECK (sales_from_block <= sales_end_block);
DROP INDEX sales_file_id;
CREATE INDEX sales_file_id ON sales USING brin (file_id);

-- +goose Down
DROP INDEX sales_file_id;
CREATE INDEX sales_file_id ON sales (file_id);
ALTER TABLE ingested_files
    DROP CONSTRAINT sales_blocks_ordered,
    DROP COLUMN sales_end_block,
    DROP COLUMN sales_from_block;
