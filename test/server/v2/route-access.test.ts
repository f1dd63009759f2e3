/**
 * @module Every /v2 route method declares the access it needs, so a route
 * that forgot authorization fails here instead of serving everyone.
 */
import { describe, expect, test } from "bun:test";
import { openRegistry } from "../../../lib/registry/registry.ts";
import { v2Routes } from "../../../server/v2/routes.ts";
import { tempDir } from "../../support/temp.ts";

const reg = await openRegistry(tempDir());
const routes = v2Routes(reg);

describe("route access", () => {
  test("every handler has a declared access, and every declared access a handler", () => {
    const undeclared = routes.flatMap((r) => Object.keys(r.methods).filter((m) => !r.access[m]).map((m) => `${m} ${r.resource}`));
    const orphaned = routes.flatMap((r) => Object.keys(r.access).filter((m) => !r.methods[m]).map((m) => `${m} ${r.resource}`));
    expect(undeclared).toEqual([]);
    expect(orphaned).toEqual([]);
  });

  test("reads need pull, writes push, deletes delete; only the version check is open to any account", () => {
    const table = Object.fromEntries(routes.map((r) => [r.resource, r.access]));
    expect(table).toEqual({
      base: { GET: "authenticated", HEAD: "authenticated" },
      catalog: { GET: "catalog" },
      uploads: { POST: "push" },
      upload: { GET: "push", PATCH: "push", PUT: "push", DELETE: "push" },
      blob: { GET: "pull", HEAD: "pull", DELETE: "delete" },
      manifest: { GET: "pull", HEAD: "pull", PUT: "push", DELETE: "delete" },
      tags: { GET: "pull" },
      referrers: { GET: "pull" },
    });
  });
});
