-- Installation, labels and documentation of every object.
CREATE EXTENSION lockstep;

-- a production install has no test-data generator
SELECT count(*) AS generator_functions FROM pg_proc WHERE proname LIKE 'lockstep\_synth%';
-- which the tests, the demo and the benchmarks install on their own
CREATE EXTENSION lockstep_synth;
SELECT e.extname, count(*) AS functions FROM pg_proc p
JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass AND d.deptype = 'e'
JOIN pg_extension e ON e.oid = d.refobjid
WHERE p.proname LIKE 'lockstep\_synth%' GROUP BY 1;

-- every object of both extensions carries a COMMENT
SELECT e.extname, pg_describe_object(classid, objid, 0) AS undocumented
FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
  AND e.extname IN ('lockstep', 'lockstep_synth')
  AND obj_description(objid, (SELECT relname FROM pg_class WHERE oid = classid)) IS NULL
ORDER BY 1, 2;
-- and there are objects to check
SELECT count(*) > 30 AS many_objects FROM pg_depend
WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e'
  AND refobjid = (SELECT oid FROM pg_extension WHERE extname = 'lockstep');

-- volatility, strictness and parallel labels, as declared
SELECT p.oid::regprocedure::text AS function, provolatile, proisstrict, proparallel
FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'lockstep') AND d.deptype = 'e'
ORDER BY 1;

-- the refresh's stages run without JIT: their work is in C functions,
-- and their plans' costs would have every statement compiled first
SELECT p.oid::regprocedure::text AS without_jit
FROM pg_proc p JOIN pg_depend d ON d.objid = p.oid AND d.classid = 'pg_proc'::regclass
WHERE d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'lockstep') AND d.deptype = 'e'
  AND 'jit=off' = ANY (p.proconfig)
ORDER BY 1;

-- the fingerprint aggregates are parallel-capable (not fingerprint_shared_keys_agg,
-- whose group is a campaign); fingerprint_union_agg keeps fingerprint_agg's state
SELECT aggfnoid::regprocedure::text AS aggregate, aggtranstype::regtype, aggcombinefn <> 0 AS has_combine,
       aggserialfn <> 0 AS has_serial, aggtransspace
FROM pg_aggregate WHERE aggfnoid::regprocedure::text LIKE 'fingerprint%' ORDER BY 1;

-- the test helpers every file includes (test/include/prelude.sql)
\i test/include/prelude.sql
