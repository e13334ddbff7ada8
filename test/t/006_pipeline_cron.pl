# The pipeline scheduled with pg_cron: a job that runs lockstep_refresh
# fills the views, as the README's recipe says.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(sleep);
use LsTest;

psql_ok(q{
	SET timezone = 'UTC';
	CREATE TABLE api_log AS SELECT * FROM lockstep_synth_log(100000, 3);
	SELECT lockstep_create_pipeline('nightly', 'api_log', 28, NULL, '{"min_size": 5}');
});
is(psql_ok('SELECT count(*) FROM nightly_daily'), '0', 'nothing computed before the job runs');

# pg_cron lives in the postgres database and runs the job in this one
my ($rc, $out, $err) = psql(q{
	CREATE EXTENSION IF NOT EXISTS pg_cron;
	SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname = 'lockstep-nightly';
	SELECT cron.schedule_in_database('lockstep-nightly', '* * * * *',
	                                 $$CALL lockstep_refresh('nightly', '2026-02-28')$$, 'lockstep_tap') > 0;
}, db => 'postgres');
is($rc, 0, 'job scheduled with cron.schedule_in_database') or diag($err);

# cron runs at the top of each minute
my $status = '';
for (1 .. 130)
{
	$status = (psql(q{SELECT string_agg(status, ',') FROM cron.job_run_details d
	                  JOIN cron.job j USING (jobid) WHERE j.jobname = 'lockstep-nightly'
	                  AND status IN ('succeeded', 'failed')}, db => 'postgres'))[1];
	last if $status;
	sleep 1;
}
like($status, qr/^succeeded/, "the scheduled refresh ran: $status");
cmp_ok(psql_ok('SELECT count(DISTINCT day) FROM nightly_daily'), '>=', 20, 'daily fingerprints stored');
cmp_ok(psql_ok('SELECT count(*) FROM nightly_campaigns WHERE flagged'), '>=', 1, 'campaigns scored and flagged');

psql(q{SELECT cron.unschedule('lockstep-nightly')}, db => 'postgres');
done_testing();
