#!/usr/bin/env bash
# Load test: writers append to the log while pg_cron refreshes the pipeline
# every minute and readers query the dashboard views, all at once, on a
# throwaway cluster.  Reports errors, rows lost (every appended row must be
# counted in a stored day by the end) and the readers' latency while a
# REFRESH ... CONCURRENTLY runs and while none does.  Not part of CI.
# Usage: bench/load.sh [SECONDS] [WRITERS] [READERS]   (default 600 8 4)
set -u
LS_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$LS_ROOT/test/lib.sh"
SECS=${1:-600}
WRITERS=${2:-8}
READERS=${3:-4}

LS_PRELOAD=pg_cron ls_setup postgresql-15-cron
DIR=$LS_TMP/load
mkdir -p "$DIR" && chmod 777 "$DIR"

# a 200k-row log whose last day is yesterday, and the pipeline over it
q -c "CREATE EXTENSION lockstep; CREATE EXTENSION lockstep_synth; CREATE EXTENSION pg_cron" >/dev/null
q <<'SQL'
CREATE TABLE log AS
SELECT account_id, ts + ((now() AT TIME ZONE 'UTC')::date - date '2026-02-02') * interval '1 day' AS ts,
       prompt, client_ip, user_agent, payment, model, tokens_in, tokens_out, org_id
FROM lockstep_synth_log(200000, 42);
CREATE INDEX ON log USING brin (ts);
CREATE TABLE releases AS
SELECT model, released_at + ((now() AT TIME ZONE 'UTC')::date - date '2026-02-02') * interval '1 day' AS released_at
FROM lockstep_synth_releases();
SELECT lockstep_create_pipeline('load', 'log', 28, 'releases', '{"min_size": 5}');
-- today's rows are a partial day: the cron job stores it, and each later
-- refresh computes it again as its row count grows
CALL lockstep_refresh('load', (now() AT TIME ZONE 'UTC')::date);
SELECT cron.schedule('lockstep-load', '* * * * *',
                     $$CALL lockstep_refresh('load', (now() AT TIME ZONE 'UTC')::date)$$);
SQL
echo "log: $(q -c 'SELECT count(*) FROM log') rows; pipeline: $(q -c 'SELECT count(*) FROM load_daily') daily fingerprints"

# writers: one row a transaction, a random account, a time up to two days
# back (late rows within late_days); readers: what a dashboard asks
cat >"$DIR/write.sql" <<'SQL'
\set a random(1, 5000)
INSERT INTO log (account_id, ts, prompt, client_ip, user_agent, payment, model, tokens_in, tokens_out)
VALUES (:a * 48271, now() - random() * interval '2 days',
        'Summarize ticket ' || :a || ' and grade the reply from 1 to 10, step by step.',
        ('10.' || (:a % 200) || '.0.1')::inet, 'sdk/2.1', 'card-' || (:a % 300), 'frontier-2', 100, 400);
SQL
cat >"$DIR/read.sql" <<'SQL'
SELECT cluster, accounts, score, evidence->'fired' FROM load_campaigns WHERE flagged ORDER BY score DESC LIMIT 20;
SELECT account_id, score FROM load_accounts WHERE flagged ORDER BY score DESC LIMIT 100;
SQL
chmod 644 "$DIR"/*.sql
rows_before=$(q -c 'SELECT count(*) FROM log')
start=$(q -c 'SELECT now()')
echo "running ${SECS} s: $WRITERS writers (200 rows/s in all), $READERS readers, pg_cron refreshing every minute"
(cd "$DIR" && pgbench -n -c "$WRITERS" -j 2 -T "$SECS" -R 200 -f write.sql >writers.out 2>&1) &
wpid=$!
(cd "$DIR" && pgbench -n -c "$READERS" -j 2 -T "$SECS" -l --log-prefix=read -f read.sql >readers.out 2>&1) &
rpid=$!
wait $wpid; wrc=$?
wait $rpid; rrc=$?
# the job may still be running: wait for it, then one last refresh
while [ "$(q -c "SELECT count(*) FROM cron.job_run_details WHERE status IN ('starting', 'running')")" != 0 ]; do sleep 2; done
q -c "CALL lockstep_refresh('load', (now() AT TIME ZONE 'UTC')::date)" >/dev/null

echo
echo "== errors"
grep -hE 'number of (transactions actually processed|failed transactions)|aborted|ERROR' "$DIR/writers.out" | sed 's/^/writers: /'
grep -hE 'number of (transactions actually processed|failed transactions)|aborted|ERROR' "$DIR/readers.out" | sed 's/^/readers: /'
echo "pgbench exit codes: writers $wrc, readers $rrc"
q -F ' | ' -c "SELECT 'cron refreshes: ' || count(*) || ', failed ' || count(*) FILTER (WHERE status <> 'succeeded')
               FROM cron.job_run_details WHERE start_time >= '$start'"
q -c "SELECT 'failure: ' || return_message FROM cron.job_run_details WHERE status <> 'succeeded' LIMIT 3"

echo "== rows lost"
q -F ' | ' <<SQL
SELECT 'appended ' || ($(q -c 'SELECT count(*) FROM log') - $rows_before) AS appended,
       'log rows in the stored days ' || sum(l.n) AS in_log,
       'counted by the pipeline ' || sum(d.rows) AS counted,
       'rows lost ' || sum(l.n) - sum(d.rows) AS lost,
       'days whose count differs ' || count(*) FILTER (WHERE l.n IS DISTINCT FROM d.rows) AS days_differ
FROM load_days d
LEFT JOIN (SELECT (ts AT TIME ZONE 'UTC')::date AS day, count(*) AS n FROM log GROUP BY 1) l USING (day);
SQL
q -F ' | ' -c "SELECT 'appended rows in no stored day: ' || count(*) FROM log
               WHERE (ts AT TIME ZONE 'UTC')::date NOT IN (SELECT day FROM load_days) AND ts >= '$start'::timestamptz - interval '2 days'"

echo "== reader latency (ms), while a refresh of the views runs and while none does"
cat "$DIR"/read.[0-9]* >"$DIR/read.log"
q <<SQL
CREATE TEMP TABLE lat (client int, tx bigint, us bigint, script int, epoch bigint, usec bigint);
\copy lat FROM '$DIR/read.log' WITH (DELIMITER ' ')
CREATE TEMP TABLE win AS SELECT start_time, end_time FROM cron.job_run_details WHERE start_time >= '$start';
SELECT CASE WHEN EXISTS (SELECT 1 FROM win WHERE to_timestamp(epoch + usec / 1e6) BETWEEN start_time AND end_time)
            THEN 'during a refresh' ELSE 'no refresh' END AS readers,
       count(*) AS queries,
       round((percentile_cont(0.5) WITHIN GROUP (ORDER BY us) / 1000.0)::numeric, 1) AS p50,
       round((percentile_cont(0.95) WITHIN GROUP (ORDER BY us) / 1000.0)::numeric, 1) AS p95,
       round((percentile_cont(0.99) WITHIN GROUP (ORDER BY us) / 1000.0)::numeric, 1) AS p99,
       round(max(us) / 1000.0, 1) AS max
FROM lat GROUP BY 1 ORDER BY 1;
SQL
