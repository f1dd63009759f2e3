/**
 * @module The policy with real clients: a rule applied by `mcr policy
 * apply` from another process while the server runs lets skopeo pull a
 * public repository with no credentials at all, and nothing else.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { cliOk } from "../support/cli.ts";
import { containerTool, requireTool } from "../support/container-tool.ts";
import { writeImageLayout } from "../support/oci-layout.ts";
import { startServerProcess, type ServerProcess } from "../support/server-process.ts";
import { tempDir } from "../support/temp.ts";

const SKOPEO = requireTool("skopeo", "test/e2e/policy.test.ts");

describe.skipIf(!SKOPEO)("policy with skopeo", () => {
  let server: ServerProcess;
  beforeAll(async () => {
    server = await startServerProcess();
  });
  afterAll(() => server?.stop());

  test("anonymous pull of public/** once a rule grants it, from another process, without restart", async () => {
    const layout = tempDir("layout-");
    writeImageLayout(layout, { tag: "v1", layers: 2 });
    const admin = containerTool("skopeo", { registryHost: server.host, server, bin: SKOPEO });
    const creds = ["--dest-creds", `${server.username}:${server.password}`];
    for (const repo of ["public/app", "team/app"]) {
      await admin.run(["copy", "--dest-tls-verify=false", ...creds, `oci:${layout}:v1`, `docker://${server.host}/${repo}:v1`]);
    }

    const anonymous = containerTool("skopeo", { registryHost: server.host, server, bin: SKOPEO });
    const pull = (repo: string) =>
      anonymous.result(["copy", "--src-tls-verify=false", "--src-no-creds", `docker://${server.host}/${repo}:v1`, `oci:${tempDir("out-")}:v1`]);
    expect((await pull("public/app")).code).not.toBe(0);

    const policy = join(tempDir("policy-"), "public.toml");
    const current = await cliOk(["policy", "show", "--data", server.dataDir]);
    writeFileSync(policy, `${current}\n[[rule]]\nid = "public-pull"\neffect = "allow"\nsubjects = ["anonymous"]\nactions = ["pull"]\nrepositories = ["public/**"]\n`);
    expect(await cliOk(["policy", "apply", "-f", policy, "--data", server.dataDir])).toContain("+ public-pull");

    const allowed = await pull("public/app");
    expect(allowed.code).toBe(0);
    const refused = await pull("team/app");
    expect(refused.code).not.toBe(0);
    expect(refused.stderr.toLowerCase()).toMatch(/unauthorized|authentication required|denied/);
  });
});
