-- Blinded fingerprints (fingerprint_blind): what survives the key, what
-- does not, and how blinded fingerprints compare.  Runs alone.
\i test/include/prelude.sql

CREATE TABLE bl_log AS SELECT * FROM lockstep_synth_log(200000, 23);
CREATE TABLE bl_fp AS
SELECT account_id, fingerprint_agg(ts, prompt, client_ip, user_agent, payment, model, tokens_in, tokens_out) AS fp
FROM bl_log GROUP BY 1;
\set key '\\x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f'
\set other '\\xf0f1f2f3f4f5f6f7f8f9fafbfcfdfeff000102030405060708090a0b0c0d0e0f'
CREATE TABLE bl AS SELECT account_id, fp, fingerprint_blind(fp, :'key') AS b FROM bl_fp;

-- a key of fewer than 16 bytes is refused; NULL in, NULL out
SELECT fingerprint_blind(fp, '\x00112233445566778899aabbccddee') FROM bl_fp LIMIT 1;
SELECT fingerprint_blind(NULL, :'key') IS NULL AS null_fp, fingerprint_blind(fp, NULL) IS NULL AS null_key
FROM bl_fp LIMIT 1;

-- the same key gives the same form; another key another
SELECT count(*) AS accounts,
       count(*) FILTER (WHERE fingerprint_blind(fp, :'key')::text = b::text) AS same_again,
       count(*) FILTER (WHERE fingerprint_blind(fp, :'other')::text = b::text) AS same_under_other_key
FROM bl;

-- what it keeps: the counters, volumes, times and intents
SELECT count(*) FILTER (WHERE fingerprint_stats(fp)::text IS DISTINCT FROM fingerprint_stats(b)::text) AS stats_differ,
       count(*) FILTER (WHERE fingerprint_volume(fp)::text IS DISTINCT FROM fingerprint_volume(b)::text) AS volume_differs,
       count(*) FILTER (WHERE fingerprint_summary(fp)->'hours' IS DISTINCT FROM fingerprint_summary(b)->'hours') AS hours_differ,
       count(*) FILTER (WHERE ARRAY(SELECT count FROM fingerprint_intents(fp))
                              IS DISTINCT FROM ARRAY(SELECT count FROM fingerprint_intents(b))) AS intents_differ
FROM bl;

-- what it does not: no model name, and no unkeyed hash of any raw value
-- of the log (a dictionary of every network, agent, card, model and
-- prompt the log holds finds nothing, where it finds the plain ones)
CREATE TABLE bl_dict AS
SELECT DISTINCT 'network' AS kind, lockstep_infrastructure_key('network', host(client_ip)) AS key FROM bl_log
UNION SELECT DISTINCT 'user_agent', lockstep_infrastructure_key('user_agent', user_agent) FROM bl_log
UNION SELECT DISTINCT 'payment', lockstep_infrastructure_key('payment', payment) FROM bl_log;
SELECT (SELECT count(*) FROM bl, fingerprint_infrastructure_keys(fp) k JOIN bl_dict d USING (kind, key)) > 1000 AS plain_found,
       (SELECT count(*) FROM bl, fingerprint_infrastructure_keys(b) k JOIN bl_dict d USING (kind, key)) AS blinded_found;
CREATE TABLE bl_prompt_keys AS
SELECT DISTINCT k AS key FROM (SELECT DISTINCT prompt FROM bl_log) p, unnest(prompt_scaffold_keys(prompt)) k;
-- a blinded key equals some plain one by chance with probability about
-- (keys in the dictionary) / 2^32: a few are expected, nothing more
SELECT (SELECT count(*) FROM bl, fingerprint_scaffold_keys(fp) k JOIN bl_prompt_keys d USING (key)) > 1000 AS plain_found,
       (SELECT count(*) FROM bl, fingerprint_scaffold_keys(b) k JOIN bl_prompt_keys d USING (key))
        <= 3 + 3 * (SELECT count(*) FROM bl_prompt_keys) * (SELECT count(*) FROM bl, fingerprint_scaffold_keys(b)) / 4294967296.0
        AS blinded_at_chance;
SELECT count(*) AS models, count(*) FILTER (WHERE m.model LIKE '#%') AS names_replaced,
       count(*) FILTER (WHERE m.model_hash IN (SELECT lockstep_model_hash(model) FROM bl_log)) AS plain_identity,
       count(*) FILTER (WHERE m.model_hash IN (SELECT lockstep_model_hash(model, :'key') FROM bl_log)) AS blinded_identity
FROM bl, fingerprint_models(b) m;
SELECT count(*) AS raw_names_in_text
FROM (SELECT DISTINCT model FROM bl_log) m, bl WHERE position(m.model IN fingerprint_summary(b)::text) > 0;

-- similarity.  Where no sketch of either account is full (it holds all of
-- the account's values) blinded pairs compare as plain ones (to rounding:
-- the sums run in another order).
-- Where one is, the blinded sample has lost the horizon below which it is
-- complete, and the content channel compares the two samples whole: the
-- similarity may fall, and hardly rise (README, "Sharing", states the
-- bound this checks).
CREATE TABLE bl_full AS
SELECT account_id,
       (fingerprint_summary(fp)->'content'->>'sampled')::boolean
    OR (SELECT count(*) FROM fingerprint_infrastructure_keys(fp) k WHERE kind = 'network') = 16
    OR (SELECT count(*) FROM fingerprint_infrastructure_keys(fp) k WHERE kind IN ('user_agent')) = 8
    OR (SELECT count(*) FROM fingerprint_infrastructure_keys(fp) k WHERE kind IN ('payment')) = 8
    OR (SELECT count(*) FROM fingerprint_models(fp)) = 8 AS full_sketch
