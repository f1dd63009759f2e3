/**
 * @module `bun bench/mirror.ts [rounds] [--layers N] [--layer-mib M] [--big-mib B]`:
 * the pull-through cache against CNCF Distribution's (`proxy: remoteurl:`),
 * both caching the same upstream (a Distribution on loopback, run as two
 * processes on one storage root so that each cache has its own access log
 * to count its upstream requests in). Each round pushes to the upstream a
 * fresh image of N layers of M MiB (default 20 × 5) and one blob of B MiB
 * (default 128), then through each cache, in alternating order: a cold
 * pull of the image, a warm pull of it (same tag, within its TTL; counting
 * the upstream requests it caused) and a cold GET of the big blob (time to
 * its first byte vs to its last). mcr's local pull of an image of the
 * same shape pushed to it (its second pull, as a warm pull is a second
 * read) is the yardstick of the warm pulls. A pull is a client's:
 * the manifest by tag, then every blob, 3 at a time, each hashed and
 * checked. Prints a Markdown table (median and range over the rounds) and
 * the load average before and after.
 */
import { mkdirSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { startServerProcess, type ServerProcess } from "../test/support/server-process.ts";
import { tempDir } from "../test/support/temp.ts";
import { pushUpstream } from "../test/support/upstream.ts";

const args = process.argv.slice(2);
const flag = (name: string, fallback: number) => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const ROUNDS = Number(args.find((a, i) => /^\d+$/.test(a) && !args[i - 1]?.startsWith("--")) ?? 3);
const LAYERS = flag("--layers", 20);
const LAYER_MIB = flag("--layer-mib", 5);
const BIG_MIB = flag("--big-mib", 128);
const MiB = 1024 * 1024;
const ACCEPT = "application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json";
const log = (line: string) => process.stderr.write(`${line}\n`);
const loadavg = () => readFileSync("/proc/loadavg", "utf8").trim();

const root = tempDir("mcr-bench-mirror-");
process.env.MCR_TEST_ROOT = root;

function freePort(): number {
  const probe = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = probe.port;
  probe.stop(true);
  return port;
}

/** A Distribution process; `requests()` counts the /v2 requests in its access log so far. */
interface Dist {
  url: string;
  requests(): number;
  stop(): Promise<void>;
}

async function startDist(name: string, storage: string, extra: string[], accessLog: boolean): Promise<Dist> {
  const port = freePort();
  const config = join(root, `${name}.yml`);
  const lines = ["version: 0.1", "log:", "  level: error", "  accesslog:", `    disabled: ${!accessLog}`, "storage:", "  cache:", "    blobdescriptor: inmemory"];
  lines.push("  filesystem:", `    rootdirectory: ${storage}`, "  delete:", "    enabled: true", "http:", `  addr: 127.0.0.1:${port}`, ...extra, "");
  writeFileSync(config, lines.join("\n"));
  const logFile = join(root, `${name}.log`);
  const fd = openSync(logFile, "a");
  const proc = Bun.spawn(["/usr/bin/docker-registry", "serve", config], { stdin: "ignore", stdout: fd, stderr: fd });
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; !(await fetch(`${url}/v2/`).then((r) => r.status === 200, () => false)); i++) {
    if (i > 200 || proc.exitCode !== null) throw new Error(`${name} did not start: ${readFileSync(logFile, "utf8").slice(-2000)}`);
    await Bun.sleep(25);
  }
  return {
    url,
    requests: () => (readFileSync(logFile, "utf8").match(/"(GET|HEAD) \/v2\/\S* HTTP/g) ?? []).length,
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
    },
  };
}

/** A registry to pull from: base URL, the path prefix of the mirrored names, and how to authorize. */
interface Source {
  label: string;
  url: string;
  prefix: string;
  authorize(repo: string): Promise<Record<string, string>>;
}

/** What one pull took. */
interface Pulled {
  ms: number;
  bytes: number;
}

/** A client's pull: manifest by tag, then every blob 3 at a time, each hashed and checked. */
async function pull(src: Source, repo: string, tag: string): Promise<Pulled> {
  const start = performance.now();
  const name = `${src.prefix}${repo}`;
  const headers = await src.authorize(name);
  const res = await fetch(`${src.url}/v2/${name}/manifests/${tag}`, { headers: { ...headers, accept: ACCEPT } });
  if (res.status !== 200) throw new Error(`${src.label}: manifest ${name}:${tag}: ${res.status} ${await res.text()}`);
  const manifest = (await res.json()) as { config: { digest: string }; layers: { digest: string }[] };
  const digests = [manifest.config.digest, ...manifest.layers.map((l) => l.digest)];
  let bytes = 0;
  let next = 0;
  const worker = async () => {
    while (next < digests.length) {
      const digest = digests[next++]!;
      const got = await fetchBlob(src, name, digest, headers);
      bytes += got.bytes;
    }
  };
  await Promise.all([worker(), worker(), worker()]);
  return { ms: performance.now() - start, bytes };
}

/** GETs a blob, hashing it; the time of its first body byte and of its end. */
async function fetchBlob(src: Source, name: string, digest: string, headers: Record<string, string>): Promise<{ firstMs: number; ms: number; bytes: number }> {
  const start = performance.now();
  const res = await fetch(`${src.url}/v2/${name}/blobs/${digest}`, { headers });
  if (res.status !== 200) throw new Error(`${src.label}: blob ${name}@${digest}: ${res.status} ${await res.text()}`);
  const hasher = new Bun.CryptoHasher("sha256");
  let firstMs = 0;
  let bytes = 0;
  for await (const chunk of res.body!) {
    if (bytes === 0) firstMs = performance.now() - start;
    hasher.update(chunk);
    bytes += chunk.byteLength;
  }
  if (`sha256:${hasher.digest("hex")}` !== digest) throw new Error(`${src.label}: blob ${digest} came back with other bytes`);
  return { firstMs, ms: performance.now() - start, bytes };
}

const upstreamStorage = join(root, "upstream");
const cacheStorage = join(root, "distribution-cache");
mkdirSync(upstreamStorage);
mkdirSync(cacheStorage);
const loadBefore = loadavg();
const upstreamForMcr = await startDist("upstream-for-mcr", upstreamStorage, [], true);
const upstreamForDist = await startDist("upstream-for-distribution", upstreamStorage, [], true);
const distCache = await startDist("distribution-cache", cacheStorage, ["proxy:", `  remoteurl: ${upstreamForDist.url}`], false);
const mcrConfig = join(root, "mcr.toml");
const mcrData = join(root, "mcr-data");
writeFileSync(mcrConfig, `[server]\nlisten = "127.0.0.1:0"\n\n[storage]\ndata_dir = "${mcrData}"\n\n[[upstream]]\nname = "docker.io"\nurl = "${upstreamForMcr.url}"\ntag_ttl = "10m"\n`);
const mcr: ServerProcess = await startServerProcess({ args: ["--config", mcrConfig], dataDir: mcrData });

/** mcr as a Docker client calls it: a token for the repository from /v2/token, then Bearer. */
const mcrAuthorize = async (name: string) => {
  const res = await fetch(`${mcr.url}/v2/token?service=${mcr.host}&scope=repository:${name}:pull`, { headers: { Authorization: mcr.authHeader } });
  if (!res.ok) throw new Error(`token: ${res.status} ${await res.text()}`);
  return { Authorization: `Bearer ${((await res.json()) as { token: string }).token}` };
};
const sources: Source[] = [
  { label: "mcr", url: mcr.url, prefix: "docker.io/", authorize: mcrAuthorize },
  { label: "Distribution", url: distCache.url, prefix: "", authorize: async () => ({}) },
];
const upstreamOf = new Map([
  ["mcr", upstreamForMcr],
  ["Distribution", upstreamForDist],
]);

type Series = Record<string, number[]>;
const series: Series = {};
const note = (key: string, value: number) => (series[key] ??= []).push(value);

try {
  for (let round = 0; round < ROUNDS; round++) {
    const repo = `library/img${round}`;
    const image = await pushUpstream(upstreamForMcr.url, "", repo, "1", LAYERS, LAYER_MIB * MiB);
    const big = await pushUpstream(upstreamForMcr.url, "", `library/big${round}`, "1", 1, BIG_MIB * MiB);
    const local = await pushUpstream(mcr.url, mcr.authHeader, `local/img${round}`, "1", LAYERS, LAYER_MIB * MiB);
    const order = round % 2 === 0 ? sources : [...sources].reverse();
    for (const src of order) {
      const upstream = upstreamOf.get(src.label)!;
      const cold = await pull(src, repo, "1");
      note(`${src.label} cold`, cold.ms);
      const before = upstream.requests();
      const warm = await pull(src, repo, "1");
      // The access log line is written once the answer is sent.
      await Bun.sleep(200);
      note(`${src.label} warm`, warm.ms);
      note(`${src.label} warm upstream requests`, upstream.requests() - before);
      const name = `${src.prefix}library/big${round}`;
      const blob = await fetchBlob(src, name, big.blobDigests[1]!, await src.authorize(name));
      note(`${src.label} big first byte`, blob.firstMs);
      note(`${src.label} big whole`, blob.ms);
      log(`round ${round + 1} ${src.label}: cold ${cold.ms.toFixed(0)} ms, warm ${warm.ms.toFixed(0)} ms, big blob first byte ${blob.firstMs.toFixed(0)} / whole ${blob.ms.toFixed(0)} ms`);
      if (cold.bytes !== warm.bytes) throw new Error(`${src.label}: cold and warm pulls differ in size`);
    }
    const localSource = { ...sources[0]!, prefix: "" };
    // Untimed first: the warm pulls it is compared with are second reads too.
    await pull(localSource, `local/img${round}`, "1");
    const localPull = await pull(localSource, `local/img${round}`, "1");
    note("mcr local", localPull.ms);
    log(`round ${round + 1} mcr local pull of the pushed image: ${localPull.ms.toFixed(0)} ms`);
    if (local.blobDigests.length !== image.blobDigests.length) throw new Error("local image differs in shape");
  }
} finally {
  await mcr.stop();
  await distCache.stop();
  await upstreamForMcr.stop();
  await upstreamForDist.stop();
  rmSync(root, { recursive: true, force: true });
}

const sorted = (k: string) => [...(series[k] ?? [])].sort((a, b) => a - b);
const med = (k: string) => sorted(k)[Math.floor((sorted(k).length - 1) / 2)] ?? NaN;
const cell = (k: string, digits = 0) => `${med(k).toFixed(digits)} (${sorted(k)[0]!.toFixed(digits)}–${sorted(k).at(-1)!.toFixed(digits)})`;
const imageMB = ((LAYERS * LAYER_MIB * MiB) / 1e6).toFixed(0);
const yes = (ok: boolean) => (ok ? "yes" : "**no**");
const commit = Bun.spawnSync(["git", "rev-parse", "--short", "HEAD"], { cwd: import.meta.dir }).stdout.toString().trim();
console.log(`Pull-through cache, ${new Date().toISOString()}, commit ${commit}; ${ROUNDS} rounds; load average before: ${loadBefore}, after: ${loadavg()}`);
console.log(`Image: ${LAYERS} layers × ${LAYER_MIB} MiB (${imageMB} MB) and a config; big blob ${BIG_MIB} MiB. Times in ms, median (range).\n`);
console.log("| measurement | mcr | Distribution | goal | met |\n| --- | --- | --- | --- | --- |");
console.log(`| cold pull, ${LAYERS} layers (ms) | ${cell("mcr cold")} | ${cell("Distribution cold")} | mcr ≤ Distribution | ${yes(med("mcr cold") <= med("Distribution cold"))} |`);
console.log(`| cold GET of a ${BIG_MIB} MiB blob: first byte (ms) | ${cell("mcr big first byte")} | ${cell("Distribution big first byte")} | first byte well before the end | ${yes(med("mcr big first byte") < med("mcr big whole") / 2)} |`);
console.log(`| cold GET of a ${BIG_MIB} MiB blob: whole (ms) | ${cell("mcr big whole")} | ${cell("Distribution big whole")} | | |`);
console.log(`| warm pull, same tag within its TTL (ms) | ${cell("mcr warm")} | ${cell("Distribution warm")} | ≤ mcr's local pull of a pushed image: ${cell("mcr local")} | ${yes(med("mcr warm") <= med("mcr local") * 1.1)} (within 10%) |`);
console.log(`| upstream requests per warm pull | ${cell("mcr warm upstream requests")} | ${cell("Distribution warm upstream requests")} | 0 | ${yes(sorted("mcr warm upstream requests").at(-1) === 0)} |`);
