-- lockstep: similarity of fingerprints, its operators, LSH keys, the similarity join and the GIN opclass.
-- Part of the install script that the Makefile assembles (see sql/README).

-- Similarity --------------------------------------------------------------

CREATE FUNCTION @extschema@.fingerprint_similarity(@extschema@.fingerprint, @extschema@.fingerprint)
	RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fingerprint_similarity(@extschema@.fingerprint, @extschema@.fingerprint) IS
	'behavioural similarity in [0, 1]: the geometric mean of the work (weighted mean of content 0.30, intents 0.10, models 0.10; hours 0) and the operator (the strongest of infrastructure, coactivity, calendar, each at weight 0.15); 0 when either family is unknown (no content or intents, no timing or infrastructure)';

CREATE FUNCTION @extschema@.fingerprint_similarity(@extschema@.fingerprint, @extschema@.fingerprint,
	weights double precision[])
	RETURNS double precision
	AS 'MODULE_PATHNAME', 'fingerprint_similarity_weighted' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fingerprint_similarity(@extschema@.fingerprint, @extschema@.fingerprint, double precision[]) IS
	'behavioural similarity with explicit channel weights {content, intents, infrastructure, coactivity, hours, models, calendar} (six weights: calendar 0): weights within the work family; in the operator family, each channel scaled by its weight over the family''s largest';

