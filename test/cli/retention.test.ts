/**
 * @module `mcr retention` as a subprocess: apply with the policy's diff
 * and dry run, show/apply round trip, bad files with line numbers and exit
 * code 2, edit through $EDITOR (re-open on error, confirm), plan as text
 * with its explanations, and run.
 */
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { openRegistry } from "../../lib/registry/registry.ts";
import { runCli, runInTerminal, typoEditor } from "../support/cli.ts";
import { pushRandomImage } from "../support/http-registry.ts";
import { startServerProcess } from "../support/server-process.ts";
import { HOUR, pushImage } from "../support/gc-fixtures.ts";
import { tempDir } from "../support/temp.ts";

setDefaultTimeout(30_000);

const CI = `[[rule]]\nid = "ci"\nrepositories = ["ci/**"]\nkeep_last = 2\nkeep_tags = ["v*"]\n`;

describe("mcr retention", () => {
  test("apply --dry-run shows the diff and changes nothing; apply applies; show round-trips", async () => {
    const data = tempDir();
    const file = join(tempDir(), "r.toml");
    writeFileSync(file, CI);
    const dry = await runCli(["retention", "apply", "-f", file, "--dry-run", "--data", data]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toBe('+ ci: keep_last 2, keep_tags v* on ci/**\ndry run: nothing applied\n');
    expect((await runCli(["retention", "show", "--data", data])).stdout).toContain("no retention rules");
    expect((await runCli(["retention", "apply", "-f", file, "--data", data])).stdout).toContain("retention rules applied");
    const shown = (await runCli(["retention", "show", "--data", data])).stdout;
    writeFileSync(file, shown);
    expect((await runCli(["retention", "apply", "-f", file, "--data", data])).stdout.trim()).toBe("no changes");
    writeFileSync(file, CI.replace("keep_last = 2", "keep_last = 5"));
    expect((await runCli(["retention", "apply", "-f", file, "--data", data])).stdout).toContain("~ ci.keep_last: 2 -> 5");
    const json = JSON.parse((await runCli(["retention", "show", "--json", "--data", data])).stdout) as { rules: { id: string; keep_last: number }[] };
    expect(json.rules).toMatchObject([{ id: "ci", keep_last: 5 }]);
  });

  test("a change of the rules' order alone is shown as one, by --dry-run too, and applied", async () => {
    const data = tempDir();
    const file = join(tempDir(), "r.toml");
    const other = `[[rule]]\nid = "web"\nrepositories = ["web/**"]\nkeep_last = 1\n`;
    writeFileSync(file, `${CI}\n${other}`);
    expect((await runCli(["retention", "apply", "-f", file, "--data", data])).stdout).toContain("retention rules applied");
    writeFileSync(file, `${other}\n${CI}`);
    const dry = await runCli(["retention", "apply", "-f", file, "--dry-run", "--data", data]);
    expect(dry.stdout).toBe("~ the order of the rules\ndry run: nothing applied\n");
    const applied = await runCli(["retention", "apply", "-f", file, "--data", data]);
    expect(applied.stdout).toBe("~ the order of the rules\nretention rules applied\n");
    const json = JSON.parse((await runCli(["retention", "show", "--json", "--data", data])).stdout) as { rules: { id: string }[] };
    expect(json.rules.map((r) => r.id)).toEqual(["web", "ci"]);
  });

  test("bad files and arguments: exit code 2 with the line", async () => {
    const data = tempDir();
    const bad = join(tempDir(), "bad.toml");
    writeFileSync(bad, `[[rule]]\nid = "x"\nrepositories = ["ci/**"]\nkeep_lats = 3\n\n[[rule]]\nid = "x"\nrepositories = ["a"]\nuntagged_after = "7 days"\n`);
    const refused = await runCli(["retention", "apply", "-f", bad, "--data", data]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('line 4: rule 1 ("x"): unknown field "keep_lats"');
    expect(refused.stderr).toContain('line 9: rule 2 ("x"): untagged_after: invalid duration "7 days"');
    expect((await runCli(["retention", "apply", "-f", "/nonexistent.toml", "--data", data])).code).toBe(2);
    expect((await runCli(["retention", "plan", "--repo", "A**", "--data", data])).code).toBe(2);
  });

  test("plan explains each removal with its rule; run does it", async () => {
    const data = tempDir();
    const reg = await openRegistry(data);
    let clock = Date.now() - 100 * HOUR;
    reg.now = () => clock;
    for (const tag of ["v1.0", "b1", "b2", "b3"]) {
      await pushImage(reg, "ci/app", tag, [tag]);
      clock += HOUR;
    }
    await reg.close();
    const file = join(tempDir(), "r.toml");
    writeFileSync(file, CI);
    expect((await runCli(["retention", "apply", "-f", file, "--data", data])).code).toBe(0);
    const plan = await runCli(["retention", "plan", "--data", data]);
    expect(plan.code).toBe(0);
    expect(plan.stdout).toContain("ci/app (rules: ci): 1 tag(s) and 1 manifest(s) go, 3 tag(s) stay");
    expect(plan.stdout).toMatch(/remove tag b1 sha256:[0-9a-f]{12}: no rule keeps it \(#3 newest, pushed \d+[dh] ago, never pulled\) \[ci\]/);
    expect(plan.stdout).toContain("its last tag went (b1) [ci]");
    expect(plan.stdout).not.toContain("keep   tag");
    const all = await runCli(["retention", "plan", "--all", "--data", data]);
    expect(all.stdout).toContain('keep   tag v1.0');
    expect(all.stdout).toContain('ci: keep_tags "v*"');
    const run = await runCli(["retention", "run", "--data", data]);
    expect(run.stdout).toContain("retention removed 1 tag(s) and 1 manifest(s) in 1 of 1 covered repositories");
  });

  test("edit: a broken save re-opens with the error on top; a fixed one shows the diff and asks", async () => {
    const data = tempDir();
    const text = `[[rule]]\\nid = "ci"\\nrepositories = ["ci/**"]\\nkeep_lastt = 3\\n`;
    const editor = typoEditor(tempDir(), `printf '${text}' > "$1"`, "keep_lastt", "keep_last");
    const declined = await runCli(["retention", "edit", "--data", data], { stdin: "n\n", env: { EDITOR: editor.path } });
    expect(declined.stdout).toContain("+ ci: keep_last 3 on ci/**");
    expect(declined.stdout).toContain("not applied");
    editor.reset();
    const accepted = await runCli(["retention", "edit", "--data", data], { stdin: "y\n", env: { EDITOR: editor.path } });
    expect(accepted.stdout).toContain("retention rules applied");
    expect((await runCli(["retention", "show", "--data", data])).stdout).toContain("keep_last = 3");
  });

  test("gc --retention: a line for the phase without a terminal, a row of the live view on one, and the skipped repositories", async () => {
    const data = tempDir();
    const reg = await openRegistry(data);
    let clock = Date.now() - 100 * HOUR;
    reg.now = () => clock;
    for (const tag of ["b1", "b2", "b3"]) {
      await pushImage(reg, "ci/app", tag, [tag]);
      await pushImage(reg, "lonely/app", tag, [`lonely ${tag}`]);
      clock += HOUR;
    }
    await reg.close();
    const file = join(tempDir(), "r.toml");
    writeFileSync(file, `${CI}
[[rule]]
id = "lonely"
repositories = ["lonely/*"]
keep_pushed_within = "1h"
`);
    expect((await runCli(["retention", "apply", "-f", file, "--data", data])).code).toBe(0);
    const dry = await runCli(["gc", "--retention", "--dry-run", "--data", data]);
    expect(dry.stdout).toContain("gc: grace 1h, retention, dry run\n");
    expect(dry.stdout).toMatch(/^gc: retention rules: 2 checked, 2 removed$/m);
    expect(dry.stdout).toMatch(/retention would remove 1 tag and 1 manifest, skipped 1 repository$/m);
    expect(dry.stdout).toContain("retention skipped lonely/app: the rules would remove every tag (3)");
    const shown = await runInTerminal(["gc", "--retention", "--data", data]);
    if (!shown) return console.warn("skipping the terminal view test: script(1) is not installed");
    const { out } = shown;
    expect(shown.code).toBe(0);
    expect(out).toContain("mcr gc · grace 1h, retention");
    expect(out).toMatch(/✔ retention rules\s+2 checked\s+2 removed/);
    expect(out).toMatch(/retention removed 1 tag and 1 manifest/);
  });

  test("--server: the same commands through /v1, with the same output", async () => {
    const server = await startServerProcess();
    try {
      const env = { XDG_CONFIG_HOME: tempDir("retention-home-") };
      const login = await runCli(["login", server.url, "--username", "admin", "--password-stdin"], { stdin: `${server.password}\n`, env });
      expect(login.code).toBe(0);
      for (const tag of ["a", "b", "c"]) {
        await pushRandomImage(server.url, server.authHeader, "ci/app", tag);
        await Bun.sleep(5);
      }
      const file = join(tempDir(), "r.toml");
      writeFileSync(file, CI.replace("keep_last = 2", "keep_last = 1"));
      const remote = (args: string[]) => runCli([...args, "--server", server.url], { env });
      expect((await remote(["retention", "apply", "-f", file, "--dry-run"])).stdout).toContain("+ ci: keep_last 1, keep_tags v* on ci/**");
      expect((await remote(["retention", "apply", "-f", file])).stdout).toContain("retention rules applied");
      expect((await remote(["retention", "show"])).stdout).toBe((await runCli(["retention", "show", "--data", server.dataDir])).stdout);
      const plan = await remote(["retention", "plan", "--repo", "ci/**"]);
      expect(plan.stdout).toContain("ci/app (rules: ci): 2 tag(s) and 2 manifest(s) go, 1 tag(s) stay");
      const run = JSON.parse((await remote(["retention", "run", "--json"])).stdout) as { tagsRemoved: number; manifestsRemoved: number };
      expect(run).toMatchObject({ tagsRemoved: 2, manifestsRemoved: 2 });
      const tags = (await (await fetch(`${server.url}/v2/ci/app/tags/list`, { headers: { authorization: server.authHeader } })).json()) as { tags: string[] };
      expect(tags.tags).toEqual(["c"]);
    } finally {
      await server.stop();
    }
  });
});
