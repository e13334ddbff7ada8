\set ECHO none
-- What every regression file needs, so that each runs alone
-- (make installcheck REGRESS=cluster) or after the others: the two
-- extensions and the test helpers.  Idempotent.  Included with
-- \i test/include/prelude.sql (pg_regress runs psql from the top directory).
SET client_min_messages = warning;
CREATE EXTENSION IF NOT EXISTS lockstep;
CREATE EXTENSION IF NOT EXISTS lockstep_synth;
RESET client_min_messages;

-- run a statement that must fail, show its SQLSTATE and messages
CREATE OR REPLACE FUNCTION expect_error(stmt text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE st text; msg text; det text;
BEGIN
  EXECUTE stmt;
  RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
  GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
  RETURN st || ': ' || msg || coalesce(' / ' || nullif(det, ''), '');
END $$;

-- does the plan of a query have a node of this kind?  (The whole plan
-- text changes between minor versions; its node kinds do not.)
CREATE OR REPLACE FUNCTION plan_has(query text, node text) RETURNS boolean LANGUAGE plpgsql AS $$
DECLARE line text;
BEGIN
  FOR line IN EXECUTE 'EXPLAIN (COSTS OFF) ' || query LOOP
    IF line LIKE '%' || node || '%' THEN RETURN true; END IF;
  END LOOP;
  RETURN false;
END $$;
\set ECHO all
