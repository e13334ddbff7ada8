/* lockstep 0.1.0: behavioural fingerprints of API accounts */

\echo Use "CREATE EXTENSION lockstep" to load this file. \quit

-- The fingerprint type -------------------------------------------------

CREATE TYPE @extschema@.fingerprint;

CREATE FUNCTION @extschema@.fingerprint_in(cstring) RETURNS @extschema@.fingerprint
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.fingerprint_out(@extschema@.fingerprint) RETURNS cstring
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.fingerprint_recv(internal) RETURNS @extschema@.fingerprint
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.fingerprint_send(@extschema@.fingerprint) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

CREATE TYPE @extschema@.fingerprint (
	INPUT = @extschema@.fingerprint_in,
	OUTPUT = @extschema@.fingerprint_out,
	RECEIVE = @extschema@.fingerprint_recv,
	SEND = @extschema@.fingerprint_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = double,
	STORAGE = extended
);

COMMENT ON TYPE @extschema@.fingerprint IS
	'mergeable behavioural sketch of an account: content scaffolds, intents, infrastructure, timing, models, volume';
COMMENT ON FUNCTION @extschema@.fingerprint_in(cstring) IS 'text input: base64 of the canonical binary form';
COMMENT ON FUNCTION @extschema@.fingerprint_out(@extschema@.fingerprint) IS 'text output: base64 of the canonical binary form';
COMMENT ON FUNCTION @extschema@.fingerprint_recv(internal) IS 'binary input, validated';
COMMENT ON FUNCTION @extschema@.fingerprint_send(@extschema@.fingerprint) IS 'binary output, big-endian and versioned';

CREATE FUNCTION @extschema@.fingerprint_summary(@extschema@.fingerprint) RETURNS jsonb
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fingerprint_summary(@extschema@.fingerprint) IS
	'every channel of a fingerprint in human terms';

CREATE FUNCTION @extschema@.fingerprint_size(@extschema@.fingerprint) RETURNS integer
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fingerprint_size(@extschema@.fingerprint) IS
	'size of the stored fingerprint in bytes, before any compression';

CREATE FUNCTION @extschema@.fingerprint_merge(@extschema@.fingerprint, @extschema@.fingerprint)
	RETURNS @extschema@.fingerprint
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fingerprint_merge(@extschema@.fingerprint, @extschema@.fingerprint) IS
	'the fingerprint of the union of the two request sets';

CREATE FUNCTION @extschema@.fingerprint_scaffolds(@extschema@.fingerprint,
	OUT key bigint, OUT count bigint, OUT error_bound bigint) RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fingerprint_scaffolds(@extschema@.fingerprint) IS
	'the recurring scaffold keys of a fingerprint; each count is low by at most error_bound';

-- fingerprint_agg --------------------------------------------------------
-- One C transition function serves every arity; missing columns are
-- simply empty channels.

