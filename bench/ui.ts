/**
 * @module `bun bench/ui.ts [runs]`: the web UI's targets, measured. Seeds
 * (rows only) 1,000 repositories and one of 5,000 tags, then 9,000 more
 * repositories; times the UI's JSON endpoints in process as a logged-in
 * browser asks them (`runs` calls each, default 100: wall and CPU p50 and
 * p99), and the first paint of the repository list and the tag list in
 * chromium on loopback (median of 5 cold loads). Prints a Markdown table
 * with the targets (20 ms p99 per endpoint, 300 ms first paint; 50 ms for
 * the list at 10,000 repositories) and whether this run met them. Uses
 * the same seeding and measuring code as the UI's scale tests
 * (test/support/ui-scale.ts, test/support/ui-paint.ts).
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { testApp } from "../test/support/app.ts";
import { browserMissing } from "../test/support/browser.ts";
import { loadRows, openUiBrowser, type UiBrowser } from "../test/support/ui-paint.ts";
import { BIG_REPO, quantile, seedMoreRepositories, seedUiScale, timeCalls, uiCookie } from "../test/support/ui-scale.ts";

const RUNS = Number(process.argv[2] ?? 100);
const PAINT_LOADS = 5;
const log = (line: string) => process.stderr.write(`${line}\n`);
const loadavg = () => readFileSync("/proc/loadavg", "utf8").trim();

// testApp and the browser profile make their directories under MCR_TEST_ROOT.
const root = mkdtempSync(join(tmpdir(), "mcr-bench-ui-"));
process.env.MCR_TEST_ROOT = root;

type Row = { what: string; figure: string; target: string; met: string };
const rows: Row[] = [];
const ms = (n: number) => n.toFixed(1);
const yes = (ok: boolean) => (ok ? "yes" : "**no**");

async function endpoint(t: Awaited<ReturnType<typeof testApp>>, cookie: string, path: string, targetMs: number, scale = "1,000 repos"): Promise<void> {
  const { wall, cpu } = await timeCalls(t, cookie, path, RUNS);
  const c = { p50: quantile(cpu, 0.5), p99: quantile(cpu, 0.99) };
  const w = { p50: quantile(wall, 0.5), p99: quantile(wall, 0.99) };
  log(`${path}: cpu ${ms(c.p50)} / ${ms(c.p99)} ms, wall ${ms(w.p50)} / ${ms(w.p99)} ms`);
  rows.push({
    what: `${scale}: \`${path}\` (ms)`,
    figure: `CPU ${ms(c.p50)} / ${ms(c.p99)}; wall ${ms(w.p50)} / ${ms(w.p99)}`,
    target: `p99 < ${targetMs} ms`,
    met: `CPU ${yes(c.p99 < targetMs)}, wall ${yes(w.p99 < targetMs)}`,
  });
}

async function paint(ui: UiBrowser, what: string, hash: string): Promise<void> {
  const runs: number[] = [];
  for (let i = 0; i < PAINT_LOADS; i++) {
    const load = await loadRows(ui, hash);
    if (load.rows === 0) throw new Error(`${hash}: no rows`);
    log(`${hash}: ${load.rows} rows painted at ${load.ms.toFixed(0)} ms (${load.api})`);
    runs.push(load.ms);
  }
  const median = quantile(runs, 0.5);
  const sorted = [...runs].sort((a, b) => a - b);
  rows.push({ what, figure: `${median.toFixed(0)} (${sorted[0]!.toFixed(0)}–${sorted.at(-1)!.toFixed(0)})`, target: "< 300 ms", met: yes(median < 300) });
}

const missing = browserMissing();
const loadBefore = loadavg();
const t = await testApp();
let ui: UiBrowser | undefined;
try {
  const seedStart = performance.now();
  await seedUiScale(t);
  const cookie = await uiCookie(t);
  log(`seeded 1,000 repositories and ${BIG_REPO} with 5,000 tags in ${((performance.now() - seedStart) / 1000).toFixed(1)} s`);

  await endpoint(t, cookie, "/v1/browse/repositories?limit=50", 20);
  await endpoint(t, cookie, "/v1/browse/repositories?q=seed-09&limit=50", 20);
  await endpoint(t, cookie, "/v1/browse/repositories?limit=50&cursor=seed-0950", 20);
  await endpoint(t, cookie, `/v1/browse/repository?name=${BIG_REPO}`, 20);
  await endpoint(t, cookie, `/v1/browse/repository?name=${BIG_REPO}&sort=name&offset=4900`, 20);
  await endpoint(t, cookie, `/v1/browse/repository?name=${BIG_REPO}&q=t049`, 20);
  await endpoint(t, cookie, `/v1/browse/manifest?name=${BIG_REPO}&reference=t04999`, 20);

  if (!missing) {
    ui = await openUiBrowser(t);
    await paint(ui, "first paint, repository list, 1,000 repositories (ms, median of 5 cold loads, range)", "#/repos");
    await paint(ui, "first paint, tag list, 5,000 tags (ms, median of 5 cold loads, range)", `#/repo?name=${BIG_REPO}`);
  }

  await seedMoreRepositories(t, 9000);
  log("seeded 9,000 more repositories");
  // The issue asks for "fast" at 10,000; the project's bound there is 50 ms.
  await endpoint(t, cookie, "/v1/browse/repositories?limit=50", 50, "10,000 repos");
  await endpoint(t, cookie, "/v1/browse/repositories?q=more-8&limit=50", 50, "10,000 repos");
  if (ui) await paint(ui, "first paint, repository list, 10,000 repositories (ms, median of 5 cold loads, range)", "#/repos");
} finally {
  await ui?.close();
  await t.close();
  rmSync(root, { recursive: true, force: true });
}

const commit = Bun.spawnSync(["git", "rev-parse", "--short", "HEAD"], { cwd: import.meta.dir }).stdout.toString().trim();
console.log(`UI targets, ${new Date().toISOString()}, commit ${commit}; load average before: ${loadBefore}, after: ${loadavg()}`);
console.log(`Endpoints: ${RUNS} calls each in process after 5 untimed, ms p50 / p99; 10,000-repository rows are after the 9,000 extra repositories.${missing ? ` Browser skipped: ${missing}.` : ""}\n`);
console.log("| measurement | figure | target | met |\n| --- | --- | --- | --- |");
for (const r of rows) console.log(`| ${r.what} | ${r.figure} | ${r.target} | ${r.met} |`);
