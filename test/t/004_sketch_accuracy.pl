# Sketch estimates against exact answers computed the slow way in SQL.
use strict;
use warnings;
use Test::More;
use LsTest;

psql_ok(q{
	CREATE TABLE log AS SELECT * FROM lockstep_synth_log(100000, 11);
	CREATE TABLE fps AS
	SELECT account_id, fingerprint_agg(ts, prompt, client_ip, user_agent, payment) AS fp
	FROM log GROUP BY account_id HAVING count(*) >= 20;
	CREATE TABLE buckets AS
	SELECT DISTINCT account_id, floor(extract(epoch FROM ts) / 900)::bigint AS b FROM log;
	-- pairs: same-campaign pairs (high overlap) and random pairs (low)
	CREATE TABLE pairs AS
	SELECT a.account_id AS x, b.account_id AS y
	FROM (SELECT account_id, row_number() OVER (ORDER BY account_id) r FROM fps) a
	JOIN (SELECT account_id, row_number() OVER (ORDER BY account_id) r FROM fps) b
	  ON b.r IN (a.r + 1, a.r + 7, a.r + 31);
	CREATE TABLE jac AS
	SELECT p.x, p.y,
	       (SELECT count(*) FROM buckets u JOIN buckets v ON u.b = v.b WHERE u.account_id = p.x AND v.account_id = p.y)::float8 /
	       (SELECT count(DISTINCT b) FROM buckets WHERE account_id IN (p.x, p.y)) AS exact,
	       fingerprint_coactivity_similarity(fx.fp, fy.fp) AS est
	FROM pairs p JOIN fps fx ON fx.account_id = p.x JOIN fps fy ON fy.account_id = p.y;
});

my $n = psql_ok('SELECT count(*) FROM jac');
cmp_ok($n, '>', 500, "$n account pairs");
cmp_ok(psql_ok('SELECT count(*) FROM jac WHERE exact > 0.2'), '>', 20, 'some pairs overlap strongly');

# bottom-k Jaccard: standard error sqrt(J(1-J)/k), k = 32; allow 3 sigma + 0.02
my $within = psql_ok(q{SELECT avg((abs(est - exact) <= 3 * sqrt(exact * (1 - exact) / 32) + 0.02)::int) FROM jac});
cmp_ok($within, '>=', 0.97, "co-activity Jaccard within 3 sigma for $within of pairs");
my $mae = psql_ok('SELECT avg(abs(est - exact)) FROM jac');
cmp_ok($mae, '<', 0.05, "mean absolute error $mae");
is(psql_ok('SELECT count(*) FROM jac WHERE est < 0 OR est > 1'), 0, 'estimates in [0, 1]');
is(psql_ok(q{SELECT count(*) FROM fps WHERE fingerprint_coactivity_similarity(fp, fp) <> 1}), 0, 'self co-activity is 1');
is(psql_ok(q{SELECT count(*) FROM jac j JOIN fps a ON a.account_id = j.x JOIN fps b ON b.account_id = j.y
	WHERE fingerprint_coactivity_similarity(a.fp, b.fp) <> fingerprint_coactivity_similarity(b.fp, a.fp)}), 0, 'co-activity is symmetric');

# KMV distinct counts: exact below k, relative error ~ 1/sqrt(k-2) above
my $exact_small = psql_ok(q{
	SELECT count(*) FROM fps f JOIN (SELECT account_id, count(*) n FROM buckets GROUP BY 1) e USING (account_id)
	WHERE e.n < 32 AND (fingerprint_summary(f.fp)->'timing'->>'active_15min_buckets')::bigint <> e.n});
is($exact_small, 0, 'active bucket counts exact below k');
my $rel = psql_ok(q{
	SELECT avg((abs((fingerprint_summary(f.fp)->'timing'->>'active_15min_buckets')::float8 / e.n - 1) <= 3 / sqrt(30))::int)
	FROM fps f JOIN (SELECT account_id, count(*) n FROM buckets GROUP BY 1) e USING (account_id) WHERE e.n >= 32});
cmp_ok($rel, '>=', 0.97, "distinct-bucket estimates within 3 sigma for $rel of accounts");

done_testing();
