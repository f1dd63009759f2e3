/**
 * @module The UI's lists at the sizes in a real browser: the
 * repository list at 1,000 repositories and a tag list at 5,000 tags load
 * cold and paint a full first page of rows, in the right order, with the
 * right counts. How soon they paint (the 300 ms target) is measured by
 * `bun bench/ui.ts`, not here: a wall-clock bound fails on a loaded CI
 * machine and says nothing about the code.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { testApp, type TestApp } from "../support/app.ts";
import { browserMissing } from "../support/browser.ts";
import { loadRows, openUiBrowser, type UiBrowser } from "../support/ui-paint.ts";
import { BIG_REPO, seedUiScale, UI_SCALE } from "../support/ui-scale.ts";

const missing = browserMissing();
let t: TestApp;
let ui: UiBrowser;

beforeAll(async () => {
  if (missing) return;
  t = await testApp();
  await seedUiScale(t);
  ui = await openUiBrowser(t);
}, 120_000);

afterAll(async () => {
  await ui?.close();
  await t?.close();
});

/** The text of each body row's first cell. */
async function firstCells(): Promise<string[]> {
  return ui.page.locator("tbody tr td:first-child").allInnerTexts();
}

describe.skipIf(missing !== null)("the UI's lists at scale, in chromium", () => {
  test("the repository list at 1,000 repositories paints its first page of 50 rows", async () => {
    for (let i = 0; i < 2; i++) {
      const load = await loadRows(ui, "#/repos");
      expect(load.rows).toBe(50);
    }
    const names = (await firstCells()).map((s) => s.trim());
    // Name order: big/tags, then seed-0000 … seed-0048.
    expect(names[0]).toContain(BIG_REPO);
    expect(names[1]).toContain("seed-0000");
    expect(names[49]).toContain("seed-0048");
  }, 60_000);

  test("a tag list at 5,000 tags paints its first page of 100 tags, newest first, and says how many there are", async () => {
    for (let i = 0; i < 2; i++) {
      const load = await loadRows(ui, `#/repo?name=${BIG_REPO}`);
      expect(load.rows).toBeGreaterThanOrEqual(100);
    }
    const text = await ui.page.locator("main").innerText();
    expect(text).toContain(`1–100 of ${UI_SCALE.tags + 1}`);
    expect(text).toContain("t00000");
    expect(text).toContain("t00098");
    expect(text).not.toContain("t00100");
  }, 60_000);
});
