# The dashboard in a real browser (issue 21): bin/lockstep-dashboard builds
# the pages over a pipeline refreshed twice (dashboard/test/scenario.sql: a
# new campaign, a growing one, a banned one), serves them on localhost and
# opens each in headless Chromium; each number shown must be the SQL's, no
# request may leave localhost, no console error appear.  The screenshots
# are left in test/artifacts/dashboard.
use strict;
use warnings;
use LsTest;
use Test::More;
use FindBin;

my $root = "$FindBin::Bin/../..";
system("psql -X -q -d postgres -c 'DROP DATABASE IF EXISTS lockstep_dash' -c 'CREATE DATABASE lockstep_dash' >/dev/null 2>&1") == 0
  or die "cannot create lockstep_dash";
my ($rc, $out, $err) = psql("\\set rows 400000\n\\i $root/dashboard/test/scenario.sql\n"
	. "SELECT string_agg(change, ',' ORDER BY change) FROM demo_changes WHERE change <> 'same'", db => 'lockstep_dash');
is($rc, 0, 'two refreshes of the scenario') or diag($err);
is((split /\n/, $out)[-1], 'gone,grew,new', 'the history says what the scenario did: one campaign new, one grown, one gone');

my $shots = "$root/test/artifacts/dashboard";
system("rm -rf '$shots'");
my $report = `PGDATABASE=lockstep_dash LOCKSTEP_PIPELINE=demo '$root/bin/lockstep-dashboard' --port 3123 --check '$shots' 2>&1`;
my $status = $? >> 8;
my $checks = 0;
for my $line (split /\n/, $report)
{
	next unless $line =~ /^(not ok|ok) - (.*)$/;
	ok($1 eq 'ok', $2);
	$checks++;
}
cmp_ok($checks, '>=', 20, "the browser ran its checks ($checks)") or diag($report);
is($status, 0, 'bin/lockstep-dashboard --check ends well') or diag($report);
for my $page (qw(campaigns campaign account health))
{
	ok(-s "$shots/$page.png", "a screenshot of the $page page");
}

done_testing();
