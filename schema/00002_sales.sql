-- +goose Up

-- One row per sale id, the 24 columns of the CSV contract typed. Money is integer cents;
-- discount is a percentage with up to four decimals.
-- sale_key identifies the sale: the sale id itself when it is a UUID (any letter case), else
-- the name-based UUID (version 5) of the id as written. A 16-byte key keeps the primary-key
-- index half the size of one on the text, which is most of the cost of a bulk load. file_id names the ledger row of the file
-- that first brought the sale; it is deliberately not a foreign key, whose per-row check
-- would double the cost of the bulk COPY (ledger rows are never deleted while sales exist).
CREATE TABLE sales (
    sale_key            uuid          PRIMARY KEY,
    sale_id             text          NOT NULL,
    sale_date           date          NOT NULL,
    product_id          text          NOT NULL,
    product_name        text          NOT NULL,
    product_category    text          NOT NULL,
    quantity            integer       NOT NULL CHECK (quantity >= 1),
    unit_price_cents    bigint        NOT NULL CHECK (unit_price_cents >= 0),
    discount_pct        numeric(7, 4) CHECK (discount_pct BETWEEN 0 AND 100),
    total_value_cents   bigint        NOT NULL CHECK (total_value_cents >= 0),
    unit_cost_cents     bigint        CHECK (unit_cost_cents >= 0),
    total_cost_cents    bigint        CHECK (total_cost_cents >= 0),
    gross_profit_cents  bigint,
    payment_method      text          NOT NULL,
    payment_status      text          NOT NULL CHECK (payment_status IN ('Paid', 'Pending', 'Canceled')),
    payment_date        date,
    customer_id         text          NOT NULL,
    customer_name       text,
    sales_channel       text          NOT NULL,
    sales_region        text          NOT NULL,
    sales_rep           text          NOT NULL,
    customer_rating     text,
    customer_comments   text,
    shipping_cost_cents bigint        CHECK (shipping_cost_cents >= 0),
    delivery_status     text,
    delivery_date       date,
    file_id             bigint        NOT NULL
);

-- +goose Down
DROP TABLE sales;
