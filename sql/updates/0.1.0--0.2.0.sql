-- lockstep 0.1.0 -> 0.2.0: what the update changes beyond replacing the scoring
-- and pipeline functions, which the Makefile appends from sql/scoring.sql and
-- sql/pipeline.sql (see sql/README).

-- The synthetic log moved to its own extension, lockstep_synth: a
-- production database has no use for a generator of attack-like prompts.
DROP FUNCTION @extschema@.lockstep_synth_log(bigint, bigint);
DROP FUNCTION @extschema@.lockstep_synth_chunk(bigint, bigint, bigint, bigint);
DROP FUNCTION @extschema@.lockstep_synth_accounts(bigint, bigint);
DROP FUNCTION @extschema@.lockstep_synth_releases();
