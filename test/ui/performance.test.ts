/**
 * @module The UI's JSON endpoints at the sizes: 1,000 repositories
 * (and 10,000 for the list), and a repository of 5,000 tags, each answer
 * taking under 20 ms of CPU at the 99th percentile, asked as a logged-in
 * browser asks (session cookie), in process. The browser's own timings (first paint of
 * the lists) are in browser-performance.test.ts.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { addUser } from "../../lib/auth/users.ts";
import { testApp, type TestApp } from "../support/app.ts";
import { pushImage } from "../support/blobs.ts";
import { seedRepositories } from "../support/seed.ts";
import { seedTags } from "../support/ui-fixtures.ts";

let t: TestApp;
let cookie: string;

/**
 * The 99th percentile of `runs` timed calls of `path`, after a warm-up: the
 * CPU time each took, which is what the 20 ms bound is about. Wall time is
 * printed too; on a loaded machine (this one is shared) it adds waits for
 * a core that say nothing about the code.
 */
async function p99(path: string, runs = 100): Promise<number> {
  const ask = async () => {
    const res = await t.request("GET", path, { headers: { authorization: "", cookie } });
    if (res.status !== 200) throw new Error(`${path}: ${res.status} ${await res.text()}`);
    await res.arrayBuffer();
  };
  for (let i = 0; i < 5; i++) await ask();
  const wall: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const used = process.cpuUsage();
    await ask();
    const spent = process.cpuUsage(used);
    cpu.push((spent.user + spent.system) / 1000);
    wall.push(performance.now() - start);
  }
  const at = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.ceil(runs * q) - 1]!;
  console.log(`${path}: cpu p50 ${at(cpu, 0.5).toFixed(1)} ms, p99 ${at(cpu, 0.99).toFixed(1)} ms; wall p50 ${at(wall, 0.5).toFixed(1)} ms, p99 ${at(wall, 0.99).toFixed(1)} ms`);
  return at(cpu, 0.99);
}

beforeAll(async () => {
  t = await testApp();
  await addUser(t.reg, { name: "alice", password: "alice-password" }, "test");
  await seedRepositories(t.reg, 1000);
  const image = await pushImage(t, "big/tags", "base");
  await seedTags(t, "big/tags", image.digest, 5000);
  const res = await t.request("POST", "/v1/ui/login", {
    headers: { authorization: "", "content-type": "application/json" },
    body: JSON.stringify({ username: "alice", password: "alice-password" }),
  });
  cookie = res.headers.get("set-cookie")!.split(";")[0]!;
}, 120_000);
afterAll(() => t.close());

describe("UI endpoints at 1,000 repositories and 5,000 tags", () => {
  test("the repository list, a search, and the last page answer in < 20 ms p99", async () => {
    expect(await p99("/v1/browse/repositories?limit=50")).toBeLessThan(20);
    expect(await p99("/v1/browse/repositories?q=seed-09&limit=50")).toBeLessThan(20);
    expect(await p99("/v1/browse/repositories?limit=50&cursor=seed-0950")).toBeLessThan(20);
  }, 60_000);

  test("a repository of 5,000 tags, by push time and by name, answers in < 20 ms p99", async () => {
    expect(await p99("/v1/browse/repository?name=big/tags")).toBeLessThan(20);
    expect(await p99("/v1/browse/repository?name=big/tags&sort=name&offset=4900")).toBeLessThan(20);
    expect(await p99("/v1/browse/repository?name=big/tags&q=t049")).toBeLessThan(20);
  }, 60_000);

  test("a manifest with its referrers answers in < 20 ms p99", async () => {
    expect(await p99("/v1/browse/manifest?name=big/tags&reference=t04999")).toBeLessThan(20);
  }, 60_000);

  // The issue asks for "fast" here and for 20 ms at 1,000; 10,000 names are filtered through the policy on every call (~8 ms).
  test("the list stays fast (< 50 ms p99) at 10,000 repositories", async () => {
    await seedMore(9000);
    expect(await p99("/v1/browse/repositories?limit=50")).toBeLessThan(50);
    expect(await p99("/v1/browse/repositories?q=more-8&limit=50")).toBeLessThan(50);
  }, 120_000);
});

/** Adds `count` empty repositories (`more-0000`…): the list's cost is in the names it filters. */
async function seedMore(count: number): Promise<void> {
  const now = t.reg.now();
  await t.reg.db.transaction().execute(async (trx) => {
    for (let i = 0; i < count; i += 500) {
      const rows = Array.from({ length: Math.min(500, count - i) }, (_, j) => ({ name: `more-${String(i + j).padStart(4, "0")}`, created_at: now }));
      await trx.insertInto("repositories").values(rows).execute();
    }
  });
}
