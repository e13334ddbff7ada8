// Per flagged campaign of the last refresh: its timeline, evidence, the
// keys its members share and its members; and the release calendar.
import {emit} from "../../lib/db.js";

await emit(async (db, rel, p) => {
  const {rows: timeline} = await db.query(`
    SELECT campaign::int, day::text, requests::int, accounts, new_accounts, models, intents
    FROM ${rel("timeline")} ORDER BY campaign, day`);
  const {rows: evidence} = await db.query(`
    SELECT h.campaign::int, k.evidence
    FROM ${rel("history")} h JOIN ${rel("campaigns")} k ON k.cluster = h.cluster
    WHERE h.refreshed_at = (SELECT max(refreshed_at) FROM ${rel("history")})`);
  const {rows: shared} = await db.query(`
    SELECT campaign::int, kind, rank, key::text, accounts FROM ${rel("shared")} ORDER BY campaign, kind, rank`);
  const {rows: members} = await db.query(`
    SELECT m.campaign::int, m.account_id::text, round(a.score::numeric, 3)::float8 AS score, a.flagged
    FROM ${rel("members")} m LEFT JOIN ${rel("accounts")} a USING (account_id)
    ORDER BY m.campaign, a.score DESC NULLS LAST, m.account_id`);
  const releases = p.releases
    ? (await db.query(`SELECT model::text, released_at FROM ${p.releases}
                       WHERE released_at BETWEEN '-infinity'::timestamptz AND 'infinity' ORDER BY released_at`)).rows
    : [];
  return {timeline, evidence, shared, members, releases};
});
