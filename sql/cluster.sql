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
	OUT account_id bigint, OUT cluster bigint, OUT core boolean, OUT similarity double precision)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.fingerprint_clusters(text, double precision, double precision, integer, integer, integer, integer) IS
	'clusters of the (id, fingerprint) rows of a query: cores joined at core_threshold (default 0.65) of at least min_size (10) accounts, others attached at threshold (lockstep.similarity_threshold), from LSH candidates (16 bands of 2 rows, max_bucket 1000) without listing all pairs';

CREATE FUNCTION @extschema@.lockstep_cluster_defaults() RETURNS jsonb
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.lockstep_cluster_defaults() IS
	'the defaults of fingerprint_clusters'' arguments (threshold: the default of lockstep.similarity_threshold), which a pipeline''s settings start from';
