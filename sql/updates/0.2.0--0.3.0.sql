-- lockstep 0.2.0 -> 0.3.0, first steps: the fingerprint format version 2
-- (order-independent scaffold keys and models, active days) and the
-- calendar channel.  The C functions keep their signatures; some of their
-- descriptions change.

COMMENT ON FUNCTION @extschema@.fingerprint_scaffolds(@extschema@.fingerprint) IS
	'the scaffold keys of a fingerprint''s sample (the 48 smallest) with their exact counts; error_bound is always 0 since format version 2';
COMMENT ON FUNCTION @extschema@.fingerprint_similarity(@extschema@.fingerprint, @extschema@.fingerprint) IS
	'behavioural similarity in [0, 1]: the weighted mean of the channel similarities (content 0.30, intents 0.10, infrastructure 0.15, coactivity 0.15, hours 0.05, models 0.10, calendar 0.15)';
COMMENT ON FUNCTION @extschema@.fingerprint_similarity(@extschema@.fingerprint, @extschema@.fingerprint, double precision[]) IS
	'behavioural similarity with explicit channel weights {content, intents, infrastructure, coactivity, hours, models, calendar} (six weights: calendar 0)';
CREATE FUNCTION @extschema@.fingerprint_calendar_similarity(@extschema@.fingerprint, @extschema@.fingerprint)
	RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fingerprint_calendar_similarity(@extschema@.fingerprint, @extschema@.fingerprint) IS
	'shared active days beyond chance: (J - E) / (1 - E) for the Jaccard J of the two sets of active UTC days and its expectation E for independent accounts with the same rates over their overlapping spans; 0 at or below chance';
