-- The analyst's desk: campaign history with stable ids, what changed,
-- and the views made for dashboards.  Self-contained after setup.
\i test/include/prelude.sql
SET client_min_messages = warning;
CREATE TABLE desk_src AS SELECT * FROM lockstep_synth_log(200000, 11);
CREATE TABLE desk_rel AS SELECT * FROM lockstep_synth_releases();
-- the log grows: a week at first, then two more weeks, then the rest
CREATE TABLE desk_log AS SELECT * FROM desk_src WHERE ts < '2026-01-19';
SELECT lockstep_create_pipeline('desk', 'desk_log', 28, 'desk_rel', '{"min_size": 5}');
CALL lockstep_refresh('desk', '2026-01-18');
INSERT INTO desk_log SELECT * FROM desk_src WHERE ts >= '2026-01-19' AND ts < '2026-01-26';
CALL lockstep_refresh('desk', '2026-01-25');
INSERT INTO desk_log SELECT * FROM desk_src WHERE ts >= '2026-01-26';
CALL lockstep_refresh('desk', '2026-02-28');

-- one id per campaign across the three refreshes: each campaign of the
-- generator is one flagged campaign, under the same id every time
SELECT count(DISTINCT refreshed_at) AS refreshes, count(DISTINCT campaign) AS campaigns,
       array_agg(DISTINCT status ORDER BY status) AS statuses
FROM desk_history;
SELECT l.campaign AS generator_campaign, count(DISTINCT h.campaign) AS ids,
       bool_and(h.first_seen = (SELECT min(refreshed_at) FROM desk_history)) AS first_seen_at_first_refresh
FROM desk_history h
JOIN desk_members m ON m.campaign = h.campaign
JOIN lockstep_synth_accounts(200000, 11) l ON l.account_id = m.account_id
GROUP BY 1 ORDER BY 1;
-- what changed since the refresh before: nothing new, nothing gone
SELECT change, count(*) FROM desk_changes GROUP BY 1 ORDER BY 1;

-- A split: say the last refresh had two of today's campaigns as one (the
-- members of the second were the first's).  The larger part keeps the id;
-- the smaller gets a new one, split from it.
CREATE TABLE desk_before AS
SELECT campaign, accounts FROM desk_history WHERE refreshed_at = (SELECT max(refreshed_at) FROM desk_history);
UPDATE desk_members SET campaign = (SELECT min(campaign) FROM desk_before)
WHERE campaign = (SELECT campaign FROM desk_before ORDER BY accounts LIMIT 1 OFFSET 1);
CALL lockstep_refresh('desk', '2026-02-28');
SELECT h.status, h.parents = ARRAY[(SELECT min(campaign) FROM desk_before)] AS split_from_it,
       h.campaign > (SELECT max(campaign) FROM desk_before) AS new_id,
       h.accounts = (SELECT min(accounts) FROM desk_before b
                     WHERE b.campaign IN ((SELECT min(campaign) FROM desk_before),
                                          (SELECT campaign FROM desk_before ORDER BY accounts LIMIT 1 OFFSET 1))) AS smaller_part
FROM desk_history h
WHERE h.refreshed_at = (SELECT max(refreshed_at) FROM desk_history) AND h.status <> 'continued';
SELECT change, accounts_before IS NULL AS no_before FROM desk_changes WHERE change <> 'same' ORDER BY 1;

-- A merge: say the last refresh had the largest campaign as two, the
-- second (a campaign of its own in that refresh) with fewer members.  The
-- one it shares most members with keeps its id, and lists the other.
CREATE TABLE desk_big AS
SELECT campaign FROM desk_history WHERE refreshed_at = (SELECT max(refreshed_at) FROM desk_history)
ORDER BY accounts DESC LIMIT 1;
INSERT INTO desk_history
SELECT refreshed_at, last_day, 1000, cluster, accounts / 3, score, fired, signals, 'new', NULL, refreshed_at
FROM desk_history WHERE refreshed_at = (SELECT max(refreshed_at) FROM desk_history)
  AND campaign = (TABLE desk_big);
UPDATE desk_members SET campaign = 1000
WHERE campaign = (TABLE desk_big) AND account_id % 3 = 0;
CALL lockstep_refresh('desk', '2026-02-28');
SELECT campaign = (TABLE desk_big) AS kept_its_id, status, parents
FROM desk_history WHERE refreshed_at = (SELECT max(refreshed_at) FROM desk_history) AND status = 'merged';
SELECT campaign, change, merged_into = (TABLE desk_big) AS into_the_big_one
FROM desk_changes WHERE change NOT IN ('same', 'grew', 'shrank') ORDER BY campaign;

-- the views made for dashboards agree with the campaigns they show
SELECT count(*) AS timeline_days, bool_and(accounts > 0) AS active,
       bool_and(requests = (SELECT sum(n) FROM jsonb_each_text(models) x(k, v), LATERAL CAST(v AS bigint) n)) AS models_add_up
FROM desk_timeline;
SELECT t.campaign, sum(t.new_accounts) = max(h.accounts) AS every_member_new_once
FROM desk_timeline t JOIN desk_history h ON h.campaign = t.campaign
 AND h.refreshed_at = (SELECT max(refreshed_at) FROM desk_history)
GROUP BY 1 ORDER BY 1;
-- a member is new on the day of its first daily row in the window
SELECT count(*) AS new_mismatches
FROM (SELECT campaign, day, new_accounts FROM desk_timeline WHERE new_accounts > 0) t
FULL JOIN (SELECT m.campaign, min(d.day) AS day, count(*) OVER (PARTITION BY m.campaign, min(d.day)) AS n
           FROM desk_members m JOIN desk_daily d USING (account_id)
           WHERE d.day > (SELECT max(day) FROM desk_daily) - (SELECT window_days FROM desk_config)
           GROUP BY m.campaign, m.account_id) f USING (campaign, day)
WHERE t.new_accounts IS DISTINCT FROM f.n;
SELECT kind, bool_and(rank BETWEEN 1 AND 10) AS ranked, bool_and(accounts > 1) AS shared
FROM desk_shared GROUP BY 1 ORDER BY 1;
-- every shared key's count is the members whose fingerprint holds it
SELECT bool_and(s.accounts = (SELECT count(*) FROM desk_members m JOIN desk_window w USING (account_id)
                              WHERE m.campaign = s.campaign
                                AND s.key IN (SELECT key FROM fingerprint_infrastructure_keys(w.fp) i WHERE i.kind = s.kind)))
       AS counts_right
FROM desk_shared s WHERE s.kind <> 'scaffold';
SELECT count(*) AS refreshes, bool_and(stage_seconds ?& ARRAY['days', 'window', 'clusters', 'campaigns', 'accounts',
                                                             'history', 'timeline', 'shared']) AS every_stage,
       bool_and(clustering_mb > 0) AS memory_charged, max(days_stored) AS days_stored
FROM desk_health;
SELECT lockstep_drop_pipeline('desk');
SELECT count(*) AS left_behind FROM pg_class WHERE relname LIKE 'desk\_%' AND relname NOT IN
  ('desk_src', 'desk_rel', 'desk_log', 'desk_before', 'desk_big');
