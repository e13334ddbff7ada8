\set ECHO none
-- The labelled 200k-row log that cluster.sql and hardening.sql read, its
-- per-account fingerprints, clusters and scores; made once per database
-- (each file includes it, so that each runs alone).
SET client_min_messages = warning;
CREATE TABLE IF NOT EXISTS cl_log AS SELECT * FROM lockstep_synth_log(200000, 11);
CREATE TABLE IF NOT EXISTS cl_labels AS SELECT * FROM lockstep_synth_accounts(200000, 11);
CREATE TABLE IF NOT EXISTS cl_fp AS
SELECT account_id, max(org_id) AS org_id,
       fingerprint_agg(ts, prompt, client_ip, user_agent, payment, model, tokens_in, tokens_out) AS fp
FROM cl_log GROUP BY account_id;
CREATE TABLE IF NOT EXISTS cl AS SELECT * FROM fingerprint_clusters('SELECT account_id, fp FROM cl_fp', 0.5, 0.65, 5);
CREATE TABLE IF NOT EXISTS cl_releases AS SELECT * FROM lockstep_synth_releases();
CREATE TABLE IF NOT EXISTS cl_scores AS
SELECT * FROM lockstep_score_clusters('cl', 'cl_fp', 'cl_releases');
RESET client_min_messages;
\set ECHO all
