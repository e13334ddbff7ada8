-- The synthetic log: deterministic, labelled, scaled.
SET timezone = 'UTC';
SELECT count(*), count(DISTINCT account_id) > 100 AS many_accounts FROM lockstep_synth_log(5000);
-- the same seed gives the same log; another seed another one
SELECT (SELECT md5(string_agg(l::text, '|' ORDER BY request_id)) FROM lockstep_synth_log(3000, 1) l) =
       (SELECT md5(string_agg(l::text, '|' ORDER BY request_id)) FROM lockstep_synth_log(3000, 1) l) AS deterministic,
       (SELECT md5(string_agg(l::text, '|' ORDER BY request_id)) FROM lockstep_synth_log(3000, 1) l) <>
       (SELECT md5(string_agg(l::text, '|' ORDER BY request_id)) FROM lockstep_synth_log(3000, 2) l) AS seeded;
-- every logged account has a label
SELECT count(*) AS unlabelled FROM lockstep_synth_log(20000) l
LEFT JOIN lockstep_synth_accounts(20000) a USING (account_id) WHERE a.account_id IS NULL;
SELECT kind, campaign, count(*) FROM lockstep_synth_accounts(1600000) GROUP BY 1, 2 ORDER BY 1, 2;
SELECT kind, campaign, count(*) FROM lockstep_synth_accounts(16000000) GROUP BY 1, 2 ORDER BY 1, 2;
-- only enterprise accounts have an org, and they share it in teams
SELECT kind, count(org_id) > 0 AS has_org, count(DISTINCT org_id) FROM lockstep_synth_accounts(160000) GROUP BY 1 ORDER BY 1;
SELECT * FROM lockstep_synth_releases() ORDER BY released_at;
-- the campaigns move to the new model within 24 hours of its release
SELECT a.campaign, min(l.ts) FILTER (WHERE l.model = 'frontier-2') - r.released_at < interval '24 hours' AS pivot_within_24h
FROM lockstep_synth_log(200000) l JOIN lockstep_synth_accounts(200000) a USING (account_id),
     lockstep_synth_releases() r
WHERE a.kind = 'campaign' AND r.model = 'frontier-2'
GROUP BY a.campaign, r.released_at ORDER BY 1;
-- bad arguments
SELECT expect_error($$SELECT * FROM lockstep_synth_log(10)$$);
SELECT expect_error($$SELECT * FROM lockstep_synth_chunk(10000, 1, 9000, 5000)$$);
