// The campaigns of the last refresh and of the one before (the gone ones
// too), with what changed, their evidence and their trend over every refresh.
import {emit} from "../../lib/db.js";

await emit(async (db, rel) => {
  const last = await db.query(`SELECT max(refreshed_at) AS at, count(DISTINCT refreshed_at)::int AS refreshes
                               FROM ${rel("history")}`);
  const {rows: campaigns} = await db.query(`
    SELECT ch.campaign::int, ch.change, ch.accounts_before, ch.accounts_now,
           round(ch.score_now::numeric, 3)::float8 AS score, round(ch.score_before::numeric, 3)::float8 AS score_before,
           ch.merged_into::int, ch.parents, ch.first_seen,
           h.cluster::text AS cluster, h.fired, h.status,
           round((k.evidence->>'margin')::numeric, 3)::float8 AS margin,
           k.evidence->'organization'->>'route' AS route
    FROM ${rel("changes")} ch
    LEFT JOIN ${rel("history")} h ON h.campaign = ch.campaign
     AND h.refreshed_at = (SELECT max(refreshed_at) FROM ${rel("history")})
    LEFT JOIN ${rel("campaigns")} k ON k.cluster = h.cluster
    ORDER BY ch.score_now DESC NULLS LAST, ch.campaign`);
  const {rows: trend} = await db.query(`
    SELECT campaign::int, refreshed_at, accounts, round(score::numeric, 3)::float8 AS score
    FROM ${rel("history")} ORDER BY campaign, refreshed_at`);
  return {refreshed_at: last.rows[0].at, refreshes: last.rows[0].refreshes, campaigns, trend};
});
