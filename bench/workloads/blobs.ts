/**
 * @module Workloads 1 and 2: one big blob pushed monolithically (POST +
 * PUT) and in chunks (PATCH with Content-Range), beside `dd bs=16M
 * conv=fdatasync` writing as much to the same disk; then pulled with 1 and
 * 4 concurrent streams, each hashing what it receives.
 */
import { closeSync, fsyncSync, openSync, rmSync, writeSync } from "node:fs";
import { join } from "node:path";
import { inTurn, MB, median, modeLabel, rounds, settleDisk, type Bench } from "../lib/bench.ts";
import { pushChunked, pushMonolithic, repoScope } from "../lib/client.ts";
import { CpuMeter, ownCpuSeconds } from "../lib/proc.ts";
import type { Goal } from "../lib/report.ts";
import type { Mode, Target, TargetId } from "../lib/targets.ts";

interface BigBlob {
  path: string;
  digest: string;
  size: number;
}

const bigRepo = (mode: Mode) => `bench/big-${mode}`;
const pushed = new Set<string>();

/** Writes `size` random bytes to `path` (fsynced, so its writeback does not disturb what follows). */
function makeBlob(path: string, size: number): BigBlob {
  const fd = openSync(path, "w");
  const hasher = new Bun.CryptoHasher("sha256");
  const block = new Uint8Array(4 * 1024 * 1024);
  for (let done = 0; done < size; done += block.byteLength) {
    const part = block.subarray(0, Math.min(block.byteLength, size - done));
    for (let i = 0; i < part.byteLength; i += 65536) crypto.getRandomValues(part.subarray(i, i + 65536));
    hasher.update(part);
    writeSync(fd, part);
  }
  fsyncSync(fd);
  closeSync(fd);
  return { path, digest: `sha256:${hasher.digest("hex")}`, size };
}

let blobs: { mono: BigBlob; chunked: BigBlob } | null = null;
function bigBlobs(bench: Bench) {
  blobs ??= {
    mono: makeBlob(join(bench.dir, "blob-mono.bin"), bench.opts.sizes.blobBytes),
    chunked: makeBlob(join(bench.dir, "blob-chunked.bin"), bench.opts.sizes.blobBytes),
  };
  return blobs;
}

/** `dd bs=16M conv=fdatasync` of `bytes` into the bench dir; MB/s as dd counts (its own clock). */
async function dd(bench: Bench, bytes: number): Promise<number> {
  const out = join(bench.dir, "dd.bin");
  const proc = Bun.spawn(["dd", "if=/dev/zero", `of=${out}`, "bs=16M", `count=${Math.ceil(bytes / (16 * 1024 * 1024))}`, "conv=fdatasync"], {
    stdout: "ignore",
    stderr: "pipe",
  });
  const text = await new Response(proc.stderr).text();
  await proc.exited;
  rmSync(out, { force: true });
  const match = /(\d+) bytes .* copied, ([\d.]+) s/.exec(text);
  if (!match) throw new Error(`unreadable dd output: ${text}`);
  return Number(match[1]) / Number(match[2]) / MB;
}

async function timed(fn: () => Promise<void>): Promise<{ seconds: number; cpu: number }> {
  const cpu = ownCpuSeconds();
  const started = performance.now();
  await fn();
  const seconds = (performance.now() - started) / 1000;
  return { seconds, cpu: (100 * (ownCpuSeconds() - cpu)) / seconds };
}

/** Rates of repeated runs, by row and registry: each cell is their median, with the range beside it. */
class Samples {
  private readonly rows = new Map<string, Map<TargetId, number[]>>();

  add(label: string, target: TargetId, value: number): void {
    const row = this.rows.get(label) ?? new Map<TargetId, number[]>();
    this.rows.set(label, row);
    row.set(target, [...(row.get(target) ?? []), value]);
  }

  report(bench: Bench, section: string, goal: Goal): void {
    for (const [label, row] of this.rows) {
      for (const [target, values] of row) {
        const text = values.length > 1 ? `${median(values).toFixed(0)} (${Math.min(...values).toFixed(0)}–${Math.max(...values).toFixed(0)})` : undefined;
        bench.results.set(section, label, target, { value: median(values), text }, { goal });
      }
    }
    if (bench.opts.sizes.blobRepeats > 1) {
      bench.results.note(`Push and pull figures are the median of ${bench.opts.sizes.blobRepeats} runs per registry and mode, with the range in brackets.`);
    }
  }
}

