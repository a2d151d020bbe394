-- What the KPI engine reads of each sale, in the column order its reader expects. The server
-- streams it with COPY (...) TO STDOUT (FORMAT binary): the whole table at start, and the
-- sales of each committed file (WHERE file_id = ... within the heap blocks the ledger
-- recorded for it: a TID range scan), so that a large file is never held in memory as rows. sqlc has no streaming reads: the engine's
-- tests check these columns against the real table.
SELECT file_id, sale_date, product_category, sales_region, sales_channel, product_name,
       sales_rep, payment_status, quantity, total_value_cents, coalesce(gross_profit_cents, 0)
FROM sales
