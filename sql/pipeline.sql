-- lockstep: the detection pipeline, its tables and views, its refresh.
-- Part of the install script and of the upgrade to it (see sql/README).

-- The pipeline -------------------------------------------------------------

CREATE FUNCTION @extschema@.lockstep_create_pipeline(name text, log regclass,
	window_days integer DEFAULT 28, releases regclass DEFAULT NULL, settings jsonb DEFAULT NULL)
	RETURNS text
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	AS $$
DECLARE
	cols text := '';
	missing text;
	col record;
BEGIN
	IF name IS NULL OR name !~ '^[a-z_][a-z0-9_]{0,40}$' THEN
		RAISE EXCEPTION 'pipeline name must be a lower-case identifier of at most 41 characters'
			USING ERRCODE = 'invalid_parameter_value', DETAIL = format('The name was %L.', name);
	END IF;
	IF log IS NULL OR window_days IS NULL OR window_days < 1 THEN
		RAISE EXCEPTION 'a log table and a positive window_days are needed'
			USING ERRCODE = 'invalid_parameter_value';
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
	-- the fingerprint_agg arguments: the log's columns, NULL where it has none
	FOR col IN SELECT c.name, c.type, a.attname IS NOT NULL AS present
			   FROM (VALUES (1, 'ts', 'timestamptz'), (2, 'prompt', 'text'), (3, 'client_ip', 'inet'),
							(4, 'user_agent', 'text'), (5, 'payment', 'text'), (6, 'model', 'text'),
							(7, 'tokens_in', 'integer'), (8, 'tokens_out', 'integer'), (9, 'org_id', 'bigint'))
					AS c(i, name, type)
			   LEFT JOIN pg_attribute a ON a.attrelid = log AND a.attname = c.name AND a.attnum > 0
										AND NOT a.attisdropped
			   ORDER BY c.i
	LOOP
		cols := cols || CASE WHEN cols = '' THEN '' ELSE ', ' END ||
				CASE WHEN col.present THEN format('%I::%s', col.name, col.type)
					 ELSE format('NULL::%s', col.type) END;
	END LOOP;

	EXECUTE format('CREATE TABLE %I (log regclass NOT NULL, columns text NOT NULL, window_days integer NOT NULL,
					releases regclass, settings jsonb NOT NULL)', name || '_config');
	EXECUTE format('INSERT INTO %I VALUES ($1, $2, $3, $4, $5)', name || '_config')
		USING log, cols, window_days, releases, coalesce(settings, '{}');
	EXECUTE format('COMMENT ON TABLE %I IS %L', name || '_config',
		'lockstep pipeline settings: UPDATE settings (keys of lockstep_default_settings()), then CALL lockstep_refresh(' || quote_literal(name) || ')');
	EXECUTE format('CREATE TABLE %I (day date NOT NULL, account_id bigint NOT NULL, org_id bigint,
					fp @extschema@.fingerprint NOT NULL, PRIMARY KEY (day, account_id))', name || '_daily');
	EXECUTE format('COMMENT ON TABLE %I IS %L', name || '_daily',
		'one fingerprint per account and UTC day; lockstep_refresh adds the new days');
	EXECUTE format($q$CREATE MATERIALIZED VIEW %1$I AS
		SELECT account_id, max(org_id) AS org_id, @extschema@.fingerprint_union_agg(fp) AS fp
		FROM %2$I
		WHERE day > (SELECT day FROM %2$I ORDER BY day DESC LIMIT 1) - (SELECT window_days FROM %3$I)
		GROUP BY account_id WITH NO DATA$q$, name || '_window', name || '_daily', name || '_config');
	EXECUTE format($q$CREATE MATERIALIZED VIEW %1$I AS
		SELECT c.* FROM %2$I s,
		LATERAL (SELECT @extschema@.lockstep_settings(s.settings) AS v) v,
		LATERAL @extschema@.fingerprint_clusters(%3$L, (v->>'threshold')::float8,
			(v->>'core_threshold')::float8, (v->>'min_size')::int,
			max_bucket => (v->>'max_bucket')::int) c WITH NO DATA$q$,
		name || '_clusters', name || '_config', format('SELECT account_id, fp FROM %I', name || '_window'));
	EXECUTE format($q$CREATE MATERIALIZED VIEW %1$I AS
		SELECT k.* FROM %2$I s,
		LATERAL @extschema@.lockstep_score_clusters(%3$L, %4$L,
			'SELECT model, released_at FROM ' || s.releases::text, s.settings) k WITH NO DATA$q$,
		name || '_campaigns', name || '_config',
		format('SELECT account_id, cluster FROM %I', name || '_clusters'),
		format('SELECT account_id, org_id, fp FROM %I', name || '_window'));
	EXECUTE format($q$CREATE MATERIALIZED VIEW %1$I AS
		SELECT a.* FROM %2$I s,
		LATERAL @extschema@.lockstep_score_accounts(%3$L, %4$L, s.settings) a WITH NO DATA$q$,
		name || '_accounts', name || '_config',
		format('SELECT account_id, cluster, core, similarity FROM %I', name || '_clusters'),
		format('SELECT cluster, score, evidence FROM %I', name || '_campaigns'));
	EXECUTE format('CREATE UNIQUE INDEX ON %I (account_id)', name || '_window');
	EXECUTE format('CREATE UNIQUE INDEX ON %I (account_id)', name || '_clusters');
	EXECUTE format('CREATE UNIQUE INDEX ON %I (cluster)', name || '_campaigns');
	EXECUTE format('CREATE UNIQUE INDEX ON %I (account_id)', name || '_accounts');
	EXECUTE format('COMMENT ON MATERIALIZED VIEW %I IS %L', name || '_window',
		'one fingerprint per account over the last window_days days of ' || name || '_daily');
	EXECUTE format('COMMENT ON MATERIALIZED VIEW %I IS %L', name || '_clusters',
		'fingerprint_clusters over ' || name || '_window');
	EXECUTE format('COMMENT ON MATERIALIZED VIEW %I IS %L', name || '_campaigns',
		'lockstep_score_clusters: one scored, explained row per cluster');
	EXECUTE format('COMMENT ON MATERIALIZED VIEW %I IS %L', name || '_accounts',
		'lockstep_score_accounts: one scored row per clustered account');
	RETURN format('CALL lockstep_refresh(%L)', name);
