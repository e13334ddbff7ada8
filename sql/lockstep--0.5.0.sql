-- lockstep 0.5.0: behavioural fingerprints of API accounts (built from sql/*.sql)

\echo Use "CREATE EXTENSION lockstep" to load this file. \quit

-- lockstep: the fingerprint type, its aggregates and the prompt analysis exposed to analysts.
-- Part of the install script that the Makefile assembles (see sql/README).

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

CREATE FUNCTION @extschema@.fingerprint_stats(@extschema@.fingerprint,
	OUT requests bigint, OUT prompts bigint, OUT first_seen timestamptz, OUT last_seen timestamptz,
	OUT active_buckets double precision, OUT active_days double precision) RETURNS record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fingerprint_stats(@extschema@.fingerprint) IS
	'the numbers scoring reads, typed: requests, prompts, first and last seen (NULL without timestamps), active 15-minute buckets and active days (estimates past their sketches)';

CREATE FUNCTION @extschema@.fingerprint_volume(@extschema@.fingerprint,
	OUT requests bigint, OUT tokens_in bigint, OUT tokens_out bigint, OUT prompt_bytes bigint) RETURNS record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fingerprint_volume(@extschema@.fingerprint) IS
	'the volume counters, typed: requests, tokens in, tokens out, prompt bytes';

CREATE FUNCTION @extschema@.fingerprint_infrastructure_keys(@extschema@.fingerprint,
	OUT kind text, OUT key bigint) RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 32;
COMMENT ON FUNCTION @extschema@.fingerprint_infrastructure_keys(@extschema@.fingerprint) IS
	'the hashes in the infrastructure sketches (kind network, user_agent or payment): every value while an account has at most 16 networks, 8 agents, 8 payment instruments, else the smallest hashes';

CREATE FUNCTION @extschema@.fingerprint_scaffold_keys(@extschema@.fingerprint,
	OUT key bigint, OUT count bigint) RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 48;
COMMENT ON FUNCTION @extschema@.fingerprint_scaffold_keys(@extschema@.fingerprint) IS
	'the scaffold keys of the content channel, each with the prompts that gave it: every key while an account has at most 48, else the smallest; prompt_scaffold_keys(prompt) gives one prompt''s';

CREATE FUNCTION @extschema@.lockstep_infrastructure_key(kind text, value text) RETURNS bigint
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.lockstep_infrastructure_key(text, text) IS
	'the key that fingerprint_infrastructure_keys reports for a value of kind network (an address), user_agent or payment: to find in the log the values behind a key';

CREATE FUNCTION @extschema@.fingerprint_intents(@extschema@.fingerprint,
	OUT intent text, OUT count bigint, OUT rate double precision) RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 6;
COMMENT ON FUNCTION @extschema@.fingerprint_intents(@extschema@.fingerprint) IS
	'each intent of the lexicon with its prompt count and rate per prompt';

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
	'the scaffold keys of a fingerprint''s sample (the 48 smallest) with their exact counts; error_bound is always 0 since format version 2';

CREATE FUNCTION @extschema@.fingerprint_models(@extschema@.fingerprint,
	OUT model text, OUT model_hash bigint, OUT requests bigint, OUT first_seen timestamptz) RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fingerprint_models(@extschema@.fingerprint) IS
	'the models of a fingerprint: name (its first 23 bytes, ASCII), model_hash (the identity of the whole name, see lockstep_model_hash), requests, first use';

CREATE FUNCTION @extschema@.lockstep_model_hash(model text) RETURNS bigint
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.lockstep_model_hash(text) IS
	'the identity of a model name in fingerprint_models: a hash of the whole name, however long';

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

CREATE FUNCTION @extschema@.fingerprint_similarity_detail(@extschema@.fingerprint, @extschema@.fingerprint)
	RETURNS jsonb
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fingerprint_similarity_detail(@extschema@.fingerprint, @extschema@.fingerprint) IS
	'the combined similarity, its two families (work, operator) and every channel''s (null: undefined)';

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

-- The clusters of a relation of (account_id, fp), in two passes.
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

	-- a big group that joined no cluster of pass 1 takes the label of its
	-- cluster among the big groups (the smallest group of it, which may be
	-- one that joined a cluster of pass 1: then it joins that one), or is
	-- its own.  (Each query text fingerprint_clusters reads works out the
	-- groups again: it cannot see this query's.)
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
			WHERE NOT EXISTS (SELECT 1 FROM c WHERE c.grp = m.grp))
		SELECT coalesce(g.account_id, x.grp), x.cluster, x.core, x.similarity
		FROM (TABLE c UNION ALL TABLE big) x LEFT JOIN g USING (grp)$q$,
		grouped, merged, big,
		(s->>'threshold')::float8, (s->>'core_threshold')::float8, min_size, lsh);
END $$;
COMMENT ON FUNCTION @extschema@.lockstep_cluster_accounts(regclass, jsonb) IS
	'clusters of a relation of (account_id, fp) with a pipeline''s settings: fingerprint_clusters over the accounts, the thin ones (active on at most thin_days days) that share a payment instrument merged as one; the big merged groups also clustered among themselves';

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

-- lockstep: settings, and the campaign and account scores with their evidence.
-- Part of the install script and of the upgrade to it (see sql/README).

-- Scoring --------------------------------------------------------------------

CREATE FUNCTION @extschema@.lockstep_default_settings() RETURNS jsonb
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$ SELECT '{
		"weights": {"shared_infrastructure": 0.15, "elicitation": 0.20, "pivot": 0.15,
		            "synchrony": 0.15, "cohesion": 0.15, "size": 0.10, "volume": 0.05,
		            "uniformity": 0.10, "output": 0.15},
		"size_full": 100,
		"volume_full": 0.01,
		"pivot_hours": 24,
		"sample_pairs": 100,
		"background_pairs": 1000,
		"fire_at": 0.25,
		"flag_at": 0.5,
		"backfill_days": 90,
		"late_days": 3,
		"thin_days": 3,
		"min_requests": 3
	}'::jsonb || @extschema@.lockstep_cluster_defaults() $$;
COMMENT ON FUNCTION @extschema@.lockstep_default_settings() IS
	'every setting of a pipeline: the weights and thresholds of the campaign and account scores (pivot_hours: the hours after a release in which adopting it counts exp(-1)), the clustering defaults of lockstep_cluster_defaults(), the days a first refresh reads back (backfill_days), the stored days each refresh checks for late rows (late_days) and the active days at most of a thin account, which lockstep_cluster_accounts merges with the thin accounts on its payment instruments (thin_days, 0: none) and the requests below which an account in no such group is left out of the clustering (min_requests); pass a jsonb with the keys to change';

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
				 ('threshold', 0, 1, false), ('core_threshold', 0, 1, false),
				 ('min_size', 1, 1e9, true), ('bands', 1, 64, true), ('rows', 1, 8, true),
				 ('max_bucket', 1, 1e9, true), ('backfill_days', 1, 36600, true),
				 ('late_days', 0, 366, true), ('thin_days', 0, 366, true),
				 ('min_requests', 1, 1e9, true)) r(k, lo, hi, whole)
	WHERE jsonb_typeof(d->r.k) IS DISTINCT FROM 'number'
	   OR NOT (d->>r.k)::numeric BETWEEN r.lo AND r.hi
	   OR (r.whole AND (d->>r.k)::numeric <> trunc((d->>r.k)::numeric));
	IF bad IS NOT NULL THEN
		RAISE EXCEPTION 'settings out of range: %', bad USING ERRCODE = 'invalid_parameter_value';
	END IF;
	-- whole settings as integers, so that readers may cast them to int
	d := d || (SELECT jsonb_object_agg(k, (d->>k)::numeric::bigint)
			   FROM unnest(ARRAY['sample_pairs', 'background_pairs', 'min_size', 'bands', 'rows', 'max_bucket',
								 'backfill_days', 'late_days', 'thin_days', 'min_requests']) k);
	IF (d->>'core_threshold')::float8 < (d->>'threshold')::float8
	   OR (d->>'bands')::int * (d->>'rows')::int > 128 THEN
		RAISE EXCEPTION 'core_threshold must not be below threshold, and bands times rows must be at most 128'
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
			   row_number() OVER (PARTITION BY c.cluster ORDER BY hashint8(c.account_id)) AS r
		FROM (SELECT account_id::bigint AS account_id, cluster::bigint AS cluster FROM %1$s c0) c
		JOIN (SELECT account_id::bigint AS account_id, org_id::bigint AS org_id, fp FROM %2$s f0) f
		  USING (account_id),
			 LATERAL @extschema@.fingerprint_stats(f.fp) st,
			 LATERAL @extschema@.fingerprint_volume(f.fp) vo),
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
	-- campaign's own where its accounts outnumber the rest, as a hydra's do.)
	b AS (
		SELECT s.*, row_number() OVER (ORDER BY s.h, s.account_id) AS r
		FROM (SELECT account_id::bigint AS account_id, org_id::bigint AS org_id, fp,
					 hashint8(account_id::bigint) AS h
			  FROM %2$s f0
			  WHERE NOT EXISTS (SELECT 1 FROM %1$s c0 WHERE c0.account_id::bigint = f0.account_id::bigint)
			  ORDER BY 4, 1 LIMIT %11$s + 1) s),
	-- a sample of pairs of each cluster, each member with the next in a hash
	-- order; and the background's pairs, under a NULL cluster
	pairs AS (
		SELECT x.cluster, x.fp AS xf, y.fp AS yf, coalesce(x.org_id = y.org_id, false) AS same_org
		FROM m x JOIN m y ON y.cluster = x.cluster AND y.r = x.r + 1
		WHERE x.r <= %4$s
		UNION ALL
		SELECT NULL, x.fp, y.fp, coalesce(x.org_id = y.org_id, false)
		FROM b x JOIN b y ON y.r = x.r + 1),
	p AS (
		SELECT cluster,
			   @extschema@.fingerprint_similarity(xf, yf) AS sim,
			   @extschema@.fingerprint_infrastructure_similarity(xf, yf) AS infra,
			   -- two accounts that were never active at the same time (a hydra's
			   -- successive ones) say nothing of synchrony
			   CASE WHEN xs.first_seen <= ys.last_seen AND ys.first_seen <= xs.last_seen
					THEN @extschema@.fingerprint_coactivity_similarity(xf, yf) END AS coact,
			   @extschema@.fingerprint_calendar_similarity(xf, yf) AS calendar,
			   same_org
		FROM pairs, LATERAL @extschema@.fingerprint_stats(xf) xs, LATERAL @extschema@.fingerprint_stats(yf) ys),
	ps AS (
		SELECT p.cluster, count(*) AS n_pairs, avg(sim) AS cohesion, stddev_pop(sim) AS cohesion_sd,
			   coalesce(avg(infra) FILTER (WHERE NOT same_org), 0) AS infra,
			   -- activity shared beyond chance (both channels judge it against
			   -- each account's own rhythm): the same 15-minute windows, or days;
			   -- over the pairs whose times can tell (accounts that never
			   -- overlap, as a hydra's successive ones, say nothing of it)
			   avg(greatest(calendar, coact)) AS sync,
			   avg(same_org::int) AS same_org
		FROM p GROUP BY 1),
	-- one row even without a background (every account clustered): its
	-- levels are then unknown, and each signal counts as it stands
	bg AS (SELECT p0.*, o.output FROM (SELECT 1) one LEFT JOIN ps p0 ON p0.cluster IS NULL,
		   -- the output per request of the background's median account
		   (SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY vo.tokens_out::float8 / vo.requests) AS output
			FROM b, LATERAL @extschema@.fingerprint_volume(b.fp) vo WHERE vo.requests > 0) o),
	a AS (
		SELECT m.cluster, count(*)::int AS n,
			   count(DISTINCT m.org_id) AS orgs,
			   sum(m.requests)::float8 AS requests,
			   -- similar volumes: 1 - the coefficient of variation, 0 past 1
			   greatest(0, 1 - coalesce(stddev_pop(m.requests::float8)
						/ nullif(avg(m.requests::float8), 0), 1)) AS uniformity,
			   -- graded: adopting a release h hours after it counts exp(-h / pivot_hours),
			   -- over the members that were there before the release and after
			   -- it (an account born later or gone before says nothing of the
			   -- pivot, so short-lived accounts hide none); NULL if none was
			   avg(pv.pivot) AS pivot,
			   count(pv.pivot) AS pivot_members,
			   sum(m.tokens_out)::float8 / nullif(sum(m.requests), 0) AS output,
			   (SELECT jsonb_agg(DISTINCT rel.model) FROM rel) AS released
		FROM m LEFT JOIN LATERAL (
			SELECT coalesce(max(exp(-greatest(0, extract(epoch FROM fm.first_seen - rel.released_at) / 3600)
									/ %5$s)), 0) AS pivot
			FROM rel LEFT JOIN @extschema@.fingerprint_models(m.fp) fm USING (model_hash)
			WHERE rel.released_at > m.first_seen AND rel.released_at <= m.last_seen
			HAVING count(*) > 0) pv ON true
		GROUP BY 1),
	-- each intent's mean rate, over the intents the fingerprint names (lexicon.c)
	intents AS (
		SELECT cluster, jsonb_object_agg(intent, round(rate::numeric, 4)) AS rates,
			   least(1, sum(rate)) AS elicitation
		FROM (SELECT m.cluster, i.intent, avg(i.rate) AS rate
			  FROM m, LATERAL @extschema@.fingerprint_intents(m.fp) i GROUP BY 1, 2) r
		GROUP BY 1),
	-- what the cluster's pairs share beyond what the background's do:
	-- (v - b) / (1 - b), 0 at or below the background
	sig AS (
		SELECT a.*, ps.cohesion, ps.same_org, intents.rates AS intent_rates,
			   jsonb_build_object('pairs', bg.n_pairs,
				'output_per_request', round(bg.output::numeric, 1),
				'cohesion', round(bg.cohesion::numeric, 4), 'synchrony', round(bg.sync::numeric, 4),
				'shared_infrastructure', round(bg.infra::numeric, 4),
				-- the cluster's mean similarity in standard errors of a mean of as
				-- many background pairs
				'cohesion_z', round(((ps.cohesion - bg.cohesion)
					/ nullif(bg.cohesion_sd / sqrt(ps.n_pairs), 0))::numeric, 1)) AS background,
			   jsonb_build_object(
				'shared_infrastructure', @extschema@.lockstep_excess(ps.infra, bg.infra),
				'elicitation', intents.elicitation,
				'pivot', coalesce(a.pivot, 0),
				'synchrony', CASE WHEN ps.sync IS NOT NULL THEN @extschema@.lockstep_excess(ps.sync, bg.sync) END,
				'cohesion', @extschema@.lockstep_excess(ps.cohesion, bg.cohesion),
				'size', least(1, ln(a.n) / ln(%6$s)),
				'volume', least(1, a.requests / nullif(total.requests, 0) / %7$s),
				'uniformity', a.uniformity,
				-- long answers: how far the output per request goes beyond the
				-- background's median account, as a share of the cluster's
				'output', greatest(0, 1 - bg.output / nullif(a.output, 0))) AS v
		FROM a JOIN ps USING (cluster) JOIN intents USING (cluster), total, bg),
	-- each signal's value, weight, and whether it counts: a trace (shared
	-- infrastructure, the pivot, uniform volume) that did not fire is left
	-- out of the mean, since it is cheap to avoid and its absence clears no
	-- one.  An organization is context, not a pass: what one company's
	-- tooling shares (networks and cards, scaffolds, hours) is explained by
	-- it, so those signals weigh in only for the pairs of different
	-- organizations; what it does not explain (elicitation, the pivot, long
	-- output, uniform volume, size) weighs in whole.
	sv AS (
		SELECT sig.cluster, e.k, c.val,
			   c.wt * CASE WHEN e.k IN ('shared_infrastructure', 'cohesion', 'synchrony')
						   THEN 1 - sig.same_org ELSE 1 END AS wt,
			   (raw IS NOT NULL AND (e.k NOT IN ('shared_infrastructure', 'pivot', 'uniformity') OR c.val >= %9$s))::int
				 AS counted
		FROM sig, jsonb_each_text(sig.v) e(k, raw),
			 LATERAL (SELECT coalesce(raw::float8, 0) AS val, (%8$L::jsonb->>k)::float8 AS wt) c),
	den AS (SELECT cluster, greatest(sum(counted * wt), 1e-12) AS w FROM sv GROUP BY 1),
	-- each signal's contribution, the list and the weighted mean in one pass
	scored AS (
		SELECT sig.*, x.signals, x.base
		FROM sig JOIN den USING (cluster), LATERAL (
			SELECT jsonb_agg(jsonb_build_object('signal', sv.k, 'value', round(sv.val::numeric, 4),
						'weight', round(sv.wt::numeric, 4), 'counted', sv.counted = 1,
						'contribution', round((sv.counted * sv.wt * sv.val / den.w)::numeric, 4),
						'fired', sv.val >= %9$s) ORDER BY sv.counted * sv.wt * sv.val DESC, sv.k) AS signals,
				   sum(sv.counted * sv.wt * sv.val) / den.w AS base
			FROM sv WHERE sv.cluster = sig.cluster) x)
	SELECT cluster, n, base, base >= %10$s,
		   jsonb_build_object(
			'score', round(base::numeric, 4),
			-- the distance from the line: a flag 0.01 above it is a coin toss
			'margin', round((base - %10$s)::numeric, 4),
			'fired', (SELECT coalesce(jsonb_agg(x->'signal'), '[]') FROM jsonb_array_elements(signals) x
					  WHERE (x->>'fired')::boolean),
			'signals', signals,
			'organization', jsonb_build_object('same_org_pair_share', round(same_org::numeric, 4),
				'orgs', orgs,
				'route', CASE WHEN same_org >= 0.5 THEN 'account management: the accounts are seats of '
								   || CASE WHEN orgs = 1 THEN 'one organization' ELSE 'a few organizations' END
							  ELSE 'fraud' END,
				'discounted', jsonb_build_array('shared_infrastructure', 'cohesion', 'synchrony')),
			'pivot_members', pivot_members,
			'background', background,
			'accounts', n, 'orgs', orgs, 'requests', requests,
			'intent_rates', intent_rates,
			'released_models', coalesce(released, '[]'))
	FROM scored
	$q$, clusters, fingerprints, rel, (s->>'sample_pairs')::int, greatest((s->>'pivot_hours')::float8, 1e-3),
		greatest((s->>'size_full')::float8, 2), (s->>'volume_full')::float8, w,
		(s->>'fire_at')::float8, (s->>'flag_at')::float8, (s->>'background_pairs')::int);
END $$;
COMMENT ON FUNCTION @extschema@.lockstep_score_clusters(regclass, regclass, regclass, jsonb) IS
	'a score in [0, 1], its margin above flag_at and a jsonb explanation per cluster, from relations (tables or views) of (account_id, cluster) and (account_id, org_id, fp), with an optional (model, released_at) release table; an organization discounts the signals it explains (shared infrastructure, cohesion, synchrony), never the score';

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

-- lockstep: the row types of a pipeline's tables.
-- Part of the install script (see sql/README); an update that changes one
-- says so in its own steps, since types cannot be created twice.

CREATE TYPE @extschema@.lockstep_pipeline_config AS (
	window_days integer,
	settings jsonb
);
COMMENT ON TYPE @extschema@.lockstep_pipeline_config IS
	'row type of a pipeline''s N_config table: the window in days and the settings (keys of lockstep_default_settings())';

CREATE TYPE @extschema@.lockstep_pipeline_day AS (
	day date,
	rows bigint,
	skipped bigint,
	computed_at timestamptz
);
COMMENT ON TYPE @extschema@.lockstep_pipeline_day IS
	'row type of a pipeline''s N_days table: per stored UTC day, the log rows counted and those skipped (no account_id) when its fingerprints were computed (NULL: not counted, a day stored by 0.1.0)';

CREATE TYPE @extschema@.lockstep_daily_fingerprint AS (
	day date,
	account_id bigint,
	org_id bigint,
	fp @extschema@.fingerprint
);
COMMENT ON TYPE @extschema@.lockstep_daily_fingerprint IS
	'row type of a pipeline''s N_daily table: one fingerprint per account and UTC day';

CREATE TYPE @extschema@.lockstep_pipeline_refresh AS (
	started_at timestamptz,
	finished_at timestamptz,
	first_day date,
	last_day date,
	days_added integer,
	days_recomputed integer,
	rows_read bigint,
	rows_skipped bigint,
	rows_before_range bigint,
	stage_seconds jsonb,
	clustering_bytes bigint
);
COMMENT ON TYPE @extschema@.lockstep_pipeline_refresh IS
	'row type of a pipeline''s N_refreshes table: the days a refresh read, how many it added and recomputed (late rows), the rows it read, skipped (no account_id) and left before its range (older than backfill_days), the seconds of each stage and the most memory its clustering charged';

CREATE TYPE @extschema@.lockstep_campaign_history AS (
	refreshed_at timestamptz,
	last_day date,
	campaign bigint,
	cluster bigint,
	accounts integer,
	score double precision,
	fired text[],
	signals jsonb,
	status text,
	parents bigint[],
	first_seen timestamptz
);
COMMENT ON TYPE @extschema@.lockstep_campaign_history IS
	'row type of a pipeline''s N_history table: per refresh, each flagged campaign with its stable id (matched to the previous refresh''s by members), this refresh''s cluster, size, score, signals, status (new, continued, merged, split), the earlier campaigns it took members from, and when it was first seen';

CREATE TYPE @extschema@.lockstep_campaign_member AS (
	campaign bigint,
	account_id bigint
);
COMMENT ON TYPE @extschema@.lockstep_campaign_member IS
	'row type of a pipeline''s N_members table: the accounts of each flagged campaign at the last refresh';

-- lockstep: the detection pipeline, its tables and views, its refresh.
-- Part of the install script and of the update to it (see sql/README).
--
-- A pipeline named N is fourteen objects in the schema it was created in:
--   N_config     one row: the window and the settings (typed, no SQL text)
--   N_days       one row per stored UTC day: rows read, rows skipped
--   N_daily      one fingerprint per account and UTC day
--   N_refreshes  one row per refresh: what it added, recomputed, skipped
--   N_window     materialized: the last window_days days merged per account
--   N_clusters   materialized: lockstep_cluster_accounts over N_window
--   N_campaigns  materialized: lockstep_score_clusters, one row per cluster
--   N_accounts   materialized: lockstep_score_accounts, one row per account
-- and the analyst's desk (lockstep_create_pipeline_desk):
--   N_history    per refresh, each flagged campaign under its stable id
--   N_members    the accounts of each flagged campaign, last refresh
--   N_timeline   materialized: per campaign and day, for a chart
--   N_shared     materialized: per campaign, the keys its members share
--   N_changes    view: what changed between the last two refreshes
--   N_health     view: per refresh, its stages, rows and memory
-- The views name the relations they read as regclass constants, and
-- constraints on N_config name the log (pipeline_log) and every part
-- (pipeline_objects), so PostgreSQL records every dependency: no part and
-- not the log can be dropped alone, pg_dump restores them in order,
-- lockstep_drop_pipeline knows what to remove, and DROP EXTENSION lockstep
-- CASCADE removes the typed tables with their types.  Only the owner can
-- change a constraint; a role that may UPDATE N_config changes numbers.
--
-- Every function here runs with search_path = pg_catalog, pg_temp (the
-- refresh sets it for each of its transactions) and names the extension's
-- objects with its schema and the user's relations by regclass.

-- The pipeline -------------------------------------------------------------

-- The config table of pipeline name ("N" or "schema.N"): a table of type
-- lockstep_pipeline_config named N_config, found as PostgreSQL finds a
-- relation: in the schema named, or the first schema of the caller's
-- search path that has one (the caller's own temporary schema first, no
-- other session's).  No SET search_path here, so that current_schemas is
-- the caller's: every name and operator is written with its schema.
CREATE FUNCTION @extschema@.lockstep_pipeline_config(name text) RETURNS regclass
	LANGUAGE plpgsql STABLE PARALLEL SAFE
	AS $$
DECLARE
	ident text[];
	found regclass;
BEGIN
	IF name IS NULL THEN
		RETURN NULL;
	END IF;
	ident := pg_catalog.parse_ident(name);
	IF pg_catalog.cardinality(ident) OPERATOR(pg_catalog.>) 2 THEN
		RAISE EXCEPTION 'a pipeline name is N or schema.N, not %', name USING ERRCODE = 'invalid_parameter_value';
	END IF;
	SELECT c.oid::pg_catalog.regclass INTO found
	FROM pg_catalog.unnest(CASE WHEN pg_catalog.cardinality(ident) OPERATOR(pg_catalog.=) 1
								THEN pg_catalog.current_schemas(true)
								ELSE ARRAY[ident[1]]::pg_catalog.name[] END) WITH ORDINALITY AS s(nsp, ord)
	JOIN pg_catalog.pg_namespace n ON n.nspname OPERATOR(pg_catalog.=) s.nsp
	JOIN pg_catalog.pg_class c ON c.relnamespace OPERATOR(pg_catalog.=) n.oid
	WHERE c.reloftype OPERATOR(pg_catalog.=) '@extschema@.lockstep_pipeline_config'::pg_catalog.regtype
	  AND c.relname OPERATOR(pg_catalog.=)
		  (ident[pg_catalog.cardinality(ident)] OPERATOR(pg_catalog.||) '_config')::pg_catalog.name
	ORDER BY s.ord LIMIT 1;
	RETURN found;
END $$;
COMMENT ON FUNCTION @extschema@.lockstep_pipeline_config(text) IS
	'the N_config table of the pipeline N (or schema.N), found through the caller''s search path as a relation is; NULL if there is none';

-- A relation named by a constraint of a pipeline's config table.
CREATE FUNCTION @extschema@.lockstep_pipeline_part(config regclass, constraint_name text) RETURNS regclass[]
	LANGUAGE sql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT array_agg(d.refobjid::regclass ORDER BY d.refobjid)
	FROM pg_constraint k
	JOIN pg_depend d ON d.classid = 'pg_constraint'::regclass AND d.objid = k.oid
					AND d.refclassid = 'pg_class'::regclass AND d.refobjid <> config
	WHERE k.conrelid = config AND k.conname = constraint_name
$$;
COMMENT ON FUNCTION @extschema@.lockstep_pipeline_part(regclass, text) IS
	'internal: the relations a constraint of a pipeline''s config table names (pipeline_log, pipeline_objects)';

-- The schema and the name of the pipeline whose config table is config.
CREATE FUNCTION @extschema@.lockstep_pipeline_name(config regclass, OUT nsp text, OUT name text)
	LANGUAGE sql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
	SELECT n.nspname::text, left(c.relname, -length('_config'))
	FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.oid = config
$$;
COMMENT ON FUNCTION @extschema@.lockstep_pipeline_name(regclass) IS
	'internal: the schema and the name of the pipeline whose config table is config';

-- The materialized views of a pipeline whose tables exist, and the
-- constraint that records them; used by lockstep_create_pipeline and by
-- the update from 0.1.0.
CREATE FUNCTION @extschema@.lockstep_create_pipeline_views(config regclass, releases regclass) RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	nsp text;
	name text;
BEGIN
	SELECT p.nsp, p.name INTO nsp, name FROM @extschema@.lockstep_pipeline_name(config) p;
	-- an account's organization is the one most of its days in the window
	-- name (a day's is the majority of its rows, or none): one row a day
	-- under a business account does not make an account a seat of it.
	-- Worked out only for the accounts that name one at all.
	EXECUTE format($q$CREATE MATERIALIZED VIEW %1$I.%2$I AS
		WITH since AS (
			SELECT (SELECT day FROM %1$I.%3$I ORDER BY day DESC LIMIT 1) - (SELECT window_days FROM %1$I.%4$I) AS day),
		o AS (
			SELECT DISTINCT ON (account_id) account_id, org_id
			FROM (SELECT d.account_id, d.org_id, count(*) AS n FROM %1$I.%3$I d, since
				  WHERE d.day > since.day
					AND d.account_id IN (SELECT e.account_id FROM %1$I.%3$I e, since
										 WHERE e.day > since.day AND e.org_id IS NOT NULL)
				  GROUP BY 1, 2) x
			ORDER BY account_id, n DESC, org_id NULLS FIRST)
		SELECT w.account_id, o.org_id, w.fp
		FROM (SELECT d.account_id, @extschema@.fingerprint_union_agg(d.fp) AS fp
			  FROM %1$I.%3$I d, since WHERE d.day > since.day GROUP BY d.account_id) w
		LEFT JOIN o USING (account_id) WITH NO DATA$q$, nsp, name || '_window', name || '_daily', name || '_config');
	EXECUTE format($q$CREATE MATERIALIZED VIEW %1$I.%2$I AS
		SELECT c.* FROM %1$I.%3$I s,
		LATERAL @extschema@.lockstep_cluster_accounts(%4$L::pg_catalog.regclass, s.settings) c WITH NO DATA$q$,
		nsp, name || '_clusters', name || '_config', format('%I.%I', nsp, name || '_window'));
	EXECUTE format($q$CREATE MATERIALIZED VIEW %1$I.%2$I AS
		SELECT k.* FROM %1$I.%3$I s,
		LATERAL @extschema@.lockstep_score_clusters(%4$L::pg_catalog.regclass, %5$L::pg_catalog.regclass,
			%6$s, s.settings) k WITH NO DATA$q$,
		nsp, name || '_campaigns', name || '_config', format('%I.%I', nsp, name || '_clusters'),
		format('%I.%I', nsp, name || '_window'),
		CASE WHEN releases IS NULL THEN 'NULL' ELSE format('%L::pg_catalog.regclass', releases::text) END);
	EXECUTE format($q$CREATE MATERIALIZED VIEW %1$I.%2$I AS
		SELECT a.* FROM %1$I.%3$I s,
		LATERAL @extschema@.lockstep_score_accounts(%4$L::pg_catalog.regclass, %5$L::pg_catalog.regclass,
			s.settings) a WITH NO DATA$q$,
		nsp, name || '_accounts', name || '_config', format('%I.%I', nsp, name || '_clusters'),
		format('%I.%I', nsp, name || '_campaigns'));
	EXECUTE format('CREATE UNIQUE INDEX ON %I.%I (account_id)', nsp, name || '_window');
	EXECUTE format('CREATE UNIQUE INDEX ON %I.%I (account_id)', nsp, name || '_clusters');
	EXECUTE format('CREATE UNIQUE INDEX ON %I.%I (cluster)', nsp, name || '_campaigns');
	EXECUTE format('CREATE UNIQUE INDEX ON %I.%I (account_id)', nsp, name || '_accounts');
	EXECUTE format('COMMENT ON MATERIALIZED VIEW %I.%I IS %L', nsp, name || '_window',
		'one fingerprint per account over the last window_days days of ' || name || '_daily');
	EXECUTE format('COMMENT ON MATERIALIZED VIEW %I.%I IS %L', nsp, name || '_clusters',
		'lockstep_cluster_accounts over ' || name || '_window');
	EXECUTE format('COMMENT ON MATERIALIZED VIEW %I.%I IS %L', nsp, name || '_campaigns',
		'lockstep_score_clusters: one scored, explained row per cluster');
	EXECUTE format('COMMENT ON MATERIALIZED VIEW %I.%I IS %L', nsp, name || '_accounts',
		'lockstep_score_accounts: one scored row per clustered account');
END $$;
COMMENT ON FUNCTION @extschema@.lockstep_create_pipeline_views(regclass, regclass) IS
	'internal: the detection views of a pipeline whose tables exist (window, clusters, campaigns, accounts)';

-- The analyst's desk of a pipeline whose detection views exist: the
-- campaign history and its members (tables, appended and replaced by each
-- refresh), the views made for dashboards over them, and what changed
-- since the last refresh.  Every value here is a count, a score or a key:
-- no address, agent, card or prompt (keys are one-way; the log's readers
-- find the values behind one with lockstep_infrastructure_key and
-- prompt_scaffold_keys).
CREATE FUNCTION @extschema@.lockstep_create_pipeline_desk(config regclass) RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	nsp text;
	name text;
BEGIN
	SELECT p.nsp, p.name INTO nsp, name FROM @extschema@.lockstep_pipeline_name(config) p;
	EXECUTE format('CREATE TABLE %I.%I OF @extschema@.lockstep_campaign_history (
					refreshed_at WITH OPTIONS NOT NULL, campaign WITH OPTIONS NOT NULL,
					PRIMARY KEY (refreshed_at, campaign))', nsp, name || '_history');
	EXECUTE format('COMMENT ON TABLE %I.%I IS %L', nsp, name || '_history',
		'per refresh, each flagged campaign with its stable id, size, score, signals and status (lockstep_refresh appends)');
	EXECUTE format('CREATE TABLE %I.%I OF @extschema@.lockstep_campaign_member (
					campaign WITH OPTIONS NOT NULL, account_id WITH OPTIONS NOT NULL,
					PRIMARY KEY (account_id))', nsp, name || '_members');
	EXECUTE format('COMMENT ON TABLE %I.%I IS %L', nsp, name || '_members',
		'the accounts of each flagged campaign at the last refresh (what the next refresh matches its clusters to)');
	-- per campaign and day of the window: the members' requests, how many
	-- were active, how many for the first time in the window, requests per
	-- model (the pivot), and each intent's share of the prompts.  The
	-- members' fingerprints of a day are merged first (a parallel-capable
	-- aggregate), so that the accessors run once per campaign and day.
	EXECUTE format($q$CREATE MATERIALIZED VIEW %1$I.%2$I AS
		WITH since AS (
			SELECT (SELECT day FROM %1$I.%3$I ORDER BY day DESC LIMIT 1) - (SELECT window_days FROM %1$I.%4$I) AS day),
		g AS MATERIALIZED (
			SELECT m.campaign, d.day, @extschema@.fingerprint_union_agg(d.fp) AS fp, count(*)::integer AS accounts
			FROM %1$I.%5$I m JOIN %1$I.%3$I d USING (account_id)
			WHERE d.day > (SELECT day FROM since) GROUP BY 1, 2),
		n AS (
			SELECT campaign, first_day AS day, count(*)::integer AS new_accounts
			FROM (SELECT m.campaign, min(d.day) AS first_day
				  FROM %1$I.%5$I m JOIN %1$I.%3$I d USING (account_id)
				  WHERE d.day > (SELECT day FROM since) GROUP BY m.campaign, d.account_id) f
			GROUP BY 1, 2)
		SELECT g.campaign, g.day, st.requests, g.accounts, coalesce(n.new_accounts, 0) AS new_accounts,
			   coalesce((SELECT pg_catalog.jsonb_object_agg(x.model, x.requests ORDER BY x.model)
						 FROM @extschema@.fingerprint_models(g.fp) x), '{}') AS models,
			   coalesce((SELECT pg_catalog.jsonb_object_agg(x.intent,
								round(CASE WHEN st.prompts > 0 THEN x.count::numeric / st.prompts ELSE 0 END, 4)
								ORDER BY x.intent)
						 FROM @extschema@.fingerprint_intents(g.fp) x), '{}') AS intents
		FROM g LEFT JOIN n USING (campaign, day), LATERAL @extschema@.fingerprint_stats(g.fp) st
		WITH NO DATA$q$, nsp, name || '_timeline', name || '_daily', name || '_config', name || '_members');
	-- per campaign: the infrastructure and scaffold keys most of its
	-- members share, ten of each kind, each with how many share it
	EXECUTE format($q$CREATE MATERIALIZED VIEW %1$I.%2$I AS
		SELECT campaign, kind, rank::integer, key, accounts
		FROM (SELECT m.campaign, x.kind, x.key, count(*)::integer AS accounts,
					 row_number() OVER (PARTITION BY m.campaign, x.kind ORDER BY count(*) DESC, x.key) AS rank
			  FROM %1$I.%3$I m JOIN %1$I.%4$I w USING (account_id),
				   LATERAL (SELECT i.kind, i.key FROM @extschema@.fingerprint_infrastructure_keys(w.fp) i
							UNION ALL
							SELECT 'scaffold', k.key FROM @extschema@.fingerprint_scaffold_keys(w.fp) k) x
			  GROUP BY 1, 2, 3 HAVING count(*) > 1) s
		WHERE rank <= 10 WITH NO DATA$q$, nsp, name || '_shared', name || '_members', name || '_window');
	-- the window's accounts near one (fp % fp, as the dashboard's account page asks)
	EXECUTE format('CREATE INDEX ON %I.%I USING gin (fp @extschema@.fingerprint_lsh_ops)', nsp, name || '_window');
	EXECUTE format('CREATE UNIQUE INDEX ON %I.%I (campaign, day)', nsp, name || '_timeline');
	EXECUTE format('CREATE UNIQUE INDEX ON %I.%I (campaign, kind, rank)', nsp, name || '_shared');
	EXECUTE format('COMMENT ON MATERIALIZED VIEW %I.%I IS %L', nsp, name || '_timeline',
		'per flagged campaign and day of the window: requests, active and new accounts, requests per model, share of each intent');
	EXECUTE format('COMMENT ON MATERIALIZED VIEW %I.%I IS %L', nsp, name || '_shared',
		'per flagged campaign: the ten network, user_agent, payment and scaffold keys most of its members share, with how many share each');
	-- what changed between the last two refreshes, one row per campaign in
	-- either: new, split (new, from members of an earlier one), grew,
	-- shrank, same, merged (its members went to another), gone
	EXECUTE format($q$CREATE VIEW %1$I.%2$I AS
		WITH r AS (SELECT DISTINCT refreshed_at FROM %1$I.%3$I ORDER BY refreshed_at DESC LIMIT 2),
		cur AS (SELECT * FROM %1$I.%3$I WHERE refreshed_at = (SELECT max(refreshed_at) FROM r)),
		prev AS (SELECT * FROM %1$I.%3$I WHERE refreshed_at = (SELECT min(refreshed_at) FROM r)
				 AND (SELECT count(*) FROM r) = 2)
		SELECT coalesce(c.campaign, p.campaign) AS campaign,
			   CASE WHEN p.campaign IS NULL THEN CASE WHEN c.status = 'split' THEN 'split' ELSE 'new' END
					WHEN c.campaign IS NULL THEN CASE WHEN m.campaign IS NOT NULL THEN 'merged' ELSE 'gone' END
					WHEN c.accounts > p.accounts THEN 'grew'
					WHEN c.accounts < p.accounts THEN 'shrank'
					ELSE 'same' END AS change,
			   p.accounts AS accounts_before, c.accounts AS accounts_now,
			   p.score AS score_before, c.score AS score_now,
			   c.parents, m.campaign AS merged_into, coalesce(c.first_seen, p.first_seen) AS first_seen
		FROM cur c FULL JOIN prev p USING (campaign)
		LEFT JOIN LATERAL (SELECT c2.campaign FROM cur c2 WHERE p.campaign = ANY (c2.parents)
						   ORDER BY c2.campaign LIMIT 1) m ON c.campaign IS NULL$q$,
		nsp, name || '_changes', name || '_history');
	EXECUTE format('COMMENT ON VIEW %I.%I IS %L', nsp, name || '_changes',
		'what changed between the last two refreshes: per campaign new, split, grew, shrank, same, merged (into merged_into) or gone');
	-- per refresh, for a health page: its times, stages, rows and memory
	EXECUTE format($q$CREATE VIEW %1$I.%2$I AS
		SELECT r.started_at, r.finished_at,
			   round(extract(epoch FROM r.finished_at - r.started_at)::numeric, 3) AS seconds,
			   r.stage_seconds, r.first_day, r.last_day, r.days_added, r.days_recomputed,
			   r.rows_read, r.rows_skipped, r.rows_before_range,
			   round(r.clustering_bytes / 1048576.0, 1) AS clustering_mb,
			   (SELECT count(*) FROM %1$I.%4$I d WHERE d.day <= r.last_day) AS days_stored,
			   (SELECT count(*) FROM %1$I.%5$I h WHERE h.refreshed_at = r.started_at) AS campaigns
		FROM %1$I.%3$I r$q$,
		nsp, name || '_health', name || '_refreshes', name || '_days', name || '_history');
	EXECUTE format('COMMENT ON VIEW %I.%I IS %L', nsp, name || '_health',
		'per refresh: its duration and stages, the days and rows it read, the memory its clustering charged, the days stored and the campaigns flagged');
END $$;
COMMENT ON FUNCTION @extschema@.lockstep_create_pipeline_desk(regclass) IS
	'internal: the campaign history of a pipeline whose detection views exist, and the views made for dashboards';

-- One record of what a pipeline is, which also pins each part: the
-- constraint pipeline_objects on its config table names every part.
CREATE FUNCTION @extschema@.lockstep_pin_pipeline(config regclass) RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	nsp text;
	name text;
BEGIN
	SELECT p.nsp, p.name INTO nsp, name FROM @extschema@.lockstep_pipeline_name(config) p;
	EXECUTE format('ALTER TABLE %s ADD CONSTRAINT pipeline_objects CHECK (ARRAY[%s] IS NOT NULL)', config,
		(SELECT string_agg(format('%L::pg_catalog.regclass', format('%I.%I', nsp, name || '_' || part)), ', ')
		 FROM unnest(ARRAY['days', 'daily', 'refreshes', 'window', 'clusters', 'campaigns', 'accounts',
						   'history', 'members', 'timeline', 'shared', 'changes', 'health']) part));
END $$;
COMMENT ON FUNCTION @extschema@.lockstep_pin_pipeline(regclass) IS
	'internal: the pipeline_objects constraint of a pipeline''s config table, which names every part';

CREATE FUNCTION @extschema@.lockstep_create_pipeline(name text, log regclass,
	window_days integer DEFAULT 28, releases regclass DEFAULT NULL, settings jsonb DEFAULT NULL,
	schema name DEFAULT pg_catalog.current_schema())
	RETURNS text
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	missing text;
	config regclass;
BEGIN
	IF name IS NULL OR name !~ '^[a-z_][a-z0-9_]{0,40}$' THEN
		RAISE EXCEPTION 'pipeline name must be a lower-case identifier of at most 41 characters'
			USING ERRCODE = 'invalid_parameter_value', DETAIL = format('The name was %L.', name);
	END IF;
	IF log IS NULL OR window_days IS NULL OR window_days NOT BETWEEN 1 AND 36600 THEN
		RAISE EXCEPTION 'a log table and a window_days from 1 to 36600 are needed'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF schema IS NULL THEN
		RAISE EXCEPTION 'no schema to create the pipeline in' USING ERRCODE = 'invalid_schema_name',
			HINT = 'Pass schema => or set search_path to the schema the pipeline belongs in.';
	END IF;
	IF EXISTS (SELECT 1 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
			   WHERE c.reloftype = '@extschema@.lockstep_pipeline_config'::regtype
				 AND c.relname = name || '_config'
				 AND NOT pg_is_other_temp_schema(n.oid)) THEN
		RAISE EXCEPTION 'a pipeline named % exists already', name USING ERRCODE = 'duplicate_object',
			HINT = 'Pipeline names are unique in a database; lockstep_drop_pipeline removes one.';
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
	PERFORM @extschema@.lockstep_check_source(
		coalesce((SELECT array_agg(relid) FROM pg_partition_tree(log) WHERE isleaf), '{}') || log,
		@extschema@.lockstep_log_types());

	EXECUTE format('CREATE TABLE %I.%I OF @extschema@.lockstep_pipeline_config (
					window_days WITH OPTIONS NOT NULL CHECK (window_days > 0),
					settings WITH OPTIONS NOT NULL)', schema, name || '_config');
	config := format('%I.%I', schema, name || '_config')::regclass;
	EXECUTE format('INSERT INTO %s VALUES ($1, $2)', config) USING window_days, coalesce(settings, '{}');
	EXECUTE format('ALTER TABLE %s ADD CONSTRAINT pipeline_log CHECK (%L::pg_catalog.regclass IS NOT NULL)',
				   config, log::text);
	EXECUTE format('COMMENT ON TABLE %s IS %L', config,
		'lockstep pipeline settings: UPDATE settings (keys of lockstep_default_settings()), then CALL lockstep_refresh(' || quote_literal(name) || ')');
	EXECUTE format('CREATE TABLE %I.%I OF @extschema@.lockstep_pipeline_day (
					day WITH OPTIONS PRIMARY KEY)',
				   schema, name || '_days');
	EXECUTE format('COMMENT ON TABLE %I.%I IS %L', schema, name || '_days',
		'per stored UTC day: the log rows read and skipped (no account_id); a day whose count changes is computed again');
	EXECUTE format('CREATE TABLE %I.%I OF @extschema@.lockstep_daily_fingerprint (
					day WITH OPTIONS NOT NULL, account_id WITH OPTIONS NOT NULL, fp WITH OPTIONS NOT NULL,
					PRIMARY KEY (day, account_id))', schema, name || '_daily');
	EXECUTE format('COMMENT ON TABLE %I.%I IS %L', schema, name || '_daily',
		'one fingerprint per account and UTC day; lockstep_refresh adds the new days');
	EXECUTE format('CREATE TABLE %I.%I OF @extschema@.lockstep_pipeline_refresh', schema, name || '_refreshes');
	EXECUTE format('COMMENT ON TABLE %I.%I IS %L', schema, name || '_refreshes',
		'one row per lockstep_refresh: the days it read, added and recomputed, the rows it read and skipped');
	PERFORM @extschema@.lockstep_create_pipeline_views(config, releases);
	PERFORM @extschema@.lockstep_create_pipeline_desk(config);
	PERFORM @extschema@.lockstep_pin_pipeline(config);
	IF releases IS NOT NULL THEN
		EXECUTE format('ALTER TABLE %s ADD CONSTRAINT pipeline_releases CHECK (%L::pg_catalog.regclass IS NOT NULL)',
					   config, releases::text);
	END IF;
	RETURN format('CALL lockstep_refresh(%L)', name);
END $$;
COMMENT ON FUNCTION @extschema@.lockstep_create_pipeline(text, regclass, integer, regclass, jsonb, name) IS
	'create the tables and materialized views of a detection pipeline over a log table, in schema (default: the current one); returns the statement that refreshes it';

-- lockstep_drop_pipeline and lockstep_refresh find the pipeline in the
-- caller's context (lockstep_pipeline_config needs the caller's search
-- path), then do their work in these, with a safe one.
CREATE FUNCTION @extschema@.lockstep_drop_pipeline_config(cfg regclass, name text, cascade boolean) RETURNS void
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	parts regclass[];
	how text := CASE WHEN cascade THEN ' CASCADE' ELSE '' END;
BEGIN
	IF cfg IS NULL THEN
		RAISE EXCEPTION 'no lockstep pipeline named %', coalesce(name, 'NULL')
			USING ERRCODE = 'undefined_object';
	END IF;
	parts := @extschema@.lockstep_pipeline_part(cfg, 'pipeline_objects');
	-- the constraints go first; then one DROP for each kind of relation,
	-- so that their order does not matter
	EXECUTE format('ALTER TABLE %s DROP CONSTRAINT pipeline_objects', cfg);
	IF EXISTS (SELECT 1 FROM unnest(parts) p JOIN pg_class c ON c.oid = p WHERE c.relkind = 'v') THEN
		EXECUTE format('DROP VIEW %s%s',
			(SELECT string_agg(p::text, ', ') FROM unnest(parts) p JOIN pg_class c ON c.oid = p WHERE c.relkind = 'v'),
			how);
	END IF;
	EXECUTE format('DROP MATERIALIZED VIEW %s%s',
		(SELECT string_agg(p::text, ', ') FROM unnest(parts) p JOIN pg_class c ON c.oid = p WHERE c.relkind = 'm'),
		how);
	EXECUTE format('DROP TABLE %s%s',
		(SELECT string_agg(p::text, ', ') FROM unnest(parts || cfg) p JOIN pg_class c ON c.oid = p WHERE c.relkind = 'r'),
		how);
END $$;
COMMENT ON FUNCTION @extschema@.lockstep_drop_pipeline_config(regclass, text, boolean) IS
	'internal: lockstep_drop_pipeline of the pipeline whose config table is cfg';

CREATE FUNCTION @extschema@.lockstep_drop_pipeline(name text, cascade boolean DEFAULT false) RETURNS void
	LANGUAGE sql VOLATILE PARALLEL UNSAFE
	AS $$ SELECT @extschema@.lockstep_drop_pipeline_config(@extschema@.lockstep_pipeline_config(name), name, cascade) $$;
COMMENT ON FUNCTION @extschema@.lockstep_drop_pipeline(text, boolean) IS
	'drop every table and view of a pipeline (with cascade, also what others built on them); the log and the releases table stay';

-- The columns a refresh reads, with the built-in types each may have (a
-- domain counts as its base type).  Reading them runs only PostgreSQL's
-- own casts and operators.
CREATE FUNCTION @extschema@.lockstep_log_columns(OUT col text, OUT type text, OUT allowed regtype[])
	RETURNS SETOF record
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$ VALUES
		('account_id', 'bigint', '{smallint,integer,bigint}'::regtype[]),
		('ts', 'timestamptz', '{timestamptz,timestamp}'),
		('prompt', 'text', '{text,varchar,bpchar}'),
		('client_ip', 'inet', '{inet,cidr}'),
		('user_agent', 'text', '{text,varchar,bpchar}'),
		('payment', 'text', '{text,varchar,bpchar}'),
		('model', 'text', '{text,varchar,bpchar}'),
		('tokens_in', 'integer', '{smallint,integer,bigint}'),
		('tokens_out', 'integer', '{smallint,integer,bigint}'),
		('org_id', 'bigint', '{smallint,integer,bigint}') $$;
COMMENT ON FUNCTION @extschema@.lockstep_log_columns() IS
	'internal: the log columns a pipeline reads, the type it reads each as, and the built-in types it accepts';

-- Whom a refresh trusts: it runs as the role that calls it (the pipeline's
-- owner, or pg_cron's job owner), and must run no code that the owner of
-- what it reads (the log, its leaves, the release table) chose.  So each
-- must be a table, partitioned table or foreign table (a view or
-- materialized view only if the reading role owns it), with no row-level
-- security that applies to the reading role (policy expressions run as the
-- reader), and every column read must have one of the built-in types that
-- `allowed` ({column: [types]}) names: a type of the owner's, with its
-- cast, would run the owner's function.  Each must also be readable.
CREATE FUNCTION @extschema@.lockstep_check_source(rels regclass[], allowed jsonb) RETURNS void
	LANGUAGE plpgsql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	r record;
BEGIN
	FOR r IN
		SELECT c.oid::regclass AS rel, c.relkind, c.relowner::regrole AS owner
		FROM pg_class c WHERE c.oid = ANY (rels) ORDER BY c.oid
	LOOP
		IF r.relkind NOT IN ('r', 'p', 'f') AND NOT pg_has_role(r.owner, 'USAGE') THEN
			RAISE EXCEPTION '% is a view owned by %, which the refresh would run as %', r.rel, r.owner, current_user
				USING ERRCODE = 'insufficient_privilege',
				HINT = 'lockstep runs no code the owner of what it reads chose: refresh as the view''s owner, or read a table.';
		END IF;
		IF r.relkind IN ('r', 'p') AND row_security_active(r.rel) THEN
			RAISE EXCEPTION '% has row-level security that applies to %', r.rel, current_user
				USING ERRCODE = 'insufficient_privilege',
				DETAIL = 'Its policies'' expressions, which its owner writes, would run as the reading role.',
				HINT = 'Refresh as the table''s owner (without FORCE ROW LEVEL SECURITY) or as a role with BYPASSRLS, or read a table without policies.';
		END IF;
		IF NOT has_table_privilege(r.rel, 'SELECT') THEN
			RAISE EXCEPTION 'permission denied for %', r.rel USING ERRCODE = 'insufficient_privilege',
				HINT = 'A partitioned log is read leaf by leaf: the refreshing role needs SELECT on every partition.';
		END IF;
	END LOOP;
	FOR r IN
		SELECT a.attrelid::regclass AS rel, a.attname, a.atttypid::regtype AS type, k.types
		FROM jsonb_each(allowed) k(col, types)
		JOIN pg_attribute a ON a.attname = k.col AND a.attnum > 0 AND NOT a.attisdropped
		JOIN pg_type t ON t.oid = a.atttypid
		WHERE a.attrelid = ANY (rels)
		  AND NOT (CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE t.oid END)::regtype::text
				  IN (SELECT x::regtype::text FROM jsonb_array_elements_text(k.types) x)
		ORDER BY a.attrelid, a.attnum
	LOOP
		RAISE EXCEPTION 'column % of % has type %, not one of %', r.attname, r.rel, r.type, r.types
			USING ERRCODE = 'datatype_mismatch',
			DETAIL = 'lockstep reads only with PostgreSQL''s own casts: a type of the owner''s would run its cast as the reading role.',
			HINT = 'Change the column''s type, or read it through a view of your own that converts it.';
	END LOOP;
END $$;
COMMENT ON FUNCTION @extschema@.lockstep_check_source(regclass[], jsonb) IS
	'internal: refuse relations whose reading would run code their owner chose (a view the reading role does not own, row-level security that applies to it, a column of a type outside the built-in ones allowed, {column: [types]}) or that it cannot read';

-- The built-in types lockstep_log_columns allows, as lockstep_check_source takes them.
CREATE FUNCTION @extschema@.lockstep_log_types() RETURNS jsonb
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$ SELECT jsonb_object_agg(col, to_jsonb(allowed::text[])) FROM @extschema@.lockstep_log_columns() $$;
COMMENT ON FUNCTION @extschema@.lockstep_log_types() IS
	'internal: lockstep_log_columns'' allowed types as {column: [types]}';

-- One query per leaf partition of a log, each the template with the leaf
-- (as %s), in UNION ALL: an aggregate over a foreign leaf is then computed
-- on its own server.  STABLE: a leaf's name is read from the catalog.
CREATE FUNCTION @extschema@.lockstep_per_leaf(leaves regclass[], template text) RETURNS text
	LANGUAGE sql STABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$ SELECT string_agg('(' || format(template, leaf) || ')', ' UNION ALL ' ORDER BY ord)
		  FROM unnest(leaves) WITH ORDINALITY AS l(leaf, ord) $$;
COMMENT ON FUNCTION @extschema@.lockstep_per_leaf(regclass[], text) IS
	'internal: a template query (the leaf as %s) for each leaf partition of a log, in UNION ALL';

-- The flagged campaigns of a refresh, appended to N_history under stable
-- ids, and N_members replaced.  A cluster of this refresh and a campaign
-- of the last one that are each other's best match (most shared members;
-- ties to the smaller id) are the same campaign: it keeps its id and its
-- first_seen.  Every other flagged cluster gets a new id: status split if
-- it has members of an earlier campaign (which continued elsewhere), else
-- new.  A campaign that keeps its id and took members of other earlier
-- campaigns too is merged, and parents lists them; those, continued by no
-- cluster, are gone from the history, and N_changes says what they merged
-- into.  A continued campaign with no other parent is continued.
CREATE FUNCTION @extschema@.lockstep_record_campaigns(config regclass, refreshed_at timestamptz, last_day date)
	RETURNS integer
	LANGUAGE plpgsql VOLATILE PARALLEL UNSAFE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	nsp text;
	name text;
	n integer;
BEGIN
	SELECT p.nsp, p.name INTO nsp, name FROM @extschema@.lockstep_pipeline_name(config) p;
	EXECUTE format($q$
		WITH cur AS MATERIALIZED (
			SELECT c.cluster, c.account_id FROM %1$I.%2$I c JOIN %1$I.%3$I k USING (cluster) WHERE k.flagged),
		ov AS MATERIALIZED (
			SELECT cur.cluster, m.campaign, count(*) AS shared
			FROM cur JOIN %1$I.%4$I m USING (account_id) GROUP BY 1, 2),
		best_p AS (SELECT DISTINCT ON (cluster) cluster, campaign FROM ov ORDER BY cluster, shared DESC, campaign),
		best_c AS (SELECT DISTINCT ON (campaign) campaign, cluster FROM ov ORDER BY campaign, shared DESC, cluster),
		kept AS (SELECT cluster, campaign FROM best_p JOIN best_c USING (cluster, campaign)),
		ids AS (
			SELECT k.cluster, k.score, k.evidence, kept.campaign AS kept,
				   coalesce(kept.campaign,
							(SELECT coalesce(max(h.campaign), 0) FROM %1$I.%5$I h)
							+ row_number() OVER (PARTITION BY kept.campaign IS NULL ORDER BY k.cluster)) AS campaign
			FROM %1$I.%3$I k LEFT JOIN kept USING (cluster) WHERE k.flagged)
		INSERT INTO %1$I.%5$I
		SELECT $1, $2, ids.campaign, ids.cluster, k.accounts, ids.score,
			   ARRAY(SELECT pg_catalog.jsonb_array_elements_text(ids.evidence->'fired')),
			   ids.evidence->'signals',
			   CASE WHEN ids.kept IS NULL THEN CASE WHEN p.parents IS NULL THEN 'new' ELSE 'split' END
					WHEN p.parents IS NOT NULL THEN 'merged' ELSE 'continued' END,
			   p.parents,
			   coalesce((SELECT min(h.first_seen) FROM %1$I.%5$I h WHERE h.campaign = ids.kept), $1)
		FROM ids
		JOIN (SELECT cluster, count(*)::integer AS accounts FROM cur GROUP BY 1) k USING (cluster)
		LEFT JOIN LATERAL (SELECT array_agg(ov.campaign ORDER BY ov.campaign) AS parents FROM ov
						   WHERE ov.cluster = ids.cluster AND ov.campaign IS DISTINCT FROM ids.kept) p ON true$q$,
		nsp, name || '_clusters', name || '_campaigns', name || '_members', name || '_history')
		USING refreshed_at, last_day;
	GET DIAGNOSTICS n = ROW_COUNT;
	EXECUTE format('DELETE FROM %I.%I', nsp, name || '_members');
	EXECUTE format($q$INSERT INTO %1$I.%2$I
		SELECT h.campaign, c.account_id FROM %1$I.%3$I h JOIN %1$I.%4$I c USING (cluster)
		WHERE h.refreshed_at = $1$q$, nsp, name || '_members', name || '_history', name || '_clusters')
		USING refreshed_at;
	RETURN n;
END $$;
COMMENT ON FUNCTION @extschema@.lockstep_record_campaigns(regclass, timestamptz, date) IS
	'internal: append a refresh''s flagged campaigns to N_history under ids matched to the last refresh''s by members, and replace N_members';

CREATE FUNCTION @extschema@.lockstep_memory_charged() RETURNS bigint
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.lockstep_memory_charged() IS
	'the most memory one similarity join or clustering call of this session charged against lockstep.pairs_memory_limit since the last call of this function, in bytes (reading it starts the count again)';

CREATE FUNCTION @extschema@.lockstep_can_commit() RETURNS boolean
	AS 'MODULE_PATHNAME' LANGUAGE C VOLATILE PARALLEL RESTRICTED;
COMMENT ON FUNCTION @extschema@.lockstep_can_commit() IS
	'internal: whether the calling procedure may COMMIT (called from the top level or a DO block, not from a transaction block or a function)';

-- One refresh of a pipeline at a time: a second one waits, then finds the
-- work done.  The lock is the config row's, which only a role that may
-- update the config can take (an advisory lock's key anyone can compute and
-- hold); a refresh that must wait says for whom.  Held to the end of the
-- transaction: a refresh that commits day by day takes it again after
-- each commit.
CREATE PROCEDURE @extschema@.lockstep_refresh_lock(cfg_table regclass, name text)
	LANGUAGE plpgsql
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	BEGIN
		EXECUTE format('SELECT 1 FROM %s FOR UPDATE NOWAIT', cfg_table);
	EXCEPTION WHEN lock_not_available THEN
		RAISE NOTICE 'lockstep_refresh(%): waiting for the lock on %, held by %', name, cfg_table,
			(SELECT string_agg(DISTINCT format('pid %s (%s)', a.pid, a.usename), ', ')
			 FROM pg_locks l JOIN pg_stat_activity a USING (pid)
			 WHERE l.relation = cfg_table AND l.mode = 'RowShareLock' AND l.granted AND a.pid <> pg_backend_pid());
		EXECUTE format('SELECT 1 FROM %s FOR UPDATE', cfg_table);
	END;
END $$;
COMMENT ON PROCEDURE @extschema@.lockstep_refresh_lock(regclass, text) IS
	'internal: wait for and take the lock of a pipeline''s refresh (its config row), saying who holds it';

-- No SET clause here: a procedure with one may not COMMIT.  It sets
-- search_path for its own transactions instead (set_config, local), and
-- gives the caller's back before it returns.
CREATE PROCEDURE @extschema@.lockstep_refresh_pipeline(cfg_table regclass, name text, through date)
	LANGUAGE plpgsql
	AS $$
DECLARE
	caller_path text := pg_catalog.current_setting('search_path');
	can_commit boolean := @extschema@.lockstep_can_commit();
	last_stored timestamptz;
	cfg record;
	s jsonb;
	log regclass;
	nsp text;
	base text;
	cols text;
	first_day date;
	last_day date;
	stored_max date;
	log_min date;
	log_max date;
	first_new date;
	recompute date[];
	day_sql text;
	d date;
	day_rows bigint;
	day_skipped bigint;
	how text;
	view text;
	report @extschema@.lockstep_pipeline_refresh;
	started timestamptz := pg_catalog.clock_timestamp();
	leaves regclass[];
	stored_rows bigint;
	stored_skipped bigint;
	next_day date;
	i integer;
	err_state text;
	err_text text;
	thin_accounts bigint;
	window_accounts bigint;
	yielded boolean;
	stage_start timestamptz;
BEGIN
	PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
	IF cfg_table IS NULL THEN
		RAISE EXCEPTION 'no lockstep pipeline named %', coalesce(name, 'NULL')
			USING ERRCODE = 'undefined_object', HINT = 'lockstep_create_pipeline makes one.';
	END IF;
	CALL @extschema@.lockstep_refresh_lock(cfg_table, name);
	SELECT p.nsp, p.name INTO nsp, base FROM @extschema@.lockstep_pipeline_name(cfg_table) p;
	EXECUTE format('SELECT * FROM %s', cfg_table) INTO cfg;
	-- every setting is checked before any work
	s := @extschema@.lockstep_settings(cfg.settings);
	IF cfg.window_days NOT BETWEEN 1 AND 36600 THEN
		RAISE EXCEPTION 'window_days must be from 1 to 36600, not %', cfg.window_days
			USING ERRCODE = 'invalid_parameter_value', HINT = format('UPDATE %s SET window_days = 28', cfg_table);
	END IF;
	log := (@extschema@.lockstep_pipeline_part(cfg_table, 'pipeline_log'))[1];
	-- the fingerprint_agg arguments: the log's columns as it has them now,
	-- quoted here, NULL where it has none; no SQL text is stored
	SELECT string_agg(CASE WHEN a.attname IS NOT NULL THEN format('%I::%s', c.col, c.type)
						   ELSE format('NULL::%s', c.type) END, ', ' ORDER BY c.i)
	INTO cols
	FROM @extschema@.lockstep_log_columns() WITH ORDINALITY AS c(col, type, allowed, i)
	LEFT JOIN pg_attribute a ON a.attrelid = log AND a.attname = c.col AND a.attnum > 0
							 AND NOT a.attisdropped
	WHERE c.col <> 'account_id';
	-- the log's leaf partitions (the log itself, if it has none): bounds and
	-- counts are aggregated per leaf, so that a foreign leaf computes its own
	-- and sends one row, never its timestamps
	SELECT array_agg(relid ORDER BY relid) INTO leaves FROM pg_partition_tree(log) WHERE isleaf;
	leaves := coalesce(leaves, ARRAY[log]);
	PERFORM @extschema@.lockstep_check_source(leaves || log, @extschema@.lockstep_log_types());

	-- the days to read: complete UTC days up to through (default yesterday);
	-- a first refresh reads backfill_days at most, whatever the oldest row
	-- says; later ones recheck the last late_days stored days
	last_day := coalesce(through, (now() AT TIME ZONE 'UTC')::date - 1);
	EXECUTE format('SELECT max(day) FROM %I.%I', nsp, base || '_days') INTO stored_max;
	IF stored_max IS NULL THEN
		-- back from the newest complete day the log has, not from today: a
		-- log that ended months ago is read whole
		EXECUTE format('SELECT (min(lo) AT TIME ZONE ''UTC'')::date, (max(hi) AT TIME ZONE ''UTC'')::date FROM (%s) b',
					   @extschema@.lockstep_per_leaf(leaves,
						'SELECT min(ts) AS lo, max(ts) AS hi FROM %s WHERE ts < ($1 + 1)::timestamp AT TIME ZONE ''UTC'''))
			INTO log_min, log_max USING last_day;
		-- (never below the oldest row: a row of 4713 BC has no day before it)
		first_day := log_max - least((s->>'backfill_days')::int - 1, log_max - log_min);
		first_new := first_day;
	ELSE
		first_day := stored_max - (s->>'late_days')::int + 1;
		first_new := stored_max + 1;
	END IF;
	report := (started, NULL, first_day, last_day, 0, 0, 0, 0, 0, NULL, NULL);
	IF log_min < first_day THEN
		EXECUTE format('SELECT sum(n) FROM (%s) c', @extschema@.lockstep_per_leaf(leaves,
						'SELECT count(*) AS n FROM %s WHERE ts < $1::timestamp AT TIME ZONE ''UTC'''))
			INTO report.rows_before_range USING first_day;
	END IF;

	-- one day's fingerprints, stored, and its row counts, in one scan; a
	-- partitioned log is aggregated leaf by leaf (each foreign leaf on its
	-- own server) and the leaves' fingerprints of an account merged, which
	-- gives the same bytes whatever the partitioning
	day_sql := format($q$
		SELECT account_id::bigint AS account_id, count(*) AS n,
			   -- the organization of most of the day's rows, if most have one
			   CASE WHEN count(org_id) * 2 > count(*) THEN mode() WITHIN GROUP (ORDER BY org_id) END AS org_id,
			   @extschema@.fingerprint_agg(ts, prompt, client_ip, user_agent, payment, model, tokens_in, tokens_out) AS fp
		FROM (SELECT account_id::bigint, %s FROM %%s
			  WHERE ts >= $1::timestamp AT TIME ZONE 'UTC' AND ts < ($1 + 1)::timestamp AT TIME ZONE 'UTC')
			 AS l(account_id, ts, prompt, client_ip, user_agent, payment, model, tokens_in, tokens_out, org_id)
		GROUP BY account_id$q$, cols);
	IF leaves = ARRAY[log] THEN
		day_sql := format(day_sql, log);
	ELSE
		day_sql := format('SELECT account_id, sum(n) AS n, max(org_id) AS org_id, '
						  '@extschema@.fingerprint_union_agg(fp) AS fp FROM (%s) pl GROUP BY account_id',
						  @extschema@.lockstep_per_leaf(leaves, day_sql));
	END IF;
	day_sql := format($q$
		WITH agg AS (%s),
		stored AS (
			INSERT INTO %I.%I SELECT $1, account_id, org_id, fp FROM agg WHERE account_id IS NOT NULL)
		SELECT coalesce(sum(n), 0), coalesce(sum(n) FILTER (WHERE account_id IS NULL), 0) FROM agg$q$,
		day_sql, nsp, base || '_daily');
	-- the days of the recheck window whose row count changed since they were
	-- stored (or that had no rows then): late rows, or the rest of a day
	-- stored half, make it be computed again
	recompute := ARRAY[]::date[];
	IF stored_max IS NOT NULL THEN
		-- day by day, a plain count per leaf: a foreign leaf counts its own
		FOR d IN SELECT g::date FROM generate_series(first_day, least(stored_max, last_day), interval '1 day') g
		LOOP
			EXECUTE format('SELECT coalesce(sum(n), 0), coalesce(sum(k), 0) FROM (%s) c',
						   @extschema@.lockstep_per_leaf(leaves,
							'SELECT count(*) AS n, count(*) FILTER (WHERE account_id IS NULL) AS k FROM %s
							 WHERE ts >= $1::timestamp AT TIME ZONE ''UTC'' AND ts < ($1 + 1)::timestamp AT TIME ZONE ''UTC'''))
				INTO day_rows, day_skipped USING d;
			EXECUTE format('SELECT rows, skipped FROM %I.%I WHERE day = $1', nsp, base || '_days')
				INTO stored_rows, stored_skipped USING d;
			IF (stored_rows IS NULL AND day_rows > 0) OR
			   (stored_rows IS NOT NULL AND (stored_rows, stored_skipped) IS DISTINCT FROM (day_rows, day_skipped)) THEN
				recompute := recompute || d;
			END IF;
		END LOOP;
	END IF;
	-- then every day after the stored ones, day by day (dates, not times:
	-- no time zone can skip one); past a day without rows, straight to the
	-- next day that has some, so that one row stamped 4713 BC does not make
	-- every refresh walk two million empty days
	i := 0;
	LOOP
		IF i < cardinality(recompute) THEN
			d := recompute[i + 1];
			EXECUTE format('DELETE FROM %I.%I WHERE day = $1', nsp, base || '_daily') USING d;
			EXECUTE format('DELETE FROM %I.%I WHERE day = $1', nsp, base || '_days') USING d;
		ELSE
			d := CASE WHEN i = cardinality(recompute) THEN first_new ELSE d + 1 END;
			EXIT WHEN d > last_day;
		END IF;
		EXECUTE day_sql INTO day_rows, day_skipped USING d;
		IF day_rows > 0 THEN
			EXECUTE format('INSERT INTO %I.%I VALUES ($1, $2, $3, clock_timestamp())', nsp, base || '_days')
				USING d, day_rows, day_skipped;
			IF i < cardinality(recompute) THEN
				report.days_recomputed := report.days_recomputed + 1;
			ELSE
				report.days_added := report.days_added + 1;
			END IF;
			report.rows_read := report.rows_read + day_rows;
			report.rows_skipped := report.rows_skipped + day_skipped;
			-- each day stored is kept, whatever happens next (a cancel, a
			-- failure, a crash): commit it, when the caller lets us, and
			-- take the lock again.  If another refresh stored days while
			-- the lock was free, this one leaves the rest to it.
			IF can_commit THEN
				EXECUTE format('SELECT max(computed_at) FROM %I.%I', nsp, base || '_days') INTO last_stored;
				COMMIT;
				PERFORM pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true);
				CALL @extschema@.lockstep_refresh_lock(cfg_table, name);
				EXECUTE format('SELECT max(computed_at) IS DISTINCT FROM $1 FROM %I.%I', nsp, base || '_days')
					INTO yielded USING last_stored;
				IF yielded THEN
					RAISE NOTICE 'lockstep_refresh(%): another refresh stored days meanwhile; it refreshes the views', name;
					EXECUTE format('INSERT INTO %I.%I SELECT ($1).*', nsp, base || '_refreshes') USING report;
					PERFORM pg_catalog.set_config('search_path', caller_path, true);
					RETURN;
				END IF;
			END IF;
		ELSIF i >= cardinality(recompute) THEN
			EXECUTE format('SELECT (min(lo) AT TIME ZONE ''UTC'')::date FROM (%s) b',
						   @extschema@.lockstep_per_leaf(leaves,
							'SELECT min(ts) AS lo FROM %s WHERE ts >= ($1 + 1)::timestamp AT TIME ZONE ''UTC''
							 AND ts < ($2 + 1)::timestamp AT TIME ZONE ''UTC'''))
				INTO next_day USING d, last_day;
			EXIT WHEN next_day IS NULL;
			d := next_day - 1;
		END IF;
		i := i + 1;
	END LOOP;
	IF report.days_added + report.days_recomputed > 0 THEN
		EXECUTE format('ANALYZE %I.%I', nsp, base || '_daily');	-- a hash plan for the window
	END IF;
	RAISE DEBUG 'lockstep_refresh(%): days % to %: % added, % recomputed in % s', name, first_day, last_day,
		report.days_added, report.days_recomputed,
		round(extract(epoch FROM clock_timestamp() - started)::numeric, 2);

	report.stage_seconds := jsonb_build_object('days',
		round(extract(epoch FROM clock_timestamp() - started)::numeric, 3));
	-- the views in a block of their own: if one fails (memory, a lock
	-- timeout), the days stored above are kept, the views stay as they
	-- were, the refresh is recorded without finished_at and says why; the
	-- next refresh finds the days stored and tries the views again.  A
	-- cancel is not caught: it stops the refresh, and only the days already
	-- committed (all of them, in a CALL from the top level) are kept.
	-- Then the campaign history (matched to the last refresh's) and the
	-- views made for dashboards, which read it.  CONCURRENTLY needs a
	-- populated view: a view's first refresh is a plain one.
	BEGIN
		PERFORM @extschema@.lockstep_memory_charged();
		FOREACH view IN ARRAY ARRAY['window', 'clusters', 'campaigns', 'accounts', 'history', 'timeline', 'shared']
		LOOP
			stage_start := clock_timestamp();
			IF view = 'history' THEN
				PERFORM @extschema@.lockstep_record_campaigns(cfg_table, started, last_day);
			ELSE
				SELECT CASE WHEN relispopulated THEN 'CONCURRENTLY ' ELSE '' END INTO how
				FROM pg_class WHERE oid = format('%I.%I', nsp, base || '_' || view)::regclass;
				EXECUTE format('REFRESH MATERIALIZED VIEW %s%I.%I', how, nsp, base || '_' || view);
			END IF;
			IF view = 'clusters' THEN
				report.clustering_bytes := @extschema@.lockstep_memory_charged();
			END IF;
			report.stage_seconds := report.stage_seconds || jsonb_build_object(view,
				round(extract(epoch FROM clock_timestamp() - stage_start)::numeric, 3));
			RAISE DEBUG 'lockstep_refresh(%): %_% refreshed at % s', name, base, view,
				round(extract(epoch FROM clock_timestamp() - started)::numeric, 2);
		END LOOP;
		report.finished_at := clock_timestamp();
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS err_state = RETURNED_SQLSTATE, err_text = MESSAGE_TEXT;
		RAISE WARNING 'lockstep_refresh(%): the days are stored, but the views were not refreshed: % (%)',
			name, err_text, err_state
			USING HINT = 'The next refresh tries the views again; the refresh is recorded without finished_at.';
	END;
	EXECUTE format('INSERT INTO %I.%I SELECT ($1).*', nsp, base || '_refreshes') USING report;
	IF report.rows_skipped + report.rows_before_range > 0 THEN
		RAISE NOTICE 'lockstep_refresh(%): % rows without account_id skipped, % rows before % left out',
			name, report.rows_skipped, report.rows_before_range, first_day
			USING HINT = format('%I.%I has the counts of every refresh.', nsp, base || '_refreshes');
	END IF;
	-- a flood of thin accounts is reported, not clustered (lockstep_cluster_accounts),
	-- with what most of them share
	IF report.finished_at IS NOT NULL THEN
		EXECUTE format($q$SELECT count(*) FILTER (WHERE st.requests < $1), count(*)
						  FROM %I.%I w, LATERAL @extschema@.fingerprint_stats(w.fp) st$q$, nsp, base || '_window')
			INTO thin_accounts, window_accounts USING (s->>'min_requests')::int;
	END IF;
	IF thin_accounts * 2 > window_accounts THEN
		RAISE NOTICE 'lockstep_refresh(%): % of the % accounts in the window sent fewer than % requests: a flood of thin accounts?',
			name, thin_accounts, window_accounts, s->>'min_requests'
			USING DETAIL = 'Those that share no payment instrument with another thin account are left out of the clustering. '
				|| coalesce('Most shared among them: ' || (
					SELECT string_agg(format('%s key %s (%s accounts)', t.kind, t.key, t.accounts), ', ')
					FROM @extschema@.lockstep_thin_accounts(format('%I.%I', nsp, base || '_window')::regclass, s, 3) t)
					|| '.', 'They share no network, agent or card.'),
			HINT = format('SELECT * FROM lockstep_thin_accounts(%L, (SELECT settings FROM %s)) lists them; '
						  'lockstep_infrastructure_key(kind, value) finds a key''s values in the log.',
						  format('%I.%I', nsp, base || '_window'), cfg_table);
	END IF;
	PERFORM pg_catalog.set_config('search_path', caller_path, true);
END $$;
COMMENT ON PROCEDURE @extschema@.lockstep_refresh_pipeline(regclass, text, date) IS
	'internal: lockstep_refresh of the pipeline whose config table is cfg_table';

CREATE PROCEDURE @extschema@.lockstep_refresh(name text, through date DEFAULT NULL)
	LANGUAGE plpgsql
	AS $$
BEGIN
	CALL @extschema@.lockstep_refresh_pipeline(@extschema@.lockstep_pipeline_config(name), name, through);
END $$;
COMMENT ON PROCEDURE @extschema@.lockstep_refresh(text, date) IS
	'add the log''s new complete days (up to through, default yesterday, UTC) to a pipeline''s daily fingerprints, compute again the recent days whose rows changed, refresh its views (concurrently once populated), and report in N_refreshes';

-- lockstep: sharing a campaign.  A STIX 2.1 bundle per flagged campaign,
-- with deterministic ids, so that a recipient's copy is updated, not
-- duplicated, when the same campaign is exported again.
-- Part of the install script and of the update to it (see sql/README).

CREATE FUNCTION @extschema@.lockstep_uuid5(namespace uuid, name text) RETURNS uuid
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.lockstep_uuid5(uuid, text) IS
	'the name-based (version 5, SHA-1) UUID of name in namespace, as RFC 9562 defines it';

-- A STIX timestamp: UTC, milliseconds, Z.
CREATE FUNCTION @extschema@.lockstep_stix_time(t timestamptz) RETURNS text
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$ SELECT to_char(t AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"') $$;
COMMENT ON FUNCTION @extschema@.lockstep_stix_time(timestamptz) IS
	'internal: a timestamp as STIX writes one (UTC, milliseconds, Z)';

-- The bundle of a pipeline whose config table is cfg: its flagged
-- campaigns of the last refresh (one, or all when campaign is NULL).
-- Per campaign: the campaign, with its evidence as x_lockstep_ properties;
-- an indicator for each network (/24, /48) and user agent that at least
-- min_accounts member accounts, and a tenth of them, used in the window,
-- and fewer accounts outside the campaign than in it (a browser's agent
-- that everyone sends indicates nothing); read from the log: the one
-- thing here that reads raw values, and only those many members share,
-- never one account's.  An indicates relationship from each indicator.  One identity made them all.  Ids are
-- UUIDv5 of the identity, the pipeline and the campaign's stable id (and
-- the pattern); created is the campaign's first_seen, modified its last
-- refresh.
CREATE FUNCTION @extschema@.lockstep_stix_bundle_config(cfg regclass, name text, campaign bigint,
	identity text, min_accounts integer) RETURNS jsonb
	LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	ns constant uuid := '59c31b9b-81dc-4432-9b4c-e727297fd7ea';	-- lockstep's namespace
	nsp text;
	base text;
	log regclass;
	has_ip boolean;
	has_ua boolean;
	ident_id text;
	ident_time timestamptz;
	objects jsonb := '[]';
	c record;
	ind record;
	cid text;
	since timestamptz;
	until timestamptz;
BEGIN
	IF cfg IS NULL THEN
		RAISE EXCEPTION 'no lockstep pipeline named %', coalesce(name, 'NULL') USING ERRCODE = 'undefined_object';
	END IF;
	IF identity IS NULL OR identity = '' OR min_accounts IS NULL OR min_accounts < 2 THEN
		RAISE EXCEPTION 'an identity name and a min_accounts of 2 or more are needed'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = 'An indicator is a value that several member accounts share, never one account''s.';
	END IF;
	SELECT p.nsp, p.name INTO nsp, base FROM @extschema@.lockstep_pipeline_name(cfg) p;
	log := (@extschema@.lockstep_pipeline_part(cfg, 'pipeline_log'))[1];
	PERFORM @extschema@.lockstep_check_source(
		coalesce((SELECT array_agg(relid) FROM pg_partition_tree(log) WHERE isleaf), '{}') || log,
		@extschema@.lockstep_log_types());
	SELECT bool_or(attname = 'client_ip'), bool_or(attname = 'user_agent') INTO has_ip, has_ua
	FROM pg_attribute WHERE attrelid = log AND attnum > 0 AND NOT attisdropped;
	EXECUTE format('SELECT min(first_seen) FROM %I.%I', nsp, base || '_history') INTO ident_time;
	ident_id := 'identity--' || @extschema@.lockstep_uuid5(ns, 'identity/' || identity);
	-- the window the members' values are read from: the last refresh's
	EXECUTE format($q$SELECT ((SELECT max(day) FROM %1$I.%2$I) - w.window_days + 1)::timestamp AT TIME ZONE 'UTC',
							 ((SELECT max(day) FROM %1$I.%2$I) + 1)::timestamp AT TIME ZONE 'UTC'
					  FROM %1$I.%3$I w$q$, nsp, base || '_days', base || '_config') INTO since, until;

	FOR c IN EXECUTE format($q$
		SELECT h.campaign, h.accounts, h.score, h.fired, h.signals, h.status, h.first_seen, h.refreshed_at,
			   k.evidence
		FROM %1$I.%2$I h JOIN %1$I.%3$I k USING (cluster)
		WHERE h.refreshed_at = (SELECT max(refreshed_at) FROM %1$I.%2$I) AND ($1 IS NULL OR h.campaign = $1)
		ORDER BY h.campaign$q$, nsp, base || '_history', base || '_campaigns') USING campaign
	LOOP
		cid := 'campaign--' || @extschema@.lockstep_uuid5(ns, format('campaign/%s/%s.%s/%s', identity, nsp, base, c.campaign));
		objects := objects || jsonb_build_object(
			'type', 'campaign', 'spec_version', '2.1', 'id', cid,
			'created', @extschema@.lockstep_stix_time(c.first_seen),
			'modified', @extschema@.lockstep_stix_time(c.refreshed_at),
			'created_by_ref', ident_id,
			'name', format('lockstep campaign %s (%s.%s)', c.campaign, nsp, base),
			'description', format('%s accounts acting as one: %s. Score %s against the line %s; route: %s.',
				c.accounts, array_to_string(c.fired, ', '), round(c.score::numeric, 3),
				round((c.score - (c.evidence->>'margin')::float8)::numeric, 3),
				coalesce(c.evidence->'organization'->>'route', 'fraud')),
			'first_seen', @extschema@.lockstep_stix_time(c.first_seen),
			'last_seen', @extschema@.lockstep_stix_time(c.refreshed_at),
			'x_lockstep_accounts', c.accounts,
			'x_lockstep_score', round(c.score::numeric, 4),
			'x_lockstep_margin', c.evidence->'margin',
			'x_lockstep_fired', to_jsonb(c.fired),
			'x_lockstep_signals', c.signals,
			'x_lockstep_organization', c.evidence->'organization',
			'x_lockstep_status', c.status);
		-- the values enough members share, most shared first, twenty of each kind at most
		FOR ind IN EXECUTE format($q$
			WITH v AS MATERIALIZED (
				SELECT l.account_id::bigint AS account_id, v.kind, v.value
				FROM %1$s l
				CROSS JOIN LATERAL (VALUES
					(CASE WHEN %4$s THEN 'network' END,
					 CASE WHEN %4$s THEN pg_catalog.network(pg_catalog.set_masklen(%5$s,
						 CASE pg_catalog.family(%5$s) WHEN 4 THEN 24 ELSE 48 END))::text END),
					(CASE WHEN %6$s THEN 'user_agent' END, %7$s)) v(kind, value)
				WHERE l.ts >= $2 AND l.ts < $3 AND v.value IS NOT NULL),
			members AS (SELECT m.account_id FROM %2$I.%3$I m WHERE m.campaign = $1),
			mine AS (
				SELECT kind, value, count(DISTINCT account_id) AS accounts
				FROM v WHERE account_id IN (TABLE members) GROUP BY kind, value
				HAVING count(DISTINCT account_id) >= greatest($4, ceil($5 * 0.1))),
			others AS (
				SELECT kind, value, count(DISTINCT account_id) AS accounts
				FROM v WHERE (kind, value) IN (SELECT kind, value FROM mine) AND account_id NOT IN (TABLE members)
				GROUP BY kind, value)
			SELECT kind, value, accounts, others FROM (
				SELECT mine.kind, mine.value, mine.accounts, coalesce(others.accounts, 0) AS others,
					   row_number() OVER (PARTITION BY mine.kind ORDER BY mine.accounts DESC, mine.value) AS rank
				FROM mine LEFT JOIN others USING (kind, value)
				WHERE coalesce(others.accounts, 0) < mine.accounts) r
			WHERE rank <= 20 ORDER BY kind, rank$q$,
			log, nsp, base || '_members', coalesce(has_ip, false)::text,
			CASE WHEN has_ip THEN 'l.client_ip::inet' ELSE 'NULL::inet' END,
			coalesce(has_ua, false)::text, CASE WHEN has_ua THEN 'l.user_agent::text' ELSE 'NULL::text' END)
			USING c.campaign, since, until, min_accounts, c.accounts
		LOOP
			DECLARE
				pattern text := format('[%s = ''%s'']',
					CASE WHEN ind.kind = 'user_agent' THEN 'network-traffic:extensions.''http-request-ext''.request_header.''User-Agent'''
						 WHEN ind.value LIKE '%:%' THEN 'ipv6-addr:value' ELSE 'ipv4-addr:value' END,
					replace(replace(ind.value, '\', '\\'), '''', '\'''));
				iid text := 'indicator--' || @extschema@.lockstep_uuid5(ns, cid || '/' || pattern);
			BEGIN
				objects := objects || jsonb_build_object(
					'type', 'indicator', 'spec_version', '2.1', 'id', iid,
					'created', @extschema@.lockstep_stix_time(c.first_seen),
					'modified', @extschema@.lockstep_stix_time(c.refreshed_at),
					'created_by_ref', ident_id,
					'name', format('%s shared by %s accounts of lockstep campaign %s',
								   replace(ind.kind, '_', ' '), ind.accounts, c.campaign),
					'indicator_types', jsonb_build_array('malicious-activity'),
					'pattern', pattern, 'pattern_type', 'stix',
					'valid_from', @extschema@.lockstep_stix_time(c.first_seen),
					'x_lockstep_member_accounts', ind.accounts,
					'x_lockstep_other_accounts', ind.others)
				|| jsonb_build_object(
					'type', 'relationship', 'spec_version', '2.1',
					'id', 'relationship--' || @extschema@.lockstep_uuid5(ns, iid || '/indicates/' || cid),
					'created', @extschema@.lockstep_stix_time(c.first_seen),
					'modified', @extschema@.lockstep_stix_time(c.refreshed_at),
					'created_by_ref', ident_id,
					'relationship_type', 'indicates', 'source_ref', iid, 'target_ref', cid);
			END;
		END LOOP;
	END LOOP;
	IF jsonb_array_length(objects) = 0 THEN
		RAISE EXCEPTION 'pipeline % has no flagged campaign%', name, coalesce(' ' || campaign, '')
			USING ERRCODE = 'no_data_found', HINT = format('SELECT * FROM %I.%I lists the flagged campaigns of each refresh.', nsp, base || '_history');
	END IF;
	objects := jsonb_build_array(jsonb_build_object(
		'type', 'identity', 'spec_version', '2.1', 'id', ident_id,
		'created', @extschema@.lockstep_stix_time(ident_time), 'modified', @extschema@.lockstep_stix_time(ident_time),
		'name', identity, 'identity_class', 'organization')) || objects;
	RETURN jsonb_build_object('type', 'bundle',
		'id', 'bundle--' || @extschema@.lockstep_uuid5(ns, format('bundle/%s/%s.%s/%s', identity, nsp, base, coalesce(campaign::text, 'all'))),
		'objects', objects);
END $$;
COMMENT ON FUNCTION @extschema@.lockstep_stix_bundle_config(regclass, text, bigint, text, integer) IS
	'internal: lockstep_stix_bundle of the pipeline whose config table is cfg';

CREATE FUNCTION @extschema@.lockstep_stix_bundle(pipeline text, campaign bigint DEFAULT NULL,
	identity text DEFAULT 'lockstep', min_accounts integer DEFAULT 3) RETURNS jsonb
	LANGUAGE sql STABLE PARALLEL RESTRICTED
	AS $$ SELECT @extschema@.lockstep_stix_bundle_config(@extschema@.lockstep_pipeline_config(pipeline), pipeline,
														 campaign, identity, min_accounts) $$;
COMMENT ON FUNCTION @extschema@.lockstep_stix_bundle(text, bigint, text, integer) IS
	'a STIX 2.1 bundle of a pipeline''s flagged campaign (its stable id from N_history; NULL: every flagged campaign of the last refresh): the campaign with its evidence (x_lockstep_ properties), indicators for the networks and user agents at least min_accounts (and a tenth) of its accounts share, their indicates relationships, and the identity that made them; ids are UUIDv5, the same at every export';

