-- lockstep: the detection pipeline, its tables and views, its refresh.
-- Part of the install script and of the update to it (see sql/README).
--
-- A pipeline named N is sixteen objects in the schema it was created in:
--   N_config     one row: the window and the settings (typed, no SQL text)
--   N_days       one row per stored UTC day: rows read, rows skipped
--   N_daily      one fingerprint per account and UTC day
--   N_refreshes  one row per refresh: what it added, recomputed, skipped
--   N_window     the last window_days days merged per account (kept by
--                lockstep_refresh_window: the accounts whose days changed)
--   N_clusters   lockstep_cluster_accounts over N_window (written again by
--                each refresh that clusters; one that keeps the clustering,
--                recluster_hours, adds what lockstep_attach_accounts joins)
--   N_campaigns  materialized: lockstep_score_clusters, one row per cluster
--   N_accounts   materialized: lockstep_score_accounts, one row per account
-- and the analyst's desk (lockstep_create_pipeline_desk):
--   N_history    per refresh, each flagged campaign under its stable id
--   N_members    the accounts of each flagged campaign, last refresh
--   N_timeline   materialized: per campaign and day, for a chart, made from
--   N_timeline_parts  per campaign and day, the members' daily rows merged,
--   N_timeline_members  and the members they hold (both kept by
--                lockstep_refresh_timeline)
--   N_shared     materialized: per campaign, the keys its members share
--   N_changes    view: what changed between the last two refreshes
--   N_health     view: per refresh, its stages, rows and memory
-- The views name the relations they read as regclass constants, and
-- constraints on N_config name the log (pipeline_log) and every part
-- (pipeline_objects), so PostgreSQL records every dependency: no part and
-- not the log can be dropped alone, pg_dump restores them in order,
-- lockstep_drop_pipeline knows what to remove, and DROP EXTENSION lockstep
-- CASCADE removes the typed tables with their types.  Only the owner can
-- change a constraint; a role that may UPDATE N_config changes numbers.
--
-- Every function here runs with search_path = pg_catalog, pg_temp (the
-- refresh sets it for each of its transactions) and names the extension's
-- objects with its schema and the user's relations by regclass.

-- The pipeline -------------------------------------------------------------

-- The config table of pipeline name ("N" or "schema.N"): a table of type
-- lockstep_pipeline_config named N_config, found as PostgreSQL finds a
-- relation: in the schema named, or the first schema of the caller's
-- search path that has one (the caller's own temporary schema first, no
-- other session's).  No SET search_path here, so that current_schemas is
-- the caller's: every name and operator is written with its schema.
CREATE FUNCTION @extschema@.lockstep_pipeline_config(name text) RETURNS regclass
	LANGUAGE plpgsql STABLE PARALLEL SAFE
	AS $$
DECLARE
	ident text[];
	found regclass;
BEGIN
	IF name IS NULL THEN
		RETURN NULL;
	END IF;
	ident := pg_catalog.parse_ident(name);
	IF pg_catalog.cardinality(ident) OPERATOR(pg_catalog.>) 2 THEN
		RAISE EXCEPTION 'a pipeline name is N or schema.N, not %', name USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT c.oid::pg_catalog.regclass INTO found
	FROM pg_catalog.unnest(CASE WHEN pg_catalog.cardinality(ident) OPERATOR(pg_catalog.=) 1
								THEN pg_catalog.current_schemas(true)
								ELSE ARRAY[ident[1]]::pg_catalog.name[] END) WITH ORDINALITY AS s(nsp, ord)
	JOIN pg_catalog.pg_namespace n ON n.nspname OPERATOR(pg_catalog.=) s.nsp
	JOIN pg_catalog.pg_class c ON c.relnamespace OPERATOR(pg_catalog.=) n.oid
	WHERE c.reloftype OPERATOR(pg_catalog.=) '@extschema@.lockstep_pipeline_config'::pg_catalog.regtype
	  AND c.relname OPERATOR(pg_catalog.=)
		  (ident[pg_catalog.cardinality(ident)] OPERATOR(pg_catalog.||) '_config')::pg_catalog.name
	ORDER BY s.ord LIMIT 1;
	RETURN found;
END $$;
COMMENT ON FUNCTION @extschema@.lockstep_pipeline_config(text) IS
	'the N_config table of the pipeline N (or schema.N), found through the caller''s search path as a relation is; NULL if there is none';

-- A relation named by a constraint of a pipeline's config table.
CREATE FUNCTION @extschema@.lockstep_pipeline_part(config regclass, constraint_name text) RETURNS regclass[]
	LANGUAGE sql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT array_agg(d.refobjid::regclass ORDER BY d.refobjid)
	FROM pg_constraint k
	JOIN pg_depend d ON d.classid = 'pg_constraint'::regclass AND d.objid = k.oid
					AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> config
	WHERE k.conrelid = config AND k.conname = constraint_name
$$;
COMMENT ON FUNCTION @extschema@.lockstep_pipeline_part(regclass, text) IS
	'internal: the relations a constraint of a pipeline''s config table names (pipeline_log, pipeline_objects)';

-- The schema and the name of the pipeline whose config table is config.
CREATE FUNCTION @extschema@.lockstep_pipeline_name(config regclass, OUT nsp text, OUT name text)
	LANGUAGE sql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT n.nspname::text, left(c.relname, -length('_config'))
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = config
$$;
COMMENT ON FUNCTION @extschema@.lockstep_pipeline_name(regclass) IS
	'internal: the schema and the name of the pipeline whose config table is config';

-- The materialized views of a pipeline whose tables exist, and the
-- constraint that records them; used by lockstep_create_pipeline and by
-- the update from 0.1.0.
CREATE FUNCTION @extschema@.lockstep_create_pipeline_views(config regclass, releases regclass) RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	nsp text;
	name text;
BEGIN
	SELECT p.nsp, p.name INTO nsp, name FROM @extschema@.lockstep_pipeline_name(config) p;
	-- a table that lockstep_refresh_window keeps (a materialized view is
	-- computed whole)
	EXECUTE format('CREATE TABLE %I.%I OF @extschema@.lockstep_window_fingerprint (
					account_id WITH OPTIONS NOT NULL, fp WITH OPTIONS NOT NULL, days WITH OPTIONS NOT NULL)',
				   nsp, name || '_window');
	-- a table too, which a refresh that keeps the clustering adds to
	EXECUTE format('CREATE TABLE %I.%I OF @extschema@.lockstep_cluster_member (
					account_id WITH OPTIONS NOT NULL, cluster WITH OPTIONS NOT NULL)', nsp, name || '_clusters');
	EXECUTE format($q$CREATE MATERIALIZED VIEW %1$I.%2$I AS
		SELECT k.* FROM %1$I.%3$I s,
		LATERAL @extschema@.lockstep_score_clusters(%4$L::pg_catalog.regclass, %5$L::pg_catalog.regclass,
			%6$s, s.settings) k WITH NO DATA$q$,
		nsp, name || '_campaigns', name || '_config', format('%I.%I', nsp, name || '_clusters'),
		format('%I.%I', nsp, name || '_window'),
		CASE WHEN releases IS NULL THEN 'NULL' ELSE format('%L::pg_catalog.regclass', releases::text) END);
	-- a table that each refresh writes again (REFRESH ... CONCURRENTLY
	-- compared every old row with the new ones: 4 to 5 s an hour under a
	-- hydra at 16M rows, 200,000 clustered accounts)
	EXECUTE format('CREATE TABLE %I.%I OF @extschema@.lockstep_account_score (
					account_id WITH OPTIONS NOT NULL, cluster WITH OPTIONS NOT NULL)', nsp, name || '_accounts');
	EXECUTE format('CREATE UNIQUE INDEX ON %I.%I (account_id)', nsp, name || '_window');
	-- the scores' background is the first accounts in no cluster in this
	-- order (lockstep_score_clusters): read through it, not by sorting the
	-- whole window (0.23 s of each hourly refresh at 16M rows, 14 ms)
	EXECUTE format('CREATE INDEX ON %I.%I (pg_catalog.hashint8(account_id), account_id)', nsp, name || '_window');
	EXECUTE format('CREATE UNIQUE INDEX ON %I.%I (account_id)', nsp, name || '_clusters');
	EXECUTE format('CREATE UNIQUE INDEX ON %I.%I (cluster)', nsp, name || '_campaigns');
	EXECUTE format('CREATE UNIQUE INDEX ON %I.%I (account_id)', nsp, name || '_accounts');
	EXECUTE format('COMMENT ON TABLE %I.%I IS %L', nsp, name || '_window',
		'one fingerprint per account over the last window_days days of ' || name || '_daily (lockstep_refresh computes those of the accounts whose days changed)');
	EXECUTE format('COMMENT ON TABLE %I.%I IS %L', nsp, name || '_clusters',
		'lockstep_cluster_accounts over ' || name || '_window (lockstep_refresh writes it again when it clusters, and adds the accounts lockstep_attach_accounts joins when it keeps the clustering: recluster_hours)');
	EXECUTE format('COMMENT ON MATERIALIZED VIEW %I.%I IS %L', nsp, name || '_campaigns',
		'lockstep_score_clusters: one scored, explained row per cluster');
	EXECUTE format('COMMENT ON TABLE %I.%I IS %L', nsp, name || '_accounts',
		'lockstep_score_accounts: one scored row per clustered account (lockstep_refresh writes it again)');
END $$;
COMMENT ON FUNCTION @extschema@.lockstep_create_pipeline_views(regclass, regclass) IS
	'internal: the detection views of a pipeline whose tables exist (window, clusters, campaigns, accounts)';

-- N_timeline and N_shared, the desk's views over N_members and N_window
-- (and N_timeline over the parts lockstep_refresh_timeline keeps, whose
-- tables are made here too): made by the desk, and again by an update
-- that makes the window again.
CREATE FUNCTION @extschema@.lockstep_create_pipeline_desk_views(config regclass) RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	nsp text;
	name text;
BEGIN
	SELECT p.nsp, p.name INTO nsp, name FROM @extschema@.lockstep_pipeline_name(config) p;
	-- the parts the timeline is made from, which each refresh keeps
	-- (lockstep_refresh_timeline), and the members they were made for
	EXECUTE format('CREATE TABLE %I.%I OF @extschema@.lockstep_timeline_part (
					campaign WITH OPTIONS NOT NULL, day WITH OPTIONS NOT NULL, accounts WITH OPTIONS NOT NULL,
					PRIMARY KEY (campaign, day))', nsp, name || '_timeline_parts');
	EXECUTE format('CREATE TABLE %I.%I OF @extschema@.lockstep_campaign_member (
					campaign WITH OPTIONS NOT NULL, account_id WITH OPTIONS NOT NULL,
					PRIMARY KEY (account_id))', nsp, name || '_timeline_members');
	EXECUTE format('COMMENT ON TABLE %I.%I IS %L', nsp, name || '_timeline_parts',
		'per flagged campaign and stored day of the window, its members'' daily fingerprints merged: what ' || name
		|| '_timeline is made from (lockstep_refresh keeps it: it reads again the days stored since, and the members new since)');
	EXECUTE format('COMMENT ON TABLE %I.%I IS %L', nsp, name || '_timeline_members',
		'the members ' || name || '_timeline_parts holds, as of the last refresh (lockstep_refresh keeps it)');
	-- per campaign and day of the window: the members' requests, how many
	-- were active, how many for the first time in the window (the day of
	-- the first request their window fingerprint holds), requests per
	-- model (the pivot), and each intent's share of the prompts
	EXECUTE format($q$CREATE MATERIALIZED VIEW %1$I.%2$I AS
		WITH n AS (
			SELECT m.campaign, (f.first_seen AT TIME ZONE 'UTC')::date AS day, count(*)::integer AS new_accounts
			FROM %1$I.%3$I m JOIN %1$I.%4$I w USING (account_id), LATERAL @extschema@.fingerprint_stats(w.fp) f
			GROUP BY 1, 2)
		SELECT g.campaign, g.day, st.requests, g.accounts, coalesce(n.new_accounts, 0) AS new_accounts,
			   coalesce((SELECT pg_catalog.jsonb_object_agg(x.model, x.requests ORDER BY x.model)
						 FROM @extschema@.fingerprint_models(g.fp) x), '{}') AS models,
			   coalesce((SELECT pg_catalog.jsonb_object_agg(x.intent,
								round(CASE WHEN st.prompts > 0 THEN x.count::numeric / st.prompts ELSE 0 END, 4)
								ORDER BY x.intent)
						 FROM @extschema@.fingerprint_intents(g.fp) x), '{}') AS intents
		FROM %1$I.%5$I g LEFT JOIN n USING (campaign, day), LATERAL @extschema@.fingerprint_stats(g.fp) st
		WHERE g.accounts > 0
		WITH NO DATA$q$, nsp, name || '_timeline', name || '_members', name || '_window', name || '_timeline_parts');
	EXECUTE format('CREATE UNIQUE INDEX ON %I.%I (campaign, day)', nsp, name || '_timeline');
	EXECUTE format('COMMENT ON MATERIALIZED VIEW %I.%I IS %L', nsp, name || '_timeline',
		'per flagged campaign and day of the window: requests, active and new accounts, requests per model, share of each intent');
	-- per campaign: the infrastructure and scaffold keys most of its
	-- members share, ten of each kind, each with how many share it
	EXECUTE format($q$CREATE MATERIALIZED VIEW %1$I.%2$I AS
		SELECT g.campaign, k.kind, k.rank, k.key, k.accounts
		FROM (SELECT m.campaign, @extschema@.fingerprint_shared_keys_agg(w.fp, 10) AS keys
			  FROM %1$I.%3$I m JOIN %1$I.%4$I w USING (account_id) GROUP BY 1) g,
			 LATERAL pg_catalog.unnest(g.keys) k
		WITH NO DATA$q$, nsp, name || '_shared', name || '_members', name || '_window');
	EXECUTE format('CREATE UNIQUE INDEX ON %I.%I (campaign, kind, rank)', nsp, name || '_shared');
	EXECUTE format('COMMENT ON MATERIALIZED VIEW %I.%I IS %L', nsp, name || '_shared',
		'per flagged campaign: the ten network, user_agent, payment and scaffold keys most of its members share, with how many share each');
