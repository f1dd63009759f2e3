/**
 * @module A real browser for the UI's end-to-end tests: Debian's chromium,
 * driven by playwright-core, headless, in a fresh profile, with nothing
 * of its own reaching the network. Where chromium is missing the tests
 * skip with the reason printed, except in CI (`CI` set), where they fail.
 */
import { existsSync } from "node:fs";
import { chromium, type BrowserContext } from "playwright-core";
import { tempDir } from "./temp.ts";

/** Where Debian installs chromium. */
export const CHROMIUM = process.env.MCR_CHROMIUM ?? "/usr/bin/chromium";

/** Null when the browser can run here; otherwise why not. */
export function browserMissing(): string | null {
  if (existsSync(CHROMIUM)) return null;
  const reason = `${CHROMIUM} not found (apt-get install chromium)`;
  if (process.env.CI) throw new Error(`the UI's browser tests must run in CI: ${reason}`);
  console.warn(`skipping the UI's browser tests: ${reason}`);
  return reason;
}

/** A new browser with its own profile; close it when done. */
export async function launchBrowser(options: { width?: number; height?: number; dark?: boolean } = {}): Promise<BrowserContext> {
  return chromium.launchPersistentContext(tempDir("chromium-"), {
    executablePath: CHROMIUM,
    headless: true,
    viewport: { width: options.width ?? 1280, height: options.height ?? 800 },
    colorScheme: options.dark ? "dark" : "light",
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
    ],
  });
}
