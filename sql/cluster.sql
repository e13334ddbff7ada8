-- lockstep: clusters, from edge lists or from fingerprints.
-- Part of the install script that the Makefile assembles (see sql/README).

-- Clusters -----------------------------------------------------------------

CREATE FUNCTION @extschema@.lockstep_components(edges text, core_threshold double precision DEFAULT NULL,
	min_size integer DEFAULT 1,
	OUT node bigint, OUT component bigint, OUT core boolean)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.lockstep_components(text, double precision, integer) IS
	'connected components of an edge query (source, target [, weight]) by union-find; with core_threshold, cores of edges at least that strong and nodes attached to them';

CREATE FUNCTION @extschema@.fingerprint_clusters(query text, threshold double precision DEFAULT NULL,
	core_threshold double precision DEFAULT 0.65, min_size integer DEFAULT 10,
	bands integer DEFAULT 16, rows integer DEFAULT 2, max_bucket integer DEFAULT 1000,
	OUT account_id bigint, OUT cluster bigint, OUT core boolean, OUT similarity double precision)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.fingerprint_clusters(text, double precision, double precision, integer, integer, integer, integer) IS
	'clusters of the (id, fingerprint) rows of a query: cores joined at core_threshold, others attached at threshold, from LSH candidates without listing all pairs';
