/**
 * @module `GET /v2/` and what every /v2 request gets whatever it asks:
 * the version header, 404 NOT_FOUND for unknown paths and 405 UNSUPPORTED
 * for wrong methods, always in the OCI error format.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import type { TestApp } from "../../support/app.ts";
import { expectOciError, recordingApp, serverErrors, type Seen } from "../../support/oci-checks.ts";

const seen: Seen[] = [];
let t: TestApp;
beforeAll(async () => {
  t = await recordingApp(seen);
});
afterAll(() => t.close());

const digest = `sha256:${"ab".repeat(32)}`;

describe("version check", () => {
  test("GET /v2/ answers 200 with the API version header and a JSON body", async () => {
    const res = await t.request("GET", "/v2/");
    expect(res.status).toBe(200);
    expect(res.headers.get("docker-distribution-api-version")).toBe("registry/2.0");
    expect(res.headers.get("content-type") ?? "").toStartWith("application/json");
    expect(await res.json()).toEqual({});
  });

  test("GET /v2 without the trailing slash is the same endpoint", async () => {
    const res = await t.request("GET", "/v2");
    expect(res.status).toBe(200);
    expect(res.headers.get("docker-distribution-api-version")).toBe("registry/2.0");
  });

  test("HEAD /v2/ answers 200 with the header", async () => {
    const res = await t.request("HEAD", "/v2/");
    expect(res.status).toBe(200);
    expect(res.headers.get("docker-distribution-api-version")).toBe("registry/2.0");
  });

  test("query parameters do not change the answer", async () => {
    const res = await t.request("GET", "/v2/?foo=bar");
    expect(res.status).toBe(200);
  });
});

describe("unknown paths", () => {
  for (const path of ["/v2/nothing", "/v2/a/b", "/v2/a/tags", "/v2/a/tags/list/", "/v2/a/manifests/", "/v2/a/blobs/", "/v2/_catalog/x", "/v2//manifests/x"]) {
    test(`${path} → 404 NOT_FOUND`, async () => {
      await expectOciError(await t.request("GET", path), 404, "NOT_FOUND");
    });
  }

  test("a very long unknown path is answered, its detail cut short", async () => {
    const path = `/v2/${"x/".repeat(5000)}nothing`;
    const error = await expectOciError(await t.request("GET", path), 404, "NOT_FOUND");
    expect(JSON.stringify(error.detail).length).toBeLessThan(400);
  });
});

describe("wrong methods", () => {
  const cases: [string, string][] = [
    ["POST", "/v2/"],
    ["PUT", "/v2/"],
    ["DELETE", "/v2/"],
    ["PUT", "/v2/_catalog"],
    ["POST", "/v2/_catalog"],
    ["POST", "/v2/library/app/tags/list"],
    ["PUT", "/v2/library/app/tags/list"],
    ["PATCH", `/v2/library/app/blobs/${digest}`],
    ["POST", `/v2/library/app/blobs/${digest}`],
    ["POST", "/v2/library/app/manifests/latest"],
    ["PATCH", "/v2/library/app/manifests/latest"],
    ["PUT", "/v2/library/app/blobs/uploads/"],
    ["GET", "/v2/library/app/blobs/uploads/"],
    ["POST", "/v2/library/app/blobs/uploads/0b1c"],
    ["OPTIONS", "/v2/library/app/manifests/latest"],
  ];
  for (const [method, path] of cases) {
    test(`${method} ${path} → 405 UNSUPPORTED`, async () => {
      await expectOciError(await t.request(method, path), 405, "UNSUPPORTED");
    });
  }
});

describe("robustness", () => {
  test("no response in this file was a 500", () => {
    expect(seen.length).toBeGreaterThan(20);
    expect(serverErrors(seen)).toEqual([]);
  });
});
