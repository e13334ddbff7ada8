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
			   'from LSH candidates (%s bands of %s rows, max_bucket %s) without listing all pairs; similarity '
			   'with the given channel weights (default: fingerprint_similarity''s)',
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
--     the worker behind them.
--  2. A group of at least min_size accounts is a cluster by itself, but
--     fingerprint_clusters counts nodes, not accounts: a campaign whose
--     workers share a few cards is a few such groups, too few for a core.
--     So the big groups are also clustered among themselves: cores of two
--     at the join threshold, since each is already one operator's (merged,
--     a group's scaffold sample holds its rarest keys, and content, which
--     compares recurring ones, falls).
--  3. With volume_quantile below 1 (the default 1 leaves this pass out), the
--     accounts at campaign volume (at least as many requests as that
--     quantile of the accounts that are not thin) are also clustered on the
--     work alone: what they ask, how they take up the answers, which models
--     and when.  A small campaign that hides its operator (residential
--     proxies, its own cards, its own hours) still shares the work, and
--     must send a campaign's volume through each account to be worth
--     running.  A work cluster most of whose members passes 1 and 2 left
--     out is a cluster of those accounts; scoring judges it as any other,
--     and its evidence's families show the operator's channels did not
--     agree.  Off by default: the users of an app that elicits reasoning
--     also share the work at volume, and the scores do not yet tell them
--     from a campaign (README, "What is not there yet").
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
	grouped text;
	group_fps text;
	merged text;
	big text;
	heavy text;
	at_volume bigint;
BEGIN
	IF fingerprints IS NULL THEN
		RAISE EXCEPTION 'the fingerprints relation must not be NULL' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	lsh := format('%s, %s, %s', (s->>'bands')::int, (s->>'rows')::int, (s->>'max_bucket')::int);
	-- (account, its group: the smallest account of it) for the thin accounts
	-- that share a card with another; every other account is its own group
	grouped := format($q$
		SELECT x.node AS account_id, x.cluster AS grp
		FROM (SELECT node, cluster, count(*) OVER (PARTITION BY cluster) AS n
			  FROM @extschema@.lockstep_clusters(%L, NULL, 1)) x
		WHERE x.n > 1$q$,
		format($e$SELECT k.account_id, min(k.account_id) OVER (PARTITION BY k.key)
				  FROM (SELECT f.account_id::bigint AS account_id, x.key
						FROM %1$s f, LATERAL @extschema@.fingerprint_stats(f.fp) st,
							 LATERAL @extschema@.fingerprint_infrastructure_keys(f.fp) x
						WHERE st.active_days <= %2$s AND x.kind = 'payment') k$e$,
			   fingerprints, (s->>'thin_days')::int));
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

	-- campaign volume: at least as many requests as volume_quantile of the
	-- accounts that are not thin (a hydra's short-lived accounts, however
	-- many, do not set it)
	IF (s->>'volume_quantile')::float8 < 1 THEN
		EXECUTE format('SELECT percentile_disc($1) WITHIN GROUP (ORDER BY st.requests)
						FROM %s f, LATERAL @extschema@.fingerprint_stats(f.fp) st WHERE st.active_days > $2',
					   fingerprints)
			INTO at_volume USING (s->>'volume_quantile')::float8, (s->>'thin_days')::int;
		at_volume := greatest(at_volume, (s->>'min_requests')::bigint);
		heavy := format($q$
			WITH g AS MATERIALIZED (%2$s)
			SELECT f.account_id::bigint, f.fp FROM %1$s f
			WHERE NOT EXISTS (SELECT 1 FROM g WHERE g.account_id = f.account_id::bigint)
			  AND (@extschema@.fingerprint_stats(f.fp)).requests >= %3$s$q$,
			fingerprints, grouped, at_volume);
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
		wc AS MATERIALIZED (
			SELECT w.account_id AS grp, w.cluster AS work_cluster, w.core, w.similarity
			FROM @extschema@.fingerprint_clusters(%8$L, %4$s, %5$s, %6$s, %7$s,
				-- fingerprint_similarity's weights, the operator's channels
				-- (infrastructure, coactivity, calendar) at 0
				(SELECT array_agg(CASE WHEN i IN (3, 4, 7) THEN 0 ELSE dw END ORDER BY i)
				 FROM unnest(@extschema@.fingerprint_default_weights()) WITH ORDINALITY x(dw, i))) w),
		-- a work cluster most of whose members passes 1 and 2 left out is a
		-- cluster of those; one made mostly of their clusters' accounts adds
		-- no one to them (the work alone does not attach an account to a
		-- campaign found on both families)
		work AS (
			SELECT wc.grp, wc.work_cluster AS cluster, wc.core, wc.similarity
			FROM wc
			WHERE NOT EXISTS (SELECT 1 FROM c WHERE c.grp = wc.grp)
			  AND wc.work_cluster IN (
				SELECT w.work_cluster FROM wc w LEFT JOIN c USING (grp)
				GROUP BY w.work_cluster HAVING count(c.grp) * 2 < count(*)))
		SELECT coalesce(g.account_id, x.grp), x.cluster, x.core, x.similarity
		FROM (TABLE c UNION ALL TABLE big UNION ALL TABLE work) x LEFT JOIN g USING (grp)$q$,
		grouped, merged, big,
		(s->>'threshold')::float8, (s->>'core_threshold')::float8, min_size, lsh,
		heavy);
END $$;
COMMENT ON FUNCTION @extschema@.lockstep_cluster_accounts(regclass, jsonb) IS
	'clusters of a relation of (account_id, fp) with a pipeline''s settings: fingerprint_clusters over the accounts, the thin ones (active on at most thin_days days) that share a payment instrument merged as one; the big merged groups also clustered among themselves; the accounts at campaign volume (volume_quantile) also clustered on the work alone, a work cluster of accounts the first passes left out being a cluster';

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
