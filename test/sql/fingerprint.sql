-- The fingerprint type: construction, summary, text and binary forms, errors.
\i test/include/prelude.sql
SET timezone = 'UTC';
CREATE TABLE small_log (account int, ts timestamptz, prompt text, ip inet, ua text,
                        pay text, model text, tin int, tout int);
INSERT INTO small_log VALUES
 (1, '2026-01-05 09:15:00+00', 'Think step by step and grade the response on a scale of 1 to 10: alpha', '10.0.1.5', 'curl/8', 'card-1', 'frontier-1', 10, 200),
 (1, '2026-01-05 09:20:00+00', 'Think step by step and grade the response on a scale of 1 to 10: beta', '10.0.1.9', 'curl/8', 'card-1', 'frontier-1', 12, 210),
 (1, '2026-01-06 22:05:00+00', 'thanks', '2001:db8:1:2::7', 'Mozilla/5.0', 'card-1', 'frontier-2', 1, 3),
 (1, '2026-01-07 00:00:00+00', NULL, NULL, NULL, NULL, NULL, NULL, NULL),
 (2, NULL, 'write a function in python that sorts a list of numbers', '192.168.7.1', 'Mozilla/5.0', 'card-2', 'frontier-1', 9, 90);

CREATE TABLE fps AS
SELECT account, fingerprint_agg(ts, prompt, ip, ua, pay, model, tin, tout) AS fp
FROM small_log GROUP BY account;

