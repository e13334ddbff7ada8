// Every flagged account: its score, campaign and evidence, and the members
// of its campaign most like it, ordered by distance (<->).  The candidates
// are at most 64 members of each campaign, in hash order of their ids: a
// bounded cost (at 16M rows a campaign has 18,000 members, all alike).
import {emit} from "../../lib/db.js";

await emit(async (db, rel) => {
  const {rows} = await db.query(`
    WITH sample AS MATERIALIZED (
      SELECT campaign, account_id, fp
      FROM (SELECT m.campaign, m.account_id, w.fp,
                   row_number() OVER (PARTITION BY m.campaign ORDER BY hashint8(m.account_id), m.account_id) AS r
            FROM ${rel("members")} m JOIN ${rel("window")} w USING (account_id)) s
      WHERE r <= 64)
    SELECT a.account_id::text, m.campaign::int, round(a.score::numeric, 3)::float8 AS score, a.evidence,
           (SELECT coalesce(json_agg(json_build_object('account_id', n.account_id::text,
                                                       'similarity', n.similarity)), '[]')
            FROM (SELECT s.account_id, round((1 - (s.fp <-> w.fp))::numeric, 3)::float8 AS similarity
                  FROM sample s
                  WHERE s.campaign = m.campaign AND s.account_id <> a.account_id
                  ORDER BY s.fp <-> w.fp, s.account_id LIMIT 8) n) AS nearest
    FROM ${rel("accounts")} a
    JOIN ${rel("members")} m USING (account_id)
    JOIN ${rel("window")} w USING (account_id)
    WHERE a.flagged ORDER BY a.score DESC, a.account_id`);
  return rows;
});
