-- lockstep 0.4.0 -> 0.5.0, first steps: the C function that the replayed
-- code does not define (sql/README).
CREATE FUNCTION @extschema@.lockstep_infrastructure_key(kind text, value text) RETURNS bigint
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.lockstep_infrastructure_key(text, text) IS
	'the key that fingerprint_infrastructure_keys reports for a value of kind network (an address), user_agent or payment: to find in the log the values behind a key';
