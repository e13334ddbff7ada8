-- lockstep: clusters, from edge lists or from fingerprints.
-- Part of the install script that the Makefile assembles (see sql/README).

-- Clusters -----------------------------------------------------------------

CREATE FUNCTION @extschema@.lockstep_clusters(edges text, core_threshold double precision DEFAULT NULL,
	min_size integer DEFAULT 1,
	OUT node bigint, OUT cluster bigint, OUT core boolean)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.lockstep_clusters(text, double precision, integer) IS
	'connected components of an edge query (source, target [, weight]) by union-find; with core_threshold, cores of edges at least that strong and nodes attached to them';

CREATE FUNCTION @extschema@.fingerprint_clusters(query text, threshold double precision DEFAULT NULL,
	core_threshold double precision DEFAULT NULL, min_size integer DEFAULT NULL,
	bands integer DEFAULT NULL, rows integer DEFAULT NULL, max_bucket integer DEFAULT NULL,
	weights double precision[] DEFAULT NULL,
	OUT account_id bigint, OUT cluster bigint, OUT core boolean, OUT similarity double precision)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL RESTRICTED;

CREATE FUNCTION @extschema@.fingerprint_attach(query text, members bigint[], clusters bigint[],
	threshold double precision DEFAULT NULL, bands integer DEFAULT NULL, rows integer DEFAULT NULL,
	max_bucket integer DEFAULT NULL, weights double precision[] DEFAULT NULL,
	OUT account_id bigint, OUT cluster bigint, OUT similarity double precision)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.fingerprint_attach(text, bigint[], bigint[], double precision, integer, integer,
	integer, double precision[]) IS
	'the (id, fingerprint) rows of a query that are not members (members[i] is in clusters[i]: an earlier clustering''s core members) joined to the cluster of their most similar member among their LSH candidates, if at least threshold (lockstep.similarity_threshold): fingerprint_clusters'' attachment step without clustering again';

CREATE FUNCTION @extschema@.lockstep_cluster_defaults() RETURNS jsonb
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.lockstep_cluster_defaults() IS
	'the defaults of fingerprint_clusters'' arguments (threshold: the default of lockstep.similarity_threshold), which a pipeline''s settings start from';
-- fingerprint_clusters' description names the defaults, read from their home
DO $$
DECLARE
	d jsonb := @extschema@.lockstep_cluster_defaults();
BEGIN
	EXECUTE format('COMMENT ON FUNCTION @extschema@.fingerprint_clusters(text, double precision, double precision, '
				   'integer, integer, integer, integer, double precision[]) IS %L',
		format('clusters of the (id, fingerprint) rows of a query: cores joined at core_threshold (default %s) '
			   'of at least min_size (%s) accounts, others attached at threshold (lockstep.similarity_threshold), '
			   'from LSH candidates (%s bands of %s rows, max_bucket %s; the keys of the channels the weights count) '
			   'without listing all pairs; similarity with the given channel weights (default: fingerprint_similarity''s)',
			   d->>'core_threshold', d->>'min_size', d->>'bands', d->>'rows', d->>'max_bucket'));
END $$;

CREATE FUNCTION @extschema@.lockstep_cluster_limits() RETURNS jsonb
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.lockstep_cluster_limits() IS
	'the range fingerprint_clusters accepts for each argument ({"min", "max", "whole"}) and the largest bands x rows, against which a pipeline''s settings are checked';

