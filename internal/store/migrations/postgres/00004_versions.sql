-- +goose Up
-- A run is kept as what changed (internal/store/parts.go). An account's or a
-- finding's JSON is a version, kept once and referenced by every run that
-- holds it; hash identifies its template (the text without what varies from
-- run to run: times, numbers), slots says where those are in body, and as_of
-- is the as-of time of the run that wrote it. body is the JSON that run wrote.
CREATE TABLE finding_versions (
  id          BIGSERIAL PRIMARY KEY,
  hash        TEXT    NOT NULL UNIQUE,
  fingerprint TEXT    NOT NULL,
  rule_id     TEXT    NOT NULL,
  account_id  TEXT    NOT NULL,
  resource    TEXT    NOT NULL,
  status      TEXT    NOT NULL,
  severity    TEXT    NOT NULL,
  first_seen  TEXT,
  as_of       TEXT    NOT NULL,
  slots       BYTEA   NOT NULL,
  body        TEXT    NOT NULL
);
-- A finding's verdicts (LastJudged) and an account's findings by rule.
CREATE INDEX finding_versions_fingerprint ON finding_versions (fingerprint, status);
CREATE INDEX finding_versions_account ON finding_versions (account_id, rule_id);
CREATE TABLE account_versions (
  id          BIGSERIAL PRIMARY KEY,
  hash        TEXT    NOT NULL UNIQUE,
  account_id  TEXT    NOT NULL,
  status      TEXT    NOT NULL,
  as_of       TEXT    NOT NULL,
  slots       BYTEA   NOT NULL,
  body        TEXT    NOT NULL
);
-- What each run holds of each account, in the run's order (seq): its status,
-- how many findings and how many of them fail (a run's failing accounts), and
-- refs: the versions of the account and its findings with what this run writes
-- differently in their slots. An account's runs (history, its last known
-- state) are read by account_id.
CREATE TABLE run_accounts (
  run_id      BIGINT  NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  seq         INTEGER NOT NULL,
  account_id  TEXT    NOT NULL,
  status      TEXT    NOT NULL,
  findings    INTEGER NOT NULL,
  failing     INTEGER NOT NULL,
  refs        BYTEA   NOT NULL,
  PRIMARY KEY (run_id, seq)
);
CREATE INDEX run_accounts_account ON run_accounts (account_id, run_id);
-- The run's JSON without its accounts and findings; finding_order only when
-- its findings are not grouped by account in the accounts' order.
ALTER TABLE runs ADD COLUMN frame TEXT;
ALTER TABLE runs ADD COLUMN finding_order BYTEA;

-- +goose Down
ALTER TABLE runs DROP COLUMN finding_order;
ALTER TABLE runs DROP COLUMN frame;
DROP TABLE run_accounts;
DROP TABLE account_versions;
DROP TABLE finding_versions;
