# The blinded exchange between two providers (issue 22): bin/lockstep-share-demo
# on this test's server.  The campaign operator the two share is matched
# across them, their own campaigns and users are not, a partner blinded
# under another key matches nothing, and nothing raw is in the exchanged
# files: not as text, not inside the fingerprints' bytes (where a plain
# fingerprint's model names are, which this test finds, so that the search
# is seen to work), not as an unkeyed hash.
use strict;
use warnings;
use LsTest;
use Test::More;
use FindBin;
use MIME::Base64 qw(decode_base64);

my $root = "$FindBin::Bin/../..";
my $dir = scratch_dir();
my $out = `LS_HERE=1 LS_SHARE_DIR='$dir' '$root/bin/lockstep-share-demo' 400000 2>&1`;
is($?, 0, 'the demo ran') or diag($out);

for my $p ('provider_a', 'provider_b')
{
	my ($row) = $out =~ /^ \Q$p\E +\| +(\d+ +\| +\d+ +\| +\d+ +\| +\d+) +\| cross matches/m;
	ok(defined $row, "$p reports its cross matches") or next;
	my ($matched, $accounts, $own, $users) = split /\s*\|\s*/, $row;
	cmp_ok($accounts, '>=', 50, "$p holds part of the shared operator ($accounts accounts)");
	cmp_ok($matched / $accounts, '>=', 0.9, "$p: $matched of $accounts of the shared operator's accounts matched across");
	is($own, 0, "$p: its own campaign is not matched across");
	is($users, 0, "$p: none of its users is matched across");
}
my @wrong = $out =~ /wrong key: (\d+) shared campaigns/g;
is_deeply(\@wrong, [0, 0], 'under another key, no campaign is shared');
my ($raw, $of) = $out =~ /raw values in the exchanged files: (\d+) of (\d+)/;
cmp_ok($of // 0, '>', 1000, 'every raw value of both logs searched for');
is($raw, 0, 'no raw value in the exchanged files as text');
my @dict = $out =~ /: (\d+) unkeyed infrastructure hashes, (\d+) model identities, (\d+) model names found \(the same dictionary in its own plain fingerprints: (\d+)\)/g;
is(scalar @dict, 8, 'both sides ran the dictionary');
for my $i (0, 4)
{
	is("@dict[$i .. $i + 2]", '0 0 0', 'a dictionary of raw values, hashed without the key, finds nothing in the other file');
	cmp_ok($dict[$i + 3] // 0, '>', 1000, 'where it finds the plain fingerprints\' values');
}

# inside the fingerprints: the decoded bytes of every exchanged fingerprint
# hold none of the raw values, where the plain ones hold the model names
open my $fh, '<', "$dir/raw.txt" or die;
my %raw = map { chomp; ($_ => 1) } grep { length >= 5 } <$fh>;
close $fh;
# the raw values among the printable runs of the decoded fingerprints: each
# run's substrings looked up (runs in random bytes are short)
sub raw_inside
{
	my ($file) = @_;
	open my $f, '<', $file or die "$file: $!";
	my @hits;
	while (<$f>)
	{
		chomp;
		my ($ref, $fp) = split /\t/;
		for my $run (decode_base64($fp) =~ /([\x20-\x7e]{5,})/g)
		{
			for my $i (0 .. length($run) - 5)
			{
				for my $len (5 .. length($run) - $i)
				{
					my $sub = substr($run, $i, $len);
					push @hits, $sub if $raw{$sub};
				}
			}
		}
	}
	return @hits;
}
for my $file (glob("$dir/provider_*.blinded"))
{
	my @hits = raw_inside($file);
	is(scalar @hits, 0, "no raw value inside the fingerprints of " . ($file =~ s|.*/||r))
	  or diag("found: @hits[0 .. ($#hits < 5 ? $#hits : 4)]");
}
psql_ok("COPY (SELECT account_id, fp FROM p_window) TO STDOUT \\g $dir/plain.txt", db => 'provider_a');
cmp_ok(scalar(raw_inside("$dir/plain.txt")), '>', 100, 'the same search finds the model names inside plain fingerprints');

psql("DROP DATABASE provider_a", db => 'postgres');
psql("DROP DATABASE provider_b", db => 'postgres');
done_testing();
