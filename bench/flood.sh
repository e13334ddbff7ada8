#!/usr/bin/env bash
# Benchmark: a flood of one-row accounts beside the demo's campaigns (issue
# 20).  For each N, the demo's log of ROWS rows plus N accounts of one
# request each (their own prompt, address and card; one agent), in the
# 28 days before the log's last midnight, through the whole
# pipeline with the default settings and memory limit: the refresh's time,
# the most memory a clustering pass charged, the refreshing backend's peak
# resident memory, the campaigns' accounts flagged, and the thin accounts
# the refresh reports with what most of them share.  (Issue 20 found
# 0.3.0 past lockstep.pairs_memory_limit at 600,000 such accounts.)
# Not part of CI.
# Usage: bench/flood.sh [ROWS] [N ...]   (default 1000000, 100000 1000000);
#   SETTINGS='{"min_requests": 1}' clusters every account, as 0.3.0 did.
set -eu
LS_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$LS_ROOT/test/lib.sh"
ROWS=${1:-1000000}
shift || true
FLOODS=${*:-100000 1000000}
SETTINGS=${SETTINGS:-'{}'}

LS_PORT=${LS_PORT:-54333} ls_setup
q -c "CREATE EXTENSION lockstep; CREATE EXTENSION lockstep_synth" \
  -c "CREATE TABLE releases AS SELECT * FROM lockstep_synth_releases()" \
  -c "CREATE TABLE labels AS SELECT * FROM lockstep_synth_accounts($ROWS, 42)"
echo "flood (one-row accounts) | rows | refresh s | clustering MB | backend peak MB | campaign accounts flagged | other accounts flagged | notice | shared"
for n in $FLOODS; do
	q -c "DROP TABLE IF EXISTS log" \
	  -c "CREATE TABLE log AS
		  SELECT account_id, org_id, ts, prompt, client_ip, user_agent, payment, model, tokens_in, tokens_out
		  FROM lockstep_synth_log($ROWS, 42)" \
	  -c "INSERT INTO log
		  SELECT 3000000000 + g, NULL, e.midnight - (1 + g % 2419200) * interval '1 second',
				 'question ' || md5(g::text), ('10.' || (g >> 16) % 256 || '.' || (g >> 8) % 256 || '.' || g % 256)::inet,
				 'flood/1.0', 'card_' || g, 'frontier-1', 20, 300
		  FROM generate_series(1, $n) g,
			   (SELECT date_trunc('day', max(ts), 'UTC') AS midnight FROM log) e" \
	  -c "CREATE INDEX ON log USING brin (ts)" -c "VACUUM ANALYZE log" \
	  -c "SELECT lockstep_create_pipeline('flood', 'log', 28, 'releases', '$SETTINGS')" >/dev/null
	last=$(q -c "SELECT max((ts AT TIME ZONE 'UTC')::date) FROM log")
	s=$(date +%s.%N)
	# the refreshing backend's peak resident memory (VmHWM; its parallel
	# workers, if any, not counted), read before the session ends
	out=$(q -v last="$last" 2>&1 <<'SQL'
SET client_min_messages = debug1;
SET jit = off;
SELECT pg_backend_pid() AS pid \gset
\setenv BACKEND :pid
CALL lockstep_refresh('flood', :'last');
\! sed -n 's/^VmHWM:[[:space:]]*\([0-9]*\) kB/peak \1 kB/p' /proc/$BACKEND/status
SQL
) || true
	e=$(date +%s.%N)
	mb=$(printf '%s\n' "$out" | sed -n 's/.* \([0-9][0-9]*\) MB of lockstep.pairs_memory_limit.*/\1/p' | sort -n | tail -1)
	peak=$(printf '%s\n' "$out" | sed -n 's/^peak \([0-9]*\) kB/\1/p')
	notice=$(printf '%s\n' "$out" | grep -oE 'sent fewer than.*|views were not refreshed: .*' | head -1)
	shared=$(printf '%s\n' "$out" | grep -oE 'Most shared among them: [^.]*' | head -1)
	if printf '%s\n' "$out" | grep -q 'views were not refreshed'; then
		flagged="no views | -"
	else
		flagged=$(q -F ' | ' -c "SELECT count(*) FILTER (WHERE l.campaign IS NOT NULL) || ' of ' ||
			(SELECT count(*) FROM labels WHERE campaign IS NOT NULL), count(*) FILTER (WHERE l.campaign IS NULL)
			FROM flood_accounts a LEFT JOIN labels l USING (account_id) WHERE a.flagged")
	fi
	printf '%s | %s | %.1f | %s | %s | %s | %s | %s\n' "$n" "$(q -c 'SELECT count(*) FROM log')" \
		"$(awk "BEGIN{print $e - $s}")" "${mb:-?}" "$(( ${peak:-0} / 1024 ))" "$flagged" "${notice:-none}" "${shared:--}"
	q -c "SELECT lockstep_drop_pipeline('flood')" >/dev/null
done
