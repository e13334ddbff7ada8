// What every data loader shares: one query against the pipeline named by
// LOCKSTEP_PIPELINE (default "demo"), over the standard PG* environment.
// Relation names come from the catalog (the pipeline's config table), so
// a pipeline in any schema is found as lockstep_refresh finds it.
import pg from "pg";

export async function withPipeline(work) {
  const client = new pg.Client();
  await client.connect();
  try {
    const name = process.env.LOCKSTEP_PIPELINE || "demo";
    const {rows} = await client.query(
      `SELECT quote_ident(p.nsp) || '.' || p.name AS prefix,
              (lockstep_pipeline_part(c.cfg, 'pipeline_releases'))[1]::text AS releases
       FROM (SELECT lockstep_pipeline_config($1) AS cfg) c, lockstep_pipeline_name(c.cfg) p
       WHERE c.cfg IS NOT NULL`, [name]);
    if (rows.length === 0) throw new Error(`no lockstep pipeline named ${name}`);
    const p = rows[0];
    const rel = (part) => `${p.prefix}_${part}`;
    return await work(client, rel, p);
  } finally {
    await client.end();
  }
}

// Run a loader: its result, as JSON, on standard output.
export async function emit(work) {
  const result = await withPipeline(work);
  process.stdout.write(JSON.stringify(result));
}
