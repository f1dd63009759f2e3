/**
 * @module STYLE rule 18: the browser code in server/ui/ imports nothing
 * from lib/ or the rest of server/ at run time (types only), and nothing
 * outside it imports the browser code (the server serves its bundle).
 */
import { expect, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";

const ROOT = join(import.meta.dir, "../..");
const UI = join(ROOT, "server/ui");

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && /\.(ts|tsx)$/.test(e.name))
    .map((e) => join(e.parentPath, e.name));
}

/** Each import of `file`: its specifier and whether it is `import type`. */
function imports(file: string): { spec: string; typeOnly: boolean }[] {
  const text = readFileSync(file, "utf8");
  return [...text.matchAll(/^\s*(import|export)\s+(type\s+)?[^"']*?from\s+["']([^"']+)["']|^\s*import\s+["']([^"']+)["']/gm)].map((m) => ({
    spec: m[3] ?? m[4]!,
    typeOnly: m[2] !== undefined,
  }));
}

test("server/ui/ imports only types from outside itself, and only react and its renderer at run time", () => {
  const offenders: string[] = [];
  for (const file of files(UI)) {
    for (const { spec, typeOnly } of imports(file)) {
      if (typeOnly) continue;
      const local = spec.startsWith(".") && !relative(UI, join(file, "..", spec)).startsWith("..");
      const allowed = local || ["react", "react-reconciler", "react-reconciler/constants.js", "scheduler"].includes(spec);
      if (!allowed) offenders.push(`${relative(ROOT, file)} imports ${spec}`);
    }
  }
  expect(offenders).toEqual([]);
});

test("nothing outside server/ui/ imports the browser code (tests of its pure modules aside)", () => {
  const offenders: string[] = [];
  for (const dir of ["cli", "lib", "server"]) {
    for (const file of files(join(ROOT, dir))) {
      if (file.startsWith(UI)) continue;
      for (const { spec } of imports(file)) if (join(file, "..", spec).startsWith(`${UI}/`)) offenders.push(`${relative(ROOT, file)} imports ${spec}`);
    }
  }
  expect(offenders).toEqual([]);
});
