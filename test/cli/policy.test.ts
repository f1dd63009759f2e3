/**
 * @module `mcr policy` as a subprocess: apply with a diff and dry run,
 * show/apply round trip, test explanations, edit through $EDITOR with
 * re-open on error and confirmation, and exit codes.
 */
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli, typoEditor } from "../support/cli.ts";
import { tempDir } from "../support/temp.ts";

const rule = (id: string, subjects: string, actions: string, repos: string, effect = "allow") =>
  `[[rule]]\nid = "${id}"\neffect = "${effect}"\nsubjects = [${subjects}]\nactions = [${actions}]\nrepositories = [${repos}]\n`;

describe("mcr policy", () => {
  test("apply --dry-run shows the diff and changes nothing; apply applies; show round-trips", async () => {
    const data = tempDir();
    const file = join(tempDir(), "p.toml");
    writeFileSync(file, rule("ci-push", '"robot:ci"', '"pull", "push"', '"ci/*"'));
    const dry = await runCli(["policy", "apply", "-f", file, "--dry-run", "--data", data]);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain("+ ci-push: allow robot:ci pull,push on ci/*");
    expect(dry.stdout).toContain("- default-users");
    expect(dry.stdout).toContain("dry run");
    expect((await runCli(["policy", "show", "--data", data])).stdout).toContain('id = "default-users"');
    expect((await runCli(["policy", "apply", "-f", file, "--data", data])).stdout).toContain("policy applied");
    const shown = (await runCli(["policy", "show", "--data", data])).stdout;
    expect(shown).not.toContain("default-users");
    writeFileSync(file, shown);
    expect((await runCli(["policy", "apply", "-f", file, "--data", data])).stdout.trim()).toBe("no changes");
    const json = JSON.parse((await runCli(["policy", "show", "--json", "--data", data])).stdout) as { rules: { id: string }[] };
    expect(json.rules.map((r) => r.id)).toEqual(["ci-push"]);
  });

  test("test explains; bad files and arguments give the right exit codes", async () => {
    const data = tempDir();
    expect((await runCli(["user", "add", "alice", "--data", data])).code).toBe(0);
    const allow = await runCli(["policy", "test", "--user", "alice", "--action", "push", "--repo", "team/app", "--data", data]);
    expect(allow.stdout).toContain("ALLOW: alice push team/app");
    expect(allow.stdout).toContain("* allow default-users");
    const anon = JSON.parse((await runCli(["policy", "test", "--user", "anonymous", "--action", "pull", "--repo", "x", "--json", "--data", data])).stdout) as { allowed: boolean; reason: string };
    expect(anon).toMatchObject({ allowed: false, reason: "no rule allows it (default deny)" });
    expect((await runCli(["policy", "test", "--user", "alice", "--action", "fly", "--repo", "x", "--data", data])).code).toBe(2);
    expect((await runCli(["policy", "test", "--user", "nobody", "--action", "pull", "--repo", "x", "--data", data])).code).toBe(1);
    const bad = join(tempDir(), "bad.toml");
    writeFileSync(bad, rule("x", '"robot:ci"', '"pushh"', '"a"'));
    const refused = await runCli(["policy", "apply", "-f", bad, "--data", data]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('line 5: rule 1 ("x"): unknown action "pushh"');
    expect((await runCli(["policy", "apply", "-f", "/nonexistent.toml", "--data", data])).code).toBe(2);
  });

  test("edit: a broken save re-opens with the error on top; a fixed one shows the diff and asks", async () => {
    const data = tempDir();
    // First save: an unknown action. Second: fixed, and the error header must be there to read.
    const editor = typoEditor(tempDir(), `printf '${rule("ro", '"robots"', '"pulll"', '"**"').replace(/\n/g, "\\n")}' >> "$1"`, "pulll", "pull");
    const declined = await runCli(["policy", "edit", "--data", data], { stdin: "n\n", env: { EDITOR: editor.path } });
    expect(declined.stdout).toContain("+ ro: allow robots pull on **");
    expect(declined.stdout).toContain("not applied");
    editor.reset();
    const accepted = await runCli(["policy", "edit", "--data", data], { stdin: "y\n", env: { EDITOR: editor.path } });
    expect(accepted.stdout).toContain("policy applied");
    expect((await runCli(["policy", "show", "--data", data])).stdout).toContain('id = "ro"');
  });
});
