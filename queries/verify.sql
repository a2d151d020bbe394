-- Consistency checks: the rollups and the ledger recomputed from sales. Slow on purpose (they
-- read all of sales); used by `salespulse verify` and the tests, never by the dashboard.

-- name: CubeDrift :one
-- Number of kpi_cube rows that differ from a recomputation over sales (missing rows count).
WITH expected AS (
    SELECT (CASE WHEN GROUPING(s.day) = 0 THEN 'd' ELSE 'm' END)::char(1) AS grain,
           coalesce(s.day, s.month) AS period,
           coalesce(s.category, '') AS category, coalesce(s.region, '') AS region,
           coalesce(s.channel, '') AS channel,
           count(*) AS orders, sum(s.quantity) AS quantity, sum(s.sales) AS sales_cents,
           coalesce(sum(s.cost), 0) AS cost_cents, coalesce(sum(s.profit), 0) AS gross_profit_cents,
           count(*) FILTER (WHERE s.status = 'Paid') AS paid_orders,
           coalesce(sum(s.sales) FILTER (WHERE s.status = 'Paid'), 0) AS paid_sales_cents,
           count(*) FILTER (WHERE s.status = 'Pending') AS pending_orders,
           coalesce(sum(s.sales) FILTER (WHERE s.status = 'Pending'), 0) AS pending_sales_cents,
           count(*) FILTER (WHERE s.status = 'Canceled') AS canceled_orders,
           coalesce(sum(s.sales) FILTER (WHERE s.status = 'Canceled'), 0) AS canceled_sales_cents
    FROM (
        SELECT sale_date AS day, date_trunc('month', sale_date)::date AS month,
               product_category AS category, sales_region AS region, sales_channel AS channel,
               quantity, total_value_cents AS sales, total_cost_cents AS cost,
               gross_profit_cents AS profit, payment_status AS status
        FROM sales
    ) s
    GROUP BY GROUPING SETS ((s.day), (s.month)), CUBE (s.category, s.region, s.channel)
)
SELECT count(*) FROM expected e
FULL JOIN kpi_cube k USING (grain, period, category, region, channel)
WHERE (e.orders, e.quantity, e.sales_cents, e.cost_cents, e.gross_profit_cents, e.paid_orders,
       e.paid_sales_cents, e.pending_orders, e.pending_sales_cents, e.canceled_orders,
       e.canceled_sales_cents)
      IS DISTINCT FROM
      (k.orders, k.quantity, k.sales_cents, k.cost_cents, k.gross_profit_cents, k.paid_orders,
       k.paid_sales_cents, k.pending_orders, k.pending_sales_cents, k.canceled_orders,
       k.canceled_sales_cents);

-- name: ProductDrift :one
-- Number of kpi_product rows that differ from a recomputation over sales.
WITH expected AS (
    SELECT (CASE WHEN GROUPING(s.day) = 0 THEN 'd' ELSE 'm' END)::char(1) AS grain,
           coalesce(s.day, s.month) AS period,
           coalesce(s.category, '') AS category, coalesce(s.region, '') AS region,
           coalesce(s.channel, '') AS channel, s.product,
           count(*) AS orders, sum(s.quantity) AS quantity, sum(s.sales) AS sales_cents
    FROM (
        SELECT sale_date AS day, date_trunc('month', sale_date)::date AS month,
               product_category AS category, sales_region AS region, sales_channel AS channel,
               product_name AS product, quantity, total_value_cents AS sales
        FROM sales
    ) s
    GROUP BY s.product, GROUPING SETS (
        (s.day, s.category, s.region, s.channel), (s.day),
        (s.month, s.category, s.region, s.channel), (s.month)
    )
)
SELECT count(*) FROM expected e
FULL JOIN kpi_product k USING (grain, period, category, region, channel, product)
WHERE (e.orders, e.quantity, e.sales_cents) IS DISTINCT FROM (k.orders, k.quantity, k.sales_cents);

-- name: RepDrift :one
-- Number of kpi_rep rows that differ from a recomputation over sales.
WITH expected AS (
    SELECT (CASE WHEN GROUPING(s.day) = 0 THEN 'd' ELSE 'm' END)::char(1) AS grain,
           coalesce(s.day, s.month) AS period,
           coalesce(s.category, '') AS category, coalesce(s.region, '') AS region,
           coalesce(s.channel, '') AS channel, s.rep,
           count(*) AS orders, sum(s.sales) AS sales_cents,
           coalesce(sum(s.profit), 0) AS gross_profit_cents
    FROM (
        SELECT sale_date AS day, date_trunc('month', sale_date)::date AS month,
               product_category AS category, sales_region AS region, sales_channel AS channel,
               sales_rep AS rep, total_value_cents AS sales, gross_profit_cents AS profit
        FROM sales
    ) s
    GROUP BY s.rep, GROUPING SETS (
        (s.day, s.category, s.region, s.channel), (s.day),
        (s.month, s.category, s.region, s.channel), (s.month)
    )
)
SELECT count(*) FROM expected e
FULL JOIN kpi_rep k USING (grain, period, category, region, channel, rep)
WHERE (e.orders, e.sales_cents, e.gross_profit_cents)
      IS DISTINCT FROM (k.orders, k.sales_cents, k.gross_profit_cents);

-- name: LedgerDrift :one
-- Sales rows minus the rows the ledger says were loaded: zero when nothing is lost or doubled.
SELECT ((SELECT count(*) FROM sales)
      - (SELECT coalesce(sum(rows_loaded), 0) FROM ingested_files WHERE status = 'loaded'))::bigint
       AS drift;
