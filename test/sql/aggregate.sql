-- fingerprint_agg and fingerprint_union_agg: NULLs, errors, overloads,
-- the merge law and parallel plans.
\i test/include/prelude.sql
SET timezone = 'UTC';
SELECT fingerprint_agg(ts, prompt) FROM (SELECT now() AS ts, 'x'::text AS prompt WHERE false) s;
SELECT fingerprint_summary(fingerprint_agg(NULL::timestamptz, NULL::text))->'volume' AS all_null;
SELECT expect_error($$SELECT fingerprint_agg('infinity'::timestamptz, 'x')$$);
SELECT expect_error($$SELECT fingerprint_agg(now(), 'x', NULL, NULL, NULL, NULL, -1, 0)$$);
SELECT expect_error($$SELECT fingerprint_agg(now(), 'x', NULL, NULL, NULL, NULL, 0, -5)$$);

-- the overloads fill the channels they are given
SELECT fingerprint_summary(fingerprint_agg('2026-01-05 10:00+00', 'hello there'))->'infrastructure' AS two_args;
SELECT fingerprint_summary(fingerprint_agg('2026-01-05 10:00+00', 'hello there', '1.2.3.4', 'ua', 'card'))->'infrastructure' AS five_args;
SELECT fingerprint_summary(fingerprint_agg('2026-01-05 10:00+00', 'hello there', '1.2.3.4', 'ua', 'card', 'm1'))->'models' AS six_args;

-- IPv4 addresses in one /24 count once, IPv6 in one /48 count once
SELECT fingerprint_summary(fingerprint_agg(now(), NULL, ip, NULL, NULL))->'infrastructure'->'ip_prefixes'
FROM (VALUES ('10.1.2.3'::inet), ('10.1.2.200'), ('10.1.3.1'), ('2001:db8:5::1'), ('2001:db8:5:ffff::1'), ('2001:db8:6::1')) v(ip);

-- a scaffold used 500 times outweighs 500 unique fill-ins
WITH rows AS (
  SELECT 'You are an expert tutor. Think step by step and show your full reasoning. Question: ' || md5(i::text) AS p
  FROM generate_series(1, 500) i
  UNION ALL
  SELECT md5(i::text) || ' ' || md5((i * 7)::text) || ' unique words here ' || md5((i * 13)::text)
  FROM generate_series(1, 500) i)
SELECT max(count) >= 400 AS scaffold_dominates,
       (SELECT count(*) FROM fingerprint_scaffolds(fingerprint_agg(now(), p)) s WHERE s.count > 5) AS strong_keys
FROM rows, fingerprint_scaffolds((SELECT fingerprint_agg(now(), p) FROM rows));

-- a synthetic log for the laws below
CREATE TABLE log AS SELECT * FROM lockstep_synth_log(20000, 7);
ANALYZE log;

-- merge law: the union of daily fingerprints is the whole period's
-- fingerprint, byte for byte (every part merges exactly)
CREATE TABLE daily AS
SELECT account_id, date_trunc('day', ts, 'UTC') AS day,
       fingerprint_agg(ts, prompt, client_ip, user_agent, payment, model, tokens_in, tokens_out) AS fp
FROM log GROUP BY 1, 2;
CREATE TABLE whole AS
SELECT account_id, fingerprint_agg(ts, prompt, client_ip, user_agent, payment, model, tokens_in, tokens_out) AS fp
FROM log GROUP BY 1;
CREATE TABLE rolled AS
SELECT account_id, fingerprint_union_agg(fp) AS fp FROM daily GROUP BY 1;
SELECT count(*) AS accounts, count(*) FILTER (WHERE w.fp::text = r.fp::text) AS identical
FROM whole w JOIN rolled r USING (account_id);

-- the scaffold-key sample, checked against exact counts computed the slow
-- way: the 48 smallest keys of each account, each with its exact count,
-- directly and rolled up from days
CREATE TABLE exact_keys AS
SELECT account_id, k AS key, count(*) AS n
FROM log, unnest(prompt_scaffold_keys(prompt)) k GROUP BY 1, 2;
CREATE TABLE exact_sample AS
SELECT account_id, key, n FROM (
  SELECT *, row_number() OVER (PARTITION BY account_id ORDER BY key) AS r FROM exact_keys) k
