-- The per-load scratch table. It is temporary (one per connection, emptied at every commit),
-- so concurrent loads never see each other's rows and nothing is written to the WAL for it;
-- a connection creates it once, not once per load. The loader runs this file at
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
