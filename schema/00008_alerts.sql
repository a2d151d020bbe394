-- +goose Up

-- Alert rules, managed through /api/alerts: a measure over a window, an optional filter, and
-- a threshold it must not cross. Every server evaluates every rule after each committed file
-- and on a timer. The state columns are the rule's state as the database decided it: a
-- server records a transition only by changing them, row-locked, so that with several
-- servers each firing and each recovery is recorded (and delivered) once.
CREATE TABLE alert_rules (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name        text             NOT NULL CHECK (name <> ''),
    measure     text             NOT NULL CHECK (measure IN ('sales', 'orders', 'avg_ticket', 'margin_pct',
                                                             'canceled_share', 'rejected_share', 'hours_since_file')),
    -- latest_day, the last window_size days, or hours; '' for hours_since_file, which has none
    window_unit text             NOT NULL CHECK (window_unit IN ('', 'latest_day', 'days', 'hours')),
    window_size integer          NOT NULL CHECK (window_size >= 0),
    category    text             NOT NULL DEFAULT '',
    region      text             NOT NULL DEFAULT '',
    channel     text             NOT NULL DEFAULT '',
    comparison  text             NOT NULL CHECK (comparison IN ('above', 'below')),
    threshold   double precision NOT NULL,
    -- the threshold is a change in percent against the previous window of the same length
    relative    boolean          NOT NULL DEFAULT false,
    webhook_url text             NOT NULL DEFAULT '',
    -- counts edits: an evaluation of an earlier revision decides nothing
    revision    integer          NOT NULL DEFAULT 1,
    created_at  timestamptz      NOT NULL DEFAULT now(),
    updated_at  timestamptz      NOT NULL DEFAULT now(),

    firing      boolean          NOT NULL DEFAULT false,
    transitions bigint           NOT NULL DEFAULT 0, -- firings and recoveries recorded
    changed_at  timestamptz,                         -- the last of them
    -- The last evaluation: the value compared with the threshold (NULL when the data could
    -- not tell), the measure in the window and in the previous one, the window itself
    -- (dates, or times for hours of files), on which data (basis: ledger rows then) and
    -- when (the database's clock). An evaluation on older data, or earlier, decides nothing.
    value        double precision,
    measured     double precision,
    previous     double precision,
    covered_from text             NOT NULL DEFAULT '',
    covered_to   text             NOT NULL DEFAULT '',
    basis        bigint           NOT NULL DEFAULT -1,
    evaluated_at timestamptz      NOT NULL DEFAULT '-infinity'
);

-- Each firing and recovery, with what the rule was then. Deleting a rule keeps its history.
CREATE TABLE alert_events (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    rule_id      bigint           REFERENCES alert_rules (id) ON DELETE SET NULL,
    transition   bigint           NOT NULL, -- the rule's transitions count it made
    rule_name    text             NOT NULL,
    kind         text             NOT NULL CHECK (kind IN ('firing', 'resolved')),
    measure      text             NOT NULL,
    comparison   text             NOT NULL,
    threshold    double precision NOT NULL,
    relative     boolean          NOT NULL,
    value        double precision,
    measured     double precision,
    previous     double precision,
    covered_from text             NOT NULL,
    covered_to   text             NOT NULL,
    message      text             NOT NULL,
    at           timestamptz      NOT NULL DEFAULT now(),
    UNIQUE (rule_id, transition)
);

-- The webhook delivery of an event, when its rule has a webhook: tried until delivered or
-- out of attempts, by whichever server leases it first.
CREATE TABLE alert_deliveries (
    event_id     bigint      PRIMARY KEY REFERENCES alert_events (id) ON DELETE CASCADE,
    url          text        NOT NULL,
    status       text        NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts     integer     NOT NULL DEFAULT 0,
    next_at      timestamptz NOT NULL DEFAULT now(), -- when the next attempt is due
    leased_until timestamptz,                        -- an attempt under way, until then
    last_status  integer     NOT NULL DEFAULT 0,     -- the HTTP status of the last attempt; 0 when it got none
    last_error   text        NOT NULL DEFAULT '',
    finished_at  timestamptz
);

CREATE INDEX alert_deliveries_due ON alert_deliveries (next_at) WHERE status = 'pending';

-- +goose Down
DROP TABLE alert_deliveries;
DROP TABLE alert_events;
DROP TABLE alert_rules;