WHERE r <= 48;
CREATE FUNCTION sample_mismatches(fps regclass) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE v bigint;
BEGIN
  EXECUTE format($q$
    SELECT count(*)
    FROM (SELECT f.account_id, s.key, s.count FROM %s f, fingerprint_scaffolds(f.fp) s) s
    FULL JOIN exact_sample e USING (account_id, key)
    WHERE s.count IS DISTINCT FROM e.n $q$, fps) INTO v;
  RETURN v;
END $$;
SELECT sample_mismatches('whole') AS whole_mismatches, sample_mismatches('rolled') AS rolled_mismatches;
-- and the check is not vacuous: some samples are full, so keys were dropped
SELECT count(*) FILTER (WHERE n > 48) > 0 AS some_full
FROM (SELECT account_id, count(*) AS n FROM exact_keys GROUP BY 1) k;

-- counts and histograms are exact against SQL computed the slow way
SELECT count(*) AS mismatches FROM whole w JOIN (
  SELECT account_id, count(*) AS n, count(prompt) AS np, sum(tokens_in) AS tin,
         sum(tokens_out) AS tout, sum(octet_length(prompt)) AS pb,
         min(ts) AS first_seen, max(ts) AS last_seen,
         count(DISTINCT network(set_masklen(client_ip, 24))) AS nets
  FROM log GROUP BY 1) x USING (account_id)
WHERE (fingerprint_summary(w.fp)->'volume'->>'requests')::bigint <> x.n
   OR (fingerprint_summary(w.fp)->'volume'->>'prompts')::bigint <> x.np
   OR (fingerprint_summary(w.fp)->'volume'->>'tokens_in')::bigint <> x.tin
   OR (fingerprint_summary(w.fp)->'volume'->>'tokens_out')::bigint <> x.tout
   OR (fingerprint_summary(w.fp)->'volume'->>'prompt_bytes')::bigint <> x.pb
   OR (fingerprint_summary(w.fp)->'timing'->>'first_seen')::timestamptz <> x.first_seen
   OR (fingerprint_summary(w.fp)->'timing'->>'last_seen')::timestamptz <> x.last_seen
   OR (x.nets < 16 AND (fingerprint_summary(w.fp)->'infrastructure'->>'ip_prefixes')::bigint <> x.nets);
SELECT count(*) AS histogram_mismatches FROM whole w JOIN (
  SELECT a.account_id, array_agg(coalesce(h.n, 0) ORDER BY how) AS hist
  FROM (SELECT DISTINCT account_id FROM log) a CROSS JOIN generate_series(0, 167) how
  LEFT JOIN (SELECT account_id, ((extract(isodow FROM ts AT TIME ZONE 'UTC') - 1) * 24 +
                                 extract(hour FROM ts AT TIME ZONE 'UTC'))::int AS how, count(*) AS n
             FROM log GROUP BY 1, 2) h USING (account_id, how)
  GROUP BY 1) x USING (account_id)
WHERE ARRAY(SELECT jsonb_array_elements_text(fingerprint_summary(w.fp)->'timing'->'hour_of_week_utc')::bigint) <> x.hist;
-- first-seen per model is exact
SELECT count(*) AS model_mismatches FROM whole w
CROSS JOIN LATERAL jsonb_array_elements(fingerprint_summary(w.fp)->'models') m
JOIN (SELECT account_id, model, min(ts) AS first_seen, count(*) AS n FROM log GROUP BY 1, 2) x
  ON x.account_id = w.account_id AND x.model = m->>'model'
WHERE (m->>'first_seen')::timestamptz <> x.first_seen OR (m->>'requests')::bigint <> x.n;

-- a forced parallel plan: Partial Aggregate, and the same answer as serial
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
SET enable_hashagg = off;
SELECT plan_has($$SELECT fingerprint_agg(ts, prompt, client_ip, user_agent, payment, model, tokens_in, tokens_out) FROM log$$,
                'Partial Aggregate') AS partial_aggregate;
CREATE TABLE par AS
SELECT fingerprint_agg(ts, prompt, client_ip, user_agent, payment, model, tokens_in, tokens_out) AS fp FROM log;
RESET ALL;
SET max_parallel_workers_per_gather = 0;
CREATE TABLE ser AS
SELECT fingerprint_agg(ts, prompt, client_ip, user_agent, payment, model, tokens_in, tokens_out) AS fp FROM log;
RESET ALL;
SELECT p.fp::text = s.fp::text AS identical FROM par p, ser s;
-- union_agg in parallel too
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SELECT plan_has('SELECT fingerprint_union_agg(fp) FROM daily', 'Partial Aggregate') AS partial_aggregate;
SELECT fingerprint_summary(fingerprint_union_agg(fp))->'volume' FROM daily;
RESET ALL;