END $$;
COMMENT ON FUNCTION @extschema@.lockstep_create_pipeline_desk_views(regclass) IS
	'internal: the N_timeline and N_shared views (and N_timeline_parts and N_timeline_members) of a pipeline whose members table, daily table and window exist';

-- The analyst's desk of a pipeline whose detection views exist: the
-- campaign history and its members (tables, appended and replaced by each
-- refresh), the views made for dashboards over them, and what changed
-- since the last refresh.  Every value here is a count, a score or a key:
-- no address, agent, card or prompt (keys are one-way; the log's readers
-- find the values behind one with lockstep_infrastructure_key and
-- prompt_scaffold_keys).
CREATE FUNCTION @extschema@.lockstep_create_pipeline_desk(config regclass) RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	nsp text;
	name text;
BEGIN
	SELECT p.nsp, p.name INTO nsp, name FROM @extschema@.lockstep_pipeline_name(config) p;
	EXECUTE format('CREATE TABLE %I.%I OF @extschema@.lockstep_campaign_history (
					refreshed_at WITH OPTIONS NOT NULL, campaign WITH OPTIONS NOT NULL,
					PRIMARY KEY (refreshed_at, campaign))', nsp, name || '_history');
	EXECUTE format('COMMENT ON TABLE %I.%I IS %L', nsp, name || '_history',
		'per refresh, each flagged campaign with its stable id, size, score, signals and status (lockstep_refresh appends)');
	EXECUTE format('CREATE TABLE %I.%I OF @extschema@.lockstep_campaign_member (
					campaign WITH OPTIONS NOT NULL, account_id WITH OPTIONS NOT NULL,
					PRIMARY KEY (account_id))', nsp, name || '_members');
	EXECUTE format('COMMENT ON TABLE %I.%I IS %L', nsp, name || '_members',
		'the accounts of each flagged campaign at the last refresh (what the next refresh matches its clusters to)');
	PERFORM @extschema@.lockstep_create_pipeline_desk_views(config);
	-- no GIN index on the window: building one is a fifth of a first
	-- 16M-row refresh, and a search with fp % $1 scans the window in
	-- under a second at that size (README, "The analyst's desk")
	-- what changed between the last two refreshes, one row per campaign in
	-- either: new, split (new, from members of an earlier one), grew,
	-- shrank, same, merged (its members went to another), gone
	EXECUTE format($q$CREATE VIEW %1$I.%2$I AS
		WITH r AS (SELECT DISTINCT refreshed_at FROM %1$I.%3$I ORDER BY refreshed_at DESC LIMIT 2),
		cur AS (SELECT * FROM %1$I.%3$I WHERE refreshed_at = (SELECT max(refreshed_at) FROM r)),
		prev AS (SELECT * FROM %1$I.%3$I WHERE refreshed_at = (SELECT min(refreshed_at) FROM r)
				 AND (SELECT count(*) FROM r) = 2)
		SELECT coalesce(c.campaign, p.campaign) AS campaign,
			   CASE WHEN p.campaign IS NULL THEN CASE WHEN c.status = 'split' THEN 'split' ELSE 'new' END
					WHEN c.campaign IS NULL THEN CASE WHEN m.campaign IS NOT NULL THEN 'merged' ELSE 'gone' END
					WHEN c.accounts > p.accounts THEN 'grew'
					WHEN c.accounts < p.accounts THEN 'shrank'
					ELSE 'same' END AS change,
			   p.accounts AS accounts_before, c.accounts AS accounts_now,
			   p.score AS score_before, c.score AS score_now,
			   c.parents, m.campaign AS merged_into, coalesce(c.first_seen, p.first_seen) AS first_seen
		FROM cur c FULL JOIN prev p USING (campaign)
		LEFT JOIN LATERAL (SELECT c2.campaign FROM cur c2 WHERE p.campaign = ANY (c2.parents)
						   ORDER BY c2.campaign LIMIT 1) m ON c.campaign IS NULL$q$,
		nsp, name || '_changes', name || '_history');
	EXECUTE format('COMMENT ON VIEW %I.%I IS %L', nsp, name || '_changes',
		'what changed between the last two refreshes: per campaign new, split, grew, shrank, same, merged (into merged_into) or gone');
	-- per refresh, for a health page: its times, stages, rows and memory
	EXECUTE format($q$CREATE VIEW %1$I.%2$I AS
		SELECT r.started_at, r.finished_at,
			   round(extract(epoch FROM r.finished_at - r.started_at)::numeric, 3) AS seconds,
			   r.stage_seconds, r.first_day, r.last_day, r.days_added, r.days_recomputed,
			   r.rows_read, r.rows_skipped, r.rows_before_range,
			   round(r.clustering_bytes / 1048576.0, 1) AS clustering_mb,
			   (SELECT count(*) FROM %1$I.%4$I d WHERE d.day <= r.last_day) AS days_stored,
			   (SELECT count(*) FROM %1$I.%5$I h WHERE h.refreshed_at = r.started_at) AS campaigns
		FROM %1$I.%3$I r$q$,
		nsp, name || '_health', name || '_refreshes', name || '_days', name || '_history');
	EXECUTE format('COMMENT ON VIEW %I.%I IS %L', nsp, name || '_health',
		'per refresh: its duration and stages, the days and rows it read, the memory its clustering charged, the days stored and the campaigns flagged');
END $$;
COMMENT ON FUNCTION @extschema@.lockstep_create_pipeline_desk(regclass) IS
	'internal: the campaign history of a pipeline whose detection views exist, and the views made for dashboards';

-- One record of what a pipeline is, which also pins each part: the
-- constraint pipeline_objects on its config table names every part.
CREATE FUNCTION @extschema@.lockstep_pin_pipeline(config regclass) RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	nsp text;
	name text;
BEGIN
	SELECT p.nsp, p.name INTO nsp, name FROM @extschema@.lockstep_pipeline_name(config) p;
	EXECUTE format('ALTER TABLE %s ADD CONSTRAINT pipeline_objects CHECK (ARRAY[%s] IS NOT NULL)', config,
		(SELECT string_agg(format('%L::pg_catalog.regclass', format('%I.%I', nsp, name || '_' || part)), ', ')
		 FROM unnest(ARRAY['days', 'daily', 'refreshes', 'window', 'clusters', 'campaigns', 'accounts',
						   'history', 'members', 'timeline_parts', 'timeline_members', 'timeline', 'shared',
						   'changes', 'health']) part));
END $$;
COMMENT ON FUNCTION @extschema@.lockstep_pin_pipeline(regclass) IS
	'internal: the pipeline_objects constraint of a pipeline''s config table, which names every part';

CREATE FUNCTION @extschema@.lockstep_create_pipeline(name text, log regclass,
	window_days integer DEFAULT 28, releases regclass DEFAULT NULL, settings jsonb DEFAULT NULL,
	schema name DEFAULT pg_catalog.current_schema())
	RETURNS text
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	missing text;
	config regclass;
BEGIN
	IF name IS NULL OR name !~ '^[a-z_][a-z0-9_]{0,40}$' THEN
		RAISE EXCEPTION 'pipeline name must be a lower-case identifier of at most 41 characters'
			USING ERRCODE = 'invalid_parameter_value', DETAIL = format('The name was %L.', name);
	END IF;
	IF log IS NULL OR window_days IS NULL OR window_days NOT BETWEEN 1 AND 36600 THEN
		RAISE EXCEPTION 'a log table and a window_days from 1 to 36600 are needed'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF schema IS NULL THEN
		RAISE EXCEPTION 'no schema to create the pipeline in' USING ERRCODE = 'invalid_schema_name',
			HINT = 'Pass schema => or set search_path to the schema the pipeline belongs in.';
	END IF;
	IF EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			   WHERE c.reloftype = '@extschema@.lockstep_pipeline_config'::regtype
				 AND c.relname = name || '_config'
				 AND NOT pg_is_other_temp_schema(n.oid)) THEN
		RAISE EXCEPTION 'a pipeline named % exists already', name USING ERRCODE = 'duplicate_object',
			HINT = 'Pipeline names are unique in a database; lockstep_drop_pipeline removes one.';
	END IF;
	PERFORM @extschema@.lockstep_settings(settings);
	SELECT string_agg(c, ', ') INTO missing
	FROM unnest(ARRAY['account_id', 'ts']) c
	WHERE NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = log AND attname = c
					  AND attnum > 0 AND NOT attisdropped);
	IF missing IS NOT NULL THEN
		RAISE EXCEPTION 'the log % has no column %', log, missing USING ERRCODE = 'undefined_column',
			HINT = 'A view can rename the columns of your log to account_id, ts, prompt, client_ip, user_agent, payment, model, tokens_in, tokens_out and org_id.';
	END IF;
	PERFORM @extschema@.lockstep_check_source(
		coalesce((SELECT array_agg(relid) FROM pg_partition_tree(log) WHERE isleaf), '{}') || log,
		@extschema@.lockstep_log_types());

	EXECUTE format('CREATE TABLE %I.%I OF @extschema@.lockstep_pipeline_config (
					window_days WITH OPTIONS NOT NULL CHECK (window_days > 0),
					settings WITH OPTIONS NOT NULL)', schema, name || '_config');
	config := format('%I.%I', schema, name || '_config')::regclass;
	EXECUTE format('INSERT INTO %s VALUES ($1, $2)', config) USING window_days, coalesce(settings, '{}');
	EXECUTE format('ALTER TABLE %s ADD CONSTRAINT pipeline_log CHECK (%L::pg_catalog.regclass IS NOT NULL)',
				   config, log::text);
	EXECUTE format('COMMENT ON TABLE %s IS %L', config,
		'lockstep pipeline settings: UPDATE settings (keys of lockstep_default_settings()), then CALL lockstep_refresh(' || quote_literal(name) || ')');
	EXECUTE format('CREATE TABLE %I.%I OF @extschema@.lockstep_pipeline_day (
					day WITH OPTIONS PRIMARY KEY)',
				   schema, name || '_days');
	EXECUTE format('COMMENT ON TABLE %I.%I IS %L', schema, name || '_days',
		'per stored UTC day: the log rows read and skipped (no account_id); a day whose count changes is computed again');
	EXECUTE format('CREATE TABLE %I.%I OF @extschema@.lockstep_daily_fingerprint (
					day WITH OPTIONS NOT NULL, account_id WITH OPTIONS NOT NULL, fp WITH OPTIONS NOT NULL,
					PRIMARY KEY (day, account_id))', schema, name || '_daily');
	-- the window reads the daily rows of the accounts it computes again;
	-- a refresh finds the rows computed or merged since the last one (or
	-- since the clustering), a few of a day's, by computed_at
	EXECUTE format('CREATE INDEX ON %I.%I (account_id)', schema, name || '_daily');
	EXECUTE format('CREATE INDEX ON %I.%I (computed_at)', schema, name || '_daily');
	EXECUTE format('COMMENT ON TABLE %I.%I IS %L', schema, name || '_daily',
		'one fingerprint per account and UTC day; lockstep_refresh adds the new days');
	EXECUTE format('CREATE TABLE %I.%I OF @extschema@.lockstep_pipeline_refresh', schema, name || '_refreshes');
	EXECUTE format('COMMENT ON TABLE %I.%I IS %L', schema, name || '_refreshes',
		'one row per lockstep_refresh: the days it read, added and recomputed, the rows it read and skipped');
	PERFORM @extschema@.lockstep_create_pipeline_views(config, releases);
	PERFORM @extschema@.lockstep_create_pipeline_desk(config);
	PERFORM @extschema@.lockstep_pin_pipeline(config);
	IF releases IS NOT NULL THEN
		EXECUTE format('ALTER TABLE %s ADD CONSTRAINT pipeline_releases CHECK (%L::pg_catalog.regclass IS NOT NULL)',
					   config, releases::text);
	END IF;
	RETURN format('CALL lockstep_refresh(%L)', name);
