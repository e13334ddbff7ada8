# Refreshed through the day as rows arrive, a pipeline ends where a
# pipeline refreshed once over the same rows does: the same daily
# fingerprints, byte for byte, the same clusters, flags and scores.  A
# refresh through today stores the day so far; the next one finds its row
# count changed and computes it again, as it does for late rows of the
# last late_days days (here: 1% of a day's rows withheld and sent two
# days late).  Every refresh after the first stores more than one day at
# once, so the background workers (lockstep.refresh_workers) take part.
use strict;
use warnings;
use Test::More;
use LsTest;

psql_ok(q{
	SET timezone = 'UTC';
	CREATE TABLE full_log AS SELECT * FROM lockstep_synth_log(200000, 11) ORDER BY ts;
	CREATE TABLE releases AS SELECT * FROM lockstep_synth_releases();
	-- the live log: every row before 2026-01-22, but 1% of 2026-01-21's
	CREATE TABLE live_log AS SELECT * FROM full_log
	WHERE ts < '2026-01-22' AND NOT (ts >= '2026-01-21' AND account_id % 100 = 0);
	SELECT lockstep_create_pipeline('live', 'live_log', 28, 'releases', '{"min_size": 5}');
	-- the same, keeping its clustering for a day (recluster_hours)
	SELECT lockstep_create_pipeline('kept', 'live_log', 28, 'releases', '{"min_size": 5, "recluster_hours": 24}');
});
# The desk's timeline is made from parts each refresh keeps
# (lockstep_refresh_timeline): per campaign and day, the members' daily
# fingerprints merged.  Kept, they are what merging every member's daily
# rows of the window makes, byte for byte, and so is the view made from
# them: "differing/rows" against that.
sub timeline_differs
{
	my ($p) = @_;
	return psql_ok(qq{
		WITH g AS (
			SELECT m.campaign, d.day, fingerprint_union_agg(d.fp) AS fp, count(*)::integer AS accounts
			FROM ${p}_members m JOIN ${p}_daily d USING (account_id)
			WHERE d.day > (SELECT max(day) FROM ${p}_daily) - (SELECT window_days FROM ${p}_config)
			GROUP BY 1, 2)
		SELECT count(*) FILTER (WHERE g.campaign IS NULL OR t.campaign IS NULL OR v.campaign IS NULL
		                           OR fingerprint_send(g.fp) IS DISTINCT FROM fingerprint_send(t.fp)
		                           OR g.accounts IS DISTINCT FROM t.accounts
		                           OR (v.requests, v.accounts) IS DISTINCT FROM ((fingerprint_stats(g.fp)).requests, g.accounts))
		       || '/' || count(*)
		FROM g FULL JOIN (SELECT * FROM ${p}_timeline_parts WHERE accounts > 0) t USING (campaign, day)
		FULL JOIN ${p}_timeline v USING (campaign, day)});
}
# what a refresh's timeline read (its DEBUG1 messages): "days/campaigns
# read whole/new members"
sub timeline_read
{
	my ($said) = @_;
	return $said =~ /timeline: (\d+) days read, (\d+) campaigns read whole, (\d+) accounts new/ ? "$1/$2/$3" : '-';
}
sub refresh_timeline_read
{
	my ($p, $through) = @_;
	my ($rc, undef, $said) = psql(qq{SET client_min_messages = debug1; CALL lockstep_refresh('$p', $through)});
	die "refresh failed: $said" if $rc;
	return timeline_read($said);
}

psql_ok(q{CALL lockstep_refresh('live', '2026-01-21')});
psql_ok(q{CALL lockstep_refresh('kept', '2026-01-21')});

