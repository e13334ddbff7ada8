-- lockstep: the detection pipeline, its tables and views, its refresh.
-- Part of the install script and of the update to it (see sql/README).
--
-- A pipeline named N is six objects in the schema it was created in:
--   N_config    one row: the log, the window, the releases, the settings
--   N_daily     one fingerprint per account and UTC day
--   N_window    materialized: the last window_days days merged per account
--   N_clusters  materialized: fingerprint_clusters over N_window
--   N_campaigns materialized: lockstep_score_clusters, one row per cluster
--   N_accounts  materialized: lockstep_score_accounts, one row per account
-- The views name the relations they read as regclass constants, and the
-- config table's pipeline_objects constraint names all six, so PostgreSQL
-- records every dependency: none of them can be dropped alone, pg_dump
-- restores them in order, lockstep_drop_pipeline knows what to remove, and
-- DROP EXTENSION lockstep CASCADE removes the typed tables with the types.

-- The pipeline -------------------------------------------------------------

CREATE TYPE @extschema@.lockstep_pipeline_config AS (
	log regclass,
	window_days integer,
	releases regclass,
	settings jsonb
);
COMMENT ON TYPE @extschema@.lockstep_pipeline_config IS
	'row type of a pipeline''s N_config table: the log, the window in days, the (model, released_at) release table, the settings (keys of lockstep_default_settings())';

CREATE TYPE @extschema@.lockstep_daily_fingerprint AS (
	day date,
	account_id bigint,
	org_id bigint,
	fp @extschema@.fingerprint
);
COMMENT ON TYPE @extschema@.lockstep_daily_fingerprint IS
	'row type of a pipeline''s N_daily table: one fingerprint per account and UTC day';

-- The config table of pipeline name, checked; NULL if there is none.
CREATE FUNCTION @extschema@.lockstep_pipeline_config(name text) RETURNS regclass
	LANGUAGE plpgsql STABLE PARALLEL SAFE
	AS $$
DECLARE
	cfg regclass := to_regclass(quote_ident(name || '_config'));
BEGIN
	IF cfg IS NULL OR (SELECT reloftype FROM pg_class WHERE oid = cfg)
					  <> '@extschema@.lockstep_pipeline_config'::regtype THEN
		RETURN NULL;
	END IF;
	RETURN cfg;
END $$;
COMMENT ON FUNCTION @extschema@.lockstep_pipeline_config(text) IS
	'the N_config table of the pipeline N visible in the search path, or NULL if there is no such pipeline';

-- The materialized views of a pipeline whose tables exist; used by
-- lockstep_create_pipeline and by the update from 0.1.0.
CREATE FUNCTION @extschema@.lockstep_create_pipeline_views(config regclass) RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	AS $$
DECLARE
	nsp text;
	name text;
	releases regclass;
	-- a relation of this pipeline, as the regclass constant a view records
	rel text;
