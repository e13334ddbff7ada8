-- The synthetic log: deterministic, labelled, scaled.
\i test/include/prelude.sql
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
-- the variants: each evasion changes what it says and nothing else
CREATE TEMP TABLE v AS
SELECT variant, l.*, a.kind, a.campaign
FROM unnest('{base,proxies,paraphrase,low_slow,human_timing,mixed,combined}'::text[]) variant,
     lockstep_synth_log(60000, 3, variant) l JOIN lockstep_synth_accounts(60000, 3, variant) a USING (account_id);
SELECT variant,
       count(DISTINCT account_id) FILTER (WHERE campaign IS NOT NULL) AS campaign_accounts,
       -- proxies: campaign /24s and cards shared by at most one account
       (SELECT max(n) FROM (SELECT count(DISTINCT v2.account_id) AS n FROM v v2
        WHERE v2.variant = v.variant AND v2.campaign IS NOT NULL
        GROUP BY set_masklen(v2.client_ip, 24)) s) AS max_accounts_per_24,
       count(DISTINCT payment) FILTER (WHERE campaign IS NOT NULL) AS campaign_cards,
       -- paraphrase: filler openers
       count(*) FILTER (WHERE campaign IS NOT NULL AND prompt ~ '^(Hi!|Hello,|Quick one:)') > 0 AS fillers,
       -- human timing: own time zones spill over UTC dates
       count(DISTINCT (ts AT TIME ZONE 'UTC')::date) FILTER (WHERE campaign IS NOT NULL) AS campaign_utc_days,
       -- mixed: the first campaign request on the new model, hours after release
       round(extract(epoch FROM min(ts) FILTER (WHERE campaign IS NOT NULL AND model = 'frontier-2')
             - '2026-01-23 00:00+00'::timestamptz) / 3600) AS pivot_hours
FROM v GROUP BY variant ORDER BY variant;
-- the app-user cohorts: three apps, one user agent each, every user on
-- the new model within hours of its release, arrivals spread over weeks
SELECT user_agent, count(DISTINCT account_id) AS users,
       max(ts) FILTER (WHERE model = 'frontier-1' AND ts > '2026-01-23') - '2026-01-23 00:00+00' < interval '9 hours' AS switched,
       (SELECT max(f) - min(f) FROM (SELECT min(ts) AS f FROM v v2 WHERE v2.variant = 'base' AND v2.user_agent = v.user_agent
        GROUP BY account_id) a) > interval '14 days' AS arrivals_spread
FROM v WHERE variant = 'base' AND kind = 'app_user' GROUP BY 1 ORDER BY 1;
SELECT expect_error($$SELECT * FROM lockstep_synth_log(5000, 1, 'tor')$$);
