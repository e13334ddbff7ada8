# Hardening that needs more than one session or a whole database:
# a prompt written to stall the normalizer, a pipeline through pg_dump and
# pg_restore, two refreshes of one pipeline at once.  (test/sql/hardening.sql
# has the findings a single session can show.)
use strict;
use warnings;
use LsTest;
use Test::More;

# A prompt of 10 MB of "a." and one '@': 0.1.0 rescanned the rest of the
# word at every word (quadratic: 121 s at 800 KB, hours at 10 MB).  Now it
# is linear and takes about a second; a minute is a bound no machine's
# noise reaches, and that 0.1.0 cannot meet.
my ($rc, $out, $err) = psql(q{
	SET statement_timeout = '60s';
	SELECT fingerprint_size(fingerprint_agg(now(), repeat('a.', 5000000) || ' me@x.io')) > 0,
	       length(prompt_template(repeat('a.', 5000000) || ' me@x.io')) > 0;
});
is($out, 't|t', 'a 10 MB prompt shaped to make e-mail matching quadratic finishes') or diag($err);

psql_ok(q{
	SET timezone = 'UTC';
	CREATE TABLE api_log AS SELECT * FROM lockstep_synth_log(30000, 3) WHERE ts < '2026-01-25';
	CREATE TABLE rel AS SELECT * FROM lockstep_synth_releases();
	SELECT lockstep_create_pipeline('api', 'api_log', 28, 'rel', '{"min_size": 5}');
});

# Two first refreshes at once: 0.1.0 let both do the work, then one failed
# on the daily table's primary key.  Now they take turns on the lock: the
# one that holds it stores a day and commits; the other, finding days
# stored meanwhile, goes on from there or leaves the rest to the first.
# So that they do run at once, a third session holds the lock until both
# are seen waiting for it, then lets them go together.
my $dir = scratch_dir();
sub run_bg
{
	my ($cmd) = @_;
	my $pid = fork();
	die "fork failed" unless defined $pid;
	exec($cmd) if $pid == 0;
	return $pid;
}
my $holder = run_bg("PGAPPNAME=ls_holder psql -X -q -d lockstep_tap -c 'BEGIN' -c 'SELECT 1 FROM api_config FOR UPDATE' "
	. "-c 'SELECT pg_sleep(300)' -c 'COMMIT' >/dev/null 2>&1");
sub poll
{
	my ($sql, $want) = @_;
	for (1 .. 600)
	{
		my $n = psql_ok($sql);
		return $n if $n == $want;
		select(undef, undef, undef, 0.1);
	}
	return psql_ok($sql);
}
is(poll(q{SELECT count(*) FROM pg_stat_activity WHERE application_name = 'ls_holder' AND query LIKE '%pg_sleep%'}, 1),
	1, 'a third session holds the refresh lock');
my @pids = map { run_bg("psql -X -q -v ON_ERROR_STOP=1 -d lockstep_tap -c \"CALL lockstep_refresh('api', '2026-01-20')\" >$dir/out$_ 2>&1") } (1, 2);
is(poll(q{SELECT count(*) FROM pg_stat_activity WHERE query LIKE 'CALL lockstep_refresh%' AND wait_event_type = 'Lock'}, 2),
	2, 'both refreshes wait for it at the same time');
psql_ok(q{SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'ls_holder'});
waitpid($holder, 0);
my @rcs = map { waitpid($_, 0); $? >> 8 } @pids;
is_deeply(\@rcs, [0, 0], 'two refreshes at once both succeed')
  or diag(`cat $dir/out1 $dir/out2`);
is(scalar(grep { `cat $dir/out$_` =~ /waiting for the lock/ } (1, 2)), 2, 'and each said whom it waited for');
is(psql_ok(q{SELECT sum(days_added) || ' days added, ' || (SELECT count(*) FROM api_days) || ' stored' FROM api_refreshes}),
	'16 days added, 16 stored', 'between them they stored each of the 16 days once');
my $single = psql_ok(q{SELECT count(*) FROM api_daily});
cmp_ok($single, '>', 1000, "daily fingerprints stored once ($single)");

# pg_dump -Fc and pg_restore into a new database: 0.1.0's views embedded
# query strings with unqualified names, which pg_restore (empty search
# path) could not resolve; its views stayed unpopulated and every later
# refresh failed.
psql_ok(q{CALL lockstep_refresh('api', '2026-01-24')});
my $flagged = q{SELECT count(*) FILTER (WHERE flagged) || '/' || count(*) FROM api_accounts};
my $before = psql_ok($flagged);
system("pg_dump -Fc -d lockstep_tap -f $dir/dump 2>$dir/dump.err") == 0 or die `cat $dir/dump.err`;
system("psql -X -q -d postgres -c 'DROP DATABASE IF EXISTS lockstep_restored' -c 'CREATE DATABASE lockstep_restored' >/dev/null 2>&1") == 0
  or die;
$rc = system("pg_restore -d lockstep_restored --exit-on-error $dir/dump >$dir/restore.log 2>&1");
is($rc, 0, 'pg_restore of a database with a pipeline succeeds') or diag(`cat $dir/restore.log`);
is((psql($flagged, db => 'lockstep_restored'))[1], $before, "the restored views hold what they held ($before)");
psql_ok(q{INSERT INTO api_log SELECT * FROM lockstep_synth_log(30000, 3) WHERE ts >= '2026-01-25' AND ts < '2026-01-26'});
($rc, $out, $err) = psql(q{INSERT INTO api_log SELECT * FROM lockstep_synth_log(30000, 3) WHERE ts >= '2026-01-25' AND ts < '2026-01-26';
	CALL lockstep_refresh('api', '2026-01-25');
	SELECT days_added FROM api_refreshes ORDER BY started_at DESC LIMIT 1}, db => 'lockstep_restored');
is($out, '1', 'and the restored pipeline refreshes') or diag($err);
psql_ok(q{CALL lockstep_refresh('api', '2026-01-25')});
is((psql($flagged, db => 'lockstep_restored'))[1], psql_ok($flagged), 'with the same result as the original');

done_testing();
