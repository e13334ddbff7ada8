#!/usr/bin/env bash
# Benchmark: detection quality across the generator's evasion variants.
# For every variant, the whole pipeline (lockstep_create_pipeline with a
# window of the log's days, and one lockstep_refresh) and three naive
# baselines, judged
# against the generator's labels at the account level:
#   top volume   the busiest accounts, as many as there are campaign
#                accounts (an oracle count, generous to the baseline);
#   shared /24   accounts whose busiest /24 serves at least 20 accounts;
#   shared card  accounts whose payment is shared by at least 5 accounts.
# Columns: flagged, precision, recall (of the campaign accounts in the
# log: a hydra's generation may send nothing), false positives by kind,
# and for lockstep: the share of each campaign's flagged accounts in its
# largest cluster (the worst campaign), the flagged clusters that hold more
# than one campaign, or a campaign and others, the worst campaign's share
# of flagged accounts (campaign-level recall), the lowest flagged
# campaign's margin above flag_at and the highest other cluster's distance
# below it (NULL: no such cluster), the pipeline's seconds and the most
# memory a clustering pass charged (MB).  Not part of CI.
# Usage: bench/quality.sh [ROWS] [VARIANT ...]
#   (default 1000000 rows, every variant); SETTINGS='{"threshold": 0.4}'
#   in the environment passes settings to every pipeline.
set -eu
LS_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$LS_ROOT/test/lib.sh"
ROWS=${1:-1000000}
shift
VARIANTS=${*:-base proxies paraphrase low_slow human_timing mixed combined one_org few_orgs small hydra hydra_cards heavy_tail all}
SETTINGS=${SETTINGS:-'{}'}

LS_PORT=${LS_PORT:-54331} ls_setup

q -c "CREATE EXTENSION lockstep; CREATE EXTENSION lockstep_synth" \
  -c "CREATE TABLE releases AS SELECT * FROM lockstep_synth_releases()" \
  -c "CREATE TABLE results (variant text, method text, flagged bigint, precision numeric,
        recall numeric, fp_user bigint, fp_app_user bigint, fp_enterprise bigint,
        fp_integration bigint, largest_cluster_share numeric, mixed_clusters bigint, worst_campaign text,
        flag_margin numeric, negative_margin numeric, seconds numeric, clustering_mb numeric)"

