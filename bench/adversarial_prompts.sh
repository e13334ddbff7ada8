#!/usr/bin/env bash
# Benchmark: fingerprint_agg on prompts written to be expensive, of every
# shape the normalizer special-cases (e-mail, URL, UUID, numbers, hex, CJK,
# runs of separators, one huge word), 1 KB to 10 MB, as milliseconds per MB
# beside plain English text of the same size, in one run.  The accounts
# being detected write the prompts: no shape may cost much more per byte
# than text does (the goal: the worst within 3x of plain text).  Not CI.
# Usage: bench/adversarial_prompts.sh [REPEATS]   (default 3: median of 3)
set -u
LS_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$LS_ROOT/test/lib.sh"
REPEATS=${1:-3}

ls_setup
q -c "CREATE EXTENSION lockstep"
psql -X -q -v ON_ERROR_STOP=1 -v repeats="$REPEATS" <<'SQL'
\pset footer off
SET bench.repeats = :repeats;
CREATE TEMP TABLE shapes (shape text, unit text);
INSERT INTO shapes VALUES
  ('plain text', 'the quick brown fox jumps over the lazy dog and asks for a summary '),
  ('e-mail attack: a.a.a... then one @', NULL),
  ('e-mail addresses', 'write to first.last+tag@mail.example.com or ops@x.io today '),
  ('URLs', 'see https://example.com/path/to/page?query=1&b=2 and www.x.io/a '),
  ('one URL without spaces', NULL),
  ('UUIDs', '123e4567-e89b-12d3-a456-426614174000 '),
  ('numbers', '1,234.56 and 7,890,123.45 or 42 '),
  ('one number of digits', NULL),
  ('hex', '0xdeadbeef a1b2c3d4e5f6 cafe0123babe '),
  ('CJK', '请一步一步思考并给出评分然后重写答案'),
  ('separators', '.,;:!?-_=+*/\|()[]{}<>'),
  ('whitespace runs', E'   \t\t\n\n   \r\n'),
  ('one huge word', NULL);
CREATE TEMP TABLE result (shape text, bytes int, ms_per_mb float8);
DO $$
DECLARE
	s record;
	sz int;
	p text;
	k int;
	t0 timestamptz;
	runs float8[];
BEGIN
	FOR s IN SELECT * FROM shapes LOOP
		FOREACH sz IN ARRAY ARRAY[1000, 100000, 1000000, 10000000] LOOP
			p := CASE s.shape
				WHEN 'e-mail attack: a.a.a... then one @' THEN repeat('a.', sz / 2 - 5) || ' me@x.io'
				WHEN 'one URL without spaces' THEN 'https://x.io/' || repeat('a/b', sz / 3 - 5)
				WHEN 'one number of digits' THEN repeat('1234567890', sz / 10)
				WHEN 'one huge word' THEN repeat('abcdefghij', sz / 10)
				ELSE left(repeat(s.unit, sz / octet_length(s.unit) + 1), sz) END;
			k := greatest(1, 20000000 / sz);	-- about 20 MB of prompts a measurement
			runs := '{}';
			FOR r IN 1 .. current_setting('bench.repeats')::int LOOP
				t0 := clock_timestamp();
				PERFORM fingerprint_agg(now(), p) FROM generate_series(1, k);
				runs := runs || extract(epoch FROM clock_timestamp() - t0) * 1000 / (k * octet_length(p) / 1e6);
			END LOOP;
			INSERT INTO result SELECT s.shape, sz, percentile_cont(0.5) WITHIN GROUP (ORDER BY x) FROM unnest(runs) x;
		END LOOP;
	END LOOP;
END $$;
\echo
\echo fingerprint_agg(ts, prompt): milliseconds per MB of prompt (median), and the ratio to plain text of the same size
SELECT r.shape,
       round(max(r.ms_per_mb) FILTER (WHERE r.bytes = 1000)::numeric, 1) AS "1 KB",
       round(max(r.ms_per_mb) FILTER (WHERE r.bytes = 100000)::numeric, 1) AS "100 KB",
       round(max(r.ms_per_mb) FILTER (WHERE r.bytes = 1000000)::numeric, 1) AS "1 MB",
       round(max(r.ms_per_mb) FILTER (WHERE r.bytes = 10000000)::numeric, 1) AS "10 MB",
       round(max(r.ms_per_mb / t.ms_per_mb)::numeric, 2) AS "worst ratio to plain"
FROM result r JOIN result t ON t.shape = 'plain text' AND t.bytes = r.bytes
GROUP BY r.shape ORDER BY max(r.ms_per_mb / t.ms_per_mb) DESC;
SELECT round(max(r.ms_per_mb / t.ms_per_mb)::numeric, 2) AS worst_ratio_over_all_shapes_and_sizes,
       max(r.ms_per_mb / t.ms_per_mb) <= 3 AS within_3x
FROM result r JOIN result t ON t.shape = 'plain text' AND t.bytes = r.bytes;
SQL
