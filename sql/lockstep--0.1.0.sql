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
	bands integer DEFAULT 16, rows integer DEFAULT 2, max_bucket integer DEFAULT 5000,
	OUT a bigint, OUT b bigint, OUT similarity double precision)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.fingerprint_similar_pairs(text, double precision, integer, integer, integer) IS
	'all pairs of (id, fingerprint) rows of a query whose similarity reaches threshold, through LSH buckets, never all pairs';

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
