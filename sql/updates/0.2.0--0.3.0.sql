-- lockstep 0.2.0 -> 0.3.0, first steps: the fingerprint format version 2
-- (order-independent scaffold keys and models, active days) and the
-- calendar channel, the combination of two families, typed inputs for
-- scoring (fingerprint_stats, fingerprint_intents).  The C functions keep
-- their signatures; some of their descriptions change.

COMMENT ON FUNCTION @extschema@.fingerprint_scaffolds(@extschema@.fingerprint) IS
	'the scaffold keys of a fingerprint''s sample (the 48 smallest) with their exact counts; error_bound is always 0 since format version 2';
COMMENT ON FUNCTION @extschema@.fingerprint_similarity(@extschema@.fingerprint, @extschema@.fingerprint) IS
	'behavioural similarity in [0, 1]: the geometric mean of the work (weighted mean of content 0.30, intents 0.10, models 0.10; hours 0) and the operator (the strongest of infrastructure, coactivity, calendar, each at weight 0.15); 0 when either family is unknown (no content or intents, no timing or infrastructure)';
COMMENT ON FUNCTION @extschema@.fingerprint_similarity(@extschema@.fingerprint, @extschema@.fingerprint, double precision[]) IS
	'behavioural similarity with explicit channel weights {content, intents, infrastructure, coactivity, hours, models, calendar} (six weights: calendar 0): weights within the work family; in the operator family, each channel scaled by its weight over the family''s largest';
COMMENT ON FUNCTION @extschema@.fingerprint_similarity_detail(@extschema@.fingerprint, @extschema@.fingerprint) IS
	'the combined similarity, its two families (work, operator) and every channel''s (null: undefined)';
CREATE FUNCTION @extschema@.fingerprint_calendar_similarity(@extschema@.fingerprint, @extschema@.fingerprint)
	RETURNS double precision
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fingerprint_calendar_similarity(@extschema@.fingerprint, @extschema@.fingerprint) IS
	'shared active days beyond chance: (J - E) / (1 - E) for the Jaccard J of the two sets of active UTC days and its expectation E for independent accounts with the same rates over their overlapping spans; 0 at or below chance';
COMMENT ON FUNCTION @extschema@.fingerprint_content_similarity(@extschema@.fingerprint, @extschema@.fingerprint) IS
	'weighted Jaccard of the recurring prompt scaffolds'' traffic shares; 0 if neither repeats a scaffold and each sent at least 5 keyed prompts, NULL if neither repeats one and either sent fewer';
COMMENT ON FUNCTION @extschema@.fingerprint_infrastructure_similarity(@extschema@.fingerprint, @extschema@.fingerprint) IS
	'shared networks (0.45: the Jaccard J of the /24 sets, or I / (I + 8) for the I networks both used if more), payment instruments (0.40) and user agents (0.15), Jaccard estimates';
COMMENT ON FUNCTION @extschema@.fingerprint_coactivity_similarity(@extschema@.fingerprint, @extschema@.fingerprint) IS
	'shared active 15-minute buckets beyond chance: (J - E) / (1 - E) for the Jaccard J of the two sets of active buckets and its expectation E for independent accounts with the same hour-of-week rhythm over their overlapping spans; 0 at or below chance';

CREATE FUNCTION @extschema@.fingerprint_stats(@extschema@.fingerprint,
	OUT requests bigint, OUT prompts bigint, OUT first_seen timestamptz, OUT last_seen timestamptz,
	OUT active_buckets double precision, OUT active_days double precision) RETURNS record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fingerprint_stats(@extschema@.fingerprint) IS
	'the numbers scoring reads, typed: requests, prompts, first and last seen (NULL without timestamps), active 15-minute buckets and active days (estimates past their sketches)';

CREATE FUNCTION @extschema@.fingerprint_intents(@extschema@.fingerprint,
	OUT intent text, OUT count bigint, OUT rate double precision) RETURNS SETOF record
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 6;
COMMENT ON FUNCTION @extschema@.fingerprint_intents(@extschema@.fingerprint) IS
	'each intent of the lexicon with its prompt count and rate per prompt';
