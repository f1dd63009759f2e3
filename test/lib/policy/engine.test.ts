/**
 * @module Live reload: a policy applied by another process is seen on the
 * next decision; when nothing changed, the loaded rules are reused.
 */
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import { writeFileSync } from "node:fs";
import { ANONYMOUS, type Identity } from "../../../lib/auth/identity.ts";
import type { Rule } from "../../../lib/policy/rule.ts";
import { applyPolicy } from "../../../lib/policy/store.ts";
import { openRegistry } from "../../../lib/registry/registry.ts";
import { tempDir } from "../../support/temp.ts";

const ci: Identity = { kind: "user", userId: 9, name: "ci", role: "user", userKind: "robot", via: "token", tokenId: null };
const ROOT = join(import.meta.dir, "..", "..", "..");

describe("PolicyEngine", () => {
  test("reuses the compiled rules until some process changes them, then reloads once", async () => {
    const dataDir = tempDir();
    const reg = await openRegistry(dataDir);
    const first = await reg.policy.current();
    expect(await reg.policy.current()).toBe(first);
    expect((await reg.policy.decide(ci, "push", "ci/app")).allowed).toBe(false);

    const file = join(tempDir(), "p.toml");
    writeFileSync(file, `[[rule]]\nid = "ci-push"\neffect = "allow"\nsubjects = ["robot:ci"]\nactions = ["push"]\nrepositories = ["ci/*"]\n`);
    const proc = Bun.spawnSync([process.execPath, join(ROOT, "cli", "main.ts"), "policy", "apply", "-f", file, "--data", dataDir]);
    expect(proc.stdout.toString()).toContain("policy applied");

    expect((await reg.policy.decide(ci, "push", "ci/app")).allowed).toBe(true);
    const second = await reg.policy.current();
    expect(second).not.toBe(first);
    expect(await reg.policy.current()).toBe(second);
    await reg.close();
  });

  test("another process's unrelated writes do not reload the rules", async () => {
    const dataDir = tempDir();
    const reg = await openRegistry(dataDir);
    const before = await reg.policy.current();
    const proc = Bun.spawnSync([process.execPath, join(ROOT, "cli", "main.ts"), "user", "add", "bob", "--data", dataDir]);
    expect(proc.exitCode).toBe(0);
    expect(await reg.policy.current()).toBe(before);
    await reg.close();
  });
});

describe("auth.anonymous = false", () => {
  test("no rule can grant anonymous callers anything, and accounts are unaffected", async () => {
    const reg = await openRegistry(tempDir());
    const publicPull: Rule = { id: "public", priority: 0, effect: "allow", subjects: ["*"], actions: ["pull"], repositories: ["public/**"], enabled: true, description: "" };
    await applyPolicy(reg, [publicPull], "test");
    expect((await reg.policy.decide(ANONYMOUS, "pull", "public/app")).allowed).toBe(true);
    reg.policy.allowAnonymous = false;
    const refused = await reg.policy.decide(ANONYMOUS, "pull", "public/app");
    expect(refused).toMatchObject({ allowed: false, reason: "anonymous access is turned off (auth.anonymous = false)" });
    expect((await reg.policy.decide(ci, "pull", "public/app")).allowed).toBe(true);
    await reg.close();
  });
});
