#!/usr/bin/env bash
# Benchmark: all pairs of account fingerprints above a threshold.
#  - lockstep's LSH join (fingerprint_similar_pairs) on every account;
#  - brute force (every pair, exact similarity) on a random sample,
#    extrapolated to all pairs; LSH recall measured on that sample;
#  - pg_trgm's GIN % self-join on a per-account text (its first
#    five prompt templates), against the LSH join on the same subset, both scored by
#    recall of same-campaign pairs (the generator's labels);
#  - single-account lookups through the GIN index: p50 and p99.
# Not part of CI.
# Usage: bench/similarity_join.sh [ROWS] [SAMPLE] [SUBSET] [THRESHOLD]
#        (default 16000000 2000 1000 0.5)
set -u
LS_ROOT=$(cd "$(dirname "$0")/.." && pwd)
. "$LS_ROOT/test/lib.sh"
ROWS=${1:-16000000}
SAMPLE=${2:-2000}
SUBSET=${3:-1000}
T=${4:-0.5}

ls_setup

# seconds a statement takes
timed() {
	local s e
	s=$(date +%s.%N)
	q -c "SET work_mem = '1GB'; $1" >/dev/null || return 1
	e=$(date +%s.%N)
	awk "BEGIN{printf \"%.2f\", $e - $s}"
}

q -c "CREATE EXTENSION lockstep; CREATE EXTENSION lockstep_synth; CREATE EXTENSION pg_trgm;"
echo "log: $ROWS rows; threshold $T"
t=$(timed "CREATE UNLOGGED TABLE log AS SELECT * FROM lockstep_synth_log($ROWS, 42)")
echo "generate: $t s"
t=$(timed "CREATE UNLOGGED TABLE fps AS SELECT account_id, fingerprint_agg(ts, prompt, client_ip, user_agent, payment, model, tokens_in, tokens_out) AS fp FROM log GROUP BY account_id")
echo "fingerprint: $t s"
q -c "CREATE TABLE labels AS SELECT account_id, coalesce(campaign, kind) AS pop FROM lockstep_synth_accounts($ROWS, 42);
      ALTER TABLE fps ADD PRIMARY KEY (account_id); ANALYZE fps; ANALYZE labels;"
N=$(q -c "SELECT count(*) FROM fps")
echo "accounts: $N ($(q -c "SELECT count(*) FROM fps JOIN labels USING (account_id) WHERE pop IN ('A','B','C')") in campaigns)"

# Both sides produce every pair and count them; neither stores them (186M
# rows at 16M would measure INSERT, not the join).  The LSH join is timed
# twice: called in the select list, its rows stream to count(*) as brute
# force's do; called in FROM, PostgreSQL first stores every row in a
# tuplestore (on disk past work_mem).  A third, untimed run counts the
# pairs it finds inside the sample.  The LSH join returns only true pairs
# (each is rechecked), so its recall on the sample is those over brute
# force's.
q -c "CREATE TABLE sample AS SELECT account_id, fp FROM fps ORDER BY md5(account_id::text) LIMIT $SAMPLE;
      ALTER TABLE sample ADD PRIMARY KEY (account_id); ANALYZE sample;"
JOIN="fingerprint_similar_pairs('SELECT account_id, fp FROM fps', $T)"

