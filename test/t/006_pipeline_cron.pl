# The pipeline scheduled with pg_cron: a job that runs lockstep_refresh
# fills the views, as the README's recipe says.
use strict;
use warnings;
use Test::More;
use LsTest;

psql_ok(q{
	SET timezone = 'UTC';
	CREATE TABLE api_log AS SELECT * FROM lockstep_synth_log(100000, 3);
	SELECT lockstep_create_pipeline('nightly', 'api_log', 28, NULL, '{"min_size": 5}');
});
is(psql_ok('SELECT count(*) FROM nightly_daily'), '0', 'nothing computed before the job runs');

# pg_cron lives in the postgres database and runs the job in this one
my ($cron_err, $status) = cron_run_once('lockstep-nightly', q{CALL lockstep_refresh('nightly', '2026-02-28')});
is($cron_err, '', 'job scheduled with cron.schedule_in_database');
like($status, qr/^succeeded/, "the scheduled refresh ran: $status");
cmp_ok(psql_ok('SELECT count(DISTINCT day) FROM nightly_daily'), '>=', 20, 'daily fingerprints stored');
cmp_ok(psql_ok('SELECT count(*) FROM nightly_campaigns WHERE flagged'), '>=', 1, 'campaigns scored and flagged');

done_testing();
