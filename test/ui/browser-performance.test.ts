/**
 * @module How fast the UI shows its lists in a real browser on loopback:
 * from navigation start to the first frame painted with the table's rows,
 * for the repository list at 1,000 repositories and a tag list at 5,000
 * tags, under 300 ms each (median of five cold page loads); the browser's
 * own timings of the /v1 calls are printed beside.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { BrowserContext, Page } from "playwright-core";
import { addUser } from "../../lib/auth/users.ts";
import { testApp, type TestApp } from "../support/app.ts";
import { pushImage } from "../support/blobs.ts";
import { browserMissing, launchBrowser } from "../support/browser.ts";
import { seedRepositories } from "../support/seed.ts";
import { seedTags } from "../support/ui-fixtures.ts";

// page.evaluate and addInitScript bodies run in the browser; these are its globals.
declare const document: any;
declare const window: any;
declare const MutationObserver: any;
declare function requestAnimationFrame(callback: () => void): void;

const missing = browserMissing();
let t: TestApp;
let server: ReturnType<typeof Bun.serve>;
let base: string;
let context: BrowserContext;
let page: Page;

/** Milliseconds from navigation start to the first frame with table rows, for a fresh load of `hash`. */
async function firstRows(hash: string): Promise<{ ms: number; api: string }> {
  await page.goto(`${base}?load=${Math.random()}${hash}`);
  await page.waitForFunction(() => window.__rowsPaintedAt !== undefined, null, { timeout: 10_000 });
  const ms = (await page.evaluate(() => window.__rowsPaintedAt)) as number;
  const api = (await page.evaluate(() =>
    performance
      .getEntriesByType("resource")
      .filter((e) => e.name.includes("/v1/browse/"))
      .map((e) => `${new URL(e.name).pathname} ${e.duration.toFixed(1)} ms`)
      .join(", "),
  )) as string;
  return { ms, api };
}

async function median(hash: string): Promise<number> {
  const runs: number[] = [];
  for (let i = 0; i < 5; i++) {
    const { ms, api } = await firstRows(hash);
    console.log(`${hash}: rows painted at ${ms.toFixed(0)} ms (${api})`);
    runs.push(ms);
  }
  return runs.sort((a, b) => a - b)[2]!;
}

beforeAll(async () => {
  if (missing) return;
  t = await testApp();
  await addUser(t.reg, { name: "alice", password: "alice-password" }, "test");
  await seedRepositories(t.reg, 1000);
  const image = await pushImage(t, "big/tags", "base");
  await seedTags(t, "big/tags", image.digest, 5000);
  server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req, srv) => t.app.fetch(req, srv) });
  base = `http://127.0.0.1:${server.port}/`;
  context = await launchBrowser();
  page = context.pages()[0] ?? (await context.newPage());
  // Record when rows first reach the table, and the frame that paints them.
  await page.addInitScript(() => {
    new MutationObserver((_: unknown, observer: { disconnect(): void }) => {
      if (!document.querySelector("tbody tr")) return;
      observer.disconnect();
      requestAnimationFrame(() => (window.__rowsPaintedAt = performance.now()));
    }).observe(document, { childList: true, subtree: true });
  });
  await page.goto(base);
  await page.fill("#login-user", "alice");
  await page.fill("#login-password", "alice-password");
  await page.click("button[type=submit]");
  await page.waitForSelector("#repos-title");
}, 120_000);

afterAll(async () => {
  await context?.close().catch(() => {});
  server?.stop(true);
  await t?.close();
});

describe.skipIf(missing !== null)("first paint of the UI's lists", () => {
  test("the repository list at 1,000 repositories paints its rows within 300 ms", async () => {
    expect(await median("#/repos")).toBeLessThan(300);
  }, 60_000);

  test("a tag list at 5,000 tags paints its rows within 300 ms", async () => {
    expect(await median("#/repo?name=big/tags")).toBeLessThan(300);
  }, 60_000);
});
