/**
 * @module Every response, success or error, from any part of the API,
 * tells browsers not to sniff or render it.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { testApp, type TestApp } from "../../support/app.ts";
import { pushBlob, pushImage } from "../../support/blobs.ts";

let t: TestApp;
let blob: string;
let manifest: string;

beforeAll(async () => {
  t = await testApp();
  blob = await pushBlob(t, "sec/app", "<html><script>alert(1)</script></html>");
  manifest = (await pushImage(t, "sec/app", "v1")).digest;
});
afterAll(() => t.close());

function expectSecurityHeaders(res: Response): void {
  expect(res.headers.get("x-content-type-options")).toBe("nosniff");
  const csp = res.headers.get("content-security-policy") ?? "";
  expect(csp).toContain("default-src 'none'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(res.headers.get("x-frame-options")).toBe("DENY");
}

describe("security headers", () => {
  const cases: [string, string, string, RequestInit?][] = [
    ["the version check", "GET", "/v2/"],
    ["a blob holding HTML", "GET", "/v2/sec/app/blobs/BLOB"],
    ["a blob HEAD", "HEAD", "/v2/sec/app/blobs/BLOB"],
    ["a manifest", "GET", "/v2/sec/app/manifests/MANIFEST"],
    ["a tag list", "GET", "/v2/sec/app/tags/list"],
    ["an OCI error", "GET", "/v2/sec/app/manifests/nope"],
    ["a 401 challenge", "GET", "/v2/sec/app/tags/list", { headers: { Authorization: "" } }],
    ["the token endpoint", "GET", "/v2/token?scope=repository:sec/app:pull"],
    ["an upload session", "POST", "/v2/sec/app/blobs/uploads/"],
    ["/v1 health", "GET", "/v1/health"],
    ["a /v1 error", "GET", "/v1/users/nobody"],
    ["an unknown path", "GET", "/index.html"],
  ];
  for (const [what, method, path, init] of cases) {
    test(what, async () => {
      const res = await t.request(method, path.replace("BLOB", blob).replace("MANIFEST", manifest), init);
      expectSecurityHeaders(res);
    });
  }

  test("blobs go out as application/octet-stream, never as the type their bytes suggest", async () => {
    const res = await t.request("GET", `/v2/sec/app/blobs/${blob}`);
    expect(res.headers.get("content-type")).toBe("application/octet-stream");
  });
});