-- fingerprint_payment_keys: the payment keys of
-- fingerprint_infrastructure_keys, in their order, ascending (the first is
-- the smallest, a thin account's card in the scoring): over the accounts,
-- groups of them merged (several cards each) and fingerprints without any
SELECT count(*) AS fingerprints,
       count(*) FILTER (WHERE fingerprint_payment_keys(fp) IS DISTINCT FROM coalesce(
           (SELECT array_agg(i.key) FROM fingerprint_infrastructure_keys(fp) i WHERE i.kind = 'payment'), '{}')) AS differ,
       count(*) FILTER (WHERE (fingerprint_payment_keys(fp))[1] IS DISTINCT FROM
           (SELECT min(i.key) FROM fingerprint_infrastructure_keys(fp) i WHERE i.kind = 'payment')) AS first_not_smallest,
       count(*) FILTER (WHERE cardinality(fingerprint_payment_keys(fp)) > 1) > 0 AS some_with_several,
       count(*) FILTER (WHERE cardinality(fingerprint_payment_keys(fp)) = 0) > 0 AS some_with_none
FROM (SELECT fp FROM whole
      UNION ALL SELECT fingerprint_union_agg(fp) FROM whole GROUP BY account_id % 7
      UNION ALL SELECT fingerprint_agg(ts, prompt) FROM log GROUP BY account_id % 3) f;

-- fingerprint_shared_keys_agg (the desk's N_shared) against the slow
-- way: per group, every key more than one fingerprint holds, ranked in
-- its kind by how many hold it, then by key; the first top of each kind
CREATE TABLE slow_shared AS
SELECT g, kind, row_number() OVER (PARTITION BY g, kind ORDER BY count(*) DESC, key)::integer AS rank,
       key, count(*)::integer AS accounts
FROM (SELECT account_id % 3 AS g, i.kind, i.key FROM whole, fingerprint_infrastructure_keys(fp) i
      UNION ALL
      SELECT account_id % 3, 'scaffold', k.key FROM whole, fingerprint_scaffold_keys(fp) k) x
GROUP BY g, kind, key HAVING count(*) > 1;
CREATE FUNCTION shared_mismatches(top integer) RETURNS bigint LANGUAGE sql AS $$
  SELECT count(*) FROM (
    SELECT g, k.* FROM (SELECT account_id % 3 AS g, fingerprint_shared_keys_agg(fp, top) AS keys
                        FROM whole GROUP BY 1) s, unnest(s.keys) k) a
  FULL JOIN (SELECT * FROM slow_shared WHERE rank <= top) b USING (g, kind, rank, key, accounts)
  WHERE a.g IS NULL OR b.g IS NULL $$;
SELECT shared_mismatches(10) AS top_10, shared_mismatches(1000) AS top_1000;
-- not vacuous: every kind is shared, and ranks run past 10
SELECT kind, count(*) > 0 AS shared, max(rank) > 10 AS past_ten FROM slow_shared GROUP BY 1 ORDER BY 1;
-- a NULL fingerprint adds nothing, no row gives NULL, one fingerprint shares nothing
SELECT (SELECT fingerprint_shared_keys_agg(fp, 10) FROM (SELECT fp FROM whole UNION ALL SELECT NULL) s)
     = (SELECT fingerprint_shared_keys_agg(fp, 10) FROM whole) AS null_skipped,
       (SELECT fingerprint_shared_keys_agg(fp, 10) FROM whole WHERE false) IS NULL AS no_rows,
       (SELECT fingerprint_shared_keys_agg(fp, 10) FROM whole WHERE account_id = (SELECT min(account_id) FROM whole)) AS one;
SELECT expect_error($$SELECT fingerprint_shared_keys_agg(fp, 0) FROM whole$$);
SELECT expect_error($$SELECT fingerprint_shared_keys_agg(fp, NULL) FROM whole$$);
SELECT expect_error($$SELECT fingerprint_shared_keys_agg(fp, 1001) FROM whole$$);
