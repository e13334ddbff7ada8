-- Clusters, scores and the pipeline.
\i test/include/prelude.sql
SET timezone = 'UTC';
-- serial plans: scaffold counts depend on row order (within their bound), and
-- the small campaigns of a small log sit close to the thresholds
SET max_parallel_workers_per_gather = 0;

-- lockstep_clusters: plain connected components, pgRouting's convention
CREATE TABLE edges (source bigint, target bigint, weight float8);
INSERT INTO edges VALUES (1, 2, 0.9), (2, 3, 0.9), (10, 11, 0.9), (11, 12, 0.9), (12, 10, 0.9), (20, 20, 0.9);
SELECT * FROM lockstep_clusters('SELECT source, target FROM edges') ORDER BY node;
-- integer ids, NULL endpoints skipped, no edges at all
SELECT count(*) FROM lockstep_clusters('SELECT source::int, target::int FROM edges UNION ALL SELECT NULL, 1');
SELECT count(*) FROM lockstep_clusters('SELECT source, target FROM edges WHERE false');

-- cohesion: two cliques bridged by a weak edge stay apart, and so does a
-- legitimate account weakly linked to one of them; it is attached instead
TRUNCATE edges;
INSERT INTO edges
SELECT a, b, 0.8 FROM generate_series(1, 6) a, generate_series(1, 6) b WHERE a < b
UNION ALL SELECT a, b, 0.8 FROM generate_series(101, 106) a, generate_series(101, 106) b WHERE a < b
UNION ALL VALUES (6, 101, 0.55), (5, 102, 0.52), (500, 3, 0.51), (500, 104, 0.56), (900, 901, 0.8);
-- plain components merge the two campaigns
SELECT cluster, count(*) FROM lockstep_clusters('SELECT source, target FROM edges')
GROUP BY 1 ORDER BY 1;
-- with a core threshold they stay apart; 500 joins its strongest core; 900-901 is too small
SELECT cluster, count(*), count(*) FILTER (WHERE core) AS core
FROM lockstep_clusters('SELECT source, target, weight FROM edges', 0.65, 3)
GROUP BY 1 ORDER BY 1;
SELECT * FROM lockstep_clusters('SELECT source, target, weight::real FROM edges', 0.65, 3)
WHERE node IN (500, 900) ORDER BY node;
-- the result does not depend on the order of the edges
SELECT (SELECT array_agg(cluster ORDER BY node) FROM lockstep_clusters('SELECT source, target, weight FROM edges ORDER BY random()', 0.65, 3))
     = (SELECT array_agg(cluster ORDER BY node) FROM lockstep_clusters('SELECT source, target, weight FROM edges ORDER BY weight', 0.65, 3))
  AS order_free;
-- errors
SELECT expect_error($$SELECT * FROM lockstep_clusters('SELECT source, target FROM edges', 0.65)$$);
SELECT expect_error($$SELECT * FROM lockstep_clusters('SELECT source::text, target FROM edges')$$);
SELECT expect_error($$SELECT * FROM lockstep_clusters('SELECT source, target, weight::numeric FROM edges', 0.5)$$);
SELECT expect_error($$SELECT * FROM lockstep_clusters('SELECT source, target FROM edges', NULL, 0)$$);
SELECT expect_error($$SELECT * FROM lockstep_clusters(NULL)$$);
SELECT expect_error($$SELECT * FROM lockstep_clusters('SELECT source, target, weight FROM edges', 'NaN')$$);
-- NULL and NaN weights join nothing
SELECT node, cluster, core FROM lockstep_clusters('SELECT 1::bigint, 2::bigint, NULL::float8 UNION ALL SELECT 2, 3, ''NaN''', 0.5, 1)
ORDER BY node;
SELECT expect_error($$SELECT * FROM lockstep_clusters('SELECT nonsense')$$);

-- fingerprint_clusters on a generated log with its labels
-- (cl_log, cl_labels, cl_fp; cl: fingerprint_clusters(…, 0.5, 0.65, 5);
-- cl_releases, cl_scores: lockstep_score_clusters over them)
\i test/include/cl_data.sql
-- every campaign is one cluster of its own; no user is clustered
SELECT coalesce(l.campaign, l.kind) AS population, count(DISTINCT c.cluster) AS clusters,
       count(c.account_id) AS clustered, count(*) AS accounts
FROM cl_labels l LEFT JOIN cl c USING (account_id) GROUP BY 1 ORDER BY 1;
SELECT count(*) AS mixed_clusters FROM (
  SELECT cluster FROM cl JOIN cl_labels USING (account_id)
  GROUP BY cluster HAVING count(DISTINCT coalesce(campaign, kind)) > 1) x;
-- the cluster label is the smallest id of its core, attached accounts carry their similarity
SELECT bool_and(cluster = (SELECT min(account_id) FROM cl c2 WHERE c2.cluster = c.cluster AND c2.core)) AS labels,
       bool_and(core = (similarity IS NULL)) AND bool_and(similarity IS NULL OR similarity >= 0.5) AS similarities
FROM cl c;
-- the fused path equals components over the listed pairs (same candidates, same rules)
CREATE TABLE cl_pairs AS SELECT * FROM fingerprint_similar_pairs('SELECT account_id, fp FROM cl_fp', 0.5, 16, 2, 500);
SELECT count(*) AS differences FROM (
  (SELECT account_id, cluster, core FROM cl
   EXCEPT SELECT node, cluster, core FROM lockstep_clusters('SELECT a, b, similarity FROM cl_pairs', 0.65, 5)
          WHERE cluster IS NOT NULL)
  UNION ALL
  (SELECT node, cluster, core FROM lockstep_clusters('SELECT a, b, similarity FROM cl_pairs', 0.65, 5)
   WHERE cluster IS NOT NULL
   EXCEPT SELECT account_id, cluster, core FROM cl)) d;
