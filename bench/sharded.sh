#!/usr/bin/env bash
# Benchmark: the pipeline on one node and on a log sharded over 3 local
# shard clusters (postgres_fdw foreign partitions, hashed by account, as in
# docs/scaling.md), the same rows.  For each: the daily stage
# (the shards' fingerprint_agg) and the refresh end to end, then the ratio
# sharded / one node, and the EXPLAIN excerpt that shows the pushdown.
# All servers share this machine's cores, so the ratio measures what
# sharding costs (shipping, merging), not what separate machines gain.
# Not part of CI.
# Usage: bench/sharded.sh [ROWS]   (default 4000000)
set -eu
LS_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$LS_ROOT/test/lib.sh"
ROWS=${1:-4000000}
NSHARDS=3

LS_PORT=${LS_PORT:-54332} ls_setup
COORD_HOST=$PGHOST COORD_PORT=$PGPORT
SHARD_DIRS=()
stop_all() {
	for d in "${SHARD_DIRS[@]}"; do
		$LS_AS pg_ctl -D "$d/data" -m fast -w stop >/dev/null 2>&1 || true
		rm -rf "$d"
	done
	ls_stop_cluster
}
trap stop_all EXIT

# shard i: a cluster of its own, port 54333 + i
shard() { PGHOST=${SHARD_DIRS[$1]} PGPORT=$((54333 + $1)) "${@:2}"; }
for i in $(seq 0 $((NSHARDS - 1))); do
	SHARD_DIRS+=("$(LS_PORT=$((54333 + i)) bash -c '. "$0/test/lib.sh"; ls_start_cluster >/dev/null && echo "$LS_TMP"' "$LS_ROOT")")
done

COLUMNS='request_id bigint, account_id bigint, org_id bigint, ts timestamptz, prompt text,
	client_ip inet, user_agent text, payment text, model text, tokens_in integer, tokens_out integer'
q -c "CREATE EXTENSION lockstep; CREATE EXTENSION lockstep_synth; CREATE EXTENSION postgres_fdw" \
  -c "CREATE TABLE releases AS SELECT * FROM lockstep_synth_releases()" \
  -c "CREATE TABLE log AS SELECT * FROM lockstep_synth_log($ROWS, 42) ORDER BY ts" \
  -c "CREATE INDEX ON log USING brin (ts)" -c "VACUUM ANALYZE log" \
  -c "CREATE TABLE staged ($COLUMNS) PARTITION BY HASH (account_id)"
for i in $(seq 0 $((NSHARDS - 1))); do
	q -c "CREATE TABLE staged_$i PARTITION OF staged FOR VALUES WITH (MODULUS $NSHARDS, REMAINDER $i)"
done
q -c "INSERT INTO staged SELECT * FROM log ORDER BY ts"
for i in $(seq 0 $((NSHARDS - 1))); do
	shard "$i" q -c "CREATE EXTENSION lockstep" -c "CREATE TABLE log ($COLUMNS)"
	q -c "COPY staged_$i TO STDOUT" | shard "$i" q -c "COPY log FROM STDIN"
	shard "$i" q -c "CREATE INDEX ON log USING brin (ts)" -c "VACUUM ANALYZE log"
	q -c "CREATE SERVER shard$i FOREIGN DATA WRAPPER postgres_fdw
			OPTIONS (host '${SHARD_DIRS[$i]}', port '$((54333 + i))', dbname 'postgres',
					 extensions 'lockstep', async_capable 'true', fetch_size '10000')" \
	  -c "CREATE USER MAPPING FOR CURRENT_USER SERVER shard$i OPTIONS (user 'postgres')"
done
q -c "DROP TABLE staged" -c "CREATE TABLE sharded ($COLUMNS) PARTITION BY HASH (account_id)"
for i in $(seq 0 $((NSHARDS - 1))); do
	q -c "CREATE FOREIGN TABLE sharded_$i PARTITION OF sharded FOR VALUES WITH (MODULUS $NSHARDS, REMAINDER $i)
			SERVER shard$i OPTIONS (table_name 'log')"
	echo "shard $i: $(shard "$i" q -c 'SELECT count(*) FROM log') rows"
done
q -c "ANALYZE sharded" \
  -c "SELECT lockstep_create_pipeline('one', 'log', 28, 'releases')" \
  -c "SELECT lockstep_create_pipeline('sh', 'sharded', 28, 'releases')" >/dev/null

SET="SET work_mem = '1GB'; SET jit = off; SET client_min_messages = debug1;"
last=$(q -c "SELECT max((ts AT TIME ZONE 'UTC')::date) FROM log")
next=$(q -c "SELECT '$last'::date + 1")
declare -A DAILY TOTAL
run() {
	local name=$1 s e out
	s=$(date +%s.%N)
	out=$(q -c "$SET" -c "CALL lockstep_refresh('$name', '$last')" 2>&1)
	e=$(date +%s.%N)
	echo "$out" | grep -E 'lockstep_refresh\(' | sed 's/^DEBUG:  /  /'
	DAILY[$name]=$(echo "$out" | sed -n 's/.*recomputed in \([0-9.]*\) s.*/\1/p')
	TOTAL[$name]=$(awk "BEGIN{printf \"%.1f\", $e - $s}")
	printf '%s: daily stage %s s, %s s end to end\n\n' "$name" "${DAILY[$name]}" "${TOTAL[$name]}"
}
echo
echo "== $ROWS rows on one node"
run one
echo "== the same rows on $NSHARDS shards"
run sh

same=$(q -c "SELECT count(*) FROM (SELECT account_id FROM one_accounts WHERE flagged) a
	FULL JOIN (SELECT account_id FROM sh_accounts WHERE flagged) b USING (account_id)
	WHERE a.account_id IS NULL OR b.account_id IS NULL")
echo "flagged accounts that differ between one node and the shards: $same"
awk -v d1="${DAILY[one]}" -v ds="${DAILY[sh]}" -v t1="${TOTAL[one]}" -v ts="${TOTAL[sh]}" 'BEGIN {
	printf "ratio sharded / one node: daily stage %.2f, end to end %.2f\n", ds / d1, ts / t1 }'

echo
echo "== the pushdown: EXPLAIN VERBOSE of one day's aggregate as the refresh runs it (leaf by leaf)"
q -c "EXPLAIN (VERBOSE, COSTS OFF)
	SELECT account_id, fingerprint_union_agg(fp) FROM (
	$(q -c "SELECT lockstep_per_leaf(array_agg(relid::regclass ORDER BY relid),
		'SELECT account_id, fingerprint_agg(ts, prompt, client_ip, user_agent, payment, model, tokens_in, tokens_out) AS fp
		 FROM %s WHERE ts >= ''$last 00:00+00''::timestamptz AND ts < ''$next 00:00+00''::timestamptz
		 GROUP BY account_id')
		FROM pg_partition_tree('sharded') WHERE isleaf")) pl GROUP BY account_id" |
	grep -E 'Foreign Scan|Remote SQL' | sed 's/^ */  /' | cut -c1-240