/** Workload 1: pushes, with dd before each round as the disk's yardstick. */
export async function pushWorkload(bench: Bench): Promise<void> {
  const { mono, chunked } = bigBlobs(bench);
  const size = mono.size;
  const sizeText = `${(size / 2 ** 30).toFixed(size >= 2 ** 30 ? 0 : 3)} GiB`;
  const section = `push ${sizeText}`;
  const ddRuns: number[] = [];
  // Untimed: each server's first upload (its upload thread starts, code warms up).
  const warm = makeBlob(join(bench.dir, "blob-warm.bin"), 16 * 1024 * 1024);
  for (const target of bench.targets) {
    for (const { mode } of rounds(bench)) await pushMonolithic(target.endpoint(mode), "bench/warm", Bun.file(warm.path), warm.digest);
  }
  const samples = new Samples();
  for (const { mode, round } of rounds(bench)) {
    for (let repeat = 0; repeat < bench.opts.sizes.blobRepeats; repeat++) {
      settleDisk();
      ddRuns.push(await dd(bench, size));
      bench.log(`dd: ${ddRuns.at(-1)!.toFixed(0)} MB/s`);
      for (const target of inTurn(bench, round + repeat)) {
        const ep = target.endpoint(mode);
        const repo = bigRepo(mode);
        for (const [how, blob, push] of [
          ["monolithic", mono, () => pushMonolithic(ep, repo, Bun.file(mono.path), mono.digest)],
          [`${bench.opts.sizes.chunkBytes / 2 ** 20} MiB chunks`, chunked, () => pushChunked(ep, repo, Bun.file(chunked.path), chunked.digest, bench.opts.sizes.chunkBytes)],
        ] as const) {
          settleDisk();
          const meter = new CpuMeter(ep.pids);
          const { seconds, cpu } = await timed(push);
          const serverCpu = meter.stop().reduce((a, b) => a + b, 0);
          pushed.add(`${target.id}/${repo}/${blob.digest}`);
          const rate = blob.size / seconds / MB;
          bench.log(`${target.label} ${modeLabel(mode)} push ${how}: ${rate.toFixed(0)} MB/s (client CPU ${cpu.toFixed(0)}%, server ${serverCpu.toFixed(0)}%)`);
          samples.add(`${how}, ${modeLabel(mode)} (MB/s)`, target.id, rate);
          bench.results.record({ workload: "push", how, mode, target: target.id, mbPerSecond: rate, seconds, clientCpuPercent: cpu, serverCpuPercent: serverCpu });
        }
      }
    }
  }
  samples.report(bench, section, { text: "≥ 2.5× Dist, ≥ 80% of dd", met: (m, ratio) => ratio >= 2.5 && m.value >= 0.8 * median(ddRuns) });
  const ddRate = median(ddRuns);
  for (const { id } of bench.targets) bench.results.set(section, "dd bs=16M conv=fdatasync, same size (MB/s)", id, { value: ddRate }, { ratio: false });
  bench.results.record({ workload: "dd", mbPerSecond: ddRuns });
  bench.results.note(`dd runs (MB/s): ${ddRuns.map((r) => r.toFixed(0)).join(", ")}; the median is the yardstick.`);
}

