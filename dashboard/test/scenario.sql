-- The dashboard's data, for bin/lockstep-dashboard without a database and
-- for its browser test: the demo's synthetic log of :rows rows and
-- pipeline "demo", refreshed twice so that the history has news.  At the
-- first refresh campaign C has not started and half of B's accounts have
-- not either; before the second, C and the rest of B arrive, and A is
-- banned and its rows purged.  (late_days 60: the second refresh counts
-- every stored day again, and computes again the days whose rows changed.)
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS lockstep;
CREATE EXTENSION IF NOT EXISTS lockstep_synth;
CREATE TABLE source_log AS SELECT * FROM lockstep_synth_log(:rows, 42);
CREATE TABLE labels AS SELECT * FROM lockstep_synth_accounts(:rows, 42);
CREATE TABLE releases AS SELECT * FROM lockstep_synth_releases();
SELECT (max(ts) AT TIME ZONE 'UTC')::date - 1 AS last_day FROM source_log \gset
CREATE TABLE later AS
SELECT account_id FROM labels WHERE campaign = 'C' OR (campaign = 'B' AND account_id % 2 = 0);
CREATE TABLE request_log AS
SELECT * FROM source_log WHERE account_id NOT IN (SELECT account_id FROM later) ORDER BY ts;
CREATE INDEX ON request_log USING brin (ts);
SELECT lockstep_create_pipeline('demo', 'request_log', 28, 'releases', '{"late_days": 60}') IS NOT NULL AS created;
CALL lockstep_refresh('demo', :'last_day');
INSERT INTO request_log SELECT * FROM source_log WHERE account_id IN (SELECT account_id FROM later);
DELETE FROM request_log WHERE account_id IN (SELECT account_id FROM labels WHERE campaign = 'A');
CALL lockstep_refresh('demo', :'last_day');