-- The clusters of a relation of (account_id, fp), in three passes.
--  1. fingerprint_clusters over its accounts, the thin accounts (active on at
--     most thin_days days) that share a payment instrument taken as one
--     group: a hydra's short-lived accounts, each replaced by the next on the
--     same card, are too thin to resemble anything alone; merged, they are
--     the worker behind them.  Thin accounts as like one another as
--     thin_threshold whose group worked in step (co-activity beyond chance
--     at thin_sync) are merged the same way (a hydra with a card per
--     account).
--  2. A group of at least min_size accounts is a cluster by itself, but
--     fingerprint_clusters counts nodes, not accounts: a campaign whose
--     workers share a few cards is a few such groups, too few for a core.
--     So the big groups are also clustered among themselves: cores of two
--     at the join threshold, since each is already one operator's (merged,
--     a group's scaffold sample holds its rarest keys, and content, which
--     compares recurring ones, falls).
--  3. The work alone.  A small campaign that hides its operator
--     (residential proxies, its own cards, its own hours) still shares the
--     work, and must send a campaign's volume through each account to be
--     worth running.  The heavier half of the accounts that are not thin
--     (a bound on the cost) are also clustered on the work alone: what they
--     ask, how they take up the answers, which models and when (cores at
--     the join threshold: a campaign that paraphrases its scaffolds has few
--     pairs at the core threshold).  A work cluster most of whose members
--     pass 1 left out is a cluster of those members if it is at campaign
--     volume: its median member sends at least as many requests as
--     volume_quantile (0.95) of the background, the accounts that are not
--     thin and in no cluster of pass 1; and if it is one work: its
--     pairs agree on the work, on average, at core_threshold, as a core's
--     must (cores at the join threshold chain accounts that share a
--     wrapper and ask their own questions).  A work cluster most of
--     whose members are in one cluster of pass 1 supplies the candidates
--     pass 1's keys missed: each of its other members joins that cluster,
--     attached, if it is at the join threshold on every channel to one of
--     its members (all of them while candidates x members stay within
--     2,000,000 comparisons, else a hash-order sample that fits).
--     volume_quantile 1 leaves this pass out.
-- Each account of a group gets the group's cluster, core and similarity.
CREATE FUNCTION @extschema@.lockstep_cluster_accounts(fingerprints regclass, settings jsonb DEFAULT NULL,
	OUT account_id bigint, OUT cluster bigint, OUT core boolean, OUT similarity double precision)
	RETURNS SETOF record
	LANGUAGE plpgsql VOLATILE PARALLEL RESTRICTED
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	s jsonb := @extschema@.lockstep_settings(settings);
	min_size int := (s->>'min_size')::int;
	lsh text;
	thin_attach float8;
	thin text;
	like_ids bigint[];
	like_of bigint[];
	group_ids bigint[];
	group_of bigint[];
	grouped text;
	group_fps text;
	merged text;
	big text;
	heavy text;
	median_requests bigint;
