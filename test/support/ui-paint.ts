/**
 * @module The UI in a real browser, for its lists at scale: serves a
 * TestApp on loopback, opens chromium logged in as the UI user, and loads
 * a page cold (a fresh navigation) until its table has rows, recording
 * from navigation start to the frame that paints them. Used by
 * test/ui/browser-performance.test.ts (rows appear) and bench/ui.ts (how
 * soon).
 */
import type { BrowserContext, Page } from "playwright-core";
import type { TestApp } from "./app.ts";
import { launchBrowser } from "./browser.ts";
import { UI_USER } from "./ui-scale.ts";

// page.evaluate and addInitScript bodies run in the browser; these are its globals.
declare const document: any;
declare const window: any;
declare const MutationObserver: any;
declare function requestAnimationFrame(callback: () => void): void;

/** A logged-in browser on a served TestApp; `close` stops both. */
export interface UiBrowser {
  page: Page;
  base: string;
  close(): Promise<void>;
}

/** One cold load of a page: when its rows were painted, how many, and the browser's timings of the /v1 calls. */
export interface RowsLoad {
  /** Milliseconds from navigation start to the frame after rows reached the table. */
  ms: number;
  rows: number;
  api: string;
}

/** Serves `t` on 127.0.0.1, launches chromium and logs in through the login form. */
export async function openUiBrowser(t: TestApp): Promise<UiBrowser> {
  const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req, srv) => t.app.fetch(req, srv) });
  const base = `http://127.0.0.1:${server.port}/`;
  let context: BrowserContext | undefined;
  try {
    context = await launchBrowser();
    const page = context.pages()[0] ?? (await context.newPage());
    // Record when rows first reach the table, and the frame that paints them.
    await page.addInitScript(() => {
      new MutationObserver((_: unknown, observer: { disconnect(): void }) => {
        if (!document.querySelector("tbody tr")) return;
        observer.disconnect();
        requestAnimationFrame(() => (window.__rowsPaintedAt = performance.now()));
      }).observe(document, { childList: true, subtree: true });
    });
    await page.goto(base);
    await page.fill("#login-user", UI_USER.username);
    await page.fill("#login-password", UI_USER.password);
    await page.click("button[type=submit]");
    await page.waitForSelector("#repos-title");
    const opened = context;
    return {
      page,
      base,
      close: async () => {
        await opened.close().catch(() => {});
        server.stop(true);
      },
    };
  } catch (error) {
    await context?.close().catch(() => {});
    server.stop(true);
    throw error;
  }
}

/** Loads `hash` (e.g. `#/repos`) as a new navigation and waits until its table has painted rows. */
export async function loadRows(ui: UiBrowser, hash: string): Promise<RowsLoad> {
  const { page } = ui;
  await page.goto(`${ui.base}?load=${Math.random()}${hash}`);
  await page.waitForFunction(() => window.__rowsPaintedAt !== undefined, null, { timeout: 30_000 });
  const ms = (await page.evaluate(() => window.__rowsPaintedAt)) as number;
  // The list renders a page at once; count once the first frame is in.
  const rows = (await page.evaluate(() => document.querySelectorAll("tbody tr").length)) as number;
  const api = (await page.evaluate(() =>
    performance
      .getEntriesByType("resource")
      .filter((e) => e.name.includes("/v1/browse/"))
      .map((e) => `${new URL(e.name).pathname} ${e.duration.toFixed(1)} ms`)
      .join(", "),
  )) as string;
  return { ms, rows, api };
}
