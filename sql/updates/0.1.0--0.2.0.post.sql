-- lockstep 0.1.0 -> 0.2.0, after the scoring and pipeline functions are in:
-- the pipelines that 0.1.0 made take the 0.2.0 form.  Their daily
-- fingerprints stay; the views are made again (empty) and the next
-- lockstep_refresh fills them.  0.1.0's config.columns, SQL text that the
-- refresh pasted into its statement, goes (the refresh reads the log's
-- columns from the catalog), and so do the log and release table columns,
-- which a role allowed to UPDATE the config could point elsewhere: they
-- become constraints, which only the owner can change.
DO $$
DECLARE
	p record;
	part text;
BEGIN
	FOR p IN
		SELECT c.oid::regclass AS cfg, n.nspname AS nsp, left(c.relname, -length('_config')) AS name
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind = 'r' AND c.reloftype = 0 AND c.relname LIKE '%\_config'
		  AND (SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a
			   WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)
			  = ARRAY['log', 'columns', 'window_days', 'releases', 'settings']
		  AND to_regclass(format('%I.%I', n.nspname, left(c.relname, -length('_config')) || '_daily')) IS NOT NULL
	LOOP
		EXECUTE format('SELECT format(''ALTER TABLE %1$s ADD CONSTRAINT pipeline_log CHECK (%%L::pg_catalog.regclass IS NOT NULL)'', log::text) FROM %1$s', p.cfg)
			INTO part;
		EXECUTE part;
		EXECUTE format('SELECT CASE WHEN releases IS NULL THEN NULL ELSE format(''ALTER TABLE %1$s ADD CONSTRAINT pipeline_releases CHECK (%%L::pg_catalog.regclass IS NOT NULL)'', releases::text) END FROM %1$s', p.cfg)
			INTO part;
		IF part IS NOT NULL THEN
			EXECUTE part;
		END IF;
		EXECUTE format('ALTER TABLE %s DROP COLUMN log, DROP COLUMN columns, DROP COLUMN releases', p.cfg);
		EXECUTE format('ALTER TABLE %s OF @extschema@.lockstep_pipeline_config', p.cfg);
		EXECUTE format('ALTER TABLE %s ADD CHECK (window_days > 0)', p.cfg);
		EXECUTE format('ALTER TABLE %I.%I OF @extschema@.lockstep_daily_fingerprint', p.nsp, p.name || '_daily');
		-- the stored days, their row counts unknown: the next refresh
		-- recounts the last late_days of them and computes again any that differ
		EXECUTE format('CREATE TABLE %I.%I OF @extschema@.lockstep_pipeline_day (day WITH OPTIONS PRIMARY KEY)',
					   p.nsp, p.name || '_days');
		EXECUTE format('INSERT INTO %I.%I (day) SELECT DISTINCT day FROM %I.%I', p.nsp, p.name || '_days',
					   p.nsp, p.name || '_daily');
		EXECUTE format('COMMENT ON TABLE %I.%I IS %L', p.nsp, p.name || '_days',
			'per stored UTC day: the log rows read and skipped (no account_id); a day whose count changes is computed again');
		EXECUTE format('CREATE TABLE %I.%I OF @extschema@.lockstep_pipeline_refresh', p.nsp, p.name || '_refreshes');
		EXECUTE format('COMMENT ON TABLE %I.%I IS %L', p.nsp, p.name || '_refreshes',
			'one row per lockstep_refresh: the days it read, added and recomputed, the rows it read and skipped');
		PERFORM @extschema@.lockstep_create_pipeline_views(p.cfg,
			(@extschema@.lockstep_pipeline_part(p.cfg, 'pipeline_releases'))[1]);
		-- made inside this script, these would join the extension: they are the user's
		FOREACH part IN ARRAY ARRAY['window', 'clusters', 'campaigns', 'accounts'] LOOP
			EXECUTE format('ALTER EXTENSION lockstep DROP MATERIALIZED VIEW %I.%I', p.nsp, p.name || '_' || part);
		END LOOP;
		FOREACH part IN ARRAY ARRAY['days', 'refreshes'] LOOP
			EXECUTE format('ALTER EXTENSION lockstep DROP TABLE %I.%I', p.nsp, p.name || '_' || part);
		END LOOP;
		-- a warning: an extension script shows nothing less
		RAISE WARNING 'lockstep pipeline %.% updated: its views are empty until CALL lockstep_refresh(%)',
			p.nsp, p.name, quote_literal(p.name);
	END LOOP;
END $$;
