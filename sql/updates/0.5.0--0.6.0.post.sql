-- lockstep 0.5.0 -> 0.6.0, last steps: a pipeline's window no longer has
-- the GIN index 0.5.0 made for it (a fifth of a first 16M-row refresh, for
-- lookups a scan answers in under a second).  Only the index 0.5.0 named
-- goes; one an analyst made under another name stays.
DO $$
DECLARE
	p record;
BEGIN
	FOR p IN
		SELECT n.nspname AS nsp, i.relname AS idx
		FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_catalog.pg_class w ON w.relnamespace = c.relnamespace
			AND w.relname = left(c.relname, -length('_config')) || '_window'
		JOIN pg_catalog.pg_index x ON x.indrelid = w.oid
		JOIN pg_catalog.pg_class i ON i.oid = x.indexrelid
			AND i.relname = left(c.relname, -length('_config')) || '_window_fp_idx'
		WHERE c.reloftype = '@extschema@.lockstep_pipeline_config'::regtype
	LOOP
		EXECUTE format('DROP INDEX %I.%I', p.nsp, p.idx);
		RAISE NOTICE 'lockstep: dropped %.%, the GIN index 0.5.0 put on a pipeline''s window', p.nsp, p.idx
			USING HINT = 'A lookup with fp % $1 scans the window; CREATE INDEX … USING gin (fp) makes it again.';
	END LOOP;
END $$;

-- A pipeline's window is a table that each refresh keeps, computing only
-- the accounts whose days changed (and its clusters a table that a refresh
-- keeping its clustering adds to, and its accounts' scores a table each
-- refresh writes again), and it counts each account's
-- organization in the same pass as its union (0.5.0's made a second pass
-- over the window's days, a third of the window's time at 16M rows).  So
-- the window and the views made from it (clusters,
-- campaigns, accounts, and the desk's timeline and shared, which now read
-- the window too; the timeline is made from parts each refresh keeps, in
-- two new tables) are made again, each with its owner and
-- privileges and the indexes the user put on them, empty until the
-- pipeline's next refresh.  A view of the user's on one of them stops
-- the update, with PostgreSQL's error.  The window reads the daily rows
-- of the accounts it computes again through an index on account_id (a
-- scan of every daily row took a second at 16M rows, however few the
-- accounts), and finds the rows changed since a time through one on
-- computed_at, which a new pipeline has: the daily table gets them here.
DO $$
DECLARE
	p record;
	parts text[] := ARRAY['timeline', 'shared', 'accounts', 'campaigns', 'clusters', 'window'];
	part text;
	kind text;
	kept jsonb;
	indexes jsonb;
	g record;
BEGIN
	FOR p IN
		SELECT c.oid::regclass AS cfg, n.nspname AS nsp, left(c.relname, -length('_config')) AS name
		FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE c.reloftype = '@extschema@.lockstep_pipeline_config'::regtype
	LOOP
		EXECUTE format('CREATE INDEX ON %I.%I (account_id)', p.nsp, p.name || '_daily');
		EXECUTE format('CREATE INDEX ON %I.%I (computed_at)', p.nsp, p.name || '_daily');
		SELECT pg_catalog.jsonb_object_agg(x.part, pg_catalog.jsonb_build_object(
				   'owner', r.relowner::regrole::text, 'acl', coalesce(r.relacl::text[], '{}')))
		INTO kept
		FROM pg_catalog.unnest(parts) x(part)
		JOIN pg_catalog.pg_class r ON r.oid = pg_catalog.format('%I.%I', p.nsp, p.name || '_' || x.part)::regclass;
		SELECT pg_catalog.jsonb_agg(pg_catalog.jsonb_build_object('name', c.relname,
				   'def', pg_catalog.pg_get_indexdef(i.indexrelid)) ORDER BY i.indexrelid) INTO indexes
		FROM pg_catalog.pg_index i JOIN pg_catalog.pg_class c ON c.oid = i.indexrelid
		WHERE i.indrelid IN (SELECT pg_catalog.format('%I.%I', p.nsp, p.name || '_' || x)::regclass FROM pg_catalog.unnest(parts) x);
		EXECUTE format('ALTER TABLE %s DROP CONSTRAINT pipeline_objects', p.cfg);
		FOREACH part IN ARRAY parts LOOP
			EXECUTE format('DROP MATERIALIZED VIEW %I.%I', p.nsp, p.name || '_' || part);
		END LOOP;
		PERFORM @extschema@.lockstep_create_pipeline_views(p.cfg,
			(@extschema@.lockstep_pipeline_part(p.cfg, 'pipeline_releases'))[1]);
		PERFORM @extschema@.lockstep_create_pipeline_desk_views(p.cfg);
		PERFORM @extschema@.lockstep_pin_pipeline(p.cfg);
		FOREACH part IN ARRAY parts LOOP
			-- made inside this script, it would join the extension: it is the user's
			-- (the window, the clusters and the accounts are tables now)
			kind := CASE WHEN part IN ('window', 'clusters', 'accounts') THEN 'TABLE' ELSE 'MATERIALIZED VIEW' END;
			EXECUTE format('ALTER EXTENSION lockstep DROP %s %I.%I', kind, p.nsp, p.name || '_' || part);
			EXECUTE format('ALTER %s %I.%I OWNER TO %s', kind, p.nsp, p.name || '_' || part,
						   kept->part->>'owner');
			CONTINUE WHEN pg_catalog.jsonb_array_length(kept->part->'acl') = 0;	-- (aclexplode: one dimension)
			FOR g IN
				SELECT a.privilege_type, a.grantee, a.is_grantable
				FROM pg_catalog.aclexplode(ARRAY(SELECT pg_catalog.jsonb_array_elements_text(kept->part->'acl'))::aclitem[]) a
			LOOP
				EXECUTE format('GRANT %s ON %I.%I TO %s%s', g.privilege_type, p.nsp, p.name || '_' || part,
							   CASE WHEN g.grantee = 0 THEN 'PUBLIC' ELSE g.grantee::regrole::text END,
							   CASE WHEN g.is_grantable THEN ' WITH GRANT OPTION' ELSE '' END);
			END LOOP;
		END LOOP;
		-- the timeline's parts and their members are new tables: the
		-- timeline's owner's, read by no one else
		FOREACH part IN ARRAY ARRAY['timeline_parts', 'timeline_members'] LOOP
			EXECUTE format('ALTER EXTENSION lockstep DROP TABLE %I.%I', p.nsp, p.name || '_' || part);
			EXECUTE format('ALTER TABLE %I.%I OWNER TO %s', p.nsp, p.name || '_' || part, kept->'timeline'->>'owner');
		END LOOP;
		-- the indexes the views were made with exist again under their
		-- names; the user's are made again
		FOR g IN SELECT x->>'name' AS name, x->>'def' AS def
				 FROM pg_catalog.jsonb_array_elements(coalesce(indexes, '[]')) x LOOP
			IF pg_catalog.to_regclass(pg_catalog.format('%I.%I', p.nsp, g.name)) IS NULL THEN
				EXECUTE g.def;
			END IF;
		END LOOP;
		-- a warning: an extension script shows nothing less
		RAISE WARNING 'lockstep pipeline %.% updated: its window, clusters, campaigns, accounts, timeline and shared views are empty until CALL lockstep_refresh(%)',
			p.nsp, p.name, quote_literal(p.name);
	END LOOP;
END $$;
