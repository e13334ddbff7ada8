# Whom a refresh trusts (issue 20): it runs as the role that calls it and
# must run no code the log's owner chose, and no role that can merely
# connect may stall it.  Each check here failed on 0.3.0: the owner's
# function ran as the refreshing role (through a policy or a view), and a
# connected role holding the advisory lock's key stalled every refresh.
use strict;
use warnings;
use LsTest;
use Test::More;

# ls_owner owns the log; ls_analyst owns the pipeline and refreshes it (not
# a superuser: row-level security applies to it); ls_outsider can connect.
psql_ok(q{
	DROP ROLE IF EXISTS ls_owner;
	DROP ROLE IF EXISTS ls_analyst;
	DROP ROLE IF EXISTS ls_outsider;
	CREATE ROLE ls_owner;
	CREATE ROLE ls_analyst;
	CREATE ROLE ls_outsider LOGIN;
	GRANT CREATE, USAGE ON SCHEMA public TO ls_owner, ls_analyst;
	CREATE SEQUENCE public.owner_calls;
	GRANT USAGE, UPDATE ON SEQUENCE public.owner_calls TO PUBLIC;
	-- what the owner wants to run as whoever reads the log
	CREATE FUNCTION public.owner_code() RETURNS boolean
		LANGUAGE sql VOLATILE AS $$ SELECT nextval('public.owner_calls') > 0 $$;
	SET ROLE ls_owner;
	CREATE TABLE public.rls_log AS
	SELECT * FROM lockstep_synth_log(20000, 5) WHERE ts < '2026-01-12';
	CREATE VIEW public.view_log AS
	SELECT account_id, ts, prompt FROM public.rls_log WHERE public.owner_code();
	GRANT SELECT ON public.rls_log, public.view_log TO ls_analyst;
	RESET ROLE;
});
my $calls = q{SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM public.owner_calls};

# 1. A policy whose expression the owner wrote: refused before any row is
# read, the owner's function never runs.
psql_ok(q{
	SET ROLE ls_owner;
	ALTER TABLE public.rls_log ENABLE ROW LEVEL SECURITY;
	CREATE POLICY everything ON public.rls_log USING (public.owner_code());
});
my ($rc, $out, $err) = psql(q{
	SET ROLE ls_analyst;
	SELECT lockstep_create_pipeline('on_rls', 'public.rls_log', 28, NULL, '{"min_size": 3}');
});
like($err, qr/has row-level security that applies to ls_analyst/,
	'a pipeline over a log with row-level security for its reader is refused');
is(psql_ok($calls), 0, 'and the owner\'s policy function never ran');

# The same log, the policy added after the pipeline was made: the refresh
# refuses it (0.3.0 ran the policy as the refreshing role).
psql_ok(q{
	SET ROLE ls_owner;
	ALTER TABLE public.rls_log DISABLE ROW LEVEL SECURITY;
	RESET ROLE;
	SET ROLE ls_analyst;
	SELECT lockstep_create_pipeline('later', 'public.rls_log', 28, NULL, '{"min_size": 3}');
	RESET ROLE;
	SET ROLE ls_owner;
	ALTER TABLE public.rls_log ENABLE ROW LEVEL SECURITY;
});
($rc, $out, $err) = psql(q{SET ROLE ls_analyst; CALL lockstep_refresh('later', '2026-01-10')});
like($err, qr/has row-level security that applies to ls_analyst/, 'a policy added later is refused at the refresh');
is(psql_ok($calls), 0, 'and its function never ran');

# 2. A view another role owns: its code would run as the refreshing role.
($rc, $out, $err) = psql(q{
	SET ROLE ls_analyst;
	SELECT lockstep_create_pipeline('analyst', 'public.view_log', 28, NULL, '{"min_size": 3}');
});
like($err, qr/is a view owned by ls_owner, which the refresh would run as ls_analyst/,
	'a log that is a view of another role is refused');
is(psql_ok($calls), 0, 'and the view\'s function never ran');

# The owner of the log reads it without the policy (as PostgreSQL does): a
# pipeline of the owner's over its own table refreshes.
($rc, $out, $err) = psql(q{
	SET ROLE ls_owner;
	SELECT lockstep_create_pipeline('owners', 'public.rls_log', 28, NULL, '{"min_size": 3}');
	CALL lockstep_refresh('owners', '2026-01-10');
	SELECT count(*) > 0 FROM owners_daily;
});
is((split /\n/, $out)[-1], 't', 'the log\'s owner refreshes its own pipeline') or diag($err);
is(psql_ok($calls), 0, 'without running the policy');

# A partitioned log is read leaf by leaf: without SELECT on a leaf, a clear
# error that says so (0.3.0: permission denied in the middle of the daily
# stage); with it, the parent's policy cannot be bypassed by reading the
# leaves (0.3.0 read them and ignored it): the refresh refuses the parent.
psql_ok(q{
	SET ROLE ls_owner;
	CREATE TABLE public.p_log (account_id bigint, ts timestamptz, prompt text) PARTITION BY HASH (account_id);
	CREATE TABLE public.p_log_0 PARTITION OF public.p_log FOR VALUES WITH (MODULUS 2, REMAINDER 0);
	CREATE TABLE public.p_log_1 PARTITION OF public.p_log FOR VALUES WITH (MODULUS 2, REMAINDER 1);
	INSERT INTO public.p_log SELECT account_id, ts, prompt FROM public.rls_log;
	GRANT SELECT ON public.p_log TO ls_analyst;
});
($rc, $out, $err) = psql(q{SET ROLE ls_analyst; SELECT lockstep_create_pipeline('parts', 'public.p_log')});
like($err, qr/permission denied for public\.p_log_0.*\n.*HINT:.*SELECT on every partition/s,
	'a leaf the refreshing role cannot read is named, with the grant it needs');
