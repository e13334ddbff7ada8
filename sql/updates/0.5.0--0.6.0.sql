-- lockstep 0.5.0 -> 0.6.0, first steps: what the replayed code cannot do
-- itself (sql/README).
-- fingerprint_clusters takes the channel weights: the replayed cluster.sql
-- makes the new form, and the old one would make every call ambiguous
DROP FUNCTION @extschema@.fingerprint_clusters(text, double precision, double precision, integer, integer,
	integer, integer);

-- fingerprint_similarity's default weights, which the replayed cluster.sql
-- reads (similarity.sql is not replayed)
CREATE FUNCTION @extschema@.fingerprint_default_weights() RETURNS double precision[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fingerprint_default_weights() IS
	'fingerprint_similarity''s channel weights {content, intents, infrastructure, coactivity, hours, models, calendar}, to build weights of your own from';

-- each scored pair's similarities in one call, which the replayed
-- scoring.sql makes
CREATE FUNCTION @extschema@.fingerprint_similarity_parts(@extschema@.fingerprint, @extschema@.fingerprint,
	OUT similarity double precision, OUT work double precision, OUT operator double precision,
	OUT content double precision, OUT intents double precision, OUT infrastructure double precision,
	OUT coactivity double precision, OUT hours double precision, OUT models double precision,
	OUT calendar double precision)
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fingerprint_similarity_parts(@extschema@.fingerprint, @extschema@.fingerprint) IS
	'fingerprint_similarity_detail as a row, unrounded (NULL: undefined): the pair decoded once for all of them';

-- the payment keys as an array, which the replayed cluster.sql and
-- scoring.sql read a thin account's cards with
CREATE FUNCTION @extschema@.fingerprint_payment_keys(@extschema@.fingerprint) RETURNS bigint[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fingerprint_payment_keys(@extschema@.fingerprint) IS
	'the payment keys of fingerprint_infrastructure_keys, ascending, as an array (the first is the smallest)';

-- the aggregate that the replayed pipeline.sql's N_shared view calls
CREATE TYPE @extschema@.lockstep_shared_key AS (kind text, rank integer, key bigint, accounts integer);
COMMENT ON TYPE @extschema@.lockstep_shared_key IS
	'a key that several fingerprints of a group hold: its kind (network, user_agent, payment, scaffold), its rank in its kind, and how many fingerprints hold it';

CREATE FUNCTION @extschema@.fingerprint_shared_keys_trans(internal, @extschema@.fingerprint, integer) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fingerprint_shared_keys_trans(internal, @extschema@.fingerprint, integer) IS
	'transition of fingerprint_shared_keys_agg';
CREATE FUNCTION @extschema@.fingerprint_shared_keys_final(internal) RETURNS @extschema@.lockstep_shared_key[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fingerprint_shared_keys_final(internal) IS
	'final function of fingerprint_shared_keys_agg';
-- no combine function: a group is a campaign's members, and its keys are
-- counted in one table (N_shared reads 24,000 fingerprints in 0.5 s at 16M rows)
CREATE AGGREGATE @extschema@.fingerprint_shared_keys_agg(@extschema@.fingerprint, top integer) (
	SFUNC = @extschema@.fingerprint_shared_keys_trans,
	STYPE = internal,
	FINALFUNC = @extschema@.fingerprint_shared_keys_final,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.fingerprint_shared_keys_agg(@extschema@.fingerprint, integer) IS
	'the network, user_agent, payment and scaffold keys that more than one of the fingerprints hold, the first top (1 to 1000) of each kind by how many hold each, then by key';

-- the window is a table that each refresh keeps (0.5.0's materialized
-- view was computed whole), typed like the pipeline's other tables; a
-- refresh's report says what its window covers and how many accounts'
-- fingerprints it computed (the post steps make the window again)
CREATE TYPE @extschema@.lockstep_window_fingerprint AS (
	account_id bigint,
	org_id bigint,
	fp @extschema@.fingerprint,
	days date[]
);
COMMENT ON TYPE @extschema@.lockstep_window_fingerprint IS
	'row type of a pipeline''s N_window table: per account, its daily fingerprints of the window merged, the organization most of its days name and the days it was active (in no order)';
-- and so are its clusters (a refresh that keeps its clustering adds the
-- accounts new since it)
CREATE TYPE @extschema@.lockstep_cluster_member AS (
	account_id bigint,
	cluster bigint,
	core boolean,
	similarity double precision
);
COMMENT ON TYPE @extschema@.lockstep_cluster_member IS
	'row type of a pipeline''s N_clusters table: an account, its cluster (the label lockstep_cluster_accounts gave it), whether it is a core member and an attached account''s similarity to the member it joined through';
-- and the accounts' scores (a table each refresh writes again: the
-- comparison REFRESH ... CONCURRENTLY made cost 4 to 5 s an hour under a
-- hydra at 16M rows)
CREATE TYPE @extschema@.lockstep_account_score AS (
	account_id bigint,
	cluster bigint,
	score double precision,
	flagged boolean,
	evidence jsonb
);
COMMENT ON TYPE @extschema@.lockstep_account_score IS
	'row type of a pipeline''s N_accounts table: lockstep_score_accounts'' row of a clustered account (its cluster, score, whether flagged, and the evidence)';
ALTER TYPE @extschema@.lockstep_pipeline_refresh
	ADD ATTRIBUTE window_range daterange CASCADE,
	ADD ATTRIBUTE window_accounts bigint CASCADE,
	ADD ATTRIBUTE clustered_with jsonb CASCADE;
COMMENT ON TYPE @extschema@.lockstep_pipeline_refresh IS
	'row type of a pipeline''s N_refreshes table: the days a refresh read, how many it added and recomputed (late rows), the rows it read, skipped (no account_id) and left before its range (older than backfill_days), the seconds of each stage, the most memory its clustering charged, the days its window covers, the accounts whose window fingerprints it computed and the settings its clustering ran with (NULL: it kept the last clustering, recluster_hours)';

-- a day stored is folded by the next refresh, not computed again whole:
-- N_days keeps the newest row it stored (NULL for the days stored before,
-- which the next refresh that finds them changed computes whole), and
-- N_daily when each row was computed (NULL before: the window, made again
-- by the post steps, is computed whole on the next refresh)
ALTER TYPE @extschema@.lockstep_pipeline_day ADD ATTRIBUTE latest timestamptz CASCADE;
-- and when a day last lost stored fingerprints (NULL before: the window
-- checks such a day's accounts for a daily row gone, as it always did)
ALTER TYPE @extschema@.lockstep_pipeline_day ADD ATTRIBUTE removed_at timestamptz CASCADE;
ALTER TYPE @extschema@.lockstep_daily_fingerprint ADD ATTRIBUTE computed_at timestamptz CASCADE;
COMMENT ON TYPE @extschema@.lockstep_daily_fingerprint IS
	'row type of a pipeline''s N_daily table: one fingerprint per account and UTC day, and when it was computed or rows were merged into it (the window computes again the accounts whose rows changed)';
COMMENT ON TYPE @extschema@.lockstep_pipeline_day IS
	'row type of a pipeline''s N_days table: per stored UTC day, the log rows counted and those skipped (no account_id) when its fingerprints were computed (NULL: not counted, a day stored by 0.1.0), the newest row they hold (the rows after it are merged into the day''s fingerprints by the next refresh; NULL: the day is computed again whole), and when it last lost stored fingerprints, computed whole or some of its accounts computed again (NULL: not known; the window then checks its accounts for a daily row gone)';

-- fingerprint_union_agg keeps an expanded state (fingerprint_merge as its
-- transition expanded and packed the state for every row); its input and
-- result are unchanged, so the views that call it stay
CREATE FUNCTION @extschema@.fingerprint_union_trans(internal, @extschema@.fingerprint)
	RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fingerprint_union_trans(internal, @extschema@.fingerprint) IS
	'fingerprint_union_agg transition';
CREATE OR REPLACE AGGREGATE @extschema@.fingerprint_union_agg(@extschema@.fingerprint) (
	SFUNC = @extschema@.fingerprint_union_trans, STYPE = internal, SSPACE = 2048,
	FINALFUNC = @extschema@.fingerprint_agg_final, FINALFUNC_MODIFY = READ_ONLY,
	COMBINEFUNC = @extschema@.fingerprint_agg_combine,
	SERIALFUNC = @extschema@.fingerprint_agg_serialize,
	DESERIALFUNC = @extschema@.fingerprint_agg_deserialize,
	PARALLEL = SAFE);

-- the desk's timeline is made from per campaign and day parts that each
-- refresh keeps (the post steps make the timeline again)
CREATE TYPE @extschema@.lockstep_timeline_part AS (
	campaign bigint,
	day date,
	computed_at timestamptz,
	accounts integer,
	fp @extschema@.fingerprint
);
COMMENT ON TYPE @extschema@.lockstep_timeline_part IS
	'row type of a pipeline''s N_timeline_parts table: per flagged campaign and stored day of the window, its members'' daily fingerprints of the day merged (NULL: none was active), how many, and the day''s computed_at they were read at';
