# Long aggregations stop promptly when cancelled or timed out.
use strict;
use warnings;
use Test::More;
use Time::HiRes qw(time sleep);
use LsTest;

# About a minute of work if nothing stops it: 2,000 prompts of 400,000 tokens.
my $long = q{SELECT fingerprint_agg(now(), p) FROM (SELECT repeat('alpha beta 42 ', 133333) || g AS p FROM generate_series(1, 2000) g) s};

my $t0 = time;
my ($rc, $out, $err) = psql("SET statement_timeout = '1s'; $long;");
my $elapsed = time - $t0;
like($err, qr/canceling statement due to statement timeout/, 'statement_timeout cancels fingerprint_agg');
cmp_ok($elapsed, '<', 15, sprintf('stopped %.1f s after start (timeout 1 s)', $elapsed));

# one huge prompt: the tokenizer itself checks for interrupts
$t0 = time;
($rc, $out, $err) = psql(q{SET statement_timeout = '500ms'; SELECT prompt_template(repeat('a b ', 30000000)) IS NULL;});
$elapsed = time - $t0;
like($err, qr/canceling statement/, 'statement_timeout cancels prompt_template on a huge prompt');
cmp_ok($elapsed, '<', 15, sprintf('stopped %.1f s after start', $elapsed));

# pg_cancel_backend from another session
my $pid = fork();
if ($pid == 0)
{
	my @r = psql("SET application_name = 'lockstep_cancel_me'; $long;");
	exit($r[2] =~ /canceling statement due to user request/ ? 0 : 1);
}
my $found = 0;
for (1 .. 100)
{
	sleep 0.1;
	$found = psql_ok(q{SELECT count(*) FROM pg_stat_activity WHERE application_name = 'lockstep_cancel_me' AND state = 'active'});
	last if $found;
}
is($found, 1, 'long query is running');
sleep 1;
$t0 = time;
psql_ok(q{SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'lockstep_cancel_me'});
waitpid($pid, 0);
my $status = $? >> 8;
$elapsed = time - $t0;
is($status, 0, 'the query ended with "canceling statement due to user request"');
cmp_ok($elapsed, '<', 15, sprintf('ended %.1f s after pg_cancel_backend', $elapsed));

# clustering checks for interrupts while it reads its edges
$t0 = time;
($rc, $out, $err) = psql(q{SET statement_timeout = '1s'; SELECT count(*) FROM lockstep_clusters('SELECT g, g + 1 FROM generate_series(1, 500000000) g');});
$elapsed = time - $t0;
like($err, qr/canceling statement due to statement timeout/, 'statement_timeout cancels lockstep_clusters');
cmp_ok($elapsed, '<', 15, sprintf('stopped %.1f s after start', $elapsed));

# and fingerprint_clusters while it loads and joins fingerprints
psql_ok(q{CREATE TABLE fps AS SELECT account_id, fingerprint_agg(ts, prompt, client_ip, user_agent, payment, model)
          AS fp FROM lockstep_synth_log(1000000, 8) GROUP BY account_id});
($rc, $out, $err) = psql(q{SELECT count(*) FROM fingerprint_clusters('SELECT account_id, fp FROM fps')});
like($out, qr/^\d+$/, "fingerprint_clusters finishes when nothing stops it ($out accounts)");
$t0 = time;
($rc, $out, $err) = psql(q{SET statement_timeout = '150ms'; SELECT count(*) FROM fingerprint_clusters('SELECT account_id, fp FROM fps')});
$elapsed = time - $t0;
like($err, qr/canceling statement due to statement timeout/, 'statement_timeout cancels fingerprint_clusters');
cmp_ok($elapsed, '<', 15, sprintf('stopped %.1f s after start', $elapsed));

# A refresh cancelled in its views keeps the days it stored: it commits each
# day (0.3.0's refresh was one transaction, and a cancel or timeout in the
# views threw the whole daily stage away, every time).  Another session
# holds a lock on the first materialized view, the campaigns, with a query
# that reads none of it (it is not yet populated), so the refresh waits
# there until it is cancelled.  (Not on the window or the clusters: tables,
# which the refresh writes beside a reader.)
psql_ok(q{CREATE TABLE kept_log AS SELECT * FROM lockstep_synth_log(20000, 5) WHERE ts < '2026-01-12';
          SELECT lockstep_create_pipeline('kept', 'kept_log', 28, NULL, '{"min_size": 3}')});