-- errors
SELECT expect_error($$SELECT * FROM fingerprint_clusters('SELECT account_id, fp FROM cl_fp', 0.7, 0.6)$$);
SELECT expect_error($$SELECT * FROM fingerprint_clusters('SELECT account_id, fp FROM cl_fp', 0.5, 1.5)$$);
SELECT expect_error($$SELECT * FROM fingerprint_clusters('SELECT account_id, fp FROM cl_fp', 0.5, 0.65, 0)$$);
SELECT expect_error($$SELECT * FROM fingerprint_clusters(NULL, 0.5)$$);
-- a NULL argument takes its default, the one lockstep_cluster_defaults() reports
SELECT lockstep_cluster_defaults();
SELECT count(*) AS differences FROM (
  (SELECT * FROM fingerprint_clusters('SELECT account_id, fp FROM cl_fp', 0.5, NULL, NULL, NULL, NULL, NULL)
   EXCEPT SELECT * FROM fingerprint_clusters('SELECT account_id, fp FROM cl_fp', 0.5,
     (lockstep_cluster_defaults()->>'core_threshold')::float8, (lockstep_cluster_defaults()->>'min_size')::int,
     (lockstep_cluster_defaults()->>'bands')::int, (lockstep_cluster_defaults()->>'rows')::int,
     (lockstep_cluster_defaults()->>'max_bucket')::int))
  UNION ALL
  (SELECT * FROM fingerprint_clusters('SELECT account_id, fp FROM cl_fp', 0.5,
     (lockstep_cluster_defaults()->>'core_threshold')::float8, (lockstep_cluster_defaults()->>'min_size')::int,
     (lockstep_cluster_defaults()->>'bands')::int, (lockstep_cluster_defaults()->>'rows')::int,
     (lockstep_cluster_defaults()->>'max_bucket')::int)
   EXCEPT SELECT * FROM fingerprint_clusters('SELECT account_id, fp FROM cl_fp'))) d;