for v in $VARIANTS; do
	t=${v//+/_}
	t0=$(date +%s.%N)
	q -c "CREATE TABLE log_$t AS SELECT * FROM lockstep_synth_log($ROWS, 42, '$v') ORDER BY ts" \
	  -c "CREATE INDEX ON log_$t USING brin (ts)" -c "VACUUM ANALYZE log_$t" \
	  -c "CREATE TABLE labels_$t AS SELECT * FROM lockstep_synth_accounts($ROWS, 42, '$v')" >/dev/null
	# the window holds every day of the log (28 days and a few hours of a
	# 29th): an account that lived only on a day outside it, as a hydra's
	# do, is one no refresh of this pipeline could see
	read -r first last <<<"$(q -c "SELECT min((ts AT TIME ZONE 'UTC')::date), max((ts AT TIME ZONE 'UTC')::date) FROM log_$t" | tr '|' ' ')"
	q -c "SELECT lockstep_create_pipeline('q_$t', 'log_$t', '$last'::date - '$first'::date + 1, 'releases', '$SETTINGS')" >/dev/null
	t1=$(date +%s.%N)
	# the clustering's memory, as fingerprint_clusters charges it (DEBUG1)
	out=$(q -c "SET work_mem = '1GB'; SET jit = off; SET client_min_messages = debug1" -c "CALL lockstep_refresh('q_$t', '$last')" 2>&1)
	mb=$(sed -n 's/.* \([0-9][0-9]*\) MB of lockstep.pairs_memory_limit.*/\1/p' <<<"$out" | sort -n | tail -1)
	# a refresh that could not refresh its views says so in a warning
	if grep -q '^WARNING' <<<"$out"; then
		grep -A1 '^WARNING' <<<"$out" >&2
		exit 1
	fi
	t2=$(date +%s.%N)
	secs=$(awk "BEGIN{printf \"%.1f\", $t2 - $t1}")
	printf '%s: generated in %.1f s, pipeline %s s\n' "$v" "$(awk "BEGIN{print $t1 - $t0}")" "$secs" >&2
	q -c "CREATE TEMP TABLE present AS SELECT DISTINCT account_id FROM log_$t" -c "
	CREATE TEMP TABLE flags AS
	SELECT 'lockstep'::text AS method, account_id, cluster FROM q_${t}_accounts WHERE flagged
	UNION ALL
	SELECT 'top volume', account_id, NULL FROM (
		SELECT account_id FROM log_$t GROUP BY 1
		ORDER BY count(*) DESC, account_id
		LIMIT (SELECT count(*) FROM labels_$t WHERE campaign IS NOT NULL
			   AND account_id IN (SELECT account_id FROM present))) t
	UNION ALL
	SELECT 'shared /24', account_id, NULL FROM (
		SELECT DISTINCT ON (account_id) account_id, net
		FROM (SELECT account_id, set_masklen(client_ip, 24)::cidr AS net, count(*) AS n
			  FROM log_$t GROUP BY 1, 2) a
		ORDER BY account_id, n DESC, net) busiest
	WHERE net IN (SELECT set_masklen(client_ip, 24)::cidr FROM log_$t
				  GROUP BY 1 HAVING count(DISTINCT account_id) >= 20)
	UNION ALL
	SELECT DISTINCT 'shared card', account_id, NULL::bigint FROM (SELECT DISTINCT account_id, payment FROM log_$t) a
	WHERE payment IN (SELECT payment FROM log_$t GROUP BY 1 HAVING count(DISTINCT account_id) >= 5);

	INSERT INTO results
	SELECT '$v', m.method, count(f.account_id),
		   round(count(*) FILTER (WHERE l.campaign IS NOT NULL)::numeric / nullif(count(f.account_id), 0), 4),
		   round(count(*) FILTER (WHERE l.campaign IS NOT NULL)::numeric
				 / (SELECT count(*) FROM labels_$t WHERE campaign IS NOT NULL
					AND account_id IN (SELECT account_id FROM present)), 4),
		   count(*) FILTER (WHERE l.kind = 'user'), count(*) FILTER (WHERE l.kind = 'app_user'),
		   count(*) FILTER (WHERE l.kind = 'enterprise'), count(*) FILTER (WHERE l.kind = 'integration'),
		   (SELECT round(min(share), 4) FROM (
				SELECT max(n)::numeric / sum(n) AS share
				FROM (SELECT l2.campaign, f2.cluster, count(*) AS n
					  FROM flags f2 JOIN labels_$t l2 USING (account_id)
					  WHERE f2.method = 'lockstep' AND m.method = 'lockstep' AND l2.campaign IS NOT NULL
					  GROUP BY 1, 2) c GROUP BY campaign) s),
		   (SELECT count(*) FROM (
				SELECT f2.cluster FROM flags f2 JOIN labels_$t l2 USING (account_id)
				WHERE f2.method = 'lockstep' AND m.method = 'lockstep'
				GROUP BY 1 HAVING count(DISTINCT coalesce(l2.campaign, l2.kind)) > 1) x),
		   CASE WHEN m.method = 'lockstep' THEN (
				SELECT c.campaign || ' ' || round(avg(coalesce(a.flagged, false)::int), 3)
				FROM labels_$t c JOIN present USING (account_id) LEFT JOIN q_${t}_accounts a USING (account_id)
				WHERE c.campaign IS NOT NULL GROUP BY c.campaign
				ORDER BY avg(coalesce(a.flagged, false)::int), c.campaign LIMIT 1) END,
		   CASE WHEN m.method = 'lockstep' THEN (
				SELECT min((k.evidence->>'margin')::numeric) FROM q_${t}_campaigns k
				WHERE k.flagged AND k.cluster IN (SELECT c.cluster FROM q_${t}_clusters c
												  JOIN labels_$t l3 USING (account_id) WHERE l3.campaign IS NOT NULL)) END,
		   CASE WHEN m.method = 'lockstep' THEN (
				SELECT -max((k.evidence->>'margin')::numeric) FROM q_${t}_campaigns k
				WHERE k.cluster NOT IN (SELECT c.cluster FROM q_${t}_clusters c
										JOIN labels_$t l3 USING (account_id) WHERE l3.campaign IS NOT NULL)) END,
		   CASE WHEN m.method = 'lockstep' THEN $secs END,
		   CASE WHEN m.method = 'lockstep' THEN ${mb:-NULL} END
	FROM (VALUES ('lockstep'), ('top volume'), ('shared /24'), ('shared card')) m(method)
	LEFT JOIN flags f USING (method) LEFT JOIN labels_$t l USING (account_id)
	GROUP BY m.method;" -c "DROP TABLE flags"
	q -c "SELECT lockstep_drop_pipeline('q_$t')" -c "DROP TABLE log_$t" >/dev/null
done

echo
echo "quality at $ROWS rows (bench/quality.sh $ROWS)"
psql -X -q -P footer=off -c "SELECT * FROM results ORDER BY array_position('{base,proxies,paraphrase,low_slow,human_timing,mixed,combined,one_org,few_orgs,small,hydra,heavy_tail,all}'::text[], variant), variant, method <> 'lockstep', method"
