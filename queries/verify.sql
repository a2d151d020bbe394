-- Consistency checks: the ledger against sales, and the KPIs of a view recomputed from sales
-- with plain SQL, for `salespulse verify` to hold the KPI engine's figures against. Slow on
-- purpose (they read all of sales); never used by the dashboard.
--
-- A view is a window of sale dates (inclusive) and a category, region and channel, each ''
-- for all.

-- name: LedgerDrift :one
-- Sales rows minus the rows the ledger says were loaded: zero when nothing is lost or doubled.
SELECT ((SELECT count(*) FROM sales)
      - (SELECT coalesce(sum(rows_loaded), 0) FROM ingested_files WHERE status = 'loaded'))::bigint
       AS drift;

-- name: FileDrift :many
-- Loaded files whose ledger rows_loaded differs from the sales that name them.
SELECT f.id, f.rows_loaded, coalesce(s.n, 0)::bigint AS sales
FROM ingested_files f
LEFT JOIN (SELECT file_id, count(*) AS n FROM sales GROUP BY file_id) s ON s.file_id = f.id
WHERE f.status = 'loaded' AND f.rows_loaded IS DISTINCT FROM coalesce(s.n, 0)
ORDER BY f.id
LIMIT 20;

-- name: FilesPastTheirBlocks :many
-- Loaded files with sales at or past the sales_end_block their ledger row records: a
-- server reads a file's sales below that block, so it would miss them.
SELECT f.id, f.sales_end_block::bigint AS end_block, count(*)::bigint AS sales
FROM sales s
JOIN ingested_files f ON f.id = s.file_id
WHERE f.sales_end_block IS NOT NULL AND s.ctid >= format('(%s,0)', f.sales_end_block)::tid
GROUP BY f.id, f.sales_end_block
ORDER BY f.id
LIMIT 20;

-- name: SaleDateRange :one
-- First and last sale date loaded.
SELECT min(sale_date)::date AS first_day, max(sale_date)::date AS last_day FROM sales;

-- name: VerifyTotals :one
-- A view's totals and payment-status split.
SELECT count(*)::bigint AS orders, coalesce(sum(quantity), 0)::bigint AS quantity,
       coalesce(sum(total_value_cents), 0)::bigint AS sales_cents,
       coalesce(sum(gross_profit_cents), 0)::bigint AS gross_profit_cents,
       count(*) FILTER (WHERE payment_status = 'Paid')::bigint AS paid_orders,
       coalesce(sum(total_value_cents) FILTER (WHERE payment_status = 'Paid'), 0)::bigint AS paid_sales_cents,
       count(*) FILTER (WHERE payment_status = 'Pending')::bigint AS pending_orders,
       coalesce(sum(total_value_cents) FILTER (WHERE payment_status = 'Pending'), 0)::bigint AS pending_sales_cents,
       count(*) FILTER (WHERE payment_status = 'Canceled')::bigint AS canceled_orders,
       coalesce(sum(total_value_cents) FILTER (WHERE payment_status = 'Canceled'), 0)::bigint AS canceled_sales_cents
FROM sales
WHERE sale_date BETWEEN sqlc.arg(date_from)::date AND sqlc.arg(date_to)::date
  AND (product_category = sqlc.arg(category)::text OR sqlc.arg(category)::text = '') AND (sales_region = sqlc.arg(region)::text OR sqlc.arg(region)::text = '')
  AND (sales_channel = sqlc.arg(channel)::text OR sqlc.arg(channel)::text = '');

-- name: VerifyBreakdowns :many
-- A view's sales by category, by region and by channel.
SELECT 'category'::text AS dimension, product_category AS value, count(*)::bigint AS orders,
       sum(quantity)::bigint AS quantity, sum(total_value_cents)::bigint AS sales_cents,
       coalesce(sum(gross_profit_cents), 0)::bigint AS gross_profit_cents
FROM sales
WHERE sale_date BETWEEN sqlc.arg(date_from)::date AND sqlc.arg(date_to)::date
  AND (product_category = sqlc.arg(category)::text OR sqlc.arg(category)::text = '') AND (sales_region = sqlc.arg(region)::text OR sqlc.arg(region)::text = '')
  AND (sales_channel = sqlc.arg(channel)::text OR sqlc.arg(channel)::text = '')