-- weights: the default array is the NULL default (the same clusters, the
-- same similarities but for rounding: weights are taken as ratios); the
-- work alone (the operator's channels at 0) also links the users of one
-- app, who share its scaffold but not an operator
SELECT count(*) AS differences FROM (
  (SELECT account_id, cluster, core, round(similarity::numeric, 9)
   FROM fingerprint_clusters('SELECT account_id, fp FROM cl_fp', 0.5, 0.65, 5)
   EXCEPT SELECT account_id, cluster, core, round(similarity::numeric, 9)
   FROM fingerprint_clusters('SELECT account_id, fp FROM cl_fp', 0.5, 0.65, 5, NULL, NULL, NULL,
     '{0.30, 0.10, 0.15, 0.15, 0, 0.10, 0.15}'))
  UNION ALL
  (SELECT account_id, cluster, core, round(similarity::numeric, 9)
   FROM fingerprint_clusters('SELECT account_id, fp FROM cl_fp', 0.5, 0.65, 5, NULL, NULL, NULL,
     '{0.30, 0.10, 0.15, 0.15, 0, 0.10, 0.15}')
   EXCEPT SELECT account_id, cluster, core, round(similarity::numeric, 9)
   FROM fingerprint_clusters('SELECT account_id, fp FROM cl_fp', 0.5, 0.65, 5))) d;
SELECT coalesce(l.campaign, l.kind) AS population, count(DISTINCT c.cluster) AS clusters,
       count(c.account_id) AS clustered
FROM cl_labels l JOIN fingerprint_clusters('SELECT account_id, fp FROM cl_fp', 0.5, 0.65, 5, NULL, NULL, NULL,
     '{0.30, 0.10, 0, 0, 0, 0.10, 0}') c USING (account_id)
GROUP BY 1 ORDER BY 1;
-- the work alone takes its leads from the keys of the channels it counts
-- (content): not the pairs that share an address, a card or working
-- hours, which it would recheck and find no more alike for that (with
-- every channel's keys: 6,613 rechecked).  The rechecks and joins below
-- are also what scanning over the runs of one component (pairs.c) must
-- not change: the candidates it scans fell (60,311 to 38,855 for the
-- second), the pairs it rechecks did not
SET client_min_messages = debug1;
SELECT count(*) AS clustered FROM fingerprint_clusters('SELECT account_id, fp FROM cl_fp', 0.5, 0.65, 5, NULL, NULL, NULL,
  '{0.30, 0.10, 0, 0, 0, 0.10, 0}');
SELECT count(*) AS clustered FROM fingerprint_clusters('SELECT account_id, fp FROM cl_fp', 0.5, 0.65, 5);
RESET client_min_messages;
SELECT expect_error($$SELECT * FROM fingerprint_clusters('SELECT account_id, fp FROM cl_fp', 0.5, 0.65, 5, NULL, NULL, NULL, '{1, 2}')$$);
SELECT expect_error($$SELECT * FROM fingerprint_clusters('SELECT account_id, fp FROM cl_fp', 0.5, 0.65, 5, NULL, NULL, NULL, '{0, 0, 0, 0, 0, 0, 0}')$$);
SELECT expect_error($$SELECT * FROM fingerprint_clusters('SELECT fp, account_id FROM cl_fp')$$);
-- the default holds the clustering of the February report's scale (2.3 GB)
SHOW lockstep.pairs_memory_limit;
SET lockstep.pairs_memory_limit = 1024;
SELECT expect_error($$SELECT * FROM fingerprint_clusters('SELECT account_id, fp FROM cl_fp')$$);
SELECT expect_error($$SELECT * FROM lockstep_clusters('SELECT g, g + 1, 0.1::float8 FROM generate_series(1, 100000) g', 0.5)$$);
RESET lockstep.pairs_memory_limit;

-- scores: campaigns high, integrations and enterprise teams low, with evidence
-- (cl_scores, made with the data above)
SELECT p.population, count(*) AS clusters, bool_and(s.flagged) AS all_flagged, bool_or(s.flagged) AS any_flagged,
       min(s.score) >= 0 AND max(s.score) <= 1 AS in_range
FROM cl_scores s
JOIN (SELECT DISTINCT c.cluster, coalesce(l.campaign, l.kind) AS population FROM cl c JOIN cl_labels l USING (account_id)) p
  USING (cluster)
GROUP BY 1 ORDER BY 1;
-- the explanation names every signal with its value, weight and contribution, and what fired
SELECT jsonb_array_length(evidence->'signals') AS signals,
       (SELECT round(sum((x->>'contribution')::numeric), 2) FROM jsonb_array_elements(evidence->'signals') x)
         = round((evidence->>'score')::numeric, 2) AS adds_up,
       (evidence->>'margin')::numeric = round((evidence->>'score')::numeric - 0.5, 4) AS margin_from_flag_at,
       evidence->'fired' ? 'pivot' AS pivot_fired, evidence->'fired' ? 'shared_infrastructure' AS infra_fired,
       evidence->'released_models' AS released
FROM cl_scores s JOIN cl c USING (cluster) JOIN cl_labels l USING (account_id)
WHERE l.campaign = 'C' LIMIT 1;
-- a trace (shared infrastructure, the pivot, uniform volume: the settings'
-- traces) is evidence for, never against: it counts if and only
-- if it fired and its value is above the score (it raised the mean); every
-- other signal counts
SELECT bool_and((x->>'counted')::boolean =
                (NOT lockstep_settings(NULL)->'traces' ? (x->>'signal')
                 OR ((x->>'fired')::boolean AND (x->>'value')::float8 > s.score - 1e-4))) AS traces_count_when_they_raise
FROM cl_scores s, jsonb_array_elements(s.evidence->'signals') x;
-- so crossing fire_at never lowers a score: with fire_at 0 every trace may
-- count, and no score is below the one with fire_at 1 (no trace counts);
-- before 0.6.0 a trace that fired weakly pulled the mean down
SELECT count(*) AS clusters, count(*) FILTER (WHERE lo.score > hi.score + 1e-9) AS lowered_by_a_trace,
       count(*) FILTER (WHERE hi.score > lo.score + 1e-9) AS raised_by_a_trace
FROM lockstep_score_clusters('cl', 'cl_fp', 'cl_releases', '{"fire_at": 1}') lo
JOIN lockstep_score_clusters('cl', 'cl_fp', 'cl_releases', '{"fire_at": 0}') hi USING (cluster);
-- a pivot that does not fire (a decay of a few seconds) is left out: the
-- score is the weighted mean of the signals that count
SELECT bool_and(NOT (x.e->>'counted')::boolean) FILTER (WHERE x.e->>'signal' = 'pivot') AS pivot_left_out,
       bool_and(abs(s.score -
                    (SELECT sum((y->>'weight')::float8 * (y->>'value')::float8) / sum((y->>'weight')::float8)
                     FROM jsonb_array_elements(s.evidence->'signals') y WHERE (y->>'counted')::boolean)) < 1e-3)
         AS mean_of_counted,
       count(DISTINCT s.cluster) AS clusters
FROM lockstep_score_clusters('cl', 'cl_fp', 'cl_releases', '{"pivot_hours": 0.001}') s,
     LATERAL jsonb_array_elements(s.evidence->'signals') x(e);
-- judged against the log's own background: random pairs of the log share
-- little, and a campaign's pairs are far beyond them
SELECT (evidence->'background'->>'pairs')::int AS background_pairs,
       (evidence->'background'->>'cohesion')::float8 < 0.1 AS background_low,
       (evidence->'background'->>'cohesion_z')::float8 > 10 AS campaign_far_beyond
FROM cl_scores s JOIN cl c USING (cluster) JOIN cl_labels l USING (account_id)
WHERE l.campaign = 'C' LIMIT 1;
SELECT lockstep_excess(0.5, 0.0) AS no_background, round(lockstep_excess(0.55, 0.1)::numeric, 4) AS half,
       lockstep_excess(0.05, 0.1) AS below, lockstep_excess(1, 1) AS saturated;
-- an organization is context, not a pass.  Two clusters made by hand: the
-- team of the first enterprise org, and campaign C with every account moved
-- under one org (as a lab that buys seats would).  The org discounts what it
-- explains (shared infrastructure, cohesion, synchrony: weight 0 when every
-- pair shares it); the rest decides: ordinary work stays unflagged, the
-- campaign's elicitation, pivot and long output are flagged, and both are
-- routed to account management.  (0.3.0 scored the campaign 0.)
CREATE TABLE cl_org_fp AS
SELECT f.account_id, CASE WHEN l.campaign = 'C' THEN 424242 ELSE f.org_id END AS org_id, f.fp
FROM cl_fp f JOIN cl_labels l USING (account_id);
CREATE TABLE cl_org AS
SELECT account_id, org_id AS cluster FROM cl_org_fp
WHERE org_id IN (424242, (SELECT min(org_id) FROM cl_labels WHERE kind = 'enterprise'));
SELECT s.cluster = 424242 AS campaign, s.accounts, s.flagged,
       (s.evidence->'organization'->>'same_org_pair_share')::float8 AS same_org,
       (s.evidence->'organization'->>'orgs')::int AS orgs,
       s.evidence->'organization'->>'route' LIKE 'account management%' AS routed,
       (SELECT sum((x->>'weight')::float8) FROM jsonb_array_elements(s.evidence->'signals') x
        WHERE x->>'signal' IN ('shared_infrastructure', 'cohesion', 'synchrony')) AS explained_weight
FROM lockstep_score_clusters('cl_org', 'cl_org_fp', 'cl_releases') s ORDER BY 1;
-- weights are overridable: with only the size weight, every score is the size signal
SELECT bool_and(abs(score - least(1, ln(accounts) / ln(100))) < 1e-9) AS size_only
FROM lockstep_score_clusters('cl', 'cl_fp', NULL,
  '{"weights": {"shared_infrastructure": 0, "elicitation": 0, "pivot": 0, "synchrony": 0, "cohesion": 0, "volume": 0,
                "uniformity": 0, "output": 0}}');
-- hydra churn: campaign accounts that live 2 or 3 days each, replaced on the
-- same card, networks and work.  Alone they are too thin to resemble
-- anything (thin_days 0: most stay out); lockstep_cluster_accounts merges
-- the thin accounts that share a card, and each campaign is one cluster of
-- all its accounts, with no one else in it
CREATE TABLE cl_hydra_labels AS SELECT * FROM lockstep_synth_accounts(200000, 11, 'hydra');
CREATE TABLE cl_hydra_fp AS
SELECT account_id, NULL::bigint AS org_id, fingerprint_agg(ts, prompt, client_ip, user_agent, payment, model, tokens_in, tokens_out) AS fp
FROM lockstep_synth_log(200000, 11, 'hydra') GROUP BY account_id;
CREATE TABLE cl_hydra AS SELECT * FROM lockstep_cluster_accounts('cl_hydra_fp');
CREATE TABLE cl_hydra_alone AS SELECT * FROM lockstep_cluster_accounts('cl_hydra_fp', '{"thin_days": 0}');
SELECT coalesce(l.campaign, l.kind) AS population, count(*) AS accounts,
       count(a.account_id) AS clustered_alone, count(c.account_id) AS clustered, count(DISTINCT c.cluster) AS clusters
FROM cl_hydra_labels l JOIN cl_hydra_fp USING (account_id)
LEFT JOIN cl_hydra_alone a USING (account_id) LEFT JOIN cl_hydra c USING (account_id)
GROUP BY 1 ORDER BY 1;
-- a hydra whose every account pays with a card of its own: no card links
-- two of a worker's accounts, and each, a few days of requests, is under
-- the join threshold with the next (with thin_threshold 1, no campaign
-- account is clustered); by default (thin_threshold 0.4), thin accounts as
-- like one another as that (cores; attached at its share of the join
-- threshold) whose group worked in step are merged as a card's are: B and
-- C are each one cluster of all their accounts.  A's
-- 93 accounts send too little each at this size to be linked (at 1M rows
-- 276 of its 312 are: bench/RESULTS.md)
CREATE TABLE cl_hc_labels AS SELECT * FROM lockstep_synth_accounts(200000, 11, 'hydra_cards');
CREATE TABLE cl_hc_fp AS
SELECT account_id, NULL::bigint AS org_id, fingerprint_agg(ts, prompt, client_ip, user_agent, payment, model, tokens_in, tokens_out) AS fp
FROM lockstep_synth_log(200000, 11, 'hydra_cards') GROUP BY account_id;
CREATE TABLE cl_hc AS SELECT * FROM lockstep_cluster_accounts('cl_hc_fp');
CREATE TABLE cl_hc_cards AS SELECT * FROM lockstep_cluster_accounts('cl_hc_fp', '{"thin_threshold": 1}');
SELECT coalesce(l.campaign, l.kind) AS population, count(*) AS accounts,
       count(a.account_id) AS clustered_by_cards, count(c.account_id) AS clustered, count(DISTINCT c.cluster) AS clusters,
       count(c.account_id) >= 0.9 * count(*) AS most
FROM cl_hc_labels l JOIN cl_hc_fp USING (account_id)
LEFT JOIN cl_hc_cards a USING (account_id) LEFT JOIN cl_hc c USING (account_id)
GROUP BY 1 ORDER BY 1;
-- and no cluster holds two populations
SELECT count(*) AS mixed_clusters FROM (
  SELECT c.cluster FROM cl_hc c JOIN cl_hc_labels l USING (account_id)
  GROUP BY 1 HAVING count(DISTINCT coalesce(l.campaign, l.kind)) > 1) m;
-- what keeps a group of thin accounts found by likeness is that its members
-- worked in step, not that they share networks: two groups of 14 accounts
-- of two days each (a card and mostly addresses of their own), one work
-- each.  g1's accounts send in the same half hours as whoever of g1 is
-- active that day, on a schedule that moves from day to day, each on a
-- network of its own; g2's share a /24 for a third of their requests but
-- each sends at hours of its own.  By default g1 is one cluster and g2 none
-- (its co-activity is under thin_sync); without the check (thin_sync 0)
-- g2 is one too.  (Before, the check was the operator's channels over
-- pairs in a hash order: g1, whose accounts agree on the operator at 0.22,
-- was in no cluster.)
CREATE TABLE cl_sy_fp AS
SELECT g * 1000 + i AS account_id, NULL::bigint AS org_id,
       fingerprint_agg(timestamptz '2026-01-05 00:00+00' + make_interval(days => i + d) +
                       CASE WHEN g = 1 THEN make_interval(hours => ((i + d) * 7) % 20, mins => (k * 7) % 30)
                            ELSE make_interval(hours => (i * 5 + k) % 24, mins => (k * 13) % 60) END,
                       CASE WHEN g = 1 THEN format('Solve the following problem step by step, show your reasoning and give the final answer. Problem %s: a train leaves at %s', k, i + d)
                            ELSE format('Rewrite this paragraph in a friendlier tone and fix the grammar, return only the text. Paragraph %s: our order %s is late', k, i + d) END,
                       CASE WHEN g = 1 THEN format('10.1.%s.7', i) WHEN k % 3 = 0 THEN format('10.2.0.%s', i)
                            ELSE format('10.3.%s.%s', i, k) END::inet,
                       CASE WHEN g = 1 THEN 'runner/1.0' ELSE 'app/2.0' END, format('card_%s_%s', g, i),
                       'frontier-1', 100, 900) AS fp
FROM generate_series(1, 2) g, generate_series(1, 14) i, generate_series(0, 1) d, generate_series(1, 15) k
GROUP BY g, i;
SELECT a.account_id / 1000 AS grp, round(avg(s.operator)::numeric, 2) AS operator,
       round(avg(s.coactivity)::numeric, 2) AS coactivity
FROM cl_sy_fp a JOIN cl_sy_fp b ON b.account_id = a.account_id + 1,
     LATERAL fingerprint_similarity_parts(a.fp, b.fp) s
GROUP BY 1 ORDER BY 1;
SELECT account_id / 1000 AS grp, count(*) AS clustered, count(DISTINCT cluster) AS clusters
FROM lockstep_cluster_accounts('cl_sy_fp') GROUP BY 1 ORDER BY 1;
SELECT account_id / 1000 AS grp, count(*) AS clustered, count(DISTINCT cluster) AS clusters
FROM lockstep_cluster_accounts('cl_sy_fp', '{"thin_sync": 0}') GROUP BY 1 ORDER BY 1;
-- a thin account the likeness pass left out joins a kept group of
-- min_size if it is as like a member as the pass links (thin_attach) and
-- worked in step with the members active at the same time: g1's schedule
-- again, 14 accounts of two days and 10 of one day and three or four
-- requests, each on its own card and network.  With max_bucket 140 the
-- pass deals the keys' buckets (24 accounts) into parts of 14 and keeps a
-- group of 16 without account 4 (days 4 and 5), which resembles them and
-- sent in step with accounts 5 and 18, so it joins (before 0.6.0's attach
-- step it stayed out).  Accounts 1 to 3 were active before any member of
-- the group: nothing says they worked in step with it, so they stay out.
CREATE TABLE cl_at_fp AS
SELECT i AS account_id, NULL::bigint AS org_id,
       fingerprint_agg(timestamptz '2026-01-05 00:00+00' + make_interval(days => i % 14 + d) +
                       make_interval(hours => ((i % 14 + d) * 7) % 20, mins => (k * 7) % 30),
                       format('Solve the following problem step by step, show your reasoning and give the final answer. Problem %s: a train leaves at %s', k, i % 14 + d),
                       format('10.1.%s.7', i)::inet, 'runner/1.0', format('card_%s', i),
                       'frontier-1', 100, 900) AS fp
FROM generate_series(1, 24) i, generate_series(0, 1) d, generate_series(1, 15) k
WHERE i <= 14 OR (d = 0 AND k <= CASE WHEN i <= 19 THEN 4 ELSE 3 END)
GROUP BY i;
SELECT count(*) AS clustered, count(DISTINCT cluster) AS clusters,
       bool_or(account_id = 4) AS attached_4, bool_or(account_id <= 3) AS before_the_group
FROM lockstep_cluster_accounts('cl_at_fp', '{"max_bucket": 140}');
-- the pivot is judged over the workers that were there before the release
-- and after it: accounts born later or gone before say nothing of it (0.3.0
-- averaged over every member, and a hydra's pivot fell to 0.07)
SELECT DISTINCT l.campaign, s.flagged,
       (s.evidence->'signals') @> '[{"signal": "pivot", "fired": true}]' AS pivot_fired,
       (s.evidence->>'pivot_members')::int < s.accounts AS some_members_say_nothing
FROM lockstep_score_clusters('cl_hydra', 'cl_hydra_fp', 'cl_releases') s
JOIN cl_hydra USING (cluster) JOIN cl_hydra_labels l USING (account_id) ORDER BY 1;
-- a hydra is judged over its workers, as lockstep_cluster_accounts links
-- them: the thin accounts on one card merged.  Its accounts live too few
-- days to resemble one another or to share a day; its workers do (before
-- 0.6.0 the pairs were accounts', as with thin_days 0 here, and a hydra's
-- cohesion and synchrony fell near the background's)
SELECT DISTINCT l.campaign, (w.evidence->>'workers')::int < w.accounts AS fewer_workers,
       (w.evidence->>'workers')::int > 1 AS several_workers,
       -- (a cluster of one worker has no pairs: cohesion is unknown there)
       (SELECT (x->>'counted')::boolean FROM jsonb_array_elements(w.evidence->'signals') x
        WHERE x->>'signal' = 'cohesion') AS cohesion_counted,
       (SELECT (x->>'value')::float8 FROM jsonb_array_elements(w.evidence->'signals') x WHERE x->>'signal' = 'cohesion')
       > (SELECT (x->>'value')::float8 FROM jsonb_array_elements(a.evidence->'signals') x WHERE x->>'signal' = 'cohesion')
         + 0.1 AS workers_cohere,
       (a.evidence->>'workers')::int = a.accounts AS alone_accounts, w.score > a.score + 0.1 AS higher
FROM lockstep_score_clusters('cl_hydra', 'cl_hydra_fp', 'cl_releases') w
JOIN lockstep_score_clusters('cl_hydra', 'cl_hydra_fp', 'cl_releases', '{"thin_days": 0}') a USING (cluster)
JOIN cl_hydra USING (cluster) JOIN cl_hydra_labels l USING (account_id) ORDER BY 1;
-- a cluster of one worker (a hydra's accounts on one card) is scored: what
-- pairs share and how uniform the volumes are is unknown there, not 0
-- (cohesion and synchrony count whenever known; uniformity, a trace, would
-- count at 1 for a single worker)
CREATE TABLE cl_one_worker AS
SELECT DISTINCT f.account_id, 1 AS cluster
FROM cl_hydra_fp f, fingerprint_stats(f.fp) st, fingerprint_infrastructure_keys(f.fp) k
WHERE st.active_days <= 3 AND k.kind = 'payment'
  AND k.key = (SELECT min(k2.key) FROM cl_hydra_fp f2 JOIN cl_hydra_labels l2 USING (account_id),
                      fingerprint_stats(f2.fp) st2, fingerprint_infrastructure_keys(f2.fp) k2
               WHERE l2.campaign = 'A' AND st2.active_days <= 3 AND k2.kind = 'payment');
SELECT s.accounts > 1 AS several_accounts, s.evidence->'workers' AS workers,
       (SELECT string_agg(x->>'signal', ', ' ORDER BY x->>'signal') FROM jsonb_array_elements(s.evidence->'signals') x
        WHERE x->>'signal' IN ('cohesion', 'synchrony', 'uniformity')
          AND NOT (x->>'counted')::boolean) AS unknown
FROM lockstep_score_clusters('cl_one_worker', 'cl_hydra_fp', 'cl_releases') s;
-- release detection without a release table finds the model released inside the log
SELECT DISTINCT evidence->'released_models' AS detected
FROM lockstep_score_clusters('cl', 'cl_fp');
-- accounts: flagged exactly the campaign accounts
CREATE TABLE cl_accounts AS
SELECT * FROM lockstep_score_accounts('cl', 'cl_scores');
SELECT count(*) FILTER (WHERE a.flagged AND l.campaign IS NULL) AS false_positives,
       count(*) FILTER (WHERE l.campaign IS NOT NULL AND coalesce(a.flagged, false)) AS true_positives,
       count(*) FILTER (WHERE l.campaign IS NOT NULL) AS campaign_accounts
FROM cl_labels l LEFT JOIN cl_accounts a USING (account_id);
SELECT evidence ? 'cluster_score' AND evidence ? 'membership' AS explained FROM cl_accounts LIMIT 1;
-- the harvest: a distillation campaign exists to take the model's
-- reasoning, long answers or new release.  The integrations, forced into one
-- cluster, take none of them (one-word answers, no elicitation, no new
-- model): coordination without harvest is automation, and the score is
-- scaled by the strongest harvest signal's share of fire_at (before 0.6.0 the
-- integrations scored 0.24, and 14 of them 0.509 at 16M rows, flagged); a
-- cohort of users, who elicit a little, keeps that share of its score
CREATE TABLE cl_forced AS
SELECT account_id, 1 AS cluster FROM cl_labels WHERE kind = 'integration'
UNION ALL (SELECT account_id, 2 FROM cl_labels WHERE kind = 'user' ORDER BY account_id LIMIT 30);
CREATE TABLE cl_forced_scores AS SELECT * FROM lockstep_score_clusters('cl_forced', 'cl_fp', 'cl_releases');
SELECT cluster, accounts, flagged, round(score::numeric, 4) AS score, evidence->'harvest'->>'value' AS harvest,
       (evidence->'harvest'->>'score_before')::float8 > 0.1 AS coordinated
FROM cl_forced_scores ORDER BY cluster;
-- the factor is least(1, harvest / fire_at), the contributions add up to the
-- scaled score, and a campaign (harvest far past fire_at) keeps its score whole
SELECT count(*) AS clusters,
       bool_and(abs((evidence->'harvest'->>'factor')::float8
                    - least(1, (evidence->'harvest'->>'value')::float8 / 0.25)) < 1e-3) AS factor,
       bool_and(abs(score - (evidence->'harvest'->>'factor')::float8
                            * (evidence->'harvest'->>'score_before')::float8) < 1e-3) AS scaled,
       bool_and(abs(score - (SELECT sum((x->>'contribution')::float8)
                             FROM jsonb_array_elements(evidence->'signals') x)) < 1e-3) AS adds_up
FROM (SELECT * FROM cl_forced_scores UNION ALL SELECT * FROM cl_scores) s;
SELECT bool_and((evidence->'harvest'->>'factor')::float8 = 1) AS campaigns_whole FROM cl_scores;
-- with no harvest signals the score is the weighted mean alone
SELECT cluster, round(s.score::numeric, 4) = round((f.evidence->'harvest'->>'score_before')::numeric, 4) AS unscaled
FROM lockstep_score_clusters('cl_forced', 'cl_fp', 'cl_releases', '{"harvest": []}') s
JOIN cl_forced_scores f USING (cluster) ORDER BY cluster;

-- churn is evidence, not cover: under hydra churn each campaign account
-- lives two or three days and another takes its place.  Forced into one
-- cluster each by what they are, nearly all of a campaign's accounts are
-- gone before half the time they could have lived had passed; users, app
-- users and enterprise teams no more often than the background's.  Churn
-- is a trace: it raises the campaigns' scores and lowers no one's (before
-- 0.6.0 there was no such signal)
CREATE TABLE hy_log AS SELECT * FROM lockstep_synth_log(200000, 11, 'hydra');
CREATE TABLE hy_labels AS SELECT * FROM lockstep_synth_accounts(200000, 11, 'hydra');
CREATE TABLE hy_fp AS
SELECT account_id, max(org_id) AS org_id,
       fingerprint_agg(ts, prompt, client_ip, user_agent, payment, model, tokens_in, tokens_out) AS fp
FROM hy_log GROUP BY account_id;
CREATE TABLE hy_forced AS
SELECT account_id, dense_rank() OVER (ORDER BY coalesce(campaign, kind)) AS cluster,
       coalesce(campaign, kind) AS population
FROM hy_labels
WHERE account_id IN (SELECT account_id FROM hy_fp) AND (kind <> 'user' OR account_id % 10 = 0);
SELECT f.population, (x->>'value')::float8 >= 0.5 AS churned, (x->>'fired')::boolean AS fired,
       (x->>'counted')::boolean AS counted, s.flagged,
       s.score > c.score + 1e-9 AS raised, abs(s.score - c.score) < 1e-9 AS unchanged
FROM (SELECT DISTINCT cluster, population FROM hy_forced) f
JOIN lockstep_score_clusters('hy_forced', 'hy_fp', 'cl_releases') s USING (cluster)
JOIN lockstep_score_clusters('hy_forced', 'hy_fp', 'cl_releases', '{"weights": {"churn": 0}}') c USING (cluster),
     jsonb_array_elements(s.evidence->'signals') x
WHERE x->>'signal' = 'churn' ORDER BY 1;

-- settings: defaults, overrides, bad keys and values
SELECT lockstep_settings('{"flag_at": 0.7, "weights": {"size": 0.5}}')->>'flag_at' AS flag_at,
       lockstep_settings('{"weights": {"size": 0.5}}')->'weights'->>'size' AS size_weight,
       lockstep_settings('{"weights": {"size": 0.5}}')->'weights'->>'pivot' AS pivot_weight;
SELECT expect_error($$SELECT lockstep_settings('{"flag": 1}')$$);
SELECT expect_error($$SELECT lockstep_settings('{"weights": {"size": -1}}')$$);
SELECT expect_error($$SELECT lockstep_settings('{"flag_at": "high"}')$$);
SELECT expect_error($$SELECT lockstep_settings('[1]')$$);
SELECT expect_error($$SELECT lockstep_settings('{"traces": ["pivot", "pivot"]}')$$);
SELECT expect_error($$SELECT lockstep_settings('{"traces": ["no such signal"]}')$$);
SELECT expect_error($$SELECT lockstep_settings('{"traces": "pivot"}')$$);
SELECT lockstep_settings('{"traces": []}')->'traces' AS no_traces;
SELECT expect_error($$SELECT lockstep_settings('{"harvest": ["output", "nothing"]}')$$);
SELECT expect_error($$SELECT lockstep_settings('{"harvest": null, "traces": 1}')$$);
SELECT expect_error($$SELECT * FROM lockstep_score_clusters(NULL, 'cl_fp')$$);

-- the pipeline: create, refresh, add a day without recomputing the past
CREATE TABLE api_log AS SELECT * FROM cl_log WHERE ts < '2026-01-20';
SELECT lockstep_create_pipeline('api', 'api_log', 28, NULL, '{"min_size": 5}');
CALL lockstep_refresh('api', '2026-02-28');
SELECT count(*) AS days, min(day), max(day) FROM (SELECT DISTINCT day FROM api_daily) d;
CREATE TABLE api_before AS SELECT day, account_id, fp::text AS fp FROM api_daily;
INSERT INTO api_log SELECT * FROM cl_log WHERE ts >= '2026-01-20' AND ts < '2026-01-21';
CALL lockstep_refresh('api', '2026-02-28');
-- one new day; the stored days are untouched
SELECT count(DISTINCT day) AS days, max(day) FROM api_daily;
SELECT count(*) AS changed FROM api_before b JOIN api_daily d USING (day, account_id) WHERE d.fp::text <> b.fp;
-- the daily fingerprints are the per-day aggregates of the log (scaffold counts
-- depend on row order within their bound, see aggregate.sql)
SELECT count(*) AS mismatches FROM api_daily d
JOIN (SELECT (ts AT TIME ZONE 'UTC')::date AS day, account_id,
             fingerprint_agg(ts, prompt, client_ip, user_agent, payment, model, tokens_in, tokens_out) AS fp
      FROM api_log WHERE ts >= '2026-01-20' GROUP BY 1, 2) x USING (day, account_id)
WHERE fingerprint_summary(d.fp) - 'content' - 'bytes' <> fingerprint_summary(x.fp) - 'content' - 'bytes';
-- the rest of the log, then the views refresh concurrently and show the campaigns
INSERT INTO api_log SELECT * FROM cl_log WHERE ts >= '2026-01-21';
CALL lockstep_refresh('api', '2026-02-28');
SELECT coalesce(l.campaign, l.kind) AS population, count(*) AS flagged
FROM api_accounts a JOIN cl_labels l USING (account_id) WHERE a.flagged GROUP BY 1 ORDER BY 1;
SELECT count(*) AS flagged_campaigns FROM api_campaigns WHERE flagged;
-- an account's organization is what most of its traffic says: one row per
-- account of campaign C under a business account (an org id of the
-- attacker's) on the last stored day, which the next refresh computes
-- again, relabels none of them (0.3.0 took the largest org id: all of them)
INSERT INTO api_log (account_id, org_id, ts, prompt)
SELECT account_id, 777, '2026-02-01 12:00+00', 'hello' FROM cl_labels WHERE campaign = 'C';
CALL lockstep_refresh('api', '2026-02-28');
SELECT count(*) FILTER (WHERE w.org_id = 777) AS relabelled, count(*) AS campaign_accounts,
       count(*) FILTER (WHERE a.flagged) AS flagged
FROM api_window w JOIN cl_labels l USING (account_id) LEFT JOIN api_accounts a USING (account_id)
WHERE l.campaign = 'C';
-- over the window, the organization most of an account's days name; a tie
-- goes to none, then to the smaller id (one account a line: its days'
-- orgs on the last three stored days, which the next refresh recounts)
INSERT INTO api_log (account_id, org_id, ts, prompt)
SELECT a, o, '2026-01-31 06:00+00'::timestamptz + (d - 1) * interval '1 day', 'hello'
FROM (VALUES (9000001, 1, 5), (9000001, 2, 6), (9000001, 3, NULL),
			 (9000002, 1, 6), (9000002, 2, 5),
			 (9000003, 1, 5), (9000003, 2, NULL), (9000003, 3, NULL),
			 (9000004, 1, 7), (9000004, 2, 7), (9000004, 3, NULL),
			 (9000005, 1, NULL), (9000005, 2, 8)) v(a, d, o);
CALL lockstep_refresh('api', '2026-02-28');
SELECT account_id, org_id FROM api_window WHERE account_id BETWEEN 9000001 AND 9000005 ORDER BY 1;
-- the views can be refreshed concurrently (they have unique indexes)
REFRESH MATERIALIZED VIEW CONCURRENTLY api_campaigns;
-- a log without the optional columns still works
CREATE TABLE thin_log AS SELECT account_id, ts, prompt FROM cl_log WHERE ts < '2026-01-08';
SELECT lockstep_create_pipeline('thin', 'thin_log');
CALL lockstep_refresh('thin', '2026-02-28');
SELECT count(*) > 0 AS fingerprints FROM thin_daily;
-- errors
SELECT expect_error($$SELECT lockstep_create_pipeline('Bad Name', 'api_log')$$);
SELECT expect_error($$SELECT lockstep_create_pipeline('x', 'api_log', 0)$$);
SELECT expect_error($$SELECT lockstep_create_pipeline('y', 'edges')$$);
SELECT expect_error($$SELECT lockstep_create_pipeline('z', 'api_log', 28, NULL, '{"nope": 1}')$$);
SELECT expect_error($$CALL lockstep_refresh('nothing')$$);

-- the daily stage in background workers (lockstep.refresh_workers) stores
-- the bytes and counts the day-by-day refresh stores
CREATE TABLE par_log AS SELECT * FROM cl_log WHERE ts < '2026-01-15';
SELECT lockstep_create_pipeline('ser', 'par_log') IS NOT NULL AS created;
SELECT lockstep_create_pipeline('par', 'par_log') IS NOT NULL AS created;
SET lockstep.refresh_workers = 0;
CALL lockstep_refresh('ser', '2026-02-28');
SET lockstep.refresh_workers = 2;
CALL lockstep_refresh('par', '2026-02-28');
SELECT count(*) AS daily_rows,
       count(*) FILTER (WHERE fingerprint_send(s.fp) IS DISTINCT FROM fingerprint_send(p.fp)
                          OR s.org_id IS DISTINCT FROM p.org_id) AS differ
FROM ser_daily s FULL JOIN par_daily p USING (day, account_id);
SELECT count(*) AS days, count(*) FILTER (WHERE (s.rows, s.skipped) IS DISTINCT FROM (p.rows, p.skipped)) AS differ
FROM ser_days s FULL JOIN par_days p USING (day);
SELECT (SELECT days_added FROM ser_refreshes) AS serial_days, (SELECT days_added FROM par_refreshes) AS parallel_days;
-- the workers store the days (what they stored is returned), again byte for byte
SELECT array_agg(day ORDER BY day) AS stored_by_workers, sum(rows) AS rows
FROM lockstep_store_days('par_config', ARRAY['2026-01-05', '2026-01-06']::date[], 2);
SELECT count(*) AS differ FROM ser_daily s JOIN par_daily p USING (day, account_id)
WHERE fingerprint_send(s.fp) IS DISTINCT FROM fingerprint_send(p.fp);
-- an error in a worker is the refresh's, with its SQLSTATE; the bad day is
-- not stored, and every day that is holds the whole day
INSERT INTO par_log (account_id, ts, prompt, tokens_in) VALUES (1, '2026-01-16 12:00+00', 'x', -5);
INSERT INTO par_log (account_id, ts, prompt) VALUES (1, '2026-01-15 12:00+00', 'x');
\set VERBOSITY sqlstate
CALL lockstep_refresh('par', '2026-02-28');
\set VERBOSITY default
SELECT count(*) FILTER (WHERE day = '2026-01-16') AS bad_day_stored,
       count(*) FILTER (WHERE rows <> (SELECT count(*) FROM par_log WHERE ts >= d.day AND ts < d.day + 1)) AS partial_days
FROM par_days d;
RESET lockstep.refresh_workers;

-- a pipeline's settings take the clustering's limits from the C code that
-- enforces them: past a limit both refuse, at it both accept
SELECT key, value FROM jsonb_each(lockstep_cluster_limits()) ORDER BY key;
SELECT expect_error($$SELECT lockstep_settings('{"bands": 65}')$$) AS settings,
       expect_error($$SELECT count(*) FROM fingerprint_clusters('SELECT account_id, fp FROM cl_fp', NULL, NULL, NULL, 65)$$) AS clusters;
SELECT expect_error($$SELECT lockstep_settings('{"bands": 64, "rows": 3}')$$) AS settings,
       expect_error($$SELECT count(*) FROM fingerprint_clusters('SELECT account_id, fp FROM cl_fp', NULL, NULL, NULL, 64, 3)$$) AS clusters;
SELECT lockstep_settings('{"bands": 64, "rows": 2}')->>'bands' AS settings,
       (SELECT count(*) FROM fingerprint_clusters('SELECT account_id, fp FROM cl_fp WHERE account_id < 50', NULL, NULL, NULL, 64, 2)) >= 0 AS clusters;
-- and the work pass its weights from fingerprint_similarity's
SELECT fingerprint_default_weights();

-- the pivot counts the members that adopted a release, by how soon: twenty
-- users active before and after frontier-2's release who never used it
-- score 0 (0.5.0 scored them 1: a missing first use counted as 0 hours)
CREATE TABLE pv_clusters AS
SELECT account_id, 1::bigint AS cluster FROM (
  SELECT f.account_id FROM cl_fp f JOIN cl_labels l USING (account_id), fingerprint_stats(f.fp) st
  WHERE l.kind = 'user' AND st.first_seen < '2026-01-20' AND st.last_seen > '2026-01-26'
    AND NOT EXISTS (SELECT 1 FROM fingerprint_models(f.fp) m WHERE m.model = 'frontier-2')
  ORDER BY 1 LIMIT 20) u
UNION ALL
SELECT account_id, 2 FROM cl_labels WHERE campaign = 'A';
SELECT cluster, accounts, evidence->'pivot_members' AS members,
       (SELECT round((x->>'value')::numeric, 2) FROM jsonb_array_elements(evidence->'signals') x WHERE x->>'signal' = 'pivot') AS pivot
FROM lockstep_score_clusters('pv_clusters', 'cl_fp', 'cl_releases') ORDER BY cluster;

-- the scripts of 0.5.0 and before declare fingerprint_clusters with seven
-- arguments, and call the same C function until ALTER EXTENSION UPDATE
-- runs; 0.6.0 read an eighth that was not there, and the server crashed
CREATE FUNCTION clusters_0_5(query text, threshold float8 DEFAULT NULL, core_threshold float8 DEFAULT NULL,
	min_size int DEFAULT NULL, bands int DEFAULT NULL, rows int DEFAULT NULL, max_bucket int DEFAULT NULL,
	OUT account_id bigint, OUT cluster bigint, OUT core boolean, OUT similarity float8)
	RETURNS SETOF record AS '$libdir/lockstep', 'fingerprint_clusters' LANGUAGE C VOLATILE;
SELECT count(*) AS clustered,
       count(*) = (SELECT count(*) FROM fingerprint_clusters('SELECT account_id, fp FROM cl_fp', 0.5, 0.65, 5)) AS as_now
FROM clusters_0_5('SELECT account_id, fp FROM cl_fp', 0.5, 0.65, 5);

-- fingerprint_attach is fingerprint_clusters' attachment step against
-- given members: with the cores of a clustering of the same rows as the
-- members, it attaches exactly the accounts that clustering attached, to
-- the same clusters, at the same similarities
CREATE TABLE at_full AS SELECT * FROM fingerprint_clusters('SELECT account_id, fp FROM cl_fp', 0.5, 0.65, 5);
CREATE TABLE at_attached AS
SELECT * FROM fingerprint_attach('SELECT account_id, fp FROM cl_fp',
	(SELECT array_agg(account_id) FROM at_full WHERE core), (SELECT array_agg(cluster) FROM at_full WHERE core), 0.5);
SELECT (SELECT count(*) FROM at_full WHERE NOT core) AS attached_by_clustering, count(*) AS attached,
       count(*) FILTER (WHERE f.cluster = a.cluster AND f.similarity = a.similarity AND NOT f.core) AS same
FROM at_attached a LEFT JOIN at_full f USING (account_id);
-- its arguments
SELECT count(*) FROM fingerprint_attach('SELECT account_id, fp FROM cl_fp', NULL, '{}');
SELECT count(*) FROM fingerprint_attach('SELECT account_id, fp FROM cl_fp', '{1, 2}', '{1}');
SELECT count(*) FROM fingerprint_attach('SELECT account_id, fp FROM cl_fp', '{1, NULL}', '{1, 1}');
SELECT count(*) FROM fingerprint_attach('SELECT account_id, fp FROM cl_fp', '{7, 7}', '{1, 2}');
SELECT count(*) AS no_members FROM fingerprint_attach('SELECT account_id, fp FROM cl_fp', '{}', '{}');
-- lockstep_attach_accounts joins accounts new since a clustering as the
-- clustering would: a hydra's accounts taken out of its clusters come back
-- to the same ones (a hydra's accounts through their workers' cards);
-- accounts already clustered are left as they are
CREATE TABLE at_out AS SELECT account_id FROM cl_hydra WHERE hashint8(account_id) % 10 = 0;
CREATE TABLE at_kept AS SELECT * FROM cl_hydra WHERE account_id NOT IN (SELECT account_id FROM at_out);
SELECT count(*) AS taken_out, count(a.account_id) AS back, count(*) FILTER (WHERE a.cluster = c.cluster) AS same_cluster,
       (SELECT count(*) FROM lockstep_attach_accounts('cl_hydra_fp', 'at_kept',
			(SELECT array_agg(account_id) FROM at_kept))) AS clustered_ones
FROM at_out o JOIN cl_hydra c USING (account_id)
LEFT JOIN lockstep_attach_accounts('cl_hydra_fp', 'at_kept', (SELECT array_agg(account_id) FROM at_out)) a USING (account_id);
\set VERBOSITY terse
SELECT count(*) FROM lockstep_attach_accounts(NULL, 'at_kept', '{1}');
\set VERBOSITY default
