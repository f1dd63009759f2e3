/**
 * @module Runs the load generator (loadgen.ts) in its own process for the
 * small-request workloads and returns what it measured, with the CPU it
 * used, so a load generator at its limit would show.
 */
import { join } from "node:path";

/** What one run measured. */
export interface LoadResult {
  requests: number;
  seconds: number;
  rps: number;
  p50Ms: number;
  p99Ms: number;
  /** Answers other than 2xx/3xx, and connection failures. */
  errors: number;
  /** CPU the load generator used, in percent of one core. */
  cpuPercent: number;
}

/** One run's parameters. */
export interface LoadRun {
  url: string;
  method: "GET" | "HEAD";
  headers: Record<string, string>;
  connections: number;
  seconds: number;
}

export async function runLoad(run: LoadRun): Promise<LoadResult> {
  const started = performance.now();
  const proc = Bun.spawn([process.execPath, join(import.meta.dir, "loadgen.ts"), run.url, run.method, String(run.connections), String(run.seconds)], {
    env: { ...process.env, BENCH_HEADERS: JSON.stringify(run.headers) },
    stdout: "pipe",
    stderr: "pipe",
  });
  const [output, errors] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  const code = await proc.exited;
  const wall = (performance.now() - started) / 1000;
  if (code !== 0) throw new Error(`load generator exited with ${code}: ${errors}${output}`);
  const usage = proc.resourceUsage();
  const cpu = usage ? Number(usage.cpuTime.user + usage.cpuTime.system) / 1e6 : 0;
  return { ...(JSON.parse(output) as Omit<LoadResult, "cpuPercent">), cpuPercent: (100 * cpu) / wall };
}
