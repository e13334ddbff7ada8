# The pipeline on a sharded log: two shard servers (their own clusters,
# ports and data directories) hold the log's partitions, hashed by
# account; the test cluster is the coordinator, whose log is a table
# partitioned into postgres_fdw foreign tables.  Checked:
#  - every query the refresh sends a shard is an aggregate (the shards'
#    own statement logs: no raw-row fetch), also under pg_cron;
#  - daily and window fingerprints byte-identical to a single node's,
#    the same clusters and the same flagged accounts, on the base and the
#    combined-evasion logs, after a first and an incremental refresh;
#  - a shard that is down: a clear error, the stored days intact, and the
#    next refresh completes.
use strict;
use warnings;
use Test::More;
use LsTest;

my $root = $ENV{LS_ROOT} // '.';
my $as = $> == 0 ? 'runuser -u postgres --' : '';
my @shards;

# a shard: a cluster of its own, started as test/lib.sh starts one
sub start_shard
{
	my ($port) = @_;
	my $dir = `bash -c '. "$root/test/lib.sh"; LS_PORT=$port ls_start_cluster >/dev/null 2>&1 && echo "\$LS_TMP"'`;
	chomp $dir;
	die "shard on port $port did not start" unless $dir && -d "$dir/data";
	push @shards, { port => $port, dir => $dir };
	return $shards[-1];
}

sub pg_ctl
{
	my ($shard, $what) = @_;
	system("$as pg_ctl -D $shard->{dir}/data -l $shard->{dir}/server.log -m fast -w $what >/dev/null 2>&1");
}

sub shard_sql
{
	my ($shard, $sql) = @_;
	local $ENV{PGHOST} = $shard->{dir};
	local $ENV{PGPORT} = $shard->{port};
	my ($rc, $out, $err) = psql("SET client_min_messages = warning;\n$sql", db => 'postgres');
	die "shard $shard->{port}: $err\nSQL: $sql\n" if $rc;
	return $out;
}

END
{
	for my $s (@shards)
	{
		pg_ctl($s, 'stop');
		system("rm -rf $s->{dir}");
	}
}

my $columns = 'request_id bigint, account_id bigint, org_id bigint, ts timestamptz, prompt text, '
  . 'client_ip inet, user_agent text, payment text, model text, tokens_in integer, tokens_out integer';
my @s = (start_shard(54327), start_shard(54328));
for my $s (@s)
{
	shard_sql($s, "CREATE EXTENSION lockstep; ALTER SYSTEM SET log_statement = 'all'; SELECT pg_reload_conf();");
}

psql_ok(q{CREATE EXTENSION IF NOT EXISTS postgres_fdw;
	CREATE TABLE sh_releases AS SELECT * FROM lockstep_synth_releases();});
for my $i (0, 1)
{
	psql_ok(qq{
		CREATE SERVER shard$i FOREIGN DATA WRAPPER postgres_fdw
			OPTIONS (host '$s[$i]{dir}', port '$s[$i]{port}', dbname 'postgres', extensions 'lockstep',
					 async_capable 'true', fetch_size '10000', batch_size '1000');
		CREATE USER MAPPING FOR CURRENT_USER SERVER shard$i OPTIONS (user 'postgres');
	});
}

# the statements the shards were sent since $mark, one per line
sub shard_statements
{
	my (@marks) = @_;
	my @out;
	for my $i (0, 1)
	{
		open my $fh, '<', "$s[$i]{dir}/server.log" or die "no shard log: $!";
		seek $fh, $marks[$i], 0;
		local $/;
		my $text = <$fh>;
		push @out, $text =~ /CURSOR FOR\s+(SELECT[^\n]*)/g;
	}
	return @out;
}

sub log_marks { return map { -s "$_->{dir}/server.log" } @s; }

