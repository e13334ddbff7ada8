// Every flagged account: its score, campaign and evidence, and its nearest
// accounts in the window, found through the window's GIN index (fp % fp)
// and ordered by distance (<->).
import {emit} from "../../lib/db.js";

await emit(async (db, rel) => {
  const {rows} = await db.query(`
    SELECT a.account_id::text, m.campaign::int, round(a.score::numeric, 3)::float8 AS score, a.evidence,
           (SELECT coalesce(json_agg(json_build_object('account_id', n.account_id::text,
                                                       'similarity', n.similarity, 'campaign', n.campaign)), '[]')
            FROM (SELECT w2.account_id, round((1 - (w2.fp <-> w.fp))::numeric, 3)::float8 AS similarity, m2.campaign::int
                  FROM ${rel("window")} w2 LEFT JOIN ${rel("members")} m2 USING (account_id)
                  WHERE w2.fp % w.fp AND w2.account_id <> w.account_id
                  ORDER BY w2.fp <-> w.fp, w2.account_id LIMIT 8) n) AS nearest
    FROM ${rel("accounts")} a
    JOIN ${rel("members")} m USING (account_id)
    JOIN ${rel("window")} w USING (account_id)
    WHERE a.flagged ORDER BY a.score DESC, a.account_id`);
  return rows;
});
