-- +goose Up
-- The alerts rootwatch watch delivered, one row per event and target, so
-- that a restarted watcher does not alert twice on a redelivered event.
CREATE TABLE watch_alerts (
  event_id     TEXT NOT NULL,
  target       TEXT NOT NULL,
  delivered_at TEXT NOT NULL,
  PRIMARY KEY (event_id, target)
);
CREATE INDEX watch_alerts_delivered ON watch_alerts (delivered_at);

-- +goose Down
DROP TABLE watch_alerts;
