# Fuzz the text and binary input parsers with mutated and random inputs:
# every input is either accepted as a canonical value or rejected with the
# input SQLSTATE; nothing crashes.
use strict;
use warnings;
use Test::More;
use MIME::Base64;
use LsTest;

srand(20260226);
psql_ok(q{
	CREATE TABLE seeds AS
	SELECT fingerprint_send(fingerprint_agg(ts, prompt, client_ip, user_agent, payment, model, tokens_in, tokens_out)) AS b
	FROM lockstep_synth_log(5000, 9) GROUP BY account_id ORDER BY account_id LIMIT 20;
});
my @seeds = map { pack('H*', substr($_, 2)) } split /\n/, psql_ok('SELECT b FROM seeds');
is(scalar @seeds, 20, 'seed fingerprints');

# Mutations: flip bytes, set bytes to extremes, truncate, extend, splice, random.
sub mutate
{
	my $b = $seeds[int(rand(@seeds))];
	my $kind = int(rand(6));
	my $len = length $b;
	if ($kind == 0) { substr($b, int(rand($len)), 1) = chr(int(rand(256))) for 1 .. 1 + int(rand(4)) }
	elsif ($kind == 1) { substr($b, int(rand(8)), 1) = chr((0, 1, 255, 32, 33)[int(rand(5))]) }
	elsif ($kind == 2) { $b = substr($b, 0, int(rand($len))) }
	elsif ($kind == 3) { $b .= join '', map { chr(int(rand(256))) } 1 .. 1 + int(rand(16)) }
	elsif ($kind == 4) { my $o = $seeds[int(rand(@seeds))]; my $cut = int(rand(length $o)); $b = substr($b, 0, $cut < $len ? $cut : $len) . substr($o, $cut) }
	else { $b = join '', map { chr(int(rand(256))) } 1 .. int(rand(3000)) }
	return $b;
}

my $dir = scratch_dir();
my @cases = map { mutate() } 1 .. 600;

# text path: base64 of each mutation
open my $fh, '>', "$dir/text.tsv" or die;
print $fh encode_base64($_, ''), "\n" for @cases;
close $fh;
psql_ok("CREATE TABLE fuzz_text (t text); \\copy fuzz_text FROM '$dir/text.tsv'");
my $res = psql_ok(q{
	CREATE TABLE text_outcome (t text, state text, canonical bool);
	DO $$
	DECLARE r record; fp fingerprint;
	BEGIN
	  FOR r IN SELECT t FROM fuzz_text LOOP
	    BEGIN
	      fp := r.t::fingerprint;
	      INSERT INTO text_outcome VALUES (r.t, 'ok', fp::text = r.t);
	    EXCEPTION WHEN OTHERS THEN
	      INSERT INTO text_outcome VALUES (r.t, SQLSTATE, NULL);
	    END;
	  END LOOP;
	END $$;
	SELECT state || ':' || count(*) FROM text_outcome GROUP BY state ORDER BY state;
});
note("text outcomes: $res");
my $bad = psql_ok(q{SELECT count(*) FROM text_outcome WHERE state NOT IN ('ok', '22P02')});
is($bad, 0, 'text input: only acceptance or 22P02');
is(psql_ok(q{SELECT count(*) FROM text_outcome WHERE state = 'ok' AND NOT canonical}), 0,
	'text input: accepted values print back identically');
cmp_ok(psql_ok(q{SELECT count(*) FROM text_outcome WHERE state = '22P02'}), '>', 500,
	'text input: most mutations are rejected');

