// Serve the built dashboard (dist/) on localhost only, with the clean
// addresses its links use (/campaign is dist/campaign.html).
// Usage: node lib/serve.js [PORT]  (default 3000)
import http from "node:http";
import {readFile} from "node:fs/promises";
import {extname, join, normalize} from "node:path";
import {fileURLToPath} from "node:url";

const root = fileURLToPath(new URL("../dist/", import.meta.url));
const port = Number(process.argv[2] || process.env.PORT || 3000);
const types = {".html": "text/html; charset=utf-8", ".js": "text/javascript", ".css": "text/css",
  ".json": "application/json", ".png": "image/png", ".svg": "image/svg+xml", ".csv": "text/csv"};

async function file(path) {
  for (const candidate of [path, `${path}.html`, join(path, "index.html")]) {
    try { return [candidate, await readFile(candidate)]; } catch { /* next */ }
  }
  return [null, null];
}

http.createServer(async (req, res) => {
  const url = new URL(req.url, "http://localhost");
  if (url.pathname === "/favicon.ico") { res.writeHead(204).end(); return; }
  const path = normalize(join(root, decodeURIComponent(url.pathname)));
  if (!path.startsWith(root.slice(0, -1))) { res.writeHead(403).end(); return; }
  const [name, body] = await file(path);
  if (!body) { res.writeHead(404, {"content-type": "text/plain"}).end("not found\n"); return; }
  res.writeHead(200, {"content-type": types[extname(name)] ?? "application/octet-stream"}).end(body);
}).listen(port, "127.0.0.1", () => console.log(`lockstep dashboard: http://localhost:${port}/`));
