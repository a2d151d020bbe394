-- The memory of `salespulse watch`.

-- name: AnnouncedAmong :many
-- The versions announced before of these keys (one ListObjectsV2 page at a time).
SELECT object_key, etag
FROM watched_objects
WHERE bucket = @bucket AND object_key = ANY(@keys::text[]);

-- name: RecordAnnounced :exec
-- Remembers an object version once its event is published.
INSERT INTO watched_objects (bucket, object_key, etag, size_bytes)
VALUES ($1, $2, $3, $4)
ON CONFLICT DO NOTHING;
