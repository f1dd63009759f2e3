/**
 * @module One pull stream, run as its own process so that several streams
 * hash on several cores: GETs a blob, hashes every byte that arrives, and
 * prints what it got as JSON. Usage: bun pull-stream.ts URL DIGEST, with
 * the Authorization value (if any) in BENCH_AUTHORIZATION.
 */
const [url, expected] = process.argv.slice(2);
if (!url || !expected) {
  console.error("usage: pull-stream.ts URL DIGEST");
  process.exit(2);
}
const headers: Record<string, string> = {};
if (process.env.BENCH_AUTHORIZATION) headers.Authorization = process.env.BENCH_AUTHORIZATION;
const start = performance.timeOrigin + performance.now();
const res = await fetch(url, { headers });
if (res.status !== 200) {
  console.error(`GET ${url}: ${res.status} ${await res.text()}`);
  process.exit(1);
}
const hasher = new Bun.CryptoHasher("sha256");
let bytes = 0;
for await (const chunk of res.body ?? []) {
  hasher.update(chunk);
  bytes += chunk.byteLength;
}
const end = performance.timeOrigin + performance.now();
const digest = `sha256:${hasher.digest("hex")}`;
console.log(JSON.stringify({ start, end, bytes, ok: digest === expected }));
export {};
