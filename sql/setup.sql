-- Installation, labels and documentation of every object.
CREATE EXTENSION lockstep;

-- every object of the extension carries a COMMENT
SELECT pg_describe_object(classid, objid, 0) AS undocumented
FROM pg_depend
WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'lockstep')
  AND obj_description(objid, (SELECT relname FROM pg_class WHERE oid = classid)) IS NULL
ORDER BY 1;
-- and there are objects to check
SELECT count(*) > 30 AS many_objects FROM pg_depend
WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'lockstep');

-- volatility, strictness and parallel labels, as declared
SELECT p.oid::regprocedure::text AS function, provolatile, proisstrict, proparallel
FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'lockstep') AND d.deptype = 'e'
ORDER BY 1;

-- the aggregates are parallel-capable and fingerprint_union_agg's state is the type itself
SELECT aggfnoid::regprocedure::text AS aggregate, aggtranstype::regtype, aggcombinefn <> 0 AS has_combine,
       aggserialfn <> 0 AS has_serial, aggtransspace
FROM pg_aggregate WHERE aggfnoid::regprocedure::text LIKE 'fingerprint%' ORDER BY 1;

-- Test helper: run a statement that must fail, show its SQLSTATE and messages.
CREATE FUNCTION expect_error(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; msg text; det text;
BEGIN
  EXECUTE stmt;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
  RETURN st || ': ' || msg || coalesce(' / ' || nullif(det, ''), '');
END $$;
