/**
 * @module `mcr audit tail -f` beside a real `mcr serve` while skopeo pushes
 * and pulls: each manifest push and pull is printed live, within a second
 * of skopeo finishing, with the account and the client's address.
 */
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { AuditRecord } from "../../lib/audit/audit-events.ts";
import { startCli, type LiveCommand } from "../support/cli.ts";
import { containerTool, requireTool } from "../support/container-tool.ts";
import { writeImageLayout, writeIndexLayout } from "../support/oci-layout.ts";
import { startServerProcess, type ServerProcess } from "../support/server-process.ts";
import { tempDir } from "../support/temp.ts";

// These tests start processes or build large fixtures; a loaded machine needs more than 5 s (bunfig.toml's timeout is not applied).
setDefaultTimeout(60_000);

const SKOPEO = requireTool("skopeo", "test/e2e/audit-tail.test.ts");

describe.skipIf(!SKOPEO)("audit tail -f while skopeo pushes", () => {
  let server: ServerProcess;
  let tail: LiveCommand;
  const events = () => tail.lines.map((l) => JSON.parse(l.text) as AuditRecord);

  beforeAll(async () => {
    server = await startServerProcess();
    tail = startCli(["audit", "tail", "-f", "--json", "-n", "0", "--event", "manifest.*", "--data", server.dataDir]);
    // The follower has started once the CLI has had time to open the database; nothing matches before the pushes.
    await Bun.sleep(1500);
  });
  afterAll(async () => {
    tail?.proc.kill("SIGINT");
    await tail?.proc.exited;
    await server?.stop();
  });

  test("a pushed image and a pushed index show up live, then the pull", async () => {
    const skopeo = containerTool("skopeo", { registryHost: server.host, server, bin: SKOPEO });
    const image = tempDir("audit-image-");
    const index = tempDir("audit-index-");
    const written = writeImageLayout(image, { tag: "v1", layers: 2 });
    const multi = writeIndexLayout(index, { tag: "latest" });
    const creds = `${server.username}:${server.password}`;
    const copy = (src: string, dest: string, extra: string[] = []) =>
      skopeo.run(["copy", "--src-tls-verify=false", "--dest-tls-verify=false", ...extra, src, dest]);

    await copy(`oci:${image}:v1`, `docker://${server.host}/live/app:v1`, ["--dest-creds", creds]);
    let done = performance.now();
    const pushed = await tail.waitFor((t) => t.includes('"event":"manifest.pushed"') && t.includes('"tag":"v1"'), 1000);
    console.log(`audit tail -f: skopeo push printed ${(pushed.at - done).toFixed(0)} ms after skopeo exited`);
    expect(JSON.parse(pushed.text)).toMatchObject({ actor: "user:admin", source: "127.0.0.1", repository: "live/app", digest: written.manifestDigest });

    await copy(`oci:${index}:latest`, `docker://${server.host}/live/multi:latest`, ["--dest-creds", creds, "--all"]);
    done = performance.now();
    await tail.waitFor((t) => t.includes('"repository":"live/multi"') && t.includes('"tag":"latest"'), 1000);
    const multiPushes = events().filter((e) => e.repository === "live/multi");
    expect(multiPushes.map((e) => e.digest)).toEqual([...multi.manifests.map((m) => m.manifestDigest), multi.indexDigest]);

    await copy(`docker://${server.host}/live/app:v1`, `oci:${tempDir("audit-out-")}:v1`, ["--src-creds", creds]);
    done = performance.now();
    const pulled = await tail.waitFor((t) => t.includes('"event":"manifest.pulled"'), 1000);
    expect(pulled.at - done).toBeLessThan(1000);
    expect(JSON.parse(pulled.text)).toMatchObject({ repository: "live/app", digest: written.manifestDigest, actor: "user:admin" });
  });
});
