-- lockstep 0.4.0 -> 0.5.0, last steps: every pipeline gets its analyst's
-- desk (campaign history, members, the dashboard views), empty until its
-- next refresh, and its pipeline_objects constraint names them.
DO $$
DECLARE
	p record;
	part text;
BEGIN
	FOR p IN
		SELECT c.oid::regclass AS cfg, n.nspname AS nsp, left(c.relname, -length('_config')) AS name
		FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE c.reloftype = '@extschema@.lockstep_pipeline_config'::regtype
	LOOP
		EXECUTE format('ALTER TABLE %s DROP CONSTRAINT pipeline_objects', p.cfg);
		PERFORM @extschema@.lockstep_create_pipeline_desk(p.cfg);
		PERFORM @extschema@.lockstep_pin_pipeline(p.cfg);
		-- made inside this script, these would join the extension: they are the user's
		FOREACH part IN ARRAY ARRAY['history', 'members'] LOOP
			EXECUTE format('ALTER EXTENSION lockstep DROP TABLE %I.%I', p.nsp, p.name || '_' || part);
		END LOOP;
		FOREACH part IN ARRAY ARRAY['timeline', 'shared'] LOOP
			EXECUTE format('ALTER EXTENSION lockstep DROP MATERIALIZED VIEW %I.%I', p.nsp, p.name || '_' || part);
		END LOOP;
		FOREACH part IN ARRAY ARRAY['changes', 'health'] LOOP
			EXECUTE format('ALTER EXTENSION lockstep DROP VIEW %I.%I', p.nsp, p.name || '_' || part);
		END LOOP;
	END LOOP;
END $$;
