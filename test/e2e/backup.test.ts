/**
 * @module `mcr backup` while clients push, `mcr restore` into a fresh
 * directory, and every image the backup holds pulls intact (over HTTP and
 * with skopeo) from a server on the restored data; `mcr fsck` agrees.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { runCli } from "../support/cli.ts";
import { listAllTags, pullAndVerify, pushRandomImage, type PushedImage } from "../support/http-registry.ts";
import { startServerProcess } from "../support/server-process.ts";
import { tempDir } from "../support/temp.ts";

// Real processes, and the whole suite may run on a loaded machine: more than the default 5 s.
setDefaultTimeout(120_000);

const SKOPEO = Bun.which("skopeo");

describe("backup and restore", () => {
  test("a backup taken while pushes run restores into a registry where every image pulls", async () => {
    const server = await startServerProcess();
    const before: PushedImage[] = [];
    for (let i = 0; i < 6; i++) before.push(await pushRandomImage(server.url, server.authHeader, `bk/app${i % 3}`, `v${i}`));

    // Pushes keep coming while the backup runs.
    let pushing = true;
    let pushedDuring = 0;
    const pusher = (async () => {
      for (let i = 0; pushing; i++) {
        await pushRandomImage(server.url, server.authHeader, `bk/live${i % 4}`, `t${i}`, 3, 64 * 1024);
        pushedDuring++;
      }
    })();
    await Bun.sleep(100);
    const backupDir = join(tempDir("bk-"), "backup");
    const backup = await runCli(["backup", backupDir, "--data", server.dataDir, "--json"]);
    const duringBackup = pushedDuring;
    await Bun.sleep(100);
    pushing = false;
    await pusher;
    await server.stop();
    expect(backup.stderr).toBe("");
    expect(backup.code).toBe(0);
    expect(duringBackup).toBeGreaterThan(0);
    const report = JSON.parse(backup.stdout) as { blobs: number; linked: number; copied: number; missing: string[] };
    expect(report.missing).toEqual([]);
    // Same file system: hard links.
    expect(report.linked).toBe(report.blobs);
    const manifest = JSON.parse(readFileSync(join(backupDir, "backup.json"), "utf8")) as { format: string; blobs: unknown[]; database: { sha256: string } };
    expect(manifest.format).toBe("mcr-backup/1");
    expect(manifest.blobs).toHaveLength(report.blobs);
    expect(statSync(join(backupDir, "mcr.db")).mode & 0o777).toBe(0o600);

    const restored = join(tempDir("restored-"), "data");
    const restore = await runCli(["restore", backupDir, "--data", restored]);
    expect(restore.stderr).toBe("");
    expect(restore.code).toBe(0);
    expect(restore.stdout).toContain(`restored ${report.blobs} blobs`);
    expect(existsSync(join(restored, "signing-key.pem"))).toBe(true);

    const fsck = await runCli(["fsck", "--data", restored]);
    expect(fsck.stdout).toContain("no corruption");
    expect(fsck.code).toBe(0);

    const again = await startServerProcess({ dataDir: restored });
    try {
      const listed = await listAllTags(again.url, again.authHeader);
      // Everything pushed before the backup started is there, and so is whatever part of the concurrent pushes the snapshot caught.
      for (const image of before) expect(listed).toContainEqual({ repository: image.repository, tag: image.tag });
      expect(listed.length).toBeGreaterThan(before.length);
      for (const { repository, tag } of listed) await pullAndVerify(again.url, again.authHeader, repository, tag);
      for (const image of before) expect(await pullAndVerify(again.url, again.authHeader, image.repository, image.tag)).toBe(image.manifestDigest);
      if (SKOPEO) {
        const home = tempDir("bk-skopeo-");
        const policy = join(home, "policy.json");
        await Bun.write(policy, JSON.stringify({ default: [{ type: "insecureAcceptAnything" }] }));
        const proc = Bun.spawnSync(
          [SKOPEO, "--policy", policy, "copy", "--src-tls-verify=false", "--src-creds", `${again.username}:${again.password}`, `docker://${again.host}/bk/app0:v0`, `oci:${join(home, "out")}:v0`],
          { env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, TMPDIR: home } },
        );
        expect(proc.stderr.toString()).toBe("");
        expect(proc.exitCode).toBe(0);
      }
    } finally {
      await again.stop();
    }
  });

  test("backup refuses a non-empty directory; restore refuses a non-empty data directory and a damaged backup", async () => {
    const server = await startServerProcess();
    await pushRandomImage(server.url, server.authHeader, "bk/one", "v1");
    await server.stop();
    const d = ["--data", server.dataDir];
    const occupied = tempDir("bk-occupied-");
    await Bun.write(join(occupied, "something"), "x");
    const refused = await runCli(["backup", occupied, ...d]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("exists and is not empty");

    const backupDir = join(tempDir("bk2-"), "b");
    expect((await runCli(["backup", backupDir, "--copy", ...d])).code).toBe(0);
    const notEmpty = await runCli(["restore", backupDir, "--data", occupied]);
    expect(notEmpty.code).toBe(1);
    expect(notEmpty.stderr).toContain("exists and is not empty");
    expect((await runCli(["restore", tempDir("not-a-backup-"), "--data", join(occupied, "x")])).stderr).toContain("not a complete mcr backup");

    const manifest = JSON.parse(readFileSync(join(backupDir, "backup.json"), "utf8")) as { blobs: { digest: string }[] };
    const blob = join(backupDir, "blobs", "sha256", manifest.blobs[0]!.digest.slice(7, 9), manifest.blobs[0]!.digest.slice(7));
    await Bun.write(blob, "truncated");
    const target = join(tempDir("bk-target-"), "data");
    const damaged = await runCli(["restore", backupDir, "--data", target]);
    expect(damaged.code).toBe(1);
    expect(damaged.stderr).toContain("the backup is damaged");
    expect(existsSync(target)).toBe(false);
  });
});
