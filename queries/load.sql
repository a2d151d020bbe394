-- Bulk path of a load. Every statement runs inside the file's one transaction.

-- name: CopySales :copyfrom
-- Fast path: a file whose sale ids are all new goes straight into sales. A repeated id
-- fails the COPY with a unique violation and the load starts over on the merge path.
INSERT INTO sales (
    sale_key, sale_id, sale_date, product_id, product_name, product_category, quantity,
    unit_price_cents, discount_pct, total_value_cents, unit_cost_cents, total_cost_cents,
    gross_profit_cents, payment_method, payment_status, payment_date, customer_id,
    customer_name, sales_channel, sales_region, sales_rep, customer_rating,
    customer_comments, shipping_cost_cents, delivery_status, delivery_date, file_id
) VALUES (
    $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
    $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27
);

-- name: CopyStaging :copyfrom
-- Merge path: the file's valid rows, with their line numbers, into the scratch table.
INSERT INTO sales_staging (
    line, sale_key, sale_id, sale_date, product_id, product_name, product_category, quantity,
    unit_price_cents, discount_pct, total_value_cents, unit_cost_cents, total_cost_cents,
    gross_profit_cents, payment_method, payment_status, payment_date, customer_id,
    customer_name, sales_channel, sales_region, sales_rep, customer_rating,
    customer_comments, shipping_cost_cents, delivery_status, delivery_date
) VALUES (
    $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
    $15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27
);

-- name: MergeStaged :one
-- Merge path: insert the staged rows whose sale id is new (the first occurrence in the file
-- wins). Returns how many were new.
WITH inserted AS (
    INSERT INTO sales (
        sale_key, sale_id, sale_date, product_id, product_name, product_category, quantity,
        unit_price_cents, discount_pct, total_value_cents, unit_cost_cents, total_cost_cents,
        gross_profit_cents, payment_method, payment_status, payment_date, customer_id,
        customer_name, sales_channel, sales_region, sales_rep, customer_rating,
        customer_comments, shipping_cost_cents, delivery_status, delivery_date, file_id
    )
    SELECT s.sale_key, s.sale_id, s.sale_date, s.product_id, s.product_name, s.product_category, s.quantity,
           s.unit_price_cents, s.discount_pct, s.total_value_cents, s.unit_cost_cents,
           s.total_cost_cents, s.gross_profit_cents, s.payment_method, s.payment_status,
           s.payment_date, s.customer_id, s.customer_name, s.sales_channel, s.sales_region,
           s.sales_rep, s.customer_rating, s.customer_comments, s.shipping_cost_cents,
           s.delivery_status, s.delivery_date, sqlc.arg(file_id)::bigint
    FROM sales_staging s
    ORDER BY s.line
    ON CONFLICT (sale_key) DO NOTHING
    RETURNING 1
)
SELECT count(*) FROM inserted;

-- name: NotifyFileLoaded :exec
-- Tells every listening server that a file committed; delivered at commit, never before.
SELECT pg_notify('salespulse_files', sqlc.arg(file_id)::bigint::text);

-- name: ClearStaging :exec
-- Empties the staging table between loads that share one transaction (a dry run), as a
-- commit empties it otherwise.
DELETE FROM sales_staging;
