/**
 * @module Recording never slows a request: a manifest GET answers before
 * its event is written, a burst of GETs is written in a few statements,
 * and an audited GET costs about what an unaudited HEAD does.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { testingOnPostgres } from "../../support/postgres.ts";
import { testApp, type TestApp } from "../../support/app.ts";
import { pushImage } from "../../support/blobs.ts";

let t: TestApp;
beforeAll(async () => {
  t = await testApp();
  await pushImage(t, "bench/app", "v1");
});
afterAll(() => t.close());

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

describe("audit overhead", () => {
  test("a manifest GET answers before its event is written", async () => {
    await t.reg.audit.flush();
    const before = t.reg.audit.stats.written;
    const res = await t.request("GET", "/v2/bench/app/manifests/v1");
    expect(res.status).toBe(200);
    // Queued, not yet in the database: the request did not wait for the write.
    expect(t.reg.audit.pending).toBe(1);
    expect(t.reg.audit.stats.written).toBe(before);
    await t.reg.audit.flush();
    expect(t.reg.audit.stats.written).toBe(before + 1);
  });

  test("400 concurrent GETs are written in a handful of statements", async () => {
    await t.reg.audit.flush();
    const { batches, written } = t.reg.audit.stats;
    const statuses = await Promise.all(Array.from({ length: 400 }, () => t.request("GET", "/v2/bench/app/manifests/v1").then((r) => r.status)));
    expect(new Set(statuses)).toEqual(new Set([200]));
    await t.reg.audit.flush();
    expect(t.reg.audit.stats.written - written).toBe(400);
    // Batches are cut by a timer, and 400 requests on PostgreSQL (a round trip per query) span more of its ticks.
    expect(t.reg.audit.stats.batches - batches).toBeLessThanOrEqual(testingOnPostgres() ? 20 : 4);
  });

  test("an audited GET takes about as long as an unaudited HEAD", async () => {
    const time = async (method: string) => {
      const samples: number[] = [];
      for (let i = 0; i < 300; i++) {
        const started = performance.now();
        const res = await t.request(method, "/v2/bench/app/manifests/v1");
        await res.arrayBuffer();
        samples.push(performance.now() - started);
      }
      return median(samples);
    };
    await time("GET"); // warm up
    const head = await time("HEAD");
    const get = await time("GET");
    console.log(`audit overhead: manifest GET (audited) median ${(get * 1000).toFixed(0)} µs, HEAD (not audited) ${(head * 1000).toFixed(0)} µs`);
    expect(get).toBeLessThan(head * 1.5 + 0.2);
  });
});