END $$;
COMMENT ON FUNCTION @extschema@.lockstep_create_pipeline(text, regclass, integer, regclass, jsonb) IS
	'create the tables and materialized views of a detection pipeline over a log table; returns the statement that refreshes it';

CREATE PROCEDURE @extschema@.lockstep_refresh(name text, through date DEFAULT NULL)
	LANGUAGE plpgsql
	AS $$
DECLARE
	cfg record;
	first_day date;
	last_day date;
	day date;
	how text;
	view text;
	started timestamptz := clock_timestamp();
BEGIN
	IF name IS NULL OR to_regclass(quote_ident(name || '_config')) IS NULL THEN
		RAISE EXCEPTION 'no lockstep pipeline named %', coalesce(name, 'NULL')
			USING ERRCODE = 'undefined_object', HINT = 'lockstep_create_pipeline makes one.';
	END IF;
	EXECUTE format('SELECT * FROM %I', name || '_config') INTO cfg;
	-- the new complete UTC days only: the past is never recomputed
	EXECUTE format('SELECT max(day) + 1 FROM %I', name || '_daily') INTO first_day;
	EXECUTE format('SELECT min((ts AT TIME ZONE ''UTC'')::date), max((ts AT TIME ZONE ''UTC'')::date)
					FROM %s WHERE $1 IS NULL OR ts >= $1::timestamp AT TIME ZONE ''UTC''', cfg.log)
		INTO first_day, last_day USING first_day;
	last_day := least(last_day, coalesce(through, (now() AT TIME ZONE 'UTC')::date - 1));
	-- a day at a time: a day's accounts fit in memory, and a ts index or BRIN finds the day
	FOR day IN SELECT d::date FROM generate_series(first_day, last_day, interval '1 day') d
	LOOP
		EXECUTE format($q$INSERT INTO %I
			SELECT $1, account_id, max(org_id),
				   @extschema@.fingerprint_agg(ts, prompt, client_ip, user_agent, payment, model, tokens_in, tokens_out)
			FROM (SELECT account_id::bigint, %s FROM %s
				  WHERE ts >= $1::timestamp AT TIME ZONE 'UTC' AND ts < ($1 + 1)::timestamp AT TIME ZONE 'UTC')
				 AS l(account_id, ts, prompt, client_ip, user_agent, payment, model, tokens_in, tokens_out, org_id)
			GROUP BY account_id$q$, name || '_daily', cfg.columns, cfg.log)
			USING day;
	END LOOP;
	-- CONCURRENTLY needs a populated view: the first refresh is a plain one
	SELECT CASE WHEN relispopulated THEN 'CONCURRENTLY ' ELSE '' END INTO how
	FROM pg_class WHERE oid = to_regclass(quote_ident(name || '_window'));
	IF first_day <= last_day THEN
		EXECUTE format('ANALYZE %I', name || '_daily');	-- a hash plan for the window
	END IF;
	RAISE DEBUG 'lockstep_refresh(%): days % to % added in % s', name, first_day, last_day,
		round(extract(epoch FROM clock_timestamp() - started)::numeric, 2);
	FOREACH view IN ARRAY ARRAY['window', 'clusters', 'campaigns', 'accounts']
	LOOP
		started := clock_timestamp();
		EXECUTE format('REFRESH MATERIALIZED VIEW %s%I', how, name || '_' || view);
		RAISE DEBUG 'lockstep_refresh(%): %_% refreshed in % s', name, name, view,
			round(extract(epoch FROM clock_timestamp() - started)::numeric, 2);
	END LOOP;
END $$;
COMMENT ON PROCEDURE @extschema@.lockstep_refresh(text, date) IS
	'add the log''s new complete days to a pipeline''s daily fingerprints, then refresh its views (concurrently once populated)';
