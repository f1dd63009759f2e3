/**
 * @module Every /v2 route method declares the access it needs, so a route
 * that forgot authorization fails here instead of serving everyone; and
 * every one of them does ask an anonymous caller to log in.
 */
import { describe, expect, test } from "bun:test";
import { openRegistry } from "../../../lib/registry/registry.ts";
import { v2Routes } from "../../../server/v2/routes.ts";
import { testApp } from "../../support/app.ts";
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

describe("route access in fact", () => {
  test("with the default policy, every route and method asks an anonymous caller to log in", async () => {
    const t = await testApp();
    const digest = `sha256:${"a".repeat(64)}`;
    const paths: Record<string, string> = {
      base: "/v2/",
      catalog: "/v2/_catalog",
      uploads: "/v2/some/repo/blobs/uploads/",
      upload: `/v2/some/repo/blobs/uploads/${crypto.randomUUID()}`,
      blob: `/v2/some/repo/blobs/${digest}`,
      manifest: "/v2/some/repo/manifests/latest",
      tags: "/v2/some/repo/tags/list",
      referrers: `/v2/some/repo/referrers/${digest}`,
    };
    for (const route of routes) {
      for (const method of Object.keys(route.access)) {
        const res = await t.request(method, paths[route.resource]!, { headers: { Authorization: "" }, body: ["POST", "PUT", "PATCH"].includes(method) ? "x" : undefined });
        expect({ route: `${method} ${route.resource}`, status: res.status }).toEqual({ route: `${method} ${route.resource}`, status: 401 });
        expect(res.headers.get("www-authenticate")).toStartWith("Bearer realm=");
      }
    }
    await t.close();
  });
});
