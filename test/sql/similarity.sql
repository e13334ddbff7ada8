-- Similarity, the % and <-> operators, LSH keys, the GIN operator class.
\i test/include/prelude.sql
SET timezone = 'UTC';
-- every operator class of the extension passes amvalidate
SELECT opcname, amvalidate(oid) FROM pg_opclass WHERE opcname = 'fingerprint_lsh_ops';

CREATE TABLE sim_log AS SELECT * FROM lockstep_synth_log(60000, 5);
CREATE TABLE sim_fp AS
SELECT l.account_id, coalesce(a.campaign, a.kind) AS pop,
       fingerprint_agg(ts, prompt, client_ip, user_agent, payment, model, tokens_in, tokens_out) AS fp
FROM sim_log l JOIN lockstep_synth_accounts(60000, 5) a USING (account_id)
GROUP BY 1, 2 HAVING count(*) >= 5;

-- range, symmetry and self-similarity over many pairs
CREATE TABLE sim_pairs AS
SELECT x.account_id AS a, y.account_id AS b, x.pop AS pa, y.pop AS pb,
       fingerprint_similarity(x.fp, y.fp) AS s, fingerprint_similarity(y.fp, x.fp) AS s_rev
FROM (SELECT *, row_number() OVER (ORDER BY account_id) r FROM sim_fp) x
JOIN (SELECT *, row_number() OVER (ORDER BY account_id) r FROM sim_fp) y ON y.r BETWEEN x.r + 1 AND x.r + 40;
SELECT count(*) > 1000 AS many, min(s) >= 0 AS ge0, max(s) <= 1 AS le1,
       bool_and(s = s_rev) AS symmetric FROM sim_pairs;
SELECT bool_and(fingerprint_similarity(fp, fp) = 1) AS self_one,
       bool_and(fp <-> fp = 0) AS self_distance_zero,
       bool_and(fingerprint_similarity(fp, fp::text::fingerprint) = 1) AS copy_one
FROM sim_fp;
-- every channel function is symmetric and in [0, 1] or NULL
SELECT bool_and(coalesce(fingerprint_content_similarity(x.fp, y.fp) = fingerprint_content_similarity(y.fp, x.fp), true)
            AND coalesce(fingerprint_intents_similarity(x.fp, y.fp) = fingerprint_intents_similarity(y.fp, x.fp), true)
            AND coalesce(fingerprint_infrastructure_similarity(x.fp, y.fp) = fingerprint_infrastructure_similarity(y.fp, x.fp), true)
            AND coalesce(fingerprint_coactivity_similarity(x.fp, y.fp) = fingerprint_coactivity_similarity(y.fp, x.fp), true)
            AND coalesce(fingerprint_hours_similarity(x.fp, y.fp) = fingerprint_hours_similarity(y.fp, x.fp), true)
            AND coalesce(fingerprint_models_similarity(x.fp, y.fp) = fingerprint_models_similarity(y.fp, x.fp), true)) AS channels_symmetric,
       bool_and(greatest(fingerprint_content_similarity(x.fp, y.fp), fingerprint_intents_similarity(x.fp, y.fp),
                         fingerprint_infrastructure_similarity(x.fp, y.fp), fingerprint_coactivity_similarity(x.fp, y.fp),
                         fingerprint_hours_similarity(x.fp, y.fp), fingerprint_models_similarity(x.fp, y.fp)) <= 1
            AND least(fingerprint_content_similarity(x.fp, y.fp), fingerprint_intents_similarity(x.fp, y.fp),
                      fingerprint_infrastructure_similarity(x.fp, y.fp), fingerprint_coactivity_similarity(x.fp, y.fp),
                      fingerprint_hours_similarity(x.fp, y.fp), fingerprint_models_similarity(x.fp, y.fp)) >= 0) AS channels_in_range
FROM sim_pairs p JOIN sim_fp x ON x.account_id = p.a JOIN sim_fp y ON y.account_id = p.b;

