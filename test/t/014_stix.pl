# Sharing a campaign as STIX 2.1 (issue 22): the bundles of the dashboard's
# scenario (dashboard/test/scenario.sql, two refreshes), one per flagged
# campaign and one of all, validate against the OASIS schemas (each object
# against its type's) and their patterns follow the pattern grammar
# (test/stix_check.py); exporting again gives the same ids; no indicator
# is one account's.
use strict;
use warnings;
use LsTest;
use Test::More;
use FindBin;

my $root = "$FindBin::Bin/../..";
# a query that must succeed, in this test's database
sub sq { return psql_ok($_[0], db => 'lockstep_stix'); }
system("psql -X -q -d postgres -c 'DROP DATABASE IF EXISTS lockstep_stix' -c 'CREATE DATABASE lockstep_stix' >/dev/null 2>&1") == 0
  or die "cannot create lockstep_stix";
my ($rc, $out, $err) = psql("\\set rows 400000\n\\i $root/dashboard/test/scenario.sql\n"
	. "SELECT string_agg(campaign::text, ' ' ORDER BY campaign) FROM demo_history "
	. "WHERE refreshed_at = (SELECT max(refreshed_at) FROM demo_history)", db => 'lockstep_stix');
is($rc, 0, 'the scenario ran') or diag($err);
my @campaigns = split / /, (split /\n/, $out)[-1];
cmp_ok(scalar @campaigns, '>=', 2, "flagged campaigns to export (@campaigns)");

my $dir = scratch_dir();
my @files;
for my $c ('NULL', @campaigns)
{
	my $file = "$dir/bundle-" . ($c eq 'NULL' ? 'all' : $c) . ".json";
	my $json = sq("SELECT lockstep_stix_bundle('demo', $c)");
	open my $fh, '>', $file or die;
	print $fh $json;
	close $fh;
	push @files, $file;
	is(sq("SELECT md5(lockstep_stix_bundle('demo', $c)::text)"), sq("SELECT md5('" . ($json =~ s/'/''/gr) . "')"),
		"exporting campaign $c again gives the same bundle, ids and all");
}
my $check = `/usr/bin/python3 '$root/test/stix_check.py' @files 2>&1`;
for my $line (split /\n/, $check)
{
	next unless $line =~ /^(not ok|ok) - (.*)$/;
	ok($1 eq 'ok', $2);
}
like($check, qr/^ok - bundle-all\.json: each of its \d+ objects/m, 'the bundle of every campaign was checked') or diag($check);

# every indicator is a value several members share; the ids stay apart
is(sq(q{
	SELECT count(*) FILTER (WHERE (o->>'x_lockstep_member_accounts')::int < 3) || ' of ' || count(*)
	FROM jsonb_array_elements(lockstep_stix_bundle('demo')->'objects') o WHERE o->>'type' = 'indicator'
}) =~ /^0 of [1-9]/ ? 1 : 0, 1, 'no indicator is a value fewer than 3 member accounts share');
is(sq(q{
	SELECT count(DISTINCT o->>'id') = count(*)
	FROM jsonb_array_elements(lockstep_stix_bundle('demo')->'objects') o
}), 't', 'every object of a bundle has its own id');
($rc, $out, $err) = psql(q{SELECT lockstep_stix_bundle('demo', 999999)}, db => 'lockstep_stix');
like($err, qr/pipeline demo has no flagged campaign 999999/, 'a campaign that is not flagged: a clear error');
($rc, $out, $err) = psql(q{SELECT lockstep_stix_bundle('demo', NULL, 'lockstep', 1)}, db => 'lockstep_stix');
like($err, qr/min_accounts of 2 or more/, 'an indicator of one account is refused');

done_testing();
