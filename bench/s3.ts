/**
 * @module mcr on S3 against CNCF Distribution on S3 (Debian's
 * docker-registry 2.8 with its `s3` driver), both on one Ceph RADOS
 * Gateway (script/ceph-rgw.ts, memstore) on this machine, each in a bucket
 * of its own, both streaming blob GETs through themselves (mcr's default;
 * Distribution's `redirect: disable: true`). Workloads: push and pull of
 * one large blob, many small images, HEAD of a blob (also against mcr on
 * the file system: HEAD must not be slowed by S3), and the gateway's own
 * ceiling from a bare Bun.S3Client put and get of the same size. Both
 * registries run at once and the pulls take turns (Distribution, mcr, the
 * bare get; PULL_ROUNDS rounds, the median reported), so a gateway that
 * slows as it fills, or a burst of other load, does not favour the one
 * measured first; each pull also reports the server's CPU time per GiB.
 * Usage: bun bench/s3.ts [MiB=1024] [images=50]; prints a Markdown table.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { missingCephTools, startRgw } from "../script/ceph-rgw.ts";
import { signedFetch, type S3Location } from "../lib/storage/s3-signed.ts";
import { makeImage, pool, pushImage, pushMonolithic } from "./lib/client.ts";
import { runLoad } from "./lib/load.ts";
import { startDistribution, startMcr, type Endpoint, type Target } from "./lib/targets.ts";
import { ensureTools } from "./lib/tools.ts";

const MiB = 1024 * 1024;
const sizeMiB = Number(process.argv[2] ?? 1024);
const imageCount = Number(process.argv[3] ?? 50);
const HEAD_SECONDS = 5;
const HEAD_CONNECTIONS = 16;
const PULL_ROUNDS = 3;
const log = (line: string) => console.error(`[bench s3 ${new Date().toISOString().slice(11, 19)}] ${line}`);
const loadavg = () => readFileSync("/proc/loadavg", "utf8").trim();

if (missingCephTools().length > 0) {
  console.error(`needs Ceph: apt-get install ceph-mon ceph-osd radosgw ceph-common (missing ${missingCephTools().join(", ")})`);
  process.exit(2);
}
ensureTools(log);
const dir = mkdtempSync(join(tmpdir(), "mcr-bench-s3-"));
// Room for every 1 GiB copy the run makes (each registry keeps its upload and its blob); RAM holds only what is written.
const rgw = await startRgw(join(dir, "ceph"), 60_000, 20 * 1024 ** 3);
const targets: Target[] = [];
process.on("exit", () => {
  rgw.stop();
  rmSync(dir, { recursive: true, force: true });
});
const where = (bucket: string): S3Location => ({
  endpoint: rgw.endpoint,
  region: "us-east-1",
  bucket,
  accessKeyId: rgw.accessKeyId,
  secretAccessKey: rgw.secretAccessKey,
  forcePathStyle: true,
});
for (const bucket of ["mcr-bench", "dist-bench", "bare-bench"]) {
  const res = await signedFetch(where(bucket), { method: "PUT", key: "" });
  if (!res.ok) throw new Error(`creating bucket ${bucket}: ${res.status} ${await res.text()}`);
}

/** A file of `sizeMiB` random-ish bytes (each 16 MiB block differs) and its digest. */
async function bigFile(): Promise<{ path: string; digest: string }> {
  const path = join(dir, "big.bin");
  const block = new Uint8Array(16 * MiB);
  for (let at = 0; at < block.byteLength; at += 65536) crypto.getRandomValues(block.subarray(at, at + 65536));
  const writer = Bun.file(path).writer();
  const hasher = new Bun.CryptoHasher("sha256");
  for (let i = 0; i < Math.ceil(sizeMiB / 16); i++) {
    new DataView(block.buffer).setUint32(0, i);
    const part = block.subarray(0, Math.min(16 * MiB, sizeMiB * MiB - i * 16 * MiB));
    writer.write(part);
    hasher.update(part);
  }
  await writer.end();
  return { path, digest: `sha256:${hasher.digest("hex")}` };
}

const mbps = (bytes: number, seconds: number) => bytes / 1e6 / seconds;