END $$;
COMMENT ON FUNCTION @extschema@.lockstep_create_pipeline(text, regclass, integer, regclass, jsonb, name) IS
	'create the tables and materialized views of a detection pipeline over a log table, in schema (default: the current one); returns the statement that refreshes it';

-- lockstep_drop_pipeline and lockstep_refresh find the pipeline in the
-- caller's context (lockstep_pipeline_config needs the caller's search
-- path), then do their work in these, with a safe one.
CREATE FUNCTION @extschema@.lockstep_drop_pipeline_config(cfg regclass, name text, cascade boolean) RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	parts regclass[];
	how text := CASE WHEN cascade THEN ' CASCADE' ELSE '' END;
BEGIN
	IF cfg IS NULL THEN
		RAISE EXCEPTION 'no lockstep pipeline named %', coalesce(name, 'NULL')
			USING ERRCODE = 'undefined_object';
	END IF;
	parts := @extschema@.lockstep_pipeline_part(cfg, 'pipeline_objects');
	-- the constraints go first; then one DROP for each kind of relation,
	-- so that their order does not matter
	EXECUTE format('ALTER TABLE %s DROP CONSTRAINT pipeline_objects', cfg);
	IF EXISTS (SELECT 1 FROM unnest(parts) p JOIN pg_class c ON c.oid = p WHERE c.relkind = 'v') THEN
		EXECUTE format('DROP VIEW %s%s',
			(SELECT string_agg(p::text, ', ') FROM unnest(parts) p JOIN pg_class c ON c.oid = p WHERE c.relkind = 'v'),
			how);
	END IF;
	EXECUTE format('DROP MATERIALIZED VIEW %s%s',
		(SELECT string_agg(p::text, ', ') FROM unnest(parts) p JOIN pg_class c ON c.oid = p WHERE c.relkind = 'm'),
		how);
	EXECUTE format('DROP TABLE %s%s',
		(SELECT string_agg(p::text, ', ') FROM unnest(parts || cfg) p JOIN pg_class c ON c.oid = p WHERE c.relkind = 'r'),
		how);
END $$;
COMMENT ON FUNCTION @extschema@.lockstep_drop_pipeline_config(regclass, text, boolean) IS
	'internal: lockstep_drop_pipeline of the pipeline whose config table is cfg';

CREATE FUNCTION @extschema@.lockstep_drop_pipeline(name text, cascade boolean DEFAULT false) RETURNS void
	LANGUAGE sql VOLATILE PARALLEL UNSAFE
	AS $$ SELECT @extschema@.lockstep_drop_pipeline_config(@extschema@.lockstep_pipeline_config(name), name, cascade) $$;
COMMENT ON FUNCTION @extschema@.lockstep_drop_pipeline(text, boolean) IS
	'drop every table and view of a pipeline (with cascade, also what others built on them); the log and the releases table stay';

-- The columns a refresh reads, with the built-in types each may have (a
-- domain counts as its base type).  Reading them runs only PostgreSQL's
-- own casts and operators.
CREATE FUNCTION @extschema@.lockstep_log_columns(OUT col text, OUT type text, OUT allowed regtype[])
	RETURNS SETOF record
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$ VALUES
		('account_id', 'bigint', '{smallint,integer,bigint}'::regtype[]),
		('ts', 'timestamptz', '{timestamptz,timestamp}'),
		('prompt', 'text', '{text,varchar,bpchar}'),
		('client_ip', 'inet', '{inet,cidr}'),
		('user_agent', 'text', '{text,varchar,bpchar}'),
		('payment', 'text', '{text,varchar,bpchar}'),
		('model', 'text', '{text,varchar,bpchar}'),
		('tokens_in', 'integer', '{smallint,integer,bigint}'),
		('tokens_out', 'integer', '{smallint,integer,bigint}'),
		('org_id', 'bigint', '{smallint,integer,bigint}') $$;
COMMENT ON FUNCTION @extschema@.lockstep_log_columns() IS
	'internal: the log columns a pipeline reads, the type it reads each as, and the built-in types it accepts';

-- Whom a refresh trusts: it runs as the role that calls it (the pipeline's
-- owner, or pg_cron's job owner), and must run no code that the owner of
-- what it reads (the log, its leaves, the release table) chose.  So each
-- must be a table, partitioned table or foreign table (a view or
-- materialized view only if the reading role owns it), with no row-level
-- security that applies to the reading role (policy expressions run as the
-- reader), and every column read must have one of the built-in types that
-- `allowed` ({column: [types]}) names: a type of the owner's, with its
-- cast, would run the owner's function.  Each must also be readable.
CREATE FUNCTION @extschema@.lockstep_check_source(rels regclass[], allowed jsonb) RETURNS void
	LANGUAGE plpgsql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	r record;
BEGIN
	FOR r IN
		SELECT c.oid::regclass AS rel, c.relkind, c.relowner::regrole AS owner
		FROM pg_class c WHERE c.oid = ANY (rels) ORDER BY c.oid
	LOOP
		IF r.relkind NOT IN ('r', 'p', 'f') AND NOT pg_has_role(r.owner, 'USAGE') THEN
			RAISE EXCEPTION '% is a view owned by %, which the refresh would run as %', r.rel, r.owner, current_user
				USING ERRCODE = 'insufficient_privilege',
				HINT = 'lockstep runs no code the owner of what it reads chose: refresh as the view''s owner, or read a table.';
		END IF;
		IF r.relkind IN ('r', 'p') AND row_security_active(r.rel) THEN
			RAISE EXCEPTION '% has row-level security that applies to %', r.rel, current_user
				USING ERRCODE = 'insufficient_privilege',
				DETAIL = 'Its policies'' expressions, which its owner writes, would run as the reading role.',
				HINT = 'Refresh as the table''s owner (without FORCE ROW LEVEL SECURITY) or as a role with BYPASSRLS, or read a table without policies.';
		END IF;
		IF NOT has_table_privilege(r.rel, 'SELECT') THEN
			RAISE EXCEPTION 'permission denied for %', r.rel USING ERRCODE = 'insufficient_privilege',
				HINT = 'A partitioned log is read leaf by leaf: the refreshing role needs SELECT on every partition.';
		END IF;
	END LOOP;
	FOR r IN
		SELECT a.attrelid::regclass AS rel, a.attname, a.atttypid::regtype AS type, k.types
		FROM jsonb_each(allowed) k(col, types)
		JOIN pg_attribute a ON a.attname = k.col AND a.attnum > 0 AND NOT a.attisdropped
		JOIN pg_type t ON t.oid = a.atttypid
		WHERE a.attrelid = ANY (rels)
		  AND NOT (CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END)::regtype::text
				  IN (SELECT x::regtype::text FROM jsonb_array_elements_text(k.types) x)
		ORDER BY a.attrelid, a.attnum
	LOOP
		RAISE EXCEPTION 'column % of % has type %, not one of %', r.attname, r.rel, r.type, r.types
			USING ERRCODE = 'datatype_mismatch',
			DETAIL = 'lockstep reads only with PostgreSQL''s own casts: a type of the owner''s would run its cast as the reading role.',
			HINT = 'Change the column''s type, or read it through a view of your own that converts it.';
	END LOOP;
END $$;
COMMENT ON FUNCTION @extschema@.lockstep_check_source(regclass[], jsonb) IS
	'internal: refuse relations whose reading would run code their owner chose (a view the reading role does not own, row-level security that applies to it, a column of a type outside the built-in ones allowed, {column: [types]}) or that it cannot read';

-- The built-in types lockstep_log_columns allows, as lockstep_check_source takes them.
CREATE FUNCTION @extschema@.lockstep_log_types() RETURNS jsonb
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$ SELECT jsonb_object_agg(col, to_jsonb(allowed::text[])) FROM @extschema@.lockstep_log_columns() $$;
COMMENT ON FUNCTION @extschema@.lockstep_log_types() IS
	'internal: lockstep_log_columns'' allowed types as {column: [types]}';

-- One query per leaf partition of a log, each the template with the leaf
-- (as %s), in UNION ALL: an aggregate over a foreign leaf is then computed
-- on its own server.  STABLE: a leaf's name is read from the catalog.
CREATE FUNCTION @extschema@.lockstep_per_leaf(leaves regclass[], template text) RETURNS text
	LANGUAGE sql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$ SELECT string_agg('(' || format(template, leaf) || ')', ' UNION ALL ' ORDER BY ord)
		  FROM unnest(leaves) WITH ORDINALITY AS l(leaf, ord) $$;
COMMENT ON FUNCTION @extschema@.lockstep_per_leaf(regclass[], text) IS
	'internal: a template query (the leaf as %s) for each leaf partition of a log, in UNION ALL';

-- The flagged campaigns of a refresh, appended to N_history under stable
-- ids, and N_members replaced.  A cluster of this refresh and a campaign
-- of the last one that are each other's best match (most shared members;
-- ties to the smaller id) are the same campaign: it keeps its id and its
-- first_seen.  Every other flagged cluster gets a new id: status split if
-- it has members of an earlier campaign (which continued elsewhere), else
-- new.  A campaign that keeps its id and took members of other earlier
-- campaigns too is merged, and parents lists them; those, continued by no
-- cluster, are gone from the history, and N_changes says what they merged
-- into.  A continued campaign with no other parent is continued.
CREATE FUNCTION @extschema@.lockstep_record_campaigns(config regclass, refreshed_at timestamptz, last_day date)
	RETURNS integer
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	nsp text;
	name text;
	n integer;
BEGIN
	SELECT p.nsp, p.name INTO nsp, name FROM @extschema@.lockstep_pipeline_name(config) p;
	EXECUTE format($q$
		WITH cur AS MATERIALIZED (
			SELECT c.cluster, c.account_id FROM %1$I.%2$I c JOIN %1$I.%3$I k USING (cluster) WHERE k.flagged),
		ov AS MATERIALIZED (
			SELECT cur.cluster, m.campaign, count(*) AS shared
			FROM cur JOIN %1$I.%4$I m USING (account_id) GROUP BY 1, 2),
		best_p AS (SELECT DISTINCT ON (cluster) cluster, campaign FROM ov ORDER BY cluster, shared DESC, campaign),
		best_c AS (SELECT DISTINCT ON (campaign) campaign, cluster FROM ov ORDER BY campaign, shared DESC, cluster),
		kept AS (SELECT cluster, campaign FROM best_p JOIN best_c USING (cluster, campaign)),
		ids AS (
			SELECT k.cluster, k.score, k.evidence, kept.campaign AS kept,
				   coalesce(kept.campaign,
							(SELECT coalesce(max(h.campaign), 0) FROM %1$I.%5$I h)
							+ row_number() OVER (PARTITION BY kept.campaign IS NULL ORDER BY k.cluster)) AS campaign
			FROM %1$I.%3$I k LEFT JOIN kept USING (cluster) WHERE k.flagged)
		INSERT INTO %1$I.%5$I
		SELECT $1, $2, ids.campaign, ids.cluster, k.accounts, ids.score,
			   ARRAY(SELECT pg_catalog.jsonb_array_elements_text(ids.evidence->'fired')),
			   ids.evidence->'signals',
			   CASE WHEN ids.kept IS NULL THEN CASE WHEN p.parents IS NULL THEN 'new' ELSE 'split' END
					WHEN p.parents IS NOT NULL THEN 'merged' ELSE 'continued' END,
			   p.parents,
			   coalesce((SELECT min(h.first_seen) FROM %1$I.%5$I h WHERE h.campaign = ids.kept), $1)
		FROM ids
		JOIN (SELECT cluster, count(*)::integer AS accounts FROM cur GROUP BY 1) k USING (cluster)
		LEFT JOIN LATERAL (SELECT array_agg(ov.campaign ORDER BY ov.campaign) AS parents FROM ov
						   WHERE ov.cluster = ids.cluster AND ov.campaign IS DISTINCT FROM ids.kept) p ON true$q$,
		nsp, name || '_clusters', name || '_campaigns', name || '_members', name || '_history')
		USING refreshed_at, last_day;
	GET DIAGNOSTICS n = ROW_COUNT;
	EXECUTE format('DELETE FROM %I.%I', nsp, name || '_members');
	EXECUTE format($q$INSERT INTO %1$I.%2$I
		SELECT h.campaign, c.account_id FROM %1$I.%3$I h JOIN %1$I.%4$I c USING (cluster)
		WHERE h.refreshed_at = $1$q$, nsp, name || '_members', name || '_history', name || '_clusters')
		USING refreshed_at;
	RETURN n;
