-- lockstep 0.5.0 -> 0.6.0, first steps: what the replayed code cannot do
-- itself (sql/README).
-- fingerprint_clusters takes the channel weights: the replayed cluster.sql
-- makes the new form, and the old one would make every call ambiguous
DROP FUNCTION @extschema@.fingerprint_clusters(text, double precision, double precision, integer, integer,
	integer, integer);

-- fingerprint_similarity's default weights, which the replayed cluster.sql
-- reads (similarity.sql is not replayed)
CREATE FUNCTION @extschema@.fingerprint_default_weights() RETURNS double precision[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fingerprint_default_weights() IS
	'fingerprint_similarity''s channel weights {content, intents, infrastructure, coactivity, hours, models, calendar}, to build weights of your own from';
