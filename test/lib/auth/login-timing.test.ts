/**
 * @module A failed login takes as long whether or not the account exists
 * (or can log in with a password at all), so response times do not tell
 * an attacker which user names are real.
 */
import { describe, expect, test } from "bun:test";
import { Authenticator } from "../../../lib/auth/authenticator.ts";
import { ephemeralSigningKey } from "../../../lib/auth/signing-key.ts";
import { addUser, setDisabled } from "../../../lib/auth/users.ts";
import { openRegistry } from "../../../lib/registry/registry.ts";
import { tempDir } from "../../support/temp.ts";

/**
 * Median CPU milliseconds (every thread of this process: argon2 may run
 * off the main one) of a failing login as `user`, each try from a fresh
 * address so throttling stays out of it. CPU time, not wall time: other
 * load on the machine stretches the second, not the first.
 */
async function medianFailure(auth: Authenticator, user: string, tag: string): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < 4; i++) {
    const before = process.cpuUsage();
    await expect(auth.login(user, `wrong-password-${i}`, `10.0.${tag}.${i}`)).rejects.toMatchObject({ code: "UNAUTHORIZED" });
    const spent = process.cpuUsage(before);
    times.push((spent.user + spent.system) / 1000);
  }
  times.sort((a, b) => a - b);
  return (times[1]! + times[2]!) / 2;
}

describe("failed logins", () => {
  test("an unknown, disabled or password-less account fails as slowly as a real one with a wrong password", async () => {
    const reg = await openRegistry(tempDir());
    await addUser(reg, { name: "alice", password: "alice-password" }, "test");
    await addUser(reg, { name: "mallory", password: "mallory-password" }, "test");
    await setDisabled(reg, "mallory", true, "test");
    await addUser(reg, { name: "ci", kind: "robot" }, "test");
    const auth = new Authenticator(reg, ephemeralSigningKey(), { tokenTtlSeconds: 60 });
    const real = await medianFailure(auth, "alice", "1");
    for (const [user, tag] of [["nobody", "2"], ["mallory", "3"], ["ci", "4"]] as const) {
      const other = await medianFailure(auth, user, tag);
      // argon2 dominates both; without it an unknown name fails in well under a millisecond.
      expect(other).toBeGreaterThan(real * 0.4);
    }
    await reg.close();
  }, 30_000);
});
