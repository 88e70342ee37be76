-- +goose Up
-- Times are UTC text in one fixed-width layout, so they sort as text.
CREATE TABLE runs (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  scope        TEXT    NOT NULL,
  generated_at TEXT    NOT NULL,
  as_of        TEXT    NOT NULL,
  stored_at    TEXT    NOT NULL,
  tool_version TEXT    NOT NULL,
  accounts     INTEGER NOT NULL,
  summary      TEXT    NOT NULL,
  document     TEXT    NOT NULL
);
CREATE INDEX runs_scope ON runs (scope, id);
CREATE TABLE findings (
  run_id      INTEGER NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  fingerprint TEXT    NOT NULL,
  rule_id     TEXT    NOT NULL,
  account_id  TEXT    NOT NULL,
  resource    TEXT    NOT NULL,
  status      TEXT    NOT NULL,
  severity    TEXT    NOT NULL,
  message     TEXT    NOT NULL,
  PRIMARY KEY (run_id, fingerprint)
);
CREATE INDEX findings_fingerprint ON findings (fingerprint);
CREATE INDEX findings_account ON findings (account_id, rule_id);
CREATE TABLE fingerprints (
  fingerprint TEXT PRIMARY KEY,
  rule_id     TEXT NOT NULL,
  account_id  TEXT NOT NULL,
  resource    TEXT NOT NULL,
  first_seen  TEXT NOT NULL,
  last_seen   TEXT NOT NULL,
  last_status TEXT NOT NULL
);

-- +goose Down
DROP TABLE fingerprints;
DROP TABLE findings;
DROP TABLE runs;
