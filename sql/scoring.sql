-- lockstep: settings, and the campaign and account scores with their evidence.
-- Part of the install script and of the upgrade to it (see sql/README).

-- Scoring --------------------------------------------------------------------

CREATE FUNCTION @extschema@.lockstep_default_settings() RETURNS jsonb
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$ SELECT '{
		"weights": {"shared_infrastructure": 0.15, "elicitation": 0.20, "pivot": 0.15,
		            "synchrony": 0.15, "cohesion": 0.15, "size": 0.10, "volume": 0.05,
		            "uniformity": 0.10, "output": 0.15, "churn": 0.15},
		"size_full": 100,
		"volume_full": 0.01,
		"pivot_hours": 24,
		"sample_pairs": 100,
		"background_pairs": 1000,
		"traces": ["shared_infrastructure", "pivot", "uniformity", "churn"],
		"harvest": ["elicitation", "output", "pivot"],
		"fire_at": 0.25,
		"flag_at": 0.5,
		"backfill_days": 90,
		"late_days": 3,
		"thin_days": 3,
		"thin_threshold": 0.4,
		"thin_sync": 0.08,
		"min_requests": 3,
		"volume_quantile": 0.95,
		"recluster_hours": 0
	}'::jsonb || @extschema@.lockstep_cluster_defaults() $$;
COMMENT ON FUNCTION @extschema@.lockstep_default_settings() IS
	'every setting of a pipeline: the weights and thresholds of the campaign and account scores (pivot_hours: the hours after a release in which adopting it counts exp(-1); traces: the signals that count only once fired and only if they raise the score; harvest: the signals of which one must fire for the score to stand, or it is scaled by the strongest over fire_at), the clustering defaults of lockstep_cluster_defaults(), the days a first refresh reads back (backfill_days), the stored days each refresh checks for late rows (late_days) and the active days at most of a thin account, which lockstep_cluster_accounts merges with the thin accounts on its payment instruments (thin_days, 0: none) and with those as like it as thin_threshold (1: none) if their group worked in step (its members active at the same time share 15-minute buckets beyond chance at thin_sync on average, three standard errors above 0), the requests below which an account in no such group is left out of the clustering (min_requests), and campaign volume for the clusters lockstep_cluster_accounts links on the work alone: the quantile of the accounts that are neither thin nor clustered that a work cluster''s median account must reach in requests (volume_quantile; 1: no work pass), and how long a refresh may keep the last clustering with the same settings, over the same window or one new days moved forward, scoring its clusters again over the window''s new fingerprints (recluster_hours; 0: every refresh clusters); pass a jsonb with the keys to change';

-- The settings in force: defaults overridden by the given keys (weights merged key by key).
CREATE FUNCTION @extschema@.lockstep_settings(settings jsonb) RETURNS jsonb
	LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	d jsonb := @extschema@.lockstep_default_settings();
	s jsonb := coalesce(settings, '{}');
	bad text;
