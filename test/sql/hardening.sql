-- Hardening: the accounts being detected write the log, and roles share a
-- pipeline.  Each block is a regression test of a finding against 0.1.0.
\i test/include/prelude.sql
\i test/include/cl_data.sql
SET timezone = 'UTC';
SET max_parallel_workers_per_gather = 0;

-- 1. node ids of the whole bigint range: negative ids cluster like others
SELECT * FROM lockstep_clusters('SELECT -1::bigint, -2::bigint') ORDER BY node;
SELECT * FROM lockstep_clusters($$SELECT (-9223372036854775807 - 1)::bigint, 9223372036854775807::bigint
                                  UNION ALL SELECT 0, -1$$, 0.5, 2) ORDER BY node;
-- a pipeline over hashed ids (the README's recipe for text ids) flags as many
-- accounts as one over the plain ids
CREATE TABLE plain_log AS SELECT * FROM cl_log;
SELECT lockstep_create_pipeline('plain', 'plain_log', 28, NULL, '{"min_size": 5}') IS NOT NULL AS created;
CALL lockstep_refresh('plain', '2026-02-28');
CREATE TABLE neg_log AS
SELECT hashtextextended(account_id::text, 0) AS account_id, ts, prompt, client_ip, user_agent, payment, model,
       tokens_in, tokens_out, org_id
FROM cl_log;
SELECT lockstep_create_pipeline('neg', 'neg_log', 28, NULL, '{"min_size": 5}');
CALL lockstep_refresh('neg', '2026-02-28');
SELECT count(*) AS flagged, count(*) FILTER (WHERE account_id < 0) > 0 AS negative_ids_flagged,
       count(*) = (SELECT count(*) FROM plain_accounts WHERE flagged) AS as_many_as_plain_ids
FROM neg_accounts WHERE flagged;

-- 3. the config holds numbers: a role allowed to UPDATE it runs nothing
CREATE ROLE regress_lockstep_analyst;
CREATE TABLE calls (fn text, by_role text);
GRANT INSERT ON calls TO PUBLIC;
CREATE FUNCTION planted() RETURNS int LANGUAGE sql AS $$ INSERT INTO calls VALUES ('planted', current_user) RETURNING 1 $$;
GRANT SELECT, UPDATE ON neg_config TO regress_lockstep_analyst;
SELECT attname FROM pg_attribute WHERE attrelid = 'neg_config'::regclass AND attnum > 0 AND NOT attisdropped ORDER BY attnum;
SET ROLE regress_lockstep_analyst;
UPDATE neg_config SET settings = '{"min_size": "5) c, planted() x --"}';
SELECT expect_error($$ALTER TABLE neg_config DROP CONSTRAINT pipeline_log$$);
RESET ROLE;
SELECT expect_error($$CALL lockstep_refresh('neg', '2026-02-28')$$);
UPDATE neg_config SET settings = '{"min_size": 5}';

-- 4. look-alike functions in a public schema others may write to never run
CREATE ROLE regress_lockstep_mallory;
GRANT CREATE ON SCHEMA public TO regress_lockstep_mallory;
SET ROLE regress_lockstep_mallory;
CREATE FUNCTION public.ln(integer) RETURNS float8 LANGUAGE sql
	AS $$ INSERT INTO calls VALUES ('ln', current_user); SELECT pg_catalog.ln($1::float8) $$;
CREATE FUNCTION public.generate_series(date, date, interval) RETURNS SETOF timestamptz LANGUAGE sql
	AS $$ INSERT INTO calls VALUES ('generate_series', current_user);
	      SELECT pg_catalog.generate_series($1::timestamptz, $2::timestamptz, $3) $$;
CREATE FUNCTION public.format(text, text) RETURNS text LANGUAGE sql
	AS $$ INSERT INTO calls VALUES ('format', current_user); SELECT pg_catalog.format($1, VARIADIC ARRAY[$2]) $$;
-- (each beats pg_catalog's VARIADIC "any" for a call lockstep makes: the
-- settings' weights, the evidence's families; a function whose
-- search_path were not pinned would run it)
CREATE FUNCTION public.jsonb_build_object(text, jsonb) RETURNS jsonb LANGUAGE sql
	AS $$ INSERT INTO calls VALUES ('jsonb_build_object', current_user);
	      SELECT pg_catalog.jsonb_build_object($1, $2) $$;
CREATE FUNCTION public.jsonb_build_object(text, numeric, text, numeric) RETURNS jsonb LANGUAGE sql
	AS $$ INSERT INTO calls VALUES ('jsonb_build_object', current_user);
	      SELECT pg_catalog.jsonb_build_object($1, $2, $3, $4) $$;
RESET ROLE;
INSERT INTO neg_log SELECT account_id, ts + interval '28 days', prompt, client_ip, user_agent, payment, model,
       tokens_in, tokens_out, org_id FROM neg_log WHERE ts < '2026-01-06';
CALL lockstep_refresh('neg', '2026-02-28');
SELECT count(*) AS scores FROM lockstep_score_clusters('cl', 'cl_fp', 'cl_releases', '{"pivot_hours": 30}');
SELECT lockstep_settings('{"weights": {"size": 0.2}}')->'weights'->'size' AS settings_read;
SELECT count(*) AS planted_calls FROM calls;
SELECT fn AS planted, count(*) FROM calls GROUP BY 1 ORDER BY 1;
DROP FUNCTION public.ln(integer), public.generate_series(date, date, interval), public.format(text, text),
	public.jsonb_build_object(text, jsonb), public.jsonb_build_object(text, numeric, text, numeric);
REVOKE CREATE ON SCHEMA public FROM regress_lockstep_mallory;
REVOKE ALL ON neg_config FROM regress_lockstep_analyst;
DROP ROLE regress_lockstep_mallory, regress_lockstep_analyst;

-- 6. and 8. bad rows and late rows: rows without an account are skipped
-- and counted; a row from 1970 does not make the first refresh walk
-- 20,000 days; the rest of a half-stored day is folded in later
CREATE TABLE bad_log AS SELECT * FROM cl_log WHERE ts < '2026-01-11 12:00';
INSERT INTO bad_log (account_id, ts, prompt) VALUES
	(NULL, '2026-01-06 10:00Z', 'no account'), (NULL, '2026-01-07 10:00Z', 'no account'),
	(42, '1970-01-01 00:00Z', 'from 1970');
SELECT lockstep_create_pipeline('bad', 'bad_log', 28, NULL, '{"min_size": 5, "backfill_days": 30}');
CALL lockstep_refresh('bad', '2026-01-11');
SELECT first_day, last_day, days_added, days_recomputed, rows_skipped, rows_before_range FROM bad_refreshes;
INSERT INTO bad_log SELECT * FROM cl_log WHERE ts >= '2026-01-11 12:00' AND ts < '2026-01-13';
CALL lockstep_refresh('bad', '2026-01-12');
SELECT first_day, last_day, days_added, days_recomputed, rows_skipped, rows_before_range
FROM bad_refreshes ORDER BY started_at OFFSET 1;
-- the recomputed day is the whole day's aggregate
SELECT count(*) AS accounts, count(*) FILTER (WHERE d.fp::text <> x.fp::text) AS differ
FROM bad_daily d
JOIN (SELECT account_id, fingerprint_agg(ts, prompt, client_ip, user_agent, payment, model, tokens_in, tokens_out) AS fp
      FROM bad_log WHERE ts >= '2026-01-11' AND ts < '2026-01-12' AND account_id IS NOT NULL GROUP BY 1) x
  USING (account_id)
WHERE d.day = '2026-01-11';
SELECT day, rows, skipped FROM bad_days ORDER BY day;

-- 7. model names past 23 bytes: the pivot joins on the whole name
CREATE TABLE long_names AS
SELECT model, model || '-2026-01-23-extended-preview-build' AS long_model FROM lockstep_synth_releases();
CREATE TABLE long_releases AS
SELECT n.long_model AS model, r.released_at FROM lockstep_synth_releases() r JOIN long_names n USING (model);
CREATE TABLE long_fp AS
SELECT account_id, max(org_id) AS org_id,
       fingerprint_agg(ts, prompt, client_ip, user_agent, payment, coalesce(n.long_model, l.model), tokens_in, tokens_out) AS fp
FROM cl_log l LEFT JOIN long_names n USING (model) GROUP BY account_id;
SELECT model, model_hash = lockstep_model_hash('frontier-2-2026-01-23-extended-preview-build') AS whole_name_hash
FROM fingerprint_models((SELECT fp FROM long_fp WHERE account_id = (SELECT min(account_id) FROM cl JOIN cl_labels USING (account_id) WHERE campaign = 'C')))
WHERE model LIKE 'frontier-2%';
SELECT bool_and(abs((SELECT (x->>'value')::float8 FROM jsonb_array_elements(l.evidence->'signals') x WHERE x->>'signal' = 'pivot')
                  - (SELECT (x->>'value')::float8 FROM jsonb_array_elements(s.evidence->'signals') x WHERE x->>'signal' = 'pivot')) < 1e-9)
         AS same_pivot,
       max((SELECT (x->>'value')::float8 FROM jsonb_array_elements(l.evidence->'signals') x WHERE x->>'signal' = 'pivot')) > 0.5
         AS campaigns_pivot
FROM lockstep_score_clusters('cl', 'long_fp', 'long_releases') l JOIN cl_scores s USING (cluster);

-- 9. the type takes only what the aggregate can make: forged wire forms
-- of one real fingerprint (offsets of the big-endian form, format.c)
CREATE TABLE one AS
SELECT fingerprint_send(fingerprint_agg(ts, prompt, client_ip, user_agent, payment, model, tokens_in, tokens_out)) AS b
FROM cl_log WHERE account_id = (SELECT min(account_id) FROM cl_log);
CREATE FUNCTION forged(b bytea) RETURNS text LANGUAGE sql
	AS $$ SELECT expect_error(format('SELECT %L::fingerprint', translate(encode(b, 'base64'), E'\n', ''))) $$;
CREATE FUNCTION u64at(b bytea, off int) RETURNS bigint LANGUAGE sql
	AS $$ SELECT ('x' || encode(substring(b FROM off + 1 FOR 8), 'hex'))::bit(64)::bigint $$;
CREATE FUNCTION u32at(b bytea, off int) RETURNS int LANGUAGE sql
	AS $$ SELECT ('x' || encode(substring(b FROM off + 1 FOR 4), 'hex'))::bit(32)::int $$;
SELECT forged(b) AS unchanged FROM one;
-- first_seen (offset 128) infinite; last_seen (136) past the end of timestamps
SELECT forged(overlay(b PLACING int8send(9223372036854775807) FROM 129 FOR 8)) AS infinite_first_seen FROM one;
SELECT forged(overlay(b PLACING int8send(9223372036854775792) FROM 137 FOR 8)) AS last_seen_out_of_range FROM one;
-- the requests of the first request's hour bin (hours at 144) moved to the next bin
SELECT forged(overlay(overlay(b PLACING int4send(0) FROM 145 + 4 * h FOR 4)
                      PLACING int4send(u32at(b, 144 + 4 * h) + u32at(b, 144 + 4 * ((h + 1) % 168)))
                      FROM 145 + 4 * ((h + 1) % 168) FOR 4)) AS first_hour_bin_empty
FROM one, LATERAL (SELECT (((u64at(b, 128) / 3600000000) % 168 + 168 + 120) % 168)::int AS h) x;
-- the key stream (32) one over twice the keyed prompts (24): 0.1.0 took it,
-- and fingerprint_merge(x, x) then made a value it refused
SELECT forged(overlay(b PLACING int8send(2 * u64at(b, 24) + 1) FROM 33 FOR 8)) AS key_stream_odd FROM one;
-- a model without a first-seen time although every request is timed (one
-- model "m1" last: its first_seen 19 bytes from the end)
SELECT forged(overlay(b PLACING int8send(9223372036854775807) FROM length(b) - 18 FOR 8)) AS untimed_model
FROM (SELECT fingerprint_send(fingerprint_agg(now(), 'x', NULL, NULL, NULL, 'm1')) AS b) m;
-- every value the aggregate makes loads, merged with itself too
SELECT count(*) AS accounts,
       count(*) FILTER (WHERE fp::text::fingerprint::text = fp::text
                          AND fingerprint_merge(fp, fp)::text::fingerprint::text = fingerprint_merge(fp, fp)::text) AS load
FROM cl_fp;

-- and so do values of any time span anywhere in the timestamp range, merged too
SELECT setseed(0.42);
CREATE TABLE wild AS
SELECT g % 60 AS a,
       CASE WHEN g % 3 = 0 THEN timestamptz '4713-01-01 00:00Z BC' + random() * interval '290000 years'
            ELSE timestamptz '2026-03-01 00:00Z' + (g % 60) * interval '13 hours'
                 + random() * (g % 60 + 1) * interval '3 hours' END AS ts
FROM generate_series(1, 6000) g;
CREATE TABLE wild_fp AS SELECT a, fingerprint_agg(ts, 'prompt ' || a) AS fp FROM wild GROUP BY a;
SELECT count(*) AS pairs,
       count(*) FILTER (WHERE x.fp::text::fingerprint::text = x.fp::text
                          AND fingerprint_merge(x.fp, y.fp)::text::fingerprint::text = fingerprint_merge(x.fp, y.fp)::text) AS load
FROM wild_fp x JOIN wild_fp y ON y.a = (x.a + 7) % 60;

-- 10. smaller findings
-- times before 1 AD print in a form that casts back
SELECT (fingerprint_summary(fingerprint_agg(ts, 'x'))->'timing'->>'first_seen')::timestamptz = ts AS bc_casts_back
FROM (VALUES (timestamptz '4000-06-01 12:30Z BC')) v(ts) GROUP BY ts;
-- an IPv4 address and its IPv4-mapped IPv6 form are one network
SELECT fingerprint_infrastructure_similarity(
         fingerprint_agg(now(), 'x', '10.1.2.3', 'ua', 'card'),
         (SELECT fingerprint_agg(now(), 'x', '::ffff:10.1.2.3', 'ua', 'card'))) AS mapped_same
FROM (VALUES (1)) v;
-- model names are stored as ASCII: the value loads into a database of any encoding
SELECT m.model, m.model_hash = lockstep_model_hash('modèle-éçà') AS whole_name_hash,
       fp::text::fingerprint::text = fp::text AS loads
FROM (SELECT fingerprint_agg(now(), 'x', NULL, NULL, NULL, 'modèle-éçà') AS fp) f, fingerprint_models(f.fp) m;
-- settings are checked against their ranges; a fractional pivot window works
SELECT (lockstep_settings('{"pivot_hours": 1.5}')->>'pivot_hours')::float8 AS pivot_hours;
SELECT count(*) AS scored FROM lockstep_score_clusters('cl', 'cl_fp', NULL, '{"pivot_hours": 1.5}');
SELECT expect_error($$SELECT lockstep_settings('{"sample_pairs": 0}')$$);
SELECT expect_error($$SELECT lockstep_settings('{"threshold": 7}')$$);
SELECT expect_error($$SELECT lockstep_settings('{"min_size": 2.5}')$$);
SELECT expect_error($$SELECT lockstep_settings('{"core_threshold": 0.4, "threshold": 0.5}')$$);
-- a time zone whose DST starts at midnight (Havana, 2026-03-08) loses no day of a catch-up
CREATE TABLE dst_log AS
SELECT a AS account_id, timestamptz '2026-03-05 00:00Z' + h * interval '6 hours' AS ts, 'prompt ' || h AS prompt
FROM generate_series(1, 3) a, generate_series(0, 27) h;
SET timezone = 'America/Havana';
SELECT lockstep_create_pipeline('dst', 'dst_log', 28, NULL, '{"min_size": 1}');
CALL lockstep_refresh('dst', '2026-03-10');
SET timezone = 'UTC';
SELECT count(*) AS days, min(day), max(day) FROM dst_days;
-- a log that ended long before through is read whole: backfill_days counts
-- back from its newest complete day, not from through
SELECT lockstep_create_pipeline('late_start', 'dst_log', 28, NULL, '{"min_size": 1, "backfill_days": 30}');
CALL lockstep_refresh('late_start', '2026-12-31');
SELECT count(*) AS days, min(day), max(day) FROM late_start_days;
-- weights near the largest double give the same similarity as equal small ones
SELECT bool_and(fingerprint_similarity(x.fp, y.fp, '{1e308,1e308,1e308,1e308,1e308,1e308}')
                = fingerprint_similarity(x.fp, y.fp, '{1,1,1,1,1,1}')) AS huge_weights, count(*) > 100 AS many
FROM (SELECT fp, row_number() OVER (ORDER BY account_id) AS r FROM cl_fp) x
JOIN (SELECT fp, row_number() OVER (ORDER BY account_id) AS r FROM cl_fp) y ON y.r BETWEEN x.r + 1 AND x.r + 5;

SELECT lockstep_drop_pipeline('neg');
SELECT lockstep_drop_pipeline('bad');
SELECT lockstep_drop_pipeline('dst');
SELECT lockstep_drop_pipeline('late_start');

-- The log's owner must not run code as whoever refreshes (0.3.0 read every
-- column with a cast written in the query: a column of the owner's type,
-- with the owner's cast, ran the owner's function as the refreshing role,
-- a superuser in docs/scaling.md's example).  The refresh refuses such a
-- column before reading anything, and the function never runs: its
-- sequence, which no rollback resets, stays at 0.
CREATE SEQUENCE owner_calls;
CREATE TYPE owner_org AS ENUM ('acme');
CREATE FUNCTION owner_org_to_bigint(owner_org) RETURNS bigint
	LANGUAGE sql AS $$ SELECT nextval('public.owner_calls') $$;
CREATE CAST (owner_org AS bigint) WITH FUNCTION owner_org_to_bigint(owner_org);
CREATE TABLE cast_log (account_id bigint, ts timestamptz, prompt text, org_id bigint);
INSERT INTO cast_log SELECT a, '2026-03-01 12:00Z', 'hello', 1 FROM generate_series(1, 20) a;
SELECT lockstep_create_pipeline('cast_trap', 'cast_log', 28, NULL, '{"min_size": 1}') IS NOT NULL AS created;
ALTER TABLE cast_log ALTER COLUMN org_id TYPE owner_org USING 'acme';
SELECT expect_error($$CALL lockstep_refresh('cast_trap', '2026-03-10')$$);
SELECT expect_error($$SELECT lockstep_create_pipeline('cast_trap2', 'cast_log')$$);
SELECT last_value AS owner_function_calls, is_called FROM owner_calls;
-- a domain over a built-in type reads as its base type
ALTER TABLE cast_log ALTER COLUMN org_id TYPE bigint USING 7;
CREATE DOMAIN org_number AS bigint CHECK (VALUE > 0);
ALTER TABLE cast_log ALTER COLUMN org_id TYPE org_number;
CALL lockstep_refresh('cast_trap', '2026-03-10');
SELECT count(*) AS daily, min(org_id) AS org FROM cast_trap_daily;
SELECT lockstep_drop_pipeline('cast_trap');
-- Settings out of range are refused before any work, with 22023 and a
-- short message (0.3.0: window_days 2147483647 failed with 22008 after the
-- daily stage, flag_at 1e400 with 22003 and all 400 digits)
SELECT expect_error($$SELECT lockstep_settings('{"flag_at": 1e400}')$$);
SELECT expect_error($$SELECT lockstep_settings('{"weights": {"size": 1e400}}')$$);
SELECT expect_error($$SELECT lockstep_create_pipeline('huge', 'cast_log', 2147483647)$$);
SELECT lockstep_create_pipeline('huge', 'cast_log', 28, NULL, '{"min_size": 1}') IS NOT NULL AS created;
UPDATE huge_config SET window_days = 2147483647;
SELECT expect_error($$CALL lockstep_refresh('huge', '2026-03-10')$$);
SELECT count(*) AS days_stored FROM huge_days;
SELECT lockstep_drop_pipeline('huge');
-- A release table of the owner's is read as the log is; a release at
-- infinity is no time to pivot after and is left out
CREATE TABLE inf_releases AS SELECT * FROM lockstep_synth_releases();
INSERT INTO inf_releases VALUES ('frontier-1', 'infinity'), ('frontier-9', '-infinity');
SELECT count(*) AS scored, bool_and(evidence->'released_models' = '["frontier-1", "frontier-1-mini", "frontier-2"]') AS finite_only
FROM lockstep_score_clusters('cl', 'cl_fp', 'inf_releases');
CREATE TABLE typed_releases (model owner_org, released_at timestamptz);
SELECT expect_error($$SELECT * FROM lockstep_score_clusters('cl', 'cl_fp', 'typed_releases')$$);
-- One row in 4713 BC and no complete day after it: the refresh jumps over
-- the empty days to the next one that has rows (0.3.0 failed on this log
-- with "date out of range"; the red team's, with more rows, made it walk
-- 2.46M days, 263 s a refresh: the timeout would make that an error here)
CREATE TABLE ancient_log (account_id bigint, ts timestamptz, prompt text);
INSERT INTO ancient_log VALUES (1, '4713-01-01 12:00:00+00 BC', 'hello'), (2, '2026-03-11 12:00Z', 'hi');
SELECT lockstep_create_pipeline('ancient', 'ancient_log', 28, NULL, '{"min_size": 1}') IS NOT NULL AS created;
SET statement_timeout = '30s';
CALL lockstep_refresh('ancient', '2026-03-10');
CALL lockstep_refresh('ancient', '2026-03-10');
RESET statement_timeout;
SELECT count(*) AS days, min(day) FROM ancient_days;
SELECT lockstep_drop_pipeline('ancient');
-- A counter past the largest bigint, in a crafted fingerprint or a shard's,
-- is refused (0.3.0 read a request count of 2^63 back as negative, and a
-- campaign scored 2.238); merging past it stops; a score stays in [0, 1]
-- whatever valid fingerprints it reads
CREATE TABLE crafted AS
SELECT account_id, w, replace(encode(overlay(w PLACING '\x8000000000000000'::bytea FROM 9 FOR 8), 'base64'), E'\n', '') AS past,
       replace(encode(overlay(w PLACING '\x4000000000000000'::bytea FROM 9 FOR 8), 'base64'), E'\n', '') AS big
FROM (SELECT account_id, fingerprint_send(fp) AS w FROM cl_fp ORDER BY account_id LIMIT 12) f;
SELECT expect_error(format('SELECT %L::fingerprint', past)) FROM crafted LIMIT 1;
SELECT (fingerprint_stats(big::fingerprint)).requests AS big_requests FROM crafted LIMIT 1;
SELECT expect_error(format('SELECT fingerprint_merge(%L::fingerprint, %L::fingerprint)', big, big)) FROM crafted LIMIT 1;
CREATE TABLE crafted_fp AS
SELECT account_id, NULL::bigint AS org_id,
       CASE WHEN account_id = (SELECT min(account_id) FROM crafted) THEN big
            ELSE replace(encode(w, 'base64'), E'\n', '') END::fingerprint AS fp
FROM crafted;
CREATE TABLE crafted_cl AS SELECT account_id, 1 AS cluster FROM crafted;
SELECT bool_and(score BETWEEN 0 AND 1) AS score_in_range,
       bool_and((SELECT bool_and((x->>'value')::float8 BETWEEN 0 AND 1) FROM jsonb_array_elements(evidence->'signals') x))
         AS signals_in_range
FROM lockstep_score_clusters('crafted_cl', 'crafted_fp');
-- A flood of one-row accounts (each its own prompt, address and card) is
-- left out of the clustering and reported, and the campaigns are still
-- found within a memory limit that the flood alone would pass (0.3.0
-- clustered every account: past the limit, every refresh failed)
CREATE TABLE flood_log AS
SELECT account_id, ts, prompt, client_ip, user_agent, payment, model, tokens_in, tokens_out FROM cl_log
UNION ALL
SELECT 3000000000 + g, timestamptz '2026-01-05' + g * interval '97 seconds', 'question ' || md5(g::text),
       ('10.0.' || g / 256 % 256 || '.' || g % 256)::inet, 'flood/1.0', 'card_' || g, 'frontier-1', 20, 300
FROM generate_series(1, 20000) g;
SELECT lockstep_create_pipeline('flood', 'flood_log', 28, NULL, '{"min_size": 5}') IS NOT NULL AS created;
SET lockstep.pairs_memory_limit = '48MB';
CALL lockstep_refresh('flood', '2026-02-28');
RESET lockstep.pairs_memory_limit;
SELECT count(*) FILTER (WHERE account_id >= 3000000000) AS flood_clustered,
       count(*) FILTER (WHERE flagged) = (SELECT count(*) FROM plain_accounts WHERE flagged) AS campaigns_as_without
FROM flood_accounts;
-- what the flood shares is reported as keys, which lead back to the values
SELECT kind, accounts, thin_accounts,
       kind = 'user_agent' AND key = lockstep_infrastructure_key('user_agent', 'flood/1.0') AS the_agent
FROM lockstep_thin_accounts('flood_window', '{"min_size": 5}', 2);
SELECT count(*) AS rows_behind_the_key FROM flood_log
WHERE lockstep_infrastructure_key('user_agent', user_agent) =
      (SELECT key FROM lockstep_thin_accounts('flood_window', NULL, 1));
SELECT lockstep_drop_pipeline('flood');
-- A failure in the views loses no daily work (0.3.0's refresh was one
-- transaction: the days were rolled back with the views, and every later
-- refresh did the days again and failed the same way): the days stay, the
-- refresh is recorded without finished_at, and the next one finishes
CREATE TABLE views_log AS SELECT * FROM cl_log WHERE ts < '2026-01-10';
SELECT lockstep_create_pipeline('views_fail', 'views_log', 28, NULL, '{"min_size": 5}') IS NOT NULL AS created;
SET lockstep.pairs_memory_limit = 1024;
CALL lockstep_refresh('views_fail', '2026-01-12');
RESET lockstep.pairs_memory_limit;
SELECT count(*) AS days_kept, (SELECT finished_at IS NULL FROM views_fail_refreshes) AS unfinished FROM views_fail_days;
CALL lockstep_refresh('views_fail', '2026-01-12');
SELECT count(*) AS refreshes, count(finished_at) AS finished, sum(days_added) AS days_added FROM views_fail_refreshes;
SELECT count(*) > 0 AS clustered FROM views_fail_clusters;
-- The refresh commits each day when called from the top level (003_cancel
-- cancels one), and cannot in a transaction block: there it is one
-- transaction, as the caller asked.  Either way the caller's search_path
-- is the same after it.
SET search_path = public, pg_catalog;
TRUNCATE views_fail_days, views_fail_daily;
BEGIN;
CALL lockstep_refresh('views_fail', '2026-01-12');
SHOW search_path;
ROLLBACK;
SELECT count(*) AS days_after_rollback FROM views_fail_days;
CALL lockstep_refresh('views_fail', '2026-01-12');
SHOW search_path;
RESET search_path;
SELECT count(*) AS days_after_call FROM views_fail_days;
SELECT lockstep_drop_pipeline('views_fail');
