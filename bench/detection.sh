#!/usr/bin/env bash
# Benchmark: time to detection.  A generated log is replayed hour by hour
# into a live table; after each hour a refresh through the day so far
# (CALL lockstep_refresh(name, current day)) updates the pipeline, and each
# campaign's state is recorded.  Reported per campaign: its first request
# to the new model (frontier-2, released 2026-01-23 00:00 UTC), the first
# refresh after which a flagged cluster of its accounts shows the pivot
# (the signal fired), the hours between, and the hours from the release;
# the accounts of other kinds flagged at any hour (hard negatives); and
# each refresh's seconds.  The live log has a B-tree index on ts, vacuumed
# as autovacuum would: rows appended after a VACUUM fill the free space of
# old pages, and a BRIN index then matches most of the table for any day.
# Not part of CI.
# Usage: bench/detection.sh [ROWS] [VARIANT] [FROM] [HOURS]
#   (default 1000000 base '2026-01-22 18:00+00' 30: the replay starts 6 hours
#   before the release and runs 30 one-hour steps; the rows before FROM are
#   refreshed at once first); SETTINGS='{"recluster_hours": 24}' in the
#   environment passes settings to the pipeline; JIT=on refreshes with
#   PostgreSQL's default jit = on (off otherwise)
set -eu
LS_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$LS_ROOT/test/lib.sh"
ROWS=${1:-1000000}
VARIANT=${2:-base}
FROM=${3:-2026-01-22 18:00+00}
HOURS=${4:-30}
SETTINGS=${SETTINGS:-'{}'}

LS_PORT=${LS_PORT:-54332} ls_setup

q -c "CREATE EXTENSION lockstep; CREATE EXTENSION lockstep_synth" \
  -c "CREATE TABLE releases AS SELECT * FROM lockstep_synth_releases()" \
  -c "CREATE TABLE full_log AS SELECT * FROM lockstep_synth_log($ROWS, 42, '$VARIANT') ORDER BY ts" \
  -c "CREATE TABLE labels AS SELECT * FROM lockstep_synth_accounts($ROWS, 42, '$VARIANT')" \
  -c "CREATE TABLE live_log AS SELECT * FROM full_log WHERE ts < '$FROM'" \
  -c "CREATE INDEX ON live_log (ts)" -c "VACUUM ANALYZE live_log" \
  -c "SELECT lockstep_create_pipeline('live', 'live_log', 28, 'releases', '$SETTINGS')" \
  -c "CREATE TABLE steps (hour timestamptz, seconds numeric, campaign text, accounts_seen bigint,
        flagged bigint, pivot_fired boolean)" \
  -c "CREATE TABLE negatives (hour timestamptz, kind text, flagged bigint)" >/dev/null

SET="SET work_mem = '1GB'; SET jit = ${JIT:-off};"
record() {
	local hour=$1 secs=$2
	q -c "
	INSERT INTO steps
	SELECT '$hour', $secs, l.campaign, count(*) FILTER (WHERE p.account_id IS NOT NULL),
	       count(*) FILTER (WHERE a.flagged),
	       coalesce(bool_or(a.flagged AND c.evidence->'fired' ? 'pivot'), false)
	FROM labels l
	LEFT JOIN (SELECT DISTINCT account_id FROM live_log) p USING (account_id)
	LEFT JOIN live_accounts a USING (account_id)
	LEFT JOIN live_campaigns c ON c.cluster = a.cluster
	WHERE l.campaign IS NOT NULL GROUP BY l.campaign;
	INSERT INTO negatives
	SELECT '$hour', l.kind, count(*) FROM live_accounts a JOIN labels l USING (account_id)
	WHERE a.flagged AND l.campaign IS NULL GROUP BY l.kind;"
}
refresh() {
	local through=$1 s e
	s=$(date +%s.%N)
	q -c "$SET" -c "CALL lockstep_refresh('live', '$through')" >/dev/null
	e=$(date +%s.%N)
	awk "BEGIN{printf \"%.1f\", $e - $s}"
}

