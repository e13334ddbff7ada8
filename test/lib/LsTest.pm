# Helpers for lockstep's TAP tests: they talk to the cluster test/run
# started (PGHOST, PGPORT, PGUSER in the environment) through psql.
package LsTest;
use strict;
use warnings;
use Exporter 'import';
use File::Temp qw(tempdir);
our @EXPORT = qw(psql psql_ok scratch_dir cron_run_once);

# Run SQL, return (exit code, stdout, stderr); unaligned, tuples only.
sub psql
{
	my ($sql, %opt) = @_;
	my $db = $opt{db} // 'lockstep_tap';
	my $dir = tempdir(CLEANUP => 1);
	open my $fh, '>', "$dir/in.sql" or die;
	print $fh $sql;
	close $fh;
	my $rc = system("psql -X -q -A -t -v ON_ERROR_STOP=1 -d $db -f $dir/in.sql >$dir/out 2>$dir/err");
	local $/;
	open my $o, '<', "$dir/out" or die; my $out = <$o>;
	open my $e, '<', "$dir/err" or die; my $err = <$e>;
	$out =~ s/\s+\z//;
	return ($rc >> 8, $out, $err);
}

# Run SQL that must succeed; return its output (options as psql's).
sub psql_ok
{
	my ($sql, %opt) = @_;
	my ($rc, $out, $err) = psql($sql, %opt);
	die "psql failed ($rc): $err\nSQL: $sql\n" if $rc;
	return $out;
}

# A directory the server (another OS user) can read files from.
sub scratch_dir
{
	my $dir = tempdir(DIR => $ENV{LS_TMP} // '/tmp', CLEANUP => 1);
	chmod 0755, $dir;
	return $dir;
}

# Schedule $command with pg_cron (which lives in the postgres database)
# to run in the test database, wait for its first run to end (cron starts
# jobs at the top of each minute), unschedule it.  Returns the scheduling
# error, or '' and the run's status ('succeeded' or 'failed', '' if none).
sub cron_run_once
{
	my ($job, $command) = @_;
	my ($rc, $out, $err) = psql(qq{
		CREATE EXTENSION IF NOT EXISTS pg_cron;
		SELECT cron.unschedule(jobid) FROM cron.job WHERE jobname = '$job';
		SELECT cron.schedule_in_database('$job', '* * * * *', \$cmd\$$command\$cmd\$, 'lockstep_tap') > 0;
	}, db => 'postgres');
	return ($err || "psql failed ($rc)", '') if $rc;
	my $status = '';
	for (1 .. 130)
	{
		$status = (psql(qq{SELECT string_agg(status, ',') FROM cron.job_run_details d
		                   JOIN cron.job j USING (jobid) WHERE j.jobname = '$job'
		                   AND status IN ('succeeded', 'failed')}, db => 'postgres'))[1];
		last if $status;
		sleep 1;
	}
	psql(qq{SELECT cron.unschedule('$job')}, db => 'postgres');
	return ('', $status);
}

# Every TAP script starts from a fresh database with the extension.
system("psql -X -q -d postgres -c 'DROP DATABASE IF EXISTS lockstep_tap' -c 'CREATE DATABASE lockstep_tap' >/dev/null 2>&1") == 0
	or die "cannot create the test database";
system("psql -X -q -d lockstep_tap -c 'CREATE EXTENSION lockstep' -c 'CREATE EXTENSION lockstep_synth' >/dev/null") == 0
	or die "cannot create the extension";

1;