# two days, four hours at a time, each refresh through the day so far
my (@flagged, @within, @clustered, @kept_differ, @merged, @checked, @timeline, @timeline_read, @live_read);
for my $h (map { $_ * 4 } 0 .. 11)
{
	my $from = sprintf("timestamptz '2026-01-22 00:00+00' + interval '%d hours'", $h);
	my $to = sprintf("timestamptz '2026-01-22 00:00+00' + interval '%d hours'", $h + 4);
	psql_ok(qq{INSERT INTO live_log SELECT * FROM full_log WHERE ts >= $from AND ts < $to});
	# the withheld rows of 2026-01-21 arrive on the 23rd, within late_days
	psql_ok(q{INSERT INTO live_log SELECT * FROM full_log
	          WHERE ts >= '2026-01-21' AND ts < '2026-01-22' AND account_id % 100 = 0}) if $h == 24;
	my ($rc, undef, $said) = psql(qq{SET client_min_messages = debug1;
		CALL lockstep_refresh('live', (($to - interval '1 microsecond') AT TIME ZONE 'UTC')::date)});
	die "refresh failed: $said" if $rc;
	push @live_read, timeline_read($said);
	push @merged, $said =~ /(\d+) accounts computed again, (\d+) merged into/ ? "$1+$2" : '-';
	push @checked, $said =~ /(\d+) days checked for rows gone/ ? $1 : '-';
	push @flagged, psql_ok(q{SELECT count(*) FROM live_campaigns WHERE flagged});
	push @timeline_read, refresh_timeline_read('kept', "(($to - interval '1 microsecond') AT TIME ZONE 'UTC')::date");
	push @timeline, map { timeline_differs($_) } qw(live kept);
	push @clustered, psql_ok(q{SELECT (clustered_with IS NOT NULL)::int FROM kept_refreshes ORDER BY started_at DESC LIMIT 1});
	push @kept_differ, psql_ok(q{SELECT count(*) FROM live_accounts l FULL JOIN kept_accounts k USING (account_id)
	                             WHERE coalesce(l.flagged, false) <> coalesce(k.flagged, false)});
	# within a day, the window computes again the accounts of the new rows
	my ($added, $computed, $sent) = split /\|/, psql_ok(qq{
		SELECT days_added, window_accounts,
		       (SELECT count(DISTINCT account_id) FROM full_log WHERE ts >= $from AND ts < $to)
		FROM live_refreshes ORDER BY started_at DESC LIMIT 1});
	push @within, "$computed/$sent" if $added == 0;
}
is(join(' ', grep { my ($c, $n) = split m{/}; $c != $n } @within), '',
	'within a day, each refresh computed the window of the accounts of its new rows, no other (' . join(' ', @within) . ')');
# and of those, the accounts active earlier that day had the new rows
# merged into their window rows with their daily ones (fold_window); the
# first refresh of a day, and the one after the late rows, compute theirs
is(join(' ', map { /\+(\d+)/ && $1 > 0 ? 'merged' : 'none' } @merged),
	join(' ', 'none', ('merged') x 5, 'none', ('merged') x 5),
	'within a day, the accounts already active that day merged, not computed again (' . join(' ', @merged) . ')');
# and the window looked for accounts whose daily row is gone only on the
# days that lost stored rows (N_days.removed_at): the new day, computed
# whole, and the late rows' day, whose accounts with late rows were
# computed again; not on a day folded hour by hour
is(join(' ', @checked), join(' ', 1, (0) x 5, 2, (0) x 5),
	'days checked for rows gone, refresh by refresh');
# the first refresh of a day adds it; the next ones of that day compute it
# again; the one after the late rows computes their day again and adds the new day
is(psql_ok(q{SELECT string_agg(days_added || '+' || days_recomputed, ' ' ORDER BY started_at) FROM live_refreshes}),
	'17+0 1+0 0+1 0+1 0+1 0+1 0+1 1+1 0+1 0+1 0+1 0+1 0+1', 'days added + days computed again, refresh by refresh');

# Keeping its clustering, a pipeline keeps the clusters of its last
# clustering (here the first refresh's, through 2026-01-21) for
# recluster_hours, across new days too (the window moves: accounts whose
# rows all left it leave their clusters), scoring them again over the new
# fingerprints, and clusters again once the accounts whose rows changed
# since are half the window (here at the eleventh step: two days and the
# late rows of a third, computed again, against a window of 19 days).
# Here, where every campaign account is older than the day, it flags the
# same accounts at every step as the pipeline that clusters each time:
# the incremental clusters are the full clustering's campaigns.  (Before,
# each new day clustered again: 1 0 0 0 0 0 1 0 0 0 0 0.)  A change of
# settings clusters again.
is(join(' ', @clustered), '0 0 0 0 0 0 0 0 0 0 1 0', 'recluster_hours: kept across new days, clustered again when half the window changed');
is(join(' ', @kept_differ), '0 0 0 0 0 0 0 0 0 0 0 0', 'the same accounts flagged at every step, clustered or kept');
is(join(' ', grep { !m{^0/} } @timeline), '', 'the timeline kept, at every step of both: what the members\' days make ('
	. join(' ', @timeline) . ')');
