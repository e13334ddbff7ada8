-- lockstep 0.1.0 -> 0.2.0: what the update changes beyond replacing the scoring
-- and pipeline functions, which the Makefile appends from sql/scoring.sql and
-- sql/pipeline.sql (see sql/README).

-- Pipelines made by 0.1.0: their views go first, as they call functions
-- this update replaces; 0.1.0--0.2.0.post.sql makes them again.
DO $$
DECLARE
	p record;
BEGIN
	FOR p IN
		SELECT n.nspname AS nsp, left(c.relname, -length('_config')) AS name
		FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind = 'r' AND c.reloftype = 0 AND c.relname LIKE '%\_config'
		  AND (SELECT array_agg(a.attname::text ORDER BY a.attnum) FROM pg_attribute a
			   WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped)
			  = ARRAY['log', 'columns', 'window_days', 'releases', 'settings']
	LOOP
		EXECUTE format('DROP MATERIALIZED VIEW IF EXISTS %1$I.%2$I, %1$I.%3$I, %1$I.%4$I, %1$I.%5$I', p.nsp,
			p.name || '_accounts', p.name || '_campaigns', p.name || '_clusters', p.name || '_window');
	END LOOP;
END $$;

-- Scores read relations (regclass), not query text that runs with the
-- caller's search path.
DROP FUNCTION @extschema@.lockstep_score_clusters(text, text, text, jsonb);
DROP FUNCTION @extschema@.lockstep_score_accounts(text, text, jsonb);
-- a pipeline is made in the schema the caller names (default: the current one)
DROP FUNCTION @extschema@.lockstep_create_pipeline(text, regclass, integer, regclass, jsonb);

-- The synthetic log moved to its own extension, lockstep_synth: a
-- production database has no use for a generator of attack-like prompts.
DROP FUNCTION @extschema@.lockstep_synth_log(bigint, bigint);
DROP FUNCTION @extschema@.lockstep_synth_chunk(bigint, bigint, bigint, bigint);
DROP FUNCTION @extschema@.lockstep_synth_accounts(bigint, bigint);
DROP FUNCTION @extschema@.lockstep_synth_releases();

-- One name per channel, the same in C, SQL, JSON and the docs.
ALTER FUNCTION @extschema@.fingerprint_intent_similarity(@extschema@.fingerprint, @extschema@.fingerprint)
	RENAME TO fingerprint_intents_similarity;
ALTER FUNCTION @extschema@.fingerprint_infra_similarity(@extschema@.fingerprint, @extschema@.fingerprint)
	RENAME TO fingerprint_infrastructure_similarity;
ALTER FUNCTION @extschema@.fingerprint_coactivity(@extschema@.fingerprint, @extschema@.fingerprint)
	RENAME TO fingerprint_coactivity_similarity;
ALTER FUNCTION @extschema@.fingerprint_model_similarity(@extschema@.fingerprint, @extschema@.fingerprint)
	RENAME TO fingerprint_models_similarity;
-- (the symbols follow the names; 0.1.0's stay in src/compat.c)
CREATE OR REPLACE FUNCTION @extschema@.fingerprint_intents_similarity(@extschema@.fingerprint, @extschema@.fingerprint)
	RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.fingerprint_infrastructure_similarity(@extschema@.fingerprint, @extschema@.fingerprint)
	RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.fingerprint_coactivity_similarity(@extschema@.fingerprint, @extschema@.fingerprint)
	RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE OR REPLACE FUNCTION @extschema@.fingerprint_models_similarity(@extschema@.fingerprint, @extschema@.fingerprint)
	RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- Clusters are clusters everywhere: lockstep_components becomes
-- lockstep_clusters, its component column cluster.  (A view of yours over
-- lockstep_components stops this update: drop it, update, make it again.)
DROP FUNCTION @extschema@.lockstep_components(text, double precision, integer);
CREATE FUNCTION @extschema@.lockstep_clusters(edges text, core_threshold double precision DEFAULT NULL,
	min_size integer DEFAULT 1,
	OUT node bigint, OUT cluster bigint, OUT core boolean)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.lockstep_clusters(text, double precision, integer) IS
	'connected components of an edge query (source, target [, weight]) by union-find; with core_threshold, cores of edges at least that strong and nodes attached to them';

-- Defaults live in C (src/pairs.h): NULL arguments take them, and a
-- pipeline's settings read them from lockstep_cluster_defaults().
CREATE FUNCTION @extschema@.lockstep_cluster_defaults() RETURNS jsonb
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.lockstep_cluster_defaults() IS
	'the defaults of fingerprint_clusters'' arguments (threshold: the default of lockstep.similarity_threshold), which a pipeline''s settings start from';
CREATE OR REPLACE FUNCTION @extschema@.fingerprint_similar_pairs(query text, threshold double precision DEFAULT NULL,
	bands integer DEFAULT NULL, rows integer DEFAULT NULL, max_bucket integer DEFAULT NULL,
	OUT a bigint, OUT b bigint, OUT similarity double precision)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.fingerprint_similar_pairs(text, double precision, integer, integer, integer) IS
	'all pairs of (id, fingerprint) rows of a query whose similarity reaches threshold (lockstep.similarity_threshold), through LSH buckets (16 bands of 2 rows, max_bucket 10000), never all pairs';
CREATE OR REPLACE FUNCTION @extschema@.fingerprint_clusters(query text, threshold double precision DEFAULT NULL,
	core_threshold double precision DEFAULT NULL, min_size integer DEFAULT NULL,
	bands integer DEFAULT NULL, rows integer DEFAULT NULL, max_bucket integer DEFAULT NULL,
	OUT account_id bigint, OUT cluster bigint, OUT core boolean, OUT similarity double precision)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.fingerprint_clusters(text, double precision, double precision, integer, integer, integer, integer) IS
	'clusters of the (id, fingerprint) rows of a query: cores joined at core_threshold (default 0.65) of at least min_size (10) accounts, others attached at threshold (lockstep.similarity_threshold), from LSH candidates (16 bands of 2 rows, max_bucket 1000) without listing all pairs';

-- Models by the hash of their whole name: names are cut to 23 bytes.
CREATE FUNCTION @extschema@.fingerprint_models(@extschema@.fingerprint,
	OUT model text, OUT model_hash bigint, OUT requests bigint, OUT first_seen timestamptz) RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fingerprint_models(@extschema@.fingerprint) IS
	'the models of a fingerprint: name (its first 23 bytes, ASCII), model_hash (the identity of the whole name, see lockstep_model_hash), requests, first use';
CREATE FUNCTION @extschema@.lockstep_model_hash(model text) RETURNS bigint
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.lockstep_model_hash(text) IS
	'the identity of a model name in fingerprint_models: a hash of the whole name, however long';
