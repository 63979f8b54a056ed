-- The request log: one row per proxied request, whatever its outcome.
CREATE TABLE IF NOT EXISTS requests (
  id INTEGER PRIMARY KEY AUTOINCREMENT,
  user_id TEXT NOT NULL,
  endpoint TEXT NOT NULL,
  status INTEGER NOT NULL,
  latency_ms INTEGER NOT NULL DEFAULT 0,
  tokens_est INTEGER NOT NULL DEFAULT 0,
  ip_hash TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL DEFAULT (datetime('now'))
);

CREATE INDEX IF NOT EXISTS idx_requests_user_id_created_at
  ON requests (user_id, created_at);

-- Per-user totals for dashboards and post-event review.
CREATE VIEW IF NOT EXISTS user_summary AS
SELECT
  user_id,
  COUNT(*) AS requests,
  COALESCE(SUM(tokens_est), 0) AS tokens_est,
  CAST(ROUND(AVG(latency_ms)) AS INTEGER) AS avg_latency_ms,
  SUM(CASE WHEN status = 429 THEN 1 ELSE 0 END) AS rate_limited,
  SUM(CASE WHEN status >= 400 THEN 1 ELSE 0 END) AS errors,
  MIN(created_at) AS first_seen,
  MAX(created_at) AS last_seen
FROM requests
GROUP BY user_id;