CREATE FUNCTION @extschema@.fingerprint_agg_trans(internal, timestamptz, text)
	RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.fingerprint_agg_trans(internal, timestamptz, text, inet, text, text)
	RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.fingerprint_agg_trans(internal, timestamptz, text, inet, text, text, text)
	RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.fingerprint_agg_trans(internal, timestamptz, text, inet, text, text, text, integer, integer)
	RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.fingerprint_agg_final(internal) RETURNS @extschema@.fingerprint
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.fingerprint_agg_combine(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
CREATE FUNCTION @extschema@.fingerprint_agg_serialize(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION @extschema@.fingerprint_agg_deserialize(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

COMMENT ON FUNCTION @extschema@.fingerprint_agg_trans(internal, timestamptz, text) IS 'fingerprint_agg transition';
COMMENT ON FUNCTION @extschema@.fingerprint_agg_trans(internal, timestamptz, text, inet, text, text) IS 'fingerprint_agg transition';
COMMENT ON FUNCTION @extschema@.fingerprint_agg_trans(internal, timestamptz, text, inet, text, text, text) IS 'fingerprint_agg transition';
COMMENT ON FUNCTION @extschema@.fingerprint_agg_trans(internal, timestamptz, text, inet, text, text, text, integer, integer) IS 'fingerprint_agg transition';
COMMENT ON FUNCTION @extschema@.fingerprint_agg_final(internal) IS 'fingerprint_agg final function';
COMMENT ON FUNCTION @extschema@.fingerprint_agg_combine(internal, internal) IS 'fingerprint_agg combine function';
COMMENT ON FUNCTION @extschema@.fingerprint_agg_serialize(internal) IS 'fingerprint_agg state serialization';
COMMENT ON FUNCTION @extschema@.fingerprint_agg_deserialize(bytea, internal) IS 'fingerprint_agg state deserialization, validated';

CREATE AGGREGATE @extschema@.fingerprint_agg(ts timestamptz, prompt text) (
	SFUNC = @extschema@.fingerprint_agg_trans, STYPE = internal, SSPACE = 2048,
	FINALFUNC = @extschema@.fingerprint_agg_final,
	COMBINEFUNC = @extschema@.fingerprint_agg_combine,
	SERIALFUNC = @extschema@.fingerprint_agg_serialize,
	DESERIALFUNC = @extschema@.fingerprint_agg_deserialize,
	PARALLEL = SAFE);
CREATE AGGREGATE @extschema@.fingerprint_agg(ts timestamptz, prompt text, client_ip inet,
											 user_agent text, payment text) (
	SFUNC = @extschema@.fingerprint_agg_trans, STYPE = internal, SSPACE = 2048,
	FINALFUNC = @extschema@.fingerprint_agg_final,
	COMBINEFUNC = @extschema@.fingerprint_agg_combine,
	SERIALFUNC = @extschema@.fingerprint_agg_serialize,
	DESERIALFUNC = @extschema@.fingerprint_agg_deserialize,
	PARALLEL = SAFE);
CREATE AGGREGATE @extschema@.fingerprint_agg(ts timestamptz, prompt text, client_ip inet,
											 user_agent text, payment text, model text) (
	SFUNC = @extschema@.fingerprint_agg_trans, STYPE = internal, SSPACE = 2048,
	FINALFUNC = @extschema@.fingerprint_agg_final,
	COMBINEFUNC = @extschema@.fingerprint_agg_combine,
	SERIALFUNC = @extschema@.fingerprint_agg_serialize,
	DESERIALFUNC = @extschema@.fingerprint_agg_deserialize,
	PARALLEL = SAFE);
CREATE AGGREGATE @extschema@.fingerprint_agg(ts timestamptz, prompt text, client_ip inet,
											 user_agent text, payment text, model text,
											 tokens_in integer, tokens_out integer) (
	SFUNC = @extschema@.fingerprint_agg_trans, STYPE = internal, SSPACE = 2048,
	FINALFUNC = @extschema@.fingerprint_agg_final,
	COMBINEFUNC = @extschema@.fingerprint_agg_combine,
	SERIALFUNC = @extschema@.fingerprint_agg_serialize,
	DESERIALFUNC = @extschema@.fingerprint_agg_deserialize,
	PARALLEL = SAFE);

COMMENT ON AGGREGATE @extschema@.fingerprint_agg(timestamptz, text) IS
	'fingerprint of an account''s requests: timing and content channels';
COMMENT ON AGGREGATE @extschema@.fingerprint_agg(timestamptz, text, inet, text, text) IS
	'fingerprint of an account''s requests: timing, content and infrastructure channels';
COMMENT ON AGGREGATE @extschema@.fingerprint_agg(timestamptz, text, inet, text, text, text) IS
	'fingerprint of an account''s requests: timing, content, infrastructure and model channels';
COMMENT ON AGGREGATE @extschema@.fingerprint_agg(timestamptz, text, inet, text, text, text, integer, integer) IS
	'fingerprint of an account''s requests: every channel';

-- Its state is a fingerprint itself, so Citus can split it across nodes.
CREATE AGGREGATE @extschema@.fingerprint_union_agg(@extschema@.fingerprint) (
	SFUNC = @extschema@.fingerprint_merge,
	STYPE = @extschema@.fingerprint,
	COMBINEFUNC = @extschema@.fingerprint_merge,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.fingerprint_union_agg(@extschema@.fingerprint) IS
	'merge fingerprints, e.g. daily ones into a rolling window';

-- Text functions for analysts ------------------------------------------

CREATE FUNCTION @extschema@.prompt_template(text) RETURNS text
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.prompt_template(text) IS
	'the normalized prompt the content channel sees: lowercased, numbers, hex, UUIDs, URLs and e-mails masked';

CREATE FUNCTION @extschema@.prompt_intents(text) RETURNS text[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.prompt_intents(text) IS
	'elicitation intents the lexicon finds in a prompt';

CREATE FUNCTION @extschema@.prompt_scaffold_keys(text) RETURNS bigint[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.prompt_scaffold_keys(text) IS
	'the scaffold keys one prompt contributes to the content channel (see fingerprint_scaffolds)';

CREATE FUNCTION @extschema@.lockstep_lexicon(OUT intent text, OUT phrase text) RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.lockstep_lexicon() IS
	'the intent lexicon: every phrase and the intent it marks';

-- The synthetic log -----------------------------------------------------

CREATE FUNCTION @extschema@.lockstep_synth_chunk(rows bigint, seed bigint, first bigint, count bigint,
	OUT request_id bigint, OUT account_id bigint, OUT org_id bigint, OUT ts timestamptz,
	OUT prompt text, OUT client_ip inet, OUT user_agent text, OUT payment text,
	OUT model text, OUT tokens_in integer, OUT tokens_out integer)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 8192;
COMMENT ON FUNCTION @extschema@.lockstep_synth_chunk(bigint, bigint, bigint, bigint) IS
	'rows first .. first + count - 1 of the synthetic log; see lockstep_synth_log';

CREATE FUNCTION @extschema@.lockstep_synth_log(rows bigint, seed bigint DEFAULT 42,
	OUT request_id bigint, OUT account_id bigint, OUT org_id bigint, OUT ts timestamptz,
	OUT prompt text, OUT client_ip inet, OUT user_agent text, OUT payment text,
	OUT model text, OUT tokens_in integer, OUT tokens_out integer)
	RETURNS SETOF record
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	AS $$
		SELECT g.*
		FROM pg_catalog.generate_series(0, (rows - 1) / 8192) AS c,
			 @extschema@.lockstep_synth_chunk(rows, seed, c * 8192,
											  LEAST(8192, rows - c * 8192)) AS g
	$$;
COMMENT ON FUNCTION @extschema@.lockstep_synth_log(bigint, bigint) IS
	'deterministic synthetic API request log with legitimate users, integrations, enterprise teams and three campaigns';

CREATE FUNCTION @extschema@.lockstep_synth_accounts(rows bigint, seed bigint DEFAULT 42,
	OUT account_id bigint, OUT org_id bigint, OUT kind text, OUT campaign text)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.lockstep_synth_accounts(bigint, bigint) IS
	'ground-truth labels of every account of lockstep_synth_log(rows, seed)';

CREATE FUNCTION @extschema@.lockstep_synth_releases(OUT model text, OUT released_at timestamptz)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.lockstep_synth_releases() IS
	'model release calendar of the synthetic log';

-- Similarity --------------------------------------------------------------

CREATE FUNCTION @extschema@.fingerprint_similarity(@extschema@.fingerprint, @extschema@.fingerprint)
	RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fingerprint_similarity(@extschema@.fingerprint, @extschema@.fingerprint) IS
	'behavioural similarity in [0, 1]: the weighted mean of the channel similarities (content 0.35, intents 0.10, infrastructure 0.20, coactivity 0.20, hours 0.05, models 0.10)';

CREATE FUNCTION @extschema@.fingerprint_similarity(@extschema@.fingerprint, @extschema@.fingerprint,
	weights double precision[])
	RETURNS double precision
	AS 'MODULE_PATHNAME', 'fingerprint_similarity_weighted' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fingerprint_similarity(@extschema@.fingerprint, @extschema@.fingerprint, double precision[]) IS
	'behavioural similarity with explicit channel weights {content, intents, infrastructure, coactivity, hours, models}';

CREATE FUNCTION @extschema@.fingerprint_similarity_detail(@extschema@.fingerprint, @extschema@.fingerprint)
	RETURNS jsonb
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fingerprint_similarity_detail(@extschema@.fingerprint, @extschema@.fingerprint) IS
	'the combined similarity and every channel''s (null: neither fingerprint has that channel)';

CREATE FUNCTION @extschema@.fingerprint_content_similarity(@extschema@.fingerprint, @extschema@.fingerprint)
	RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fingerprint_content_similarity(@extschema@.fingerprint, @extschema@.fingerprint) IS
	'weighted Jaccard of the recurring prompt scaffolds'' traffic shares; NULL if neither recurs';

CREATE FUNCTION @extschema@.fingerprint_intent_similarity(@extschema@.fingerprint, @extschema@.fingerprint)
	RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fingerprint_intent_similarity(@extschema@.fingerprint, @extschema@.fingerprint) IS
	'weighted Jaccard of the elicitation intent rates; NULL if neither shows an intent';

CREATE FUNCTION @extschema@.fingerprint_infra_similarity(@extschema@.fingerprint, @extschema@.fingerprint)
	RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fingerprint_infra_similarity(@extschema@.fingerprint, @extschema@.fingerprint) IS
	'shared networks (0.45), payment instruments (0.40) and user agents (0.15), each a Jaccard estimate';

CREATE FUNCTION @extschema@.fingerprint_coactivity(@extschema@.fingerprint, @extschema@.fingerprint)
	RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fingerprint_coactivity(@extschema@.fingerprint, @extschema@.fingerprint) IS
	'estimated Jaccard similarity of the two accounts'' sets of active 15-minute buckets';

CREATE FUNCTION @extschema@.fingerprint_hours_similarity(@extschema@.fingerprint, @extschema@.fingerprint)
	RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fingerprint_hours_similarity(@extschema@.fingerprint, @extschema@.fingerprint) IS
	'cosine of the two hour-of-week activity profiles';

CREATE FUNCTION @extschema@.fingerprint_model_similarity(@extschema@.fingerprint, @extschema@.fingerprint)
	RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fingerprint_model_similarity(@extschema@.fingerprint, @extschema@.fingerprint) IS
	'model adoption: shared models scored by how close their first-seen times are (exp(-days apart))';

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
	bands integer DEFAULT 16, rows integer DEFAULT 2, max_bucket integer DEFAULT 10000,
	OUT a bigint, OUT b bigint, OUT similarity double precision)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.fingerprint_similar_pairs(text, double precision, integer, integer, integer) IS
	'all pairs of (id, fingerprint) rows of a query whose similarity reaches threshold, through LSH buckets, never all pairs';

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

-- Scoring --------------------------------------------------------------------

CREATE FUNCTION @extschema@.lockstep_default_settings() RETURNS jsonb
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	AS $$ SELECT '{
		"weights": {"shared_infrastructure": 0.25, "elicitation": 0.20, "pivot": 0.15,
		            "synchrony": 0.15, "cohesion": 0.10, "size": 0.10, "volume": 0.05},
		"size_full": 100,
		"volume_full": 0.01,
		"pivot_hours": 24,
		"sample_pairs": 100,
		"fire_at": 0.25,
		"flag_at": 0.5,
		"threshold": 0.5,
		"core_threshold": 0.65,
		"min_size": 10,
		"max_bucket": 1000
	}'::jsonb $$;
COMMENT ON FUNCTION @extschema@.lockstep_default_settings() IS
	'every weight and threshold of the campaign and account scores; pass a jsonb with the keys to change';

-- The settings in force: defaults overridden by the given keys (weights merged key by key).
CREATE FUNCTION @extschema@.lockstep_settings(settings jsonb) RETURNS jsonb
	LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
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
	IF EXISTS (SELECT 1 FROM jsonb_each(d->'weights') w
			   WHERE jsonb_typeof(w.value) <> 'number' OR (w.value)::float8 < 0)
	   OR EXISTS (SELECT 1 FROM jsonb_each(d - 'weights') v WHERE jsonb_typeof(v.value) <> 'number')
	   OR (SELECT sum(value::float8) FROM jsonb_each(d->'weights')) <= 0 THEN
		RAISE EXCEPTION 'settings must be numbers and weights non-negative with a positive sum'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	RETURN d;
END $$;
COMMENT ON FUNCTION @extschema@.lockstep_settings(jsonb) IS
	'lockstep_default_settings() with the given keys overridden, validated';

CREATE FUNCTION @extschema@.lockstep_score_clusters(clusters text, fingerprints text,
	releases text DEFAULT NULL, settings jsonb DEFAULT NULL,
	OUT cluster bigint, OUT accounts integer, OUT score double precision, OUT flagged boolean,
	OUT evidence jsonb)
	RETURNS SETOF record
	LANGUAGE plpgsql VOLATILE PARALLEL RESTRICTED
	AS $$
DECLARE
	s jsonb := @extschema@.lockstep_settings(settings);
	w jsonb := s->'weights';
	wsum float8 := (SELECT sum(value::float8) FROM jsonb_each(s->'weights'));
	rel text;
BEGIN
	IF clusters IS NULL OR fingerprints IS NULL THEN
		RAISE EXCEPTION 'the clusters and fingerprints queries must not be NULL'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	-- releases: given, or each model's first use by anyone, if a day after the log begins
	rel := coalesce('SELECT model::text AS model, released_at::timestamptz AS released_at FROM (' || releases || ') r',
		$q$SELECT e->>'model' AS model, (e->>'first_seen')::timestamptz AS released_at
		   FROM everyone, jsonb_array_elements(everyone.s->'models') e
		   WHERE (e->>'first_seen')::timestamptz > (everyone.s->'timing'->>'first_seen')::timestamptz + interval '1 day'$q$);
	RETURN QUERY EXECUTE format($q$
	WITH m AS (
		SELECT c.account_id, c.cluster, f.org_id, f.fp, @extschema@.fingerprint_summary(f.fp) AS s,
			   row_number() OVER (PARTITION BY c.cluster ORDER BY hashint8(c.account_id)) AS r
		FROM (SELECT account_id::bigint AS account_id, cluster::bigint AS cluster FROM (%1$s) c0) c
		JOIN (SELECT account_id::bigint AS account_id, org_id::bigint AS org_id, fp FROM (%2$s) f0) f
		  USING (account_id)),
	-- every account merged: the total volume and each model's first use
	everyone AS (
		SELECT @extschema@.fingerprint_summary(@extschema@.fingerprint_union_agg(fp)) AS s FROM (%2$s) f),
	total AS (SELECT (s->'volume'->>'requests')::float8 AS requests FROM everyone),
	rel AS (%3$s),
	span AS (
		SELECT greatest(1, extract(epoch FROM max((s->'timing'->>'last_seen')::timestamptz)
							   - min((s->'timing'->>'first_seen')::timestamptz)) / 900) AS buckets
		FROM m),
	-- a sample of pairs: each member with the next in a hash order
	p AS (
		SELECT x.cluster,
			   @extschema@.fingerprint_similarity(x.fp, y.fp) AS sim,
			   @extschema@.fingerprint_infra_similarity(x.fp, y.fp) AS infra,
			   coalesce(@extschema@.fingerprint_coactivity(x.fp, y.fp), 0) AS coact,
			   least(1, (x.s->'timing'->>'active_15min_buckets')::float8 / span.buckets) AS px,
			   least(1, (y.s->'timing'->>'active_15min_buckets')::float8 / span.buckets) AS py,
			   coalesce(x.org_id = y.org_id, false) AS same_org
		FROM m x JOIN m y ON y.cluster = x.cluster AND y.r = x.r + 1, span
		WHERE x.r <= %4$s),
	ps AS (
		SELECT p.cluster, avg(sim) AS cohesion,
			   coalesce(avg(infra) FILTER (WHERE NOT same_org), 0) AS infra,
			   -- co-activity beyond what two independent accounts this busy would share
			   avg(CASE WHEN px + py - px * py >= 1 OR px * py = 0 THEN 0
						ELSE greatest(0, (coact - px * py / (px + py - px * py))
										 / (1 - px * py / (px + py - px * py))) END) AS sync,
			   avg(same_org::int) AS same_org
		FROM p GROUP BY 1),
	a AS (
		SELECT m.cluster, count(*)::int AS n,
			   count(DISTINCT m.org_id) AS orgs,
			   sum((s->'volume'->>'requests')::float8) AS requests,
			   avg((s->'intents'->'chain_of_thought'->>'rate')::float8) AS chain_of_thought,
			   avg((s->'intents'->'rubric_grading'->>'rate')::float8) AS rubric_grading,
			   avg((s->'intents'->'tool_use'->>'rate')::float8) AS tool_use,
			   avg((s->'intents'->'code'->>'rate')::float8) AS code,
			   avg((s->'intents'->'safe_rewrite'->>'rate')::float8) AS safe_rewrite,
			   avg((SELECT count(*) > 0 FROM jsonb_array_elements(s->'models') e JOIN rel ON rel.model = e->>'model'
					WHERE (e->>'first_seen')::timestamptz < rel.released_at + make_interval(hours => %5$s))::int) AS pivot,
			   (SELECT jsonb_agg(DISTINCT rel.model) FROM rel) AS released
		FROM m GROUP BY 1),
	sig AS (
		SELECT a.*, ps.cohesion, ps.same_org,
			   jsonb_build_object(
				'shared_infrastructure', ps.infra,
				'elicitation', least(1, chain_of_thought + rubric_grading + tool_use + code + safe_rewrite),
				'pivot', a.pivot,
				'synchrony', ps.sync,
				'cohesion', ps.cohesion,
				'size', least(1, ln(a.n) / ln(%6$s)),
				'volume', least(1, a.requests / nullif(total.requests, 0) / %7$s)) AS v
		FROM a JOIN ps USING (cluster), total),
	-- each signal's weight and contribution, the list and the weighted mean in one pass
	scored AS (
		SELECT sig.*, (1 - sig.same_org) AS org_factor, x.signals, x.base
		FROM sig, LATERAL (
			SELECT jsonb_agg(jsonb_build_object('signal', k, 'value', round(val::numeric, 4),
						'weight', wt, 'contribution', round((wt * val / %9$s)::numeric, 4),
						'fired', val >= %10$s) ORDER BY wt * val DESC, k) AS signals,
				   sum(wt * val) / %9$s AS base
			FROM jsonb_each_text(sig.v) e(k, raw),
				 LATERAL (SELECT coalesce(raw::float8, 0) AS val, (%8$L::jsonb->>k)::float8 AS wt) c) x)
	SELECT cluster, n, base * org_factor, base * org_factor >= %11$s,
		   jsonb_build_object(
			'score', round((base * org_factor)::numeric, 4),
			'fired', (SELECT coalesce(jsonb_agg(x->'signal'), '[]') FROM jsonb_array_elements(signals) x
					  WHERE (x->>'fired')::boolean),
			'signals', signals,
			'hard_negative', jsonb_build_object('same_org_pair_share', round(same_org::numeric, 4),
												'factor', round(org_factor::numeric, 4)),
			'accounts', n, 'orgs', orgs, 'requests', requests,
			'intent_rates', jsonb_build_object('chain_of_thought', round(chain_of_thought::numeric, 4),
				'rubric_grading', round(rubric_grading::numeric, 4), 'tool_use', round(tool_use::numeric, 4),
				'code', round(code::numeric, 4), 'safe_rewrite', round(safe_rewrite::numeric, 4)),
			'released_models', coalesce(released, '[]'))
	FROM scored
	$q$, clusters, fingerprints, rel, (s->>'sample_pairs')::int, (s->>'pivot_hours')::float8,
		greatest((s->>'size_full')::float8, 2), (s->>'volume_full')::float8, w, wsum,
		(s->>'fire_at')::float8, (s->>'flag_at')::float8);
END $$;
COMMENT ON FUNCTION @extschema@.lockstep_score_clusters(text, text, text, jsonb) IS
	'a score in [0, 1] and a jsonb explanation per cluster, from queries of (account_id, cluster) and (account_id, org_id, fp), with an optional (model, released_at) release query';

CREATE FUNCTION @extschema@.lockstep_score_accounts(clusters text, campaigns text, settings jsonb DEFAULT NULL,
	OUT account_id bigint, OUT cluster bigint, OUT score double precision, OUT flagged boolean,
	OUT evidence jsonb)
	RETURNS SETOF record
	LANGUAGE plpgsql VOLATILE PARALLEL RESTRICTED
	AS $$
DECLARE
	s jsonb := @extschema@.lockstep_settings(settings);
BEGIN
	IF clusters IS NULL OR campaigns IS NULL THEN
		RAISE EXCEPTION 'the clusters and campaigns queries must not be NULL'
			USING ERRCODE = 'null_value_not_allowed';
	END IF;
	RETURN QUERY EXECUTE format($q$
	SELECT c.account_id, c.cluster, x.score, x.score >= %3$s,
		   jsonb_build_object('cluster', c.cluster, 'cluster_score', round(k.score::numeric, 4),
			'membership', CASE WHEN c.core THEN 'core' ELSE 'attached' END,
			'similarity_to_core', round(c.similarity::numeric, 4),
			'cluster_signals', k.evidence->'fired')
	FROM (SELECT account_id::bigint AS account_id, cluster::bigint AS cluster, core, similarity FROM (%1$s) c0) c
	JOIN (SELECT cluster::bigint AS cluster, score, evidence FROM (%2$s) k0) k USING (cluster),
	LATERAL (SELECT k.score * CASE WHEN c.core THEN 1 ELSE least(1, c.similarity / %4$s) END AS score) x
	$q$, clusters, campaigns, (s->>'flag_at')::float8, greatest((s->>'core_threshold')::float8, 1e-9));
END $$;
COMMENT ON FUNCTION @extschema@.lockstep_score_accounts(text, text, jsonb) IS
	'a score per clustered account: its cluster''s score, discounted for accounts attached below the core threshold';

-- The pipeline -------------------------------------------------------------

CREATE FUNCTION @extschema@.lockstep_create_pipeline(name text, log regclass,
	window_days integer DEFAULT 28, releases regclass DEFAULT NULL, settings jsonb DEFAULT NULL)
	RETURNS text
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	AS $$
DECLARE
	cols text := '';
	missing text;
	col record;
BEGIN
	IF name IS NULL OR name !~ '^[a-z_][a-z0-9_]{0,40}$' THEN
		RAISE EXCEPTION 'pipeline name must be a lower-case identifier of at most 41 characters'
			USING ERRCODE = 'invalid_parameter_value', DETAIL = format('The name was %L.', name);
	END IF;
	IF log IS NULL OR window_days IS NULL OR window_days < 1 THEN
		RAISE EXCEPTION 'a log table and a positive window_days are needed'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	PERFORM @extschema@.lockstep_settings(settings);
	SELECT string_agg(c, ', ') INTO missing
	FROM unnest(ARRAY['account_id', 'ts']) c
	WHERE NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = log AND attname = c
					  AND attnum > 0 AND NOT attisdropped);
	IF missing IS NOT NULL THEN
		RAISE EXCEPTION 'the log % has no column %', log, missing USING ERRCODE = 'undefined_column',
			HINT = 'A view can rename the columns of your log to account_id, ts, prompt, client_ip, user_agent, payment, model, tokens_in, tokens_out and org_id.';
	END IF;
	-- the fingerprint_agg arguments: the log's columns, NULL where it has none
	FOR col IN SELECT c.name, c.type, a.attname IS NOT NULL AS present
			   FROM (VALUES (1, 'ts', 'timestamptz'), (2, 'prompt', 'text'), (3, 'client_ip', 'inet'),
							(4, 'user_agent', 'text'), (5, 'payment', 'text'), (6, 'model', 'text'),
							(7, 'tokens_in', 'integer'), (8, 'tokens_out', 'integer'), (9, 'org_id', 'bigint'))
					AS c(i, name, type)
			   LEFT JOIN pg_attribute a ON a.attrelid = log AND a.attname = c.name AND a.attnum > 0
										AND NOT a.attisdropped
			   ORDER BY c.i
	LOOP
		cols := cols || CASE WHEN cols = '' THEN '' ELSE ', ' END ||
				CASE WHEN col.present THEN format('%I::%s', col.name, col.type)
					 ELSE format('NULL::%s', col.type) END;
	END LOOP;

	EXECUTE format('CREATE TABLE %I (log regclass NOT NULL, columns text NOT NULL, window_days integer NOT NULL,
					releases regclass, settings jsonb NOT NULL)', name || '_config');
	EXECUTE format('INSERT INTO %I VALUES ($1, $2, $3, $4, $5)', name || '_config')
		USING log, cols, window_days, releases, coalesce(settings, '{}');
	EXECUTE format('COMMENT ON TABLE %I IS %L', name || '_config',
		'lockstep pipeline settings: UPDATE settings (keys of lockstep_default_settings()), then CALL lockstep_refresh(' || quote_literal(name) || ')');
	EXECUTE format('CREATE TABLE %I (day date NOT NULL, account_id bigint NOT NULL, org_id bigint,
					fp @extschema@.fingerprint NOT NULL, PRIMARY KEY (day, account_id))', name || '_daily');
	EXECUTE format('COMMENT ON TABLE %I IS %L', name || '_daily',
		'one fingerprint per account and UTC day; lockstep_refresh adds the new days');
	EXECUTE format($q$CREATE MATERIALIZED VIEW %1$I AS
		SELECT account_id, max(org_id) AS org_id, @extschema@.fingerprint_union_agg(fp) AS fp
		FROM %2$I
		WHERE day > (SELECT day FROM %2$I ORDER BY day DESC LIMIT 1) - (SELECT window_days FROM %3$I)
		GROUP BY account_id WITH NO DATA$q$, name || '_window', name || '_daily', name || '_config');
	EXECUTE format($q$CREATE MATERIALIZED VIEW %1$I AS
		SELECT c.* FROM %2$I s,
		LATERAL (SELECT @extschema@.lockstep_settings(s.settings) AS v) v,
		LATERAL @extschema@.fingerprint_clusters(%3$L, (v->>'threshold')::float8,
			(v->>'core_threshold')::float8, (v->>'min_size')::int,
			max_bucket => (v->>'max_bucket')::int) c WITH NO DATA$q$,
		name || '_clusters', name || '_config', format('SELECT account_id, fp FROM %I', name || '_window'));
	EXECUTE format($q$CREATE MATERIALIZED VIEW %1$I AS
		SELECT k.* FROM %2$I s,
		LATERAL @extschema@.lockstep_score_clusters(%3$L, %4$L,
			'SELECT model, released_at FROM ' || s.releases::text, s.settings) k WITH NO DATA$q$,
		name || '_campaigns', name || '_config',
		format('SELECT account_id, cluster FROM %I', name || '_clusters'),
		format('SELECT account_id, org_id, fp FROM %I', name || '_window'));
	EXECUTE format($q$CREATE MATERIALIZED VIEW %1$I AS
		SELECT a.* FROM %2$I s,
		LATERAL @extschema@.lockstep_score_accounts(%3$L, %4$L, s.settings) a WITH NO DATA$q$,
		name || '_accounts', name || '_config',
		format('SELECT account_id, cluster, core, similarity FROM %I', name || '_clusters'),
		format('SELECT cluster, score, evidence FROM %I', name || '_campaigns'));
	EXECUTE format('CREATE UNIQUE INDEX ON %I (account_id)', name || '_window');
	EXECUTE format('CREATE UNIQUE INDEX ON %I (account_id)', name || '_clusters');
	EXECUTE format('CREATE UNIQUE INDEX ON %I (cluster)', name || '_campaigns');
	EXECUTE format('CREATE UNIQUE INDEX ON %I (account_id)', name || '_accounts');
	EXECUTE format('COMMENT ON MATERIALIZED VIEW %I IS %L', name || '_window',
		'one fingerprint per account over the last window_days days of ' || name || '_daily');
	EXECUTE format('COMMENT ON MATERIALIZED VIEW %I IS %L', name || '_clusters',
		'fingerprint_clusters over ' || name || '_window');
	EXECUTE format('COMMENT ON MATERIALIZED VIEW %I IS %L', name || '_campaigns',
		'lockstep_score_clusters: one scored, explained row per cluster');
	EXECUTE format('COMMENT ON MATERIALIZED VIEW %I IS %L', name || '_accounts',
		'lockstep_score_accounts: one scored row per clustered account');
	RETURN format('CALL lockstep_refresh(%L)', name);
END $$;
COMMENT ON FUNCTION @extschema@.lockstep_create_pipeline(text, regclass, integer, regclass, jsonb) IS
	'create the tables and materialized views of a detection pipeline over a log table; returns the statement that refreshes it';

CREATE PROCEDURE @extschema@.lockstep_refresh(name text, through date DEFAULT NULL)
	LANGUAGE plpgsql
	AS $$
DECLARE
	cfg record;
	first_day date;
	last_day date;
	day date;
	how text;
	view text;
	started timestamptz := clock_timestamp();
BEGIN
	IF name IS NULL OR to_regclass(quote_ident(name || '_config')) IS NULL THEN
		RAISE EXCEPTION 'no lockstep pipeline named %', coalesce(name, 'NULL')
			USING ERRCODE = 'undefined_object', HINT = 'lockstep_create_pipeline makes one.';
	END IF;
	EXECUTE format('SELECT * FROM %I', name || '_config') INTO cfg;
	-- the new complete UTC days only: the past is never recomputed
	EXECUTE format('SELECT max(day) + 1 FROM %I', name || '_daily') INTO first_day;
	EXECUTE format('SELECT min((ts AT TIME ZONE ''UTC'')::date), max((ts AT TIME ZONE ''UTC'')::date)
					FROM %s WHERE $1 IS NULL OR ts >= $1::timestamp AT TIME ZONE ''UTC''', cfg.log)
		INTO first_day, last_day USING first_day;
	last_day := least(last_day, coalesce(through, (now() AT TIME ZONE 'UTC')::date - 1));
	-- a day at a time: a day's accounts fit in memory, and a ts index or BRIN finds the day
	FOR day IN SELECT d::date FROM generate_series(first_day, last_day, interval '1 day') d
	LOOP
		EXECUTE format($q$INSERT INTO %I
			SELECT $1, account_id, max(org_id),
				   @extschema@.fingerprint_agg(ts, prompt, client_ip, user_agent, payment, model, tokens_in, tokens_out)
			FROM (SELECT account_id::bigint, %s FROM %s
				  WHERE ts >= $1::timestamp AT TIME ZONE 'UTC' AND ts < ($1 + 1)::timestamp AT TIME ZONE 'UTC')
				 AS l(account_id, ts, prompt, client_ip, user_agent, payment, model, tokens_in, tokens_out, org_id)
			GROUP BY account_id$q$, name || '_daily', cfg.columns, cfg.log)
			USING day;
	END LOOP;
	-- CONCURRENTLY needs a populated view: the first refresh is a plain one
	SELECT CASE WHEN relispopulated THEN 'CONCURRENTLY ' ELSE '' END INTO how
	FROM pg_class WHERE oid = to_regclass(quote_ident(name || '_window'));
	IF first_day <= last_day THEN
		EXECUTE format('ANALYZE %I', name || '_daily');	-- a hash plan for the window
	END IF;
	RAISE DEBUG 'lockstep_refresh(%): days % to % added in % s', name, first_day, last_day,
		round(extract(epoch FROM clock_timestamp() - started)::numeric, 2);
	FOREACH view IN ARRAY ARRAY['window', 'clusters', 'campaigns', 'accounts']
	LOOP
		started := clock_timestamp();
		EXECUTE format('REFRESH MATERIALIZED VIEW %s%I', how, name || '_' || view);
		RAISE DEBUG 'lockstep_refresh(%): %_% refreshed in % s', name, name, view,
			round(extract(epoch FROM clock_timestamp() - started)::numeric, 2);
	END LOOP;
END $$;
COMMENT ON PROCEDURE @extschema@.lockstep_refresh(text, date) IS
	'add the log''s new complete days to a pipeline''s daily fingerprints, then refresh its views (concurrently once populated)';