# the day so far read each time, the day added too at the first refresh of
# a day, and the late day with it; whole, only a new campaign's days
is(join(' ', map { (split m{/})[0] } @timeline_read), '1 1 1 1 1 1 2 1 1 1 1 1',
	'the timeline read the days stored since, no other (' . join(' ', @timeline_read) . ')');
psql_ok(q{UPDATE kept_config SET settings = settings || '{"min_size": 6}'});
psql_ok(q{CALL lockstep_refresh('kept', '2026-01-23')});
is(psql_ok(q{SELECT clustered_with->>'min_size' FROM kept_refreshes ORDER BY started_at DESC LIMIT 1}), 6,
	'a change of settings clusters again');
psql_ok(q{SELECT lockstep_drop_pipeline('kept')});

# Keeping its clustering, a pipeline joins to its clusters the accounts
# new since it (lockstep_attach_accounts), as the clustering would: a
# hydra replaces its accounts every two or three days on the same cards,
# so every few hours bring campaign accounts that the pipeline clustering
# each time flags at once.  The pipeline that keeps its clustering flags
# the same accounts at every step.
psql_ok(q{
	CREATE TABLE hydra_full AS SELECT * FROM lockstep_synth_log(200000, 11, 'hydra') ORDER BY ts;
	CREATE TABLE hydra_log AS SELECT * FROM hydra_full WHERE ts < '2026-01-22';
	SELECT lockstep_create_pipeline('hydra_live', 'hydra_log', 28, 'releases', '{"min_size": 5}');
	SELECT lockstep_create_pipeline('hydra_kept', 'hydra_log', 28, 'releases', '{"min_size": 5, "recluster_hours": 24}');
	-- a window of two days, which the day's new rows soon change by half
	SELECT lockstep_create_pipeline('hydra_short', 'hydra_log', 2, 'releases', '{"min_size": 5, "recluster_hours": 24}');
	-- and one of ten days, which a new day changes by less
	SELECT lockstep_create_pipeline('hydra_ten', 'hydra_log', 10, 'releases', '{"min_size": 5, "recluster_hours": 24}');
});
psql_ok(qq{CALL lockstep_refresh('$_', '2026-01-21')}) for qw(hydra_live hydra_kept hydra_short hydra_ten);
my (@hydra_clustered, @hydra_new, @hydra_differ, @hydra_campaigns, @short_clustered, @short_changed, @short_gone,
	@hydra_timeline, @hydra_timeline_read, @short_timeline_read, @ten_left);
