/* lockstep_synth 0.3.0: the labelled synthetic request log, with evasion variants */

\echo Use "CREATE EXTENSION lockstep_synth" to load this file. \quit

CREATE FUNCTION @extschema@.lockstep_synth_chunk(rows bigint, seed bigint, first bigint, count bigint,
	OUT request_id bigint, OUT account_id bigint, OUT org_id bigint, OUT ts timestamptz,
	OUT prompt text, OUT client_ip inet, OUT user_agent text, OUT payment text,
	OUT model text, OUT tokens_in integer, OUT tokens_out integer)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'synth_log_chunk' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 8192;
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
		FROM pg_catalog.generate_series(0::bigint, (rows - 1) / 8192) AS c,
			 @extschema@.lockstep_synth_chunk(rows, seed, c * 8192,
											  LEAST(8192, rows - c * 8192)) AS g
	$$;
COMMENT ON FUNCTION @extschema@.lockstep_synth_log(bigint, bigint) IS
	'deterministic synthetic API request log with legitimate users, app-user cohorts, integrations, enterprise teams and three campaigns (variant base)';

CREATE FUNCTION @extschema@.lockstep_synth_accounts(rows bigint, seed bigint DEFAULT 42,
	OUT account_id bigint, OUT org_id bigint, OUT kind text, OUT campaign text)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'synth_accounts' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.lockstep_synth_accounts(bigint, bigint) IS
	'ground-truth labels of every account of lockstep_synth_log(rows, seed)';

-- The variants: the same log with a campaign's evasions (see lockstep_synth.c).
CREATE FUNCTION @extschema@.lockstep_synth_chunk(rows bigint, seed bigint, first bigint, count bigint, variant text,
	OUT request_id bigint, OUT account_id bigint, OUT org_id bigint, OUT ts timestamptz,
	OUT prompt text, OUT client_ip inet, OUT user_agent text, OUT payment text,
	OUT model text, OUT tokens_in integer, OUT tokens_out integer)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'synth_log_chunk' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE ROWS 8192;
COMMENT ON FUNCTION @extschema@.lockstep_synth_chunk(bigint, bigint, bigint, bigint, text) IS
	'rows first .. first + count - 1 of the synthetic log of a variant; see lockstep_synth_log';

CREATE FUNCTION @extschema@.lockstep_synth_log(rows bigint, seed bigint, variant text,
	OUT request_id bigint, OUT account_id bigint, OUT org_id bigint, OUT ts timestamptz,
	OUT prompt text, OUT client_ip inet, OUT user_agent text, OUT payment text,
	OUT model text, OUT tokens_in integer, OUT tokens_out integer)
	RETURNS SETOF record
	LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
	AS $$
		SELECT g.*
		FROM pg_catalog.generate_series(0::bigint, (rows - 1) / 8192) AS c,
			 @extschema@.lockstep_synth_chunk(rows, seed, c * 8192,
											  LEAST(8192, rows - c * 8192), variant) AS g
	$$;
COMMENT ON FUNCTION @extschema@.lockstep_synth_log(bigint, bigint, text) IS
	'the synthetic log with the campaigns'' evasions: variant base, proxies (residential addresses, own cards and browsers), paraphrase, low_slow (three times the accounts, a third of the volume), human_timing (own time zones and sessions on the operator''s working days), mixed (20-40% benign, pivot 3-48 h after release), combined (all of these), one_org and few_orgs (each campaign''s accounts are seats of one or five business organizations), small (a fourth campaign of 19 accounts with residential addresses, own cards and own timing), hydra (accounts that live 2-3 days, replaced on the same cards and networks), hydra_cards (hydra, each new account on a card of its own), heavy_tail (a few busy campaign accounts, many small ones), all (combined with few_orgs, small, hydra and heavy_tail), or several joined by +';

CREATE FUNCTION @extschema@.lockstep_synth_accounts(rows bigint, seed bigint, variant text,
	OUT account_id bigint, OUT org_id bigint, OUT kind text, OUT campaign text)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'synth_accounts' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.lockstep_synth_accounts(bigint, bigint, text) IS
	'ground-truth labels of every account of lockstep_synth_log(rows, seed, variant)';

CREATE FUNCTION @extschema@.lockstep_synth_releases(OUT model text, OUT released_at timestamptz)
	RETURNS SETOF record
	AS 'MODULE_PATHNAME', 'synth_releases' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.lockstep_synth_releases() IS
	'model release calendar of the synthetic log';

CREATE FUNCTION @extschema@.lockstep_synth_deserialize_trans(internal, bytea) RETURNS internal
	AS 'MODULE_PATHNAME', 'synth_deserialize_trans' LANGUAGE C IMMUTABLE PARALLEL UNSAFE;
COMMENT ON FUNCTION @extschema@.lockstep_synth_deserialize_trans(internal, bytea) IS
	'test hook: a transition function whose state is lockstep''s fingerprint_agg_deserialize of its input, so that a fuzzer can reach the deserializer (with FINALFUNC fingerprint_agg_final)';
