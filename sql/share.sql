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

-- Blinded fingerprints (src/blind.c): every hashed feature keyed with
-- HMAC-SHA-256, so that two providers who share a key can compare their
-- accounts and no one else can read them.
CREATE FUNCTION @extschema@.fingerprint_blind(fp @extschema@.fingerprint, key bytea)
	RETURNS @extschema@.fingerprint
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.fingerprint_blind(@extschema@.fingerprint, bytea) IS
	'the fingerprint with every hashed feature (scaffold keys, networks, user agents, payment instruments, models) keyed by HMAC-SHA-256 under key (at least 16 bytes) and model names replaced: fingerprints blinded under one key compare as the plain ones do (exactly where no sketch is full), under different keys their hashed channels share nothing';

CREATE FUNCTION @extschema@.lockstep_model_hash(name text, key bytea) RETURNS bigint
	AS 'MODULE_PATHNAME', 'lockstep_model_hash_blind' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.lockstep_model_hash(text, bytea) IS
	'a model''s identity in fingerprints blinded under key, for a release table in the same form';

CREATE FUNCTION @extschema@.lockstep_blind_id(id bigint, key bytea) RETURNS bigint
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION @extschema@.lockstep_blind_id(bigint, bytea) IS
	'an account''s reference in an exchange of fingerprints blinded under key (HMAC-SHA-256): its exporter computes it again to find the account';

-- What a provider sends in a blinded exchange: the accounts of a relation
-- of (account_id, fp) that have content (a scaffold that recurs, or enough
-- keyed prompts: fingerprint_content_similarity is defined), each as its
-- blinded reference and fingerprint.  An account without content would
-- be compared on its unkeyed channels alone (times, intents) and could
-- match an account of another key's exchange; one with content cannot
-- (README, "Sharing").
CREATE FUNCTION @extschema@.lockstep_blind_export(fingerprints regclass, key bytea)
	RETURNS TABLE (account_ref bigint, fp @extschema@.fingerprint)
	LANGUAGE plpgsql STABLE PARALLEL RESTRICTED
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	IF fingerprints IS NULL OR key IS NULL THEN
		RAISE EXCEPTION 'the fingerprints relation and the key must not be NULL' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	RETURN QUERY EXECUTE format($q$
		SELECT @extschema@.lockstep_blind_id(f.account_id::bigint, $1), @extschema@.fingerprint_blind(f.fp, $1)
		FROM %s f
		WHERE @extschema@.fingerprint_content_similarity(f.fp, f.fp) IS NOT NULL
		ORDER BY 1$q$, fingerprints) USING key;
END $$;
COMMENT ON FUNCTION @extschema@.lockstep_blind_export(regclass, bytea) IS
	'the blinded exchange of a relation of (account_id, fp): (account_ref, fp) for each account with content, blinded under key; COPY it to a file for the other provider';