for my $h (map { $_ * 4 } 0 .. 5)
{
	my $from = sprintf("timestamptz '2026-01-22 00:00+00' + interval '%d hours'", $h);
	my $to = sprintf("timestamptz '2026-01-22 00:00+00' + interval '%d hours'", $h + 4);
	psql_ok(qq{INSERT INTO hydra_log SELECT * FROM hydra_full WHERE ts >= $from AND ts < $to});
	psql_ok(qq{CALL lockstep_refresh('hydra_live', '2026-01-22')});
	push @hydra_timeline_read, refresh_timeline_read('hydra_kept', "'2026-01-22'");
	my ($rc, undef, $said) = psql(q{SET client_min_messages = debug1; CALL lockstep_refresh('hydra_ten', '2026-01-22')});
	die "refresh failed: $said" if $rc;
	push @ten_left, ($said =~ /(\d+) left the window/ ? $1 : '-') . '/'
		. psql_ok(q{SELECT (clustered_with IS NULL)::int FROM hydra_ten_refreshes ORDER BY started_at DESC LIMIT 1}) . '/'
		. psql_ok(q{SELECT count(*) FROM hydra_ten_clusters c LEFT JOIN hydra_ten_window w USING (account_id) WHERE w.account_id IS NULL});
	push @hydra_timeline, timeline_differs('hydra_kept');
	push @short_timeline_read, refresh_timeline_read('hydra_short', "'2026-01-22'");
	push @hydra_timeline, timeline_differs('hydra_short');
	push @short_clustered, psql_ok(q{SELECT (clustered_with IS NOT NULL)::int FROM hydra_short_refreshes ORDER BY started_at DESC LIMIT 1});
	# members whose rows all left the window (2026-01-20's accounts, once
	# the window is 2026-01-21 and 22), and members in the window
	push @short_gone, psql_ok(q{SELECT count(*) FILTER (WHERE w.account_id IS NULL) || '/' || count(w.account_id)
	                            FROM hydra_short_clusters c LEFT JOIN hydra_short_window w USING (account_id)});
	# the accounts of the day so far against the window's: what the rule weighs
	push @short_changed, psql_ok(q{SELECT round(count(DISTINCT account_id)::numeric / (SELECT count(*) FROM hydra_short_window), 2)
	                               FROM hydra_short_daily WHERE day = '2026-01-22'});
	push @hydra_clustered, psql_ok(q{SELECT (clustered_with IS NOT NULL)::int FROM hydra_kept_refreshes ORDER BY started_at DESC LIMIT 1});
	# flagged accounts whose first request is on the new day
	push @hydra_new, psql_ok(q{SELECT count(*) FROM hydra_live_accounts a WHERE a.flagged
	                           AND NOT EXISTS (SELECT 1 FROM hydra_log l WHERE l.account_id = a.account_id AND l.ts < '2026-01-22')});
	push @hydra_differ, psql_ok(q{SELECT count(*) FROM hydra_live_accounts l FULL JOIN hydra_kept_accounts k USING (account_id)
	                              WHERE coalesce(l.flagged, false) <> coalesce(k.flagged, false)});
	# the same campaigns: no flagged cluster of one is split in the other
	push @hydra_campaigns, psql_ok(q{
		WITH l AS (SELECT account_id, cluster FROM hydra_live_accounts WHERE flagged),
		     k AS (SELECT account_id, cluster FROM hydra_kept_accounts WHERE flagged)
		SELECT (SELECT count(*) FROM l) || ':'
		       || (SELECT count(*) FROM (SELECT l.cluster FROM l JOIN k USING (account_id) GROUP BY 1
		                                 HAVING count(DISTINCT k.cluster) > 1) x)
		       + (SELECT count(*) FROM (SELECT k.cluster FROM l JOIN k USING (account_id) GROUP BY 1
		                                 HAVING count(DISTINCT l.cluster) > 1) y)});
}
is(join(' ', @hydra_clustered), '0 0 0 0 0 0', 'a hydra: the clustering of the day before kept through the new day');
ok(!grep({ $_ == 0 } @hydra_new[1 .. 5]), 'new campaign accounts flagged within the day (' . join(' ', @hydra_new) . ')');
is(join(' ', @hydra_differ), '0 0 0 0 0 0', 'the kept clustering flags the new accounts as clustering again does');
# its new accounts join its campaigns: their rows merged into the parts
# kept, and the timeline the same as merging every member's
ok((grep { (split m{/})[2] > 0 } @hydra_timeline_read) >= 3,
	'a hydra\'s new members merged into the timeline kept (' . join(' ', @hydra_timeline_read) . ')');
# and a campaign that lost members (the accounts of a day that left a
# two-day window) is read whole
ok((grep { (split m{/})[1] > 0 } @short_timeline_read[0 .. 5]) >= 1,
	'a campaign that lost members read again whole (' . join(' ', @short_timeline_read) . ')');
is(join(' ', grep { !m{^0/} } @hydra_timeline), '', 'and the timeline is what its members\' days make ('
	. join(' ', @hydra_timeline) . ')');
is(join(' ', map { (split /:/)[1] } @hydra_campaigns), '0 0 0 0 0 0',
	'in the same campaigns (' . join(' ', map { (split /:/)[0] } @hydra_campaigns) . ' accounts flagged)');
# Too much changed: once the accounts whose rows changed since the
# clustering are half the window or more, the refresh clusters again
# (here at the third step, the day's first twelve hours; the count
# starts again from the new clustering), and not with 28 days (above)
is(join(' ', @short_clustered), '0 0 1 0 0 0', 'a two-day window clusters again within the day (the day so far against the window: '
	. join(' ', @short_changed) . ')');
# kept across the new day, the clusters lost the accounts that left the
# window with 2026-01-20 (a kept clustering that held them scored accounts
# with no window fingerprint)
is(join(' ', map { (split m{/})[0] } @short_gone), '0 0 0 0 0 0',
	'no clustered account outside the window (' . join(' ', @short_gone) . ' outside/inside)');
# and a window of ten days, which the new day moves without computing it
# whole: the accounts whose days all left it are computed again to
# nothing, and those clustered leave their clusters (the window stage
# names them; the clustering is kept): "left/kept/clustered outside"
my ($left, $kept) = split m{/}, $ten_left[0];
ok($left > 0 && $kept == 1, "ten days: the new day moved the window, $left accounts left it, the clustering kept ($ten_left[0])");
is(join(' ', map { (split m{/})[2] } @ten_left), '0 0 0 0 0 0',
	'ten days: no clustered account outside the window (' . join(' ', @ten_left) . ')');
