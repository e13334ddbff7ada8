#!/usr/bin/env bash
# The figures behind two design choices, on a generated log (serial
# aggregation, so a run repeats exactly):
#  - how many LSH keys similar pairs share: the cost in recall of asking
#    candidates to share LS_MIN_SHARED_KEYS (4) keys;
#  - how alike the campaigns are within and across: why clusters are cored
#    at 0.65 and attached at 0.5;
#  - how alike each kind of account is to its own kind (each account with
#    the next of its kind in a hash order), the work and the operator
#    families apart: what keeps users of one template, app users and
#    office teams apart while a campaign under every evasion holds.
# Not part of CI.  Usage: bench/pair_stats.sh [ROWS] [VARIANT]
#   (default 1000000 rows of the base variant)
set -u
LS_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$LS_ROOT/test/lib.sh"
ROWS=${1:-1000000}
VARIANT=${2:-base}

ls_setup

psql -X -q -v ON_ERROR_STOP=1 -v rows="$ROWS" -v variant="$VARIANT" <<'SQL'
\pset footer off
SET max_parallel_workers_per_gather = 0;
SET work_mem = '1GB';
CREATE EXTENSION lockstep;
CREATE EXTENSION lockstep_synth;
CREATE TABLE fp AS
SELECT account_id, fingerprint_agg(ts, prompt, client_ip, user_agent, payment, model, tokens_in, tokens_out) AS fp
FROM lockstep_synth_log(:rows, 42, :'variant') GROUP BY account_id;
CREATE TABLE pop AS
SELECT account_id, org_id, coalesce(campaign, kind) AS pop FROM lockstep_synth_accounts(:rows, 42, :'variant');

\echo == each account with the next of its kind (enterprise: of another org), by family
SELECT pop AS pairs_of, count(*) AS pairs,
       round(avg((d->>'work')::float8)::numeric, 3) AS work, round(avg((d->>'operator')::float8)::numeric, 3) AS operator,
       round(avg((d->>'similarity')::float8)::numeric, 3) AS mean,
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY (d->>'similarity')::float8))::numeric, 3) AS median,
       round(avg(((d->>'similarity')::float8 >= 0.5)::int)::numeric, 3) AS share_at_least_05
FROM (SELECT x.pop, fingerprint_similarity_detail(fx.fp, fy.fp) AS d
      FROM (SELECT p.*, lead(account_id) OVER (PARTITION BY pop ORDER BY hashint8(account_id)) AS next
            FROM pop p) x
      JOIN pop y ON y.account_id = x.next AND (x.pop <> 'enterprise' OR y.org_id <> x.org_id)
      JOIN fp fx ON fx.account_id = x.account_id JOIN fp fy ON fy.account_id = y.account_id) s
GROUP BY 1 ORDER BY 1;

\echo == pairs that share at least one LSH key, by how many keys they share
CREATE TABLE k AS SELECT account_id, unnest(fingerprint_lsh_keys(fp)) AS key FROM fp;
CREATE TABLE shared AS
SELECT x.account_id AS a, y.account_id AS b, count(*) AS keys
FROM k x JOIN k y ON x.key = y.key AND x.account_id < y.account_id GROUP BY 1, 2;
SELECT CASE WHEN keys < 4 THEN keys::text ELSE '4 or more' END AS shared_keys, count(*) AS pairs,
       count(*) FILTER (WHERE s >= 0.5) AS at_least_05, count(*) FILTER (WHERE s >= 0.65) AS at_least_065
FROM shared, LATERAL (SELECT fingerprint_similarity(fa.fp, fb.fp) AS s
                      FROM fp fa, fp fb WHERE fa.account_id = a AND fb.account_id = b) sim
GROUP BY 1 ORDER BY 1;

\echo == similarity within and across the campaigns (every pair)
SELECT x.pop || ' - ' || y.pop AS pair_of, count(*) AS pairs,
       round(avg(fingerprint_similarity(fx.fp, fy.fp))::numeric, 3) AS mean,
       round(min(fingerprint_similarity(fx.fp, fy.fp))::numeric, 3) AS min,
       round(max(fingerprint_similarity(fx.fp, fy.fp))::numeric, 3) AS max,
       round(avg((fingerprint_similarity(fx.fp, fy.fp) >= 0.65)::int)::numeric, 3) AS share_at_least_065
FROM pop x JOIN fp fx USING (account_id), pop y JOIN fp fy USING (account_id)
WHERE x.pop IN ('A', 'B', 'C') AND y.pop IN ('A', 'B', 'C')
  AND (x.pop < y.pop OR (x.pop = y.pop AND x.account_id < y.account_id))
GROUP BY 1 ORDER BY 1;
SQL
