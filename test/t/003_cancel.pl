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

done_testing();
