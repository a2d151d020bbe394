-- +goose Up

-- KPIs are no longer kept in rollup tables. Each server holds them in memory (server/kpi),
-- built from sales at start and fed the sales of every file that commits, which it reads by
-- the file's ledger id: hence the index. It costs a load little (the key is the same for
-- all of a file's rows, and the index deduplicates it) where the rollups cost a load more
-- than its COPY for large catalogues and long date spans.
DROP TABLE kpi_rep;
DROP TABLE kpi_product;
DROP TABLE kpi_cube;
CREATE INDEX sales_file_id ON sales (file_id);

-- +goose Down
DROP INDEX sales_file_id;

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

-- The rollups as the first version kept them, recomputed from sales.
INSERT INTO kpi_cube
SELECT (CASE WHEN GROUPING(s.day) = 0 THEN 'd' ELSE 'm' END)::char(1), coalesce(s.day, s.month),
       coalesce(s.category, ''), coalesce(s.region, ''), coalesce(s.channel, ''),
       count(*), sum(s.quantity), sum(s.sales), coalesce(sum(s.cost), 0), coalesce(sum(s.profit), 0),
       count(*) FILTER (WHERE s.status = 'Paid'), coalesce(sum(s.sales) FILTER (WHERE s.status = 'Paid'), 0),
       count(*) FILTER (WHERE s.status = 'Pending'), coalesce(sum(s.sales) FILTER (WHERE s.status = 'Pending'), 0),
       count(*) FILTER (WHERE s.status = 'Canceled'), coalesce(sum(s.sales) FILTER (WHERE s.status = 'Canceled'), 0)
FROM (SELECT sale_date AS day, date_trunc('month', sale_date)::date AS month, product_category AS category,
             sales_region AS region, sales_channel AS channel, quantity, total_value_cents AS sales,
             total_cost_cents AS cost, gross_profit_cents AS profit, payment_status AS status
      FROM sales) s
GROUP BY GROUPING SETS ((s.day), (s.month)), CUBE (s.category, s.region, s.channel);

INSERT INTO kpi_product
SELECT (CASE WHEN GROUPING(s.day) = 0 THEN 'd' ELSE 'm' END)::char(1), coalesce(s.day, s.month),
       coalesce(s.category, ''), coalesce(s.region, ''), coalesce(s.channel, ''), s.product,
       count(*), sum(s.quantity), sum(s.sales)
FROM (SELECT sale_date AS day, date_trunc('month', sale_date)::date AS month, product_category AS category,
             sales_region AS region, sales_channel AS channel, product_name AS product, quantity,
             total_value_cents AS sales
      FROM sales) s
GROUP BY s.product, GROUPING SETS ((s.day, s.category, s.region, s.channel), (s.day),
                                   (s.month, s.category, s.region, s.channel), (s.month));

INSERT INTO kpi_rep
SELECT (CASE WHEN GROUPING(s.day) = 0 THEN 'd' ELSE 'm' END)::char(1), coalesce(s.day, s.month),
       coalesce(s.category, ''), coalesce(s.region, ''), coalesce(s.channel, ''), s.rep,
       count(*), sum(s.sales), coalesce(sum(s.profit), 0)
FROM (SELECT sale_date AS day, date_trunc('month', sale_date)::date AS month, product_category AS category,
             sales_region AS region, sales_channel AS channel, sales_rep AS rep, total_value_cents AS sales,
             gross_profit_cents AS profit
      FROM sales) s
GROUP BY s.rep, GROUPING SETS ((s.day, s.category, s.region, s.channel), (s.day),
                               (s.month, s.category, s.region, s.channel), (s.month));
