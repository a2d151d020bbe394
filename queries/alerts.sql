-- Alert rules, their state and history, and the webhook deliveries of their events.

-- name: ListAlertRules :many
-- Every rule with its state, oldest first.
SELECT * FROM alert_rules ORDER BY id;

-- name: GetAlertRule :one
SELECT * FROM alert_rules WHERE id = $1;

-- name: CreateAlertRule :one
INSERT INTO alert_rules (name, measure, window_unit, window_size, category, region, channel,
                         comparison, threshold, relative, webhook_url)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
RETURNING *;

-- name: UpdateAlertRule :one
-- Changes a rule. Whether it fires is kept; the next evaluation, of the new revision,
-- decides again (and records a recovery or a firing if it must).
UPDATE alert_rules SET
    name = $2, measure = $3, window_unit = $4, window_size = $5, category = $6, region = $7,
    channel = $8, comparison = $9, threshold = $10, relative = $11, webhook_url = $12,
    revision = revision + 1, updated_at = now(),
    value = NULL, measured = NULL, previous = NULL, covered_from = '', covered_to = '',
    basis = -1, evaluated_at = '-infinity'
WHERE id = $1
RETURNING *;

-- name: DeleteAlertRule :execrows
DELETE FROM alert_rules WHERE id = $1;

-- name: AlertLedger :one
-- What alert evaluations read of the ledger, as of one moment: every attempt (the basis an
-- evaluation stands on: the ledger only grows), the loaded files (the KPI engine must hold
-- them all), the newest loaded file, the newest attempt, and the database's clock.
SELECT count(*)::bigint AS attempts,
       count(*) FILTER (WHERE status = 'loaded')::bigint AS loaded,
       max(finished_at) FILTER (WHERE status = 'loaded')::timestamptz AS last_loaded,
       max(finished_at) FILTER (WHERE status IN ('loaded', 'failed'))::timestamptz AS last_attempt,
       now()::timestamptz AS now
FROM ingested_files;

-- name: AlertRejectedRows :one
-- Rows rejected and rows read by the files loaded or refused in [@since, @till).
SELECT coalesce(sum(rows_rejected), 0)::bigint AS rejected,
       coalesce(sum(rows_total), 0)::bigint AS total
FROM ingested_files
WHERE status IN ('loaded', 'failed') AND finished_at >= @since::timestamptz AND finished_at < @till::timestamptz;

-- name: LockAlertRule :one
-- The rule's state, locked until the evaluation that read it decides.
SELECT revision, firing, transitions, basis, evaluated_at
FROM alert_rules WHERE id = $1
FOR UPDATE;

-- name: RecordAlertEvaluation :exec
-- An evaluation's outcome: the state (transitions counts one more when it changed), the
-- value and the data it stands on.
UPDATE alert_rules SET
    firing = @firing, transitions = @transitions,
    changed_at = CASE WHEN @transitions::bigint <> transitions THEN @evaluated_at::timestamptz ELSE changed_at END,
    value = @value, measured = @measured, previous = @previous,
    covered_from = @covered_from, covered_to = @covered_to,
    basis = @basis, evaluated_at = @evaluated_at::timestamptz
WHERE id = @id;

-- name: InsertAlertEvent :one
INSERT INTO alert_events (rule_id, transition, rule_name, kind, measure, comparison, threshold,
                          relative, value, measured, previous, covered_from, covered_to, message, at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
RETURNING id;

-- name: InsertAlertDelivery :exec
INSERT INTO alert_deliveries (event_id, url) VALUES ($1, $2);

-- name: ListAlertEvents :many
-- A page of the history, newest first, with the deliveries: events between @after and
-- @before (0: no bound), of one rule when @rule_id is not 0. A server reads those after the
-- last it told its dashboards of, recorded by any server.
SELECT e.*, d.url AS delivery_url, d.status AS delivery_status, d.attempts AS delivery_attempts,
       d.last_status AS delivery_last_status, d.last_error AS delivery_last_error,
       d.finished_at AS delivery_finished_at
FROM alert_events e
LEFT JOIN alert_deliveries d ON d.event_id = e.id
WHERE e.id < coalesce(nullif(sqlc.arg(before)::bigint, 0), 9223372036854775807)
  AND e.id > sqlc.arg(after)::bigint
  AND (sqlc.arg(rule_id)::bigint = 0 OR e.rule_id = sqlc.arg(rule_id)::bigint)
ORDER BY e.id DESC
LIMIT sqlc.arg(lim)::int;

-- name: LastAlertEvent :one
-- The newest event's id, 0 when there is none.
SELECT coalesce(max(id), 0)::bigint FROM alert_events;

-- name: LeaseAlertDelivery :one
-- Takes the delivery due first that no server is attempting, for @lease_seconds: this
-- server makes the next attempt. SKIP LOCKED: servers leasing at once take different ones.
UPDATE alert_deliveries SET
    attempts = attempts + 1,
    leased_until = now() + make_interval(secs => @lease_seconds::float8)
WHERE event_id = (
    SELECT event_id FROM alert_deliveries
    WHERE status = 'pending' AND next_at <= now() AND (leased_until IS NULL OR leased_until < now())
    ORDER BY next_at
    LIMIT 1
    FOR UPDATE SKIP LOCKED
)
RETURNING event_id, url, attempts;

-- name: FinishAlertAttempt :exec
-- The outcome of an attempt: delivered, failed for good, or pending again after
-- @retry_seconds. Only the attempt that holds the lease records it.
UPDATE alert_deliveries SET
    status = @status, last_status = @last_status, last_error = @last_error,
    next_at = now() + make_interval(secs => @retry_seconds::float8), leased_until = NULL,
    finished_at = CASE WHEN @status = 'pending' THEN NULL ELSE now() END
WHERE event_id = @event_id AND attempts = @attempts;

-- name: NextAlertDelivery :one
-- When the next pending delivery is due (NULL: none is pending).
SELECT min(greatest(next_at, coalesce(leased_until, next_at)))::timestamptz FROM alert_deliveries
WHERE status = 'pending';