-- fingerprint_similarity_parts gives what each function gives, to the bit
-- (work and operator: detail's, before its rounding), over the pairs and
-- each fingerprint with itself (an identical pair is 1 without its channels)
SELECT count(*) AS pairs,
       count(*) FILTER (WHERE NOT (
           p.similarity = fingerprint_similarity(x.fp, y.fp)
           AND p.content IS NOT DISTINCT FROM fingerprint_content_similarity(x.fp, y.fp)
           AND p.intents IS NOT DISTINCT FROM fingerprint_intents_similarity(x.fp, y.fp)
           AND p.infrastructure IS NOT DISTINCT FROM fingerprint_infrastructure_similarity(x.fp, y.fp)
           AND p.coactivity IS NOT DISTINCT FROM fingerprint_coactivity_similarity(x.fp, y.fp)
           AND p.hours IS NOT DISTINCT FROM fingerprint_hours_similarity(x.fp, y.fp)
           AND p.models IS NOT DISTINCT FROM fingerprint_models_similarity(x.fp, y.fp)
           AND p.calendar IS NOT DISTINCT FROM fingerprint_calendar_similarity(x.fp, y.fp)
           AND (p.work IS NULL) = (d->'work' = 'null') AND (p.operator IS NULL) = (d->'operator' = 'null')
           AND coalesce(abs(p.work - (d->>'work')::float8) <= 0.00005, true)
           AND coalesce(abs(p.operator - (d->>'operator')::float8) <= 0.00005, true))) AS differ,
       count(*) FILTER (WHERE p.work IS NULL OR p.operator IS NULL) > 0 AS some_family_undefined,
       count(*) FILTER (WHERE p.coactivity IS NULL) > 0 AS some_channel_undefined
FROM (SELECT a, b FROM sim_pairs UNION ALL SELECT account_id, account_id FROM sim_fp) q
JOIN sim_fp x ON x.account_id = q.a JOIN sim_fp y ON y.account_id = q.b,
     LATERAL fingerprint_similarity_parts(x.fp, y.fp) p, LATERAL fingerprint_similarity_detail(x.fp, y.fp) d;
-- accounts of one campaign are similar; strangers are not
SELECT CASE WHEN pa = pb AND pa IN ('A', 'B', 'C') THEN 'same campaign'
            WHEN pa = 'user' AND pb = 'user' THEN 'two users'
            ELSE 'other' END AS kind_of_pair,
       avg(s) > 0.5 AS avg_above_half, avg(s) < 0.2 AS avg_below_fifth
FROM sim_pairs GROUP BY 1 ORDER BY 1;
SELECT (SELECT min(s) FROM sim_pairs WHERE pa = pb AND pa IN ('B', 'C')) >
       (SELECT percentile_cont(0.99) WITHIN GROUP (ORDER BY s) FROM sim_pairs WHERE pa = 'user' AND pb = 'user')
       AS campaigns_above_users;

-- ubiquitous prompts and a popular browser do not make strangers similar
CREATE TABLE strangers AS
SELECT acct, fingerprint_agg(ts, p, ip, 'Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/131.0', 'card-' || acct) AS fp
FROM (SELECT acct, timestamptz '2026-01-05' + (acct * 7 + i * 131 || ' minutes')::interval AS ts,
             (ARRAY['continue', 'thanks!', 'ok', 'go on'])[1 + i % 4] AS p,
             ('10.' || acct || '.' || (i % 3) || '.9')::inet AS ip
      FROM generate_series(1, 2) acct, generate_series(1, 60) i) s
GROUP BY acct;
SELECT round(fingerprint_similarity(a.fp, b.fp)::numeric, 2) AS strangers_similarity,
       fingerprint_similarity_detail(a.fp, b.fp) AS detail
FROM strangers a, strangers b WHERE a.acct = 1 AND b.acct = 2;

-- the combination: the geometric mean of the work and the operator, 0
-- where either is unknown; the detail gives the same value
SELECT bool_and(abs((d->>'similarity')::float8 - fingerprint_similarity(x.fp, y.fp)) < 1e-4) AS detail_agrees,
       bool_and(abs((d->>'similarity')::float8 ^ 2 -
                    coalesce((d->>'work')::float8 * (d->>'operator')::float8, 0)) < 1e-3) AS geometric_mean,
       bool_and(d->>'operator' IS NULL OR abs((d->>'operator')::float8 -
                greatest((d->>'infrastructure')::float8, (d->>'coactivity')::float8, (d->>'calendar')::float8)) < 1e-3)
         AS operator_is_strongest,
       count(*) FILTER (WHERE d->>'work' IS NOT NULL AND d->>'operator' IS NOT NULL) > 100 AS both_defined_often
FROM (SELECT x.fp, y.fp AS yfp, fingerprint_similarity_detail(x.fp, y.fp) AS d
      FROM sim_fp x JOIN sim_fp y ON y.account_id > x.account_id
      WHERE hashint8(x.account_id + y.account_id) % 50 = 0) x(fp, yfp, d), LATERAL (SELECT x.yfp AS fp) y;
-- the same work without the same operator is not similar: two accounts
-- that ask the same things on days and at minutes and from networks of
-- their own score 0 (the users of one popular template)
CREATE TABLE template_users AS
SELECT acct, fingerprint_agg(ts, 'Write a function in Python that parses the log file number ' || (i % 5),
                             ('10.' || acct || '.0.1')::inet, 'ua-' || acct, 'card-' || acct) AS fp
FROM (SELECT acct, i, timestamptz '2026-01-05' + ((acct * 14 + i % 7) || ' days')::interval
             + (i || ' minutes')::interval AS ts
      FROM generate_series(1, 2) acct, generate_series(1, 40) i) s
GROUP BY acct;
SELECT d->>'work' AS work, d->>'operator' AS operator, fingerprint_similarity(a.fp, b.fp) AS similarity
FROM template_users a, template_users b, LATERAL fingerprint_similarity_detail(a.fp, b.fp) d
WHERE a.acct = 1 AND b.acct = 2;

-- co-activity counts only beyond each account's own rhythm: two accounts
-- busy through the same two days (the users of one app after a release)
-- share half their 15-minute buckets, about as many as their rhythms
-- predict; two that share job windows moving from day to day share them
-- far beyond chance
CREATE TABLE rhythm AS
SELECT acct, kind, fingerprint_agg(ts, NULL, NULL, NULL, NULL) AS fp
FROM (SELECT acct, 'busy' AS kind, timestamptz '2026-01-28 00:00+00' + (b * 15 || ' minutes')::interval AS ts
      FROM generate_series(1, 2) acct, generate_series(0, 191) b
      WHERE hashint4(b * 7 + acct) % 3 <> 0
      UNION ALL
      SELECT acct, 'windows', timestamptz '2026-01-05 00:00+00' + (d || ' days')::interval
             + (abs(hashint4(d)) % 24 || ' hours')::interval + (m * 15 || ' minutes')::interval
      FROM generate_series(3, 4) acct, generate_series(0, 27) d, generate_series(0, 1) m) s
GROUP BY acct, kind;
SELECT a.kind, round(fingerprint_coactivity_similarity(a.fp, b.fp)::numeric, 2) AS coactivity,
       round(fingerprint_similarity(a.fp, b.fp, '{0,0,0,0,1,0,0}')::numeric, 2) AS hours
FROM rhythm a JOIN rhythm b ON b.kind = a.kind AND b.acct > a.acct ORDER BY 1;

-- networks: two accounts whose requests come from one pool of 100 proxy
-- /24s share many of them: I shared networks count I / (I + 8), more than
-- their Jaccard; two people behind one carrier's /24 share it (Jaccard 1)
CREATE TABLE pool AS
SELECT acct, fingerprint_agg(NULL, NULL, ('10.9.' || (hashint4(acct * 1000 + i) & 65535) % 100 || '.7')::inet,
                             NULL, NULL) AS fp
FROM generate_series(1, 2) acct, generate_series(1, 60) i GROUP BY acct
UNION ALL
SELECT acct, fingerprint_agg(NULL, NULL, inet '100.64.3.9', NULL, NULL)
FROM generate_series(3, 4) acct, generate_series(1, 5) i GROUP BY acct;
SELECT a.acct, b.acct, round(fingerprint_infrastructure_similarity(a.fp, b.fp)::numeric, 2) AS infrastructure,
       (fingerprint_summary(a.fp)->'infrastructure'->>'ip_prefixes')::int >= 30 AS many_networks
FROM pool a JOIN pool b ON b.acct = a.acct + 1 AND a.acct IN (1, 3) ORDER BY 1;

-- content: two accounts that ask ten questions of their own each, none
-- repeated, share no work that shows: 0, not undefined (then the work
-- family would rest on intents and models alone)
CREATE TABLE own_questions AS
SELECT acct, fingerprint_agg(NULL, q, NULL, NULL, NULL) AS fp
FROM (SELECT acct, i, (SELECT string_agg((string_to_array('apple river stone cloud piano garden window silver '
                                 'engine forest ladder candle rocket violin basket harbor pencil mirror tunnel '
                                 'desert orange castle bridge meadow parrot lantern copper glacier falcon compass '
                                 'velvet thunder marble canyon saddle walnut harvest beacon pepper', ' '))
                                 [1 + abs(hashint4(acct * 1000 + i * 10 + w)) % 40], ' ')
                       FROM generate_series(1, 9) w) AS q
      FROM generate_series(1, 2) acct, generate_series(1, 10) i) s
GROUP BY acct;
SELECT fingerprint_content_similarity(a.fp, b.fp) AS content
FROM own_questions a, own_questions b WHERE a.acct = 1 AND b.acct = 2;

-- explicit weights: only co-activity counts
SELECT bool_and(abs(fingerprint_similarity(x.fp, y.fp, '{0,0,0,1,0,0}') - fingerprint_coactivity_similarity(x.fp, y.fp)) < 1e-12) AS weights_select
FROM sim_pairs p JOIN sim_fp x ON x.account_id = p.a JOIN sim_fp y ON y.account_id = p.b
WHERE fingerprint_coactivity_similarity(x.fp, y.fp) IS NOT NULL;
SELECT expect_error($$SELECT fingerprint_similarity(fp, fp, '{1,1,1}') FROM sim_fp LIMIT 1$$);
SELECT expect_error($$SELECT fingerprint_similarity(fp, fp, '{1,-1,1,1,1,1}') FROM sim_fp LIMIT 1$$);
SELECT expect_error($$SELECT fingerprint_similarity(fp, fp, '{0,0,0,0,0,0}') FROM sim_fp LIMIT 1$$);
SELECT expect_error($$SELECT fingerprint_similarity(fp, fp, '{1,NULL,1,1,1,1}') FROM sim_fp LIMIT 1$$);
SELECT expect_error($$SELECT fingerprint_similarity(fp, fp, '{1,NaN,1,1,1,1}') FROM sim_fp LIMIT 1$$);
SELECT expect_error($$SET lockstep.similarity_threshold = 1.5$$);
SELECT expect_error($$SET lockstep.similarity_threshold = -0.1$$);
SELECT expect_error($$SELECT fingerprint_lsh_keys(fp, 100, 2) FROM sim_fp LIMIT 1$$);
SELECT expect_error($$SELECT fingerprint_lsh_keys(fp, 64, 4) FROM sim_fp LIMIT 1$$);
SELECT expect_error($$SELECT fingerprint_lsh_keys(fp, 16, 0) FROM sim_fp LIMIT 1$$);
SELECT expect_error($$SELECT * FROM fingerprint_similar_pairs('SELECT account_id, fp FROM sim_fp', 1.5)$$);
SELECT expect_error($$SELECT * FROM fingerprint_similar_pairs('SELECT account_id, fp FROM sim_fp', 0.5, 16, 2, 0)$$);
SELECT expect_error($$SELECT * FROM fingerprint_similar_pairs('SELECT fp, account_id FROM sim_fp')$$);
SELECT expect_error($$SELECT * FROM fingerprint_similar_pairs('SELECT nonsense')$$);

-- the operators
SELECT count(*) FILTER (WHERE (x.fp % y.fp) <> (fingerprint_similarity(x.fp, y.fp) >= 0.5)) AS operator_mismatches
FROM sim_pairs p JOIN sim_fp x ON x.account_id = p.a JOIN sim_fp y ON y.account_id = p.b;
SET lockstep.similarity_threshold = 0.3;
SELECT count(*) FILTER (WHERE (x.fp % y.fp) <> (fingerprint_similarity(x.fp, y.fp) >= 0.3)) AS operator_mismatches_at_03
FROM sim_pairs p JOIN sim_fp x ON x.account_id = p.a JOIN sim_fp y ON y.account_id = p.b;
RESET lockstep.similarity_threshold;
SELECT bool_and(abs((x.fp <-> y.fp) - (1 - fingerprint_similarity(x.fp, y.fp))) < 1e-12) AS distance_is_one_minus
FROM sim_pairs p JOIN sim_fp x ON x.account_id = p.a JOIN sim_fp y ON y.account_id = p.b;

-- LSH keys: deterministic, bands per channel
SELECT cardinality(fingerprint_lsh_keys(fp)) <= 4 * 16 AS bounded,
       fingerprint_lsh_keys(fp) = fingerprint_lsh_keys(fp::text::fingerprint) AS deterministic,
       cardinality(fingerprint_lsh_keys(fp, 8, 4)) <= 4 * 8 AS bands_param
FROM sim_fp WHERE pop = 'C' ORDER BY account_id LIMIT 1;

-- the GIN index: used by %, same answers as a sequential scan
CREATE INDEX sim_fp_lsh ON sim_fp USING gin (fp);
ANALYZE sim_fp;
CREATE TABLE probes AS
(SELECT account_id, fp FROM sim_fp WHERE pop IN ('A', 'B', 'C') ORDER BY account_id LIMIT 40)
UNION ALL (SELECT account_id, fp FROM sim_fp WHERE pop NOT IN ('A', 'B', 'C') ORDER BY account_id LIMIT 20);
SET enable_seqscan = off;
SELECT plan_has('SELECT account_id FROM sim_fp WHERE fp % (SELECT fp FROM probes LIMIT 1)', 'Bitmap Index Scan on sim_fp_lsh') AS uses_index;
CREATE TABLE by_index AS
SELECT p.account_id AS probe, s.account_id FROM probes p, LATERAL (SELECT account_id FROM sim_fp WHERE fp % p.fp) s;
RESET enable_seqscan;
SET enable_indexscan = off;
SET enable_bitmapscan = off;
CREATE TABLE by_seq AS
SELECT p.account_id AS probe, s.account_id FROM probes p, LATERAL (SELECT account_id FROM sim_fp WHERE fp % p.fp) s;
RESET enable_indexscan;
RESET enable_bitmapscan;
-- the index never returns a row the operator rejects, and misses few
SELECT (SELECT count(*) FROM (SELECT * FROM by_index EXCEPT SELECT * FROM by_seq) x) AS extra,
       (SELECT count(*) FROM by_seq) > 100 AS enough_matches,
       (SELECT count(*) FROM (SELECT * FROM by_seq EXCEPT SELECT * FROM by_index) x)::float8 /
       (SELECT count(*) FROM by_seq) <= 0.01 AS missed_at_most_1pct;
-- VACUUM and REINDEX keep it working
DELETE FROM sim_fp WHERE account_id IN (SELECT account_id FROM sim_fp WHERE pop = 'user' ORDER BY account_id LIMIT 20);
VACUUM sim_fp;
REINDEX INDEX sim_fp_lsh;
SET enable_seqscan = off;
SELECT count(*) = (SELECT count(*) FROM sim_fp s2, probes p2 WHERE p2.account_id = (SELECT min(account_id) FROM probes) AND s2.fp % p2.fp)
       AS after_reindex
FROM sim_fp s, probes p WHERE p.account_id = (SELECT min(account_id) FROM probes) AND s.fp % p.fp;
RESET enable_seqscan;

-- the all-pairs join agrees with brute force on this set
CREATE TABLE joined AS SELECT * FROM fingerprint_similar_pairs('SELECT account_id, fp FROM sim_fp', 0.5);
CREATE TABLE brute AS
SELECT x.account_id AS a, y.account_id AS b FROM sim_fp x, sim_fp y
WHERE x.account_id < y.account_id AND fingerprint_similarity(x.fp, y.fp) >= 0.5;
SELECT (SELECT count(*) FROM brute) > 1000 AS many_pairs,
       (SELECT count(*) FROM joined j WHERE NOT EXISTS
          (SELECT 1 FROM brute b WHERE (b.a, b.b) IN ((j.a, j.b), (j.b, j.a)))) AS false_pairs,
       (SELECT count(*) FROM brute b WHERE EXISTS
          (SELECT 1 FROM joined j WHERE (b.a, b.b) IN ((j.a, j.b), (j.b, j.a))))::float8 /
       (SELECT count(*) FROM brute) >= 0.99 AS recall_at_least_099;

-- in the select list the join streams its rows: the same rows as in FROM
-- (test/t/005_lsh.pl shows that a LIMIT stops it early)
SELECT count(*) = (SELECT count(*) FROM joined) AS same_count,
       count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM joined j
          WHERE (j.a, j.b, j.similarity) = ((p).a, (p).b, (p).similarity))) AS not_in_from