/** CPU seconds (user + system) process `pid` has used so far. */
function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Pulls the blob in a process of its own that hashes every byte (bench/lib/pull-stream.ts); MB/s and the server's CPU seconds per GiB. */
async function pull(ep: Endpoint, repo: string, digest: string): Promise<{ mbps: number; cpuPerGiB: number }> {
  const cpuBefore = cpuSeconds(ep.pid);
  const proc = Bun.spawn([process.execPath, join(import.meta.dir, "lib", "pull-stream.ts"), `${ep.url}/v2/${repo}/blobs/${digest}`, digest], { stdout: "pipe", stderr: "inherit" });
  const out = JSON.parse(await new Response(proc.stdout).text()) as { start: number; end: number; bytes: number; ok: boolean };
  if (!out.ok || (await proc.exited) !== 0) throw new Error(`pull of ${digest} from ${ep.url} failed`);
  return { mbps: mbps(out.bytes, (out.end - out.start) / 1000), cpuPerGiB: (cpuSeconds(ep.pid) - cpuBefore) / (out.bytes / 1024 ** 3) };
}

/** The median of `xs`. */
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

interface Figures {
  pushMBps?: number;
  pullMBps?: number;
  pullCpuPerGiB?: number;
  imagesPerSecond?: number;
  headRps?: number;
  headP99Ms?: number;
}

async function measure(label: string, ep: Endpoint, big: { path: string; digest: string } | null): Promise<Figures> {
  const figures: Figures = {};
  log(`${label}: ${imageCount} small images`);
  const images = Array.from({ length: imageCount }, (_, i) => makeImage(`${label}-${i}-${crypto.randomUUID()}`, 3, 32 * 1024));
  const started = performance.now();
  await pool(imageCount, 4, (i) => pushImage(ep, `small/app${i % 5}`, `t${i}`, images[i]!));
  figures.imagesPerSecond = imageCount / ((performance.now() - started) / 1000);
  log(`${label}: HEAD`);
  const head = await runLoad({ url: `${ep.url}/v2/small/app0/blobs/${images[0]!.blobs[1]!.digest}`, method: "HEAD", headers: {}, connections: HEAD_CONNECTIONS, seconds: HEAD_SECONDS });
  if (head.errors > 0) throw new Error(`${label}: ${head.errors} HEAD errors`);
  figures.headRps = head.rps;
  figures.headP99Ms = head.p99Ms;
  if (big) {
    log(`${label}: push ${sizeMiB} MiB`);
    Bun.spawnSync(["sync"]);
    const pushStarted = performance.now();
    await pushMonolithic(ep, "bench/big", Bun.file(big.path), big.digest);
    figures.pushMBps = mbps(sizeMiB * MiB, (performance.now() - pushStarted) / 1000);
  }
  return figures;
}

