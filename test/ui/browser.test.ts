/**
 * @module The web UI end to end in a real browser (Debian's chromium via
 * playwright-core) against a real server on loopback: anonymous visitors
 * see only the login form; a user searches, opens a tag, sees layers,
 * config and a signature, and copies the pull command; a guest gets no
 * delete button and the API refuses anyway; an admin deletes a tag and
 * finds it in the audit log, which then updates live; markup in
 * annotations, labels and audit actors shows as text; every UI response
 * carries the UI's CSP and the
 * page breaks none of it. With MCR_UI_SCREENSHOTS=DIR it saves screenshots
 * of the main pages there (script/ui-screenshots.ts).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { join } from "node:path";
import type { BrowserContext, Page } from "playwright-core";
import { addUser } from "../../lib/auth/users.ts";
import { UI_CONTENT_SECURITY_POLICY } from "../../server/ui-pages.ts";
import { testApp, type TestApp } from "../support/app.ts";
import { pushImage } from "../support/blobs.ts";
import { browserMissing, launchBrowser } from "../support/browser.ts";
import { TEST_ADMIN } from "../support/credentials.ts";
import { pushReferrer, pushRichImage, XSS } from "../support/ui-fixtures.ts";

// The callbacks given to page.evaluate run in the browser; these are its globals, loosely typed (the tests have no DOM types).
declare const document: any;
declare const window: any;
declare function getComputedStyle(element: unknown): { outlineStyle: string };

const missing = browserMissing();
/** A user name that is markup (short enough to be kept whole in the audit actor). */
const HOSTILE_USER = "<img src=x onerror=window.__xss=3>";
const shots = process.env.MCR_UI_SCREENSHOTS ?? null;
let t: TestApp;
let server: ReturnType<typeof Bun.serve>;
let base: string;
let host: string;
let digest: string;
const contexts: BrowserContext[] = [];
/** Every response of the UI (not /v1) the browsers received, and any CSP violation they reported. */
const uiResponses: { url: string; csp: string | null }[] = [];
const violations: string[] = [];

async function open(options: { width?: number; dark?: boolean } = {}): Promise<Page> {
  const context = await launchBrowser(options);
  contexts.push(context);
  const page = context.pages()[0] ?? (await context.newPage());
  page.on("response", (res) => {
    if (!new URL(res.url()).pathname.startsWith("/v1/")) uiResponses.push({ url: res.url(), csp: res.headers()["content-security-policy"] ?? null });
  });
  page.on("console", (msg) => {
    if (/Content.Security.Policy|Refused to/i.test(msg.text())) violations.push(msg.text());
  });
  page.on("pageerror", (error) => violations.push(String(error)));
  return page;
}

async function login(page: Page, username: string, password: string): Promise<void> {
  await page.goto(base);
  await page.fill("#login-user", username);
  await page.fill("#login-password", password);
  await page.click("button[type=submit]");
  await page.waitForSelector("#repos-title");
}

async function shot(page: Page, name: string): Promise<void> {
  if (shots) await page.screenshot({ path: join(shots, `${name}.jpg`), fullPage: true, type: "jpeg", quality: 80 });
}

beforeAll(async () => {
  if (missing) return;
  t = await testApp();
  await addUser(t.reg, { name: "alice", password: "alice-password" }, "test");
  await addUser(t.reg, { name: "gwen", role: "guest", password: "gwen-password" }, "test");
  digest = await pushRichImage(t, "team/web", "v1");
  await pushImage(t, "team/web", "v2", ["second"]);
  await pushImage(t, "team/api", "latest");
  await pushImage(t, "tools/builder", "1.0", ["builder-layer"]);
  const sig = await pushReferrer(t, "team/web", digest, "application/vnd.dev.cosign.artifact.sig.v1+json", { "dev.cosignproject.cosign/signature": "MEUCIQ…", note: XSS });
  await pushReferrer(t, "team/web", digest, "application/spdx+json", { "org.opencontainers.image.created": "2026-11-30T12:00:00Z" });
  await pushReferrer(t, "team/web", sig, "application/vnd.in-toto+json", {});
  server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req, srv) => t.app.fetch(req, srv) });
  base = `http://127.0.0.1:${server.port}/`;
  host = `127.0.0.1:${server.port}`;
}, 60_000);