psql_ok(qq{SELECT lockstep_drop_pipeline('$_')}) for qw(hydra_live hydra_kept hydra_short hydra_ten);

# the same rows at once
psql_ok(q{
	CREATE TABLE once_log AS SELECT * FROM live_log;
	SELECT lockstep_create_pipeline('once', 'once_log', 28, 'releases', '{"min_size": 5}');
});
psql_ok(q{CALL lockstep_refresh('once', '2026-01-23')});
is(psql_ok(q{SELECT count(*) FROM live_log}), psql_ok(q{SELECT count(*) FROM full_log WHERE ts < '2026-01-24'}),
	'the live log has every row by the end');

is(psql_ok(q{SELECT count(*) FROM live_daily l FULL JOIN once_daily o USING (day, account_id)
             WHERE fingerprint_send(l.fp) IS DISTINCT FROM fingerprint_send(o.fp)
                OR l.org_id IS DISTINCT FROM o.org_id}), 0, 'the same daily fingerprints, byte for byte');
is(psql_ok(q{SELECT count(*) FROM live_days l FULL JOIN once_days o USING (day)
             WHERE (l.rows, l.skipped) IS DISTINCT FROM (o.rows, o.skipped)}), 0, 'the same day counts');
is(psql_ok(q{SELECT count(*) FROM live_window l FULL JOIN once_window o USING (account_id)
             WHERE fingerprint_send(l.fp) IS DISTINCT FROM fingerprint_send(o.fp)
                OR l.org_id IS DISTINCT FROM o.org_id}), 0, 'the same window, byte for byte');
is(psql_ok(q{SELECT count(*) FROM live_clusters l FULL JOIN once_clusters o USING (account_id)
             WHERE (l.cluster, l.core) IS DISTINCT FROM (o.cluster, o.core)}), 0, 'the same clusters');
my $flags = psql_ok(q{SELECT count(*) FROM once_accounts WHERE flagged});
cmp_ok($flags, '>', 100, "$flags accounts flagged at once");
is(psql_ok(q{SELECT count(*) FROM live_accounts l FULL JOIN once_accounts o USING (account_id)
             WHERE l.flagged IS DISTINCT FROM o.flagged}), 0, 'the same accounts flagged');
is(psql_ok(q{SELECT count(*) FROM live_campaigns l FULL JOIN once_campaigns o USING (cluster)
             WHERE l.score IS DISTINCT FROM o.score OR l.flagged IS DISTINCT FROM o.flagged}), 0,
	'the same campaigns, with the same scores');
ok(!grep({ $_ == 0 } @flagged), 'campaigns flagged at every step (' . join(', ', @flagged) . ')');

# The window is kept, not computed whole: each refresh after the first
# computed only the accounts whose days changed, and it holds what the
# daily rows of its days make, byte for byte
is(psql_ok(q{SELECT count(*) FROM live_window l FULL JOIN once_window o USING (account_id)
             WHERE fingerprint_send(l.fp) IS DISTINCT FROM fingerprint_send(o.fp)
                OR l.org_id IS DISTINCT FROM o.org_id
                OR (SELECT array_agg(x ORDER BY x) FROM unnest(l.days) x)
                   IS DISTINCT FROM (SELECT array_agg(x ORDER BY x) FROM unnest(o.days) x)}), 0,
	'the same window, byte for byte');
my ($most, $held) = split /\|/, psql_ok(q{
	SELECT max(window_accounts) FILTER (WHERE started_at > (SELECT min(started_at) FROM live_refreshes)),
	       (SELECT count(*) FROM live_window) FROM live_refreshes});
cmp_ok($most, '<', $held / 2, "each refresh after the first computed at most $most of the window's $held accounts");
sub window_as_daily
{
	my ($what) = @_;
	is(psql_ok(q{
		WITH w AS (
			SELECT account_id, fingerprint_union_agg(fp) AS fp, array_agg(day ORDER BY day) AS days
			FROM live_daily WHERE day > (SELECT max(day) FROM live_daily) - (SELECT window_days FROM live_config)
			GROUP BY account_id)
		SELECT count(*) FROM live_window l FULL JOIN w USING (account_id)
		WHERE fingerprint_send(l.fp) IS DISTINCT FROM fingerprint_send(w.fp) OR (SELECT array_agg(x ORDER BY x) FROM unnest(l.days) x) IS DISTINCT FROM w.days}),
		0, "$what: the window is the merge of its days' daily rows");
}
window_as_daily('refreshed hour by hour');

