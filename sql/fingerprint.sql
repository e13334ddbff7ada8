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

CREATE FUNCTION @extschema@.fingerprint_payment_keys(@extschema@.fingerprint) RETURNS bigint[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fingerprint_payment_keys(@extschema@.fingerprint) IS
	'the payment keys of fingerprint_infrastructure_keys, ascending, as an array (the first is the smallest)';

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

-- Its state is fingerprint_agg's (expanded once, merged into in place),
-- so partial states combine and travel as fingerprint_agg's do.
CREATE FUNCTION @extschema@.fingerprint_union_trans(internal, @extschema@.fingerprint)
	RETURNS internal AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fingerprint_union_trans(internal, @extschema@.fingerprint) IS
	'fingerprint_union_agg transition';
CREATE AGGREGATE @extschema@.fingerprint_union_agg(@extschema@.fingerprint) (
	SFUNC = @extschema@.fingerprint_union_trans, STYPE = internal, SSPACE = 2048,
	FINALFUNC = @extschema@.fingerprint_agg_final, FINALFUNC_MODIFY = READ_ONLY,
	COMBINEFUNC = @extschema@.fingerprint_agg_combine,
	SERIALFUNC = @extschema@.fingerprint_agg_serialize,
	DESERIALFUNC = @extschema@.fingerprint_agg_deserialize,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.fingerprint_union_agg(@extschema@.fingerprint) IS
	'merge fingerprints, e.g. daily ones into a rolling window';

CREATE TYPE @extschema@.lockstep_shared_key AS (kind text, rank integer, key bigint, accounts integer);
COMMENT ON TYPE @extschema@.lockstep_shared_key IS
	'a key that several fingerprints of a group hold: its kind (network, user_agent, payment, scaffold), its rank in its kind, and how many fingerprints hold it';

CREATE FUNCTION @extschema@.fingerprint_shared_keys_trans(internal, @extschema@.fingerprint, integer) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fingerprint_shared_keys_trans(internal, @extschema@.fingerprint, integer) IS
	'transition of fingerprint_shared_keys_agg';
CREATE FUNCTION @extschema@.fingerprint_shared_keys_final(internal) RETURNS @extschema@.lockstep_shared_key[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fingerprint_shared_keys_final(internal) IS
	'final function of fingerprint_shared_keys_agg';
-- no combine function: a group is a campaign's members, and its keys are
-- counted in one table (N_shared reads 24,000 fingerprints in 0.5 s at 16M rows)
CREATE AGGREGATE @extschema@.fingerprint_shared_keys_agg(@extschema@.fingerprint, top integer) (
	SFUNC = @extschema@.fingerprint_shared_keys_trans,
	STYPE = internal,
	FINALFUNC = @extschema@.fingerprint_shared_keys_final,
	PARALLEL = SAFE);
COMMENT ON AGGREGATE @extschema@.fingerprint_shared_keys_agg(@extschema@.fingerprint, integer) IS
	'the network, user_agent, payment and scaffold keys that more than one of the fingerprints hold, the first top (1 to 1000) of each kind by how many hold each, then by key';

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
