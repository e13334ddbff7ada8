-- lockstep: the row types of a pipeline's tables.
-- Part of the install script (see sql/README); an update that changes one
-- says so in its own steps, since types cannot be created twice.

CREATE TYPE @extschema@.lockstep_pipeline_config AS (
	window_days integer,
	settings jsonb
);
COMMENT ON TYPE @extschema@.lockstep_pipeline_config IS
	'row type of a pipeline''s N_config table: the window in days and the settings (keys of lockstep_default_settings())';

CREATE TYPE @extschema@.lockstep_pipeline_day AS (
	day date,
	rows bigint,
	skipped bigint,
	computed_at timestamptz,
	latest timestamptz,
	removed_at timestamptz
);
COMMENT ON TYPE @extschema@.lockstep_pipeline_day IS
	'row type of a pipeline''s N_days table: per stored UTC day, the log rows counted and those skipped (no account_id) when its fingerprints were computed (NULL: not counted, a day stored by 0.1.0), the newest row they hold (the rows after it are merged into the day''s fingerprints by the next refresh; NULL: the day is computed again whole), and when it last lost stored fingerprints, computed whole or some of its accounts computed again (NULL: not known; the window then checks its accounts for a daily row gone)';

CREATE TYPE @extschema@.lockstep_daily_fingerprint AS (
	day date,
	account_id bigint,
	org_id bigint,
	fp @extschema@.fingerprint,
	computed_at timestamptz
);
COMMENT ON TYPE @extschema@.lockstep_daily_fingerprint IS
	'row type of a pipeline''s N_daily table: one fingerprint per account and UTC day, and when it was computed or rows were merged into it (the window computes again the accounts whose rows changed)';

CREATE TYPE @extschema@.lockstep_window_fingerprint AS (
	account_id bigint,
	org_id bigint,
	fp @extschema@.fingerprint,
	days date[]
);
COMMENT ON TYPE @extschema@.lockstep_window_fingerprint IS
	'row type of a pipeline''s N_window table: per account, its daily fingerprints of the window merged, the organization most of its days name and the days it was active (in no order)';

CREATE TYPE @extschema@.lockstep_cluster_member AS (
	account_id bigint,
	cluster bigint,
	core boolean,
	similarity double precision
);
COMMENT ON TYPE @extschema@.lockstep_cluster_member IS
	'row type of a pipeline''s N_clusters table: an account, its cluster (the label lockstep_cluster_accounts gave it), whether it is a core member and an attached account''s similarity to the member it joined through';

CREATE TYPE @extschema@.lockstep_account_score AS (
	account_id bigint,
	cluster bigint,
	score double precision,
	flagged boolean,
	evidence jsonb
);
COMMENT ON TYPE @extschema@.lockstep_account_score IS
	'row type of a pipeline''s N_accounts table: lockstep_score_accounts'' row of a clustered account (its cluster, score, whether flagged, and the evidence)';

CREATE TYPE @extschema@.lockstep_pipeline_refresh AS (
	started_at timestamptz,
	finished_at timestamptz,
	first_day date,
	last_day date,
	days_added integer,
	days_recomputed integer,
	rows_read bigint,
	rows_skipped bigint,
	rows_before_range bigint,
	stage_seconds jsonb,
	clustering_bytes bigint,
	window_range daterange,
	window_accounts bigint,
	clustered_with jsonb
);
COMMENT ON TYPE @extschema@.lockstep_pipeline_refresh IS
	'row type of a pipeline''s N_refreshes table: the days a refresh read, how many it added and recomputed (late rows), the rows it read, skipped (no account_id) and left before its range (older than backfill_days), the seconds of each stage, the most memory its clustering charged, the days its window covers, the accounts whose window fingerprints it computed and the settings its clustering ran with (NULL: it kept the last clustering, recluster_hours)';

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

CREATE TYPE @extschema@.lockstep_timeline_part AS (
	campaign bigint,
	day date,
	computed_at timestamptz,
	accounts integer,
	fp @extschema@.fingerprint
);
COMMENT ON TYPE @extschema@.lockstep_timeline_part IS
	'row type of a pipeline''s N_timeline_parts table: per flagged campaign and stored day of the window, its members'' daily fingerprints of the day merged (NULL: none was active), how many, and the day''s computed_at they were read at';
