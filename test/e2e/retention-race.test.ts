/**
 * @module THE RETENTION RACE: workers push new tags and move old ones
 * against a real `mcr serve` while `mcr gc --retention` runs again and
 * again in other processes (keep_last 6 plus release-* tags). Afterwards,
 * from the audit log and the registry: no tag pushed after a run's plan
 * was removed by that run, no tag vanished without a removal that
 * explains it, no release tag went, and every tag left pulls back whole.
 */
import { expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import type { GcReport } from "../../lib/gc/report.ts";
import { openRegistry } from "../../lib/registry/registry.ts";
import { runCli } from "../support/cli.ts";
import { layerPool } from "../support/race-pusher.ts";
import { checkOutcome, pushLoop, seedPool, type DeletionEvent, type PushLog } from "../support/retention-race.ts";
import { startServerProcess } from "../support/server-process.ts";
import { tempDir } from "../support/temp.ts";

const PUSH_MS = 20_000;
const WORKERS = 3;
const REPOS = ["race/a", "race/b"];

test(
  "retention racing pushes and re-tags: nothing pushed after a plan is lost, nothing acknowledged breaks",
  async () => {
    const dataDir = tempDir("retention-race-");
    const server = await startServerProcess({ dataDir });
    const client = { url: server.url, auth: server.authHeader };
    const pool = layerPool(12, 3);
    await seedPool(client, REPOS, pool);
    const rules = join(tempDir(), "rules.toml");
    writeFileSync(rules, `[[rule]]\nid = "race"\nrepositories = ["race/*"]\nkeep_last = 6\nkeep_tags = ["release-*"]\nallow_empty = true\n`);
    expect((await runCli(["retention", "apply", "-f", rules, "--data", dataDir])).code).toBe(0);

    const log: PushLog = { pushes: [], retags: 0, errors: [] };
    const deadline = Date.now() + PUSH_MS;
    const runs = { count: 0, tags: 0, manifests: 0, kept: 0, errors: [] as string[] };
    const loop = (async () => {
      while (Date.now() < deadline) {
        const run = await runCli(["gc", "--retention", "--json", "--data", dataDir]);
        if (run.code !== 0) {
          runs.errors.push(`gc exited ${run.code}: ${run.stderr}`);
          continue;
        }
        const report = JSON.parse(run.stdout) as GcReport;
        runs.count++;
        runs.tags += report.retentionRun!.tagsRemoved;
        runs.manifests += report.retentionRun!.manifestsRemoved;
        runs.kept += report.retentionRun!.keptOnRecheck;
      }
    })();
    await Promise.all([loop, ...Array.from({ length: WORKERS }, (_, id) => pushLoop(client, id, REPOS, pool, log, deadline))]);

    await Bun.sleep(100);
    const reg = await openRegistry(dataDir);
    const rows = await reg.db.selectFrom("audit_events").select(["repository", "tag", "digest", "time", "detail"]).where("event", "=", "retention.tag.deleted").execute();
    await reg.close();
    const deletions: DeletionEvent[] = rows.map((r) => ({ repository: r.repository!, tag: r.tag, digest: r.digest, time: r.time, planned: Date.parse(JSON.parse(r.detail!).planned) }));
    const { problems, present } = await checkOutcome(client, log, deletions);
    await server.stop();
    console.log(
      `${log.pushes.length} pushes acknowledged (${log.retags} re-tags), ${log.errors.length} refused; ${runs.count} gc --retention runs removed ` +
        `${runs.tags} tags and ${runs.manifests} manifests, left ${runs.kept} that changed since their plan; ${present} tags left, all pulled whole`,
    );
    expect(log.errors).toEqual([]);
    expect(runs.errors).toEqual([]);
    expect(problems).toEqual([]);
    // Every removal is in the audit log (else the checks above would judge from a partial record).
    expect(deletions.length).toBe(runs.tags);
    // The race really ran.
    expect(runs.count).toBeGreaterThanOrEqual(5);
    expect(log.pushes.length).toBeGreaterThanOrEqual(100);
    expect(runs.tags).toBeGreaterThan(20);
  },
  { timeout: 120_000 },
);