my $dir = scratch_dir();
$pid = fork();
die "fork failed" unless defined $pid;
if ($pid == 0)
{
	exec("psql -X -q -d lockstep_tap -c 'BEGIN' -c 'SELECT 1 FROM kept_campaigns WHERE false' -c 'SELECT pg_sleep(60)' >$dir/holder 2>&1");
}
for (1 .. 100)
{
	last if psql_ok(q{SELECT count(*) FROM pg_locks WHERE relation = 'kept_campaigns'::regclass AND granted});
	sleep 0.1;
}
my $refresh = fork();
die "fork failed" unless defined $refresh;
if ($refresh == 0)
{
	exec("psql -X -q -d lockstep_tap -c \"SET application_name = 'lockstep_kept'\" -c \"CALL lockstep_refresh('kept', '2026-01-11')\" >$dir/refresh 2>&1");
}
my $waiting = 0;
for (1 .. 300)
{
	$waiting = psql_ok(q{SELECT count(*) FROM pg_stat_activity WHERE application_name = 'lockstep_kept'
	                     AND wait_event_type = 'Lock'});
	last if $waiting;
	sleep 0.1;
}
is($waiting, 1, 'the refresh reached the views and waits for the lock on them');
psql_ok(q{SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'lockstep_kept'});
waitpid($refresh, 0);
like(`cat $dir/refresh`, qr/canceling statement due to user request/, 'the refresh was cancelled');
is(psql_ok(q{SELECT count(*) || ' days, ' || (SELECT count(*) FROM kept_refreshes) || ' refreshes' FROM kept_days}),
	'7 days, 0 refreshes', 'the days it stored are kept');
psql_ok(q{SELECT pg_terminate_backend(pid) FROM pg_locks WHERE relation = 'kept_campaigns'::regclass AND granted});
waitpid($pid, 0);
is(psql_ok(q{CALL lockstep_refresh('kept', '2026-01-11');
             SELECT days_added || ' added, finished ' || (finished_at IS NOT NULL) FROM kept_refreshes}),
	'0 added, finished true', 'the next refresh reads no day again and refreshes the views');

# A refresh whose days are stored in background workers (lockstep.refresh_workers):
# cancelled while they work, it stops them; each day they committed is
# whole, the day in progress is rolled back.  The log is a view whose 20 days
# each take a few seconds (300 prompts of 400,000 tokens).
psql_ok(q{CREATE VIEW slow_log AS
          SELECT g % 50 AS account_id, timestamptz '2026-01-01' + (g % 20) * interval '1 day' + g * interval '1 second' AS ts,
                 repeat('alpha beta 42 ', 133333) || g AS prompt
          FROM generate_series(1, 6000) g;
          SELECT lockstep_create_pipeline('slow', 'slow_log')});
$refresh = fork();
die "fork failed" unless defined $refresh;
if ($refresh == 0)
{
	exec("psql -X -q -d lockstep_tap -c \"SET application_name = 'lockstep_slow'\" -c 'SET lockstep.refresh_workers = 2' -c \"CALL lockstep_refresh('slow', '2026-01-20')\" >$dir/slow 2>&1");
}
my $workers = 0;
for (1 .. 300)
{
	$workers = psql_ok(q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'lockstep daily stage' AND state = 'active'});
	last if $workers == 2;
	sleep 0.1;
}
is($workers, 2, 'two background workers store the days');
sleep 2;
$t0 = time;
psql_ok(q{SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE application_name = 'lockstep_slow' AND backend_type = 'client backend'});
waitpid($refresh, 0);
my $left;
for (1 .. 50)
{
	$left = psql_ok(q{SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'lockstep daily stage'});
	last if $left == 0;
	sleep 0.1;
}
$elapsed = time - $t0;
like(`cat $dir/slow`, qr/canceling statement due to user request/, 'the refresh was cancelled');
is($left, 0, sprintf('its workers are gone %.1f s after pg_cancel_backend', $elapsed));
is(psql_ok(q{SELECT count(*) FILTER (WHERE rows <> 300) || ' partial of ' || count(*) FROM slow_days}),
	'0 partial of ' . psql_ok('SELECT count(*) FROM slow_days'), 'every day stored is whole');
cmp_ok(psql_ok('SELECT count(*) FROM slow_days'), '<', 20, 'and the cancel came before the last day');

done_testing();
