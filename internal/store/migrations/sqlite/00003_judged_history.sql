-- +goose Up
-- Each finding's first_seen as its run marked it (since when the finding has
-- had its status), so that a later run can carry it through runs that did not
-- judge the finding (error, unknown). Rows from before hold NULL: their run's
-- as-of time stands in.
ALTER TABLE findings ADD COLUMN first_seen TEXT;
-- Runs of a scope are ordered by what they judged as of, then by id: a run
-- imported later (rootwatch runs import) takes its place in time.
CREATE INDEX runs_scope_as_of ON runs (scope, as_of, id);
-- A finding's verdicts, read from the index alone (LastJudged); it serves
-- what the index on fingerprint alone did.
CREATE INDEX findings_verdicts ON findings (fingerprint, status, run_id, first_seen);
DROP INDEX findings_fingerprint;

-- +goose Down
CREATE INDEX findings_fingerprint ON findings (fingerprint);
DROP INDEX findings_verdicts;
DROP INDEX runs_scope_as_of;
ALTER TABLE findings DROP COLUMN first_seen;
