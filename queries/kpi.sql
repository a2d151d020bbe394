-- The KPI snapshot, read from the rollups only. A snapshot has a filter (category, region,
-- channel; '' = all) and a window of sale dates, which the server splits into whole months
-- (grain 'm') and the ragged days at either end (grain 'd'); an empty part has from > to.

-- name: KpiTotals :one
-- Totals and the payment-status split of the window, from the cube row of the filter.
SELECT coalesce(sum(orders), 0)::bigint AS orders,
       coalesce(sum(quantity), 0)::bigint AS quantity,
       coalesce(sum(sales_cents), 0)::bigint AS sales_cents,
       coalesce(sum(cost_cents), 0)::bigint AS cost_cents,
       coalesce(sum(gross_profit_cents), 0)::bigint AS gross_profit_cents,
       coalesce(sum(paid_orders), 0)::bigint AS paid_orders,
       coalesce(sum(paid_sales_cents), 0)::bigint AS paid_sales_cents,
       coalesce(sum(pending_orders), 0)::bigint AS pending_orders,
       coalesce(sum(pending_sales_cents), 0)::bigint AS pending_sales_cents,
       coalesce(sum(canceled_orders), 0)::bigint AS canceled_orders,
       coalesce(sum(canceled_sales_cents), 0)::bigint AS canceled_sales_cents
FROM kpi_cube
WHERE category = @category AND region = @region AND channel = @channel
  AND ((grain = 'd' AND (period BETWEEN @head_from AND @head_to OR period BETWEEN @tail_from AND @tail_to))
    OR (grain = 'm' AND period BETWEEN @month_from AND @month_to));

-- name: KpiTrend :many
-- One point per sale date of the window, for the filter.
SELECT period, orders, sales_cents, gross_profit_cents
FROM kpi_cube
WHERE grain = 'd' AND category = @category AND region = @region AND channel = @channel
  AND period BETWEEN @date_from AND @date_to
ORDER BY period;

-- name: KpiBreakdowns :many
-- Sales by category, by region and by channel over the window: the cube rows whose own
-- dimension is set ('' sorts first, so > '' means "set") and whose other two match the filter.
SELECT 'category'::text AS dimension, k.category AS value,
       sum(k.orders)::bigint AS orders, sum(k.quantity)::bigint AS quantity,
       sum(k.sales_cents)::bigint AS sales_cents, sum(k.gross_profit_cents)::bigint AS gross_profit_cents
FROM kpi_cube k
WHERE k.category > '' AND (@category = '' OR k.category = @category) AND k.region = @region AND k.channel = @channel
  AND ((k.grain = 'd' AND (k.period BETWEEN @head_from AND @head_to OR k.period BETWEEN @tail_from AND @tail_to))
    OR (k.grain = 'm' AND k.period BETWEEN @month_from AND @month_to))
GROUP BY k.category
UNION ALL
SELECT 'region', k.region, sum(k.orders)::bigint, sum(k.quantity)::bigint, sum(k.sales_cents)::bigint,
       sum(k.gross_profit_cents)::bigint
FROM kpi_cube k
WHERE k.region > '' AND (@region = '' OR k.region = @region) AND k.category = @category AND k.channel = @channel
  AND ((k.grain = 'd' AND (k.period BETWEEN @head_from AND @head_to OR k.period BETWEEN @tail_from AND @tail_to))
    OR (k.grain = 'm' AND k.period BETWEEN @month_from AND @month_to))
GROUP BY k.region
UNION ALL
SELECT 'channel', k.channel, sum(k.orders)::bigint, sum(k.quantity)::bigint, sum(k.sales_cents)::bigint,
       sum(k.gross_profit_cents)::bigint
FROM kpi_cube k
WHERE k.channel > '' AND (@channel = '' OR k.channel = @channel) AND k.category = @category AND k.region = @region
  AND ((k.grain = 'd' AND (k.period BETWEEN @head_from AND @head_to OR k.period BETWEEN @tail_from AND @tail_to))
    OR (k.grain = 'm' AND k.period BETWEEN @month_from AND @month_to))
GROUP BY k.channel;

-- name: KpiDailyBreakdowns :many
-- Per sale date, sales by category (the per-category trend) and by channel (total value
-- against gross profit, one point per channel and day), for the filter.
SELECT 'category'::text AS dimension, k.category AS value, k.period, k.orders, k.sales_cents, k.gross_profit_cents
FROM kpi_cube k
WHERE k.grain = 'd' AND k.category > '' AND (@category = '' OR k.category = @category)
  AND k.region = @region AND k.channel = @channel AND k.period BETWEEN @date_from AND @date_to
