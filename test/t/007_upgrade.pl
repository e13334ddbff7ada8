# The update chain from 0.1.0 (through 0.2.0 to the current version): a database that made and refreshed a pipeline
# under 0.1.0, updated with ALTER EXTENSION, refreshes again and ends with
# the same catalog as a fresh install that made the same pipeline: the
# extension's own objects (pg_dump --binary-upgrade lists them) and the
# pipeline's tables and views.  Then the pipeline's dependencies: no part
# drops alone, lockstep_drop_pipeline and DROP EXTENSION CASCADE remove
# all of it.
use strict;
use warnings;
use LsTest;
use Test::More;

for my $db (qw(lockstep_old lockstep_new))
{
	system("psql -X -q -d postgres -c 'DROP DATABASE IF EXISTS $db' -c 'CREATE DATABASE $db' >/dev/null 2>&1") == 0
	  or die "cannot create $db";
}

# The same log, pipeline and refreshes in both; 0.1.0 had the generator
# built in, so the test's generator lives in a schema of its own there.
my $setup = <<'SQL';
CREATE SCHEMA synth;
CREATE EXTENSION lockstep_synth SCHEMA synth;
SET timezone = 'UTC';
CREATE TABLE api_log AS SELECT * FROM synth.lockstep_synth_log(20000, 7);
CREATE TABLE rel AS SELECT * FROM synth.lockstep_synth_releases();
DROP SCHEMA synth CASCADE;
SELECT lockstep_create_pipeline('api', 'api_log', 28, 'rel');
CALL lockstep_refresh('api', '2026-01-20');
SQL
my $summary = q{SELECT (SELECT count(*) FROM api_daily) || ' daily, '
  || (SELECT count(*) FROM api_clusters) || ' clustered, '
  || (SELECT count(*) FILTER (WHERE flagged) FROM api_accounts) || ' flagged'};

my ($rc, $out, $err) = psql("CREATE EXTENSION lockstep VERSION '0.1.0';\n$setup\n$summary", db => 'lockstep_old');
is($rc, 0, '0.1.0 makes and refreshes a pipeline') or diag($err);
(my $before = $out) =~ s/.*\n//s;
($rc, $out, $err) = psql("ALTER EXTENSION lockstep UPDATE;\nSELECT extversion FROM pg_extension WHERE extname = 'lockstep'",
	db => 'lockstep_old');
is($out, '0.6.0', 'ALTER EXTENSION lockstep UPDATE reaches 0.6.0') or diag($err);
like($err, qr/pipeline public\.api updated/, 'the update says which pipelines it updated');
($rc, $out, $err) = psql("CALL lockstep_refresh('api', '2026-02-10');\n$summary", db => 'lockstep_old');
my $old_after = $out;
is($rc, 0, 'the updated pipeline refreshes') or diag($err);

($rc, $out, $err) = psql("CREATE EXTENSION lockstep;\n$setup\nCALL lockstep_refresh('api', '2026-02-10');\n$summary",
	db => 'lockstep_new');
is($rc, 0, 'a fresh 0.6.0 install makes and refreshes the same pipeline') or diag($err);
$out =~ s/.*\n//s;
is($old_after, $out, "the updated and the fresh pipeline hold the same ($out)");
isnt($before, $old_after, 'the refresh after the update added days');