# rows taken out of the log on a late day: that day is computed again,
# and the accounts it held lose it (one of them had no other day)
my ($only, $other) = split /\|/, psql_ok(q{
	SELECT (SELECT account_id FROM live_window WHERE days = '{2026-01-23}' ORDER BY 1 LIMIT 1),
	       (SELECT account_id FROM live_window WHERE cardinality(days) > 1 AND (SELECT max(x) FROM unnest(days) x) = '2026-01-23'
	        ORDER BY 1 LIMIT 1)});
psql_ok(qq{DELETE FROM live_log WHERE account_id IN ($only, $other) AND ts >= '2026-01-23'});
psql_ok(q{CALL lockstep_refresh('live', '2026-01-23')});
is(psql_ok(qq{SELECT count(*) FROM live_window WHERE account_id = $only}), 0, 'an account whose only day lost its rows leaves the window');
is(psql_ok(qq{SELECT '2026-01-23' = ANY (days) FROM live_window WHERE account_id = $other}), 'f', 'another loses that day');
window_as_daily('after rows left a late day');

# a window a day shorter, then longer again: the accounts of the first
# day are computed again, without it and with it
for my $days (18, 28)
{
	psql_ok(qq{UPDATE live_config SET window_days = $days});
	psql_ok(q{CALL lockstep_refresh('live', '2026-01-23')});
	my ($range, $computed) = split /\|/, psql_ok(q{SELECT window_range, window_accounts FROM live_refreshes ORDER BY started_at DESC LIMIT 1});
	is($range, $days == 18 ? '[2026-01-06,2026-01-24)' : '[2025-12-27,2026-01-24)', "the window of $days days");
	cmp_ok($computed, '<', $held / 2, "$computed accounts computed again");
	window_as_daily("a window of $days days");
	like(timeline_differs('live'), qr{^0/}, "a window of $days days: the timeline's days with it");
}

# The timeline's parts follow any change of members, whatever made it: an
# account with earlier days joins a campaign (its rows of the days kept
# are merged in), a member moves to another campaign, one leaves (a
# campaign that lost one is read again whole)
for (['an account with earlier days joins a campaign', '0/0/3', q{
		INSERT INTO live_members
		SELECT (SELECT min(campaign) FROM live_members), w.account_id FROM live_window w
		WHERE NOT EXISTS (SELECT 1 FROM live_members m WHERE m.account_id = w.account_id)
		ORDER BY cardinality(w.days) DESC, w.account_id LIMIT 3}],
	['a member moves to another campaign', '0/1/1', q{
		UPDATE live_members SET campaign = (SELECT max(campaign) FROM live_members)
		WHERE account_id = (SELECT min(account_id) FROM live_members WHERE campaign = (SELECT min(campaign) FROM live_members))}],
	['a member leaves', '0/1/0', q{
		DELETE FROM live_members WHERE account_id = (SELECT max(account_id) FROM live_members)}])
{
	my ($what, $expect, $sql) = @$_;
	my ($rc, undef, $said) = psql(qq{$sql; SET client_min_messages = debug1;
		SELECT lockstep_refresh_timeline('live_config'); REFRESH MATERIALIZED VIEW live_timeline});
	die "failed: $said" if $rc;
	is(timeline_read($said), $expect, "$what: read days/campaigns whole/new members");
	like(timeline_differs('live'), qr{^0/}, "$what: the timeline is what its members' days make");
}

# A day stored before is folded: the rows after the newest one stored are
# merged into its fingerprints, and only the accounts whose earlier rows
# changed, or whose organization the merge cannot tell, are computed again
# whole.  Here: the morning of 2026-01-22 stored, then the afternoon; one
# account loses a morning row (a deletion), another's afternoon rows all
# name an organization its morning did not, and outnumber its morning's.
# Once with a plain log, once with a log in two hash partitions of
# request_id, where an account's rows of a day are in both leaves and its
# leaves' fingerprints are merged.
my ($deleted, $renamed) = split /\|/, psql_ok(q{
	WITH am AS (SELECT account_id, count(*) FILTER (WHERE ts < '2026-01-22 12:00') AS am,
	                   count(*) FILTER (WHERE ts >= '2026-01-22 12:00') AS pm, count(org_id) AS orgs
	            FROM full_log WHERE ts >= '2026-01-22' AND ts < '2026-01-23' GROUP BY account_id)
	SELECT (SELECT account_id FROM am WHERE am > 1 AND pm > 0 AND NOT (pm > am AND orgs = 0) ORDER BY account_id LIMIT 1),
	       (SELECT account_id FROM am WHERE pm > am AND am > 0 AND orgs = 0 ORDER BY account_id LIMIT 1)});
