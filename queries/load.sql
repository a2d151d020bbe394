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
-- wins), and sum exactly the inserted ones into the fold tables. Returns how many were new.
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
    RETURNING sale_date, product_category, sales_region, sales_channel, product_name, sales_rep,
              quantity, total_value_cents, total_cost_cents, gross_profit_cents, payment_status
),
products AS (
    INSERT INTO fold_product
    SELECT i.sale_date, i.product_category, i.sales_region, i.sales_channel, i.product_name,
           count(*), sum(i.quantity), sum(i.total_value_cents),
           coalesce(sum(i.total_cost_cents), 0), coalesce(sum(i.gross_profit_cents), 0),
           count(*) FILTER (WHERE i.payment_status = 'Paid'),
           coalesce(sum(i.total_value_cents) FILTER (WHERE i.payment_status = 'Paid'), 0),
           count(*) FILTER (WHERE i.payment_status = 'Pending'),
           coalesce(sum(i.total_value_cents) FILTER (WHERE i.payment_status = 'Pending'), 0),
           count(*) FILTER (WHERE i.payment_status = 'Canceled'),
           coalesce(sum(i.total_value_cents) FILTER (WHERE i.payment_status = 'Canceled'), 0)
    FROM inserted i
    GROUP BY 1, 2, 3, 4, 5
),
reps AS (
    INSERT INTO fold_rep
    SELECT i.sale_date, i.product_category, i.sales_region, i.sales_channel, i.sales_rep,
           count(*), sum(i.total_value_cents), coalesce(sum(i.gross_profit_cents), 0)
    FROM inserted i
    GROUP BY 1, 2, 3, 4, 5
)
SELECT count(*) FROM inserted;

-- name: ReadFoldProducts :many
-- Merge path: the per-product sums MergeStaged left, for the loader to expand.
SELECT sale_date, category, region, channel, product, orders, quantity, sales_cents, cost_cents,
       gross_profit_cents, paid_orders, paid_sales_cents, pending_orders, pending_sales_cents,
       canceled_orders, canceled_sales_cents
FROM fold_product;

-- name: ReadFoldReps :many
-- Merge path: the per-representative sums MergeStaged left.
SELECT sale_date, category, region, channel, rep, orders, sales_cents, gross_profit_cents
FROM fold_rep;

-- name: CopyDeltaCube :copyfrom
INSERT INTO delta_cube (
    grain, period, category, region, channel, orders, quantity, sales_cents, cost_cents,
    gross_profit_cents, paid_orders, paid_sales_cents, pending_orders, pending_sales_cents,
    canceled_orders, canceled_sales_cents
) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16);

-- name: CopyDeltaProduct :copyfrom
INSERT INTO delta_product (
    grain, period, category, region, channel, product, orders, quantity, sales_cents
) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9);

-- name: CopyDeltaRep :copyfrom
INSERT INTO delta_rep (
    grain, period, category, region, channel, rep, orders, sales_cents, gross_profit_cents
) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9);

-- name: LockRollups :exec
-- Folds of concurrent loads take turns (held to commit): the upserts of two files would
-- otherwise lock shared rollup rows in different orders and deadlock.
SELECT pg_advisory_xact_lock(7310555121);

-- name: SetFoldMemory :exec
-- Lets the fold's GROUP BY hash in memory rather than spill to disk (this transaction only).
SELECT set_config('work_mem', '64MB', true);

-- name: ApplyCube :execrows
-- Adds the file's expanded sums to kpi_cube. MERGE rather than INSERT ... ON CONFLICT: no
-- speculative insertion, which is most of the cost for small files; the rollup lock already
-- keeps concurrent folds apart.
MERGE INTO kpi_cube AS k
USING (
    SELECT d.grain, d.period, d.category, d.region, d.channel,
           sum(d.orders)::bigint AS orders, sum(d.quantity)::bigint AS quantity,
           sum(d.sales_cents)::bigint AS sales_cents, sum(d.cost_cents)::bigint AS cost_cents,
           sum(d.gross_profit_cents)::bigint AS gross_profit_cents,
           sum(d.paid_orders)::bigint AS paid_orders, sum(d.paid_sales_cents)::bigint AS paid_sales_cents,
           sum(d.pending_orders)::bigint AS pending_orders,
           sum(d.pending_sales_cents)::bigint AS pending_sales_cents,
           sum(d.canceled_orders)::bigint AS canceled_orders,
           sum(d.canceled_sales_cents)::bigint AS canceled_sales_cents
    FROM delta_cube d
    GROUP BY d.grain, d.category, d.region, d.channel, d.period
) AS s
ON k.grain = s.grain AND k.category = s.category AND k.region = s.region
   AND k.channel = s.channel AND k.period = s.period
