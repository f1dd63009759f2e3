/**
 * @module `bun run build`: compiles cli/main.ts into the single executable
 * dist/mcr, with the version and commit baked in, and the web UI's bundle
 * (server/ui/, built first; its gzipped size is printed) inside it. The
 * binary reads no bunfig.toml, .env, tsconfig.json or package.json from
 * where it starts, and no UI files: there are none beside it.
 */
import type { BunPlugin } from "bun";
import pkg from "../package.json" with { type: "json" };
import { buildUiBundle } from "../server/ui-bundle.ts";

const outfile = process.argv[2] ?? "dist/mcr";
const commit = Bun.spawnSync(["git", "rev-parse", "--short", "HEAD"]).stdout.toString().trim() || "unknown";

/** ink imports react-devtools-core only when DEV=true; the binary never does, so stub it. */
const stubDevtools: BunPlugin = {
  name: "stub-react-devtools-core",
  setup(build) {
    build.onResolve({ filter: /^react-devtools-core$/ }, () => ({ path: "react-devtools-core", namespace: "stub" }));
    build.onLoad({ filter: /.*/, namespace: "stub" }, () => ({ contents: "export default {};", loader: "js" }));
  },
};

const ui = await buildUiBundle();
const kib = (text: string) => `${(Buffer.byteLength(text) / 1024).toFixed(1)} KiB`;
const gzipped = (text: string) => `${(Bun.gzipSync(text).byteLength / 1024).toFixed(1)} KiB gzipped`;
console.log(`web UI: app.js ${kib(ui.js)} (${gzipped(ui.js)}), app.css ${kib(ui.css)} (${gzipped(ui.css)})`);

const result = await Bun.build({
  entrypoints: ["./cli/main.ts"],
  compile: {
    outfile,
    autoloadBunfig: false,
    autoloadDotenv: false,
    autoloadTsconfig: false,
    autoloadPackageJson: false,
  },
  minify: true,
  sourcemap: "linked",
  bytecode: true,
  format: "esm",
  plugins: [stubDevtools],
  define: {
    MCR_VERSION: JSON.stringify(pkg.version),
    MCR_COMMIT: JSON.stringify(commit),
    MCR_UI_BUNDLE: JSON.stringify(JSON.stringify(ui)),
    "process.env.NODE_ENV": JSON.stringify("production"),
  },
});

if (!result.success) {
  for (const log of result.logs) console.error(log);
  process.exit(1);
}
console.log(`built ${outfile} (mcr ${pkg.version}, commit ${commit})`);
