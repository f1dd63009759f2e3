/**
 * @module The /v2 route table on its own: which resource each path reaches,
 * what the parameters are, and the errors for wrong methods and bad names.
 */
import { describe, expect, test } from "bun:test";
import { RegistryError } from "../../../lib/errors.ts";
import type { Registry } from "../../../lib/registry/registry.ts";
import { matchRoute, routePatterns } from "../../../server/v2/router.ts";
import { v2Routes } from "../../../server/v2/routes.ts";

// Building the table only closes over the registry; no handler runs here.
const routes = v2Routes({} as unknown as Registry);

const digest = `sha256:${"ab".repeat(32)}`;

/** The resource and parameters `method path` reaches, or null. */
function resolve(method: string, path: string) {
  const match = matchRoute(routes, method, path);
  if (!match) return null;
  const route = routes.find((r) => Object.values(r.methods).includes(match.handler));
  return { resource: route?.resource, ...match.params };
}

/** The RegistryError `fn` throws. */
function thrown(fn: () => unknown): RegistryError {
  try {
    fn();
  } catch (error) {
    if (error instanceof RegistryError) return error;
    throw error;
  }
  throw new Error("expected a RegistryError, nothing was thrown");
}

describe("the table", () => {
  test("declares every resource once, in the order of routePatterns", () => {
    expect(routes.map((r) => r.resource)).toEqual(Object.keys(routePatterns));
    expect(routes.map((r) => r.pattern)).toEqual(Object.values(routePatterns));
  });

  test("every pattern is anchored at both ends", () => {
    for (const pattern of Object.values(routePatterns)) {
      expect(pattern.source.startsWith("^\\/v2")).toBe(true);
      expect(pattern.source.endsWith("$")).toBe(true);
    }
  });
});

describe("matching", () => {
  test("the base endpoint, with and without its trailing slash", () => {
    expect(resolve("GET", "/v2/")).toMatchObject({ resource: "base" });
    expect(resolve("GET", "/v2")).toMatchObject({ resource: "base" });
    expect(resolve("HEAD", "/v2/")).toMatchObject({ resource: "base" });
  });

  test("the catalog", () => {
    expect(resolve("GET", "/v2/_catalog")).toMatchObject({ resource: "catalog", name: "" });
  });

  test("each resource of a multi-segment name a/b/c", () => {
    expect(resolve("GET", "/v2/a/b/c/manifests/latest")).toEqual({
      resource: "manifest",
      name: "a/b/c",
      reference: "latest",
      digest: "",
      id: "",
    });
    expect(resolve("GET", `/v2/a/b/c/manifests/${digest}`)).toMatchObject({ resource: "manifest", name: "a/b/c", reference: digest });
    expect(resolve("GET", `/v2/a/b/c/blobs/${digest}`)).toEqual({ resource: "blob", name: "a/b/c", digest, reference: "", id: "" });
    expect(resolve("HEAD", `/v2/a/b/c/blobs/${digest}`)).toMatchObject({ resource: "blob", name: "a/b/c", digest });
    expect(resolve("POST", "/v2/a/b/c/blobs/uploads/")).toMatchObject({ resource: "uploads", name: "a/b/c" });
    expect(resolve("POST", "/v2/a/b/c/blobs/uploads")).toMatchObject({ resource: "uploads", name: "a/b/c" });
    expect(resolve("PATCH", "/v2/a/b/c/blobs/uploads/0b4f-11")).toEqual({ resource: "upload", name: "a/b/c", id: "0b4f-11", digest: "", reference: "" });
    expect(resolve("GET", "/v2/a/b/c/tags/list")).toMatchObject({ resource: "tags", name: "a/b/c" });
  });

  test("names that contain blobs, manifests, uploads, tags or list segments", () => {
    expect(resolve("GET", "/v2/x/blobs/y/manifests/latest")).toMatchObject({ resource: "manifest", name: "x/blobs/y", reference: "latest" });
    expect(resolve("GET", `/v2/x/manifests/y/blobs/${digest}`)).toMatchObject({ resource: "blob", name: "x/manifests/y", digest });
    expect(resolve("GET", "/v2/manifests/manifests/manifests")).toMatchObject({ resource: "manifest", name: "manifests", reference: "manifests" });
    expect(resolve("GET", `/v2/blobs/blobs/${digest}`)).toMatchObject({ resource: "blob", name: "blobs", digest });
    expect(resolve("POST", "/v2/blobs/blobs/uploads/")).toMatchObject({ resource: "uploads", name: "blobs" });
    expect(resolve("GET", "/v2/x/blobs/uploads/blobs/uploads/id1")).toMatchObject({ resource: "upload", name: "x/blobs/uploads", id: "id1" });
    expect(resolve("GET", "/v2/x/blobs/tags/list")).toMatchObject({ resource: "tags", name: "x/blobs" });
    expect(resolve("GET", "/v2/tags/list/tags/list")).toMatchObject({ resource: "tags", name: "tags/list" });
    expect(resolve("GET", "/v2/x/tags/manifests/list")).toMatchObject({ resource: "manifest", name: "x/tags", reference: "list" });
    expect(resolve("GET", "/v2/x/manifests/tags/list")).toMatchObject({ resource: "tags", name: "x/manifests" });
  });

  test("paths that name no resource give null", () => {
    for (const path of [
      "/",
      "/v1/users",
      "/v2x",
      "/v2/a",
      "/v2/a/b",
      "/v2/a/tags",
      "/v2/a/tags/list/",
      "/v2/a/tags/lists",
      "/v2/a/manifests",
      "/v2/a/manifests/",
      "/v2/a/manifests/x/y/z/",
      "/v2/a/blobs",
      "/v2/a/blobs/",
      "/v2/a/blobs/uploads/id/extra/",
      "/v2/_catalog/",
      "/v2//manifests/latest",
      "/v2/manifests/latest",
      "/v2/blobs/uploads/",
    ]) {
      expect({ path, match: resolve("GET", path) }).toEqual({ path, match: null });
    }
  });
});