const before = loadavg();
log(`load before: ${before}`);
const big = await bigFile();
const s3Env = {
  MCR_S3_ENDPOINT: rgw.endpoint,
  MCR_S3_BUCKET: "mcr-bench",
  MCR_S3_ACCESS_KEY_ID: rgw.accessKeyId,
  MCR_S3_SECRET_ACCESS_KEY: rgw.secretAccessKey,
};
const mcrCmd = [process.execPath, join(import.meta.dir, "..", "cli", "main.ts")];
const results: Record<string, Figures> = {};
try {
  const dist = await startDistribution(join(dir, "dist"), [
    "  s3:",
    `    accesskey: ${rgw.accessKeyId}`,
    `    secretkey: ${rgw.secretAccessKey}`,
    "    region: us-east-1",
    `    regionendpoint: ${rgw.endpoint}`,
    "    bucket: dist-bench",
    "    secure: false",
    "    v4auth: true",
    "    rootdirectory: /registry",
    "  redirect:",
    "    disable: true",
  ]);
  targets.push(dist);
  results.distribution = await measure("Distribution on S3", dist.endpoint("anon"), big);
  const mcrS3 = await startMcr("mcr-src", mcrCmd, join(dir, "mcr-s3"), 1, s3Env);
  targets.push(mcrS3);
  results.mcrS3 = await measure("mcr on S3", mcrS3.endpoint("anon"), big);

  log("bare Bun.S3Client put");
  const client = new Bun.S3Client({ ...where("bare-bench"), virtualHostedStyle: false });
  const started = performance.now();
  await client.write("big", Bun.file(big.path));
  results.bare = { pushMBps: mbps(sizeMiB * MiB, (performance.now() - started) / 1000) };
  const bareGet = async (): Promise<number> => {
    const at = performance.now();
    const hasher = new Bun.CryptoHasher("sha256");
    for await (const chunk of client.file("big").stream()) hasher.update(chunk);
    if (`sha256:${hasher.digest("hex")}` !== big.digest) throw new Error("bare get: digest mismatch");
    return mbps(sizeMiB * MiB, (performance.now() - at) / 1000);
  };

  // Pulls take turns, round after round, so neither registry is measured only while the gateway is fresher.
  const pulls = { distribution: [] as { mbps: number; cpuPerGiB: number }[], mcrS3: [] as { mbps: number; cpuPerGiB: number }[], bare: [] as number[] };
  for (let round = 1; round <= PULL_ROUNDS; round++) {
    log(`pull round ${round} of ${PULL_ROUNDS}: Distribution, mcr, bare get`);
    pulls.distribution.push(await pull(dist.endpoint("anon"), "bench/big", big.digest));
    pulls.mcrS3.push(await pull(mcrS3.endpoint("anon"), "bench/big", big.digest));
    pulls.bare.push(await bareGet());
  }
  for (const key of ["distribution", "mcrS3"] as const) {
    results[key]!.pullMBps = median(pulls[key].map((p) => p.mbps));
    results[key]!.pullCpuPerGiB = median(pulls[key].map((p) => p.cpuPerGiB));
  }
  results.bare.pullMBps = median(pulls.bare);
  log(`pulls (MB/s): Distribution ${pulls.distribution.map((p) => p.mbps.toFixed(0)).join(", ")}; mcr ${pulls.mcrS3.map((p) => p.mbps.toFixed(0)).join(", ")}; bare ${pulls.bare.map((n) => n.toFixed(0)).join(", ")}`);
  await dist.stop();
  await mcrS3.stop();

  const mcrFs = await startMcr("mcr-src", mcrCmd, join(dir, "mcr-fs"));
  targets.push(mcrFs);
  results.mcrFs = await measure("mcr on the file system", mcrFs.endpoint("anon"), null);
  await mcrFs.stop();
} finally {
  for (const target of targets) await target.stop().catch(() => {});
}

const f = (n: number | undefined, digits = 0) => (n === undefined ? "—" : n.toFixed(digits));
const ratio = (a: number | undefined, b: number | undefined) => (a && b ? `${(a / b).toFixed(2)}×` : "—");
const { mcrS3, distribution: d, mcrFs, bare } = results as Required<typeof results>;
const rows = [
  ["push " + sizeMiB + " MiB (MB/s)", f(mcrS3!.pushMBps), f(d!.pushMBps), ratio(mcrS3!.pushMBps, d!.pushMBps), "≥ 1×", f(bare!.pushMBps) + " (put)"],
  [`pull ${sizeMiB} MiB (MB/s; median of ${PULL_ROUNDS} turns)`, f(mcrS3!.pullMBps), f(d!.pullMBps), ratio(mcrS3!.pullMBps, d!.pullMBps), "≥ 1×", f(bare!.pullMBps) + " (get)"],
  ["pull: server CPU per GiB (s)", f(mcrS3!.pullCpuPerGiB, 2), f(d!.pullCpuPerGiB, 2), "", "", ""],
  [`${imageCount} images of 3×32 KiB, 4 at once (images/s)`, f(mcrS3!.imagesPerSecond, 1), f(d!.imagesPerSecond, 1), ratio(mcrS3!.imagesPerSecond, d!.imagesPerSecond), "≥ 2×", `mcr on fs: ${f(mcrFs!.imagesPerSecond, 1)}`],
  [`HEAD blob, ${HEAD_CONNECTIONS} connections (req/s; p99 ms)`, `${f(mcrS3!.headRps)}; ${f(mcrS3!.headP99Ms, 1)}`, `${f(d!.headRps)}; ${f(d!.headP99Ms, 1)}`, ratio(mcrS3!.headRps, d!.headRps), "= mcr on fs", `mcr on fs: ${f(mcrFs!.headRps)}; ${f(mcrFs!.headP99Ms, 1)} (S3/fs ${ratio(mcrS3!.headRps, mcrFs!.headRps)})`],
];
console.log(`load before: ${before}; after: ${loadavg()}\n`);
console.log("| workload | mcr on S3 | Distribution on S3 | mcr / Distribution | goal | beside |");
console.log("| --- | --- | --- | --- | --- | --- |");
for (const row of rows) console.log(`| ${row.join(" | ")} |`);
process.exit(0);
