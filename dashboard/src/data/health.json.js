// Every refresh of the pipeline: its stages, rows, memory and days stored.
import {emit} from "../../lib/db.js";

await emit(async (db, rel) => {
  const {rows} = await db.query(`
    SELECT started_at, finished_at, seconds::float8, stage_seconds, first_day::text, last_day::text,
           days_added, days_recomputed, rows_read::text, rows_skipped::text, rows_before_range::text,
           clustering_mb::float8, days_stored::int, campaigns::int
    FROM ${rel("health")} ORDER BY started_at`);
  return rows;
});