GROUP BY product_category
UNION ALL
SELECT 'region', sales_region, count(*), sum(quantity), sum(total_value_cents), coalesce(sum(gross_profit_cents), 0)
FROM sales
WHERE sale_date BETWEEN sqlc.arg(date_from)::date AND sqlc.arg(date_to)::date
  AND (product_category = sqlc.arg(category)::text OR sqlc.arg(category)::text = '') AND (sales_region = sqlc.arg(region)::text OR sqlc.arg(region)::text = '')
  AND (sales_channel = sqlc.arg(channel)::text OR sqlc.arg(channel)::text = '')
GROUP BY sales_region
UNION ALL
SELECT 'channel', sales_channel, count(*), sum(quantity), sum(total_value_cents), coalesce(sum(gross_profit_cents), 0)
FROM sales
WHERE sale_date BETWEEN sqlc.arg(date_from)::date AND sqlc.arg(date_to)::date
  AND (product_category = sqlc.arg(category)::text OR sqlc.arg(category)::text = '') AND (sales_region = sqlc.arg(region)::text OR sqlc.arg(region)::text = '')
  AND (sales_channel = sqlc.arg(channel)::text OR sqlc.arg(channel)::text = '')
GROUP BY sales_channel;

-- name: VerifyTopProducts :many
-- A view's ten best-selling products by quantity, then by sales (ties by name, byte order).
WITH p AS (
    SELECT product_name COLLATE "C" AS product, count(*)::bigint AS orders, sum(quantity)::bigint AS quantity,
           sum(total_value_cents)::bigint AS sales_cents
    FROM sales
    WHERE sale_date BETWEEN sqlc.arg(date_from)::date AND sqlc.arg(date_to)::date
      AND (product_category = sqlc.arg(category)::text OR sqlc.arg(category)::text = '') AND (sales_region = sqlc.arg(region)::text OR sqlc.arg(region)::text = '')
      AND (sales_channel = sqlc.arg(channel)::text OR sqlc.arg(channel)::text = '')
    GROUP BY 1
)
(SELECT 'quantity'::text AS ranking, product::text AS product, orders, quantity, sales_cents FROM p
 ORDER BY quantity DESC, product LIMIT 10)
UNION ALL
(SELECT 'sales', product::text, orders, quantity, sales_cents FROM p ORDER BY sales_cents DESC, product LIMIT 10);

-- name: VerifyTopReps :many
-- A view's ten sales representatives with most sales (ties by name, byte order).
SELECT (sales_rep COLLATE "C")::text AS rep, count(*)::bigint AS orders, sum(total_value_cents)::bigint AS sales_cents,
       coalesce(sum(gross_profit_cents), 0)::bigint AS gross_profit_cents
FROM sales
WHERE sale_date BETWEEN sqlc.arg(date_from)::date AND sqlc.arg(date_to)::date
  AND (product_category = sqlc.arg(category)::text OR sqlc.arg(category)::text = '') AND (sales_region = sqlc.arg(region)::text OR sqlc.arg(region)::text = '')
  AND (sales_channel = sqlc.arg(channel)::text OR sqlc.arg(channel)::text = '')
GROUP BY 1
ORDER BY 3 DESC, 1
LIMIT 10;

-- name: VerifyTrend :many
-- A view's sales, orders and gross profit per sale date.
SELECT sale_date, count(*)::bigint AS orders, sum(total_value_cents)::bigint AS sales_cents,
       coalesce(sum(gross_profit_cents), 0)::bigint AS gross_profit_cents
FROM sales
WHERE sale_date BETWEEN sqlc.arg(date_from)::date AND sqlc.arg(date_to)::date
  AND (product_category = sqlc.arg(category)::text OR sqlc.arg(category)::text = '') AND (sales_region = sqlc.arg(region)::text OR sqlc.arg(region)::text = '')
  AND (sales_channel = sqlc.arg(channel)::text OR sqlc.arg(channel)::text = '')
GROUP BY sale_date
ORDER BY sale_date;
