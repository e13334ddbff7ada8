#!/usr/bin/env bash
# Benchmark: fingerprint_agg over a generated log, grouped by account, in one
# run beside the scan floor (count + sum(length(prompt))) and
# postgresql-hll's hll_add_agg(hll_hash_text(prompt)).  Not part of CI.
# Usage: bench/fingerprint_agg.sh [ROWS] [RUNS]   (default 16000000 3)
set -u
LS_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$LS_ROOT/test/lib.sh"
ROWS=${1:-16000000}
RUNS=${2:-3}

ls_setup postgresql-15-hll


q -c "CREATE EXTENSION lockstep; CREATE EXTENSION lockstep_synth; CREATE EXTENSION hll;"
t0=$(date +%s.%N)
q -c "CREATE UNLOGGED TABLE log AS SELECT * FROM lockstep_synth_log($ROWS, 42)"
t1=$(date +%s.%N)
q -c "VACUUM ANALYZE log"
printf 'generated %s rows in %.1f s; table %s\n' "$ROWS" "$(awk "BEGIN{print $t1 - $t0}")" \
	"$(q -c "SELECT pg_size_pretty(pg_total_relation_size('log'))")"
printf 'accounts: %s\n' "$(q -c 'SELECT count(DISTINCT account_id) FROM log')"

# name|query: each query consumes every group's value so nothing is skipped
read -r -d '' QUERIES <<'Q'
floor|SELECT sum(n + s) FROM (SELECT account_id, count(*) AS n, sum(length(prompt)) AS s FROM log GROUP BY account_id) g
hll|SELECT sum(hll_cardinality(h)) FROM (SELECT account_id, hll_add_agg(hll_hash_text(prompt)) AS h FROM log GROUP BY account_id) g
fingerprint_agg(ts,prompt)|SELECT sum(fingerprint_size(fp)) FROM (SELECT account_id, fingerprint_agg(ts, prompt) AS fp FROM log GROUP BY account_id) g
fingerprint_agg(all 8)|SELECT sum(fingerprint_size(fp)) FROM (SELECT account_id, fingerprint_agg(ts, prompt, client_ip, user_agent, payment, model, tokens_in, tokens_out) AS fp FROM log GROUP BY account_id) g
Q

SET="SET work_mem = '1GB'; SET max_parallel_workers_per_gather = 2;"
declare -A best
echo
echo "method | median s of $RUNS | peak aggregate memory (EXPLAIN ANALYZE)"
while IFS='|' read -r name sql; do
	times=()
	for _ in $(seq "$RUNS"); do
		s=$(date +%s.%N)
		q -c "$SET $sql" >/dev/null
		e=$(date +%s.%N)
		times+=("$(awk "BEGIN{print $e - $s}")")
	done
	med=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p")
	best[$name]=$med
	mem=$(q -c "$SET EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF) $sql" | grep -oE '(Memory Usage|Disk Usage|Memory|Disk): [0-9]+kB' | sort -u | tr '\n' ' ')
	printf '%s | %.2f | %s\n' "$name" "$med" "$mem"
done <<<"$QUERIES"

echo
for name in hll "fingerprint_agg(ts,prompt)" "fingerprint_agg(all 8)"; do
	printf 'ratio %s / floor = %.2f\n' "$name" "$(awk "BEGIN{print ${best[$name]} / ${best[floor]}}")"
done

echo
echo "fingerprint size distribution (bytes, all 8 columns):"
q -c "SELECT 'min ' || min(s) || ', p50 ' || percentile_disc(0.5) WITHIN GROUP (ORDER BY s) ||
	', p99 ' || percentile_disc(0.99) WITHIN GROUP (ORDER BY s) || ', max ' || max(s)
	FROM (SELECT fingerprint_size(fingerprint_agg(ts, prompt, client_ip, user_agent, payment, model, tokens_in, tokens_out)) s
	      FROM log GROUP BY account_id) f"