/** Pulls the monolithic blob with `streams` concurrent GETs, each in its own process, hashing what arrives. */
async function pull(bench: Bench, target: Target, mode: Mode, streams: number): Promise<{ rate: number; clientCpu: number }> {
  const { mono } = bigBlobs(bench);
  const ep = target.endpoint(mode);
  const repo = bigRepo(mode);
  if (!pushed.has(`${target.id}/${repo}/${mono.digest}`)) {
    await pushMonolithic(ep, repo, Bun.file(mono.path), mono.digest);
    pushed.add(`${target.id}/${repo}/${mono.digest}`);
  }
  const authorization = (await ep.authorize(repoScope(repo))) ?? "";
  const url = `${ep.url}/v2/${repo}/blobs/${mono.digest}`;
  const procs = Array.from({ length: streams }, () =>
    Bun.spawn([process.execPath, join(import.meta.dir, "..", "lib", "pull-stream.ts"), url, mono.digest], {
      env: { ...process.env, BENCH_AUTHORIZATION: authorization },
      stdout: "pipe",
      stderr: "inherit",
    }),
  );
  const outputs = await Promise.all(procs.map(async (p) => ({ text: await new Response(p.stdout).text(), code: await p.exited, usage: p.resourceUsage() })));
  const runs = outputs.map(({ text, code }) => {
    if (code !== 0) throw new Error(`pull stream failed (${code})`);
    const run = JSON.parse(text) as { start: number; end: number; bytes: number; ok: boolean };
    if (!run.ok || run.bytes !== mono.size) throw new Error(`pull from ${target.label} returned wrong bytes`);
    return run;
  });
  const seconds = (Math.max(...runs.map((r) => r.end)) - Math.min(...runs.map((r) => r.start))) / 1000;
  const cpuSeconds = outputs.reduce((sum, o) => sum + (o.usage ? Number(o.usage.cpuTime.user + o.usage.cpuTime.system) / 1e6 : 0), 0);
  return { rate: (streams * mono.size) / seconds / MB, clientCpu: (100 * cpuSeconds) / seconds };
}

/** One GET of the monolithic blob by curl into /dev/null: what the server sends when the client does nothing with the bytes. */
async function pullRaw(target: Target, mode: Mode): Promise<number> {
  const { mono } = blobs!;
  const ep = target.endpoint(mode);
  const repo = bigRepo(mode);
  const authorization = (await ep.authorize(repoScope(repo))) ?? "";
  const args = ["curl", "-sS", "--fail", "-o", "/dev/null", "-w", "%{size_download} %{time_total}", `${ep.url}/v2/${repo}/blobs/${mono.digest}`];
  if (authorization) args.push("-H", `Authorization: ${authorization}`);
  const proc = Bun.spawn(args, { stdout: "pipe", stderr: "inherit" });
  const text = await new Response(proc.stdout).text();
  if ((await proc.exited) !== 0) throw new Error(`curl pull from ${target.label} failed`);
  const [bytes, seconds] = text.trim().split(" ").map(Number);
  if (bytes !== mono.size) throw new Error(`curl pull from ${target.label} got ${bytes} bytes`);
  return bytes / seconds! / MB;
}

/** Workload 2: pulls with 1 and 4 streams, and 1 stream not hashed. */
export async function pullWorkload(bench: Bench): Promise<void> {
  const size = bench.opts.sizes.blobBytes;
  const section = `pull ${(size / 2 ** 30).toFixed(size >= 2 ** 30 ? 0 : 3)} GiB`;
  const samples = new Samples();
  for (const { mode, round } of rounds(bench)) {
    for (let repeat = 0; repeat < bench.opts.sizes.blobRepeats; repeat++) {
      for (const target of inTurn(bench, round + repeat)) {
        for (const streams of [1, 4]) {
          const { rate, clientCpu } = await pull(bench, target, mode, streams);
          bench.log(`${target.label} ${modeLabel(mode)} pull ×${streams}: ${rate.toFixed(0)} MB/s (clients' CPU ${clientCpu.toFixed(0)}%)`);
          samples.add(`${streams} stream${streams > 1 ? "s" : ""}, ${modeLabel(mode)} (MB/s, all streams)`, target.id, rate);
          bench.results.record({ workload: "pull", streams, mode, target: target.id, mbPerSecond: rate, clientCpuPercent: clientCpu });
        }
        if (Bun.which("curl")) {
          const rate = await pullRaw(target, mode);
          bench.log(`${target.label} ${modeLabel(mode)} pull ×1 with curl, not hashed: ${rate.toFixed(0)} MB/s`);
          samples.add(`1 stream, not hashed (curl), ${modeLabel(mode)} (MB/s)`, target.id, rate);
          bench.results.record({ workload: "pull", streams: 1, hashed: false, mode, target: target.id, mbPerSecond: rate });
        }
      }
    }
  }
  samples.report(bench, section, { text: "≥ Dist", met: (_m, ratio) => ratio >= 1 });
  bench.results.note(
    "Pull streams run in separate processes that SHA-256 every byte they receive (about 1.45 GB/s per core here), so pulls are bounded by the client's hashing as well as by the server; the curl row, which only counts the bytes, shows what each server sends when the client is not the bottleneck.",
  );
}