WHEN MATCHED THEN UPDATE SET
    orders               = k.orders + s.orders,
    quantity             = k.quantity + s.quantity,
    sales_cents          = k.sales_cents + s.sales_cents,
    cost_cents           = k.cost_cents + s.cost_cents,
    gross_profit_cents   = k.gross_profit_cents + s.gross_profit_cents,
    paid_orders          = k.paid_orders + s.paid_orders,
    paid_sales_cents     = k.paid_sales_cents + s.paid_sales_cents,
    pending_orders       = k.pending_orders + s.pending_orders,
    pending_sales_cents  = k.pending_sales_cents + s.pending_sales_cents,
    canceled_orders      = k.canceled_orders + s.canceled_orders,
    canceled_sales_cents = k.canceled_sales_cents + s.canceled_sales_cents
WHEN NOT MATCHED THEN INSERT (
    grain, period, category, region, channel, orders, quantity, sales_cents, cost_cents,
    gross_profit_cents, paid_orders, paid_sales_cents, pending_orders, pending_sales_cents,
    canceled_orders, canceled_sales_cents
) VALUES (
    s.grain, s.period, s.category, s.region, s.channel, s.orders, s.quantity, s.sales_cents,
    s.cost_cents, s.gross_profit_cents, s.paid_orders, s.paid_sales_cents, s.pending_orders,
    s.pending_sales_cents, s.canceled_orders, s.canceled_sales_cents
);

-- name: ApplyProducts :execrows
-- Adds the file's expanded sums to kpi_product.
MERGE INTO kpi_product AS k
USING (
    SELECT d.grain, d.period, d.category, d.region, d.channel, d.product,
           sum(d.orders)::bigint AS orders, sum(d.quantity)::bigint AS quantity,
           sum(d.sales_cents)::bigint AS sales_cents
    FROM delta_product d
    GROUP BY d.grain, d.category, d.region, d.channel, d.period, d.product
) AS s
ON k.grain = s.grain AND k.category = s.category AND k.region = s.region
   AND k.channel = s.channel AND k.period = s.period AND k.product = s.product
WHEN MATCHED THEN UPDATE SET
    orders      = k.orders + s.orders,
    quantity    = k.quantity + s.quantity,
    sales_cents = k.sales_cents + s.sales_cents
WHEN NOT MATCHED THEN INSERT (
    grain, period, category, region, channel, product, orders, quantity, sales_cents
) VALUES (
    s.grain, s.period, s.category, s.region, s.channel, s.product, s.orders, s.quantity, s.sales_cents
);

-- name: ApplyReps :execrows
-- Adds the file's expanded sums to kpi_rep.
MERGE INTO kpi_rep AS k
USING (
    SELECT d.grain, d.period, d.category, d.region, d.channel, d.rep,
           sum(d.orders)::bigint AS orders, sum(d.sales_cents)::bigint AS sales_cents,
           sum(d.gross_profit_cents)::bigint AS gross_profit_cents
    FROM delta_rep d
    GROUP BY d.grain, d.category, d.region, d.channel, d.period, d.rep
) AS s
ON k.grain = s.grain AND k.category = s.category AND k.region = s.region
   AND k.channel = s.channel AND k.period = s.period AND k.rep = s.rep
WHEN MATCHED THEN UPDATE SET
    orders             = k.orders + s.orders,
    sales_cents        = k.sales_cents + s.sales_cents,
    gross_profit_cents = k.gross_profit_cents + s.gross_profit_cents
WHEN NOT MATCHED THEN INSERT (
    grain, period, category, region, channel, rep, orders, sales_cents, gross_profit_cents
) VALUES (
    s.grain, s.period, s.category, s.region, s.channel, s.rep, s.orders, s.sales_cents,
    s.gross_profit_cents
);

-- name: NotifyFileLoaded :exec
-- Tells every listening server that a file committed; delivered at commit, never before.
SELECT pg_notify('salespulse_files', sqlc.arg(file_id)::bigint::text);
