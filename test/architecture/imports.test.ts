/**
 * @module Imports flow one way: cli/ → server/ → lib/, and cli/ → lib/.
 * lib/ never reaches up, and SQL and bun:sqlite stay inside lib/db/.
 */
import { describe, expect, test } from "bun:test";
import { Glob } from "bun";
import { readFileSync } from "node:fs";

const root = new URL("../../", import.meta.url).pathname;

function importsOf(file: string): string[] {
  const text = readFileSync(root + file, "utf8");
  return [...text.matchAll(/(?:^|\n)\s*(?:import|export)[^'"]*?from\s+["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g)].map(
    (m) => m[1] ?? m[2] ?? "",
  );
}

function files(dir: string): string[] {
  return [...new Glob(`${dir}/**/*.{ts,tsx}`).scanSync({ cwd: root })];
}

describe("layering", () => {
  test("lib/ imports nothing from cli/ or server/, and no UI or CLI packages", () => {
    const offenders = files("lib").flatMap((file) =>
      importsOf(file)
        .filter((spec) => /(^|\/)(cli|server)\//.test(spec) || ["commander", "ink", "react"].includes(spec))
        .map((spec) => `${file} → ${spec}`),
    );
    expect(offenders).toEqual([]);
  });

  test("server/ imports nothing from cli/", () => {
    const offenders = files("server").flatMap((file) =>
      importsOf(file).filter((spec) => /(^|\/)cli\//.test(spec)).map((spec) => `${file} → ${spec}`),
    );
    expect(offenders).toEqual([]);
  });

  test("only lib/db/connection.ts opens bun:sqlite, and only lib/db/ uses kysely beyond its types", () => {
    const all = [...files("lib"), ...files("server"), ...files("cli")];
    const valueImport = (module: string) => new RegExp(`import\\s+(?!type\\b)[^;]*?from\\s+["']${module}["']`);
    const sqlite = all.filter((file) => valueImport("bun:sqlite").test(readFileSync(root + file, "utf8")));
    expect(sqlite).toEqual(["lib/db/connection.ts"]);
    const kysely = all.filter((file) => !file.startsWith("lib/db/") && valueImport("kysely").test(readFileSync(root + file, "utf8")));
    expect(kysely).toEqual([]);
  });

  test("server/ does no file-system I/O of its own; cli/ only on files the user names", () => {
    const fsImport = (file: string) => importsOf(file).some((spec) => spec === "node:fs" || spec === "node:fs/promises");
    expect(files("server").filter(fsImport)).toEqual([]);
    // Reading a policy or retention file the user names and the $EDITOR round trip are the CLI's own business.
    const userFiles = ["cli/commands/policy.ts", "cli/commands/retention.ts", "cli/edit-document.ts"];
    expect(files("cli").filter(fsImport).filter((f) => !userFiles.includes(f))).toEqual([]);
  });
});