BEGIN
	SELECT n.nspname, left(c.relname, -length('_config')) INTO nsp, name
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = config;
	EXECUTE format('SELECT releases FROM %s', config) INTO releases;
	EXECUTE format($q$CREATE MATERIALIZED VIEW %1$I.%2$I AS
		SELECT account_id, max(org_id) AS org_id, @extschema@.fingerprint_union_agg(fp) AS fp
		FROM %1$I.%3$I
		WHERE day > (SELECT day FROM %1$I.%3$I ORDER BY day DESC LIMIT 1) - (SELECT window_days FROM %1$I.%4$I)
		GROUP BY account_id WITH NO DATA$q$, nsp, name || '_window', name || '_daily', name || '_config');
	rel := format('%L::pg_catalog.regclass', format('%I.%I', nsp, name || '_window'));
	EXECUTE format($q$CREATE MATERIALIZED VIEW %1$I.%2$I AS
		SELECT c.* FROM %1$I.%3$I s,
		LATERAL (SELECT @extschema@.lockstep_settings(s.settings) AS v) v,
		LATERAL @extschema@.fingerprint_clusters(
			pg_catalog.format('SELECT account_id, fp FROM %%s', %4$s),
			(v->>'threshold')::float8, (v->>'core_threshold')::float8, (v->>'min_size')::int,
			(v->>'bands')::int, (v->>'rows')::int, (v->>'max_bucket')::int) c WITH NO DATA$q$,
		nsp, name || '_clusters', name || '_config', rel);
	EXECUTE format($q$CREATE MATERIALIZED VIEW %1$I.%2$I AS
		SELECT k.* FROM %1$I.%3$I s,
		LATERAL @extschema@.lockstep_score_clusters(
			pg_catalog.format('SELECT account_id, cluster FROM %%s', %4$s),
			pg_catalog.format('SELECT account_id, org_id, fp FROM %%s', %5$s),
			%6$s, s.settings) k WITH NO DATA$q$,
		nsp, name || '_campaigns', name || '_config',
		format('%L::pg_catalog.regclass', format('%I.%I', nsp, name || '_clusters')), rel,
		CASE WHEN releases IS NULL THEN 'NULL'
			 ELSE format('pg_catalog.format(''SELECT model, released_at FROM %%s'', %L::pg_catalog.regclass)',
						 releases::text) END);
	EXECUTE format($q$CREATE MATERIALIZED VIEW %1$I.%2$I AS
		SELECT a.* FROM %1$I.%3$I s,
		LATERAL @extschema@.lockstep_score_accounts(
			pg_catalog.format('SELECT account_id, cluster, core, similarity FROM %%s', %4$s),
			pg_catalog.format('SELECT cluster, score, evidence FROM %%s', %5$s),
			s.settings) a WITH NO DATA$q$,
		nsp, name || '_accounts', name || '_config',
		format('%L::pg_catalog.regclass', format('%I.%I', nsp, name || '_clusters')),
		format('%L::pg_catalog.regclass', format('%I.%I', nsp, name || '_campaigns')));
	EXECUTE format('CREATE UNIQUE INDEX ON %I.%I (account_id)', nsp, name || '_window');
	EXECUTE format('CREATE UNIQUE INDEX ON %I.%I (account_id)', nsp, name || '_clusters');
	EXECUTE format('CREATE UNIQUE INDEX ON %I.%I (cluster)', nsp, name || '_campaigns');
	EXECUTE format('CREATE UNIQUE INDEX ON %I.%I (account_id)', nsp, name || '_accounts');
	EXECUTE format('COMMENT ON MATERIALIZED VIEW %I.%I IS %L', nsp, name || '_window',
		'one fingerprint per account over the last window_days days of ' || name || '_daily');
	EXECUTE format('COMMENT ON MATERIALIZED VIEW %I.%I IS %L', nsp, name || '_clusters',
		'fingerprint_clusters over ' || name || '_window');
	EXECUTE format('COMMENT ON MATERIALIZED VIEW %I.%I IS %L', nsp, name || '_campaigns',
		'lockstep_score_clusters: one scored, explained row per cluster');
	EXECUTE format('COMMENT ON MATERIALIZED VIEW %I.%I IS %L', nsp, name || '_accounts',
		'lockstep_score_accounts: one scored row per clustered account');
	-- one record of what the pipeline is, which also pins each part
	EXECUTE format($q$ALTER TABLE %1$I.%2$I ADD CONSTRAINT pipeline_objects CHECK (ARRAY[
		%3$L::pg_catalog.regclass, %4$L::pg_catalog.regclass, %5$L::pg_catalog.regclass,
		%6$L::pg_catalog.regclass, %7$L::pg_catalog.regclass] IS NOT NULL)$q$,
		nsp, name || '_config', format('%I.%I', nsp, name || '_daily'),
		format('%I.%I', nsp, name || '_window'), format('%I.%I', nsp, name || '_clusters'),
		format('%I.%I', nsp, name || '_campaigns'), format('%I.%I', nsp, name || '_accounts'));
END $$;
COMMENT ON FUNCTION @extschema@.lockstep_create_pipeline_views(regclass) IS
	'internal: the materialized views of a pipeline whose N_config and N_daily tables exist';

CREATE FUNCTION @extschema@.lockstep_create_pipeline(name text, log regclass,
	window_days integer DEFAULT 28, releases regclass DEFAULT NULL, settings jsonb DEFAULT NULL)
	RETURNS text
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	AS $$
DECLARE
	missing text;
	nsp text := current_schema();