psql_ok(q{
	SET ROLE ls_owner;
	GRANT SELECT ON public.p_log_0, public.p_log_1 TO ls_analyst;
	RESET ROLE;
	SET ROLE ls_analyst;
	SELECT lockstep_create_pipeline('parts', 'public.p_log', 28, NULL, '{"min_size": 3}');
	RESET ROLE;
	SET ROLE ls_owner;
	ALTER TABLE public.p_log ENABLE ROW LEVEL SECURITY;
	CREATE POLICY hide_some ON public.p_log USING (account_id % 2 = 0);
});
($rc, $out, $err) = psql(q{SET ROLE ls_analyst; CALL lockstep_refresh('parts', '2026-01-10')});
like($err, qr/public\.p_log has row-level security that applies to ls_analyst/,
	'the parent\'s policy is not bypassed through its leaves: the refresh refuses it');
is(psql_ok(q{SELECT count(*) FROM parts_daily}), 0, 'and stored nothing');

# 3. The lock: a role that can only connect takes the advisory lock whose
# key 0.3.0 used (computable from the catalog) and holds it.  The refresh
# does not wait for it.
my $key = psql_ok(q{SELECT ('lockstep_pipeline_config'::regtype::oid::bigint << 32)
                          | 'owners_config'::regclass::oid::bigint});
my $dir = scratch_dir();
my $pid = fork();
die "fork failed" unless defined $pid;
if ($pid == 0)
{
	exec("psql -X -q -U ls_outsider -d lockstep_tap -c 'SELECT pg_advisory_lock($key)' -c 'SELECT pg_sleep(60)' >$dir/holder 2>&1");
}
my $held = 0;
for (1 .. 100)
{
	$held = psql_ok(qq{SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted
	                   AND ((classid::bigint << 32) | objid::bigint) = $key});
	last if $held;
	select(undef, undef, undef, 0.1);
}
is($held, 1, 'an outsider holds the advisory lock 0.3.0 waited for');
($rc, $out, $err) = psql(q{
	SET statement_timeout = '30s';
	SET ROLE ls_owner;
	CALL lockstep_refresh('owners', '2026-01-11');
	SELECT max(day) FROM owners_days;
});
is((split /\n/, $out)[-1], '2026-01-11', 'the refresh does not wait for it') or diag($err);
psql_ok("SELECT pg_terminate_backend(pid) FROM pg_locks WHERE locktype = 'advisory'");
waitpid($pid, 0);

# A second refresh waits for the first (the config row's lock), and says so.
$pid = fork();
die "fork failed" unless defined $pid;
if ($pid == 0)
{
	exec("psql -X -q -d lockstep_tap -c \"BEGIN; SET ROLE ls_owner; SELECT 1 FROM owners_config FOR UPDATE; SELECT pg_sleep(3); COMMIT\" >$dir/first 2>&1");
}
for (1 .. 100)
{
	last if psql_ok(q{SELECT count(*) FROM pg_stat_activity WHERE query LIKE '%owners_config FOR UPDATE%'
	                  AND state = 'active' AND pid <> pg_backend_pid()});
	select(undef, undef, undef, 0.1);
}
($rc, $out, $err) = psql(q{SET ROLE ls_owner; CALL lockstep_refresh('owners', '2026-01-11')});
is($rc, 0, 'a refresh that finds the pipeline locked waits, then runs') or diag($err);
like($err, qr/waiting for the lock on public\.owners_config, held by pid \d+ \(postgres\)/,
	'and says for whom it waits');
waitpid($pid, 0);

# A reader granted the views reads them, and nothing of the log or the
# stored fingerprints.
($rc, $out, $err) = psql(q{
	SET ROLE ls_owner;
	GRANT SELECT ON owners_campaigns TO ls_outsider;
	RESET ROLE;
	SET ROLE ls_outsider;
	SELECT count(*) >= 0 FROM owners_campaigns;
});
is($out, 't', 'a reader reads the views it was granted') or diag($err);
for my $rel (qw(owners_daily owners_window public.rls_log))
{
	($rc, $out, $err) = psql("SET ROLE ls_outsider; SELECT count(*) FROM $rel");
	like($err, qr/permission denied/, "and not $rel");
}

# 4. Another session's temporary table of the config type, named like the
# pipeline, does not make its name ambiguous (0.3.0 scanned every schema,
# other sessions' temporary ones too): a name is found through the
# caller's search path.
$pid = fork();
die "fork failed" unless defined $pid;
if ($pid == 0)
{
	exec("psql -X -q -U ls_outsider -d lockstep_tap -c 'CREATE TEMP TABLE owners_config OF lockstep_pipeline_config; SELECT pg_sleep(20)' >$dir/temp 2>&1");
}
for (1 .. 100)
{
	last if psql_ok(q{SELECT count(*) FROM pg_class WHERE relname = 'owners_config' AND relpersistence = 't'});
	select(undef, undef, undef, 0.1);
}
($rc, $out, $err) = psql(q{
	SET ROLE ls_owner;
	CALL lockstep_refresh('owners', '2026-01-11');
	SELECT lockstep_pipeline_config('owners')::text, lockstep_pipeline_config('public.owners')::text;
});
is($rc, 0, 'another session\'s temporary table named like the pipeline does not stop its refresh') or diag($err);
is((split /\n/, $out)[-1], 'owners_config|owners_config', 'the name is found through the search path');
psql_ok(q{SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = 'ls_outsider'});
waitpid($pid, 0);

done_testing();