describe("methods", () => {
  test("a method the resource lacks throws UNSUPPORTED naming method and resource", () => {
    const cases: [string, string, string][] = [
      ["POST", "/v2/", "base"],
      ["PUT", "/v2/_catalog", "catalog"],
      ["PATCH", `/v2/a/blobs/${digest}`, "blob"],
      ["POST", "/v2/a/manifests/latest", "manifest"],
      ["PUT", "/v2/a/blobs/uploads/", "uploads"],
      ["POST", "/v2/a/blobs/uploads/some-id", "upload"],
      ["DELETE", "/v2/a/tags/list", "tags"],
      ["BREW", "/v2/a/b/c/manifests/latest", "manifest"],
    ];
    for (const [method, path, resource] of cases) {
      const error = thrown(() => matchRoute(routes, method, path));
      expect({ method, path, code: error.code, detail: error.detail }).toEqual({ method, path, code: "UNSUPPORTED", detail: { method, resource } });
    }
  });

  test("HEAD reaches only resources that declare it", () => {
    expect(resolve("HEAD", "/v2/a/manifests/latest")).toMatchObject({ resource: "manifest" });
    expect(thrown(() => matchRoute(routes, "HEAD", "/v2/a/blobs/uploads/some-id")).code).toBe("UNSUPPORTED");
  });
});

describe("repository names", () => {
  const invalid: [string, string][] = [
    ["uppercase", "/v2/Library/ubuntu/manifests/latest"],
    ["dot-dot segment", "/v2/a/../b/manifests/latest"],
    ["encoded dot-dot segment", "/v2/a/%2e%2e/b/manifests/latest"],
    ["encoded slash", "/v2/a%2Fb/manifests/latest"],
    ["leading slash", "/v2//a/manifests/latest"],
    ["empty segment", "/v2/a//b/tags/list"],
    ["trailing separator", `/v2/a-/blobs/${digest}`],
    ["leading separator", "/v2/.a/blobs/uploads/"],
    ["double dot separator", "/v2/a..b/manifests/latest"],
    ["space", "/v2/a%20b/manifests/latest"],
    ["256 characters", `/v2/${"a".repeat(256)}/manifests/latest`],
    ["256 characters over segments", `/v2/${"a".repeat(127)}/${"b".repeat(128)}/tags/list`],
  ];
  for (const [why, path] of invalid) {
    test(`NAME_INVALID: ${why}`, () => {
      const method = path.endsWith("/uploads/") ? "POST" : "GET";
      const error = thrown(() => matchRoute(routes, method, path));
      expect(error.code).toBe("NAME_INVALID");
    });
  }

  test("255 characters is still a valid name", () => {
    const name = `${"a".repeat(127)}/${"b".repeat(127)}`;
    expect(name.length).toBe(255);
    expect(resolve("GET", `/v2/${name}/tags/list`)).toMatchObject({ resource: "tags", name });
  });

  test("separators the grammar allows", () => {
    for (const name of ["a.b", "a_b", "a__b", "a-b", "a---b", "0/1", "library/ubuntu", "a.b-c_d/e__f"]) {
      expect(resolve("GET", `/v2/${name}/manifests/latest`)).toMatchObject({ resource: "manifest", name });
    }
  });
});