END $$;
COMMENT ON FUNCTION @extschema@.lockstep_record_campaigns(regclass, timestamptz, date) IS
	'internal: append a refresh''s flagged campaigns to N_history under ids matched to the last refresh''s by members, and replace N_members';

-- The parts of a pipeline's timeline, kept: per flagged campaign and stored
-- day of the window, its members' daily fingerprints of the day merged.  A
-- part stands while its day is as it was when read (the day's computed_at)
-- and its campaign has lost no member; a member new to the campaign has its
-- rows of those days merged in (a merge adds; it cannot take out).  Every
-- other part is made again from all of its campaign's members: the days
-- stored since (each hour, the day so far), and every day of a new
-- campaign or of one that lost a member.  A day on which none of a
-- campaign's members was active has a part too (fp NULL), so that it is not
-- read again.  An hour at 16M rows read the members' every daily row, a
-- third of the daily table, in 1 s; it now reads the day so far's.
CREATE FUNCTION @extschema@.lockstep_refresh_timeline(cfg_table regclass) RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	nsp text;
	name text;
	since date;
	lost bigint[];
	new_days date[];
	fresh bigint[];
	added bigint[];
	got @extschema@.lockstep_timeline_part[];
BEGIN
	SELECT p.nsp, p.name INTO nsp, name FROM @extschema@.lockstep_pipeline_name(cfg_table) p;
	-- the window's days, as the window counts them: after the last stored
	-- day's window_days before
	EXECUTE format('SELECT (SELECT day FROM %1$I.%2$I ORDER BY day DESC LIMIT 1) - (SELECT window_days FROM %3$s)',
				   nsp, name || '_daily', cfg_table) INTO since;
	-- the parts that no longer stand: of a campaign that lost a member (to
	-- another campaign or to none), of a day stored since or gone from the
	-- window
	EXECUTE format($q$SELECT coalesce(array_agg(DISTINCT o.campaign), '{}') FROM %1$I.%2$I o
					  LEFT JOIN %1$I.%3$I m USING (account_id) WHERE m.campaign IS DISTINCT FROM o.campaign$q$,
				   nsp, name || '_timeline_members', name || '_members') INTO lost;
	EXECUTE format($q$DELETE FROM %1$I.%2$I p
					  WHERE p.campaign = ANY ($1) OR p.campaign NOT IN (SELECT m.campaign FROM %1$I.%4$I m)
						 OR NOT coalesce(p.day > $2, false)
						 OR p.computed_at IS DISTINCT FROM (SELECT d.computed_at FROM %1$I.%3$I d WHERE d.day = p.day)$q$,
				   nsp, name || '_timeline_parts', name || '_days', name || '_members') USING lost, since;
	-- (the members were written again this refresh: the plans below choose
	-- between a key and a scan by how many they are)
	EXECUTE format('ANALYZE %I.%I', nsp, name || '_members');
	-- what is left to read: the days no part stands for (the days stored
	-- since: those of a campaign that kept its parts stand or go together),
	-- the campaigns with no part (new, or one that lost a member), and the
	-- accounts new to a campaign that kept its parts
	EXECUTE format($q$SELECT coalesce(array_agg(d.day ORDER BY d.day), '{}') FROM %1$I.%2$I d
					  WHERE d.day > $1 AND NOT EXISTS (SELECT 1 FROM %1$I.%3$I p WHERE p.day = d.day)$q$,
				   nsp, name || '_days', name || '_timeline_parts') INTO new_days USING since;
	EXECUTE format($q$SELECT coalesce(array_agg(c.campaign ORDER BY c.campaign), '{}')
					  FROM (SELECT DISTINCT m.campaign FROM %1$I.%2$I m) c
					  WHERE NOT EXISTS (SELECT 1 FROM %1$I.%3$I p WHERE p.campaign = c.campaign)$q$,
				   nsp, name || '_members', name || '_timeline_parts') INTO fresh;
	EXECUTE format($q$SELECT coalesce(array_agg(m.account_id), '{}') FROM %1$I.%2$I m
					  WHERE m.campaign <> ALL ($1)
						AND NOT EXISTS (SELECT 1 FROM %1$I.%3$I o WHERE o.account_id = m.account_id AND o.campaign = m.campaign)$q$,
				   nsp, name || '_members', name || '_timeline_members') INTO added USING fresh;
	-- the members' rows of those, merged per campaign and day: one query
	-- run to its end, which PostgreSQL may run with parallel workers (an
	-- INSERT's query it runs alone), one branch for each, so that each
	-- reads only its days or its accounts (the days through the daily
	-- table's key, the accounts through its index on account_id)
	EXECUTE format($q$SELECT coalesce(array_agg(ROW(g.campaign, g.day, NULL, g.accounts, g.fp)::@extschema@.lockstep_timeline_part), '{}')
		FROM (SELECT r.campaign, r.day, @extschema@.fingerprint_union_agg(r.fp) AS fp, count(*)::integer AS accounts
			  FROM (SELECT m.campaign, d.day, d.fp FROM %1$I.%2$I d JOIN %1$I.%3$I m USING (account_id)
					WHERE d.day = ANY ($2) AND m.campaign <> ALL ($3)
					UNION ALL
					SELECT m.campaign, d.day, d.fp FROM %1$I.%2$I d JOIN %1$I.%3$I m USING (account_id)
					WHERE d.day > $1 AND m.campaign = ANY ($3)
					UNION ALL
					SELECT m.campaign, d.day, d.fp FROM %1$I.%2$I d JOIN %1$I.%3$I m USING (account_id)
					WHERE m.account_id = ANY ($4) AND d.day > $1 AND d.day <> ALL ($2)) r
			  GROUP BY 1, 2) g$q$, nsp, name || '_daily', name || '_members')
		INTO got USING since, new_days, fresh, added;
	RAISE DEBUG 'lockstep_refresh(%): timeline: % days read, % campaigns read whole, % accounts new to a campaign read',
		name, cardinality(new_days), cardinality(fresh), cardinality(added);
	-- a part for each campaign and day read (none of its members active
	-- there: fp NULL), and the new members' rows merged into those kept
	EXECUTE format($q$INSERT INTO %1$I.%2$I AS p (campaign, day, computed_at, accounts, fp)
		SELECT campaign, day, x.computed_at, coalesce(g.accounts, 0), g.fp
		FROM (SELECT c.campaign, d.day, d.computed_at
			  FROM (SELECT DISTINCT m.campaign FROM %1$I.%3$I m) c JOIN %1$I.%4$I d
				ON d.day > $1 AND (d.day = ANY ($2) OR c.campaign = ANY ($3))) x
		FULL JOIN pg_catalog.unnest($4) g USING (campaign, day)
		ON CONFLICT (campaign, day) DO UPDATE
		SET accounts = p.accounts + excluded.accounts,
			fp = CASE WHEN p.fp IS NULL THEN excluded.fp ELSE @extschema@.fingerprint_merge(p.fp, excluded.fp) END$q$,
		nsp, name || '_timeline_parts', name || '_members', name || '_days')
		USING since, new_days, fresh, got;
	-- and the members the parts now hold
	EXECUTE format($q$DELETE FROM %1$I.%2$I o
					  WHERE NOT EXISTS (SELECT 1 FROM %1$I.%3$I m WHERE m.account_id = o.account_id AND m.campaign = o.campaign)$q$,
				   nsp, name || '_timeline_members', name || '_members');
	EXECUTE format($q$INSERT INTO %1$I.%2$I SELECT m.campaign, m.account_id FROM %1$I.%3$I m
					  WHERE NOT EXISTS (SELECT 1 FROM %1$I.%2$I o WHERE o.account_id = m.account_id)$q$,
				   nsp, name || '_timeline_members', name || '_members');
END $$;
COMMENT ON FUNCTION @extschema@.lockstep_refresh_timeline(regclass) IS
	'internal: bring N_timeline_parts, what N_timeline is made from, up to N_members and the stored days (reading only the days stored since and the members new since)';

CREATE FUNCTION @extschema@.lockstep_memory_charged() RETURNS bigint
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.lockstep_memory_charged() IS
	'the most memory one similarity join or clustering call of this session charged against lockstep.pairs_memory_limit since the last call of this function, in bytes (reading it starts the count again)';

CREATE FUNCTION @extschema@.lockstep_can_commit() RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.lockstep_can_commit() IS
	'internal: whether the calling procedure may COMMIT (called from the top level or a DO block, not from a transaction block or a function)';

-- One refresh of a pipeline at a time: a second one waits, then finds the
-- work done.  The lock is the config row's, which only a role that may
-- update the config can take (an advisory lock's key anyone can compute and
-- hold); a refresh that must wait says for whom.  Held to the end of the
-- transaction: a refresh that commits day by day takes it again after
-- each commit.
CREATE PROCEDURE @extschema@.lockstep_refresh_lock(cfg_table regclass, name text)
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	BEGIN
		EXECUTE format('SELECT 1 FROM %s FOR UPDATE NOWAIT', cfg_table);
	EXCEPTION WHEN lock_not_available THEN
		RAISE NOTICE 'lockstep_refresh(%): waiting for the lock on %, held by %', name, cfg_table,
			(SELECT string_agg(DISTINCT format('pid %s (%s)', a.pid, a.usename), ', ')
			 FROM pg_locks l JOIN pg_stat_activity a USING (pid)
			 WHERE l.relation = cfg_table AND l.mode = 'RowShareLock' AND l.granted AND a.pid <> pg_backend_pid());
		EXECUTE format('SELECT 1 FROM %s FOR UPDATE', cfg_table);
	END;
END $$;
COMMENT ON PROCEDURE @extschema@.lockstep_refresh_lock(regclass, text) IS
	'internal: wait for and take the lock of a pipeline''s refresh (its config row), saying who holds it';

-- Store one UTC day of a pipeline's log: its daily fingerprints and its
-- row counts in N_days (a day without rows is not recorded).  The log is
-- checked as the refresh checks it, since this may be called alone.  A
-- partitioned log is aggregated leaf by leaf (each foreign leaf on its own
-- server) and the leaves' fingerprints of an account merged, which gives
-- the same bytes whatever the partitioning.  The refresh calls it day by
-- day, or lockstep_store_days calls it in background workers, days side by
-- side.
--
-- A day stored before is folded, not computed again whole (docs/design.md,
-- "The day so far, folded"): N_days.latest is the newest row it stored, so
-- the rows after it are new, and their fingerprints are merged into the
-- stored ones (a fingerprint of the union is the merge of the parts', byte
-- for byte).  An account whose rows up to latest are no longer those
-- stored (late rows, deleted rows: its count differs from its stored
-- fingerprint's) is computed again whole from the day's rows, and so is
-- one whose organization the merge cannot tell: the stored one is kept
-- only when the new rows all name it, or when it is none and none of them
-- names one.  The day is computed whole when it has no mark, lost every
-- row, or half its accounts or more would be computed again.
--
-- With fold_window, which the refresh asks for when the window is as the
-- last refresh left it and this day is the only one that changes (the day
-- so far, hour by hour), the new rows' fingerprint of each account merged
-- into its stored one is merged into its window row too (its organization
-- and days are those it had: the merge keeps them), and synced returns
-- those accounts, which the window then leaves as they are
-- (docs/design.md, "The window, kept").  N_days.removed_at is when the
-- day last lost stored fingerprints (computed whole, or accounts computed
-- again, one of which may have no row left): the window looks for
-- accounts whose daily row is gone only on such a day.
CREATE FUNCTION @extschema@.lockstep_store_day(cfg_table regclass, day date, fold_window boolean DEFAULT false,
	OUT rows bigint, OUT skipped bigint, OUT synced bigint[])
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
	SET jit = off
	AS $$
DECLARE
	log regclass := (@extschema@.lockstep_pipeline_part(cfg_table, 'pipeline_log'))[1];
	leaves regclass[];
	nsp text;
	base text;
	cols text;
	rows_sql text;
	cond text;
	day_sql text;
	all_sql text;
	redo_sql text;
	mark timestamptz;
	latest timestamptz;
	removed timestamptz;
	redo bigint[];
	accounts bigint;
	unchanged boolean;
	changed bigint[];
BEGIN
	IF cfg_table IS NULL OR day IS NULL OR log IS NULL THEN
		RAISE EXCEPTION 'lockstep_store_day needs a pipeline''s config table and a day'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	synced := '{}';
	SELECT p.nsp, p.name INTO nsp, base FROM @extschema@.lockstep_pipeline_name(cfg_table) p;
	-- the fingerprint_agg arguments: the log's columns as it has them now,
	-- quoted here, NULL where it has none; no SQL text is stored
	SELECT string_agg(CASE WHEN a.attname IS NOT NULL THEN format('%I::%s', c.col, c.type)
						   ELSE format('NULL::%s', c.type) END, ', ' ORDER BY c.i)
	INTO cols
	FROM @extschema@.lockstep_log_columns() WITH ORDINALITY AS c(col, type, allowed, i)
	LEFT JOIN pg_attribute a ON a.attrelid = log AND a.attname = c.col AND a.attnum > 0
							 AND NOT a.attisdropped
	WHERE c.col <> 'account_id';
	leaves := @extschema@.lockstep_pipeline_leaves(cfg_table);
	-- a leaf's (%1$s) rows of the day ($1) that %2$s says
	rows_sql := format($q$
		(SELECT account_id::bigint, %s FROM %%1$s
		 WHERE ts >= $1::timestamp AT TIME ZONE 'UTC' AND ts < ($1 + 1)::timestamp AT TIME ZONE 'UTC'
		   AND %%2$s)
		AS l(account_id, ts, prompt, client_ip, user_agent, payment, model, tokens_in, tokens_out, org_id)$q$, cols);
	-- per account: the fingerprint of those rows, their organization (of
	-- most of them, if most name one), their count and the newest; the
	-- leaves' merged: of the rows after $2 (all_sql; -infinity: all the
	-- day's), or of every row of the accounts in $3 (redo_sql)
	FOREACH cond IN ARRAY ARRAY['ts > $2', 'account_id::bigint = ANY ($3)'] LOOP
		day_sql := @extschema@.lockstep_per_leaf(leaves, format($q$
			SELECT account_id, count(*) AS n, max(ts) AS latest,
				   CASE WHEN count(org_id) * 2 > count(*) THEN mode() WITHIN GROUP (ORDER BY org_id) END AS org_id,
				   @extschema@.fingerprint_agg(ts, prompt, client_ip, user_agent, payment, model, tokens_in, tokens_out) AS fp
			FROM %s GROUP BY account_id$q$, format(rows_sql, '%1$s', cond)));
		IF leaves <> ARRAY[log] THEN
			day_sql := format('SELECT account_id, sum(n) AS n, max(latest) AS latest, max(org_id) AS org_id, '
							  '@extschema@.fingerprint_union_agg(fp) AS fp FROM (%s) pl GROUP BY account_id', day_sql);
		END IF;
		IF all_sql IS NULL THEN all_sql := day_sql; ELSE redo_sql := day_sql; END IF;
	END LOOP;

	EXECUTE format('SELECT latest, removed_at FROM %I.%I WHERE day = $1', nsp, base || '_days')
		INTO mark, removed USING day;
	IF mark IS NOT NULL THEN
		-- first the day as a whole, in one scan of its rows: those up to
		-- the mark against the stored fingerprints, by their count and a
		-- checksum of their accounts (each row's account hashed to 64 bits
		-- and summed, against each stored account's requests times its
		-- hash: a row deleted and another added to another account change
		-- it), and per account the rows after it.  The accounts whose new
		-- rows name an organization the merge cannot tell are computed
		-- again whole; when the day differs, the per-account check below
		-- adds those whose rows up to the mark changed.  (Grouping the
		-- whole day by account every time was 0.24 s of an hourly refresh
		-- at 16M rows at 04:00, and grew with the day.)
		day_sql := @extschema@.lockstep_per_leaf(leaves, format($q$
			SELECT ts > $2 AS after, CASE WHEN ts > $2 THEN account_id END AS account_id, count(*) AS n,
				   count(account_id) AS keyed, sum(pg_catalog.hashint8extended(account_id, 0)) AS h,
				   count(org_id) AS orgs, min(org_id) AS org_lo, max(org_id) AS org_hi, max(ts) AS latest
			FROM %s GROUP BY 1, 2$q$, format(rows_sql, '%1$s', 'true')));
		EXECUTE format($q$
			WITH c AS MATERIALIZED (
				SELECT after, account_id, sum(n) AS n, sum(keyed) AS keyed, sum(h) AS h, sum(orgs) AS orgs,
					   min(org_lo) AS org_lo, max(org_hi) AS org_hi, max(latest) AS latest
				FROM (%1$s) pl GROUP BY 1, 2),
			s AS (SELECT count(*) AS accounts, coalesce(sum(st.requests), 0) AS n,
						 coalesce(sum(st.requests::numeric * pg_catalog.hashint8extended(d.account_id, 0)), 0) AS h
				  FROM %2$I.%3$I d, LATERAL @extschema@.fingerprint_stats(d.fp) st WHERE d.day = $1),
			o AS (SELECT coalesce(sum(keyed), 0) AS n, coalesce(sum(h), 0) AS h FROM c WHERE NOT after),
			a AS (SELECT c.account_id, d.account_id IS NOT NULL AS stored,
						 d.account_id IS NOT NULL AND NOT coalesce((d.org_id IS NULL AND c.orgs = 0)
							 OR (c.orgs = c.n AND c.org_lo = d.org_id AND c.org_hi = d.org_id), false) AS redo
				  FROM c LEFT JOIN %2$I.%3$I d ON d.day = $1 AND d.account_id = c.account_id
				  WHERE c.after AND c.account_id IS NOT NULL)
			SELECT (SELECT coalesce(sum(n), 0) FROM c), (SELECT coalesce(sum(n - keyed), 0) FROM c),
				   (SELECT max(latest) FROM c),
				   s.accounts + (SELECT count(*) FROM a WHERE NOT a.stored),
				   (SELECT coalesce(array_agg(a.account_id), '{}') FROM a WHERE a.redo),
				   (o.n, o.h) = (s.n, s.h)
			FROM s, o$q$, day_sql, nsp, base || '_daily')
			INTO rows, skipped, latest, accounts, redo, unchanged USING day, mark;
		IF NOT unchanged THEN
			-- the day differs: each account's rows up to the mark against its
			-- stored fingerprint (an account whose rows all went too), in a
			-- second scan of the day, grouped by account
			EXECUTE format($q$
				WITH c AS (SELECT account_id, sum(n) AS n FROM (%s) pl GROUP BY account_id),
				s AS (SELECT d.account_id, st.requests FROM %I.%I d, LATERAL @extschema@.fingerprint_stats(d.fp) st
					  WHERE d.day = $1)
				SELECT count(account_id),
					   coalesce(array_agg(account_id) FILTER (WHERE account_id IS NOT NULL
								AND coalesce(c.n, 0) <> coalesce(s.requests, 0)), '{}')
				FROM c FULL JOIN s USING (account_id)$q$,
				@extschema@.lockstep_per_leaf(leaves, format($q$
					SELECT account_id, count(*) FILTER (WHERE ts <= $2) AS n FROM %s GROUP BY account_id$q$,
					format(rows_sql, '%1$s', 'true'))), nsp, base || '_daily')
				INTO accounts, changed USING day, mark;
			redo := ARRAY(SELECT pg_catalog.unnest(redo) UNION SELECT pg_catalog.unnest(changed));
		END IF;
		IF rows = 0 OR cardinality(redo) * 2 >= accounts THEN
			mark := NULL;	-- computed whole, below
		ELSE
			-- the new rows merged into the stored fingerprints, or stored
			-- as the account's first of the day; with fold_window, merged
			-- into the window rows of the accounts merged into too
			EXECUTE format($q$
				WITH agg AS (SELECT * FROM (%1$s) a WHERE account_id IS NOT NULL AND account_id <> ALL ($3)),
				merged AS (
					UPDATE %2$I.%3$I d SET fp = @extschema@.fingerprint_merge(d.fp, agg.fp), computed_at = clock_timestamp()
					FROM agg WHERE d.day = $1 AND d.account_id = agg.account_id
					RETURNING d.account_id),
				inserted AS (
					INSERT INTO %2$I.%3$I SELECT $1, account_id, org_id, fp, clock_timestamp() FROM agg
					WHERE account_id NOT IN (SELECT account_id FROM merged)),
				synced AS (
					UPDATE %2$I.%4$I w SET fp = @extschema@.fingerprint_merge(w.fp, agg.fp)
					FROM agg WHERE $4 AND w.account_id = agg.account_id AND w.days @> ARRAY[$1]
					  AND agg.account_id IN (SELECT account_id FROM merged)
					RETURNING w.account_id)
				SELECT coalesce(array_agg(account_id), '{}') FROM synced$q$,
				all_sql, nsp, base || '_daily', base || '_window')
				INTO synced USING day, mark, redo, fold_window;
			RAISE DEBUG 'lockstep_store_day: % folded (rows after %), % of its % accounts computed again whole',
				day, mark, cardinality(redo), accounts;
			-- the accounts whose rows up to the mark changed, whole (an
			-- account whose rows all went gets none: the day lost it)
			IF cardinality(redo) > 0 THEN
				removed := clock_timestamp();
				EXECUTE format('DELETE FROM %I.%I WHERE day = $1 AND account_id = ANY ($3)', nsp, base || '_daily')
					USING day, mark, redo;
				EXECUTE format('INSERT INTO %I.%I SELECT $1, account_id, org_id, fp, clock_timestamp() FROM (%s) a',
							   nsp, base || '_daily', redo_sql)
					USING day, '-infinity'::timestamptz, redo;
			END IF;
		END IF;
	END IF;
	IF mark IS NULL THEN
		removed := clock_timestamp();
		EXECUTE format('DELETE FROM %I.%I WHERE day = $1', nsp, base || '_daily') USING day;
		-- the fingerprints stored and the row counts in one scan
		EXECUTE format($q$
			WITH agg AS (%s),
			stored AS (
				INSERT INTO %I.%I SELECT $1, account_id, org_id, fp, clock_timestamp() FROM agg WHERE account_id IS NOT NULL)
			SELECT coalesce(sum(n), 0), coalesce(sum(n) FILTER (WHERE account_id IS NULL), 0), max(latest) FROM agg$q$,
			all_sql, nsp, base || '_daily') INTO rows, skipped, latest USING day, '-infinity'::timestamptz;
	END IF;
	EXECUTE format('DELETE FROM %I.%I WHERE day = $1', nsp, base || '_days') USING day;
	IF rows > 0 THEN
		EXECUTE format('INSERT INTO %I.%I VALUES ($1, $2, $3, clock_timestamp(), $4, $5)', nsp, base || '_days')
			USING day, rows, skipped, latest, removed;
	END IF;
END $$;
COMMENT ON FUNCTION @extschema@.lockstep_store_day(regclass, date, boolean) IS
	'internal: store one UTC day of a pipeline''s log (its daily fingerprints and row counts; a day stored before gets the rows after its newest stored row merged in, and with fold_window its window rows too); returns the day''s rows, those skipped and the accounts whose window rows it merged into';

-- The days of a refresh side by side: up to workers background workers
-- (lockstep.refresh_workers), each storing days with lockstep_store_day
-- and committing each, as the caller (its role, its settings).  Returns
-- the days stored; a day no worker could take is not returned, and the
-- refresh stores it itself.  An error in a worker is raised here, after
-- the others stopped; a cancel here stops them.
CREATE FUNCTION @extschema@.lockstep_store_days(cfg_table regclass, days date[], workers integer,
	OUT day date, OUT rows bigint, OUT skipped bigint)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE STRICT PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.lockstep_store_days(regclass, date[], integer) IS
	'internal: store UTC days of a pipeline''s log in background workers, side by side (lockstep_store_day in each, committed as stored); returns the days stored';

-- The log's leaf partitions (the log itself, if it has none), checked as
-- lockstep reads them: bounds, counts and days are aggregated per leaf, so
-- that a foreign leaf computes its own and sends one row, never its
-- timestamps; and no leaf whose reading runs code its owner chose.
CREATE FUNCTION @extschema@.lockstep_pipeline_leaves(cfg_table regclass) RETURNS regclass[]
	LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	log regclass := (@extschema@.lockstep_pipeline_part(cfg_table, 'pipeline_log'))[1];
	leaves regclass[];
BEGIN
	IF log IS NULL THEN
		RAISE EXCEPTION 'no lockstep pipeline config table: %', cfg_table USING ERRCODE = 'undefined_object';
	END IF;
	SELECT array_agg(relid ORDER BY relid) INTO leaves FROM pg_partition_tree(log) WHERE isleaf;
	leaves := coalesce(leaves, ARRAY[log]);
	PERFORM @extschema@.lockstep_check_source(leaves || log, @extschema@.lockstep_log_types());
	RETURN leaves;
END $$;
COMMENT ON FUNCTION @extschema@.lockstep_pipeline_leaves(regclass) IS
	'internal: the leaf partitions of a pipeline''s log (the log itself if it has none), checked by lockstep_check_source';

-- A refresh's plan: the complete UTC days up to through (default
-- yesterday) that it reads.  A first refresh reads backfill_days at most,
-- back from the newest complete day the log has (not from today: a log
-- that ended months ago is read whole; never below the oldest row: a row of
-- 4713 BC has no day before it), and counts the rows it leaves before
-- them.  A later one rechecks the last late_days stored days: a day with
-- a row after the newest it stored (the rest of a day stored half), or
-- whose row count changed since it was stored (late or deleted rows), is
-- computed again.
CREATE FUNCTION @extschema@.lockstep_refresh_plan(cfg_table regclass, through date, settings jsonb,
	leaves regclass[],
	OUT first_day date, OUT last_day date, OUT first_new date, OUT recompute date[], OUT rows_before_range bigint)
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
	SET jit = off
	AS $$
DECLARE
	nsp text;
	base text;
	stored_max date;
	log_min date;
	log_max date;
	d date;
	day_rows bigint;
	stored_rows bigint;
	latest timestamptz;
BEGIN
	SELECT p.nsp, p.name INTO nsp, base FROM @extschema@.lockstep_pipeline_name(cfg_table) p;
	last_day := coalesce(through, (now() AT TIME ZONE 'UTC')::date - 1);
	recompute := ARRAY[]::date[];
	rows_before_range := 0;
	EXECUTE format('SELECT max(day) FROM %I.%I', nsp, base || '_days') INTO stored_max;
	IF stored_max IS NULL THEN
		EXECUTE format('SELECT (min(lo) AT TIME ZONE ''UTC'')::date, (max(hi) AT TIME ZONE ''UTC'')::date FROM (%s) b',
					   @extschema@.lockstep_per_leaf(leaves,
						'SELECT min(ts) AS lo, max(ts) AS hi FROM %s WHERE ts < ($1 + 1)::timestamp AT TIME ZONE ''UTC'''))
			INTO log_min, log_max USING last_day;
		first_day := log_max - least((settings->>'backfill_days')::int - 1, log_max - log_min);
		first_new := first_day;
		IF log_min < first_day THEN
			EXECUTE format('SELECT sum(n) FROM (%s) c', @extschema@.lockstep_per_leaf(leaves,
							'SELECT count(*) AS n FROM %s WHERE ts < $1::timestamp AT TIME ZONE ''UTC'''))
				INTO rows_before_range USING first_day;
		END IF;
		RETURN;
	END IF;
	first_day := stored_max - (settings->>'late_days')::int + 1;
	first_new := stored_max + 1;
	-- day by day: a day with rows after the newest it stored (latest) is
	-- stored again, which folds them and checks the rows up to it, count
	-- and accounts (lockstep_store_day); the day so far, hour by hour, is
	-- such a day, and only its new rows are counted.  Another is stored
	-- again when a count of all its rows is not the rows and skipped rows
	-- stored: late rows before the mark, deletions.  Each count is per
	-- leaf (a foreign leaf counts its own) and reads only ts, so an index
	-- on ts answers it, from the index where the pages are all visible.
	-- Counting the rows without account_id too read every row of the
	-- day, 0.9 s a day at 16M rows; counting the whole day so far, whose
	-- new pages are not all visible, took 0.11 s of an hour at 08:00 and
	-- 0.24 s at 21:00.  (The whole day's count alone also missed a day
	-- that gained a row after the mark and lost one before it.)
	FOR d IN SELECT g::date FROM generate_series(first_day, least(stored_max, last_day), interval '1 day') g
	LOOP
		EXECUTE format('SELECT rows + skipped, latest FROM %I.%I WHERE day = $1', nsp, base || '_days')
			INTO stored_rows, latest USING d;
		IF latest IS NOT NULL THEN
			EXECUTE format('SELECT coalesce(sum(n), 0) FROM (%s) c',
						   @extschema@.lockstep_per_leaf(leaves,
							'SELECT count(*) AS n FROM %s
							 WHERE ts > $2 AND ts < ($1 + 1)::timestamp AT TIME ZONE ''UTC'''))
				INTO day_rows USING d, latest;
			IF day_rows > 0 THEN
				recompute := recompute || d;
				CONTINUE;
			END IF;
		END IF;
		EXECUTE format('SELECT coalesce(sum(n), 0) FROM (%s) c',
					   @extschema@.lockstep_per_leaf(leaves,
						'SELECT count(*) AS n FROM %s
						 WHERE ts >= $1::timestamp AT TIME ZONE ''UTC'' AND ts < ($1 + 1)::timestamp AT TIME ZONE ''UTC'''))
			INTO day_rows USING d;
		IF coalesce(stored_rows, 0) <> day_rows THEN
			recompute := recompute || d;
		END IF;
	END LOOP;
END $$;
COMMENT ON FUNCTION @extschema@.lockstep_refresh_plan(regclass, date, jsonb, regclass[]) IS
	'internal: the days a refresh of a pipeline reads, from the leaves of its log that lockstep_pipeline_leaves checked (first_day to last_day; the new ones from first_new; the stored ones whose rows changed, recompute) and the rows a first refresh leaves before them';

-- Are n accounts half of a pipeline's window or more?  The rule by which
-- a refresh computes the window whole, and gives up a kept clustering.
-- The window's rows are counted only as far as the rule needs, under
-- LIMIT 2n + 1: a whole count read every window row, 0.2 to 0.4 s each
-- time at 16M rows.  An empty window: true.
CREATE FUNCTION @extschema@.lockstep_window_half_changed(cfg_table regclass, n integer) RETURNS boolean
	LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	nsp text;
	base text;
	held bigint;
BEGIN
	SELECT p.nsp, p.name INTO nsp, base FROM @extschema@.lockstep_pipeline_name(cfg_table) p;
	EXECUTE format('SELECT pg_catalog.count(*) FROM (SELECT FROM %I.%I LIMIT $1) w', nsp, base || '_window')
		INTO held USING 2::bigint * n + 1;
	RETURN 2::bigint * n >= held;
END $$;
COMMENT ON FUNCTION @extschema@.lockstep_window_half_changed(regclass, integer) IS
	'internal: whether n accounts are half of a pipeline''s window or more (true for an empty window), counting its rows no further than the rule needs';

-- A refresh's window: per account, its daily fingerprints of the last
-- window_days stored days merged, the organization most of those days
-- name (a day's is the majority of its rows, or none; a tie goes to none,
-- then to the smaller id: one row a day under a business account does not
-- make an account a seat of it) and the days themselves (in no order).
-- Fingerprints merge but do not subtract, so an account's row is computed
-- again from its days whenever they change; every other row stays.  The
-- accounts computed again, since the last refresh that finished:
--   * on a day stored (or stored again, or folded) since
--     (N_days.computed_at): those whose daily row was computed or merged
--     into since (N_daily.computed_at), and those whose window row holds
--     the day but whose daily row there is gone;
--   * on a day reached by the window now and not then (a larger
--     window_days), in the window then and gone from N_days now, or in
--     the window then and not now (the days that left it): those with a
--     daily row there, and those whose window row holds it (days &&).
-- An account whose rows on a day stored again are gone, or whose only day
-- left, loses its row.  A refresh that would compute half of the accounts
-- or more, the first one and one after an update (no window yet),
-- computes them all.
-- The changed accounts' daily rows are read with an = ANY condition,
-- through N_daily's index on account_id (a join there was planned with
-- the daily rows as the hash table, 7.5 s for 6,000 accounts at 16M
-- rows), merged by a hash
-- aggregate (sorting the daily rows by account, which PostgreSQL prefers,
-- sorted 2.7 GB on disk at 16M rows, twice the time).  Merging through
-- stored partial unions (blocks of days) would read fewer fingerprints;
-- at 16M rows the merge is not what one more day costs (docs/design.md,
-- "The window, kept").
CREATE FUNCTION @extschema@.lockstep_refresh_window(cfg_table regclass,
	INOUT report @extschema@.lockstep_pipeline_refresh, synced bigint[], OUT gone bigint[])
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
	SET enable_sort = off
	AS $$
DECLARE
	nsp text;
	base text;
	newest date;
	since date;
	last record;
	stored date[];
	removed date[];
	changed date[];
	accounts bigint[];
	merged text;
BEGIN
	SELECT p.nsp, p.name INTO nsp, base FROM @extschema@.lockstep_pipeline_name(cfg_table) p;
	EXECUTE format('SELECT d.day, d.day - c.window_days FROM (SELECT day FROM %I.%I ORDER BY day DESC LIMIT 1) d, %s c',
				   nsp, base || '_daily', cfg_table) INTO newest, since;
	report.window_range := daterange(since + 1, newest, '[]');
	merged := format($q$
		SELECT w.account_id,
			   (SELECT o.org_id FROM pg_catalog.unnest(w.orgs) o(org_id) GROUP BY 1
				HAVING pg_catalog.count(*) > pg_catalog.cardinality(w.days) - pg_catalog.cardinality(w.orgs)
				ORDER BY pg_catalog.count(*) DESC, 1 LIMIT 1),
			   w.fp, w.days
		FROM (SELECT d.account_id, @extschema@.fingerprint_union_agg(d.fp) AS fp,
					 pg_catalog.array_agg(d.day) AS days,
					 pg_catalog.array_agg(d.org_id) FILTER (WHERE d.org_id IS NOT NULL) AS orgs
			  FROM %I.%I d WHERE d.day > $1 %%s GROUP BY d.account_id) w$q$, nsp, base || '_daily');
	EXECUTE format($q$SELECT r.finished_at, r.window_range
					  FROM %I.%I r WHERE r.finished_at IS NOT NULL ORDER BY r.started_at DESC LIMIT 1$q$,
				   nsp, base || '_refreshes') INTO last;
	IF last.window_range IS NOT NULL AND newest IS NOT NULL THEN
		EXECUTE format($q$SELECT pg_catalog.array_agg(day),
								 pg_catalog.array_agg(day) FILTER (WHERE removed_at IS NULL OR removed_at > $1)
						  FROM %I.%I WHERE computed_at > $1 AND day > $2$q$,
			nsp, base || '_days')
			INTO stored, removed USING last.finished_at, since;
		EXECUTE format($q$SELECT pg_catalog.array_agg(day) FROM (
			SELECT g::date AS day FROM pg_catalog.generate_series($1 + 1, $2, interval '1 day') g
				  WHERE NOT g::date <@ $3
			UNION SELECT g::date FROM pg_catalog.generate_series(lower($3), upper($3) - 1, interval '1 day') g
				  WHERE g::date <= $1 OR NOT EXISTS (SELECT 1 FROM %I.%I s WHERE s.day = g::date)) c$q$,
			nsp, base || '_days')
			INTO changed USING since, newest, last.window_range;
		stored := coalesce(stored, '{}');
		removed := coalesce(removed, '{}');
		changed := coalesce(changed, '{}');
		-- on a day stored since: the accounts whose row was computed or
		-- merged into since, and, on a day that lost stored rows since
		-- (N_days.removed_at), those whose row is gone; on the others:
		-- the accounts with a row there, and those whose window holds it
		-- (a scan of the window, made only when there are such days: the
		-- planner sees the arrays).  A day folded without a removal, the
		-- day so far hour by hour, lost no row: its check for rows gone
		-- was 0.16 s of an hourly refresh at 16M rows (a scan of the
		-- window and a probe for each of the day's accounts).  d.day = ANY
		-- ($5) repeats what d.day = x.day implies, for the planner: without
		-- it, an anti join hashed the whole daily table's keys, 1.2 s of an
		-- hourly refresh at 16M rows; with it, only those days' keys
		EXECUTE format($q$SELECT pg_catalog.array_agg(account_id) FROM (
			SELECT account_id FROM %1$I.%2$I WHERE day = ANY ($1) AND computed_at > $4
			UNION SELECT w.account_id FROM %1$I.%3$I w, pg_catalog.unnest(w.days) x(day)
				  WHERE w.days && $5 AND x.day = ANY ($5) AND pg_catalog.cardinality($5) > 0
					AND NOT EXISTS (SELECT 1 FROM %1$I.%2$I d
									WHERE d.day = x.day AND d.day = ANY ($5) AND d.account_id = w.account_id)
			UNION SELECT account_id FROM %1$I.%2$I WHERE day = ANY ($3) AND day > $2
			UNION SELECT account_id FROM %1$I.%3$I WHERE days && $3 AND pg_catalog.cardinality($3) > 0) a$q$,
			nsp, base || '_daily', base || '_window')
			INTO accounts USING stored, since, changed, last.finished_at, removed;
		-- but not those whose new rows the days stage merged into their
		-- window rows too (lockstep_store_day's fold_window)
		accounts := ARRAY(SELECT pg_catalog.unnest(accounts) EXCEPT SELECT pg_catalog.unnest(synced));
	END IF;
	report.window_accounts := 0;
	gone := '{}';
	IF accounts IS NULL OR @extschema@.lockstep_window_half_changed(cfg_table, cardinality(accounts)) THEN
		gone := NULL;	-- (which accounts left is not known: any may have)
		EXECUTE format('DELETE FROM %I.%I', nsp, base || '_window');
		EXECUTE format('INSERT INTO %I.%I %s', nsp, base || '_window', format(merged, ''))
			USING since;
		GET DIAGNOSTICS report.window_accounts = ROW_COUNT;
	ELSE
		IF cardinality(accounts) > 0 THEN
			EXECUTE format('DELETE FROM %I.%I WHERE account_id = ANY ($1)', nsp, base || '_window') USING accounts;
			-- (an account computed again to no row left the window: every
			-- account that can leave it is one of these, whose days changed)
			EXECUTE format($q$WITH i AS (INSERT INTO %I.%I %s RETURNING account_id)
							  SELECT ARRAY(SELECT pg_catalog.unnest($2) EXCEPT SELECT account_id FROM i)$q$,
						   nsp, base || '_window', format(merged, 'AND d.account_id = ANY ($2)'))
				INTO gone USING since, accounts;
			report.window_accounts := cardinality(accounts) - cardinality(gone);
		END IF;
		RAISE DEBUG 'lockstep_refresh_window: % accounts computed again, % merged into with the day''s new rows, % left the window, % days checked for rows gone',
			report.window_accounts, cardinality(synced), cardinality(gone), cardinality(removed);
		report.window_accounts := report.window_accounts + cardinality(synced);
	END IF;
END $$;
COMMENT ON FUNCTION @extschema@.lockstep_refresh_window(regclass, @extschema@.lockstep_pipeline_refresh, bigint[]) IS
	'internal: compute the window fingerprints of a pipeline''s accounts whose days in the window changed since the last refresh that finished (all of them the first time, or when half or more did; not those the days stage merged into, synced), and return the refresh''s report with the window''s first day and the accounts computed or merged into, and the accounts that left the window (NULL when it was computed whole)';

-- The accounts of a pipeline whose daily rows in a range of days were
-- computed or merged after a time: the days first, then their rows
-- through the primary key (a semi-join on the days read every daily row).
CREATE FUNCTION @extschema@.lockstep_changed_accounts(cfg_table regclass, days daterange, since timestamptz)
	RETURNS bigint[]
	LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	nsp text;
	base text;
	stored date[];
	accounts bigint[];
BEGIN
	SELECT p.nsp, p.name INTO nsp, base FROM @extschema@.lockstep_pipeline_name(cfg_table) p;
	EXECUTE format('SELECT coalesce(array_agg(day), ''{}'') FROM %I.%I WHERE day <@ $1 AND computed_at > $2',
				   nsp, base || '_days') INTO stored USING days, since;
	EXECUTE format('SELECT coalesce(array_agg(DISTINCT account_id), ''{}'') FROM %I.%I WHERE day = ANY ($1) AND computed_at > $2',
				   nsp, base || '_daily') INTO accounts USING stored, since;
	RETURN accounts;
END $$;
COMMENT ON FUNCTION @extschema@.lockstep_changed_accounts(regclass, daterange, timestamptz) IS
	'internal: the accounts of a pipeline whose daily rows in a range of days were computed or merged after a time';

-- A refresh's views, after its days: the window, the clusters, the scores,
-- the campaign history (matched to the last refresh's) and the views made
-- for dashboards, which read it; each stage's seconds and the clustering's
-- memory go into the refresh's report.  The clustering is kept
-- (recluster_hours) when the last refresh that clustered finished and
-- started less than recluster_hours before this one, with the same
-- settings, over the same window range or one that new days moved forward
-- and that still overlaps it, and fewer than half the window's accounts
-- changed since it; the accounts whose rows all left the window leave its
-- clusters, the accounts whose rows changed since the
-- last refresh and that are in no cluster are then joined to its clusters
-- (lockstep_attach_accounts), and the scores computed again over the
-- window's new fingerprints.  CONCURRENTLY needs a populated
-- view: a view's first refresh is a plain one.  If a view fails (memory, a
-- lock timeout), the views stay as they were, the report has no
-- finished_at and a WARNING says why; the next refresh finds the days
-- stored and tries the views again.  A cancel is not caught.
-- JIT is off here, in the plan and in each day's storing: their work is
-- in lockstep's C functions, which JIT cannot compile, and their plans'
-- costs (wide rows by the million) pass jit_optimize_above_cost, so
-- with PostgreSQL's defaults each statement was compiled and optimized
-- first: one more day at 16M rows took 26.7 s with jit on and 15.2 s
-- with it off (docs/design.md, "JIT").
CREATE FUNCTION @extschema@.lockstep_refresh_views(cfg_table regclass, name text,
	report @extschema@.lockstep_pipeline_refresh, synced bigint[]) RETURNS @extschema@.lockstep_pipeline_refresh
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
	SET jit = off
	AS $$
DECLARE
	nsp text;
	base text;
	view text;
	how text;
	stage_start timestamptz;
	err_state text;
	err_text text;
	s jsonb;
	keep boolean;
	clustered_at timestamptz;
	last_finished timestamptz;
	report_gone record;
	gone bigint[];
BEGIN
	SELECT p.nsp, p.name INTO nsp, base FROM @extschema@.lockstep_pipeline_name(cfg_table) p;
	EXECUTE format('SELECT @extschema@.lockstep_settings(settings) FROM %s', cfg_table) INTO s;
	PERFORM @extschema@.lockstep_memory_charged();
	FOREACH view IN ARRAY ARRAY['window', 'clusters', 'campaigns', 'accounts', 'history', 'timeline', 'shared']
	LOOP
		stage_start := clock_timestamp();
		-- (the timeline's parts first, then the view made from them, below)
		IF view = 'timeline' THEN
			PERFORM @extschema@.lockstep_refresh_timeline(cfg_table);
		END IF;
		IF view = 'history' THEN
			PERFORM @extschema@.lockstep_record_campaigns(cfg_table, report.started_at, report.last_day);
		ELSIF view = 'window' THEN
			SELECT w.report, w.gone INTO report_gone FROM @extschema@.lockstep_refresh_window(cfg_table, report, synced) w;
			report := report_gone.report;
			gone := report_gone.gone;
			-- the clusters next: kept, if the last clustering allows it (an
			-- update makes the clusters again, empty, and its refreshes
			-- have no clustered_with)
			EXECUTE format($q$SELECT r.started_at > $1 - make_interval(secs => $2 * 3600)
								 AND lower(r.window_range) <= lower($3) AND upper(r.window_range) <= upper($3)
								 AND r.window_range && $3 AND r.clustered_with = $4,
								 r.finished_at, (SELECT max(l.finished_at) FROM %1$I.%2$I l)
							  FROM %1$I.%2$I r WHERE r.clustered_with IS NOT NULL AND r.finished_at IS NOT NULL
							  ORDER BY r.started_at DESC LIMIT 1$q$, nsp, base || '_refreshes')
				INTO keep, clustered_at, last_finished
				USING report.started_at, (s->>'recluster_hours')::float8, report.window_range, s;
			-- and not if too much changed since: when the accounts whose
			-- rows changed since it are half the window or more (the rule by
			-- which the window itself is computed whole), it clusters again
			IF keep THEN
				keep := NOT @extschema@.lockstep_window_half_changed(cfg_table,
					cardinality(@extschema@.lockstep_changed_accounts(cfg_table, report.window_range, clustered_at)));
			END IF;
			keep := coalesce(keep, false);
		ELSIF view = 'clusters' AND keep THEN
			-- the last clustering stands, but for the accounts whose every
			-- row left the window since (a new day moved it): they leave
			-- their clusters.  The links between the members that stay
			-- are kept as they were, even where only a departed account
			-- made them (union-find cannot unlink): such a stale link lives
			-- at most recluster_hours, until the next full clustering
			-- (the window stage says which left, unless it computed the
			-- window whole: checking every member was 0.13 to 0.2 s of an
			-- hourly refresh at 16M rows)
			IF gone IS NULL THEN
				EXECUTE format('DELETE FROM %1$I.%2$I c WHERE NOT EXISTS (SELECT 1 FROM %1$I.%3$I w WHERE w.account_id = c.account_id)',
							   nsp, base || '_clusters', base || '_window');
			ELSIF cardinality(gone) > 0 THEN
				EXECUTE format('DELETE FROM %I.%I c WHERE c.account_id = ANY ($1)', nsp, base || '_clusters') USING gone;
			END IF;
			EXECUTE format($q$INSERT INTO %1$I.%2$I
				SELECT a.* FROM @extschema@.lockstep_attach_accounts(%3$L::pg_catalog.regclass, %4$L::pg_catalog.regclass, $1, $2) a$q$,
				nsp, base || '_clusters', format('%I.%I', nsp, base || '_window'), format('%I.%I', nsp, base || '_clusters'))
				USING @extschema@.lockstep_changed_accounts(cfg_table, report.window_range, last_finished), s;
		ELSIF view = 'accounts' THEN
			EXECUTE format('DELETE FROM %I.%I', nsp, base || '_accounts');
			EXECUTE format('INSERT INTO %I.%I SELECT a.* FROM @extschema@.lockstep_score_accounts(%L::pg_catalog.regclass, %L::pg_catalog.regclass, $1) a',
						   nsp, base || '_accounts', format('%I.%I', nsp, base || '_clusters'), format('%I.%I', nsp, base || '_campaigns'))
				USING s;
		ELSIF view = 'clusters' THEN
			EXECUTE format('DELETE FROM %I.%I', nsp, base || '_clusters');
			EXECUTE format('INSERT INTO %I.%I SELECT c.* FROM @extschema@.lockstep_cluster_accounts(%L::pg_catalog.regclass, $1) c',
						   nsp, base || '_clusters', format('%I.%I', nsp, base || '_window'))
				USING s;
			report.clustered_with := s;
		ELSE
			SELECT CASE WHEN relispopulated THEN 'CONCURRENTLY ' ELSE '' END INTO how
			FROM pg_class WHERE oid = format('%I.%I', nsp, base || '_' || view)::regclass;
			EXECUTE format('REFRESH MATERIALIZED VIEW %s%I.%I', how, nsp, base || '_' || view);
		END IF;
		IF view = 'clusters' THEN
			report.clustering_bytes := @extschema@.lockstep_memory_charged();
		END IF;
		report.stage_seconds := report.stage_seconds || jsonb_build_object(view,
			round(extract(epoch FROM clock_timestamp() - stage_start)::numeric, 3));
		RAISE DEBUG 'lockstep_refresh(%): %_% refreshed at % s', name, base, view,
			round(extract(epoch FROM clock_timestamp() - report.started_at)::numeric, 2);
	END LOOP;
	report.finished_at := clock_timestamp();
	RETURN report;
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_text = MESSAGE_TEXT;
	RAISE WARNING 'lockstep_refresh(%): the days are stored, but the views were not refreshed: % (%)',
		name, err_text, err_state
		USING HINT = 'The next refresh tries the views again; the refresh is recorded without finished_at.';
	RETURN report;
END $$;
COMMENT ON FUNCTION @extschema@.lockstep_refresh_views(regclass, text, @extschema@.lockstep_pipeline_refresh, bigint[]) IS
	'internal: refresh a pipeline''s views after its days, and return the refresh''s report with each stage''s seconds, the clustering''s memory and finished_at (NULL if a view failed, which a WARNING explains)';

-- No SET clause here: a procedure with one may not COMMIT.  It sets
-- search_path for its own transactions instead (set_config, local), and
-- gives the caller's back before it returns.
CREATE PROCEDURE @extschema@.lockstep_refresh_pipeline(cfg_table regclass, name text, through date)
	LANGUAGE plpgsql
	AS $$
DECLARE
	caller_path text := pg_catalog.current_setting('search_path');
	can_commit boolean := @extschema@.lockstep_can_commit();
	started timestamptz := pg_catalog.clock_timestamp();
	cfg record;
	s jsonb;
	nsp text;
	base text;
	plan record;
	leaves regclass[];
	report @extschema@.lockstep_pipeline_refresh;
	workers integer;
	todo date[];
	done_days date[] := '{}';
	done_rows bigint[];
	done_skipped bigint[];
	d date;
	k integer;
	i integer;
	day_rows bigint;
	day_skipped bigint;
	next_day date;
	last_stored timestamptz;
	yielded boolean;
	thin_accounts bigint;
	window_accounts bigint;
	fold_window boolean := false;
	synced bigint[] := '{}';
	day_synced bigint[];
BEGIN
	PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
	IF cfg_table IS NULL THEN
		RAISE EXCEPTION 'no lockstep pipeline named %', coalesce(name, 'NULL')
			USING ERRCODE = 'undefined_object', HINT = 'lockstep_create_pipeline makes one.';
	END IF;
	CALL @extschema@.lockstep_refresh_lock(cfg_table, name);
	SELECT p.nsp, p.name INTO nsp, base FROM @extschema@.lockstep_pipeline_name(cfg_table) p;
	EXECUTE format('SELECT * FROM %s', cfg_table) INTO cfg;
	-- every setting, and the log, are checked before any work
	s := @extschema@.lockstep_settings(cfg.settings);
	IF cfg.window_days NOT BETWEEN 1 AND 36600 THEN
		RAISE EXCEPTION 'window_days must be from 1 to 36600, not %', cfg.window_days
			USING ERRCODE = 'invalid_parameter_value', HINT = format('UPDATE %s SET window_days = 28', cfg_table);
	END IF;
	leaves := @extschema@.lockstep_pipeline_leaves(cfg_table);

	-- 1. the plan: the days to read and those to read again
	plan := @extschema@.lockstep_refresh_plan(cfg_table, through, s, leaves);
	report := (started, NULL, plan.first_day, plan.last_day, 0, 0, 0, 0, plan.rows_before_range, NULL, NULL, NULL, NULL, NULL);
	-- the day so far and nothing else to store, over the window the last
	-- refresh that finished made, with no day stored since: the window is as
	-- it should be but for this day's new rows, which lockstep_store_day
	-- then merges into the window rows too (fold_window)
	IF cardinality(plan.recompute) = 1 AND plan.first_new > plan.last_day THEN
		EXECUTE format($q$SELECT r.window_range = daterange($1 - c.window_days + 1, $1, '[]')
							 AND $1 = (SELECT max(d.day) FROM %1$I.%2$I d)
							 AND r.finished_at >= (SELECT max(d.computed_at) FROM %1$I.%2$I d)
						  FROM %1$I.%3$I r, %4$s c WHERE r.finished_at IS NOT NULL
						  ORDER BY r.started_at DESC LIMIT 1$q$, nsp, base || '_days', base || '_refreshes', cfg_table)
			INTO fold_window USING plan.recompute[1];
		fold_window := coalesce(fold_window, false);
	END IF;

	-- 2. the days, stored.  First side by side in background workers
	-- (lockstep_store_days), when this refresh may commit (each worker
	-- commits its days) and lockstep.refresh_workers allows: the days read
	-- again and every day after the stored ones, if those are at most 400
	-- (a refresh that would walk more goes day by day below, straight over
	-- days without rows).  Then day by day (dates, not times: no time zone
	-- can skip one): each day the workers stored is recorded, each one they
	-- left is stored here; past a day without rows, straight to the next day
	-- that has some, so that one row stamped 4713 BC does not make every
	-- refresh walk two million empty days.
	workers := coalesce(current_setting('lockstep.refresh_workers', true)::int, 0);
	IF NOT can_commit AND workers > 0 THEN
		-- a CALL sent with other statements in one query string (psql -c
		-- 'SET ...; CALL ...', a cron job's command) is in a transaction too
		RAISE DEBUG 'lockstep_refresh(%): the days one by one in this session, which cannot commit here (a transaction block, a function, or a query string of several statements)', name;
		workers := 0;
	END IF;
	IF workers > 0 AND (plan.first_new > plan.last_day OR plan.last_day - plan.first_new < 400) THEN
		todo := plan.recompute
			|| ARRAY(SELECT g::date FROM generate_series(plan.first_new, plan.last_day, interval '1 day') g);
		IF cardinality(todo) > 1 THEN
			SELECT coalesce(array_agg(w.day), '{}'), coalesce(array_agg(w.rows), '{}'), coalesce(array_agg(w.skipped), '{}')
			INTO done_days, done_rows, done_skipped
			FROM @extschema@.lockstep_store_days(cfg_table, todo, workers) w;
		END IF;
	END IF;
	i := 0;
	LOOP
		IF i < cardinality(plan.recompute) THEN
			d := plan.recompute[i + 1];
		ELSE
			d := CASE WHEN i = cardinality(plan.recompute) THEN plan.first_new ELSE d + 1 END;
			EXIT WHEN d > plan.last_day;
		END IF;
		k := array_position(done_days, d);
		IF k IS NOT NULL THEN
			day_rows := done_rows[k];
			day_skipped := done_skipped[k];
		ELSE
			SELECT sd.rows, sd.skipped, sd.synced INTO day_rows, day_skipped, day_synced
			FROM @extschema@.lockstep_store_day(cfg_table, d, fold_window) sd;
			synced := synced || day_synced;
		END IF;
		IF day_rows > 0 THEN
			IF i < cardinality(plan.recompute) THEN
				report.days_recomputed := report.days_recomputed + 1;
			ELSE
				report.days_added := report.days_added + 1;
			END IF;
			report.rows_read := report.rows_read + day_rows;
			report.rows_skipped := report.rows_skipped + day_skipped;
			-- each day stored is kept, whatever happens next (a cancel, a
			-- failure, a crash): commit it, when the caller lets us, and
			-- take the lock again.  If another refresh stored days while
			-- the lock was free, this one leaves the rest to it.  (A
			-- worker committed its days itself, under this refresh's lock.)
			IF can_commit AND k IS NULL THEN
				EXECUTE format('SELECT max(computed_at) FROM %I.%I', nsp, base || '_days') INTO last_stored;
				COMMIT;
				PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
				CALL @extschema@.lockstep_refresh_lock(cfg_table, name);
				EXECUTE format('SELECT max(computed_at) IS DISTINCT FROM $1 FROM %I.%I', nsp, base || '_days')
					INTO yielded USING last_stored;
				IF yielded THEN
					RAISE NOTICE 'lockstep_refresh(%): another refresh stored days meanwhile; it refreshes the views', name;
					EXECUTE format('INSERT INTO %I.%I SELECT ($1).*', nsp, base || '_refreshes') USING report;
					PERFORM pg_catalog.set_config('search_path', caller_path, true);
					RETURN;
				END IF;
			END IF;
		ELSIF i >= cardinality(plan.recompute) AND todo IS NULL THEN
			EXECUTE format('SELECT (min(lo) AT TIME ZONE ''UTC'')::date FROM (%s) b',
						   @extschema@.lockstep_per_leaf(leaves,
							'SELECT min(ts) AS lo FROM %s WHERE ts >= ($1 + 1)::timestamp AT TIME ZONE ''UTC''
							 AND ts < ($2 + 1)::timestamp AT TIME ZONE ''UTC'''))
				INTO next_day USING d, plan.last_day;
			EXIT WHEN next_day IS NULL;
			d := next_day - 1;
		END IF;
		i := i + 1;
	END LOOP;
	-- a hash plan for the window, once the days grew (a day folded or
	-- computed again changes few rows: an hourly refresh spent 0.2 s here)
	IF report.days_added > 0 THEN
		EXECUTE format('ANALYZE %I.%I', nsp, base || '_daily');
	END IF;
	RAISE DEBUG 'lockstep_refresh(%): days % to %: % added, % recomputed in % s', name, plan.first_day,
		plan.last_day, report.days_added, report.days_recomputed,
		round(extract(epoch FROM clock_timestamp() - started)::numeric, 2);
	report.stage_seconds := jsonb_build_object('days',
		round(extract(epoch FROM clock_timestamp() - started)::numeric, 3));

	-- 3. the views (a failure there keeps the days: see lockstep_refresh_views)
	report := @extschema@.lockstep_refresh_views(cfg_table, name, report, synced);

	-- 4. the report, and what it says
	EXECUTE format('INSERT INTO %I.%I SELECT ($1).*', nsp, base || '_refreshes') USING report;
	IF report.rows_skipped + report.rows_before_range > 0 THEN
		RAISE NOTICE 'lockstep_refresh(%): % rows without account_id skipped, % rows before % left out',
			name, report.rows_skipped, report.rows_before_range, plan.first_day
			USING HINT = format('%I.%I has the counts of every refresh.', nsp, base || '_refreshes');
	END IF;
	-- a flood of thin accounts is reported, not clustered (lockstep_cluster_accounts),
	-- with what most of them share
	IF report.finished_at IS NOT NULL THEN
		EXECUTE format($q$SELECT count(*) FILTER (WHERE st.requests < $1), count(*)
						  FROM %I.%I w, LATERAL @extschema@.fingerprint_stats(w.fp) st$q$, nsp, base || '_window')
			INTO thin_accounts, window_accounts USING (s->>'min_requests')::int;
	END IF;
	IF thin_accounts * 2 > window_accounts THEN
		RAISE NOTICE 'lockstep_refresh(%): % of the % accounts in the window sent fewer than % requests: a flood of thin accounts?',
			name, thin_accounts, window_accounts, s->>'min_requests'
			USING DETAIL = 'Those that share no payment instrument with another thin account are left out of the clustering. '
				|| coalesce('Most shared among them: ' || (
					SELECT string_agg(format('%s key %s (%s accounts)', t.kind, t.key, t.accounts), ', ')
					FROM @extschema@.lockstep_thin_accounts(format('%I.%I', nsp, base || '_window')::regclass, s, 3) t)
					|| '.', 'They share no network, agent or card.'),
			HINT = format('SELECT * FROM lockstep_thin_accounts(%L, (SELECT settings FROM %s)) lists them; '
						  'lockstep_infrastructure_key(kind, value) finds a key''s values in the log.',
						  format('%I.%I', nsp, base || '_window'), cfg_table);
	END IF;
	PERFORM pg_catalog.set_config('search_path', caller_path, true);
END $$;
COMMENT ON PROCEDURE @extschema@.lockstep_refresh_pipeline(regclass, text, date) IS
	'internal: lockstep_refresh of the pipeline whose config table is cfg_table';

CREATE PROCEDURE @extschema@.lockstep_refresh(name text, through date DEFAULT NULL)
	LANGUAGE plpgsql
	AS $$
BEGIN
	CALL @extschema@.lockstep_refresh_pipeline(@extschema@.lockstep_pipeline_config(name), name, through);
END $$;
COMMENT ON PROCEDURE @extschema@.lockstep_refresh(text, date) IS
	'add the log''s new complete days (up to through, default yesterday, UTC) to a pipeline''s daily fingerprints, compute again the recent days whose rows changed, refresh its views (concurrently once populated), and report in N_refreshes';
