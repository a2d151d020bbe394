-- Per-load scratch tables. They are temporary (one set per connection, emptied at every
-- commit), so concurrent loads never see each other's rows and nothing is written to the WAL
-- for them; a connection creates them once, not once per load. The loader runs this file at
-- the start of a load transaction; sqlc reads it to type the queries that use them.

-- Rows of a file that already shares sale ids with sales: merged with ON CONFLICT DO NOTHING.
CREATE TEMP TABLE IF NOT EXISTS sales_staging (
    line                bigint        NOT NULL,
    sale_key            uuid          NOT NULL,
    sale_id             text          NOT NULL,
    sale_date           date          NOT NULL,
    product_id          text          NOT NULL,
    product_name        text          NOT NULL,
    product_category    text          NOT NULL,
    quantity            integer       NOT NULL,
    unit_price_cents    bigint        NOT NULL,
    discount_pct        numeric(7, 4),
    total_value_cents   bigint        NOT NULL,
    unit_cost_cents     bigint,
    total_cost_cents    bigint,
    gross_profit_cents  bigint,
    payment_method      text          NOT NULL,
    payment_status      text          NOT NULL,
    payment_date        date,
    customer_id         text          NOT NULL,
    customer_name       text,
    sales_channel       text          NOT NULL,
    sales_region        text          NOT NULL,
    sales_rep           text          NOT NULL,
    customer_rating     text,
    customer_comments   text,
    shipping_cost_cents bigint,
    delivery_status     text,
    delivery_date       date
) ON COMMIT DELETE ROWS;

-- Merge path: sums of the newly inserted sales per day, filter dimensions and product, as
-- computed by MergeStaged; the loader reads them back to expand them like its own.
CREATE TEMP TABLE IF NOT EXISTS fold_product (
    sale_date            date   NOT NULL,
    category             text   NOT NULL,
    region               text   NOT NULL,
    channel              text   NOT NULL,
    product              text   NOT NULL,
    orders               bigint NOT NULL,
    quantity             bigint NOT NULL,
    sales_cents          bigint NOT NULL,
    cost_cents           bigint NOT NULL,
    gross_profit_cents   bigint NOT NULL,
    paid_orders          bigint NOT NULL,
    paid_sales_cents     bigint NOT NULL,
    pending_orders       bigint NOT NULL,
    pending_sales_cents  bigint NOT NULL,
    canceled_orders      bigint NOT NULL,
    canceled_sales_cents bigint NOT NULL
) ON COMMIT DELETE ROWS;

-- The same per sales representative.
CREATE TEMP TABLE IF NOT EXISTS fold_rep (
    sale_date          date   NOT NULL,
    category           text   NOT NULL,
    region             text   NOT NULL,
    channel            text   NOT NULL,
    rep                text   NOT NULL,
    orders             bigint NOT NULL,
    sales_cents        bigint NOT NULL,
    gross_profit_cents bigint NOT NULL
) ON COMMIT DELETE ROWS;

-- Rows to add to kpi_cube, kpi_product and kpi_rep, expanded by the loader to every grain and
-- filter combination. A key may repeat (partial sums flushed as a large file streams).
CREATE TEMP TABLE IF NOT EXISTS delta_cube (
    grain                char(1) NOT NULL,
    period               date    NOT NULL,
    category             text    NOT NULL,
    region               text    NOT NULL,
    channel              text    NOT NULL,
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
    canceled_sales_cents bigint  NOT NULL
) ON COMMIT DELETE ROWS;

CREATE TEMP TABLE IF NOT EXISTS delta_product (
    grain       char(1) NOT NULL,
    period      date    NOT NULL,
    category    text    NOT NULL,
    region      text    NOT NULL,
    channel     text    NOT NULL,
    product     text    NOT NULL,
    orders      bigint  NOT NULL,
    quantity    bigint  NOT NULL,
    sales_cents bigint  NOT NULL
) ON COMMIT DELETE ROWS;

CREATE TEMP TABLE IF NOT EXISTS delta_rep (
    grain              char(1) NOT NULL,
    period             date    NOT NULL,
    category           text    NOT NULL,
    region             text    NOT NULL,
    channel            text    NOT NULL,
    rep                text    NOT NULL,
    orders             bigint  NOT NULL,
    sales_cents        bigint  NOT NULL,
    gross_profit_cents bigint  NOT NULL
) ON COMMIT DELETE ROWS;