FROM bl;
CREATE TABLE bl_pairs AS
SELECT p.a, p.b, fa.full_sketch OR fb.full_sketch AS full_sketch,
       fingerprint_similarity(x.fp, y.fp) AS plain, fingerprint_similarity(x.b, y.b) AS blinded
FROM fingerprint_similar_pairs('SELECT account_id, fp FROM bl') p
JOIN bl x ON x.account_id = p.a JOIN bl y ON y.account_id = p.b
JOIN bl_full fa ON fa.account_id = p.a JOIN bl_full fb ON fb.account_id = p.b;
-- and pairs of accounts with no full sketch, found or not: each with the
-- next 20 in account order
INSERT INTO bl_pairs
WITH n AS (SELECT bl.*, row_number() OVER (ORDER BY account_id) AS r
           FROM bl JOIN bl_full USING (account_id) WHERE NOT full_sketch)
SELECT x.account_id, y.account_id, false, fingerprint_similarity(x.fp, y.fp), fingerprint_similarity(x.b, y.b)
FROM n x JOIN n y ON y.r > x.r AND y.r <= x.r + 20;
SELECT full_sketch, count(*) > 100 AS many_pairs,
       count(*) FILTER (WHERE abs(plain - blinded) > 1e-12) = 0 AS all_exact,
       max(blinded - plain) <= 0.05 AS rises_at_most_005,
       max(plain - blinded) <= 0.30 AS falls_at_most_030,
       avg(abs(plain - blinded)) <= 0.03 AS mean_at_most_003
FROM bl_pairs GROUP BY 1 ORDER BY 1;

-- the campaigns: clustering the blinded fingerprints gives the plain
-- fingerprints' clusters, account for account
CREATE TABLE bl_c1 AS SELECT * FROM fingerprint_clusters('SELECT account_id, fp FROM bl');
CREATE TABLE bl_c2 AS SELECT * FROM fingerprint_clusters('SELECT account_id, b FROM bl');
SELECT count(DISTINCT c1.cluster) AS clusters, count(*) AS accounts,
       count(*) FILTER (WHERE c1.account_id IS NULL OR c2.account_id IS NULL) AS clustered_on_one_side,
       count(DISTINCT (c1.cluster, c2.cluster)) AS cluster_pairs
FROM bl_c1 c1 FULL JOIN bl_c2 c2 USING (account_id);

-- under different keys, the accounts an exchange carries (those with
-- content, lockstep_blind_export) match nothing: the keyed channels share
-- nothing, and the work keeps only the intents (0.10 of 0.50), so no pair
-- passes sqrt(0.2).  Not one pair of the plain join reaches the
-- threshold, and a join across the two exports finds no pair.  Accounts
-- without content do match on their unkeyed times and intents: the
-- export leaves them out.
CREATE TABLE bl_export AS SELECT * FROM lockstep_blind_export('bl_fp', :'key');
CREATE TABLE bl_export_other AS SELECT * FROM lockstep_blind_export('bl_fp', :'other');
SELECT (SELECT count(*) FROM bl_export) AS exported,
       (SELECT count(*) FROM bl WHERE fingerprint_content_similarity(fp, fp) IS NULL) AS without_content,
       (SELECT count(*) FROM bl_export e JOIN bl ON e.account_ref = lockstep_blind_id(bl.account_id, :'key') AND e.fp::text = bl.b::text) AS as_blinded;
SELECT count(*) > 1000 AS many_pairs, count(*) FILTER (WHERE s >= 0.5) AS pairs_at_threshold,
       max(s) <= sqrt(0.2) + 1e-9 AS at_most_sqrt_02
FROM (SELECT fingerprint_similarity(x.b, fingerprint_blind(y.fp, :'other')) AS s
      FROM bl_pairs p JOIN bl x ON x.account_id = p.a JOIN bl y ON y.account_id = p.b
      WHERE fingerprint_content_similarity(x.fp, x.fp) IS NOT NULL
        AND fingerprint_content_similarity(y.fp, y.fp) IS NOT NULL) q;
CREATE TABLE bl_mixed AS
SELECT row_number() OVER () * 2 AS id, fp FROM bl_export
UNION ALL SELECT row_number() OVER () * 2 + 1, fp FROM bl_export_other;
SELECT count(*) AS cross_key_pairs
FROM fingerprint_similar_pairs('SELECT id, fp FROM bl_mixed') p WHERE p.a % 2 <> p.b % 2;
-- nor does a plain fingerprint match its own blinded form
SELECT count(*) FILTER (WHERE fingerprint_similarity(fp, b) >= 0.5) AS plain_matches_blinded
FROM bl WHERE fingerprint_content_similarity(fp, fp) IS NOT NULL;
SELECT * FROM lockstep_blind_export(NULL, :'key');

-- an account's reference in an exchange: stable under the key, distinct,
-- and another under another key
SELECT count(DISTINCT lockstep_blind_id(account_id, :'key')) = count(*) AS distinct_refs,
       count(*) FILTER (WHERE lockstep_blind_id(account_id, :'key') = lockstep_blind_id(account_id, :'key')) = count(*) AS stable,
       count(*) FILTER (WHERE lockstep_blind_id(account_id, :'key') = lockstep_blind_id(account_id, :'other')) AS same_under_other_key
FROM bl;
SELECT lockstep_blind_id(1, '\x00');

DROP TABLE bl_log, bl_fp, bl, bl_dict, bl_prompt_keys, bl_full, bl_pairs, bl_c1, bl_c2, bl_export, bl_export_other, bl_mixed;
