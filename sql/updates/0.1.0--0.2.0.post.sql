-- lockstep 0.1.0 -> 0.2.0, after the scoring and pipeline functions are in:
-- the pipelines that 0.1.0 made take the 0.2.0 form.  Their daily
-- fingerprints stay; the views are made again (empty) and the next
-- lockstep_refresh fills them.  0.1.0's config.columns, SQL text that
-- the refresh pasted into its statement, goes: the refresh now reads the
-- log's columns from the catalog.
DO $$
DECLARE
	p record;
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
		EXECUTE format('DROP MATERIALIZED VIEW %1$I.%2$I, %1$I.%3$I, %1$I.%4$I, %1$I.%5$I', p.nsp,
			p.name || '_accounts', p.name || '_campaigns', p.name || '_clusters', p.name || '_window');
		EXECUTE format('ALTER TABLE %s DROP COLUMN columns', p.cfg);
		EXECUTE format('ALTER TABLE %s OF @extschema@.lockstep_pipeline_config', p.cfg);
		EXECUTE format('ALTER TABLE %I.%I OF @extschema@.lockstep_daily_fingerprint', p.nsp, p.name || '_daily');
		PERFORM @extschema@.lockstep_create_pipeline_views(p.cfg);
		-- made inside this script, the views would join the extension: they are the user's
		EXECUTE format('ALTER EXTENSION lockstep DROP MATERIALIZED VIEW %I.%I', p.nsp, p.name || '_window');
		EXECUTE format('ALTER EXTENSION lockstep DROP MATERIALIZED VIEW %I.%I', p.nsp, p.name || '_clusters');
		EXECUTE format('ALTER EXTENSION lockstep DROP MATERIALIZED VIEW %I.%I', p.nsp, p.name || '_campaigns');
		EXECUTE format('ALTER EXTENSION lockstep DROP MATERIALIZED VIEW %I.%I', p.nsp, p.name || '_accounts');
		-- a warning: an extension script shows nothing less
		RAISE WARNING 'lockstep pipeline %.% updated: its views are empty until CALL lockstep_refresh(%)',
			p.nsp, p.name, quote_literal(p.name);
	END LOOP;
END $$;