BEGIN
	IF fingerprints IS NULL THEN
		RAISE EXCEPTION 'the fingerprints relation must not be NULL' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	lsh := format('%s, %s, %s', (s->>'bands')::int, (s->>'rows')::int, (s->>'max_bucket')::int);
	-- (account, its group: the smallest account of it) for the thin accounts
	-- that share a card with another, worked out once here and handed to
	-- each query text below as rows
	EXECUTE format($q$
		SELECT coalesce(array_agg(x.node ORDER BY x.node), '{}'), coalesce(array_agg(x.cluster ORDER BY x.node), '{}')
		FROM (SELECT node, cluster, count(*) OVER (PARTITION BY cluster) AS n
			  FROM @extschema@.lockstep_clusters(%L, NULL, 1)) x
		WHERE x.n > 1$q$,
		format($e$SELECT k.account_id, min(k.account_id) OVER (PARTITION BY k.key)
				  FROM (SELECT f.account_id::bigint AS account_id, x.key
						FROM %1$s f, LATERAL @extschema@.fingerprint_stats(f.fp) st,
							 LATERAL pg_catalog.unnest(@extschema@.fingerprint_payment_keys(f.fp)) x(key)
						WHERE st.active_days <= %2$s) k$e$,
			   fingerprints, (s->>'thin_days')::int)) INTO group_ids, group_of;
	-- and the thin accounts that share no card, grouped by their likeness
	-- (a hydra that gives each account a card of its own).  A few days of
	-- requests agree less with another few days than a worker's window
	-- does, so the likeness is lower: cores at thin_threshold, attached at
	-- its share of the join threshold (thin_threshold x threshold /
	-- core_threshold).  And a group of them is one operator's only if its
	-- members worked in step: each member with the next to start (up to
	-- about 100 such pairs, spread over the group), the pairs that were
	-- active at the same time share 15-minute buckets beyond chance
	-- (co-activity, which judges each account against its own rhythm) at
	-- thin_sync on average, and that mean is three standard errors above
	-- 0, chance (a few pairs of heavy users' accounts can reach thin_sync
	-- by chance: 15 app users at 22.7M rows, 11 pairs, 2.4 standard
	-- errors).  An operator's scheduled jobs do; the users of one app, who
	-- share its work, its agent and often its days, each send on their own
	-- time, and would otherwise be merged (at 200k rows, three such groups,
	-- one flagged).  Pairs that never overlap, as a worker's successive
	-- accounts, say nothing of it; a group without two such pairs is not
	-- kept.  (The card groups stay out: a few pairs of different
	-- campaigns alike at this level joined every campaign's card groups
	-- into one under every evasion at once.)  A hydra's accounts are many
	-- and alike, so every key of its work and its networks is a bucket of
	-- thousands: they are dealt into parts of max_bucket / 10, which still
	-- holds dozens of links for each account, to keep the candidates at n x
	-- max_bucket / 20 a key (at 16M rows, parts of max_bucket kept one
	-- refresh in the candidates for over ten minutes).
	IF (s->>'thin_threshold')::float8 < 1 THEN
		thin_attach := (s->>'thin_threshold')::float8 * (s->>'threshold')::float8 / (s->>'core_threshold')::float8;
		thin := format($t$SELECT f.account_id::bigint, f.fp FROM %1$s f, LATERAL @extschema@.fingerprint_stats(f.fp) st
						  WHERE st.active_days <= %2$s AND st.requests >= %3$s
							AND NOT EXISTS (SELECT 1 FROM unnest(%4$L::bigint[]) g(id) WHERE g.id = f.account_id::bigint)$t$,
					   fingerprints, (s->>'thin_days')::int, (s->>'min_requests')::int, group_ids);
		EXECUTE format($q$
			WITH t AS MATERIALIZED (
				SELECT t.account_id, t.cluster, f.fp, st.first_seen, st.last_seen,
					   row_number() OVER (PARTITION BY t.cluster ORDER BY st.first_seen, hashint8(t.account_id), t.account_id) AS r,
					   count(*) OVER (PARTITION BY t.cluster) AS n
				FROM @extschema@.fingerprint_clusters(%1$L, %2$s, %3$s, 2, %4$s) t
				JOIN %5$s f ON f.account_id::bigint = t.account_id,
				LATERAL @extschema@.fingerprint_stats(f.fp) st),
			ok AS (
				SELECT x.cluster
				FROM t x JOIN t y ON y.cluster = x.cluster AND y.r = x.r + 1,
					 LATERAL (SELECT @extschema@.fingerprint_coactivity_similarity(x.fp, y.fp) AS co) c
				WHERE x.r %% greatest(1, x.n / 100) = 0
				  AND x.first_seen <= y.last_seen AND y.first_seen <= x.last_seen
				GROUP BY 1
				HAVING avg(c.co ORDER BY x.r) >= %6$s
				   AND avg(c.co ORDER BY x.r) >= 3 * stddev_samp(c.co ORDER BY x.r) / sqrt(count(*))),
			k AS MATERIALIZED (SELECT * FROM t WHERE t.cluster IN (SELECT cluster FROM ok)),
			-- (the members each candidate is timed against: about 1,000 of
			-- each group spread over its time, so that the candidates each
			-- read a bounded number of rows)
			ks AS MATERIALIZED (SELECT * FROM k WHERE n >= %8$s AND r %% greatest(1, n / 1000) = 0),
			-- the thin accounts in no kept group, attached to the group of
			-- their most similar member at the join threshold, if they
			-- worked in step with the group: with the members active at the
			-- same time that started nearest them, up to 10 (of about 1,000
			-- spread over the group's time).  Only groups of
			-- min_size take them: attaching grows what the pass found, it
			-- does not make a cluster of a group too small to be one (whose
			-- members are candidates too)
			a AS MATERIALIZED (
				SELECT a.account_id, a.cluster
				FROM @extschema@.fingerprint_attach(%1$L,
						 (SELECT coalesce(array_agg(account_id ORDER BY account_id), '{}') FROM k WHERE n >= %8$s),
						 (SELECT coalesce(array_agg(cluster ORDER BY account_id), '{}') FROM k WHERE n >= %8$s),
						 %2$s, %7$s) a
				JOIN %5$s f ON f.account_id::bigint = a.account_id,
				LATERAL @extschema@.fingerprint_stats(f.fp) st,
				LATERAL (SELECT avg(m.co) AS co, stddev_samp(m.co) / sqrt(count(*)) AS se, count(*) AS n
						 FROM (SELECT @extschema@.fingerprint_coactivity_similarity(f.fp, ks.fp) AS co
							   FROM ks
							   WHERE ks.cluster = a.cluster AND ks.first_seen <= st.last_seen AND st.first_seen <= ks.last_seen
							   ORDER BY abs(extract(epoch FROM ks.first_seen - st.first_seen)), ks.account_id
							   LIMIT 10) m) c
				WHERE c.n >= 2 AND c.co >= %6$s AND c.co >= 3 * c.se),
			g AS (
				SELECT x.account_id, min(x.account_id) OVER (PARTITION BY x.cluster) AS grp
				-- (a member of a smaller group is a candidate too: attached,
				-- it leaves that group)
				FROM (SELECT account_id, cluster FROM k WHERE NOT EXISTS (SELECT 1 FROM a WHERE a.account_id = k.account_id)
					  UNION ALL SELECT account_id, cluster FROM a) x)
			SELECT coalesce(array_agg(account_id ORDER BY account_id), '{}'),
				   coalesce(array_agg(grp ORDER BY account_id), '{}') FROM g$q$,
			thin, thin_attach, (s->>'thin_threshold')::float8,
			format('%s, %s, %s', (s->>'bands')::int, (s->>'rows')::int, greatest(1, (s->>'max_bucket')::int / 10)),
			fingerprints, (s->>'thin_sync')::float8, lsh, min_size)
		INTO like_ids, like_of;
		-- Groups of one operator that the pass kept apart (a few of a
		-- hydra's accounts spread over the month, a group of their own)
		-- are one group if they are alike at the pass's thresholds, merged
		-- fingerprint against merged fingerprint, and worked in step: each
		-- group with the largest of its kind, up to 10 of its members in a
		-- hash order, each against the members of the largest active at
		-- the same time that started nearest it (up to 10, among a sample
		-- of 1,000 of them), their co-activity thin_sync on average and
		-- three standard errors above 0 over the members
		EXECUTE format($q$
			WITH g AS MATERIALIZED (SELECT unnest($1::bigint[]) AS account_id, unnest($2::bigint[]) AS grp),
			gc AS MATERIALIZED (
				SELECT c.account_id AS grp, c.cluster
				FROM @extschema@.fingerprint_clusters(%1$L, %2$s, %3$s, 2, %4$s) c),
			m AS MATERIALIZED (
				SELECT g.account_id, g.grp, gc.cluster, f.fp, st.first_seen, st.last_seen,
					   count(*) OVER (PARTITION BY g.grp) AS n,
					   row_number() OVER (PARTITION BY g.grp ORDER BY hashint8(g.account_id), g.account_id) AS r
				FROM g JOIN gc USING (grp) JOIN %5$s f ON f.account_id::bigint = g.account_id,
					 LATERAL @extschema@.fingerprint_stats(f.fp) st),
			top AS (
				SELECT DISTINCT ON (cluster) cluster, grp AS top
				FROM m ORDER BY cluster, n DESC, grp),
			y AS MATERIALIZED (SELECT m.* FROM m JOIN top ON top.top = m.grp WHERE m.r <= 1000),
			ok AS (
				SELECT x.grp, top.top
				FROM m x JOIN top USING (cluster),
					 LATERAL (SELECT avg(z.co) AS co
							  FROM (SELECT @extschema@.fingerprint_coactivity_similarity(x.fp, y.fp) AS co
									FROM y
									WHERE y.grp = top.top AND y.first_seen <= x.last_seen AND x.first_seen <= y.last_seen
									ORDER BY abs(extract(epoch FROM y.first_seen - x.first_seen)), y.account_id
									LIMIT 10) z) c
				WHERE x.grp <> top.top AND x.r <= 10 AND c.co IS NOT NULL
				GROUP BY x.grp, top.top
				HAVING count(*) >= 2 AND avg(c.co) >= %6$s AND avg(c.co) >= 3 * stddev_samp(c.co) / sqrt(count(*)))
			SELECT coalesce(array_agg(g.account_id ORDER BY g.account_id), '{}'),
				   coalesce(array_agg(coalesce(ok.top, g.grp) ORDER BY g.account_id), '{}')
			FROM g LEFT JOIN ok USING (grp)$q$,
			format($g$SELECT g.grp, @extschema@.fingerprint_union_agg(f.fp)
					  FROM (SELECT unnest(%L::bigint[]) AS account_id, unnest(%L::bigint[]) AS grp) g
					  JOIN %s f ON f.account_id::bigint = g.account_id GROUP BY g.grp$g$,
				   like_ids, like_of, fingerprints),
			thin_attach, (s->>'thin_threshold')::float8, lsh, fingerprints, (s->>'thin_sync')::float8)
		INTO like_ids, like_of USING like_ids, like_of;
		group_ids := group_ids || like_ids;
		group_of := group_of || like_of;
	END IF;
	grouped := format('SELECT unnest(%L::bigint[]) AS account_id, unnest(%L::bigint[]) AS grp', group_ids, group_of);
	-- the groups' fingerprints: each account alone, each group merged.  An
	-- account alone with fewer than min_requests requests is left out: a
	-- flood of one-row accounts would otherwise take the clustering past
	-- its memory, and one or two requests resemble nothing (the thin
	-- accounts of a hydra join through their card's group)
	group_fps := format($q$
		SELECT g.grp, @extschema@.fingerprint_union_agg(f.fp) AS fp
		FROM g JOIN %1$s f ON f.account_id::bigint = g.account_id GROUP BY g.grp$q$, fingerprints);
	merged := format($q$
		WITH g AS MATERIALIZED (%2$s)
		SELECT f.account_id::bigint AS grp, f.fp FROM %1$s f
		WHERE NOT EXISTS (SELECT 1 FROM g WHERE g.account_id = f.account_id::bigint)
		  AND (@extschema@.fingerprint_stats(f.fp)).requests >= %3$s
		UNION ALL %4$s$q$, fingerprints, grouped, (s->>'min_requests')::int, group_fps);
	-- the big groups alone
	big := format('WITH g AS MATERIALIZED (%s) %s HAVING count(*) >= %s', grouped, group_fps, min_size);

	-- the work pass's candidates: the heavier half of the accounts that are
	-- not thin (a hydra's short-lived accounts, however many, do not set
	-- it).  Only a bound on its cost: whether a work cluster is at campaign
	-- volume is judged against the background once the first passes are done
	IF (s->>'volume_quantile')::float8 < 1 THEN
		EXECUTE format('SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY st.requests)
						FROM %s f, LATERAL @extschema@.fingerprint_stats(f.fp) st WHERE st.active_days > $1',
					   fingerprints)
			INTO median_requests USING (s->>'thin_days')::int;
		median_requests := greatest(median_requests, (s->>'min_requests')::bigint);
		heavy := format($q$
			WITH g AS MATERIALIZED (%2$s)
			SELECT f.account_id::bigint, f.fp FROM %1$s f
			WHERE NOT EXISTS (SELECT 1 FROM g WHERE g.account_id = f.account_id::bigint)
			  AND (@extschema@.fingerprint_stats(f.fp)).requests >= %3$s$q$,
			fingerprints, grouped, median_requests);
	ELSE
		heavy := 'SELECT NULL::bigint, NULL::@extschema@.fingerprint WHERE false';
	END IF;

	-- a big group that joined no cluster of pass 1 takes the label of its
	-- cluster among the big groups (the smallest group of it, which may be
	-- one that joined a cluster of pass 1: then it joins that one), or is
	-- its own.  (Each query text fingerprint_clusters reads
	-- works out the groups again: it cannot see this query's.)
	RETURN QUERY EXECUTE format($q$
		WITH g AS MATERIALIZED (%1$s),
		c AS MATERIALIZED (
			SELECT c.account_id AS grp, c.cluster, c.core, c.similarity
			FROM @extschema@.fingerprint_clusters(%2$L, %4$s, %5$s, %6$s, %7$s) c),
		bc AS (
			SELECT b.account_id AS grp, b.cluster AS big_cluster
			FROM @extschema@.fingerprint_clusters(%3$L, %4$s, %4$s, 2, %7$s) b),
		big AS (
			SELECT m.grp, coalesce(c1.cluster, bc.big_cluster, m.grp) AS cluster, true AS core, NULL::float8 AS similarity
			FROM (SELECT grp FROM g GROUP BY grp HAVING count(*) >= %6$s) m
			LEFT JOIN bc USING (grp) LEFT JOIN c c1 ON c1.grp = bc.big_cluster
			WHERE NOT EXISTS (SELECT 1 FROM c WHERE c.grp = m.grp)),
		-- the work's weights: fingerprint_similarity's, the operator's
		-- channels (infrastructure, coactivity, calendar) at 0
		ww AS (
			SELECT array_agg(CASE WHEN i IN (3, 4, 7) THEN 0 ELSE dw END ORDER BY i) AS w
			FROM unnest(@extschema@.fingerprint_default_weights()) WITH ORDINALITY x(dw, i)),
		-- cores at the join threshold
		wc AS MATERIALIZED (
			SELECT w.account_id AS grp, w.cluster AS work_cluster, w.core, w.similarity
			FROM @extschema@.fingerprint_clusters(%8$L, %4$s, %4$s, %6$s, %7$s, (SELECT w FROM ww)) w),
		-- the size of each work cluster, and its members that pass 1 left
		-- out, in a hash order
		wn AS (SELECT work_cluster, count(*) AS n FROM wc GROUP BY 1),
		wl AS MATERIALIZED (
			SELECT wc.grp, wc.work_cluster, f.fp, st.requests,
				   row_number() OVER (PARTITION BY wc.work_cluster ORDER BY hashint8(wc.grp), wc.grp) AS r
			FROM wc JOIN %10$s f ON f.account_id::bigint = wc.grp, LATERAL @extschema@.fingerprint_stats(f.fp) st
			WHERE NOT EXISTS (SELECT 1 FROM c WHERE c.grp = wc.grp)),
		-- campaign volume: volume_quantile of the background, the accounts
		-- that are not thin and in no cluster of pass 1 (a campaign it
		-- found, however large, does not set it)
		bgv AS (
			SELECT percentile_disc(%9$s) WITHIN GROUP (ORDER BY st.requests) AS at_volume
			FROM %10$s f, LATERAL @extschema@.fingerprint_stats(f.fp) st
			WHERE st.active_days > %11$s AND NOT EXISTS (SELECT 1 FROM c WHERE c.grp = f.account_id::bigint)),
		-- a work cluster most of whose members pass 1 left out is a cluster
		-- of those if it is at campaign volume (the median of them at least
		-- the background's volume_quantile) and one work: their pairs, up to
		-- 100, each member with the next, agree on it on average as a
		-- core's must (a chain of pairs at the join threshold is not)
		wp AS (
			SELECT l.work_cluster
			FROM (SELECT work_cluster, count(*) AS left_out,
						 percentile_disc(0.5) WITHIN GROUP (ORDER BY requests) AS median_requests
				  FROM wl GROUP BY 1) l
			JOIN wn USING (work_cluster)
			JOIN (SELECT x.work_cluster,
						 avg(@extschema@.fingerprint_similarity(x.fp, y.fp, (SELECT w FROM ww)) ORDER BY x.r) AS work
				  FROM wl x JOIN wl y ON y.work_cluster = x.work_cluster AND y.r = x.r + 1
				  WHERE x.r <= 100 GROUP BY 1) p USING (work_cluster)
			WHERE l.left_out * 2 > wn.n AND l.median_requests >= (SELECT at_volume FROM bgv)
			  AND p.work >= %5$s),
		work AS (
			SELECT wc.grp, wc.work_cluster AS cluster, wc.core, wc.similarity
			FROM wc JOIN wp USING (work_cluster)
			WHERE NOT EXISTS (SELECT 1 FROM c WHERE c.grp = wc.grp)),
		-- a work cluster most of whose members are in one cluster of pass 1
		-- is a source of candidates that pass 1's keys missed (shared
		-- working days give none): each of its other members joins that
		-- cluster, attached, if it is at the join threshold on every
		-- channel to one of the cluster's members (the work alone would
		-- bring in the users of an app whose wrapper resembles it)
		jt AS MATERIALIZED (
			SELECT j.work_cluster, j.cluster, greatest(256, 2000000 / l.n) AS compared
			FROM (SELECT DISTINCT ON (w.work_cluster) w.work_cluster, c.cluster, count(*) AS k
				  FROM wc w JOIN c USING (grp)
				  GROUP BY w.work_cluster, c.cluster
				  ORDER BY w.work_cluster, count(*) DESC, c.cluster) j
			JOIN wn USING (work_cluster)
			JOIN (SELECT work_cluster, count(*) AS n FROM wl GROUP BY 1) l USING (work_cluster)
			WHERE j.k * 2 > wn.n),
		-- the members each candidate is compared with: all of the cluster's
		-- while candidates x members stay within 2,000,000 comparisons (a
		-- few seconds), else as many as fit (at least 256) in a hash order.
		-- Every candidate against every member is the product of two sizes:
		-- at 22.7M rows, compared one by one with a 26,000-account campaign,
		-- the candidates had not been judged after 15 minutes
		jm AS MATERIALIZED (
			SELECT m.cluster, m.r, f2.fp
			FROM (SELECT c2.grp, c2.cluster,
						 row_number() OVER (PARTITION BY c2.cluster ORDER BY hashint8(c2.grp), c2.grp) AS r
				  FROM c c2 WHERE c2.cluster IN (SELECT cluster FROM jt)) m
			JOIN %10$s f2 ON f2.account_id::bigint = m.grp
			WHERE m.r <= (SELECT max(jt.compared) FROM jt WHERE jt.cluster = m.cluster)),
		joined AS (
			SELECT wl.grp, jt.cluster, false AS core, x.similarity
			FROM wl JOIN jt USING (work_cluster),
			-- (its similarity: to the nearest of those members)
			LATERAL (SELECT max(@extschema@.fingerprint_similarity(wl.fp, jm.fp)) AS similarity
					 FROM jm WHERE jm.cluster = jt.cluster AND jm.r <= jt.compared) x
			WHERE x.similarity >= %4$s)
		SELECT coalesce(g.account_id, x.grp), x.cluster, x.core, x.similarity
		FROM (TABLE c UNION ALL TABLE big UNION ALL TABLE work UNION ALL TABLE joined) x LEFT JOIN g USING (grp)$q$,
		grouped, merged, big,
		(s->>'threshold')::float8, (s->>'core_threshold')::float8, min_size, lsh,
		heavy, (s->>'volume_quantile')::float8, fingerprints, (s->>'thin_days')::int);
END $$;
COMMENT ON FUNCTION @extschema@.lockstep_cluster_accounts(regclass, jsonb) IS
	'clusters of a relation of (account_id, fp) with a pipeline''s settings: fingerprint_clusters over the accounts, the thin ones (active on at most thin_days days) that share a payment instrument merged as one; the big merged groups also clustered among themselves; the heavier half of the accounts also clustered on the work alone, a work cluster of accounts the first pass left out being a cluster if its median account sends as much as volume_quantile of the unclustered accounts and its pairs agree on the work at core_threshold, one mostly in a cluster of the first pass adding the others to it';

-- Accounts new since a clustering, joined to its clusters without
-- clustering again (a pipeline that keeps its clustering through the day,
-- recluster_hours): of the given accounts, those in no cluster yet, each
-- the way lockstep_cluster_accounts would link it to a cluster that stays
-- as it is.  A thin account (active on at most thin_days days) on a card
-- that a clustered thin account pays with joins that account's cluster
-- (the next account of a hydra's worker); another with at least
-- min_requests requests joins the cluster of its most similar core member
-- at or above the join threshold (fingerprint_attach; a thin member on a
-- card it shares stands for its group, which the clustering compared
-- merged, and is not one).  No cluster grows a
-- core, merges or splits here, and no link is removed: that waits for the
-- next clustering.
CREATE FUNCTION @extschema@.lockstep_attach_accounts(fingerprints regclass, clusters regclass,
	accounts bigint[], settings jsonb DEFAULT NULL,
	OUT account_id bigint, OUT cluster bigint, OUT core boolean, OUT similarity double precision)
	RETURNS SETOF record
	LANGUAGE plpgsql VOLATILE PARALLEL RESTRICTED
	SET search_path = pg_catalog, pg_temp
	-- lookups by id, a few thousand each: compiling them costs more than it saves
	SET jit = off
	AS $$
DECLARE
	s jsonb := @extschema@.lockstep_settings(settings);
	by_card bigint[];
	card_clusters bigint[];
	card_cores boolean[];
	card_similarities double precision[];
	grouped bigint[];
	members bigint[];
	member_clusters bigint[];
BEGIN
	IF fingerprints IS NULL OR clusters IS NULL THEN
		RAISE EXCEPTION 'the fingerprints and clusters relations must not be NULL' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	-- the candidates: the given accounts in no cluster
	EXECUTE format($q$SELECT coalesce(array_agg(DISTINCT a.id), '{}') FROM unnest($1) a(id)
					  WHERE NOT EXISTS (SELECT 1 FROM %s c WHERE c.account_id::bigint = a.id)$q$, clusters)
		INTO accounts USING accounts;
	IF cardinality(accounts) = 0 THEN
		RETURN;
	END IF;
	-- a thin candidate on a clustered thin account's card: that account's
	-- cluster, core and similarity (the smallest cluster, if its cards are
	-- in several)
	EXECUTE format($q$
		-- (the thin ones first: keys only for them)
		-- (each account's fingerprint found through its id, not a scan of
		-- every fingerprint: OFFSET 0 keeps the lookup a lookup)
		WITH old_thin AS MATERIALIZED (
			SELECT c.account_id::bigint AS account_id, f.fp, c.cluster::bigint AS cluster, c.core, c.similarity
			FROM %2$s c
			JOIN LATERAL (SELECT f0.fp FROM %1$s f0 WHERE f0.account_id::bigint = c.account_id::bigint OFFSET 0) f ON true,
				 LATERAL @extschema@.fingerprint_stats(f.fp) st
			WHERE st.active_days <= $2),
		old AS MATERIALIZED (
			SELECT x.key, t.account_id, t.cluster, t.core, t.similarity
			FROM old_thin t, LATERAL pg_catalog.unnest(@extschema@.fingerprint_payment_keys(t.fp)) x(key)),
		new_thin AS MATERIALIZED (
			SELECT a.id AS account_id, f.fp
			FROM unnest($1) a(id)
			JOIN LATERAL (SELECT f0.fp FROM %1$s f0 WHERE f0.account_id::bigint = a.id OFFSET 0) f ON true,
				 LATERAL @extschema@.fingerprint_stats(f.fp) st
			WHERE st.active_days <= $2),
		new AS (
			SELECT t.account_id, x.key
			FROM new_thin t, LATERAL pg_catalog.unnest(@extschema@.fingerprint_payment_keys(t.fp)) x(key))
		SELECT coalesce(array_agg(j.account_id ORDER BY j.account_id), '{}'), array_agg(j.cluster ORDER BY j.account_id),
			   array_agg(j.core ORDER BY j.account_id), array_agg(j.similarity ORDER BY j.account_id),
			   -- the clustered thin accounts that share a card: their group
			   -- is what the clustering compared, merged
			   (SELECT coalesce(array_agg(DISTINCT o.account_id), '{}') FROM old o
				WHERE EXISTS (SELECT 1 FROM old p WHERE p.key = o.key AND p.account_id <> o.account_id))
		FROM (SELECT DISTINCT ON (new.account_id) new.account_id, old.cluster, old.core, old.similarity
			  FROM new JOIN old USING (key)
			  ORDER BY new.account_id, old.cluster, old.core DESC, old.similarity DESC NULLS FIRST) j$q$,
		fingerprints, clusters)
		INTO by_card, card_clusters, card_cores, card_similarities, grouped
		USING accounts, (s->>'thin_days')::int;
	RETURN QUERY SELECT * FROM unnest(by_card, card_clusters, card_cores, card_similarities);
	-- the others, with at least min_requests requests: the cluster of their
	-- most similar core member, at the join threshold.  A thin member on a
	-- card it shares is none: the clustering compared its group's merged
	-- fingerprint, not its few days (and a hydra's clusters are hundreds of
	-- thousands of them)
	EXECUTE format($q$SELECT coalesce(array_agg(c.account_id::bigint), '{}'), coalesce(array_agg(c.cluster::bigint), '{}')
					  FROM %s c WHERE c.core AND NOT c.account_id::bigint = ANY ($1)$q$, clusters)
		INTO members, member_clusters USING grouped;
	RETURN QUERY EXECUTE format($q$
		SELECT a.account_id, a.cluster, false, a.similarity
		FROM @extschema@.fingerprint_attach(%1$L, $1, $2, $3, $4, $5, $6) a$q$,
		-- (each row found through the given ids: the fingerprints read are
		-- the members' and the candidates', not the relation's)
		format($t$SELECT m.id, f.fp FROM unnest(%2$L::bigint[]) m(id)
				  JOIN LATERAL (SELECT f0.fp FROM %1$s f0 WHERE f0.account_id::bigint = m.id OFFSET 0) f ON true
				  UNION ALL
				  SELECT a.id, f.fp FROM unnest(%3$L::bigint[]) a(id)
				  JOIN LATERAL (SELECT f0.fp FROM %1$s f0 WHERE f0.account_id::bigint = a.id OFFSET 0) f ON true,
						 LATERAL @extschema@.fingerprint_stats(f.fp) st
				  WHERE st.requests >= %4$s AND NOT a.id = ANY (%5$L::bigint[])$t$,
			   fingerprints, members, accounts, (s->>'min_requests')::int, by_card))
		USING members, member_clusters, (s->>'threshold')::float8, (s->>'bands')::int, (s->>'rows')::int,
			  (s->>'max_bucket')::int;
END $$;
COMMENT ON FUNCTION @extschema@.lockstep_attach_accounts(regclass, regclass, bigint[], jsonb) IS
	'the given accounts that are in no cluster of a relation of (account_id, cluster, core, similarity), joined to its clusters as lockstep_cluster_accounts would link them to clusters that stay as they are: a thin account on a clustered thin account''s card to that account''s cluster, another with min_requests requests to the cluster of its most similar core member at the join threshold (fingerprint_attach; not a thin member on a card it shares, whose group the clustering compared merged)';

-- What the accounts that lockstep_cluster_accounts may leave out share: the
-- accounts with fewer than min_requests requests, and the infrastructure
-- values (as keys: lockstep_infrastructure_key finds the values behind
-- one) most of them have, each with how many of them have it.  A flood of
-- one-row accounts sent by one operator shows here as a network, an agent
-- or a card that thousands of thin accounts share.
CREATE FUNCTION @extschema@.lockstep_thin_accounts(fingerprints regclass, settings jsonb DEFAULT NULL,
	top integer DEFAULT 5,
	OUT kind text, OUT key bigint, OUT accounts bigint, OUT thin_accounts bigint)
	RETURNS SETOF record
	LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	s jsonb := @extschema@.lockstep_settings(settings);
BEGIN
	IF fingerprints IS NULL OR top IS NULL OR top < 0 THEN
		RAISE EXCEPTION 'a fingerprints relation and a top of 0 or more are needed'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	RETURN QUERY EXECUTE format($q$
		WITH t AS MATERIALIZED (
			SELECT f.fp FROM %s f WHERE (@extschema@.fingerprint_stats(f.fp)).requests < $1),
		n AS (SELECT count(*) AS n FROM t)
		SELECT x.kind, x.key, count(*), (TABLE n)
		FROM t, LATERAL @extschema@.fingerprint_infrastructure_keys(t.fp) x
		GROUP BY x.kind, x.key HAVING count(*) > 1
		ORDER BY count(*) DESC, x.kind, x.key LIMIT $2$q$, fingerprints)
		USING (s->>'min_requests')::int, top;
END $$;
COMMENT ON FUNCTION @extschema@.lockstep_thin_accounts(regclass, jsonb, integer) IS
	'the accounts of a relation of (account_id, fp) with fewer than min_requests requests: the infrastructure keys (network, user_agent, payment) most of them share, each with how many have it, and how many they are';
