-- The KPI snapshot, read from the rollups only. A snapshot has a filter (category, region,
-- channel; '' = all) and a window of sale dates. The server splits the window into three
-- parts: the whole months (grain 'm', period = a month's first day) and the ragged days at
-- either end (grain 'd'); an empty part has from > to. Every query joins the parts to the
-- rollup laterally, so that each part is one index-only range scan of the primary key (an
-- OR of the parts made PostgreSQL combine bitmaps and visit the heap, one page per row).
--
-- Where a query reads the finest rows (products, reps) or a breakdown, each of category,
-- region and channel comes as a list of values: the filter's, or every value that has
-- sales (KpiFilterValues). Each combination is then a short range scan of the window's
-- periods, instead of a scan of the dimension's whole history.

-- name: KpiTotals :one
-- Totals and the payment-status split of the window, from the cube row of the filter.
SELECT coalesce(sum(k.orders), 0)::bigint AS orders,
       coalesce(sum(k.quantity), 0)::bigint AS quantity,
       coalesce(sum(k.sales_cents), 0)::bigint AS sales_cents,
       coalesce(sum(k.cost_cents), 0)::bigint AS cost_cents,
       coalesce(sum(k.gross_profit_cents), 0)::bigint AS gross_profit_cents,
       coalesce(sum(k.paid_orders), 0)::bigint AS paid_orders,
       coalesce(sum(k.paid_sales_cents), 0)::bigint AS paid_sales_cents,
       coalesce(sum(k.pending_orders), 0)::bigint AS pending_orders,
       coalesce(sum(k.pending_sales_cents), 0)::bigint AS pending_sales_cents,
       coalesce(sum(k.canceled_orders), 0)::bigint AS canceled_orders,
       coalesce(sum(k.canceled_sales_cents), 0)::bigint AS canceled_sales_cents
FROM (VALUES ('d'::char(1), sqlc.arg(head_from)::date, sqlc.arg(head_to)::date),
             ('d'::char(1), sqlc.arg(tail_from)::date, sqlc.arg(tail_to)::date),
             ('m'::char(1), sqlc.arg(month_from)::date, sqlc.arg(month_to)::date)) AS w (grain, lo, hi)
JOIN LATERAL (
    SELECT * FROM kpi_cube c
    WHERE c.grain = w.grain AND c.category = @category AND c.region = @region AND c.channel = @channel
      AND c.period BETWEEN w.lo AND w.hi
) k ON true;

-- name: KpiTrend :many
-- One point per sale date of the window, for the filter.
SELECT period, orders, sales_cents, gross_profit_cents
FROM kpi_cube
WHERE grain = 'd' AND category = @category AND region = @region AND channel = @channel
  AND period BETWEEN @date_from AND @date_to
ORDER BY period;

-- name: KpiBreakdowns :many
-- Sales by category, by region and by channel over the window: the cube rows whose own
-- dimension is set (one of its values) and whose other two match the filter.
SELECT 'category'::text AS dimension, k.category AS value,
       sum(k.orders)::bigint AS orders, sum(k.quantity)::bigint AS quantity,
       sum(k.sales_cents)::bigint AS sales_cents, sum(k.gross_profit_cents)::bigint AS gross_profit_cents
FROM (VALUES ('d'::char(1), sqlc.arg(head_from)::date, sqlc.arg(head_to)::date),
             ('d'::char(1), sqlc.arg(tail_from)::date, sqlc.arg(tail_to)::date),
             ('m'::char(1), sqlc.arg(month_from)::date, sqlc.arg(month_to)::date)) AS w (grain, lo, hi)
JOIN LATERAL (
    SELECT * FROM kpi_cube c
    WHERE c.grain = w.grain AND c.category = ANY(sqlc.arg(categories)::text[]) AND c.region = @region
      AND c.channel = @channel AND c.period BETWEEN w.lo AND w.hi
) k ON true
GROUP BY k.category
UNION ALL
SELECT 'region', k.region, sum(k.orders)::bigint, sum(k.quantity)::bigint, sum(k.sales_cents)::bigint,
       sum(k.gross_profit_cents)::bigint
FROM (VALUES ('d'::char(1), sqlc.arg(head_from)::date, sqlc.arg(head_to)::date),
             ('d'::char(1), sqlc.arg(tail_from)::date, sqlc.arg(tail_to)::date),
             ('m'::char(1), sqlc.arg(month_from)::date, sqlc.arg(month_to)::date)) AS w (grain, lo, hi)
JOIN LATERAL (
    SELECT * FROM kpi_cube c
    WHERE c.grain = w.grain AND c.category = @category AND c.region = ANY(sqlc.arg(regions)::text[])
      AND c.channel = @channel AND c.period BETWEEN w.lo AND w.hi
) k ON true
GROUP BY k.region
UNION ALL
SELECT 'channel', k.channel, sum(k.orders)::bigint, sum(k.quantity)::bigint, sum(k.sales_cents)::bigint,
       sum(k.gross_profit_cents)::bigint
FROM (VALUES ('d'::char(1), sqlc.arg(head_from)::date, sqlc.arg(head_to)::date),
             ('d'::char(1), sqlc.arg(tail_from)::date, sqlc.arg(tail_to)::date),
             ('m'::char(1), sqlc.arg(month_from)::date, sqlc.arg(month_to)::date)) AS w (grain, lo, hi)
JOIN LATERAL (
    SELECT * FROM kpi_cube c
    WHERE c.grain = w.grain AND c.category = @category AND c.region = @region
      AND c.channel = ANY(sqlc.arg(channels)::text[]) AND c.period BETWEEN w.lo AND w.hi
) k ON true
GROUP BY k.channel;

-- name: KpiDailyBreakdowns :many
-- Sales by category (the per-category trend) and by channel (total value against gross
-- profit) over time, for the filter, in buckets of @bucket ('day', 'week' or 'month': the
-- server picks by window length, so a long window stays a few hundred points). A bucket sums
-- the window's own days only: for month buckets the server passes the window split like the
-- other queries (whole months from grain 'm', ragged ends from 'd'); for days and weeks, all
-- of it as head days. The points come as one row per category or channel (member 1 or 2,
-- named by its 1-based position in the list passed) holding its buckets and figures as
-- arrays in date order: as rows, thousands of points cost far more to decode than to read.
WITH w (grain, lo, hi) AS (
    VALUES ('d'::char(1), sqlc.arg(head_from)::date, sqlc.arg(head_to)::date),
           ('d'::char(1), sqlc.arg(tail_from)::date, sqlc.arg(tail_to)::date),
           ('m'::char(1), sqlc.arg(month_from)::date, sqlc.arg(month_to)::date)
),
b AS (
    SELECT 1 AS member, k.category::text AS name,
           date_trunc(sqlc.arg(bucket)::text, k.period::timestamp)::date AS bucket,
           sum(k.orders)::bigint AS orders, sum(k.sales_cents)::bigint AS sales_cents,
           sum(k.gross_profit_cents)::bigint AS gross_profit_cents
    FROM w JOIN LATERAL (
        SELECT * FROM kpi_cube c
        WHERE c.grain = w.grain AND c.category = ANY(sqlc.arg(categories)::text[])
          AND c.region = @region AND c.channel = @channel AND c.period BETWEEN w.lo AND w.hi
    ) k ON true
    GROUP BY 2, 3
    UNION ALL
    SELECT 2, k.channel::text, date_trunc(sqlc.arg(bucket)::text, k.period::timestamp)::date,
           sum(k.orders)::bigint, sum(k.sales_cents)::bigint, sum(k.gross_profit_cents)::bigint
    FROM w JOIN LATERAL (
        SELECT * FROM kpi_cube c
        WHERE c.grain = w.grain AND c.channel = ANY(sqlc.arg(channels)::text[])
          AND c.category = @category AND c.region = @region AND c.period BETWEEN w.lo AND w.hi
    ) k ON true
    GROUP BY 2, 3
)
SELECT b.member::int AS member,
       (CASE b.member WHEN 1 THEN array_position(sqlc.arg(categories)::text[], b.name)
                      ELSE array_position(sqlc.arg(channels)::text[], b.name) END)::int AS position,
       array_agg(b.bucket ORDER BY b.bucket)::date[] AS periods,
       array_agg(b.orders ORDER BY b.bucket)::bigint[] AS orders,
       array_agg(b.sales_cents ORDER BY b.bucket)::bigint[] AS sales_cents,
       array_agg(b.gross_profit_cents ORDER BY b.bucket)::bigint[] AS gross_profit_cents
FROM b
GROUP BY b.member, b.name;

-- name: KpiTopProducts :many
-- Best-selling products over the window: top by quantity, then top by sales. Unfiltered, the
-- "all" rows ('' everywhere: pass one-element lists of ''); filtered, the finest rows that
-- match, summed.
WITH p AS (
    SELECT k.product, sum(k.orders)::bigint AS orders, sum(k.quantity)::bigint AS quantity,
           sum(k.sales_cents)::bigint AS sales_cents
    FROM (VALUES ('d'::char(1), sqlc.arg(head_from)::date, sqlc.arg(head_to)::date),
                 ('d'::char(1), sqlc.arg(tail_from)::date, sqlc.arg(tail_to)::date),
                 ('m'::char(1), sqlc.arg(month_from)::date, sqlc.arg(month_to)::date)) AS w (grain, lo, hi)
    JOIN LATERAL (
        SELECT * FROM kpi_product r
        WHERE r.grain = w.grain AND r.category = ANY(sqlc.arg(categories)::text[])
          AND r.region = ANY(sqlc.arg(regions)::text[]) AND r.channel = ANY(sqlc.arg(channels)::text[])
          AND r.period BETWEEN w.lo AND w.hi
    ) k ON true
    GROUP BY k.product
)
(SELECT 'quantity'::text AS ranking, product, orders, quantity, sales_cents FROM p
 ORDER BY quantity DESC, product LIMIT @top)
UNION ALL
(SELECT 'sales', product, orders, quantity, sales_cents FROM p
 ORDER BY sales_cents DESC, product LIMIT @top);

-- name: KpiRepSums :many
-- Every sales representative's sums over the window, with value lists as in KpiTopProducts.
-- With hundreds of reps this is the longest read of a snapshot (the finest rows of every
-- rep, month and combination of the filter), so the server asks for it in two halves of the
-- window, on two connections at once, and ranks the merged sums itself.
SELECT k.rep, sum(k.orders)::bigint AS orders, sum(k.sales_cents)::bigint AS sales_cents,
       sum(k.gross_profit_cents)::bigint AS gross_profit_cents
FROM (VALUES ('d'::char(1), sqlc.arg(head_from)::date, sqlc.arg(head_to)::date),
             ('d'::char(1), sqlc.arg(tail_from)::date, sqlc.arg(tail_to)::date),
             ('m'::char(1), sqlc.arg(month_from)::date, sqlc.arg(month_to)::date)) AS w (grain, lo, hi)
JOIN LATERAL (
    SELECT * FROM kpi_rep r
    WHERE r.grain = w.grain AND r.category = ANY(sqlc.arg(categories)::text[])
      AND r.region = ANY(sqlc.arg(regions)::text[]) AND r.channel = ANY(sqlc.arg(channels)::text[])
      AND r.period BETWEEN w.lo AND w.hi
) k ON true
GROUP BY k.rep;

-- name: ExportSnapshot :one
-- Names the transaction's view of the data, so that a second connection can compute the
-- other half of the snapshot from exactly the same data (SET TRANSACTION SNAPSHOT).
SELECT pg_export_snapshot()::text AS snapshot_id;

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