BEGIN
	IF name IS NULL OR name !~ '^[a-z_][a-z0-9_]{0,40}$' THEN
		RAISE EXCEPTION 'pipeline name must be a lower-case identifier of at most 41 characters'
			USING ERRCODE = 'invalid_parameter_value', DETAIL = format('The name was %L.', name);
	END IF;
	IF log IS NULL OR window_days IS NULL OR window_days < 1 THEN
		RAISE EXCEPTION 'a log table and a positive window_days are needed'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF nsp IS NULL THEN
		RAISE EXCEPTION 'no schema to create the pipeline in' USING ERRCODE = 'invalid_schema_name',
			HINT = 'Set search_path to the schema the pipeline belongs in.';
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

	EXECUTE format('CREATE TABLE %I.%I OF @extschema@.lockstep_pipeline_config (
					log WITH OPTIONS NOT NULL, window_days WITH OPTIONS NOT NULL,
					settings WITH OPTIONS NOT NULL)', nsp, name || '_config');
	EXECUTE format('INSERT INTO %I.%I VALUES ($1, $2, $3, $4)', nsp, name || '_config')
		USING log, window_days, releases, coalesce(settings, '{}');
	EXECUTE format('COMMENT ON TABLE %I.%I IS %L', nsp, name || '_config',
		'lockstep pipeline settings: UPDATE settings (keys of lockstep_default_settings()), then CALL lockstep_refresh(' || quote_literal(name) || ')');
	EXECUTE format('CREATE TABLE %I.%I OF @extschema@.lockstep_daily_fingerprint (
					day WITH OPTIONS NOT NULL, account_id WITH OPTIONS NOT NULL, fp WITH OPTIONS NOT NULL,
					PRIMARY KEY (day, account_id))', nsp, name || '_daily');
	EXECUTE format('COMMENT ON TABLE %I.%I IS %L', nsp, name || '_daily',
		'one fingerprint per account and UTC day; lockstep_refresh adds the new days');
	PERFORM @extschema@.lockstep_create_pipeline_views(format('%I.%I', nsp, name || '_config')::regclass);
	RETURN format('CALL lockstep_refresh(%L)', name);
END $$;
COMMENT ON FUNCTION @extschema@.lockstep_create_pipeline(text, regclass, integer, regclass, jsonb) IS
	'create the tables and materialized views of a detection pipeline over a log table; returns the statement that refreshes it';

CREATE FUNCTION @extschema@.lockstep_drop_pipeline(name text, cascade boolean DEFAULT false) RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	AS $$
DECLARE
	cfg regclass := @extschema@.lockstep_pipeline_config(name);
	parts regclass[];
BEGIN
	IF cfg IS NULL THEN
		RAISE EXCEPTION 'no lockstep pipeline named %', coalesce(name, 'NULL')
			USING ERRCODE = 'undefined_object';
	END IF;
	-- the relations its pipeline_objects constraint names; one DROP each
	-- for the views and the tables, so that their order does not matter
	SELECT array_agg(d.refobjid::regclass) INTO parts
	FROM pg_constraint k
	JOIN pg_depend d ON d.classid = 'pg_constraint'::regclass AND d.objid = k.oid
					AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> cfg
	WHERE k.conrelid = cfg AND k.conname = 'pipeline_objects';
	EXECUTE format('ALTER TABLE %s DROP CONSTRAINT pipeline_objects', cfg);
	EXECUTE format('DROP MATERIALIZED VIEW %s%s',
		(SELECT string_agg(p::text, ', ') FROM unnest(parts) p JOIN pg_class c ON c.oid = p WHERE c.relkind = 'm'),
		CASE WHEN cascade THEN ' CASCADE' ELSE '' END);
	EXECUTE format('DROP TABLE %s%s',
		(SELECT string_agg(p::text, ', ') FROM unnest(parts || cfg) p JOIN pg_class c ON c.oid = p WHERE c.relkind = 'r'),
		CASE WHEN cascade THEN ' CASCADE' ELSE '' END);
END $$;
COMMENT ON FUNCTION @extschema@.lockstep_drop_pipeline(text, boolean) IS
	'drop every table and view of a pipeline (with cascade, also what others built on them); the log and the releases table stay';

CREATE PROCEDURE @extschema@.lockstep_refresh(name text, through date DEFAULT NULL)
	LANGUAGE plpgsql
	AS $$
DECLARE
	cfg_table regclass := @extschema@.lockstep_pipeline_config(name);
	cfg record;
	nsp text;
	cols text;
	first_day date;
	last_day date;
	day date;
	how text;
	view text;
	started timestamptz := clock_timestamp();
