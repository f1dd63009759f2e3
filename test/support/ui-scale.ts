/**
 * @module The UI at the sizes issue's targets name, shared by the UI's
 * scale tests (test/ui/performance.test.ts) and the benchmark that
 * measures those targets (bench/ui.ts): 1,000 repositories, one of 5,000
 * tags, optionally 9,000 more; a logged-in browser's session cookie; and
 * timed calls of a JSON endpoint (wall and CPU time per call).
 */
import { addUser } from "../../lib/auth/users.ts";
import type { TestApp } from "./app.ts";
import { pushImage } from "./blobs.ts";
import { seedRepositories } from "./seed.ts";
import { seedTags } from "./ui-fixtures.ts";

/** The account the UI is used as (role `user`, so the policy filters what it sees). */
export const UI_USER = { username: "alice", password: "alice-password" } as const;

/** The repository with many tags. */
export const BIG_REPO = "big/tags";

/** What `seedUiScale` makes: `seed-0000`… and `big/tags` (its "base" tag and `t00000`…, newest first). */
export const UI_SCALE = { repositories: 1000, tags: 5000 } as const;

/** Adds the UI user, `UI_SCALE.repositories` seeded repositories and `big/tags` with `UI_SCALE.tags` tags; returns the tags' manifest digest. */
export async function seedUiScale(t: TestApp): Promise<string> {
  await addUser(t.reg, { name: UI_USER.username, password: UI_USER.password }, "test");
  await seedRepositories(t.reg, UI_SCALE.repositories);
  const image = await pushImage(t, BIG_REPO, "base");
  await seedTags(t, BIG_REPO, image.digest, UI_SCALE.tags);
  return image.digest;
}

/** Adds `count` empty repositories (`more-0000`…): the list's cost is in the names it filters. */
export async function seedMoreRepositories(t: TestApp, count: number): Promise<void> {
  const now = t.reg.now();
  await t.reg.db.transaction().execute(async (trx) => {
    for (let i = 0; i < count; i += 500) {
      const rows = Array.from({ length: Math.min(500, count - i) }, (_, j) => ({ name: `more-${String(i + j).padStart(4, "0")}`, created_at: now }));
      await trx.insertInto("repositories").values(rows).execute();
    }
  });
}

/** Logs in as the UI user through /v1/ui/login; returns the `Cookie` header a browser would send. */
export async function uiCookie(t: TestApp): Promise<string> {
  const res = await t.request("POST", "/v1/ui/login", {
    headers: { authorization: "", "content-type": "application/json" },
    body: JSON.stringify({ username: UI_USER.username, password: UI_USER.password }),
  });
  const cookie = res.headers.get("set-cookie");
  if (res.status !== 200 || !cookie) throw new Error(`login failed: ${res.status} ${await res.text()}`);
  return cookie.split(";")[0]!;
}

/** GETs `path` as the logged-in browser does (cookie, no Authorization); throws unless 200; returns the parsed body. */
export async function uiGet<T = any>(t: TestApp, cookie: string, path: string): Promise<T> {
  const res = await t.request("GET", path, { headers: { authorization: "", cookie } });
  if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
  return (await res.json()) as T;
}

/** Per-call times of one endpoint, in ms. */
export interface CallTimes {
  wall: number[];
  cpu: number[];
}

/**
 * Calls `path` `runs` times after 5 untimed calls, in process, and records
 * each call's wall time and the CPU time the process spent on it (user +
 * system). On a loaded machine wall time adds waits for a core that say
 * nothing about the code; CPU time does not.
 */
export async function timeCalls(t: TestApp, cookie: string, path: string, runs: number): Promise<CallTimes> {
  for (let i = 0; i < 5; i++) await uiGet(t, cookie, path);
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const used = process.cpuUsage();
    await uiGet(t, cookie, path);
    const spent = process.cpuUsage(used);
    cpu.push((spent.user + spent.system) / 1000);
    wall.push(performance.now() - start);
  }
  return { wall, cpu };
}

/** The `q` quantile of `xs` (nearest rank: 0.5 is the median, 0.99 the 99th percentile). */
export function quantile(xs: readonly number[], q: number): number {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.max(0, Math.ceil(sorted.length * q) - 1)]!;
}
