# Detection under each evasion of the generator, alone and combined, and
# its hard negatives: for every variant at 400,000 rows, fingerprints,
# clusters (lockstep_cluster_accounts, which merges thin accounts on a
# shared card), cluster and account scores with the default settings,
# judged against the generator's labels.  The goals of bench/quality.sh
# (which runs the same at 1M and 16M rows through the pipeline), at a size
# CI can afford: precision >= 0.99, recall >= 0.95, no app user, enterprise
# or integration account flagged, every campaign at least 90% flagged, each
# with at least 90% of its flagged accounts in one cluster, and every flagged
# campaign cluster clear of the line (margin >= 0.1; 0.3.0's combined
# campaigns sat 0.013 and 0.021 above it).  Recall counts the campaign
# accounts that sent a request: a hydra's generation may have none.
# Variant all is found as one cluster per organization (5 a campaign): its
# workers share no card, network or time across organizations, only the
# work, so the one-cluster check skips it.
use strict;
use warnings;
use Test::More;
use LsTest;

my $rows = 400000;
psql_ok('CREATE TABLE ev_releases AS SELECT * FROM lockstep_synth_releases()');

for my $v (qw(base proxies paraphrase low_slow human_timing mixed combined
			   one_org few_orgs small hydra hydra_cards heavy_tail all))
{
	psql_ok(qq{
		SET work_mem = '256MB';
		CREATE TABLE ev_labels AS SELECT * FROM lockstep_synth_accounts($rows, 17, '$v');
		CREATE TABLE ev_fp AS
		SELECT l.account_id, mode() WITHIN GROUP (ORDER BY l.org_id) AS org_id,
			   fingerprint_agg(l.ts, l.prompt, l.client_ip, l.user_agent, l.payment, l.model,
							   l.tokens_in, l.tokens_out) AS fp
		FROM lockstep_synth_log($rows, 17, '$v') l GROUP BY l.account_id;
		CREATE TABLE ev_cl AS SELECT * FROM lockstep_cluster_accounts('ev_fp');
		CREATE TABLE ev_scores AS SELECT * FROM lockstep_score_clusters('ev_cl', 'ev_fp', 'ev_releases');
		CREATE TABLE ev_accounts AS SELECT * FROM lockstep_score_accounts('ev_cl', 'ev_scores');
	});
	my ($flagged, $tp, $campaign, $hard) = split /\|/, psql_ok(q{
		SELECT count(*) FILTER (WHERE a.flagged),
			   count(*) FILTER (WHERE a.flagged AND l.campaign IS NOT NULL),
			   count(*) FILTER (WHERE l.campaign IS NOT NULL),
			   count(*) FILTER (WHERE a.flagged AND l.kind IN ('app_user', 'enterprise', 'integration'))
		FROM ev_labels l JOIN ev_fp USING (account_id) LEFT JOIN ev_accounts a USING (account_id)});
	my $precision = $flagged ? $tp / $flagged : 0;
	my $recall = $tp / $campaign;
	cmp_ok($precision, '>=', 0.99, sprintf('%s: precision %.4f (%d of %d flagged)', $v, $precision, $tp, $flagged));
	cmp_ok($recall, '>=', 0.95, sprintf('%s: recall %.4f (%d of %d campaign accounts)', $v, $recall, $tp, $campaign));
	is($hard, 0, "$v: no app user, enterprise or integration account flagged");
	my $share = psql_ok(q{
		SELECT coalesce(min(share), 0) FROM (
			SELECT max(n)::float8 / sum(n) AS share
			FROM (SELECT l.campaign, a.cluster, count(*) AS n
				  FROM ev_accounts a JOIN ev_labels l USING (account_id)
				  WHERE a.flagged AND l.campaign IS NOT NULL GROUP BY 1, 2) c
			GROUP BY campaign) s});
	cmp_ok($share, '>=', 0.9, "$v: every campaign has at least 90% of its flagged accounts in one cluster ($share)")
		unless $v eq 'all';
	my ($worst, $which) = split /\|/, psql_ok(q{
		SELECT share, campaign FROM (
			SELECT l.campaign, avg(coalesce(a.flagged, false)::int) AS share
			FROM ev_labels l JOIN ev_fp USING (account_id) LEFT JOIN ev_accounts a USING (account_id)
			WHERE l.campaign IS NOT NULL GROUP BY l.campaign HAVING count(*) >= 10) c
		ORDER BY share, campaign LIMIT 1});
	TODO: {
		# Under every evasion at once campaign A is 30 accounts at a third
		# of the volume each (low_slow), with residential addresses, its own
		# cards and its own hours: the operator's channels link none of it,
		# and on the work alone 13 of them form a cluster whose median
		# account sends 89 requests, under the background's 95th percentile
		# (92): not at campaign volume (README, "What is not there yet").
		local $TODO = 'a small campaign at a third of the volume per account, its operator hidden, is not clustered'
			if $v eq 'combined';
		cmp_ok($worst, '>=', 0.9, "$v: every campaign of 10 or more accounts at least 90% flagged (worst: $which, $worst)");
	}
	if ($v =~ /^(proxies|small)$/)
	{
		# What finds the small campaign that hides its operator (A, 10
		# accounts under proxies; D, 19 under small) is the work pass: without
		# it (volume_quantile 1) the campaign is in no cluster.
		my ($wworst, $wwhich) = split /\|/, psql_ok(q{
			CREATE TABLE ev_wcl AS SELECT * FROM lockstep_cluster_accounts('ev_fp', '{"volume_quantile": 1}');
			SELECT share, campaign FROM (
				SELECT l.campaign, avg((c.cluster IS NOT NULL)::int) AS share
				FROM ev_labels l JOIN ev_fp USING (account_id) LEFT JOIN ev_wcl c USING (account_id)
				WHERE l.campaign IS NOT NULL GROUP BY l.campaign HAVING count(*) >= 10) c
			ORDER BY share, campaign LIMIT 1;
			DROP TABLE ev_wcl});
		cmp_ok($wworst, "==", 0, "$v, volume_quantile 1: the small campaign $wwhich is in no cluster");
	}
	if ($v eq 'proxies')
	{
		# The users of the apps here (the homework helper's, the support
		# desk's) share the work and some send as much as campaign A's: on the
		# work alone they form clusters, which campaign volume (the median
		# account at the background's 95th percentile) keeps out; with no
		# such bar (volume_quantile 0) they are clustered.
		my ($dflt, $nobar) = split /\|/, psql_ok(q{
			CREATE TABLE ev_wcl AS SELECT * FROM lockstep_cluster_accounts('ev_fp', '{"volume_quantile": 0}');
			SELECT (SELECT count(*) FROM ev_cl JOIN ev_labels USING (account_id) WHERE kind = 'app_user'),
				   (SELECT count(*) FROM ev_wcl JOIN ev_labels USING (account_id) WHERE kind = 'app_user');
			DROP TABLE ev_wcl});
		is($dflt, 0, "$v: no app user clustered");
		cmp_ok($nobar, '>=', 10, "$v, volume_quantile 0: $nobar app users clustered on the work");
	}
	my $margin = psql_ok(q{
		SELECT coalesce(min((s.evidence->>'margin')::float8), 0) FROM ev_scores s
		WHERE s.flagged AND s.cluster IN (SELECT c.cluster FROM ev_cl c JOIN ev_labels l USING (account_id)
										   WHERE l.campaign IS NOT NULL)});
	# Issue 19's headroom: 0.1 above the line.  Under every evasion at
	# once it was 0.0328 here before churn counted (0.1075 with it; 1M rows:
	# bench/RESULTS.md).
	cmp_ok($margin, '>=', 0.1, "$v: the lowest flagged campaign is $margin above the line");
	if ($v eq 'low_slow')
	{
		# Buckets over a hundred times max_bucket, as campaign C's are at 16M
		# rows with the default 1000: at 1M rows and max_bucket 20, C (3,488
		# accounts) is still one cluster (0.3.0 with buckets dealt into random
		# parts kept 0.7% of it in its largest), and the clusters do not
		# depend on the order of the query's rows.
		my ($share, $cmax) = split /\|/, psql_ok(q{
			SET work_mem = '256MB';
			CREATE TABLE ev_big_labels AS SELECT * FROM lockstep_synth_accounts(1000000, 42, 'low_slow');
			CREATE TABLE ev_big AS
			SELECT l.account_id, fingerprint_agg(l.ts, l.prompt, l.client_ip, l.user_agent, l.payment, l.model,
												 l.tokens_in, l.tokens_out) AS fp
			FROM lockstep_synth_log(1000000, 42, 'low_slow') l GROUP BY l.account_id;
			CREATE TABLE ev_small AS SELECT * FROM fingerprint_clusters(
				'SELECT account_id, fp FROM ev_big ORDER BY account_id', NULL, NULL, NULL, NULL, NULL, 20);
			CREATE TABLE ev_shuffled AS SELECT * FROM fingerprint_clusters(
				'SELECT account_id, fp FROM ev_big ORDER BY md5(account_id::text)', NULL, NULL, NULL, NULL, NULL, 20);
			SELECT min(share), max(size) FROM (
				SELECT max(n) FILTER (WHERE cluster IS NOT NULL)::float8 / sum(n) AS share, sum(n) AS size
				FROM (SELECT l.campaign, c.cluster, count(*) AS n
					  FROM ev_big_labels l LEFT JOIN ev_small c USING (account_id)
					  WHERE l.campaign IS NOT NULL GROUP BY 1, 2) x
				GROUP BY campaign) s});
		cmp_ok($cmax, '>=', 2000, "$v: a campaign of $cmax accounts, over 100 times max_bucket 20");
		cmp_ok($share, '>=', 0.9, "$v: with max_bucket 20, every campaign has at least 90% of its accounts in one cluster ($share)");
		is(psql_ok(q{SELECT count(*) FROM ((TABLE ev_small EXCEPT TABLE ev_shuffled)
											UNION ALL (TABLE ev_shuffled EXCEPT TABLE ev_small)) d}),
		   0, "$v: the same clusters whatever the order of the query's rows");
		psql_ok('DROP TABLE ev_big_labels, ev_big, ev_small, ev_shuffled');
	}
	psql_ok('DROP TABLE ev_labels, ev_fp, ev_cl, ev_scores, ev_accounts');
}

done_testing();
