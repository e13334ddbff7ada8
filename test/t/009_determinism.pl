# The same rows give the same fingerprint bytes whatever the plan: hash
# aggregation, sorted aggregation, parallel partial aggregation with
# combine and serialize, rows fed in a scrambled order, and daily
# fingerprints merged into the window.  At 200,000 rows of the combined
# evasion variant (accounts with hundreds of prompts, so that the
# scaffold-key sample is full and the order of arrival would matter to
# any order-dependent sketch).
use strict;
use warnings;
use Test::More;
use LsTest;

my $rows = 200000;
psql_ok(qq{
	CREATE TABLE det_log AS SELECT * FROM lockstep_synth_log($rows, 5, 'combined');
	ANALYZE det_log;
});

my $agg = 'fingerprint_agg(ts, prompt, client_ip, user_agent, payment, model, tokens_in, tokens_out)';
my $serial = 'SET max_parallel_workers_per_gather = 0;';
my $parallel = 'SET max_parallel_workers_per_gather = 2; SET parallel_setup_cost = 0; '
  . 'SET parallel_tuple_cost = 0; SET min_parallel_table_scan_size = 0; SET parallel_leader_participation = off;';
my %plans = (
	hash     => ["$serial SET enable_sort = off;", 'HashAggregate'],
	sort     => ["$serial SET enable_hashagg = off;", 'GroupAggregate'],
	parallel => ["$parallel SET enable_hashagg = off;", 'Partial GroupAggregate'],
	parallel_hash => ["$parallel SET enable_sort = off;", 'Partial HashAggregate'],
);
my $query = "SELECT account_id, $agg AS fp FROM det_log GROUP BY account_id";

for my $name (sort keys %plans)
{
	my ($set, $node) = @{ $plans{$name} };
	my $plan = psql_ok("$set EXPLAIN (COSTS OFF) $query");
	like($plan, qr/\Q$node\E/, "$name: the plan has a $node");
	psql_ok("$set CREATE TABLE det_$name AS $query");
}
# the rows in a scrambled order, in one aggregate call per account
psql_ok("$serial CREATE TABLE det_scrambled AS SELECT account_id,
	fingerprint_agg(ts, prompt, client_ip, user_agent, payment, model, tokens_in, tokens_out
					ORDER BY md5(request_id::text)) AS fp
	FROM det_log GROUP BY account_id");
# daily fingerprints, merged in a scrambled order
psql_ok("$serial CREATE TABLE det_daily AS
	SELECT account_id, fingerprint_union_agg(fp ORDER BY md5(day::text)) AS fp
	FROM (SELECT account_id, (ts AT TIME ZONE 'UTC')::date AS day, $agg AS fp
		  FROM det_log GROUP BY 1, 2) d GROUP BY account_id");

my $accounts = psql_ok('SELECT count(*) FROM det_hash');
ok($accounts > 1000, "$accounts accounts");
my $full = psql_ok("SELECT count(*) FROM det_hash
	WHERE (fingerprint_summary(fp)->'content'->>'sampled')::boolean");
ok($full > 100, "$full accounts have a full scaffold-key sample");

for my $other (qw(sort parallel parallel_hash scrambled daily))
{
	my $differ = psql_ok("SELECT count(*) FROM det_hash h FULL JOIN det_$other o USING (account_id)
		WHERE h.fp::text IS DISTINCT FROM o.fp::text");
	is($differ, 0, "$other: every account's fingerprint is byte-identical to the hash plan's");
}

done_testing();