for my $p ('fold', 'fold_part')
{
	# the log, and the same rows at once
	for my $log ("${p}_log", "${p}_once_log")
	{
		psql_ok($p eq 'fold' ? qq{CREATE TABLE $log (LIKE full_log)} : qq{
			CREATE TABLE $log (LIKE full_log) PARTITION BY HASH (request_id);
			CREATE TABLE ${log}_0 PARTITION OF $log FOR VALUES WITH (MODULUS 2, REMAINDER 0);
			CREATE TABLE ${log}_1 PARTITION OF $log FOR VALUES WITH (MODULUS 2, REMAINDER 1)});
	}
	psql_ok(qq{
		INSERT INTO ${p}_log SELECT * FROM full_log WHERE ts >= '2026-01-21' AND ts < '2026-01-22 12:00';
		SELECT lockstep_create_pipeline('$p', '${p}_log', 28);
	});
	psql_ok(qq{CALL lockstep_refresh('$p', '2026-01-22')});
	psql_ok(qq{
		INSERT INTO ${p}_log SELECT * FROM full_log WHERE ts >= '2026-01-22 12:00' AND ts < '2026-01-23';
		DELETE FROM ${p}_log WHERE request_id = (SELECT min(request_id) FROM ${p}_log
		                                         WHERE account_id = $deleted AND ts >= '2026-01-22' AND ts < '2026-01-22 12:00');
		UPDATE ${p}_log SET org_id = 4242 WHERE account_id = $renamed AND ts >= '2026-01-22 12:00';
	});
	my (undef, undef, $said) = psql(qq{SET client_min_messages = debug1; SELECT lockstep_store_day('${p}_config', '2026-01-22')});
	my $accounts = psql_ok(qq{SELECT count(DISTINCT account_id) FROM ${p}_log WHERE ts >= '2026-01-22'});
	like($said, qr/2026-01-22 folded \(rows after 2026-01-22 11:[0-9:]+\+00\), 2 of its $accounts accounts computed again whole/,
		"$p: the afternoon folded into the morning; two accounts computed again whole");
	psql_ok(qq{
		INSERT INTO ${p}_once_log SELECT * FROM ${p}_log;
		SELECT lockstep_create_pipeline('${p}_once', '${p}_once_log', 28);
	});
	psql_ok(qq{CALL lockstep_refresh('${p}_once', '2026-01-22')});
	is(psql_ok(qq{SELECT count(*) FROM ${p}_daily l FULL JOIN ${p}_once_daily o USING (day, account_id)
	              WHERE fingerprint_send(l.fp) IS DISTINCT FROM fingerprint_send(o.fp) OR l.org_id IS DISTINCT FROM o.org_id}),
		0, "$p: folded, the day is what it is computed whole, byte for byte");
	is(psql_ok(qq{SELECT org_id FROM ${p}_daily WHERE day = '2026-01-22' AND account_id = $renamed}), 4242,
		"$p: the account whose afternoon named an organization is its seat");
	is(psql_ok(qq{SELECT count(*) FROM ${p}_days l FULL JOIN ${p}_once_days o USING (day)
	              WHERE (l.rows, l.skipped, l.latest) IS DISTINCT FROM (o.rows, o.skipped, o.latest)}), 0,
		"$p: the same day counts and newest rows");
}
is(psql_ok(q{SELECT count(*) FROM fold_daily l FULL JOIN fold_part_daily o USING (day, account_id)
             WHERE fingerprint_send(l.fp) IS DISTINCT FROM fingerprint_send(o.fp)}),
	0, 'partitioned or not, the same fingerprints');