afterAll(async () => {
  for (const c of contexts) await c.close().catch(() => {});
  server?.stop(true);
  await t?.close();
});

describe.skipIf(missing !== null)("the web UI in chromium", () => {
  test("an anonymous visitor sees the login form and nothing else", async () => {
    const page = await open();
    await page.goto(base);
    await page.waitForSelector("form[aria-label='Sign in']");
    const text = await page.textContent("body");
    expect(text).not.toContain("team/web");
    expect(await page.$("nav")).toBeNull();
    await shot(page, "login");
  }, 60_000);

  test("a user finds a repository, opens a tag, sees layers, config and the signature, and copies the pull command", async () => {
    const page = await open();
    await page.context().grantPermissions(["clipboard-read", "clipboard-write"], { origin: base.slice(0, -1) });
    await login(page, "alice", "alice-password");
    await shot(page, "repositories");
    await page.fill("#repo-search", "web");
    await page.waitForFunction(() => document.querySelectorAll("tbody tr").length === 1);
    await page.click("text=team/web");
    await page.waitForSelector("#repo-title");
    expect(await page.textContent("#repo-title")).toBe("team/web");
    await shot(page, "repository");
    await page.click("tbody >> text=v1");
    await page.waitForSelector("#image-title");
    const body = (await page.textContent("main"))!;
    expect(body).toContain("Layers (1");
    expect(body).toContain("application/vnd.oci.image.layer.v1.tar+gzip");
    expect(body).toContain('["/usr/bin/app"]');
    expect(body).toContain("8080/tcp");
    expect(body).toContain("linux/arm64");
    expect(body).toContain("application/vnd.dev.cosign.artifact.sig.v1+json");
    expect(body).toContain("1 signatures · 1 SBOMs · 1 attestations");
    await shot(page, "image");
    await page.click(`button[data-copy="docker pull ${host}/team/web:v1"]`);
    expect(await page.evaluate("navigator.clipboard.readText()")).toBe(`docker pull ${host}/team/web:v1`);
    await page.click(`button[data-copy="docker pull ${host}/team/web@${digest}"]`);
    expect(await page.evaluate("navigator.clipboard.readText()")).toBe(`docker pull ${host}/team/web@${digest}`);
  }, 60_000);

  test("markup in annotations, labels and referrers shows as text and never runs", async () => {
    const page = await open();
    await login(page, "alice", "alice-password");
    await page.goto(`${base}#/image?name=team/web&ref=${digest}&tag=v1`);
    await page.waitForSelector("#image-title");
    const texts = await page.$$eval("dd", (nodes) => nodes.map((n) => n.textContent));
    // The manifest's annotation, the config's label and the signature's annotation.
    expect(texts.filter((x) => x === XSS).length).toBe(3);
    expect(await page.$$("main script, main img")).toHaveLength(0);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
  }, 60_000);

  test("a guest sees no delete button, and the API refuses the delete anyway", async () => {
    const page = await open();
    await login(page, "gwen", "gwen-password");
    await page.goto(`${base}#/repo?name=team/web`);
    await page.waitForSelector("tbody tr");
    expect(await page.$$("button.danger")).toHaveLength(0);
    const status = await page.evaluate(async () => {
      const session = (await (await fetch("/v1/ui/session")).json()) as { csrf: string };
      const res = await fetch("/v1/browse/manifest?name=team/web&reference=v2", { method: "DELETE", headers: { "X-CSRF-Token": session.csrf } });
      return res.status;
    });
    expect(status).toBe(403);
  }, 60_000);

  test("an admin deletes a tag (after confirming) and the audit log shows it, with a hostile actor as text", async () => {
    // A failed login whose user name is markup: the audit page must show it as text.
    await fetch(`${base}v1/ui/login`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ username: HOSTILE_USER, password: "x" }) });
    // Failed logins are tallied for a minute before they are written: write them now.
    await t.reg.audit.drain();
    const page = await open();
    await login(page, TEST_ADMIN.username, TEST_ADMIN.password);
    await page.goto(`${base}#/repo?name=team/web`);
    await page.waitForSelector("tbody tr");
    page.once("dialog", (dialog) => void dialog.accept());
    await page.click("button[aria-label='Delete tag v2']");
    await page.waitForFunction(() => !document.querySelector("button[aria-label='Delete tag v2']"));
    await t.reg.audit.flush();
    await page.goto(`${base}#/audit`);
    await page.waitForSelector("table.audit tbody tr");
    await page.waitForFunction(() => [...document.querySelectorAll("table.audit tr")].some((tr) => tr.textContent?.includes("tag.deleted") && tr.textContent.includes("v2")));
    const cells = await page.$$eval("table.audit td", (nodes) => nodes.map((n) => n.textContent ?? ""));
    expect(cells).toContain(`user:${HOSTILE_USER}`);
    expect(await page.evaluate(() => (window as unknown as { __xss?: number }).__xss)).toBeUndefined();
    await shot(page, "audit");
    // Live: an event logged while the page is open shows up without a reload.
    await pushImage(t, "team/live", "arrived-later");
    await t.reg.audit.flush();
    await page.waitForFunction(() => document.querySelector("table.audit tbody")?.textContent?.includes("arrived-later"), null, { timeout: 10_000 });
    for (const [hash, title] of [["#/storage", "#storage-title"], ["#/gc", "#gc-title"], ["#/users", "#users-title"], ["#/policy", "#policy-title"]] as const) {
      await page.goto(`${base}${hash}`);
      await page.waitForSelector(title);
      await shot(page, hash.slice(2));
    }
    await page.fill("#explain-user", "gwen");
    await page.selectOption("#explain-action", "delete");
    await page.fill("#explain-repo", "team/web");
    await page.click("form[aria-label='Explain a decision'] button[type=submit]");
    await page.waitForSelector(".answer");
    expect(await page.textContent(".answer")).toContain("Denied");
  }, 60_000);

  test("the repository page is readable at 360 px, in dark mode", async () => {
    const page = await open({ width: 360, dark: true });
    await login(page, "alice", "alice-password");
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await page.goto(`${base}#/image?name=team/web&ref=${digest}&tag=v1`);
    await page.waitForSelector("#image-title");
    const wide = await page.evaluate(() =>
      [...document.querySelectorAll("main *")]
        .filter((el) => el.getBoundingClientRect().right > document.documentElement.clientWidth + 1 && !el.closest(".table-wrap"))
        .map((el) => `${el.tagName}.${el.className}`),
    );
    expect(wide).toEqual([]);
    await shot(page, "image-360-dark");
  }, 60_000);

  test("keyboard: Tab reaches the search box with a visible focus ring", async () => {
    const page = await open();
    await login(page, "alice", "alice-password");
    let found = false;
    for (let i = 0; i < 15 && !found; i++) {
      await page.keyboard.press("Tab");
      found = await page.evaluate(() => document.activeElement?.id === "repo-search");
    }
    expect(found).toBe(true);
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle);
    expect(outline).not.toBe("none");
  }, 60_000);

  test("every UI response carried the UI's CSP, and the pages broke none of it", () => {
    expect(uiResponses.length).toBeGreaterThan(0);
    for (const r of uiResponses) expect(r).toEqual({ url: r.url, csp: UI_CONTENT_SECURITY_POLICY });
    expect(violations).toEqual([]);
  });
});