BEGIN
	IF jsonb_typeof(s) <> 'object' THEN
		RAISE EXCEPTION 'settings must be a jsonb object' USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT string_agg(k, ', ') INTO bad FROM jsonb_object_keys(s) k WHERE NOT d ? k;
	IF bad IS NULL THEN
		SELECT string_agg(k, ', ') INTO bad
		FROM jsonb_object_keys(CASE WHEN jsonb_typeof(s->'weights') = 'object' THEN s->'weights' ELSE '{}' END) k
		WHERE NOT d->'weights' ? k;
	END IF;
	IF bad IS NOT NULL THEN
		RAISE EXCEPTION 'unknown setting: %', bad USING ERRCODE = 'invalid_parameter_value',
			HINT = 'SELECT lockstep_default_settings() lists them.';
	END IF;
	d := d || (s - 'weights') || jsonb_build_object('weights', d->'weights' || coalesce(s->'weights', '{}'));
	-- numbers compared as numeric: a jsonb number may be past any double
	IF EXISTS (SELECT 1 FROM jsonb_each(d->'weights') w
			   WHERE jsonb_typeof(w.value) <> 'number' OR NOT (w.value)::numeric BETWEEN 0 AND 1e6)
	   OR (SELECT max(value::numeric) FROM jsonb_each(d->'weights')) <= 0 THEN
		RAISE EXCEPTION 'weights must be numbers from 0 to 1e6, at least one positive'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	-- every other setting: a number in its range, whole where it counts something
	SELECT string_agg(format('%s (%s: %s to %s%s)', r.k,
						  coalesce(CASE WHEN length(d->>r.k) > 24 THEN left(d->>r.k, 20) || '...' ELSE d->>r.k END, 'null'),
						  r.lo, r.hi,
						  CASE WHEN r.whole THEN ', whole' ELSE '' END), '; ' ORDER BY r.k)
	INTO bad
	FROM (VALUES ('size_full', 2, 1e9, false), ('volume_full', 1e-9, 1, false),
				 ('pivot_hours', 0, 8760, false), ('sample_pairs', 1, 1e6, true),
				 ('background_pairs', 1, 1e6, true),
				 ('fire_at', 0, 1, false), ('flag_at', 0, 1, false),
				 ('backfill_days', 1, 36600, true),
				 ('late_days', 0, 366, true), ('thin_days', 0, 366, true), ('thin_threshold', 0, 1, false),
				 ('thin_sync', 0, 1, false),
				 ('min_requests', 1, 1e9, true), ('volume_quantile', 0, 1, false),
				 ('recluster_hours', 0, 8760, false)
		  -- the clustering's: the limits fingerprint_clusters enforces, from C
		  UNION ALL
		  SELECT l.key, (l.value->>'min')::numeric, (l.value->>'max')::numeric, (l.value->>'whole')::boolean
		  FROM jsonb_each(@extschema@.lockstep_cluster_limits()) l WHERE l.value ? 'min') r(k, lo, hi, whole)
	WHERE jsonb_typeof(d->r.k) IS DISTINCT FROM 'number'
	   OR NOT (d->>r.k)::numeric BETWEEN r.lo AND r.hi
	   OR (r.whole AND (d->>r.k)::numeric <> trunc((d->>r.k)::numeric));
	IF bad IS NOT NULL THEN
		RAISE EXCEPTION 'settings out of range: %', bad USING ERRCODE = 'invalid_parameter_value';
	END IF;
	-- traces and harvest: signal names, each at most once
	SELECT string_agg(k, ', ') INTO bad
	FROM unnest(ARRAY['traces', 'harvest']) k
	WHERE jsonb_typeof(d->k) IS DISTINCT FROM 'array'
	   OR EXISTS (SELECT 1 FROM jsonb_array_elements(d->k) t
				  WHERE jsonb_typeof(t) <> 'string' OR NOT (d->'weights') ? (t #>> '{}'))
	   OR (SELECT count(*) <> count(DISTINCT t) FROM jsonb_array_elements(d->k) t);
	IF bad IS NOT NULL THEN
		RAISE EXCEPTION 'not an array of distinct signal names: %', bad
			USING ERRCODE = 'invalid_parameter_value',
			HINT = 'The signals are the keys of weights in lockstep_default_settings().';
	END IF;
	-- whole settings as integers, so that readers may cast them to int
	d := d || (SELECT jsonb_object_agg(k, (d->>k)::numeric::bigint)
			   FROM unnest(ARRAY['sample_pairs', 'background_pairs', 'min_size', 'bands', 'rows', 'max_bucket',
								 'backfill_days', 'late_days', 'thin_days', 'min_requests']) k);
	IF (d->>'core_threshold')::float8 < (d->>'threshold')::float8
	   OR (d->>'bands')::int * (d->>'rows')::int > (@extschema@.lockstep_cluster_limits()->'bands_x_rows'->>'max')::int THEN
		RAISE EXCEPTION 'core_threshold must not be below threshold, and bands times rows must be at most %',
			@extschema@.lockstep_cluster_limits()->'bands_x_rows'->>'max'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	RETURN d;
END $$;
COMMENT ON FUNCTION @extschema@.lockstep_settings(jsonb) IS
	'lockstep_default_settings() with the given keys overridden, validated';

-- How far v goes beyond a background level b, on [0, 1].
CREATE FUNCTION @extschema@.lockstep_excess(v double precision, b double precision) RETURNS double precision
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$ SELECT CASE WHEN b >= 1 THEN 0 ELSE greatest(0, (v - coalesce(b, 0)) / (1 - coalesce(b, 0))) END $$;
COMMENT ON FUNCTION @extschema@.lockstep_excess(double precision, double precision) IS
	'how far a value goes beyond a background level, on [0, 1]: (v - b) / (1 - b), 0 at or below it';

CREATE FUNCTION @extschema@.lockstep_score_clusters(clusters regclass, fingerprints regclass,
	releases regclass DEFAULT NULL, settings jsonb DEFAULT NULL,
	OUT cluster bigint, OUT accounts integer, OUT score double precision, OUT flagged boolean,
	OUT evidence jsonb)
	RETURNS SETOF record
	LANGUAGE plpgsql VOLATILE PARALLEL RESTRICTED
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	s jsonb := @extschema@.lockstep_settings(settings);
	w jsonb := s->'weights';
	rel text;
BEGIN
	IF clusters IS NULL OR fingerprints IS NULL THEN
		RAISE EXCEPTION 'the clusters and fingerprints relations must not be NULL'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	-- the release table is read as the log is: no code its owner chose runs
	IF releases IS NOT NULL THEN
		PERFORM @extschema@.lockstep_check_source(ARRAY[releases],
			'{"model": ["text", "varchar", "bpchar"], "released_at": ["timestamptz", "timestamp", "date"]}');
	END IF;
	-- releases, a model known by the hash of its whole name: the given
	-- table (only finite releases of the models the clusters' members use:
	-- a release at infinity is no time to pivot after, and a table of every
	-- model there is costs nothing), or each model's first use by anyone,
	-- if a day after the log begins
	rel := CASE WHEN releases IS NOT NULL THEN
		format('SELECT r.* FROM (SELECT @extschema@.lockstep_model_hash(model::text) AS model_hash, model::text AS model,
								  released_at::timestamptz AS released_at FROM %s) r
				WHERE isfinite(r.released_at)
				  AND r.model_hash IN (SELECT fm.model_hash FROM m, @extschema@.fingerprint_models(m.fp) fm)', releases)
		ELSE $q$SELECT fm.model_hash, fm.model, fm.first_seen AS released_at
		   FROM everyone, @extschema@.fingerprint_models(everyone.fp) fm
		   WHERE fm.first_seen > everyone.first_seen + interval '1 day'$q$ END;
	RETURN QUERY EXECUTE format($q$
	WITH m AS (
		SELECT c.account_id, c.cluster, f.org_id, f.fp, st.requests, st.first_seen, st.last_seen,
			   vo.tokens_out,
			   -- a thin account's worker: its smallest card (NULL: the account is its own)
			   CASE WHEN st.active_days <= %14$s THEN
					(@extschema@.fingerprint_payment_keys(f.fp))[1] END AS card
		FROM (SELECT account_id::bigint AS account_id, cluster::bigint AS cluster FROM %1$s c0) c
		JOIN (SELECT account_id::bigint AS account_id, org_id::bigint AS org_id, fp FROM %2$s f0) f
		  USING (account_id),
			 LATERAL @extschema@.fingerprint_stats(f.fp) st,
			 LATERAL @extschema@.fingerprint_volume(f.fp) vo),
	-- the workers of each cluster, as lockstep_cluster_accounts links them:
	-- the thin accounts (active on at most thin_days days) on one card
	-- merged, every other account alone.  A hydra's accounts live a few days
	-- each, too few to resemble one another or to span a release; the
	-- worker behind a card does both.  What pairs share (cohesion, shared
	-- infrastructure, synchrony), the pivot and the uniformity are judged
	-- over workers; counts, volume, output and churn over accounts.
	u AS (
		SELECT k.*, st.requests, st.first_seen, st.last_seen,
			   row_number() OVER (PARTITION BY k.cluster ORDER BY hashint8(k.id), k.id, k.by_card) AS r
		FROM (SELECT cluster, card IS NOT NULL AS by_card, coalesce(card, account_id) AS id,
					 @extschema@.fingerprint_union_agg(fp) AS fp,
					 -- a worker is an organization's when all its accounts are
					 CASE WHEN count(DISTINCT org_id) = 1 AND count(org_id) = count(*) THEN min(org_id) END AS org_id
			  FROM m GROUP BY 1, 2, 3) k,
			 LATERAL @extschema@.fingerprint_stats(k.fp) st),
	-- every account merged: the total volume and each model's first use
	everyone AS (
		SELECT u.fp, st.requests, st.first_seen, st.last_seen
		FROM (SELECT @extschema@.fingerprint_union_agg(fp) AS fp FROM %2$s f) u,
			 LATERAL @extschema@.fingerprint_stats(u.fp) st),
	total AS (SELECT requests::float8 AS requests FROM everyone),
	rel AS (%3$s),
	-- the background: the accounts in no cluster, in a hash order, each
	-- with the next, background_pairs pairs: what pairs of this log share
	-- that are not candidates.  (Random pairs of all accounts would be the
	-- campaign's own where its accounts outnumber the rest, as a hydra's do.
	-- An index on (hashint8(account_id), account_id), as a pipeline's
	-- window has, reads them in that order instead of sorting them all.)
	b AS (
		SELECT s.*, row_number() OVER (ORDER BY s.h, s.account_id) AS r
		FROM (SELECT account_id::bigint AS account_id, org_id::bigint AS org_id, fp,
					 hashint8(account_id::bigint) AS h
			  FROM %2$s f0
			  WHERE NOT EXISTS (SELECT 1 FROM %1$s c0 WHERE c0.account_id::bigint = f0.account_id::bigint)
			  ORDER BY 4, 1 LIMIT %11$s + 1) s),
	-- a sample of pairs of each cluster, each worker with the next in a hash
	-- order; and the background's pairs, under a NULL cluster.  (Every mean
	-- below adds its terms in one order, the pairs' or the workers', so that
	-- a score does not depend on the order a plan reads the rows in.)
	pairs AS (
		SELECT x.cluster, x.r AS o, x.fp AS xf, y.fp AS yf, coalesce(x.org_id = y.org_id, false) AS same_org
		FROM u x JOIN u y ON y.cluster = x.cluster AND y.r = x.r + 1
		WHERE x.r <= %4$s
		UNION ALL
		SELECT NULL, x.r, x.fp, y.fp, coalesce(x.org_id = y.org_id, false)
		FROM b x JOIN b y ON y.r = x.r + 1),
	-- (each pair's similarities in one call, each fingerprint decoded once:
	-- five functions decoded both five times)
	p AS (
		SELECT cluster, o, sp.similarity AS sim, sp.infrastructure AS infra,
			   -- two accounts that were never active at the same time (a hydra's
			   -- successive ones) say nothing of synchrony
			   CASE WHEN xs.first_seen <= ys.last_seen AND ys.first_seen <= xs.last_seen
					THEN sp.coactivity END AS coact,
			   sp.calendar, sp.work, sp.operator AS op, same_org
		FROM pairs, LATERAL @extschema@.fingerprint_stats(xf) xs, LATERAL @extschema@.fingerprint_stats(yf) ys,
			 LATERAL @extschema@.fingerprint_similarity_parts(xf, yf) sp),
	ps AS (
		SELECT p.cluster, count(*) AS n_pairs, avg(sim ORDER BY o) AS cohesion, stddev_pop(sim ORDER BY o) AS cohesion_sd,
			   coalesce(avg(infra ORDER BY o) FILTER (WHERE NOT same_org), 0) AS infra,
			   -- activity shared beyond chance (both channels judge it against
			   -- each account's own rhythm): the same 15-minute windows, or days;
			   -- over the pairs whose times can tell (accounts that never
			   -- overlap, as a hydra's successive ones, say nothing of it)
			   avg(greatest(calendar, coact) ORDER BY o) AS sync,
			   avg(same_org::int) AS same_org,
			   -- the two families over the sampled pairs: a cluster linked on
			   -- the work alone (lockstep_cluster_accounts, pass 3) shows a
			   -- weak operator here
			   jsonb_build_object('work', round(avg(work ORDER BY o)::numeric, 4),
								  'operator', round(avg(op ORDER BY o)::numeric, 4)) AS families
		FROM p GROUP BY 1),
	-- one row even without a background (every account clustered): its
	-- levels are then unknown, and each signal counts as it stands
	bg AS (SELECT p0.*, o.output, o.churn FROM (SELECT 1) one LEFT JOIN ps p0 ON p0.cluster IS NULL,
		   -- the output per request of the background's median account, and
		   -- the share of the background's accounts that churned
		   (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY vo.tokens_out::float8 / vo.requests)
					FILTER (WHERE vo.requests > 0) AS output,
				   avg((st.last_seen - st.first_seen < ((SELECT last_seen FROM everyone) - st.first_seen) / 2)::int) AS churn
			FROM b, LATERAL @extschema@.fingerprint_volume(b.fp) vo, LATERAL @extschema@.fingerprint_stats(b.fp) st) o),
	a AS (
		SELECT m.cluster, count(*)::int AS n,
			   count(DISTINCT m.org_id) AS orgs,
			   sum(m.requests)::float8 AS requests,
			   sum(m.tokens_out)::float8 / nullif(sum(m.requests), 0) AS output,
			   -- churn: the share of members gone before half the time they
			   -- could have lived (from their first request to the window's
			   -- end) had passed, a hydra's succession of short-lived accounts
			   -- (the background's, below, the same way)
			   avg((m.last_seen - m.first_seen < ((SELECT last_seen FROM everyone) - m.first_seen) / 2)::int) AS churn,
			   (SELECT jsonb_agg(DISTINCT rel.model) FROM rel) AS released
		FROM m GROUP BY 1),
	-- the pairs of each cluster's accounts in one organization, exactly
	og AS (
		SELECT cluster, sum(k * (k - 1)) AS pairs
		FROM (SELECT cluster, count(*)::float8 AS k FROM m WHERE org_id IS NOT NULL GROUP BY cluster, org_id) o
		GROUP BY 1),
	aw AS (
		SELECT u.cluster,
			   -- similar volumes: 1 - the coefficient of variation, 0 past 1
			   -- (unknown for one worker)
			   CASE WHEN count(*) > 1 THEN greatest(0, 1 - coalesce(stddev_pop(u.requests::float8 ORDER BY u.r)
						/ nullif(avg(u.requests::float8), 0), 1)) END AS uniformity,
			   -- graded: adopting a release h hours after it counts exp(-h / pivot_hours),
			   -- over the workers that were there before the release and after
			   -- it (one born later or gone before says nothing of the pivot);
			   -- NULL if none was
			   avg(pv.pivot ORDER BY u.r) AS pivot,
			   count(pv.pivot) AS pivot_members, count(*)::int AS workers
		FROM u LEFT JOIN LATERAL (
			-- (a worker that never used the release adopted it never: 0;
			-- greatest() would take its missing first use for 0 hours)
			SELECT coalesce(max(CASE WHEN fm.first_seen IS NOT NULL
									 THEN exp(-greatest(0, extract(epoch FROM fm.first_seen - rel.released_at) / 3600)
											  / %5$s) ELSE 0 END), 0) AS pivot
			FROM rel LEFT JOIN @extschema@.fingerprint_models(u.fp) fm USING (model_hash)
			WHERE rel.released_at > u.first_seen AND rel.released_at <= u.last_seen
			HAVING count(*) > 0) pv ON true
		GROUP BY 1),
	-- each intent's mean rate, over the intents the fingerprint names (lexicon.c)
	intents AS (
		SELECT cluster, jsonb_object_agg(intent, round(rate::numeric, 4)) AS rates,
			   least(1, sum(rate ORDER BY intent)) AS elicitation
		FROM (SELECT m.cluster, i.intent, avg(i.rate ORDER BY m.account_id) AS rate
			  FROM m, LATERAL @extschema@.fingerprint_intents(m.fp) i GROUP BY 1, 2) r
		GROUP BY 1),
	-- what the cluster's pairs share beyond what the background's do:
	-- (v - b) / (1 - b), 0 at or below the background
	sig AS (
		SELECT a.*, aw.uniformity, aw.pivot, aw.pivot_members, aw.workers, ps.cohesion, ps.families,
			   coalesce(og.pairs / nullif(a.n::float8 * (a.n - 1), 0), 0) AS same_org,
			   -- the share of the sampled pairs of workers in one organization,
			   -- whose pair signals it discounts
			   coalesce(ps.same_org, 0) AS worker_same_org,
			   intents.rates AS intent_rates,
			   jsonb_build_object('pairs', bg.n_pairs,
				'output_per_request', round(bg.output::numeric, 1),
				'cohesion', round(bg.cohesion::numeric, 4), 'synchrony', round(bg.sync::numeric, 4),
				'shared_infrastructure', round(bg.infra::numeric, 4), 'churn', round(bg.churn::numeric, 4),
				-- the cluster's mean similarity in standard errors of a mean of as
				-- many background pairs
				'cohesion_z', round(((ps.cohesion - bg.cohesion)
					/ nullif(bg.cohesion_sd / sqrt(ps.n_pairs), 0))::numeric, 1)) AS background,
			   jsonb_build_object(
				-- (what pairs share is unknown in a cluster of one worker)
				'shared_infrastructure', CASE WHEN ps.n_pairs > 0 THEN @extschema@.lockstep_excess(ps.infra, bg.infra) END,
				'elicitation', intents.elicitation,
				'pivot', coalesce(aw.pivot, 0),
				'synchrony', CASE WHEN ps.sync IS NOT NULL THEN @extschema@.lockstep_excess(ps.sync, bg.sync) END,
				'cohesion', CASE WHEN ps.n_pairs > 0 THEN @extschema@.lockstep_excess(ps.cohesion, bg.cohesion) END,
				'size', least(1, ln(a.n) / ln(%6$s)),
				'volume', least(1, coalesce(a.requests / nullif(total.requests, 0) / %7$s, 0)),
				'uniformity', aw.uniformity,
				-- long answers: how far the output per request goes beyond the
				-- background's median account, as a share of the cluster's
				'output', greatest(0, 1 - bg.output / nullif(a.output, 0)),
				'churn', @extschema@.lockstep_excess(a.churn, bg.churn)) AS v
		FROM a JOIN aw USING (cluster) LEFT JOIN og USING (cluster) LEFT JOIN ps USING (cluster)
		JOIN intents USING (cluster), total, bg),
	-- each signal's value and weight.  An organization is context, not a
	-- pass: what one company's tooling shares (networks and cards,
	-- scaffolds, hours) is explained by it, so those signals weigh in only
	-- for the pairs of different organizations; what it does not explain
	-- (elicitation, the pivot, long output, uniform volume, size) weighs in
	-- whole.
	sv0 AS (
		SELECT sig.cluster, e.k, c.val,
			   c.wt * CASE WHEN e.k IN ('shared_infrastructure', 'cohesion', 'synchrony')
						   THEN 1 - sig.worker_same_org ELSE 1 END AS wt,
			   raw IS NOT NULL AS known, %12$L::jsonb ? e.k AS trace, %13$L::jsonb ? e.k AS harvest
		FROM sig, jsonb_each_text(sig.v) e(k, raw),
			 LATERAL (SELECT coalesce(raw::float8, 0) AS val, (%8$L::jsonb->>k)::float8 AS wt) c),
	-- A trace (the settings' traces: what is cheap to avoid) is evidence
	-- for, never against: it counts only once fired, and only if it raises
	-- the mean, the strongest first, so that neither its absence nor a weak
	-- showing clears anyone, and crossing fire_at never lowers a score.
	others AS (
		SELECT cluster, coalesce(sum(wt * val) FILTER (WHERE known AND NOT trace), 0) AS s0,
			   coalesce(sum(wt) FILTER (WHERE known AND NOT trace), 0) AS w0
		FROM sv0 GROUP BY 1),
	tr AS (
		SELECT sv0.cluster, sv0.k,
			   o.s0 + sum(wt * val) OVER w - wt * val AS s_prev, o.w0 + sum(wt) OVER w - wt AS w_prev
		FROM sv0 JOIN others o USING (cluster)
		WHERE trace AND known AND val >= %9$s
		WINDOW w AS (PARTITION BY sv0.cluster ORDER BY val DESC, k ROWS UNBOUNDED PRECEDING)),
	sv AS (
		SELECT sv0.cluster, sv0.k, sv0.val, sv0.wt,
			   (known AND (NOT trace OR (tr.k IS NOT NULL AND (tr.w_prev <= 0 OR sv0.val * tr.w_prev > tr.s_prev))))::int
				 AS counted
		FROM sv0 LEFT JOIN tr USING (cluster, k)),
	-- The harvest: a distillation campaign exists to take the model's
	-- reasoning, long answers or new release (the settings' harvest
	-- signals); a coordinated cluster that takes none of them (one
	-- integration's servers, say) is automation.  Until the strongest of
	-- them fires, the score is scaled by its share of fire_at.
	den AS (SELECT d.*, CASE WHEN jsonb_array_length(%13$L::jsonb) = 0 THEN 1
							 ELSE least(1, d.harvest / greatest(%9$s, 1e-12)) END AS hf
			FROM (SELECT sv0.cluster, greatest(sum(sv.counted * sv0.wt), 1e-12) AS w,
						 coalesce(max(sv0.val) FILTER (WHERE sv0.harvest AND sv0.known), 0) AS harvest
				  FROM sv0 JOIN sv USING (cluster, k) GROUP BY 1) d),
	-- each signal's contribution, the list and the weighted mean in one pass
	scored AS (
		SELECT sig.*, x.signals, x.coordination, den.harvest, den.hf, x.coordination * den.hf AS base
		FROM sig JOIN den USING (cluster), LATERAL (
			SELECT jsonb_agg(jsonb_build_object('signal', sv.k, 'value', round(sv.val::numeric, 4),
						'weight', round(sv.wt::numeric, 4), 'counted', sv.counted = 1,
						'contribution', round((den.hf * sv.counted * sv.wt * sv.val / den.w)::numeric, 4),
						'fired', sv.val >= %9$s) ORDER BY sv.counted * sv.wt * sv.val DESC, sv.k) AS signals,
				   sum(sv.counted * sv.wt * sv.val) / den.w AS coordination
			FROM sv WHERE sv.cluster = sig.cluster) x)
	SELECT cluster, n, base, base >= %10$s,
		   jsonb_build_object(
			'score', round(base::numeric, 4),
			-- the distance from the line: a flag 0.01 above it is a coin toss
			'margin', round((base - %10$s)::numeric, 4),
			'harvest', jsonb_build_object('value', round(harvest::numeric, 4), 'factor', round(hf::numeric, 4),
				'signals', %13$L::jsonb, 'score_before', round(coordination::numeric, 4)),
			'fired', (SELECT coalesce(jsonb_agg(x->'signal'), '[]') FROM jsonb_array_elements(signals) x
					  WHERE (x->>'fired')::boolean),
			'signals', signals,
			'organization', jsonb_build_object('same_org_pair_share', round(same_org::numeric, 4),
				'orgs', orgs,
				'route', CASE WHEN same_org >= 0.5 THEN 'account management: the accounts are seats of '
								   || CASE WHEN orgs = 1 THEN 'one organization' ELSE 'a few organizations' END
							  ELSE 'fraud' END,
				'discounted', jsonb_build_array('shared_infrastructure', 'cohesion', 'synchrony')),
			'workers', workers, 'pivot_members', pivot_members,
			'families', families,
			'background', background,
			'accounts', n, 'orgs', orgs, 'requests', requests,
			'intent_rates', intent_rates,
			'released_models', coalesce(released, '[]'))
	FROM scored
	$q$, clusters, fingerprints, rel, (s->>'sample_pairs')::int, greatest((s->>'pivot_hours')::float8, 1e-3),
		greatest((s->>'size_full')::float8, 2), (s->>'volume_full')::float8, w,
		(s->>'fire_at')::float8, (s->>'flag_at')::float8, (s->>'background_pairs')::int, s->'traces',
		s->'harvest', (s->>'thin_days')::int);
END $$;
COMMENT ON FUNCTION @extschema@.lockstep_score_clusters(regclass, regclass, regclass, jsonb) IS
	'a score in [0, 1], its margin above flag_at and a jsonb explanation per cluster, from relations (tables or views) of (account_id, cluster) and (account_id, org_id, fp), with an optional (model, released_at) release table; what pairs share, the pivot and the uniformity judged over workers (the thin accounts on one card merged, as lockstep_cluster_accounts links them); an organization discounts the signals it explains (shared infrastructure, cohesion, synchrony), never the score; until a harvest signal fires, the score is scaled by its share of fire_at';

CREATE FUNCTION @extschema@.lockstep_score_accounts(clusters regclass, campaigns regclass, settings jsonb DEFAULT NULL,
	OUT account_id bigint, OUT cluster bigint, OUT score double precision, OUT flagged boolean,
	OUT evidence jsonb)
	RETURNS SETOF record
	LANGUAGE plpgsql VOLATILE PARALLEL RESTRICTED
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	s jsonb := @extschema@.lockstep_settings(settings);
BEGIN
	IF clusters IS NULL OR campaigns IS NULL THEN
		RAISE EXCEPTION 'the clusters and campaigns relations must not be NULL'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	RETURN QUERY EXECUTE format($q$
	SELECT c.account_id, c.cluster, x.score, x.score >= %3$s,
		   jsonb_build_object('cluster', c.cluster, 'cluster_score', round(k.score::numeric, 4),
			'membership', CASE WHEN c.core THEN 'core' ELSE 'attached' END,
			'similarity_to_core', round(c.similarity::numeric, 4),
			'cluster_signals', k.evidence->'fired')
	FROM (SELECT account_id::bigint AS account_id, cluster::bigint AS cluster, core, similarity FROM %1$s c0) c
	JOIN (SELECT cluster::bigint AS cluster, score, evidence FROM %2$s k0) k USING (cluster),
	LATERAL (SELECT k.score AS score) x
	$q$, clusters, campaigns, (s->>'flag_at')::float8);
END $$;
COMMENT ON FUNCTION @extschema@.lockstep_score_accounts(regclass, regclass, jsonb) IS
	'a score per clustered account: its cluster''s score (every member passed the clustering threshold); the evidence says whether it is a core or attached, and how similar to its core';