# The day as a whole is checked first: its rows up to the mark by their
# count and a checksum of their accounts.  A morning row moved from one
# account to another leaves the count as it was, and both accounts are
# still computed again whole (with the one whose afternoon named an
# organization: three); with the morning as it was, that one alone.
my $target = psql_ok(qq{SELECT min(account_id) FROM full_log WHERE ts >= '2026-01-22' AND ts < '2026-01-22 12:00'
                        AND account_id NOT IN ($deleted, $renamed)});
for my $case (['moved', 3], ['kept', 1])
{
	my ($p, $redo) = ("fold_$case->[0]", $case->[1]);
	psql_ok(qq{
		CREATE TABLE ${p}_log AS SELECT * FROM full_log WHERE ts >= '2026-01-21' AND ts < '2026-01-22 12:00';
		SELECT lockstep_create_pipeline('$p', '${p}_log', 28);
	});
	psql_ok(qq{CALL lockstep_refresh('$p', '2026-01-22')});
	psql_ok(qq{
		INSERT INTO ${p}_log SELECT * FROM full_log WHERE ts >= '2026-01-22 12:00' AND ts < '2026-01-23';
		UPDATE ${p}_log SET org_id = 4242 WHERE account_id = $renamed AND ts >= '2026-01-22 12:00';
	});
	psql_ok(qq{UPDATE ${p}_log SET account_id = $target
	           WHERE request_id = (SELECT min(request_id) FROM ${p}_log
	                               WHERE account_id = $deleted AND ts >= '2026-01-22' AND ts < '2026-01-22 12:00')})
		if $case->[0] eq 'moved';
	my (undef, undef, $said) = psql(qq{SET client_min_messages = debug1; SELECT lockstep_store_day('${p}_config', '2026-01-22')});
	like($said, qr/2026-01-22 folded \(rows after [^)]+\), $redo of its \d+ accounts computed again whole/,
		"$p: $redo accounts computed again whole");
	psql_ok(qq{
		CREATE TABLE ${p}_once_log AS SELECT * FROM ${p}_log;
		SELECT lockstep_create_pipeline('${p}_once', '${p}_once_log', 28);
	});
	psql_ok(qq{CALL lockstep_refresh('${p}_once', '2026-01-22')});
	is(psql_ok(qq{SELECT count(*) FROM ${p}_daily l FULL JOIN ${p}_once_daily o USING (day, account_id)
	              WHERE fingerprint_send(l.fp) IS DISTINCT FROM fingerprint_send(o.fp) OR l.org_id IS DISTINCT FROM o.org_id}),
		0, "$p: folded, the day is what it is computed whole, byte for byte");
	is(psql_ok(qq{SELECT count(*) FROM ${p}_days l FULL JOIN ${p}_once_days o USING (day)
	              WHERE (l.rows, l.skipped, l.latest) IS DISTINCT FROM (o.rows, o.skipped, o.latest)}), 0,
		"$p: the same day counts and newest rows");
}

# A day that gained a row after the newest one stored and lost one before
# it has as many rows as it had: the refresh stores it again because a
# row follows the mark, and the fold's check finds the deletion.  (A
# recount alone left such a day as it was.)
psql_ok(q{
	CREATE TABLE swap_log AS SELECT * FROM full_log WHERE ts >= '2026-01-21' AND ts < '2026-01-22 12:00';
	SELECT lockstep_create_pipeline('swap', 'swap_log', 28);
});
psql_ok(q{CALL lockstep_refresh('swap', '2026-01-22')});
psql_ok(q{
	INSERT INTO swap_log SELECT * FROM full_log WHERE ts >= '2026-01-22 12:00' ORDER BY ts, request_id LIMIT 1;
	DELETE FROM swap_log WHERE request_id = (SELECT min(request_id) FROM swap_log
	                                         WHERE ts >= '2026-01-22' AND ts < '2026-01-22 11:00');
});
psql_ok(q{CALL lockstep_refresh('swap', '2026-01-22')});
psql_ok(q{
	CREATE TABLE swap_once_log AS SELECT * FROM swap_log;
	SELECT lockstep_create_pipeline('swap_once', 'swap_once_log', 28);
});
psql_ok(q{CALL lockstep_refresh('swap_once', '2026-01-22')});
is(psql_ok(q{SELECT count(*) FROM swap_daily l FULL JOIN swap_once_daily o USING (day, account_id)
             WHERE fingerprint_send(l.fp) IS DISTINCT FROM fingerprint_send(o.fp) OR l.org_id IS DISTINCT FROM o.org_id}),
	0, 'a row after the mark and one gone before it: the day is what it is computed whole');

done_testing();