# The catalogs, through pg_dump: OIDs, transaction ids, the dropped
# 0.1.0 config column and the dump's order (which follows OIDs) aside.
sub catalog
{
	my ($db) = @_;
	my $dump = `pg_dump --schema-only --binary-upgrade -d $db`;
	die "pg_dump $db failed" if $?;
	my @lines = grep {
		!/^\\(un)?restrict|binary_upgrade_set_next|must preserve|relfrozenxid|^WHERE oid = |pg\.dropped|recreate dropped column|^UPDATE pg_catalog\.pg_attribute|^SET attlen|^  AND attrelid/
	} split /\n/, $dump;
	my @blocks = map { s/\n\n+/\n/gr =~ s/^\s+|\s+$//gr } split /\n(?=--\n-- Name: )/, join("\n", @lines);
	return join("\n=====\n", sort @blocks);
}
my $old = catalog('lockstep_old');
my $new = catalog('lockstep_new');
ok(length($new) > 10000 && $new =~ /ALTER EXTENSION lockstep ADD FUNCTION public\.fingerprint_clusters/,
	'the dump lists the extension\'s objects');
if (!is($old, $new, 'pg_dump: the updated catalog equals a fresh 0.6.0 install'))
{
	my $dir = scratch_dir();
	open my $f, '>', "$dir/old" or die; print $f $old; close $f;
	open $f, '>', "$dir/new" or die; print $f $new; close $f;
	diag(`diff $dir/old $dir/new | head -40`);
}

# Dependencies: every part of the pipeline is pinned, and knows its parts.
for my $stmt ('DROP TABLE api_window', 'DROP TABLE api_accounts', 'DROP MATERIALIZED VIEW api_campaigns',
	'DROP TABLE api_daily', 'DROP TABLE api_config', 'DROP TABLE rel')
{
	($rc, $out, $err) = psql($stmt, db => 'lockstep_new');
	like($err, qr/depends on/, "refused without CASCADE: $stmt");
}
my $parts = q{SELECT string_agg(relname, ' ' ORDER BY relname) FROM pg_class
  WHERE relname LIKE 'api\_%' AND relkind IN ('r', 'm', 'v')};
($rc, $out, $err) = psql("SELECT lockstep_drop_pipeline('api');\n$parts", db => 'lockstep_new');
is((split /\n/, $out)[-1], 'api_log', 'lockstep_drop_pipeline removes every table and view it made') or diag($err);
($rc, $out, $err) = psql("SELECT lockstep_create_pipeline('api', 'api_log', 28, 'rel')", db => 'lockstep_new');
is($rc, 0, 'the same pipeline can be made again') or diag($err);
($rc, $out, $err) = psql("DROP EXTENSION lockstep CASCADE;\n$parts", db => 'lockstep_new');
is($out, 'api_log', 'DROP EXTENSION lockstep CASCADE removes the pipeline with it') or diag($err);
($rc, $out, $err) = psql("CREATE EXTENSION lockstep;\nSELECT lockstep_create_pipeline('api', 'api_log')",
	db => 'lockstep_new');
is($rc, 0, 'and a new install makes it again') or diag($err);

# From 0.5.0, whose update makes the window and the views made from it
# again (their query changed): each keeps its owner, its privileges and
# the indexes the user put on it, and is empty until the next refresh.
system("psql -X -q -d postgres -c 'DROP DATABASE IF EXISTS lockstep_u5' -c 'CREATE DATABASE lockstep_u5' "
	. "-c 'DROP ROLE IF EXISTS lockstep_tap_reader' -c 'CREATE ROLE lockstep_tap_reader' >/dev/null 2>&1") == 0
  or die 'cannot create lockstep_u5';
($rc, $out, $err) = psql(<<'SQL', db => 'lockstep_u5');
CREATE EXTENSION lockstep VERSION '0.5.0';
CREATE EXTENSION lockstep_synth;
CREATE TABLE api_log AS SELECT * FROM lockstep_synth_log(20000, 7);
SELECT lockstep_create_pipeline('api', 'api_log', 28);
CALL lockstep_refresh('api', '2026-01-20');
GRANT SELECT ON api_campaigns TO lockstep_tap_reader WITH GRANT OPTION;
GRANT SELECT ON api_shared TO PUBLIC;
ALTER MATERIALIZED VIEW api_accounts OWNER TO lockstep_tap_reader;
CREATE INDEX api_campaigns_by_score ON api_campaigns (score);
ALTER EXTENSION lockstep UPDATE;
SELECT has_table_privilege('lockstep_tap_reader', 'api_campaigns', 'SELECT WITH GRANT OPTION'),
       has_table_privilege('public', 'api_shared', 'SELECT'),
       (SELECT relowner::regrole::text FROM pg_class WHERE oid = 'api_accounts'::regclass),
       (SELECT indexrelid::regclass::text FROM pg_index WHERE indrelid = 'api_campaigns'::regclass
        AND pg_get_indexdef(indexrelid) LIKE '%(score)'),
       (SELECT count(*) FROM pg_class WHERE relname ~ '^api_(campaigns|shared)$'
        AND NOT relispopulated),
       (SELECT count(*) FROM api_window) + (SELECT count(*) FROM api_clusters) + (SELECT count(*) FROM api_accounts);
SQL
is((split /
/, $out)[-1], 't|t|lockstep_tap_reader|api_campaigns_by_score|2|0',
	'from 0.5.0: the views made again keep their owner, privileges and indexes, empty until a refresh') or diag($err);
like($err, qr/lockstep pipeline public\.api updated: its window/, 'and the update says so');
# its tables are what a new pipeline's are (N_days' newest row, N_daily's
# computed_at and index on account_id, N_refreshes' clustered_with), and
# the next refresh stores and folds with them
($rc, $out, $err) = psql(<<'SQL', db => 'lockstep_u5');
SELECT lockstep_create_pipeline('fresh', 'api_log', 28);
ALTER TABLE api_accounts OWNER TO CURRENT_USER;   -- (its owner above cannot read the config)
CALL lockstep_refresh('api', '2026-01-21');
WITH t(p) AS (VALUES ('api'), ('fresh'))
SELECT count(DISTINCT (
	(SELECT string_agg(a.attname || ' ' || format_type(a.atttypid, a.atttypmod), ', ' ORDER BY c.relname, a.attnum)
	 FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
	 WHERE c.relname IN (t.p || '_days', t.p || '_daily', t.p || '_refreshes')),
	(SELECT string_agg(replace(pg_get_indexdef(i.indexrelid), t.p || '_', 'N_'), '; ' ORDER BY 1)
	 FROM pg_index i WHERE i.indrelid = (t.p || '_daily')::regclass))) FROM t;
SELECT (SELECT latest IS NOT NULL FROM api_days WHERE day = '2026-01-21'), (SELECT count(*) > 0 FROM api_window);
SQL
is((split /\n/, $out, 2)[1], "1\nt|t", 'from 0.5.0: a pipeline has the tables a new one has, and refreshes') or diag($err);
system("psql -X -q -d postgres -c 'DROP DATABASE lockstep_u5' -c 'DROP ROLE lockstep_tap_reader' >/dev/null 2>&1");

done_testing();
