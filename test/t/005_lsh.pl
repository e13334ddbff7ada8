# LSH: the measured band collision rate follows the theory, the all-pairs
# join finds what brute force finds, and the GIN index survives
# pg_dump / restore.
use strict;
use warnings;
use Test::More;
use LsTest;

# Fingerprints with only a network channel, of at most 15 /24s (below the
# sketch size, so the sample is the whole set): pairs with Jaccard o/(20-o).
psql_ok(q{
	CREATE FUNCTION net(e int) RETURNS inet LANGUAGE sql IMMUTABLE
	AS $$ SELECT ((10 + (e >> 16)) || '.' || ((e >> 8) & 255) || '.' || (e & 255) || '.1')::inet $$;
	CREATE TABLE pairs AS
	SELECT p, o,
	       (SELECT fingerprint_agg(NULL, NULL, net(p * 1000 + e), NULL, NULL) FROM generate_series(1, 10) e) AS fa,
	       (SELECT fingerprint_agg(NULL, NULL, net(p * 1000 + e), NULL, NULL) FROM generate_series(11 - o, 20 - o) e) AS fb
	FROM generate_series(1, 300) p, (VALUES (3), (5), (7), (9)) v(o);
	CREATE TABLE rates AS
	SELECT o, o / (20.0 - o) AS j,
	       avg(cardinality(ARRAY(SELECT unnest(fingerprint_lsh_keys(fa, 16, 2)) INTERSECT
	                             SELECT unnest(fingerprint_lsh_keys(fb, 16, 2)))) / 16.0) AS band_rate,
	       avg((fingerprint_lsh_keys(fa, 16, 2) && fingerprint_lsh_keys(fb, 16, 2))::int) AS any_rate,
	       avg(fingerprint_infrastructure_similarity(fa, fb)) AS jaccard_est
	FROM pairs GROUP BY o;
});
for my $row (split /\n/, psql_ok('SELECT o, j, band_rate, any_rate, jaccard_est FROM rates ORDER BY o'))
{
	my ($o, $j, $band, $any, $est) = split /\|/, $row;
	my $p_band = $j**2;
	my $p_any = 1 - (1 - $j**2)**16;
	cmp_ok(abs($band - $p_band), '<', 0.04,
		sprintf('J=%.2f: a band collides at rate %.3f, theory s^r = %.3f', $j, $band, $p_band));
	cmp_ok(abs($any - $p_any), '<', 0.06,
		sprintf('J=%.2f: some band collides at rate %.3f, S-curve 1-(1-s^r)^b = %.3f', $j, $any, $p_any));
	# below k the sketches are exact: the network similarity is the larger
	# of the Jaccard and o shared networks counted o / (o + 8)
	my $exact = $j > $o / ($o + 8) ? $j : $o / ($o + 8);
	cmp_ok(abs($est - $exact), '<', 0.01,
		sprintf('J=%.2f, %d shared: exact below k (%.3f, expected %.3f)', $j, $o, $est, $exact));
}

# all-pairs join vs brute force on a larger generated log
psql_ok(q{
	CREATE TABLE fps AS
	SELECT account_id, fingerprint_agg(ts, prompt, client_ip, user_agent, payment, model, tokens_in, tokens_out) AS fp
	FROM lockstep_synth_log(300000, 17) GROUP BY account_id;
	CREATE TABLE joined AS SELECT * FROM fingerprint_similar_pairs('SELECT account_id, fp FROM fps', 0.5);
	CREATE TABLE brute AS
	SELECT x.account_id AS a, y.account_id AS b FROM fps x, fps y
	WHERE x.account_id < y.account_id AND fingerprint_similarity(x.fp, y.fp) >= 0.5;
});
my $brute = psql_ok('SELECT count(*) FROM brute');
my $found = psql_ok(q{SELECT count(*) FROM joined j JOIN brute b ON (b.a, b.b) IN ((j.a, j.b), (j.b, j.a))});
my $joined = psql_ok('SELECT count(*) FROM joined');
cmp_ok($brute, '>', 10000, "$brute pairs at or above 0.5 by brute force");
is($joined, $found, 'every joined pair is a true pair');
cmp_ok($found / $brute, '>=', 0.99, sprintf('LSH join recall %.4f', $found / $brute));

# a small max_bucket splits the largest buckets (hundreds of members) into
# parts of at most 100, and the join still finds most pairs
my $capped = psql_ok(q{SELECT count(*) FROM fingerprint_similar_pairs('SELECT account_id, fp FROM fps', 0.5, 16, 2, 100)});
cmp_ok($capped / $brute, '>=', 0.9, sprintf('recall with max_bucket 100: %.4f', $capped / $brute));

# in the select list the join streams: a LIMIT stops it before the end,
# so its closing DEBUG1 line (pairs found) never comes
my $stream = q{SET client_min_messages = debug1;
  SELECT count(*) FROM (SELECT fingerprint_similar_pairs('SELECT account_id, fp FROM fps', 0.5) AS p %s) s};
my (undef, undef, $all) = psql(sprintf($stream, ''));
like($all, qr/fingerprint_similar_pairs: .* pairs at or above/, 'run to the end, the join reports its pairs');
my (undef, $three, $early) = psql(sprintf($stream, 'LIMIT 3'));
is($three, 3, 'LIMIT 3 returns three pairs');
unlike($early, qr/pairs at or above/, 'and stops the join before it reaches the end');

# the GIN index through pg_dump and restore
psql_ok(q{CREATE INDEX fps_lsh ON fps USING gin (fp)});
my $dir = scratch_dir();
system("pg_dump -Fc -d lockstep_tap -t fps -f $dir/dump >/dev/null 2>&1") == 0 or die 'pg_dump failed';
system("psql -X -q -d postgres -c 'DROP DATABASE IF EXISTS lockstep_restore' -c 'CREATE DATABASE lockstep_restore' >/dev/null 2>&1") == 0 or die;
system("psql -X -q -d lockstep_restore -c 'CREATE EXTENSION lockstep' -c 'CREATE EXTENSION lockstep_synth' >/dev/null 2>&1") == 0 or die;
my $rc = system("pg_restore -d lockstep_restore $dir/dump >/dev/null 2>&1");
is($rc, 0, 'pg_restore succeeded');
# probes that match many others (a campaign's accounts), so that a lost
# candidate shows; the restored index answers as a sequential scan does
my $probes = psql_ok(q{SELECT string_agg(a::text, ',') FROM (SELECT a FROM joined GROUP BY a ORDER BY count(*) DESC, a LIMIT 50) p});
my $matches = qq{SELECT count(*) || ' ' || md5(string_agg(a.account_id || '-' || b.account_id, ',' ORDER BY a.account_id, b.account_id))
  FROM fps a, fps b WHERE a.account_id IN ($probes) AND b.fp % a.fp};
my ($rc1, $seq) = psql("SET enable_indexscan = off; SET enable_bitmapscan = off; $matches");
my ($rc2, $restored) = psql("SET enable_seqscan = off; $matches", db => 'lockstep_restore');
cmp_ok((split / /, $seq)[0], '>', 50 * 20, "the probes match many accounts ($seq)");
is($restored, $seq, 'the restored index answers as a sequential scan');
my (undef, $plan) = psql(q{SET enable_seqscan = off; EXPLAIN (COSTS OFF) SELECT * FROM fps WHERE fp % (SELECT fp FROM fps LIMIT 1)}, db => 'lockstep_restore');
like($plan, qr/Bitmap Index Scan on fps_lsh/, 'restored index is used');

done_testing();
