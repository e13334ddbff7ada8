-- lockstep 0.3.0 -> 0.4.0, first steps: the typed volume and infrastructure
-- keys that scoring and lockstep_cluster_accounts read.  No signature
-- changes; the replayed parts follow.

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
