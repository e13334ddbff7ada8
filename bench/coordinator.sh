#!/usr/bin/env bash
# Benchmark: the coordinator's share at scale.  However the log is
# sharded, the similarity join and clustering read one fingerprint per
# account on one server.  This measures fingerprint_clusters (defaults)
# against the number of fingerprints: time, the memory it charges to
# lockstep.pairs_memory_limit, and the backend's peak resident memory.
#
# The fingerprints: every (account, day) fingerprint of a generated log,
# each taken as an account of its own (a 16M-row log gives about 2.1M),
# so that the set has a real log's mix (campaigns, users, apps, teams)
# at any size.  The first N in a hash order make each size.
# Not part of CI.
# Usage: bench/coordinator.sh [ROWS] [SIZES]
#   (default 16000000 rows, sizes "200000 1000000 2000000")
set -eu
LS_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$LS_ROOT/test/lib.sh"
ROWS=${1:-16000000}
SIZES=${2:-200000 1000000 2000000}

LS_PORT=${LS_PORT:-54336} ls_setup

q -c "CREATE EXTENSION lockstep; CREATE EXTENSION lockstep_synth" \
  -c "CREATE TABLE releases AS SELECT * FROM lockstep_synth_releases()" \
  -c "CREATE TABLE log AS SELECT * FROM lockstep_synth_log($ROWS, 42) ORDER BY ts" \
  -c "CREATE INDEX ON log USING brin (ts)" -c "VACUUM ANALYZE log" \
  -c "SELECT lockstep_create_pipeline('g', 'log', 28, 'releases')" >/dev/null
q -c "SET work_mem = '1GB'; SET jit = off" -c "CALL lockstep_refresh('g')"
q -c "CREATE TABLE fps AS
	SELECT row_number() OVER (ORDER BY hashint8(account_id) # hashint4(day - date '2000-01-01'), account_id, day) AS id, fp
	FROM g_daily" -c "CREATE UNIQUE INDEX ON fps (id)" -c "VACUUM ANALYZE fps"
echo "$(q -c 'SELECT count(*) FROM fps') fingerprints from $ROWS rows"
echo
printf '%-10s %10s %10s %14s %12s %10s\n' fingerprints seconds clusters clustered charged_MB peak_RSS_MB
for n in $SIZES; do
	out=$(q 2>&1 <<SQL
SET client_min_messages = debug1;
SET lockstep.pairs_memory_limit = '20GB';
SELECT extract(epoch FROM clock_timestamp()) AS t0 \gset
SELECT count(DISTINCT cluster) || ' ' || count(*) AS r
FROM fingerprint_clusters('SELECT id, fp FROM fps WHERE id <= $n') \gset
SELECT round((extract(epoch FROM clock_timestamp()) - :t0)::numeric, 1) || ' ' || :'r' || ' ' ||
       (regexp_match(pg_read_file('/proc/self/status'), 'VmHWM:\s+(\d+)'))[1]::bigint / 1024;
SQL
)
	charged=$(echo "$out" | sed -n 's/.* \([0-9]*\) MB of lockstep.pairs_memory_limit.*/\1/p')
	read -r secs clusters clustered peak <<<"$(echo "$out" | grep -v '^DEBUG' | tail -1)"
	n=$(echo "$out" | sed -n 's/.*fingerprint_clusters: \([0-9]*\) fingerprints.*/\1/p')
	printf '%-10s %10s %10s %14s %12s %10s\n' "$n" "$secs" "$clusters" "$clustered" "$charged" "$peak"
	echo "$out" | grep 'fingerprint_clusters:' | sed 's/^DEBUG:  /  /'
done
