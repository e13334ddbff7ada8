-- lockstep 0.4.0 -> 0.5.0, first steps: what the replayed code needs and
-- does not define itself (sql/README): the C functions of fingerprint.sql,
-- the new row types and the refresh type's new columns (every pipeline's
-- N_refreshes gets them, NULL for the refreshes before).
CREATE FUNCTION @extschema@.fingerprint_scaffold_keys(@extschema@.fingerprint,
	OUT key bigint, OUT count bigint) RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 48;
COMMENT ON FUNCTION @extschema@.fingerprint_scaffold_keys(@extschema@.fingerprint) IS
	'the scaffold keys of the content channel, each with the prompts that gave it: every key while an account has at most 48, else the smallest; prompt_scaffold_keys(prompt) gives one prompt''s';

CREATE FUNCTION @extschema@.lockstep_infrastructure_key(kind text, value text) RETURNS bigint
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.lockstep_infrastructure_key(text, text) IS
	'the key that fingerprint_infrastructure_keys reports for a value of kind network (an address), user_agent or payment: to find in the log the values behind a key';

ALTER TYPE @extschema@.lockstep_pipeline_refresh
	ADD ATTRIBUTE stage_seconds jsonb CASCADE,
	ADD ATTRIBUTE clustering_bytes bigint CASCADE;
COMMENT ON TYPE @extschema@.lockstep_pipeline_refresh IS
	'row type of a pipeline''s N_refreshes table: the days a refresh read, how many it added and recomputed (late rows), the rows it read, skipped (no account_id) and left before its range (older than backfill_days), the seconds of each stage and the most memory its clustering charged';

CREATE TYPE @extschema@.lockstep_campaign_history AS (
	refreshed_at timestamptz,
	last_day date,
	campaign bigint,
	cluster bigint,
	accounts integer,
	score double precision,
	fired text[],
	signals jsonb,
	status text,
	parents bigint[],
	first_seen timestamptz
);
COMMENT ON TYPE @extschema@.lockstep_campaign_history IS
	'row type of a pipeline''s N_history table: per refresh, each flagged campaign with its stable id (matched to the previous refresh''s by members), this refresh''s cluster, size, score, signals, status (new, continued, merged, split), the earlier campaigns it took members from, and when it was first seen';

CREATE TYPE @extschema@.lockstep_campaign_member AS (
	campaign bigint,
	account_id bigint
);
COMMENT ON TYPE @extschema@.lockstep_campaign_member IS
	'row type of a pipeline''s N_members table: the accounts of each flagged campaign at the last refresh';
