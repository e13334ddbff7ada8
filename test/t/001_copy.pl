# Text and binary round trips through COPY, as pg_dump and postgres_fdw use them.
use strict;
use warnings;
use Test::More;
use LsTest;

psql_ok(q{
	CREATE TABLE fps AS
	SELECT account_id, fingerprint_agg(ts, prompt, client_ip, user_agent, payment, model, tokens_in, tokens_out) AS fp
	FROM lockstep_synth_log(20000, 3) GROUP BY account_id;
	CREATE TABLE fps_bin (LIKE fps);
	CREATE TABLE fps_txt (LIKE fps);
});
my $n = psql_ok('SELECT count(*) FROM fps');
ok($n > 100, "built $n fingerprints");

my $dir = scratch_dir();
psql_ok("\\copy fps TO '$dir/fps.bin' (FORMAT binary)");
psql_ok("\\copy fps_bin FROM '$dir/fps.bin' (FORMAT binary)");
psql_ok("\\copy fps TO '$dir/fps.txt'");
psql_ok("\\copy fps_txt FROM '$dir/fps.txt'");

for my $t (qw(fps_bin fps_txt))
{
	my $same = psql_ok("SELECT count(*) FROM fps JOIN $t USING (account_id) WHERE fps.fp::text = $t.fp::text");
	is($same, $n, "$t: every fingerprint identical after COPY");
	my $sum = psql_ok("SELECT count(*) FROM fps JOIN $t USING (account_id)
		WHERE fingerprint_summary(fps.fp) = fingerprint_summary($t.fp)");
	is($sum, $n, "$t: every summary identical after COPY");
}

done_testing();
