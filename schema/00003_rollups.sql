-- +goose Up

-- Rollups: everything GET /api/kpis shows is read from these three tables, never from sales.
--
-- Shape, from the queries it serves:
-- * A snapshot is asked for a date window and an optional category, region and channel.
--   Every filter combination is stored ready-made, as a CUBE over (category, region, channel)
--   in which '' stands for "all": a filtered or unfiltered view reads rows that match its
--   filter exactly instead of summing the finer ones.
-- * Two grains: 'd' (one row per sale date) and 'm' (per month, period = the month's first
--   day). A window reads whole months from 'm' and only its ragged ends from 'd', so "all
--   time" costs months, not days. The trend (one point per sale date) reads 'd'.
-- * kpi_cube: totals, payment-status split, trend, by category / region / channel (the rows
--   whose own dimension is set and the other two match the filter), value against gross
--   profit by channel and the per-category trend.
-- * kpi_product and kpi_rep: the top-N lists, which need one row per product or rep. Only
--   two members of the cube are kept: the finest (all three dimensions set) and "all"
--   (none set). An unfiltered list reads "all"; a filtered one sums the finest rows that
--   match, which are few per period since a product has one category and a rep one region
--   in practice. The full cube would multiply their size, and the cost of every load, by 8.
-- Rows are only ever added to: a load folds the sums of its newly inserted sales in with
-- INSERT ... ON CONFLICT DO UPDATE, inside the load's transaction.
--
-- Indexes, from the reads (queries/kpi.sql): every read names the grain, then each of
-- category, region and channel either by one value or by the list of its values (= ANY), then
-- a range of periods. The primary key, in that order, makes each combination one short range
-- scan, and carries the measures (INCLUDE) so that the scans are index-only: the rollup rows
-- of a month are updated by every load of that month and end up scattered over the heap,
-- where fetching each from its own page cost more than all the rest of a snapshot. (Measured
-- with 10 million sales over two years: scripts/bench-kpi.sh.)

CREATE TABLE kpi_cube (
    grain                char(1) NOT NULL CHECK (grain IN ('d', 'm')),
    period               date    NOT NULL,
    category             text    COLLATE "C" NOT NULL,
    region               text    COLLATE "C" NOT NULL,
    channel              text    COLLATE "C" NOT NULL,
    orders               bigint  NOT NULL,
    quantity             bigint  NOT NULL,
    sales_cents          bigint  NOT NULL,
    cost_cents           bigint  NOT NULL,
    gross_profit_cents   bigint  NOT NULL,
    paid_orders          bigint  NOT NULL,
    paid_sales_cents     bigint  NOT NULL,
    pending_orders       bigint  NOT NULL,
    pending_sales_cents  bigint  NOT NULL,
    canceled_orders      bigint  NOT NULL,
    canceled_sales_cents bigint  NOT NULL,
    PRIMARY KEY (grain, category, region, channel, period)
        INCLUDE (orders, quantity, sales_cents, cost_cents, gross_profit_cents, paid_orders,
                 paid_sales_cents, pending_orders, pending_sales_cents, canceled_orders,
                 canceled_sales_cents)
);

CREATE TABLE kpi_product (
    grain        char(1) NOT NULL CHECK (grain IN ('d', 'm')),
    period       date    NOT NULL,
    category     text    COLLATE "C" NOT NULL,
    region       text    COLLATE "C" NOT NULL,
    channel      text    COLLATE "C" NOT NULL,
    product      text    COLLATE "C" NOT NULL,
    orders       bigint  NOT NULL,
    quantity     bigint  NOT NULL,
    sales_cents  bigint  NOT NULL,
    PRIMARY KEY (grain, category, region, channel, period, product) INCLUDE (orders, quantity, sales_cents)
);

CREATE TABLE kpi_rep (
    grain              char(1) NOT NULL CHECK (grain IN ('d', 'm')),
    period             date    NOT NULL,
    category           text    COLLATE "C" NOT NULL,
    region             text    COLLATE "C" NOT NULL,
    channel            text    COLLATE "C" NOT NULL,
    rep                text    COLLATE "C" NOT NULL,
    orders             bigint  NOT NULL,
    sales_cents        bigint  NOT NULL,
    gross_profit_cents bigint  NOT NULL,
    PRIMARY KEY (grain, category, region, channel, period, rep) INCLUDE (orders, sales_cents, gross_profit_cents)
);

-- Index-only scans skip the heap only on pages the visibility map knows to be all-visible;
-- loads keep updating the current month's rows and adding days. Vacuuming after a small share
-- of changes (not the default 20 %, which for millions of rollup rows means months of daily
-- files) keeps the map fresh.
ALTER TABLE kpi_cube SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_insert_scale_factor = 0.01);
ALTER TABLE kpi_product SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_insert_scale_factor = 0.01);
ALTER TABLE kpi_rep SET (autovacuum_vacuum_scale_factor = 0.01, autovacuum_vacuum_insert_scale_factor = 0.01);

-- +goose Down
DROP TABLE kpi_rep;
DROP TABLE kpi_product;
DROP TABLE kpi_cube;