for my $v (qw(base combined))
{
	for my $i (0, 1)
	{
		shard_sql($s[$i], "DROP TABLE IF EXISTS log_$v; CREATE TABLE log_$v ($columns);");
	}
	psql_ok(qq{
		CREATE TABLE one_$v AS SELECT * FROM lockstep_synth_log(200000, 23, '$v');
		CREATE TABLE sharded_$v ($columns) PARTITION BY HASH (account_id);
		CREATE FOREIGN TABLE sharded_${v}_0 PARTITION OF sharded_$v FOR VALUES WITH (MODULUS 2, REMAINDER 0)
			SERVER shard0 OPTIONS (table_name 'log_$v');
		CREATE FOREIGN TABLE sharded_${v}_1 PARTITION OF sharded_$v FOR VALUES WITH (MODULUS 2, REMAINDER 1)
			SERVER shard1 OPTIONS (table_name 'log_$v');
		INSERT INTO sharded_$v SELECT * FROM one_$v;
		SELECT lockstep_create_pipeline('p1_$v', 'one_$v', 28, 'sh_releases');
		SELECT lockstep_create_pipeline('ps_$v', 'sharded_$v', 28, 'sh_releases');
	});
	my @parts = map { shard_sql($s[$_], "SELECT count(*) FROM log_$v") } (0, 1);
	ok($parts[0] > 50000 && $parts[1] > 50000, "$v: the rows are spread over both shards (@parts)");

	# a first refresh up to a day before the end, then one more day
	for my $through ('2026-01-31', '2026-02-01')
	{
		my @marks = log_marks();
		psql_ok("CALL lockstep_refresh('p1_$v', '$through'); CALL lockstep_refresh('ps_$v', '$through');");
		my @sent = shard_statements(@marks);
		my @raw = grep { !/fingerprint_agg|min\(ts\)|count\(\*\)/ } @sent;
		cmp_ok(scalar(grep { /fingerprint_agg/ } @sent), '>=', 2, "$v through $through: the shards computed the daily fingerprints");
		is(scalar(@raw), 0, "$v through $through: every query sent to a shard is an aggregate")
		  or diag(join("\n", @raw[0 .. ($#raw < 4 ? $#raw : 4)]));
		is(psql_ok(qq{SELECT count(*) FROM p1_${v}_daily a FULL JOIN ps_${v}_daily b USING (day, account_id)
			WHERE a.fp::text IS DISTINCT FROM b.fp::text OR a.org_id IS DISTINCT FROM b.org_id}), '0',
		   "$v through $through: daily fingerprints byte-identical to a single node's");
		is(psql_ok(qq{SELECT count(*) FROM p1_${v}_days a FULL JOIN ps_${v}_days b USING (day)
			WHERE a.rows IS DISTINCT FROM b.rows OR a.skipped IS DISTINCT FROM b.skipped}), '0',
		   "$v through $through: the same days and row counts");
	}
	is(psql_ok(qq{SELECT count(*) FROM p1_${v}_window a FULL JOIN ps_${v}_window b USING (account_id)
		WHERE a.fp::text IS DISTINCT FROM b.fp::text}), '0', "$v: window fingerprints byte-identical");
	is(psql_ok(qq{SELECT count(*) FROM p1_${v}_clusters a FULL JOIN ps_${v}_clusters b USING (account_id)
		WHERE a.cluster IS DISTINCT FROM b.cluster OR a.core IS DISTINCT FROM b.core}), '0', "$v: the same clusters");
	my $flagged = psql_ok("SELECT count(*) FROM p1_${v}_accounts WHERE flagged");
	cmp_ok($flagged, '>', 100, "$v: the single node flags $flagged accounts");
	is(psql_ok(qq{SELECT count(*) FROM (SELECT account_id FROM p1_${v}_accounts WHERE flagged) a
		FULL JOIN (SELECT account_id FROM ps_${v}_accounts WHERE flagged) b USING (account_id)
		WHERE a.account_id IS NULL OR b.account_id IS NULL}), '0', "$v: the same flagged accounts on shards");
}

# a shard down: a clear error, nothing stored changes, the next refresh completes
psql_ok(q{INSERT INTO sharded_base SELECT request_id + 10000000, account_id, org_id, ts + interval '1 day',
	prompt, client_ip, user_agent, payment, model, tokens_in, tokens_out
	FROM one_base WHERE ts >= '2026-02-01' AND ts < '2026-02-02'});
my $days = psql_ok('SELECT count(*) || \'/\' || sum(rows) FROM ps_base_days');
pg_ctl($s[1], 'stop');
my ($rc, $out, $err) = psql(q{CALL lockstep_refresh('ps_base', '2026-02-02')});
isnt($rc, 0, 'a refresh with a shard down fails');
like($err, qr/could not connect|connection to server/, 'with an error that names the connection') or diag($err);
is(psql_ok('SELECT count(*) || \'/\' || sum(rows) FROM ps_base_days'), $days, 'the stored days are intact');
pg_ctl($s[1], 'start');
psql_ok(q{CALL lockstep_refresh('ps_base', '2026-02-02')});
like(psql_ok(q{SELECT days_added FROM ps_base_refreshes ORDER BY started_at DESC LIMIT 1}), qr/^1$/,
	 'with the shard back, the next refresh adds the day');

# under pg_cron (its own session, no settings of ours): still only aggregates
my @marks = log_marks();
psql_ok(q{SELECT lockstep_drop_pipeline('ps_combined'); SELECT lockstep_create_pipeline('ps_combined', 'sharded_combined', 28, 'sh_releases')});
my ($cron_err, $status) = cron_run_once('lockstep-sharded', q{CALL lockstep_refresh('ps_combined', '2026-02-01')});
is($cron_err, '', 'the sharded refresh scheduled with pg_cron');
like($status, qr/^succeeded/, "the scheduled refresh ran: $status");
my @sent = shard_statements(@marks);
cmp_ok(scalar(grep { /fingerprint_agg/ } @sent), '>=', 56, 'under pg_cron the shards computed every day (28 days, 2 shards)');
is(scalar(grep { !/fingerprint_agg|min\(ts\)|count\(\*\)/ } @sent), 0, 'under pg_cron every query sent to a shard is an aggregate');
is(psql_ok(q{SELECT count(*) FROM (SELECT account_id FROM p1_combined_accounts WHERE flagged) a
	FULL JOIN (SELECT account_id FROM ps_combined_accounts WHERE flagged) b USING (account_id)
	WHERE a.account_id IS NULL OR b.account_id IS NULL}), '0', 'and flags what the single node flags');

done_testing();
