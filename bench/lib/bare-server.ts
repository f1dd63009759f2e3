/**
 * @module The runtime's ceiling, run as its own process: a bare Bun.serve
 * that speaks just enough of the upload flow for the push workload (POST
 * answers a Location, PATCH and PUT drain their bodies and answer 202 and
 * 201) and answers every HEAD and GET with a constant 200. No storage, no
 * hashing, no database: what any server on this runtime and machine can
 * do at best. Prints `listening on URL` when ready.
 */
let next = 0;
const MANIFEST = '{"schemaVersion":2}';

/** Reads a body to its end, keeping nothing; returns its length. */
async function drain(req: Request): Promise<number> {
  let bytes = 0;
  if (req.body) for await (const chunk of req.body) bytes += chunk.byteLength;
  return bytes;
}

const server = Bun.serve({
  hostname: "127.0.0.1",
  port: 0,
  maxRequestBodySize: 2 ** 40,
  idleTimeout: 255,
  async fetch(req) {
    const url = new URL(req.url);
    if (req.method === "HEAD") return new Response(null, { status: 200 });
    if (req.method === "GET") return new Response(MANIFEST, { status: 200, headers: { "Content-Type": "application/json" } });
    const bytes = await drain(req);
    if (req.method === "POST") {
      if (url.searchParams.has("digest")) return new Response(null, { status: 201 });
      return new Response(null, { status: 202, headers: { Location: `${url.pathname}u${++next}`, Range: "0-0" } });
    }
    if (req.method === "PATCH") return new Response(null, { status: 202, headers: { Location: url.pathname, Range: `0-${Math.max(0, bytes - 1)}` } });
    if (req.method === "PUT") return new Response(null, { status: 201, headers: { Location: url.pathname } });
    return new Response(null, { status: 202 });
  },
});
console.log(`listening on http://127.0.0.1:${server.port}`);
