// Open each page of the built dashboard in headless Chromium and check it
// against the pipeline's SQL: the numbers shown are the views' numbers, no
// request leaves localhost, no console error appears.  Saves a screenshot
// of each page.  Prints one JSON line per check ({name, ok, detail}).
// A warning in the console counts as an error (Plot says so when a chart is
// drawn wrong).
// Usage: node test/browser.js BASE_URL SCREENSHOT_DIR
import {mkdir} from "node:fs/promises";
import {chromium} from "playwright-core";
import {withPipeline} from "../lib/db.js";

const [base, shots] = process.argv.slice(2);
const check = (name, ok, detail = "") => console.log(JSON.stringify({name, ok: Boolean(ok), detail: String(detail)}));

const sql = await withPipeline(async (db, rel) => {
  const one = async (q) => (await db.query(q)).rows[0];
  return {
    counts: await one(`SELECT count(*) FILTER (WHERE accounts_now IS NOT NULL)::int AS flagged,
                              count(*) FILTER (WHERE change IN ('new', 'split'))::int AS new,
                              count(*) FILTER (WHERE change = 'grew')::int AS grew,
                              count(*) FILTER (WHERE change IN ('gone', 'merged'))::int AS gone
                       FROM ${rel("changes")}`),
    top: await one(`SELECT c.campaign::int, c.accounts_now AS accounts, to_char(c.score_now, 'FM0.000') AS score,
                           (SELECT count(*)::int FROM ${rel("members")} m WHERE m.campaign = c.campaign) AS members
                    FROM ${rel("changes")} c WHERE c.accounts_now IS NOT NULL ORDER BY c.score_now DESC LIMIT 1`),
    account: await one(`SELECT a.account_id::text, to_char(a.score, 'FM0.000') AS score, m.campaign::int
                        FROM ${rel("accounts")} a JOIN ${rel("members")} m USING (account_id)
                        WHERE a.flagged ORDER BY a.score DESC, a.account_id LIMIT 1`),
    health: await one(`SELECT (SELECT count(*)::int FROM ${rel("refreshes")}) AS refreshes,
                              (SELECT count(*)::int FROM ${rel("days")}) AS days`)
  };
});
check("the pipeline has flagged campaigns to show", sql.counts.flagged > 0, JSON.stringify(sql.counts));

await mkdir(shots, {recursive: true});
const browser = await chromium.launch({executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-gpu"]});
const page = await browser.newPage({viewport: {width: 1280, height: 900}});
let outside = [], errors = [];
await page.route("**/*", (route) => {
  const url = new URL(route.request().url());
  if (["localhost", "127.0.0.1"].includes(url.hostname) || url.protocol === "data:") return route.continue();
  outside.push(url.href);
  return route.abort();
});
page.on("console", (m) => { if (["error", "warning"].includes(m.type())) errors.push(m.text()); });
page.on("pageerror", (e) => errors.push(e.message));

async function visit(path, name, checks) {
  outside = []; errors = [];
  await page.goto(base + path, {waitUntil: "networkidle"});
  for (const [selector, want, what] of checks) {
    let got;
    try {
      await page.waitForFunction((s) => document.querySelector(s)?.textContent.trim(), selector, {timeout: 15000});
      got = (await page.textContent(selector)).trim();
    } catch (e) { got = `(not shown: ${e.message.split("\n")[0]})`; }
    check(`${name}: ${what} is the SQL's (${want})`, got === String(want), `page shows ${got}`);
  }
  await page.screenshot({path: `${shots}/${name}.png`, fullPage: true});
  check(`${name}: no request outside localhost`, outside.length === 0, outside.join(" "));
  check(`${name}: no console error or warning`, errors.length === 0, errors.join(" | "));
}

const t = sql.top, a = sql.account;
await visit("/", "campaigns", [
  ["[data-test=flagged]", sql.counts.flagged, "flagged campaigns"],
  ["[data-test=new]", sql.counts.new, "new since the last refresh"],
  ["[data-test=grew]", sql.counts.grew, "growing"],
  ["[data-test=gone]", sql.counts.gone, "gone"],
  ["[data-test=campaigns] tbody tr:first-child [data-test=accounts]", t.accounts, "the top campaign's size"],
  ["[data-test=campaigns] tbody tr:first-child [data-test=score]", t.score, "the top campaign's score"]
]);
await visit(`/campaign?id=${t.campaign}`, "campaign", [
  ["[data-test=accounts]", t.accounts, `campaign ${t.campaign}'s size`],
  ["[data-test=score]", t.score, `campaign ${t.campaign}'s score`],
  ["[data-test=members]", t.members, `campaign ${t.campaign}'s member count`]
]);
await visit(`/account?id=${a.account_id}`, "account", [
  ["[data-test=score]", a.score, `account ${a.account_id}'s score`],
  ["[data-test=campaign]", a.campaign, `account ${a.account_id}'s campaign`]
]);
const near = await page.$$eval("[data-test=nearest] tbody tr", (rows) => rows.length);
check("account: its nearest accounts are listed", near > 0, `${near} rows`);
await visit("/health", "health", [
  ["[data-test=refreshes]", sql.health.refreshes, "refreshes"],
  ["[data-test=days]", sql.health.days, "days stored"]
]);
await browser.close();