CREATE FUNCTION @extschema@.fingerprint_default_weights() RETURNS double precision[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fingerprint_default_weights() IS
	'fingerprint_similarity''s channel weights {content, intents, infrastructure, coactivity, hours, models, calendar}, to build weights of your own from';

CREATE FUNCTION @extschema@.fingerprint_similarity_detail(@extschema@.fingerprint, @extschema@.fingerprint)
	RETURNS jsonb
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fingerprint_similarity_detail(@extschema@.fingerprint, @extschema@.fingerprint) IS
	'the combined similarity, its two families (work, operator) and every channel''s (null: undefined)';

CREATE FUNCTION @extschema@.fingerprint_similarity_parts(@extschema@.fingerprint, @extschema@.fingerprint,
	OUT similarity double precision, OUT work double precision, OUT operator double precision,
	OUT content double precision, OUT intents double precision, OUT infrastructure double precision,
	OUT coactivity double precision, OUT hours double precision, OUT models double precision,
	OUT calendar double precision)
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fingerprint_similarity_parts(@extschema@.fingerprint, @extschema@.fingerprint) IS
	'fingerprint_similarity_detail as a row, unrounded (NULL: undefined): the pair decoded once for all of them';

CREATE FUNCTION @extschema@.fingerprint_content_similarity(@extschema@.fingerprint, @extschema@.fingerprint)
	RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fingerprint_content_similarity(@extschema@.fingerprint, @extschema@.fingerprint) IS
	'weighted Jaccard of the recurring prompt scaffolds'' traffic shares; 0 if neither repeats a scaffold and each sent at least 5 keyed prompts, NULL if neither repeats one and either sent fewer';

CREATE FUNCTION @extschema@.fingerprint_intents_similarity(@extschema@.fingerprint, @extschema@.fingerprint)
	RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fingerprint_intents_similarity(@extschema@.fingerprint, @extschema@.fingerprint) IS
	'weighted Jaccard of the elicitation intent rates; NULL if neither shows an intent';

CREATE FUNCTION @extschema@.fingerprint_infrastructure_similarity(@extschema@.fingerprint, @extschema@.fingerprint)
	RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fingerprint_infrastructure_similarity(@extschema@.fingerprint, @extschema@.fingerprint) IS
	'shared networks (0.45: the Jaccard J of the /24 sets, or I / (I + 8) for the I networks both used if more), payment instruments (0.40) and user agents (0.15), Jaccard estimates';

CREATE FUNCTION @extschema@.fingerprint_coactivity_similarity(@extschema@.fingerprint, @extschema@.fingerprint)
	RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fingerprint_coactivity_similarity(@extschema@.fingerprint, @extschema@.fingerprint) IS
	'shared active 15-minute buckets beyond chance: (J - E) / (1 - E) for the Jaccard J of the two sets of active buckets and its expectation E for independent accounts with the same hour-of-week rhythm over their overlapping spans; 0 at or below chance';

CREATE FUNCTION @extschema@.fingerprint_hours_similarity(@extschema@.fingerprint, @extschema@.fingerprint)
	RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fingerprint_hours_similarity(@extschema@.fingerprint, @extschema@.fingerprint) IS
	'cosine of the two hour-of-week activity profiles';

CREATE FUNCTION @extschema@.fingerprint_models_similarity(@extschema@.fingerprint, @extschema@.fingerprint)
	RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fingerprint_models_similarity(@extschema@.fingerprint, @extschema@.fingerprint) IS
	'model adoption: shared models scored by how close their first-seen times are (exp(-days apart))';

CREATE FUNCTION @extschema@.fingerprint_calendar_similarity(@extschema@.fingerprint, @extschema@.fingerprint)
	RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fingerprint_calendar_similarity(@extschema@.fingerprint, @extschema@.fingerprint) IS
	'shared active days beyond chance: (J - E) / (1 - E) for the Jaccard J of the two sets of active UTC days and its expectation E for independent accounts with the same rates over their overlapping spans; 0 at or below chance';

CREATE FUNCTION @extschema@.fingerprint_similar(@extschema@.fingerprint, @extschema@.fingerprint)
	RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C STABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fingerprint_similar(@extschema@.fingerprint, @extschema@.fingerprint) IS
	'similarity at least lockstep.similarity_threshold (support of the % operator)';

CREATE FUNCTION @extschema@.fingerprint_distance(@extschema@.fingerprint, @extschema@.fingerprint)
	RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fingerprint_distance(@extschema@.fingerprint, @extschema@.fingerprint) IS
	'1 - fingerprint_similarity (support of the <-> operator)';

CREATE OPERATOR @extschema@.% (
	LEFTARG = @extschema@.fingerprint, RIGHTARG = @extschema@.fingerprint,
	FUNCTION = @extschema@.fingerprint_similar,
	COMMUTATOR = OPERATOR(@extschema@.%),
	RESTRICT = matchingsel, JOIN = matchingjoinsel);
COMMENT ON OPERATOR @extschema@.% (@extschema@.fingerprint, @extschema@.fingerprint) IS
	'similar: fingerprint_similarity at least lockstep.similarity_threshold';

CREATE OPERATOR @extschema@.<-> (
	LEFTARG = @extschema@.fingerprint, RIGHTARG = @extschema@.fingerprint,
	FUNCTION = @extschema@.fingerprint_distance,
	COMMUTATOR = OPERATOR(@extschema@.<->));
COMMENT ON OPERATOR @extschema@.<-> (@extschema@.fingerprint, @extschema@.fingerprint) IS
	'distance: 1 - fingerprint_similarity';

-- LSH and the similarity join ------------------------------------------------

CREATE FUNCTION @extschema@.fingerprint_lsh_keys(fp @extschema@.fingerprint, bands integer DEFAULT 16,
	rows integer DEFAULT 2)
	RETURNS bigint[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fingerprint_lsh_keys(@extschema@.fingerprint, integer, integer) IS
	'banded MinHash keys of the content, co-activity, network and payment channels: similar accounts share keys';

CREATE FUNCTION @extschema@.fingerprint_similar_pairs(query text, threshold double precision DEFAULT NULL,
	bands integer DEFAULT NULL, rows integer DEFAULT NULL, max_bucket integer DEFAULT NULL,
	OUT a bigint, OUT b bigint, OUT similarity double precision)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.fingerprint_similar_pairs(text, double precision, integer, integer, integer) IS
	'all pairs of (id, fingerprint) rows of a query whose similarity reaches threshold (lockstep.similarity_threshold), through LSH buckets (16 bands of 2 rows, max_bucket 10000), never all pairs';

-- GIN ------------------------------------------------------------------------

CREATE FUNCTION @extschema@.gin_extract_value_fingerprint(@extschema@.fingerprint, internal)
	RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.gin_extract_query_fingerprint(@extschema@.fingerprint, internal, int2,
	internal, internal, internal, internal)
	RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.gin_consistent_fingerprint(internal, int2, @extschema@.fingerprint, int4,
	internal, internal, internal, internal)
	RETURNS boolean AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.gin_triconsistent_fingerprint(internal, int2, @extschema@.fingerprint, int4,
	internal, internal, internal)
	RETURNS "char" AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.gin_extract_value_fingerprint(@extschema@.fingerprint, internal) IS 'GIN support: LSH keys of an indexed fingerprint';
COMMENT ON FUNCTION @extschema@.gin_extract_query_fingerprint(@extschema@.fingerprint, internal, int2, internal, internal, internal, internal) IS 'GIN support: LSH keys of a query fingerprint';
COMMENT ON FUNCTION @extschema@.gin_consistent_fingerprint(internal, int2, @extschema@.fingerprint, int4, internal, internal, internal, internal) IS 'GIN support: any shared key is a candidate, always rechecked';
COMMENT ON FUNCTION @extschema@.gin_triconsistent_fingerprint(internal, int2, @extschema@.fingerprint, int4, internal, internal, internal) IS 'GIN support: ternary form of the consistent function';

CREATE OPERATOR CLASS @extschema@.fingerprint_lsh_ops
	DEFAULT FOR TYPE @extschema@.fingerprint USING gin AS
	OPERATOR 1 @extschema@.% (@extschema@.fingerprint, @extschema@.fingerprint),
	FUNCTION 1 pg_catalog.btint8cmp(int8, int8),
	FUNCTION 2 @extschema@.gin_extract_value_fingerprint(@extschema@.fingerprint, internal),
	FUNCTION 3 @extschema@.gin_extract_query_fingerprint(@extschema@.fingerprint, internal, int2, internal, internal, internal, internal),
	FUNCTION 4 @extschema@.gin_consistent_fingerprint(internal, int2, @extschema@.fingerprint, int4, internal, internal, internal, internal),
	FUNCTION 6 @extschema@.gin_triconsistent_fingerprint(internal, int2, @extschema@.fingerprint, int4, internal, internal, internal),
	STORAGE int8;
COMMENT ON OPERATOR FAMILY @extschema@.fingerprint_lsh_ops USING gin IS
	'GIN index over LSH band keys for fingerprint % fingerprint';
COMMENT ON OPERATOR CLASS @extschema@.fingerprint_lsh_ops USING gin IS
	'GIN index over LSH band keys (16 bands of 2 rows) for fingerprint % fingerprint';
