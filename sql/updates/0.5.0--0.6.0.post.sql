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