UNION ALL
SELECT 'channel', k.channel, k.period, k.orders, k.sales_cents, k.gross_profit_cents
FROM kpi_cube k
WHERE k.grain = 'd' AND k.channel > '' AND (@channel = '' OR k.channel = @channel)
  AND k.category = @category AND k.region = @region AND k.period BETWEEN @date_from AND @date_to;

-- name: KpiTopProductsAll :many
-- Best-selling products over the window, unfiltered: top by quantity, then top by sales.
WITH p AS (
    SELECT product, sum(orders)::bigint AS orders, sum(quantity)::bigint AS quantity,
           sum(sales_cents)::bigint AS sales_cents
    FROM kpi_product
    WHERE category = '' AND region = '' AND channel = ''
      AND ((grain = 'd' AND (period BETWEEN @head_from AND @head_to OR period BETWEEN @tail_from AND @tail_to))
        OR (grain = 'm' AND period BETWEEN @month_from AND @month_to))
    GROUP BY product
)
(SELECT 'quantity'::text AS ranking, product, orders, quantity, sales_cents FROM p
 ORDER BY quantity DESC, product LIMIT @top)
UNION ALL
(SELECT 'sales', product, orders, quantity, sales_cents FROM p
 ORDER BY sales_cents DESC, product LIMIT @top);

-- name: KpiTopProductsFiltered :many
-- The same for a filter: the finest rows that match it, summed.
WITH p AS (
    SELECT product, sum(orders)::bigint AS orders, sum(quantity)::bigint AS quantity,
           sum(sales_cents)::bigint AS sales_cents
    FROM kpi_product
    WHERE category > '' AND region > '' AND channel > ''
      AND (@category = '' OR category = @category) AND (@region = '' OR region = @region)
      AND (@channel = '' OR channel = @channel)
      AND ((grain = 'd' AND (period BETWEEN @head_from AND @head_to OR period BETWEEN @tail_from AND @tail_to))
        OR (grain = 'm' AND period BETWEEN @month_from AND @month_to))
    GROUP BY product
)
(SELECT 'quantity'::text AS ranking, product, orders, quantity, sales_cents FROM p
 ORDER BY quantity DESC, product LIMIT @top)
UNION ALL
(SELECT 'sales', product, orders, quantity, sales_cents FROM p
 ORDER BY sales_cents DESC, product LIMIT @top);

-- name: KpiTopRepsAll :many
-- The sales representatives with the most sales over the window, unfiltered.
SELECT rep, sum(orders)::bigint AS orders, sum(sales_cents)::bigint AS sales_cents,
       sum(gross_profit_cents)::bigint AS gross_profit_cents
FROM kpi_rep
WHERE category = '' AND region = '' AND channel = ''
  AND ((grain = 'd' AND (period BETWEEN @head_from AND @head_to OR period BETWEEN @tail_from AND @tail_to))
    OR (grain = 'm' AND period BETWEEN @month_from AND @month_to))
GROUP BY rep
ORDER BY sales_cents DESC, rep
LIMIT @top;

-- name: KpiTopRepsFiltered :many
-- The same for a filter.
SELECT rep, sum(orders)::bigint AS orders, sum(sales_cents)::bigint AS sales_cents,
       sum(gross_profit_cents)::bigint AS gross_profit_cents
FROM kpi_rep
WHERE category > '' AND region > '' AND channel > ''
  AND (@category = '' OR category = @category) AND (@region = '' OR region = @region)
  AND (@channel = '' OR channel = @channel)
  AND ((grain = 'd' AND (period BETWEEN @head_from AND @head_to OR period BETWEEN @tail_from AND @tail_to))
    OR (grain = 'm' AND period BETWEEN @month_from AND @month_to))
GROUP BY rep
ORDER BY sales_cents DESC, rep
LIMIT @top;

-- name: KpiDateRange :one
-- First and last sale date loaded ("latest day" is the last).
SELECT min(period)::date AS first_day, max(period)::date AS last_day
FROM kpi_cube
WHERE grain = 'd' AND category = '' AND region = '' AND channel = '';

-- name: KpiFilterValues :many
-- The categories, regions and channels that have sales, for the filter menus.
SELECT DISTINCT 'category'::text AS dimension, category AS value FROM kpi_cube
WHERE grain = 'm' AND category > '' AND region = '' AND channel = ''
UNION
SELECT DISTINCT 'region', region FROM kpi_cube
WHERE grain = 'm' AND region > '' AND category = '' AND channel = ''
UNION
SELECT DISTINCT 'channel', channel FROM kpi_cube
WHERE grain = 'm' AND channel > '' AND category = '' AND region = ''
ORDER BY 1, 2;

-- name: LatestLoadedFile :one
-- The newest loaded file: "as of" and "last file" of the snapshot.
SELECT id, bucket, object_key, finished_at
FROM ingested_files
WHERE status = 'loaded'
ORDER BY finished_at DESC
LIMIT 1;