BEGIN
	IF cfg_table IS NULL THEN
		RAISE EXCEPTION 'no lockstep pipeline named %', coalesce(name, 'NULL')
			USING ERRCODE = 'undefined_object', HINT = 'lockstep_create_pipeline makes one.';
	END IF;
	SELECT n.nspname INTO nsp FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = cfg_table;
	EXECUTE format('SELECT * FROM %s', cfg_table) INTO cfg;
	-- the fingerprint_agg arguments: the log's columns as it has them now,
	-- quoted here, NULL where it has none; no SQL text is stored
	SELECT string_agg(CASE WHEN a.attname IS NOT NULL THEN format('%I::%s', c.name, c.type)
						   ELSE format('NULL::%s', c.type) END, ', ' ORDER BY c.i)
	INTO cols
	FROM (VALUES (1, 'ts', 'timestamptz'), (2, 'prompt', 'text'), (3, 'client_ip', 'inet'),
				 (4, 'user_agent', 'text'), (5, 'payment', 'text'), (6, 'model', 'text'),
				 (7, 'tokens_in', 'integer'), (8, 'tokens_out', 'integer'), (9, 'org_id', 'bigint'))
		 AS c(i, name, type)
	LEFT JOIN pg_attribute a ON a.attrelid = cfg.log AND a.attname = c.name AND a.attnum > 0
							 AND NOT a.attisdropped;
	-- the new complete UTC days only: the past is never recomputed
	EXECUTE format('SELECT max(day) + 1 FROM %I.%I', nsp, name || '_daily') INTO first_day;
	EXECUTE format('SELECT min((ts AT TIME ZONE ''UTC'')::date), max((ts AT TIME ZONE ''UTC'')::date)
					FROM %s WHERE $1 IS NULL OR ts >= $1::timestamp AT TIME ZONE ''UTC''', cfg.log)
		INTO first_day, last_day USING first_day;
	last_day := least(last_day, coalesce(through, (now() AT TIME ZONE 'UTC')::date - 1));
	-- a day at a time: a day's accounts fit in memory, and a ts index or BRIN finds the day
	FOR day IN SELECT d::date FROM generate_series(first_day, last_day, interval '1 day') d
	LOOP
		EXECUTE format($q$INSERT INTO %I.%I
			SELECT $1, account_id, max(org_id),
				   @extschema@.fingerprint_agg(ts, prompt, client_ip, user_agent, payment, model, tokens_in, tokens_out)
			FROM (SELECT account_id::bigint, %s FROM %s
				  WHERE ts >= $1::timestamp AT TIME ZONE 'UTC' AND ts < ($1 + 1)::timestamp AT TIME ZONE 'UTC')
				 AS l(account_id, ts, prompt, client_ip, user_agent, payment, model, tokens_in, tokens_out, org_id)
			GROUP BY account_id$q$, nsp, name || '_daily', cols, cfg.log)
			USING day;
	END LOOP;
	-- CONCURRENTLY needs a populated view: the first refresh is a plain one
	SELECT CASE WHEN relispopulated THEN 'CONCURRENTLY ' ELSE '' END INTO how
	FROM pg_class WHERE oid = format('%I.%I', nsp, name || '_window')::regclass;
	IF first_day <= last_day THEN
		EXECUTE format('ANALYZE %I.%I', nsp, name || '_daily');	-- a hash plan for the window
	END IF;
	RAISE DEBUG 'lockstep_refresh(%): days % to % added in % s', name, first_day, last_day,
		round(extract(epoch FROM clock_timestamp() - started)::numeric, 2);
	FOREACH view IN ARRAY ARRAY['window', 'clusters', 'campaigns', 'accounts']
	LOOP
		started := clock_timestamp();
		EXECUTE format('REFRESH MATERIALIZED VIEW %s%I.%I', how, nsp, name || '_' || view);
		RAISE DEBUG 'lockstep_refresh(%): %_% refreshed in % s', name, name, view,
			round(extract(epoch FROM clock_timestamp() - started)::numeric, 2);
	END LOOP;
END $$;
COMMENT ON PROCEDURE @extschema@.lockstep_refresh(text, date) IS
	'add the log''s new complete days to a pipeline''s daily fingerprints, then refresh its views (concurrently once populated)';
