/**
 * @module `mcr gc` as a child process on a data directory prepared in
 * process: the JSON report, plain lines when not on a terminal, the live
 * view on one, dry runs, exit codes (2 usage, 1 lock held or files missing).
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { hostname } from "node:os";
import { insertGcRun, setGcLock } from "../../lib/db/queries/gc-runs.ts";
import type { GcReport } from "../../lib/gc/report.ts";
import { openRegistry, type Registry } from "../../lib/registry/registry.ts";
import { FsLayout } from "../../lib/storage/fs-layout.ts";
import { runCli, runInTerminal } from "../support/cli.ts";
import { blobState, HOUR, pushBlob, pushImage } from "../support/gc-fixtures.ts";
import { tempDir } from "../support/temp.ts";

// Each test starts mcr processes; bunfig's timeout is not applied by Bun 1.4.5, so set one here.
setDefaultTimeout(30_000);

/** A data dir holding a tagged image, and garbage pushed three hours ago. */
async function prepared(): Promise<{ data: string; layout: FsLayout; kept: string[]; garbage: string[] }> {
  const data = tempDir("cli-gc-");
  const reg = await openRegistry(data);
  reg.now = () => Date.now() - 3 * HOUR;
  const image = await pushImage(reg, "app", "v1", ["base layer", "app layer"]);
  const garbage = [(await pushBlob(reg, "app", "left over")).digest, (await pushBlob(reg, "tmp", "scratch")).digest];
  await reg.close();
  return { data, layout: new FsLayout(data), kept: image.blobs, garbage };
}

async function withRegistry<T>(data: string, fn: (reg: Registry) => Promise<T>): Promise<T> {
  const reg = await openRegistry(data);
  try {
    return await fn(reg);
  } finally {
    await reg.close();
  }
}

describe("mcr gc", () => {
  test("--json prints only the report; what it names is gone and the rest stays", async () => {
    const { data, layout, kept, garbage } = await prepared();
    const run = await runCli(["gc", "--json", "--data", data]);
    expect(run).toMatchObject({ code: 0, stderr: "" });
    const report = JSON.parse(run.stdout) as GcReport;
    expect(report).toMatchObject({ dryRun: false, graceMs: 3_600_000, untagged: false, blobsRemoved: 2, bytesFreed: 9 + 7, missing: [] });
    await withRegistry(data, async (reg) => {
      for (const digest of garbage) expect((await blobState(reg, layout, digest)).file).toBe(false);
      for (const digest of kept) expect((await blobState(reg, layout, digest)).file).toBe(true);
    });
  });

  test("without a terminal it prints a line per phase and a summary; --dry-run changes nothing", async () => {
    const { data, layout, garbage } = await prepared();
    const dry = await runCli(["gc", "--dry-run", "--data", data]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain("gc: grace 1h, dry run\n");
    expect(dry.stdout).toMatch(/^gc: blobs: \d+ checked, 2 removed$/m);
    expect(dry.stdout).not.toContain("untagged manifests");
    expect(dry.stdout).toMatch(/^gc run \d+ would remove 2 blobs, 0 manifests, 0 repository links, 0 orphan files, 0 stale uploads; would free 16 B in [\d.]+s$/m);
    await withRegistry(data, async (reg) => {
      for (const digest of garbage) expect((await blobState(reg, layout, digest)).file).toBe(true);
    });
    const real = await runCli(["gc", "--grace", "2h", "--untagged", "--data", data]);
    expect(real.stdout).toContain("gc: grace 2h, untagged\n");
    expect(real.stdout).toMatch(/^gc: untagged manifests: 1 checked, 0 removed$/m);
    expect(real.stdout).toMatch(/^gc: blobs: 5 checked, 2 removed$/m);
    expect(real.stdout).toMatch(/^gc run \d+ removed 2 blobs, /m);
  });

  test("on a terminal it shows the live view", async () => {
    if (!Bun.which("script")) return console.warn("skipping the terminal view test: script(1) is not installed");
    const { data } = await prepared();
    const { code, out } = (await runInTerminal(["gc", "--data", data]))!;
    expect(code).toBe(0);
    expect(out).toContain("mcr gc · grace 1h");
    expect(out).toMatch(/✔ blobs\s+\d+ checked\s+2 removed/);
    expect(out).not.toContain("untagged manifests");
    expect(out).toMatch(/gc run \d+ removed 2 blobs/);
  });

  test("a bad --grace is a usage error (2)", async () => {
    for (const grace of ["5x", "-1h", "1 hour", "400d"]) {
      const run = await runCli(["gc", "--grace", grace, "--data", tempDir()]);
      expect(run.code).toBe(2);
      expect(run.stderr).toMatch(/^mcr: (invalid duration|the grace period)/);
    }
  });

  test("while another run holds the lock it refuses (1) and changes nothing", async () => {
    const { data, layout, garbage } = await prepared();
    await withRegistry(data, async (reg) => {
      const run = await insertGcRun(reg.db, { actor: "cron", options: "{}", pid: process.pid, host: hostname(), started_at: Date.now() });
      await setGcLock(reg.db, { run_id: run, pid: process.pid, host: hostname(), started_at: Date.now(), heartbeat_at: Date.now() });
    });
    const run = await runCli(["gc", "--data", data]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`already running (pid ${process.pid} on ${hostname()}`);
    await withRegistry(data, async (reg) => expect((await blobState(reg, layout, garbage[0]!)).file).toBe(true));
  });

  test("missing blob files are warned about on stderr and exit 1, with the report still printed", async () => {
    const { data, layout, kept } = await prepared();
    await withRegistry(data, (reg) => reg.store.delete(kept[1]!));
    const run = await runCli(["gc", "--json", "--data", data]);
    expect(run.code).toBe(1);
    expect((JSON.parse(run.stdout) as GcReport).missing).toEqual([
      { digest: kept[1]!, size: 10, referenced: true, repositories: ["app"], removed: false },
    ]);
    expect(run.stderr).toContain(`warning: blob ${kept[1]} (10 B) in app has no file: used by manifests, so its row is kept`);
    expect(run.stderr).toContain("mcr gc: 1 blob file(s) missing: the store is damaged");
    await withRegistry(data, async (reg) => expect((await blobState(reg, layout, kept[1]!)).row).toBe(true));
  });
});