first=$(q -c "SELECT (('$FROM'::timestamptz - interval '1 microsecond') AT TIME ZONE 'UTC')::date")
secs=$(refresh "$first")
record "$FROM" "$secs"
printf 'rows before %s, refreshed at once in %s s\n' "$FROM" "$secs"
for i in $(seq 0 $((HOURS - 1))); do
	hour=$(q -c "SELECT '$FROM'::timestamptz + interval '$i hours'")
	next=$(q -c "SELECT '$FROM'::timestamptz + interval '$((i + 1)) hours'")
	q -c "INSERT INTO live_log SELECT * FROM full_log WHERE ts >= '$hour' AND ts < '$next'" >/dev/null
	through=$(q -c "SELECT (('$next'::timestamptz - interval '1 microsecond') AT TIME ZONE 'UTC')::date")
	secs=$(refresh "$through")
	record "$next" "$secs"
	printf '%s: refreshed in %s s; flagged: %s\n' "$next" "$secs" \
		"$(q -c "SELECT string_agg(campaign || ' ' || flagged || '/' || accounts_seen || CASE WHEN pivot_fired THEN ' pivot' ELSE '' END, ', ' ORDER BY campaign) FROM steps WHERE hour = '$next'")"
done

echo
echo "== time to detection ($ROWS rows, variant $VARIANT; the release of frontier-2 at 2026-01-23 00:00 UTC)"
q -F ' | ' -c "
WITH first_use AS (
	SELECT l.campaign, min(f.ts) AS first_request
	FROM full_log f JOIN labels l USING (account_id)
	WHERE l.campaign IS NOT NULL AND f.model = 'frontier-2' GROUP BY 1),
seen AS (SELECT campaign, min(hour) FILTER (WHERE pivot_fired) AS pivot_flagged,
				min(hour) FILTER (WHERE flagged > 0) AS first_flag FROM steps GROUP BY 1)
SELECT 'campaign ' || s.campaign, 'first request to frontier-2 ' || to_char(u.first_request AT TIME ZONE 'UTC', 'MM-DD HH24:MI'),
	   'pivot flagged after the refresh of ' || coalesce(to_char(s.pivot_flagged AT TIME ZONE 'UTC', 'MM-DD HH24:MI'), 'none'),
	   'hours from its first request ' || coalesce(round(extract(epoch FROM s.pivot_flagged - u.first_request) / 3600, 1)::text, '-'),
	   'hours from the release ' || coalesce(round(extract(epoch FROM s.pivot_flagged - timestamptz '2026-01-23 00:00+00') / 3600, 1)::text, '-'),
	   'first flagged after the refresh of ' || coalesce(to_char(s.first_flag AT TIME ZONE 'UTC', 'MM-DD HH24:MI'), 'none')
FROM seen s LEFT JOIN first_use u USING (campaign) ORDER BY 1"
echo "== hard negatives flagged at any hour"
q -F ' | ' -c "SELECT coalesce(string_agg(kind || ' ' || m, ', '), 'none') FROM (SELECT kind, max(flagged) AS m FROM negatives GROUP BY 1) x"
echo "== refresh seconds (hourly steps)"
q -F ' | ' -c "SELECT 'median ' || round(percentile_cont(0.5) WITHIN GROUP (ORDER BY seconds)::numeric, 2), 'max ' || max(seconds)
               FROM (SELECT DISTINCT hour, seconds FROM steps WHERE hour > '$FROM') x"
echo "== each hourly refresh: its stages' seconds, the window fingerprints it computed, whether it clustered"
q -F ' | ' -c "SELECT to_char(started_at AT TIME ZONE 'UTC', 'HH24:MI:SS'), stage_seconds, window_accounts,
                      CASE WHEN clustered_with IS NULL THEN 'kept' ELSE 'clustered' END
               FROM live_refreshes ORDER BY started_at OFFSET 1"
