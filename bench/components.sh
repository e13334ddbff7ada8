#!/usr/bin/env bash
# Benchmark: connected components of one edge list, in one run, by
# lockstep_clusters, pgRouting's pgr_connectedComponents and a recursive
# CTE.  The graph: NODES nodes in groups of 20, each node linked to two
# random members of its group (so 2 x NODES edges), like the many small
# clusters of a similarity graph.  Not part of CI.
# Usage: bench/components.sh [NODES] [RUNS]   (default 500000 3: 1M edges)
set -u
LS_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$LS_ROOT/test/lib.sh"
NODES=${1:-500000}
RUNS=${2:-3}

ls_setup postgresql-15-pgrouting

SET="SET work_mem = '1GB'; SET jit = off;"

q -c "CREATE EXTENSION lockstep; CREATE EXTENSION lockstep_synth; CREATE EXTENSION pgrouting CASCADE;" 2>/dev/null
q -c "CREATE TABLE edges AS
      SELECT row_number() OVER () AS id, n AS source,
             (n / 20) * 20 + abs(hashint8(n * 2 + k)) % 20 AS target, 1.0::float8 AS cost
      FROM generate_series(0, $NODES - 1) n, generate_series(0, 1) k" \
  -c "ANALYZE edges"
printf 'graph: %s nodes, %s edges\n\n' "$NODES" "$(q -c 'SELECT count(*) FROM edges')"

read -r -d '' QUERIES <<'Q'
lockstep_clusters|SELECT count(DISTINCT cluster) FROM lockstep_clusters('SELECT source, target FROM edges')
pgr_connectedComponents|SELECT count(DISTINCT component) FROM pgr_connectedComponents('SELECT id, source, target, cost, cost AS reverse_cost FROM edges')
recursive CTE|WITH RECURSIVE e AS (SELECT source AS a, target AS b FROM edges UNION ALL SELECT target, source FROM edges), r(node, root) AS (SELECT a, a FROM e UNION SELECT e.b, r.root FROM r JOIN e ON e.a = r.node) SELECT count(DISTINCT c) FROM (SELECT node, min(root) AS c FROM r GROUP BY node) x
Q

declare -A best
declare -A comps
echo "method | median s of $RUNS | components"
while IFS='|' read -r name sql; do
	times=()
	for _ in $(seq "$RUNS"); do
		s=$(date +%s.%N)
		comps[$name]=$(q -c "$SET $sql")
		e=$(date +%s.%N)
		times+=("$(awk "BEGIN{print $e - $s}")")
	done
	best[$name]=$(printf '%s\n' "${times[@]}" | sort -n | sed -n "$(( (RUNS + 1) / 2 ))p")
	printf '%s | %.2f | %s\n' "$name" "${best[$name]}" "${comps[$name]}"
done <<<"$QUERIES"
echo
for name in pgr_connectedComponents "recursive CTE"; do
	printf 'ratio %s / lockstep_clusters = %.1f\n' "$name" "$(awk "BEGIN{print ${best[$name]} / ${best[lockstep_clusters]}}")"
done
# the three must agree
[ "${comps[lockstep_clusters]}" = "${comps[pgr_connectedComponents]}" ] &&
	[ "${comps[lockstep_clusters]}" = "${comps[recursive CTE]}" ] || { echo "the component counts differ"; exit 1; }
