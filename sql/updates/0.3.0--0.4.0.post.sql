-- lockstep 0.3.0 -> 0.4.0, last steps: every pipeline's views are made
-- again, since the window now takes each account's organization from most
-- of its traffic and the clusters come from lockstep_cluster_accounts.
-- Its stored days stay; the views are empty until the next refresh.
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
		EXECUTE format('DROP MATERIALIZED VIEW %1$I.%2$I, %1$I.%3$I, %1$I.%4$I, %1$I.%5$I', p.nsp,
			p.name || '_accounts', p.name || '_campaigns', p.name || '_clusters', p.name || '_window');
		PERFORM @extschema@.lockstep_create_pipeline_views(p.cfg,
			(@extschema@.lockstep_pipeline_part(p.cfg, 'pipeline_releases'))[1]);
		-- made inside this script, these would join the extension: they are the user's
		FOREACH part IN ARRAY ARRAY['window', 'clusters', 'campaigns', 'accounts'] LOOP
			EXECUTE format('ALTER EXTENSION lockstep DROP MATERIALIZED VIEW %I.%I', p.nsp, p.name || '_' || part);
		END LOOP;
		RAISE WARNING 'lockstep pipeline %.% updated: its views are empty until CALL lockstep_refresh(%)',
			p.nsp, p.name, quote_literal(p.name);
	END LOOP;
END $$;
