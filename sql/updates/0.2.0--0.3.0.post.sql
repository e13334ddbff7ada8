-- lockstep 0.2.0 -> 0.3.0, last steps: stored fingerprints of format
-- version 1 cannot be merged with version 2 ones, so every pipeline forgets
-- its stored days (its N_days and N_daily tables, known by their row
-- types); its next refresh computes them again, backfill_days back from
-- the log's newest complete day, and rebuilds its views.
DO $$
DECLARE
	t regclass;
BEGIN
	FOR t IN
		SELECT p.oid::regclass
		FROM pg_catalog.pg_class c,
			 unnest(@extschema@.lockstep_pipeline_part(c.oid::regclass, 'pipeline_objects')) part
			 JOIN pg_catalog.pg_class p ON p.oid = part
		WHERE c.reloftype = '@extschema@.lockstep_pipeline_config'::regtype
		  AND p.reloftype IN ('@extschema@.lockstep_pipeline_day'::regtype,
							  '@extschema@.lockstep_daily_fingerprint'::regtype)
	LOOP
		EXECUTE format('TRUNCATE %s', t);
	END LOOP;
END $$;