echo
echo "== LSH join on all $N accounts"
s=$(date +%s.%N)
P=$(q -c "SET work_mem = '1GB'; SELECT count(*) FROM (SELECT $JOIN AS p) s")
e=$(date +%s.%N)
t_lsh=$(awk "BEGIN{printf \"%.2f\", $e - $s}")
echo "in the select list (streamed): $t_lsh s, $P pairs"
t_from=$(timed "SELECT count(*) FROM $JOIN")
echo "in FROM (stored in a tuplestore first): $t_from s"
PS=$(q -c "SET work_mem = '1GB';
	SELECT count(*) FROM (SELECT $JOIN AS p) s
	WHERE (p).a IN (SELECT account_id FROM sample) AND (p).b IN (SELECT account_id FROM sample)")

echo
echo "== brute force on a random sample of $SAMPLE accounts (median of 3 runs)"
times=()
for r in 1 2 3; do
	s=$(date +%s.%N)
	B=$(q -c "SELECT count(*) FROM sample x, sample y WHERE x.account_id < y.account_id AND fingerprint_similarity(x.fp, y.fp) >= $T")
	e=$(date +%s.%N)
	times+=("$(awk "BEGIN{printf \"%.2f\", $e - $s}")")
done
t_s=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p)
t_full=$(awk "BEGIN{printf \"%.0f\", $t_s * ($N * ($N - 1)) / ($SAMPLE * ($SAMPLE - 1))}")
echo "sample: ${times[*]} s for $((SAMPLE * (SAMPLE - 1) / 2)) pairs, $B at or above $T"
awk "BEGIN{printf \"LSH recall on the sample: %.4f (%d of %d)\n\", ($B ? $PS / $B : 1), $PS, $B}"
echo "brute force on all $N accounts, extrapolated: $t_full s"
awk "BEGIN{printf \"speed-up of the LSH join over brute force: %.1fx streamed, %.1fx in FROM\n\", $t_full / $t_lsh, $t_full / $t_from}"

echo
echo "== pg_trgm GIN % self-join vs LSH join, on $SUBSET accounts, recall of same-campaign pairs"
q -c "CREATE TABLE sub AS SELECT f.account_id, f.fp, l.pop FROM fps f JOIN labels l USING (account_id)
        ORDER BY md5('sub' || f.account_id) LIMIT $SUBSET;
      CREATE TABLE docs AS
        SELECT account_id, string_agg(t, ' ') AS doc FROM (
          SELECT account_id, prompt_template(prompt) AS t,
                 row_number() OVER (PARTITION BY account_id ORDER BY request_id) AS r
          FROM log WHERE account_id IN (SELECT account_id FROM sub)) s
        WHERE r <= 5 GROUP BY account_id;
      CREATE INDEX ON docs USING gin (doc gin_trgm_ops); ANALYZE docs;"
truth=$(q -c "SELECT count(*) FROM sub x JOIN sub y ON x.pop = y.pop AND x.account_id < y.account_id WHERE x.pop IN ('A','B','C')")
t_lsub=$(timed "CREATE TABLE lsh_sub AS SELECT * FROM fingerprint_similar_pairs('SELECT account_id, fp FROM sub', $T)")
r_lsub=$(q -c "SELECT count(*) FROM lsh_sub p JOIN sub x ON x.account_id = p.a JOIN sub y ON y.account_id = p.b WHERE x.pop = y.pop AND x.pop IN ('A','B','C')")
awk "BEGIN{printf \"lockstep LSH join: %s s, same-campaign recall %.4f (%d of %d)\n\", $t_lsub, $r_lsub / $truth, $r_lsub, $truth}"
for th in 0.6 0.5 0.4 0.3; do
	t_trgm=$(timed "SET statement_timeout = '900s'; SET pg_trgm.similarity_threshold = $th;
		CREATE TABLE trgm_$(echo $th | tr -d .) AS SELECT a.account_id AS a, b.account_id AS b FROM docs a JOIN docs b ON a.doc % b.doc AND a.account_id < b.account_id") || { echo "pg_trgm threshold $th: over 900 s, stopped"; break; }
	r_trgm=$(q -c "SELECT count(*) FROM trgm_$(echo $th | tr -d .) p JOIN sub x ON x.account_id = p.a JOIN sub y ON y.account_id = p.b WHERE x.pop = y.pop AND x.pop IN ('A','B','C')")
	awk "BEGIN{printf \"pg_trgm threshold %s: %s s, same-campaign recall %.4f; lockstep is %.1fx faster\n\", \"$th\", $t_trgm, $r_trgm / $truth, $t_trgm / $t_lsub}"
	awk "BEGIN{exit !($r_trgm / $truth >= $r_lsub / $truth)}" && break
done

echo
echo "== single-account lookups through the GIN index (fp % probe), 200 random probes"
t=$(timed "CREATE INDEX fps_lsh ON fps USING gin (fp)")
echo "index build: $t s, $(q -c "SELECT pg_size_pretty(pg_relation_size('fps_lsh'))")"
q -c "SET lockstep.similarity_threshold = $T;
      CREATE TABLE lat AS SELECT 0::float8 AS ms, 0::bigint AS hits WHERE false;
      DO \$\$
      DECLARE p record; t0 timestamptz; n bigint;
      BEGIN
        FOR p IN SELECT fp FROM fps ORDER BY md5('probe' || account_id) LIMIT 200 LOOP
          t0 := clock_timestamp();
          SELECT count(*) INTO n FROM fps WHERE fp % p.fp;
          INSERT INTO lat VALUES (extract(epoch FROM clock_timestamp() - t0) * 1000, n);
        END LOOP;
      END \$\$;"
q -c "SELECT 'p50 ' || round(percentile_cont(0.5) WITHIN GROUP (ORDER BY ms)::numeric, 2) || ' ms, p99 ' ||
             round(percentile_cont(0.99) WITHIN GROUP (ORDER BY ms)::numeric, 2) || ' ms, median matches ' ||
             percentile_disc(0.5) WITHIN GROUP (ORDER BY hits) FROM lat"
q -c "EXPLAIN (COSTS OFF) SELECT count(*) FROM fps WHERE fp % (SELECT fp FROM fps LIMIT 1)" | grep -i "index"
