#!/usr/bin/env bash
# Benchmark: the whole detection pipeline on a generated log, time per
# stage and end to end, then one more day added incrementally; quality
# against the generator's labels.  Not part of CI.
# Usage: bench/pipeline.sh [ROWS]   (default 16000000: ~24,000 campaign accounts)
#   VERSIONS="0.3.0 0.4.0" in the environment runs the pipeline of each
#   installed extension version, one after the other, on copies of the same
#   log in one cluster (the same library serves every version's SQL).
#   WORKERS="0 2" runs the current version once per lockstep.refresh_workers
#   value instead (0: the days one by one in the refreshing session).
#   SETTINGS='{"recluster_hours": 48}' passes settings to the current
#   version's pipeline (older versions get their defaults): with
#   recluster_hours, the one more day keeps the full pipeline's clustering.
#   LIBS="0.3.0=/path/to/lockstep.so" runs that version on its own
#   library (a release's build, for the release's own figures) instead of
#   this tree's: the file is swapped into the server's library directory
#   for that version's run (each psql call is a new backend, which loads
#   it) and this tree's put back after.  0.3.0's build:
#     git worktree add /tmp/ls030 35dcd45^ && make -C /tmp/ls030 lockstep.so
#   JIT=on runs every refresh with PostgreSQL's default jit = on (the
#   default here is off, as every figure before 2026-12-07 was measured).
set -u
LS_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$LS_ROOT/test/lib.sh"
ROWS=${1:-16000000}

ls_setup

SET="SET work_mem = '1GB'; SET max_parallel_workers_per_gather = 2; SET jit = ${JIT:-off}; SET client_min_messages = debug1;"

CURRENT=$(sed -n "s/^default_version *= *'\(.*\)'/\1/p" "$LS_ROOT/lockstep.control")
VERSIONS=${VERSIONS:-$CURRENT}
# runs: VERSION or VERSION/WORKERS
if [ -n "${WORKERS:-}" ]; then
	VERSIONS=$(for w in $WORKERS; do printf '%s/%s ' "$CURRENT" "$w"; done)
fi
q -c "CREATE DATABASE bench_log"
export PGDATABASE=bench_log
q -c "CREATE EXTENSION lockstep_synth"
t0=$(date +%s.%N)
# a request log is appended in time order; a BRIN index finds each day
q -c "CREATE TABLE log AS SELECT * FROM lockstep_synth_log($ROWS, 42) ORDER BY ts" \
  -c "CREATE INDEX ON log USING brin (ts)" -c "VACUUM ANALYZE log" \
  -c "CREATE TABLE labels AS SELECT * FROM lockstep_synth_accounts($ROWS, 42)" \
  -c "CREATE TABLE releases AS SELECT * FROM lockstep_synth_releases()"
t1=$(date +%s.%N)
printf 'generated %s rows (%s accounts, %s campaign accounts) in %.1f s\n' "$ROWS" \
	"$(q -c 'SELECT count(*) FROM labels')" "$(q -c 'SELECT count(*) FROM labels WHERE campaign IS NOT NULL')" \
	"$(awk "BEGIN{print $t1 - $t0}")"

# the last day of the log is left for the incremental run
last=$(q -c "SELECT max((ts AT TIME ZONE 'UTC')::date) FROM log")
run() {
	local label=$1 through=$2 s e
	s=$(date +%s.%N)
	q -c "$RUN_SET" -c "CALL lockstep_refresh('bench', '$through')" 2>&1 |
		grep -E 'lockstep_refresh\(|fingerprint_clusters:' | sed 's/^DEBUG:  /  /'
	e=$(date +%s.%N)
	printf '%s: %.1f s end to end\n\n' "$label" "$(awk "BEGIN{print $e - $s}")"
}
LIBDIR=$("$PG_CONFIG" --pkglibdir)
cp "$LIBDIR/lockstep.so" "$LS_TMP/lockstep.so.tree"
# (a rename, so that a backend still running the other file keeps it)
use_lib() { cp "$1" "$LIBDIR/.lockstep.so.new" && mv -f "$LIBDIR/.lockstep.so.new" "$LIBDIR/lockstep.so"; }
trap 'use_lib "$LS_TMP/lockstep.so.tree"; ls_stop_cluster' EXIT
for run_id in $VERSIONS; do
v=${run_id%%/*}
lib="$LS_TMP/lockstep.so.tree"
for l in ${LIBS:-}; do [ "${l%%=*}" = "$v" ] && lib=${l#*=}; done
use_lib "$lib"
RUN_SET=$SET
case $run_id in */*) RUN_SET="$SET SET lockstep.refresh_workers = ${run_id#*/};" ;; esac
export PGDATABASE=bench_${run_id//[.\/]/_}
psql -X -q -d postgres -c "CREATE DATABASE $PGDATABASE TEMPLATE bench_log"
settings=
[ "$v" = "$CURRENT" ] && settings=", '${SETTINGS:-{\}}'"
q -c "CREATE EXTENSION lockstep VERSION '$v'" -c "SELECT lockstep_create_pipeline('bench', 'log', 28, 'releases'$settings)" >/dev/null
echo
echo "######## lockstep $run_id ($([ "$lib" = "$LS_TMP/lockstep.so.tree" ] && echo "this tree's library" || echo "library $lib"))"
echo "== full pipeline, every day but the last ($(q -c "SELECT min((ts AT TIME ZONE 'UTC')::date) FROM log") to $(q -c "SELECT '$last'::date - 1"))"
run "full pipeline" "$(q -c "SELECT '$last'::date - 1")"
echo "== one more day ($last), views refreshed concurrently"
run "incremental day" "$last"

echo "== quality (accounts)"
q -F ' | ' -c "
SELECT 'precision ' || round(count(*) FILTER (WHERE a.flagged AND l.campaign IS NOT NULL)::numeric / nullif(count(*) FILTER (WHERE a.flagged), 0), 4),
       'recall ' || round(count(*) FILTER (WHERE a.flagged AND l.campaign IS NOT NULL)::numeric / count(*) FILTER (WHERE l.campaign IS NOT NULL), 4),
       'integrations flagged ' || count(*) FILTER (WHERE a.flagged AND l.kind = 'integration'),
       'enterprise flagged ' || count(*) FILTER (WHERE a.flagged AND l.kind = 'enterprise')
FROM labels l LEFT JOIN bench_accounts a USING (account_id)"
echo "== clusters of each campaign (flagged ones)"
q -F ' | ' -c "
SELECT l.campaign, count(*) AS accounts, count(*) FILTER (WHERE a.flagged) AS flagged,
       count(DISTINCT a.cluster) FILTER (WHERE a.flagged) AS clusters,
       (SELECT count(*) FROM bench_accounts a2 JOIN labels l2 USING (account_id)
        WHERE a2.cluster = ANY (array_agg(a.cluster)) AND coalesce(l2.campaign, '') <> l.campaign) AS others_in_its_clusters
FROM labels l LEFT JOIN bench_accounts a USING (account_id) WHERE l.campaign IS NOT NULL GROUP BY 1 ORDER BY 1"
echo "== top clusters"
q -F ' | ' -c "SELECT cluster, accounts, round(score::numeric, 3), flagged, evidence->'fired' FROM bench_campaigns ORDER BY score DESC LIMIT 6"
done