# binary path: one COPY (FORMAT binary) file per mutation
my @files;
for my $i (0 .. 299)
{
	my $f = "$dir/case$i.bin";
	open my $bf, '>:raw', $f or die;
	print $bf "PGCOPY\n\377\r\n\0", pack('N', 0), pack('N', 0);
	print $bf pack('n', 1), pack('N', length $cases[$i]), $cases[$i];
	print $bf pack('n', 0xFFFF);
	close $bf;
	chmod 0644, $f;
	push @files, $f;
}
$res = psql_ok(qq{
	CREATE TABLE fuzz_bin (fp fingerprint);
	CREATE TABLE bin_outcome (state text);
	DO \$\$
	DECLARE f text;
	BEGIN
	  FOR f IN SELECT unnest(ARRAY['} . join("','", @files) . qq{']) LOOP
	    BEGIN
	      EXECUTE format('COPY fuzz_bin FROM %L (FORMAT binary)', f);
	      INSERT INTO bin_outcome VALUES ('ok');
	    EXCEPTION WHEN OTHERS THEN
	      INSERT INTO bin_outcome VALUES (SQLSTATE);
	    END;
	  END LOOP;
	END \$\$;
	SELECT state || ':' || count(*) FROM bin_outcome GROUP BY state ORDER BY state;
});
note("binary outcomes: $res");
is(psql_ok(q{SELECT count(*) FROM bin_outcome}), 300, 'binary input: every case ran');
is(psql_ok(q{SELECT count(*) FROM bin_outcome WHERE state NOT IN ('ok', '22P03')}), 0,
	'binary input: only acceptance or 22P03');
is(psql_ok(q{SELECT count(*) FROM fuzz_bin WHERE fp::text::fingerprint::text <> fp::text}), 0,
	'binary input: accepted values round-trip');
# accepted values are usable by every function
is(psql_ok(q{SELECT count(*) FROM fuzz_bin WHERE fingerprint_summary(fingerprint_merge(fp, fp)) IS NULL}), 0,
	'binary input: accepted values merge and summarize');

# The aggregate's state deserializer: no SQL expression has type internal,
# so no SQL call can hand it bytes ...
like((psql(q{SELECT fingerprint_agg_deserialize('\x00'::bytea, NULL)}))[2], qr/function .* does not exist/,
	'SQL cannot call the internal-state functions');
# ... so a test aggregate hands it the mutations (lockstep_synth's hook)
$res = psql_ok(q{
	CREATE AGGREGATE deserialized(bytea) (SFUNC = lockstep_synth_deserialize_trans, STYPE = internal,
										  FINALFUNC = fingerprint_agg_final);
	CREATE TABLE state_outcome (state text, usable bool);
	DO $$
	DECLARE r record; fp fingerprint;
	BEGIN
	  FOR r IN SELECT t FROM fuzz_text LOOP
	    BEGIN
	      SELECT deserialized(decode(r.t, 'base64')) INTO fp;
	      INSERT INTO state_outcome VALUES ('ok', fingerprint_summary(fingerprint_merge(fp, fp)) IS NOT NULL
	                                              AND fp::text::fingerprint::text = fp::text);
	    EXCEPTION WHEN OTHERS THEN
	      INSERT INTO state_outcome VALUES (SQLSTATE, NULL);
	    END;
	  END LOOP;
	END $$;
	SELECT state || ':' || count(*) FROM state_outcome GROUP BY state ORDER BY state;
});
note("deserializer outcomes: $res");
is(psql_ok(q{SELECT count(*) FROM state_outcome}), scalar @cases, 'deserializer: every case ran');
is(psql_ok(q{SELECT count(*) FROM state_outcome WHERE state NOT IN ('ok', '22P03')}), 0,
	'deserializer: only acceptance or 22P03');
cmp_ok(psql_ok(q{SELECT count(*) FROM state_outcome WHERE state = '22P03'}), '>', 500,
	'deserializer: most mutations are rejected');
is(psql_ok(q{SELECT count(*) FROM state_outcome WHERE state = 'ok' AND usable IS NOT TRUE}), 0,
	'deserializer: accepted states finalize, merge, summarize and round-trip');

is(psql_ok('SELECT 1'), 1, 'server still up');
done_testing();
