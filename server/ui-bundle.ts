/**
 * @module The web UI's bundle: server/ui/ built by Bun's bundler into one
 * script and one style sheet. `bun run build` builds it once and bakes it
 * into the executable (`MCR_UI_BUNDLE`), so the binary needs no files
 * beside it; run from source, the server builds it on first use.
 */
import { join } from "node:path";

declare const MCR_UI_BUNDLE: string | undefined;

/** The built UI. */
export interface UiBundle {
  js: string;
  css: string;
}

/** Builds server/ui/ (minified, production React); throws with the bundler's messages when it fails. */
export async function buildUiBundle(): Promise<UiBundle> {
  const result = await Bun.build({
    entrypoints: [join(import.meta.dir, "ui", "main.tsx")],
    target: "browser",
    format: "esm",
    minify: true,
    define: { "process.env.NODE_ENV": JSON.stringify("production") },
  });
  if (!result.success) throw new AggregateError(result.logs, "building the web UI failed");
  const js = result.outputs.find((o) => o.kind === "entry-point");
  const css = result.outputs.find((o) => o.path.endsWith(".css"));
  if (!js || !css) throw new Error("building the web UI gave no script or no style sheet");
  return { js: await js.text(), css: await css.text() };
}

let bundle: Promise<UiBundle> | null = null;

/** The UI bundle: the one baked in at build time, or built now (once per process). */
export function uiBundle(): Promise<UiBundle> {
  if (typeof MCR_UI_BUNDLE === "string") bundle ??= Promise.resolve(JSON.parse(MCR_UI_BUNDLE) as UiBundle);
  bundle ??= buildUiBundle().catch((error: unknown) => {
    bundle = null;
    throw error;
  });
  return bundle;
}