SELECT account, jsonb_pretty(fingerprint_summary(fp) - 'content' #- '{timing,hour_of_week_utc}')
FROM fps ORDER BY account;
SELECT account, fingerprint_summary(fp)->'content'->'keyed_prompts' AS keyed,
       fingerprint_summary(fp)->'content'->'short_prompts' AS short,
       (SELECT count(*) FROM fingerprint_scaffolds(fp)) AS keys
FROM fps ORDER BY account;
SELECT account, fingerprint_size(fp) BETWEEN 1000 AND 4096 AS size_ok FROM fps ORDER BY account;
-- the typed numbers scoring reads are the summary's, and the small log's own
SELECT f.account, st.*,
       st.requests = (fingerprint_summary(fp)#>>'{volume,requests}')::bigint
       AND st.prompts = (fingerprint_summary(fp)#>>'{volume,prompts}')::bigint
       AND st.first_seen IS NOT DISTINCT FROM (fingerprint_summary(fp)#>>'{timing,first_seen}')::timestamptz
       AND st.last_seen IS NOT DISTINCT FROM (fingerprint_summary(fp)#>>'{timing,last_seen}')::timestamptz
       AND st.active_buckets = (fingerprint_summary(fp)#>>'{timing,active_15min_buckets}')::float8
       AND st.active_days = (fingerprint_summary(fp)#>>'{timing,active_days}')::float8 AS matches_summary,
       (st.requests, st.first_seen, st.last_seen) IS NOT DISTINCT FROM
       (SELECT (count(*), min(ts), max(ts)) FROM small_log l WHERE l.account = f.account) AS matches_log
FROM fps f, fingerprint_stats(f.fp) st ORDER BY f.account;
SELECT f.account, i.intent, i.count, round(i.rate::numeric, 4) = (fingerprint_summary(fp)->'intents'->i.intent->>'rate')::numeric AS same_rate
FROM fps f, fingerprint_intents(f.fp) i WHERE i.count > 0 ORDER BY 1, 2;
SELECT count(*) AS intents FROM fingerprint_intents((SELECT fp FROM fps LIMIT 1));
-- no timestamps: first and last seen are NULL
SELECT st.* FROM (SELECT fingerprint_agg(NULL::timestamptz, 'x') AS fp) f, fingerprint_stats(f.fp) st;

-- text round trip is lossless and canonical
SELECT account, fp::text::fingerprint::text = fp::text AS text_roundtrip FROM fps ORDER BY account;
-- the binary form is the base64-decoded text form
SELECT account, fingerprint_send(fp) = decode(fp::text, 'base64') AS send_is_wire FROM fps ORDER BY account;

-- a helper that re-encodes mutated wire bytes as text input
CREATE FUNCTION wire_text(b bytea) RETURNS text LANGUAGE sql IMMUTABLE
AS $$ SELECT translate(encode(b, 'base64'), E'\n', '') $$;
CREATE TABLE wire AS SELECT fingerprint_send(fp) AS b FROM fps WHERE account = 1;

-- malformed input: each is rejected with a clear message
SELECT expect_error($$SELECT ''::fingerprint$$);
SELECT expect_error($$SELECT 'not base64!'::fingerprint$$);
SELECT expect_error($$SELECT 'AAAA'::fingerprint$$);
SELECT expect_error($$SELECT repeat('A', 10000)::fingerprint$$);
-- base64 variants that decode to the same bytes are not canonical
SELECT expect_error($$SELECT (SELECT ' ' || wire_text(b) FROM wire)::fingerprint$$);
SELECT expect_error($$SELECT (SELECT encode(b, 'base64') FROM wire)::fingerprint$$);
-- wrong version: a later one, and version 1 (lockstep before 0.3.0)
SELECT expect_error($$SELECT wire_text(set_byte(b, 0, 3))::fingerprint FROM wire$$);
SELECT expect_error($$SELECT wire_text(set_byte(b, 0, 1))::fingerprint FROM wire$$);
-- a sketch length over its capacity
SELECT expect_error($$SELECT wire_text(set_byte(b, 1, 200))::fingerprint FROM wire$$);
-- more active days than the day sketch holds
SELECT expect_error($$SELECT wire_text(set_byte(b, 7, 33))::fingerprint FROM wire$$);
-- truncated, and trailing bytes
SELECT expect_error($$SELECT wire_text(substring(b FROM 1 FOR length(b) - 3))::fingerprint FROM wire$$);
SELECT expect_error($$SELECT wire_text(substring(b FROM 1 FOR 100))::fingerprint FROM wire$$);
SELECT expect_error($$SELECT wire_text(b || '\x00'::bytea)::fingerprint FROM wire$$);
-- request counters that contradict each other (n_prompts > n_requests)
SELECT expect_error($$SELECT wire_text(set_byte(b, 16, 255))::fingerprint FROM wire$$);
-- hour-of-week histogram that does not sum to the timed requests
SELECT expect_error($$SELECT wire_text(set_byte(b, 8 + 15 * 8 + 16 + 3, 9))::fingerprint FROM wire$$);
-- an infrastructure sketch out of order
SELECT expect_error($$SELECT wire_text(set_byte(b, 8 + 15 * 8 + 16 + 168 * 4, 255))::fingerprint FROM wire$$);
-- random bytes of a plausible length
SELECT expect_error($$SELECT wire_text(decode(repeat('01', 1200), 'hex'))::fingerprint$$);

-- merging
SELECT fingerprint_summary(fingerprint_merge(a.fp, b.fp))->'volume'
FROM fps a, fps b WHERE a.account = 1 AND b.account = 2;
SELECT fingerprint_merge(fp, NULL) IS NULL AS strict FROM fps WHERE account = 1;
-- merging is commutative
SELECT fingerprint_merge(a.fp, b.fp)::text = fingerprint_merge(b.fp, a.fp)::text AS commutative
FROM fps a, fps b WHERE a.account = 1 AND b.account = 2;

-- co-activity: identical sets give 1, disjoint sets 0
SELECT fingerprint_coactivity_similarity(a.fp, a.fp) AS self, fingerprint_coactivity_similarity(a.fp, b.fp) AS disjoint
FROM fps a, fps b WHERE a.account = 1 AND b.account = 2;

-- values survive storage, dump format and indexes on text
CREATE TABLE fp_copy AS SELECT account, fp::text::fingerprint AS fp FROM fps;
SELECT count(*) FROM fps JOIN fp_copy USING (account) WHERE fps.fp::text = fp_copy.fp::text;