FROM (SELECT fingerprint_similar_pairs('SELECT account_id, fp FROM sim_fp', 0.5) AS p) s;

-- a tiny max_bucket splits the buckets into parts: fewer pairs, each once,
-- each true
CREATE TABLE joined_split AS
SELECT * FROM fingerprint_similar_pairs('SELECT account_id, fp FROM sim_fp', 0.5, 16, 2, 5);
SELECT count(*) < (SELECT count(*) FROM joined) AS fewer,
       count(*) > 0 AS some,
       count(*) = count(DISTINCT (least(a, b), greatest(a, b))) AS each_once,
       count(*) FILTER (WHERE NOT EXISTS (SELECT 1 FROM joined j WHERE (j.a, j.b) = (s.a, s.b))) AS not_in_full_join
FROM joined_split s;

-- the join's similarities are exactly fingerprint_similarity's, also for
-- busy accounts whose hour-of-week bins pass 255 (the join keeps the
-- hours of the others in bytes)
CREATE TABLE busy AS
SELECT id, fingerprint_agg(ts, prompt, ip::inet, 'bot/1.0', 'card-1', 'm1', 10, 20) AS fp
FROM (SELECT id, g,
             timestamptz '2026-02-02 10:00Z' + (g % 2) * interval '1 hour' + (g / 2 % 3) * interval '1 week' AS ts,
             'You are a grader. Think step by step, then score the answer from 1 to 10 for task ' || (g % 40) AS prompt,
             '10.0.0.' || (g % 5) AS ip
      FROM (VALUES (1, 1800), (2, 1600), (3, 300)) v(id, n), generate_series(1, n) g) r
GROUP BY id;
SELECT id, (SELECT max(h::int) FROM jsonb_array_elements_text(fingerprint_summary(fp)->'timing'->'hour_of_day_utc') h) > 255 AS bins_over_255
FROM busy ORDER BY id;
SELECT count(*) AS pairs, count(*) FILTER (WHERE j.similarity <> fingerprint_similarity(x.fp, y.fp)) AS differ
FROM fingerprint_similar_pairs('SELECT id, fp FROM busy', 0.0) j
JOIN busy x ON x.id = j.a JOIN busy y ON y.id = j.b;
SELECT count(*) AS differ FROM joined j JOIN sim_fp x ON x.account_id = j.a JOIN sim_fp y ON y.account_id = j.b
WHERE j.similarity <> fingerprint_similarity(x.fp, y.fp);
