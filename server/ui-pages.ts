/**
 * @module Serves the web UI at `/`: one HTML page that loads the bundled
 * script and style sheet from `/ui/`. The page holds no data and no inline
 * code, so its Content-Security-Policy allows only our own scripts, styles
 * and requests (`'self'`); everything it shows comes from /v1 as JSON.
 */
import { uiBundle } from "./ui-bundle.ts";

/** The policy of UI responses: our own script, style sheet and /v1 calls, nothing inline, no framing. */
export const UI_CONTENT_SECURITY_POLICY =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
  "form-action 'none'; base-uri 'none'; frame-ancestors 'none'";

const PATHS = new Set(["/", "/index.html", "/ui/app.js", "/ui/app.css", "/favicon.ico"]);

/** Whether `path` is one of the UI's. */
export function isUiPath(path: string): boolean {
  return PATHS.has(path);
}

let cached: { page: string; js: string; css: string; etag: string } | null = null;

async function assets() {
  if (cached) return cached;
  const { js, css } = await uiBundle();
  const etag = `"${new Bun.CryptoHasher("sha256").update(js).update(css).digest("hex").slice(0, 16)}"`;
  const v = etag.slice(1, 9);
  const page = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>mcr</title>
<link rel="stylesheet" href="/ui/app.css?v=${v}">
<script type="module" src="/ui/app.js?v=${v}"></script>
</head>
<body><noscript>The mcr web UI needs JavaScript.</noscript><div id="root"></div></body>
</html>
`;
  cached = { page, js, css, etag };
  return cached;
}

/** The response to a UI path (GET or HEAD); 405 for other methods. */
export async function serveUi(req: Request, path: string): Promise<Response> {
  if (req.method !== "GET" && req.method !== "HEAD") {
    // An error in the format of every other non-/v2 answer (a client probing paths reads JSON).
    return Response.json({ error: `${req.method} is not allowed here: the web UI answers GET and HEAD` }, { status: 405, headers: { Allow: "GET, HEAD" } });
  }
  if (path === "/favicon.ico") return new Response(null, { status: 204 });
  const a = await assets();
  const [body, type] =
    path === "/ui/app.js" ? [a.js, "text/javascript; charset=utf-8"] : path === "/ui/app.css" ? [a.css, "text/css; charset=utf-8"] : [a.page, "text/html; charset=utf-8"];
  const headers = { "Content-Type": type, ETag: a.etag, "Cache-Control": "no-cache" };
  if (req.headers.get("if-none-match") === a.etag) return new Response(null, { status: 304, headers });
  return new Response(req.method === "HEAD" ? null : body, { headers });
}
