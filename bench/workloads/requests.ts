/**
 * @module Workload 3: small requests. The load generator (32 keep-alive
 * connections, closed loop) runs for a fixed time against HEAD blob, GET
 * manifest by tag and GET tags list of a small image, in each mode;
 * reports requests/s, p50, p99 and errors, with the CPU the generator and
 * the server used meanwhile.
 */
import { inTurn, modeLabel, type Bench } from "../lib/bench.ts";
import { ACCEPT_MANIFESTS, makeImage, pushImage, repoScope } from "../lib/client.ts";
import { CpuMeter } from "../lib/proc.ts";
import type { Endpoint, Mode, TargetId } from "../lib/targets.ts";
import { runLoad } from "../lib/load.ts";

const REPO = "bench/requests";

/** The request/s of each (target, mode, endpoint), and per CPU-second of the server, for the auth-cost rows. */
const rates = new Map<string, number>();
const perCpu = new Map<string, number>();

export async function requestsWorkload(bench: Bench): Promise<void> {
  const { sizes } = bench.opts;
  const image = makeImage("requests", 3, sizes.layerBytes);
  const layer = image.blobs[1]!.digest;
  for (const target of bench.targets) await pushImage(target.endpoint("anon"), REPO, "latest", image);
  const endpoints: { name: string; method: "GET" | "HEAD"; path: string; headers: Record<string, string> }[] = [
    { name: "HEAD blob", method: "HEAD", path: `/v2/${REPO}/blobs/${layer}`, headers: {} },
    { name: "GET manifest by tag", method: "GET", path: `/v2/${REPO}/manifests/latest`, headers: { Accept: ACCEPT_MANIFESTS } },
    { name: "GET tags list", method: "GET", path: `/v2/${REPO}/tags/list`, headers: {} },
  ];
  const section = `${sizes.connections} connections × ${sizes.requestSeconds} s`;
  let loadCpuMax = 0;
  // Each server's two modes run back to back (first mode alternating), after an untimed warm-up,
  // so the auth-on/auth-off comparison sees the same machine conditions.
  let turn = 0;
  for (const endpoint of endpoints) {
    for (const target of inTurn(bench, turn)) {
      const modes = turn++ % 2 === 0 ? bench.opts.modes : [...bench.opts.modes].reverse();
      const warm = target.endpoint(modes[0]!);
      await runLoad({ url: warm.url + endpoint.path, method: endpoint.method, headers: await headersFor(warm, endpoint.headers), connections: sizes.connections, seconds: 1 });
      for (const mode of modes) {
        const ep = target.endpoint(mode);
        const headers = await headersFor(ep, endpoint.headers);
        const meter = new CpuMeter(ep.pids);
        const r = await runLoad({ url: ep.url + endpoint.path, method: endpoint.method, headers, connections: sizes.connections, seconds: sizes.requestSeconds });
        const serverCpu = meter.stop().reduce((a, b) => a + b, 0);
        loadCpuMax = Math.max(loadCpuMax, r.cpuPercent);
        rates.set(`${target.id}/${mode}/${endpoint.name}`, r.rps);
        perCpu.set(`${target.id}/${mode}/${endpoint.name}`, r.rps / Math.max(serverCpu / 100, 0.01));
        bench.log(
          `${target.label} ${modeLabel(mode)} ${endpoint.name}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms, ${r.errors} errors (load generator CPU ${r.cpuPercent.toFixed(0)}%, server ${serverCpu.toFixed(0)}%)`,
        );
        const label = `${endpoint.name}, ${modeLabel(mode)}`;
        bench.results.set(section, `${label} (req/s)`, target.id, { value: r.rps }, { goal: { text: "≥ 10× Dist", met: (_m, ratio) => ratio >= 10 } });
        bench.results.set(
          section,
          `${label}: p50 / p99 ms, errors`,
          target.id,
          { value: r.p99Ms, text: `${r.p50Ms.toFixed(2)} / ${r.p99Ms.toFixed(1)}, ${r.errors}` },
          { ratio: false, goal: { text: "p99 < 20 ms, 0 errors", met: (m) => m.value < 20 && (m.text ?? "").endsWith(", 0") } },
        );
        bench.results.set(
          section,
          `${label}: CPU % generator / server`,
          target.id,
          { value: serverCpu, text: `${r.cpuPercent.toFixed(0)} / ${serverCpu.toFixed(0)}` },
          { ratio: false },
        );
        bench.results.record({ workload: "requests", endpoint: endpoint.name, mode, target: target.id, ...r, serverCpuPercent: serverCpu });
      }
    }
  }
  bench.results.note(
    `Small requests: bench/lib/loadgen.ts, ${sizes.connections} keep-alive connections in one process (closed loop); its CPU peaked at ${loadCpuMax.toFixed(0)}% of one core, leaving the server the rest of the 2 cores.`,
  );
  if (bench.opts.modes.length === 2) authCost(bench, endpoints.map((e) => e.name));
}

/** The endpoint's headers plus the credentials of `ep`'s mode, if any. */
async function headersFor(ep: Endpoint, headers: Record<string, string>): Promise<Record<string, string>> {
  const authorization = await ep.authorize(repoScope(REPO).replace(",push", ""));
  return { ...headers, ...(authorization ? { Authorization: authorization } : {}) };
}

/**
 * How much slower each registry answers with auth on than off: in
 * requests/s, and in requests per CPU-second of the server, which holds up
 * better when other load on the machine leaves the server less than a core.
 */
function authCost(bench: Bench, names: string[]): void {
  const section = "auth cost, small requests";
  for (const name of names) {
    for (const target of bench.targets) {
      const of = (map: Map<string, number>, mode: Mode) => map.get(`${target.id}/${mode}/${name}`) ?? Number.NaN;
      const slower = 100 * (1 - of(rates, "auth") / of(rates, "anon"));
      const slowerPerCpu = 100 * (1 - of(perCpu, "auth") / of(perCpu, "anon"));
      bench.results.set(section, `${name}: auth on slower than off by (%, req/s; per server CPU-s)`, target.id as TargetId, {
        // Judged per CPU-second: a CPU-bound server's rate follows the CPU it is left.
        value: slowerPerCpu,
        text: `${slower.toFixed(1)}%; ${slowerPerCpu.toFixed(1)}%`,
      }, {
        ratio: false,
        goal: { text: "mcr ≤ 15% (per CPU-s)", met: (m) => m.value <= 15 },
      });
    }
  }
  bench.results.note(
    "Auth cost: the first figure compares requests/s, the second requests per CPU-second of the server (requests/s ÷ its CPU share); the target is judged on the second, since other load on the machine changes how much CPU the server gets from one 10 s run to the next.",
  );
}
